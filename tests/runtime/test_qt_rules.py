"""The ``qt`` interpreter rules against slow exact references.

Every reference computes with :class:`fractions.Fraction` (exact rationals) and rounds
with :func:`quantize`, a direct transcription of NUMERICS.md §2 that shares no code with
``fmlc.runtime.fixed``; :func:`test_quantize_reference_matches_convert` ties the two
together.  Cases are small and random (seeded), with wide (> 64-bit) types and every
quantisation / overflow mode among them.
"""

from __future__ import annotations

import math
import random
from fractions import Fraction
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fmlc.compiler.attributes import (
    ArrayAttr,
    DenseElementsAttr,
    IntegerAttr,
    IntegerType,
    StringAttr,
    TensorType,
    f32,
    f64,
)
from fmlc.compiler.driver import load_all
from fmlc.compiler.ir import Block
from fmlc.compiler.opdef import verify_op_definition
from fmlc.dialects import qt
from fmlc.dialects.func import ReturnOp
from fmlc.dialects.qt import OVERFLOW_MODES, QUANT_MODES, BipolarType, fixed, integer
from fmlc.runtime import fixed as fx
from fmlc.runtime.interpreter import Interpreter, TypedArray
from fmlc.runtime.qt_rules import convert_exact

load_all()

HALF = Fraction(1, 2)
SEEDS = st.integers(0, 2**32 - 1)
FAST = settings(max_examples=40, deadline=None)


# ----------------------------------------------------------------------------- exact reference

def value(raw: Any, t: Any) -> Fraction:
    if isinstance(t, BipolarType):
        return Fraction(2 * int(raw) - 1)
    return Fraction(int(raw)) * Fraction(2) ** -t.frac_bits


def quantize(x: Fraction, t: Any) -> int:
    """Raw code of ``t`` for the exact value ``x`` (NUMERICS.md §2; !qt.int: trunc toward zero)."""
    if isinstance(t, BipolarType):
        return int(x >= 0)
    if t.is_int:
        q = math.trunc(x)
    else:
        r = x * Fraction(2) ** t.frac_bits
        fl = math.floor(r)
        f = r - fl
        if t.quant == "trn":
            q = fl
        elif t.quant == "trn_zero":
            q = fl + (f != 0 and r < 0)
        elif f != HALF:
            q = fl + (f > HALF)
        else:
            q = fl + {"rnd": 1, "rnd_min_inf": 0, "rnd_zero": int(r < 0), "rnd_inf": int(r > 0),
                      "rnd_conv": fl & 1}[t.quant]
    overflow = "wrap" if t.is_int else t.overflow
    if overflow == "wrap":
        m = q % (1 << t.width)
        return m - (1 << t.width) if t.signed and m >> (t.width - 1) else m
    lo, hi = t.min_raw, t.max_raw
    if overflow == "sat_sym" and t.signed and t.width > 1:
        lo = -hi
    if lo <= q <= hi:
        return q
    return 0 if overflow == "sat_zero" else (hi if q > hi else lo)


def values(raw: Any, t: Any) -> np.ndarray:
    """Object array of the Fractions that raw codes stand for."""
    return np.frompyfunc(lambda r: value(r, t), 1, 1)(np.asarray(raw, dtype=object))


def quantize_all(xs: Any, t: Any) -> list:
    return np.frompyfunc(lambda x: quantize(x, t), 1, 1)(np.asarray(xs, dtype=object)).tolist()


def check(got: Any, t: Any, want: list) -> None:
    """``got`` holds the raw codes ``want`` in the canonical array form of ``t``."""
    got = np.asarray(got)
    assert got.tolist() == want
    if isinstance(t, BipolarType) or t.width <= 63:
        assert got.dtype == np.int64
    else:
        assert got.dtype == object and all(type(v) is int for v in got.reshape(-1))


# ----------------------------------------------------------------------------- random cases

def rand_type(rng: random.Random, wide: bool = False, bipolar: bool = False, kinds: str = "fu iu") -> Any:
    if bipolar and rng.random() < 0.15:
        return BipolarType()
    w = rng.randint(64, 110) if wide else rng.choice([rng.randint(1, 8), rng.randint(2, 20)])
    kind = rng.choice(kinds.replace(" ", ""))
    if kind in "iu" and rng.random() < 0.5:
        return integer(w, kind == "i")
    return fixed(w, rng.randint(-6, w + 6), kind in "fi", rng.choice(QUANT_MODES), rng.choice(OVERFLOW_MODES))


def rand_raw(rng: random.Random, t: Any, shape: tuple[int, ...]) -> np.ndarray:
    lo, hi = t.min_raw, t.max_raw
    special = [lo, hi, 0 if lo <= 0 <= hi else lo, min(hi, max(lo, 1)), max(lo, min(hi, -1))]
    vals = [rng.choice(special) if rng.random() < 0.2 else rng.randint(lo, hi) for _ in range(math.prod(shape))]
    return fx.as_raw(np.array(vals, dtype=object).reshape(shape), t)


def T(shape: tuple[int, ...], elem: Any) -> TensorType:
    return TensorType(shape, elem)


def big(v: int) -> IntegerAttr:
    """An integer attribute, ``i64`` unless ``v`` needs a wider integer type."""
    bits = max(64, v.bit_length() + 1)
    return IntegerAttr(v, IntegerType(-(-bits // 64) * 64))


def ints(*vs: int) -> ArrayAttr:
    return ArrayAttr(IntegerAttr(v) for v in vs)


def dense(raw: Any, elem: Any) -> DenseElementsAttr:
    raw = np.asarray(raw)
    return DenseElementsAttr(T(raw.shape, elem), raw)


def run(cls: Any, operands: dict[str, Any], results: dict[str, Any], **props: Any) -> list[np.ndarray]:
    """Build one op (operands: name → (data, type), a list of them, or None), verify it
    and run its rule through the interpreter; return the result data."""
    flat = [x for v in operands.values() if v is not None for x in (v if isinstance(v, list) else [v])]
    block = Block([t for _, t in flat])
    fields: dict[str, Any] = {}
    k = 0
    for name, v in operands.items():
        if v is None:
            fields[name] = None
        elif isinstance(v, list):
            fields[name], k = block.args[k:k + len(v)], k + len(v)
        else:
            fields[name], k = block.args[k], k + 1
    op = cls.build(**fields, **results, **props)
    verify_op_definition(op)
    block.append(op)
    block.append(ReturnOp.build(values=list(op.results)))
    out = Interpreter().run_block(block, [TypedArray(d, t) for d, t in flat])
    return [r.data for r in out]


def run1(cls: Any, operands: dict[str, Any], out_type: TensorType, **props: Any) -> np.ndarray:
    return run(cls, operands, {"output": out_type}, **props)[0]


# ----------------------------------------------------------------------------- conversions

@FAST
@given(SEEDS)
def test_quantize_reference_matches_convert(seed):
    """The reference rounding agrees with fixed.convert (via convert_exact) on random pairs."""
    rng = random.Random(seed)
    src = rand_type(rng, wide=rng.random() < 0.3, bipolar=True)
    dst = rand_type(rng, wide=rng.random() < 0.3, bipolar=True)
    raw = rand_raw(rng, src, (16,))
    check(convert_exact(raw, src, dst), dst, quantize_all(values(raw, src), dst))


def test_convert_exact_int_target_truncates_toward_zero():
    """A signed I <= 0 source into !qt.int truncates (the header's I = 0 quirk gives −1)."""
    src = fixed(8, 0)
    raw = fx.as_raw(np.array([-128, -1, 0, 5, 127]), src)
    assert convert_exact(raw, src, integer(4)).tolist() == [-0, 0, 0, 0, 0]
    assert fx.convert(raw, src, integer(4)).tolist() == [-1, -1, 0, 0, 0]


@pytest.mark.parametrize("quant", QUANT_MODES)
def test_convert_quotient_every_mode_exhaustive(quant):
    src = fixed(6, 2)
    raw = np.arange(src.min_raw, src.max_raw + 1)[:, None]
    n = np.arange(1, 8)[None, :]
    exact = values(raw, src) / n
    for overflow in OVERFLOW_MODES:
        for dst in (fixed(5, 2, True, quant, overflow), fixed(4, 1, False, quant, overflow),
                    fixed(4, 3, True, quant, overflow), fixed(9, 1, True, quant, overflow),
                    fixed(3, 0, True, quant, overflow), fixed(1, 1, True, quant, overflow)):
            check(fx.convert_quotient(raw, src, n, dst), dst, quantize_all(exact, dst))
    for dst in (integer(3), integer(2, False), BipolarType()):
        check(fx.convert_quotient(raw, src, n, dst), dst, quantize_all(exact, dst))


@FAST
@given(SEEDS)
def test_convert_quotient_random(seed):
    rng = random.Random(seed)
    src = rand_type(rng, wide=rng.random() < 0.3, bipolar=True)
    dst = rand_type(rng, wide=rng.random() < 0.3, bipolar=True)
    raw = rand_raw(rng, src, (12,))
    n = np.array([rng.choice([1, 2, 3, 4, 9, rng.randint(1, 1000)]) for _ in range(12)])
    check(fx.convert_quotient(raw, src, n, dst), dst, quantize_all(values(raw, src) / n, dst))
    check(fx.convert_quotient(raw, src, 7, dst), dst, quantize_all(values(raw, src) / 7, dst))


def test_convert_quotient_rejects_non_positive_divisor():
    with pytest.raises(ValueError, match="positive"):
        fx.convert_quotient(np.array([1]), fixed(8, 4), np.array([0]), fixed(8, 4))


def test_widen_is_lossless():
    src, dst = fixed(10, 3), fixed(80, 40)
    raw = fx.as_raw(np.arange(-512, 512, 37), src)
    check(fx.widen(raw, src, dst), dst, [int(value(r, src) / dst.lsb) for r in raw])
    with pytest.raises(ValueError):
        fx.widen(raw, dst, src)


def test_from_float():
    rng = random.Random(1)
    for k in range(60):
        dst = rand_type(rng, wide=k % 5 == 0, bipolar=True)
        ftype = f32 if k % 2 else f64
        dtype = np.float32 if k % 2 else np.float64
        frac = 0 if isinstance(dst, BipolarType) else dst.frac_bits
        xs = [rng.uniform(-1, 1) * 2.0 ** rng.randint(-12, 24) for _ in range(10)]
        xs += [rng.randint(-300, 300) / 2.0 ** (frac + 1), 0.0, -0.0, rng.randint(-300, 300) / 2.0 ** frac]
        x = np.array(xs, dtype=dtype)
        got = run1(qt.FromFloatOp, {"input": (x, T(x.shape, ftype))}, T(x.shape, dst))
        check(got, dst, [quantize(Fraction(float(v)), dst) for v in x])


def _round_f32(x: Fraction) -> float:
    if x == 0:
        return 0.0
    e = math.floor(math.log2(abs(x)))
    while Fraction(2) ** e > abs(x):
        e -= 1
    while Fraction(2) ** (e + 1) <= abs(x):
        e += 1
    scale = Fraction(2) ** (23 - e)
    return float(round(x * scale) / scale)  # round(): ties to even


def test_to_float():
    rng = random.Random(2)
    for k in range(40):
        t = rand_type(rng, wide=k % 4 == 0, bipolar=True)
        raw = rand_raw(rng, t, (3, 4))
        for ftype, ref in ((f64, float), (f32, _round_f32)):
            got = run1(qt.ToFloatOp, {"input": (raw, T(raw.shape, t))}, T(raw.shape, ftype))
            assert got.dtype == (np.float64 if ftype == f64 else np.float32)
            assert got.tolist() == [[ref(v) for v in row] for row in values(raw, t)]


def test_cast():
    rng = random.Random(3)
    for k in range(60):
        src = rand_type(rng, wide=k % 4 == 0, bipolar=True)
        dst = rand_type(rng, wide=k % 5 == 0, bipolar=True)
        raw = rand_raw(rng, src, (2, 5))
        got = run1(qt.CastOp, {"input": (raw, T(raw.shape, src))}, T(raw.shape, dst))
        check(got, dst, quantize_all(values(raw, src), dst))


def test_const():
    t = fixed(100, 20)
    raw = np.array([1, -(1 << 90), 5], dtype=object)
    got = run1(qt.ConstOp, {}, T((3,), t), value=dense(raw, t))
    check(got, t, raw.tolist())
    small = integer(70)  # values that fit int64 still come back as objects for a wide type
    check(run1(qt.ConstOp, {}, T((2,), small), value=dense(np.array([1, 2]), small)), small, [1, 2])


# ----------------------------------------------------------------------------- linear algebra

@pytest.mark.parametrize("case", range(12))
def test_dense(case):
    rng = random.Random(100 + case)
    wide = case % 3 == 2
    tx, tw, tb = rand_type(rng, wide), rand_type(rng, wide and case % 2 == 0), rand_type(rng)
    dst = rand_type(rng, wide=case % 4 == 3)
    batch = [(2,), (2, 3), ()][case % 3]
    k, n = rng.randint(1, 6), rng.randint(1, 4)
    x, w = rand_raw(rng, tx, (*batch, k)), rand_raw(rng, tw, (k, n))
    b = rand_raw(rng, tb, (n,)) if case % 2 else None
    got = run1(qt.DenseOp, {"input": (x, T(x.shape, tx)), "weight": (w, T(w.shape, tw)),
                            "bias": None if b is None else (b, T(b.shape, tb))}, T((*batch, n), dst))
    exact = values(x, tx).dot(values(w, tw)) if batch else values(x, tx) @ values(w, tw)
    if b is not None:
        exact = exact + values(b, tb)
    check(got, dst, quantize_all(exact, dst))


def _conv_reference(x, tx, w, tw, b, tb, strides, dilations, pads, groups):
    xv, wv = values(x, tx), values(w, tw)
    ns = x.ndim - 2
    n, *spatial, c = x.shape
    *kernel, cg, oc = w.shape
    ocg = oc // groups
    outs = [qt.window_output_size(spatial[i], kernel[i], strides[i], dilations[i], pads[i], pads[ns + i])
            for i in range(ns)]
    out = np.empty((n, *outs, oc), dtype=object)
    for idx in np.ndindex(*out.shape):
        bi, pos, o = idx[0], idx[1:-1], idx[-1]
        g = o // ocg
        acc = Fraction(0)
        for koff in np.ndindex(*kernel):
            where = [pos[i] * strides[i] - pads[i] + koff[i] * dilations[i] for i in range(ns)]
            if all(0 <= p < s for p, s in zip(where, spatial, strict=True)):
                for ci in range(cg):
                    acc += xv[(bi, *where, g * cg + ci)] * wv[(*koff, ci, o)]
        out[idx] = acc + (value(b[o], tb) if b is not None else 0)
    return out


CONV_CASES = [
    # spatial, kernel, C, OC, groups, strides, dilations, pads, wide
    ((5,), (3,), 2, 3, 1, (1,), (1,), (1, 1), False),
    ((7,), (2,), 4, 4, 2, (2,), (2,), (0, 2), False),
    ((4, 5), (3, 3), 2, 4, 1, (1, 1), (1, 1), (1, 1, 1, 1), False),
    ((5, 4), (2, 3), 4, 4, 4, (2, 1), (1, 2), (0, 1, 1, 2), False),
    ((4, 4), (3, 2), 4, 6, 2, (1, 2), (1, 1), (2, 0, 0, 1), True),
    ((3, 3), (1, 1), 3, 2, 1, (1, 1), (1, 1), (0, 0, 0, 0), True),
    ((6,), (3,), 6, 3, 3, (1,), (1,), (2, 0), True),
]


@pytest.mark.parametrize("case", CONV_CASES)
def test_conv(case):
    spatial, kernel, c, oc, groups, strides, dilations, pads, wide = case
    rng = random.Random(str(case))
    tx, tw, tb, dst = rand_type(rng, wide), rand_type(rng, wide), rand_type(rng), rand_type(rng, wide)
    x = rand_raw(rng, tx, (2, *spatial, c))
    w = rand_raw(rng, tw, (*kernel, c // groups, oc))
    b = rand_raw(rng, tb, (oc,)) if groups != 1 or wide else None
    ref = _conv_reference(x, tx, w, tw, b, tb, strides, dilations, pads, groups)
    got = run1(qt.ConvOp, {"input": (x, T(x.shape, tx)), "weight": (w, T(w.shape, tw)),
                           "bias": None if b is None else (b, T(b.shape, tb))}, T(ref.shape, dst),
               strides=ints(*strides), dilations=ints(*dilations), pads=ints(*pads), groups=IntegerAttr(groups))
    check(got, dst, quantize_all(ref, dst))


def test_conv_int64_and_wide_paths_agree_on_groups():
    """The batched int64 group path and the per-group exact path give the same result."""
    rng = random.Random(7)
    tx, tw = fixed(8, 3), fixed(6, 1)
    x, w = rand_raw(rng, tx, (1, 5, 5, 4)), rand_raw(rng, tw, (3, 3, 2, 4))
    wide_tx = fixed(70, 65)  # same raw codes scaled by 2^-5 → same raw result codes
    props = {"strides": ints(1, 1), "dilations": ints(1, 1), "pads": ints(1, 1, 1, 1), "groups": IntegerAttr(2)}
    dst_small, dst_wide = fixed(40, 20, True, "rnd_conv", "sat"), fixed(40, 20, True, "rnd_conv", "sat")
    a = run1(qt.ConvOp, {"input": (x, T(x.shape, tx)), "weight": (w, T(w.shape, tw)), "bias": None},
             T((1, 5, 5, 4), dst_small), **props)
    bw = run1(qt.ConvOp, {"input": (fx.as_raw(x, wide_tx), T(x.shape, wide_tx)), "weight": (w, T(w.shape, tw)),
                          "bias": None}, T((1, 5, 5, 4), dst_wide), **props)
    assert a.tolist() == bw.tolist()


def test_bipolar_dense():
    rng = random.Random(8)
    for k in range(10):
        kk, n = rng.randint(1, 9), rng.randint(1, 4)
        x = np.array([[rng.randint(0, 1) for _ in range(kk)] for _ in range(3)])
        w = np.array([[rng.randint(0, 1) for _ in range(n)] for _ in range(kk)])
        dst = rand_type(rng, wide=k == 9, bipolar=True)
        got = run1(qt.BipolarDenseOp, {"input": (x, T(x.shape, BipolarType())),
                                       "weight": (w, T(w.shape, BipolarType()))}, T((3, n), dst))
        exact = (2 * x - 1) @ (2 * w - 1)
        check(got, dst, quantize_all(np.vectorize(Fraction)(exact), dst))


# ----------------------------------------------------------------------------- elementwise

@pytest.mark.parametrize("cls", [qt.AddOp, qt.SubOp, qt.MulOp])
def test_binary(cls):
    rng = random.Random(cls.name)
    f = {qt.AddOp: lambda a, b: a + b, qt.SubOp: lambda a, b: a - b, qt.MulOp: lambda a, b: a * b}[cls]
    for k in range(25):
        ta = rand_type(rng, wide=k % 4 == 1, bipolar=True)
        tb = rand_type(rng, wide=k % 6 == 2, bipolar=True)
        dst = rand_type(rng, wide=k % 5 == 3, bipolar=True)
        sa, sb = [((2, 3), (3,)), ((2, 1), (1, 4)), ((), (2, 2)), ((3,), (3,))][k % 4]
        a, b = rand_raw(rng, ta, sa), rand_raw(rng, tb, sb)
        shape = np.broadcast_shapes(sa, sb)
        got = run1(cls, {"lhs": (a, T(sa, ta)), "rhs": (b, T(sb, tb))}, T(shape, dst))
        check(got, dst, quantize_all(f(values(a, ta), values(b, tb)), dst))


def test_relu_leaky_relu_clip():
    rng = random.Random(9)
    for k in range(30):
        tx = rand_type(rng, wide=k % 4 == 1, bipolar=True)
        ta, tl, th = (rand_type(rng, wide=k % 5 == 2, bipolar=True) for _ in range(3))
        dst = rand_type(rng, wide=k % 6 == 3, bipolar=True)
        x = rand_raw(rng, tx, (2, 3, 4))
        xv = values(x, tx)
        got = run1(qt.ReluOp, {"input": (x, T(x.shape, tx))}, T(x.shape, dst))
        check(got, dst, quantize_all(np.where(xv >= 0, xv, Fraction(0)), dst))
        ashape = [(), (4,), (3, 1)][k % 3]
        alpha = rand_raw(rng, ta, ashape)
        got = run1(qt.LeakyReluOp, {"input": (x, T(x.shape, tx)), "alpha": (alpha, T(ashape, ta))}, T(x.shape, dst))
        check(got, dst, quantize_all(np.where(xv >= 0, xv, xv * values(alpha, ta)), dst))
        lo, hi = rand_raw(rng, tl, ()), rand_raw(rng, th, ())
        got = run1(qt.ClipOp, {"input": (x, T(x.shape, tx)), "min": (lo, T((), tl)), "max": (hi, T((), th))},
                   T(x.shape, dst))
        lv, hv = value(lo[()], tl), value(hi[()], th)
        check(got, dst, quantize_all(np.frompyfunc(lambda v, a=lv, b=hv: min(max(v, a), b), 1, 1)(xv), dst))


@pytest.mark.parametrize("axis", [1, 2])
def test_threshold(axis):
    rng = random.Random(axis)
    for k in range(12):
        tx = rand_type(rng, wide=k % 4 == 1)
        tt = tx if k % 2 else rand_type(rng, wide=k % 3 == 2)
        dst = rand_type(rng, kinds="iu") if k % 3 else integer(4, False)
        x = rand_raw(rng, tx, (2, 3, 4))
        c, b = x.shape[axis], rng.randint(1, 7)
        th = rand_raw(rng, tt, (1 if k % 4 == 0 else c, b))
        got = run1(qt.ThresholdOp, {"input": (x, T(x.shape, tx)), "thresholds": (th, T(th.shape, tt))},
                   T(x.shape, dst), axis=IntegerAttr(axis))
        xv, tv = values(x, tx), values(th, tt)
        ref = np.empty(x.shape, dtype=object)
        for idx in np.ndindex(*x.shape):
            row = tv[idx[axis] if tv.shape[0] > 1 else 0]
            ref[idx] = Fraction(sum(xv[idx] >= t for t in row))
        check(got, dst, quantize_all(ref, dst))


# ----------------------------------------------------------------------------- pooling

def _pool_reference(xv, kernel, strides, dilations, pads, mode, include_pad):
    ns = xv.ndim - 2
    n, *spatial, c = xv.shape
    outs = [qt.window_output_size(spatial[i], kernel[i], strides[i], dilations[i], pads[i], pads[ns + i])
            for i in range(ns)]
    out = np.empty((n, *outs, c), dtype=object)
    for idx in np.ndindex(*out.shape):
        vals = []
        for koff in np.ndindex(*kernel):
            where = [idx[1 + i] * strides[i] - pads[i] + koff[i] * dilations[i] for i in range(ns)]
            if all(0 <= p < s for p, s in zip(where, spatial, strict=True)):
                vals.append(xv[(idx[0], *where, idx[-1])])
        assert vals
        count = math.prod(kernel) if include_pad else len(vals)
        out[idx] = max(vals) if mode == "max" else sum(vals, Fraction(0)) / count
    return out


POOL_CASES = [
    # spatial, kernel, strides, dilations, pads
    ((6,), (2,), (2,), (1,), (0, 0)),
    ((5,), (3,), (1,), (2,), (2, 1)),
    ((4, 5), (2, 2), (2, 2), (1, 1), (0, 1, 0, 1)),
    ((5, 5), (3, 3), (1, 2), (1, 1), (1, 1, 1, 1)),
    ((4, 3), (4, 3), (1, 1), (1, 1), (0, 0, 0, 0)),  # global pooling
    ((5, 4), (2, 3), (3, 1), (2, 1), (1, 0, 2, 2)),
]


@pytest.mark.parametrize("case", POOL_CASES)
def test_pools(case):
    spatial, kernel, strides, dilations, pads = case
    rng = random.Random(str(case))
    props = {"kernel": ints(*kernel), "strides": ints(*strides), "dilations": ints(*dilations), "pads": ints(*pads)}
    for k in range(4):
        tx = rand_type(rng, wide=k == 3, bipolar=k == 0)
        dst = rand_type(rng, wide=k == 2, bipolar=True)
        x = rand_raw(rng, tx, (2, *spatial, 3))
        xv = values(x, tx)
        ref = _pool_reference(xv, kernel, strides, dilations, pads, "max", False)
        got = run1(qt.MaxPoolOp, {"input": (x, T(x.shape, tx))}, T(ref.shape, dst), **props)
        check(got, dst, quantize_all(ref, dst))
        if isinstance(tx, BipolarType):
            continue
        for include in (0, 1):
            ref = _pool_reference(xv, kernel, strides, dilations, pads, "avg", include)
            got = run1(qt.AvgPoolOp, {"input": (x, T(x.shape, tx))}, T(ref.shape, dst),
                       count_include_pad=IntegerAttr(include), **props)
            check(got, dst, quantize_all(ref, dst))


@pytest.mark.parametrize("quant", QUANT_MODES)
def test_avg_pool_rounding_every_mode(quant):
    """Windows of 3 (not a power of two) with ties and overflow, every mode."""
    tx = fixed(6, 3)
    x = fx.as_raw(np.arange(-32, 32).reshape(1, 64, 1), tx)
    xv = values(x, tx)
    for overflow in OVERFLOW_MODES:
        for dst in (fixed(5, 3, True, quant, overflow), fixed(4, 1, True, quant, overflow)):
            for kernel, pads in (((3,), (1, 1)), ((2,), (0, 0))):
                props = {"kernel": ints(*kernel), "strides": ints(1), "dilations": ints(1), "pads": ints(*pads)}
                ref = _pool_reference(xv, kernel, (1,), (1,), pads, "avg", False)
                got = run1(qt.AvgPoolOp, {"input": (x, T(x.shape, tx))}, T(ref.shape, dst), **props)
                check(got, dst, quantize_all(ref, dst))


# ----------------------------------------------------------------------------- tables

def test_lut():
    rng = random.Random(11)
    for k in range(20):
        tx = rand_type(rng, wide=k % 4 == 1)
        dst = rand_type(rng, wide=k % 5 == 2, bipolar=True)
        size, shift = rng.randint(1, 9), rng.randint(0, 5)
        start = rng.randint(tx.min_raw, tx.max_raw) if k % 3 else tx.min_raw
        table = rand_raw(rng, dst, (size,))
        x = rand_raw(rng, tx, (3, 4))
        props = {"start": big(start), "shift": IntegerAttr(shift), "table": dense(table, dst)}
        if k % 2:
            props["function"] = StringAttr("tanh")
        got = run1(qt.LutOp, {"input": (x, T(x.shape, tx))}, T(x.shape, dst), **props)
        want = [[int(table[min(max((int(r) - start) >> shift, 0), size - 1)]) for r in row] for row in x]
        check(got, dst, want)


def _softmax_reference(x, tx, axis, exp, inv, dst):
    (e_start, e_shift, e_table, et), (i_start, i_shift, i_table, it) = exp, inv
    xv = np.moveaxis(values(x, tx), axis, -1)
    dt = qt.softmax_diff_type(tx)
    st_ = qt.softmax_sum_type(et, xv.shape[-1])
    out = np.empty(xv.shape, dtype=object)
    for idx in np.ndindex(*xv.shape[:-1]):
        row = xv[idx]
        m = max(row)
        es = []
        for v in row:
            raw_d = (v - m) / dt.lsb
            assert raw_d.denominator == 1
            es.append(e_table[min(max(int(raw_d - e_start) >> e_shift, 0), len(e_table) - 1)])
        s = sum((value(e, et) for e in es), Fraction(0))
        raw_s = s / st_.lsb
        assert raw_s.denominator == 1
        r = value(i_table[min(max((int(raw_s) - i_start) >> i_shift, 0), len(i_table) - 1)], it)
        out[idx] = [value(e, et) * r for e in es]
    return np.moveaxis(out, -1, axis)


def test_softmax():
    rng = random.Random(12)
    for k in range(16):
        tx = rand_type(rng, wide=k % 4 == 1)
        et, it = rand_type(rng, wide=k % 5 == 2), rand_type(rng)
        dst = rand_type(rng, wide=k % 6 == 3)
        x = rand_raw(rng, tx, (2, 3, 5))
        axis = k % 3
        n = x.shape[axis]
        dt, st_ = qt.softmax_diff_type(tx), qt.softmax_sum_type(et, n)
        exp = (rng.randint(dt.min_raw, 0), rng.randint(0, 6), rand_raw(rng, et, (rng.randint(1, 12),)), et)
        inv = (rng.randint(st_.min_raw, st_.max_raw), rng.randint(0, 6), rand_raw(rng, it, (rng.randint(1, 12),)), it)
        props = {"axis": IntegerAttr(axis), "exp_start": big(exp[0]), "exp_shift": IntegerAttr(exp[1]),
                 "exp_table": dense(exp[2], et), "inv_start": big(inv[0]), "inv_shift": IntegerAttr(inv[1]),
                 "inv_table": dense(inv[2], it)}
        got = run1(qt.SoftmaxOp, {"input": (x, T(x.shape, tx))}, T(x.shape, dst), **props)
        check(got, dst, quantize_all(_softmax_reference(x, tx, axis, exp, inv, dst), dst))


def test_softmax_helpers():
    t = fixed(8, 3, False)
    assert qt.softmax_diff_type(t) == t.sub_type(t) == fixed(9, 4)
    assert qt.softmax_sum_type(fixed(8, 1, False), 10) == fixed(12, 5, False)
    assert qt.window_output_size(5, 3, 2, 1, 1, 1) == 3


# ----------------------------------------------------------------------------- data movement

@pytest.mark.parametrize("t", [fixed(8, 3), integer(90), BipolarType()])
def test_data_movement(t):
    rng = random.Random(str(t))
    x = rand_raw(rng, t, (2, 3, 4))
    xt = T(x.shape, t)

    def same(got, want):
        check(got, t, np.asarray(want).tolist())

    same(run1(qt.ReshapeOp, {"input": (x, xt)}, T((4, 6), t)), x.reshape(4, 6))
    same(run1(qt.TransposeOp, {"input": (x, xt)}, T((4, 2, 3), t), perm=ints(2, 0, 1)), x.transpose(2, 0, 1))
    y = rand_raw(rng, t, (2, 1, 4))
    same(run1(qt.ConcatOp, {"inputs": [(x, xt), (y, T(y.shape, t)), (x, xt)]}, T((2, 7, 4), t),
              axis=IntegerAttr(1)), np.concatenate([x, y, x], axis=1))
    parts = run(qt.SplitOp, {"input": (x, xt)}, {"outputs": [T((2, 3, 1), t), T((2, 3, 3), t)]},
                axis=IntegerAttr(2))
    same(parts[0], x[:, :, :1])
    same(parts[1], x[:, :, 1:])
    value_ = rand_raw(rng, t, ())
    got = run1(qt.PadOp, {"input": (x, xt), "value": (value_, T((), t))}, T((3, 3, 7), t), pads=ints(1, 0, 2, 0, 0, 1))
    want = np.full((3, 3, 7), value_[()], dtype=object)
    want[1:, :, 2:6] = x
    same(got, want)


SLICES = [
    # starts, ends, steps over a [4, 5, 6] input
    ((0, 0, 0), (4, 5, 6), (1, 1, 1)),
    ((1, 4, 5), (3, -1, -1), (1, -1, -2)),
    ((3, 0, 2), (-1, 5, 3), (-2, 2, 1)),
    ((0, 2, 5), (4, 2, 0), (3, 1, -4)),
    ((2, 4, 0), (2, 3, 6), (1, -3, 6)),
]


@pytest.mark.parametrize("case", SLICES)
def test_slice(case):
    starts, ends, steps = case
    t = fixed(70, 30)
    x = rand_raw(random.Random(str(case)), t, (4, 5, 6))
    idx = [list(range(b, e, s)) for b, e, s in zip(starts, ends, steps, strict=True)]
    want = [[[x[i, j, k] for k in idx[2]] for j in idx[1]] for i in idx[0]]
    shape = tuple(len(r) for r in idx)
    got = run1(qt.SliceOp, {"input": (x, T(x.shape, t))}, T(shape, t), starts=ints(*starts), ends=ints(*ends),
               steps=ints(*steps))
    assert got.shape == shape
    check(got, t, want)
