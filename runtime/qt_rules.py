"""Interpreter rules of the ``qt`` dialect: exact arithmetic on raw codes.

Every rule works on whole numpy arrays of raw codes (``int64`` while every
intermediate stays below 2^62, Python-int object arrays otherwise, as
:mod:`fmlc.runtime.fixed` chooses), computes the mathematically exact result in a
type that holds it, and converts that into the result element type once.
docs/qt-dialect.md states the semantics these rules implement.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from fmlc.compiler.attributes import DenseElementsAttr, IntegerType, TensorType
from fmlc.dialects import qt
from fmlc.dialects.qt import BipolarType, FixedPointType, integer, window_output_size
from fmlc.runtime import fixed as fx
from fmlc.runtime.interpreter import Interpreter, TypedArray, impl

QType = FixedPointType | BipolarType
_FAST = fx.FAST_BITS


# ----------------------------------------------------------------------------- helpers

def _elem(t: Any) -> Any:
    return t.element if isinstance(t, TensorType) else t


def _out_elem(op: Any, index: int = 0) -> QType:
    return op.results[index].type.element  # type: ignore[no-any-return]


def _raw(a: TypedArray) -> tuple[np.ndarray, QType]:
    """The raw codes of ``a`` in canonical form, and its element type."""
    t = _elem(a.type)
    return fx.as_raw(a.data, t, check=False), t


def _as_fixed(v: np.ndarray, t: QType) -> tuple[np.ndarray, FixedPointType]:
    """Bipolar codes b as the ``!qt.int<2>`` values 2b − 1; fixed codes unchanged."""
    if isinstance(t, BipolarType):
        return 2 * np.asarray(v).astype(np.int64) - 1, integer(2)
    return np.asarray(v), t


def convert_exact(v: Any, src: QType, dst: QType) -> np.ndarray:
    """Raw ``dst`` codes for the exact values ``v`` of ``src`` (``fixed.convert``).

    Into ``!qt.int`` this is truncation toward zero of the value, then wrap: a signed
    source with I < 1 is first re-read with I = 1 (same raw codes) so that the
    headers' I = 0 quirk (every negative value → −1) does not apply.
    """
    if (isinstance(dst, FixedPointType) and dst.is_int and isinstance(src, FixedPointType)
            and not src.is_int and src.signed and src.int_bits < 1):
        src = qt.fixed(src.width + 1 - src.int_bits, 1, True)
    return fx.convert(v, src, dst)


union_type = qt.union_type


def _widen_to(v: np.ndarray, t: QType, u: FixedPointType) -> np.ndarray:
    return fx.widen(v, t, u)


def _work(v: Any, wide: bool) -> np.ndarray:
    """``v`` as Python-int objects when ``wide``, else as int64."""
    arr = np.asarray(v)
    if wide:
        return arr if arr.dtype == object else arr.astype(np.int64).astype(object)
    return arr.astype(np.int64)


def _ints(attr: Any) -> list[int]:
    return [a.value for a in attr]


def _table(attr: DenseElementsAttr) -> np.ndarray:
    return fx.as_raw(attr.data, attr.type.element, check=False)


def _lookup(v: np.ndarray, wide: bool, start: int, shift: int, table: np.ndarray) -> np.ndarray:
    """table[clamp((v − start) >> shift, 0, T − 1)] (``>>``: floor division by 2^shift)."""
    wide = wide or abs(start) >= 1 << (_FAST - 2)
    w = _work(v, wide)
    idx = (w - start) >> shift
    idx = np.minimum(np.maximum(idx, 0), len(table) - 1)
    return table[np.asarray(idx).astype(np.int64)]


def _gather_windows(x: np.ndarray, kernel: list[int], strides: list[int], dilations: list[int],
                    pads: list[int], fill: Any) -> np.ndarray:
    """Windows of channels-last ``x`` [N, *S, C] as a read-only strided view [N, *S', *K, C],
    padding with ``fill``."""
    ns = len(kernel)
    n, *spatial, c = x.shape
    xp = np.ascontiguousarray(x)
    if any(pads):
        padded_shape = [n, *(s + pads[i] + pads[ns + i] for i, s in enumerate(spatial)), c]
        xp = np.full(padded_shape, fill, dtype=x.dtype)
        xp[(slice(None), *(slice(pads[i], pads[i] + s) for i, s in enumerate(spatial)), slice(None))] = x
    out = [window_output_size(spatial[i], kernel[i], strides[i], dilations[i], pads[i], pads[ns + i])
           for i in range(ns)]
    step = xp.strides[1:1 + ns]
    return np.lib.stride_tricks.as_strided(
        xp, (n, *out, *kernel, c),
        (xp.strides[0], *(st * s for st, s in zip(step, strides, strict=True)),
         *(st * d for st, d in zip(step, dilations, strict=True)), xp.strides[-1]),
        writeable=False)


def _window_props(op: Any, kernel: list[int]) -> tuple[list[int], list[int], list[int], list[int]]:
    return kernel, _ints(op.strides), _ints(op.dilations), _ints(op.pads)


# ----------------------------------------------------------------------------- conversions

@impl(qt.ConstOp)
def _const(interp: Interpreter, op: qt.ConstOp) -> np.ndarray:
    return fx.as_raw(op.value.data, op.value.type.element, check=False)


def host_array(data: Any, elem: Any) -> np.ndarray:
    """Host data for a graph input of element type ``elem``: float32, float64 or (indices) int64."""
    if isinstance(elem, IntegerType):
        return np.asarray(data).astype(np.int64)
    return np.asarray(data, dtype=np.float32 if getattr(elem, "name", "") == "f32" else np.float64)


def from_float_raw(data: np.ndarray, dst: QType) -> np.ndarray:
    """Raw ``dst`` codes for the float (or integer) array ``data`` (the ``qt.from_float`` conversion)."""
    data = np.asarray(data)
    if data.dtype.kind in "iub":  # integer host values (indices): exact, then dst's modes
        return convert_exact(data.astype(np.int64), integer(64), dst)
    if isinstance(dst, FixedPointType) and dst.is_int:
        # the exact float value truncated toward zero, then wrapped (not ap_int(double)'s quirk)
        return fx.as_raw(fx.from_float(data, qt.fixed(dst.width, dst.width, dst.signed, "trn_zero", "wrap")), dst)
    return fx.from_float(data, dst)


@impl(qt.FromFloatOp, batch="leading")
def _from_float(interp: Interpreter, op: qt.FromFloatOp, x: TypedArray) -> np.ndarray:
    return from_float_raw(host_array(x.data, _elem(x.type)), _out_elem(op))


def to_host(raw: Any, t: QType, host: Any) -> np.ndarray:
    """Raw codes of ``t`` as host values of element type ``host`` (f32, f64, or an integer type
    for integer values)."""
    if isinstance(host, IntegerType):
        return np.asarray(fx.to_float(raw, t, np.float64)).astype(np.int64)
    return fx.to_float(raw, t, np.float32 if host.name == "f32" else np.float64)


@impl(qt.ToFloatOp, batch="leading")
def _to_float(interp: Interpreter, op: qt.ToFloatOp, x: TypedArray) -> np.ndarray:
    raw, t = _raw(x)
    return to_host(raw, t, _out_elem(op))


@impl(qt.CastOp, batch="leading")
def _cast(interp: Interpreter, op: qt.CastOp, x: TypedArray) -> np.ndarray:
    raw, t = _raw(x)
    return convert_exact(raw, t, _out_elem(op))


# ----------------------------------------------------------------------------- linear algebra

@impl(qt.DenseOp, batch="leading")
def _dense(interp: Interpreter, op: qt.DenseOp, x: TypedArray, w: TypedArray,
           b: TypedArray | None = None) -> np.ndarray:
    (xr, tx), (wr, tw) = _raw(x), _raw(w)
    br, tb = _raw(b) if b is not None else (None, None)
    acc, at = fx.dense(xr, tx, wr, tw, br, tb)  # type: ignore[arg-type]
    return convert_exact(acc, at, _out_elem(op))


@impl(qt.ConvOp, batch="fold")
def _conv(interp: Interpreter, op: qt.ConvOp, x: TypedArray, w: TypedArray,
          b: TypedArray | None = None) -> np.ndarray:
    (xr, tx), (wr, tw) = _raw(x), _raw(w)
    br, tb = _raw(b) if b is not None else (None, None)
    ns = xr.ndim - 2
    kernel = list(wr.shape[:ns])
    groups = op.groups.value
    n, c, oc = xr.shape[0], xr.shape[-1], wr.shape[-1]
    cg, ocg, kk = c // groups, oc // groups, math.prod(kernel)
    ftype = fx.gemm_dtype(tx, tw, kk * cg, tb)  # type: ignore[arg-type]
    if ftype is not None:  # gather the windows as floats once, for the GEMM
        xr = xr.astype(ftype)
    patches = _gather_windows(xr, *_window_props(op, kernel), fill=0)  # [N, *S', *K, C]
    out_spatial = patches.shape[1:1 + ns]
    m = n * math.prod(out_spatial)
    if groups == 1:
        acc, at = fx.dense(patches.reshape(m, kk * c), tx, wr.reshape(kk * c, oc), tw, br, tb)  # type: ignore[arg-type]
        return convert_exact(acc.reshape(n, *out_spatial, oc), at, _out_elem(op))
    p = patches.reshape(m, kk, groups, cg)
    wg = wr.reshape(kk, cg, groups, ocg)
    rt = fx.dense_type(tx, tw, kk * cg)  # type: ignore[arg-type]
    if rt.width <= _FAST:  # one batched matmul over the groups
        pm = np.ascontiguousarray(p.transpose(2, 0, 1, 3)).reshape(groups, m, kk * cg).astype(np.int64)
        wm = np.ascontiguousarray(wg.transpose(2, 0, 1, 3)).reshape(groups, kk * cg, ocg).astype(np.int64)
        acc = np.matmul(pm, wm).transpose(1, 0, 2).reshape(m, oc)
    else:
        parts = [fx.dense(p[:, :, g, :].reshape(m, kk * cg), tx, wg[:, :, g, :].reshape(kk * cg, ocg), tw)[0]  # type: ignore[arg-type]
                 for g in range(groups)]
        acc = np.concatenate(parts, axis=-1)
    acc, at = acc.reshape(n, *out_spatial, oc), rt
    if b is not None:
        acc, at = fx.add(acc, at, br, tb)  # type: ignore[arg-type]
    return convert_exact(acc, at, _out_elem(op))


@impl(qt.BipolarDenseOp, batch="leading")
def _bipolar_dense(interp: Interpreter, op: qt.BipolarDenseOp, x: TypedArray, w: TypedArray) -> np.ndarray:
    xr, wr = np.asarray(x.data).astype(np.int64), np.asarray(w.data).astype(np.int64)
    k = wr.shape[0]
    acc = (2 * xr - 1) @ (2 * wr - 1)  # = 2·popcount(xnor) − K, |acc| <= K
    return convert_exact(acc, integer(max(2, k.bit_length() + 1)), _out_elem(op))


# ----------------------------------------------------------------------------- elementwise

def _binary(op: Any, a: TypedArray, b: TypedArray, f: Any) -> np.ndarray:
    (ar, ta), (br, tb) = _raw(a), _raw(b)
    v, t = f(ar, ta, br, tb)
    return convert_exact(v, t, _out_elem(op))


@impl(qt.AddOp, batch="leading")
def _add(interp: Interpreter, op: qt.AddOp, a: TypedArray, b: TypedArray) -> np.ndarray:
    return _binary(op, a, b, fx.add)


@impl(qt.SubOp, batch="leading")
def _sub(interp: Interpreter, op: qt.SubOp, a: TypedArray, b: TypedArray) -> np.ndarray:
    return _binary(op, a, b, fx.sub)


@impl(qt.MulOp, batch="leading")
def _mul(interp: Interpreter, op: qt.MulOp, a: TypedArray, b: TypedArray) -> np.ndarray:
    return _binary(op, a, b, fx.mul)


@impl(qt.ReluOp, batch="leading")
def _relu(interp: Interpreter, op: qt.ReluOp, x: TypedArray) -> np.ndarray:
    v, t = _as_fixed(*_raw(x))
    if t.signed and t.width > 1:  # max(v, 0) is a code of the unsigned type one bit narrower
        t = qt.fixed(t.width - 1, t.int_bits - 1, False)
    return convert_exact(np.maximum(v, 0), t, _out_elem(op))


@impl(qt.LeakyReluOp, batch="leading")
def _leaky_relu(interp: Interpreter, op: qt.LeakyReluOp, x: TypedArray, alpha: TypedArray) -> np.ndarray:
    xv, tx = _as_fixed(*_raw(x))
    av, ta = _as_fixed(*_raw(alpha))
    p, pt = fx.mul(xv, tx, av, ta)
    u = union_type(tx, pt)
    out = np.where(xv >= 0, _widen_to(xv, tx, u), _widen_to(p, pt, u))
    return convert_exact(out, u, _out_elem(op))


@impl(qt.ClipOp, batch="leading")
def _clip(interp: Interpreter, op: qt.ClipOp, x: TypedArray, lo: TypedArray, hi: TypedArray) -> np.ndarray:
    (xv, tx), (lv, tl), (hv, th) = _raw(x), _raw(lo), _raw(hi)
    u = union_type(tx, tl, th)
    out = np.minimum(np.maximum(_widen_to(xv, tx, u), _widen_to(lv, tl, u)), _widen_to(hv, th, u))
    return convert_exact(out, u, _out_elem(op))


@impl(qt.ThresholdOp, batch="fold")
def _threshold(interp: Interpreter, op: qt.ThresholdOp, x: TypedArray, thresholds: TypedArray) -> np.ndarray:
    (xv, tx), (tv, tt) = _raw(x), _raw(thresholds)
    u = union_type(tx, tt)
    xw = np.moveaxis(_widen_to(xv, tx, u), op.axis.value, -1)[..., None]  # [..., C, 1]
    count = np.sum(xw >= _widen_to(tv, tt, u), axis=-1).astype(np.int64)  # thresholds [C or 1, B]
    count = np.moveaxis(count, -1, op.axis.value)
    b = tv.shape[1]
    return convert_exact(count, integer(max(b.bit_length(), 1), signed=False), _out_elem(op))


# ----------------------------------------------------------------------------- pooling

@impl(qt.MaxPoolOp, batch="fold")
def _max_pool(interp: Interpreter, op: qt.MaxPoolOp, x: TypedArray) -> np.ndarray:
    raw, t = _raw(x)
    ns = raw.ndim - 2
    patches = _gather_windows(raw, *_window_props(op, _ints(op.kernel)), fill=t.min_raw)
    # every window holds a real element (verified), and the fill is <= every code
    taps = iter(np.ndindex(*patches.shape[1 + ns:1 + 2 * ns]))
    out = patches[(Ellipsis, *next(taps), slice(None))].copy()
    for tap in taps:  # one elementwise maximum per kernel position beats a reduce over strided axes
        np.maximum(out, patches[(Ellipsis, *tap, slice(None))], out=out)
    return convert_exact(out, t, _out_elem(op))


@impl(qt.AvgPoolOp, batch="fold")
def _avg_pool(interp: Interpreter, op: qt.AvgPoolOp, x: TypedArray) -> np.ndarray:
    raw, t = _raw(x)
    ns = raw.ndim - 2
    kernel = _ints(op.kernel)
    props = _window_props(op, kernel)
    axes = tuple(range(1 + ns, 1 + 2 * ns))
    st = t.sum_type(max(math.prod(kernel), 1))  # type: ignore[union-attr]
    sums = np.sum(_gather_windows(_work(raw, st.width > _FAST), *props, fill=0), axis=axes)
    if op.count_include_pad.value:
        count: Any = math.prod(kernel)
    else:
        ones = np.ones((1, *raw.shape[1:-1], 1), dtype=np.int64)
        count = np.sum(_gather_windows(ones, *props, fill=0), axis=axes)
    return fx.convert_quotient(sums, st, count, _out_elem(op))


# ----------------------------------------------------------------------------- tables

@impl(qt.LutOp, batch="leading")
def _lut(interp: Interpreter, op: qt.LutOp, x: TypedArray) -> np.ndarray:
    raw, t = _raw(x)
    out = _lookup(raw, t.width > _FAST - 2, op.start.value, op.shift.value, _table(op.table))
    return fx.as_raw(out, _out_elem(op), check=False)


@impl(qt.SoftmaxOp, batch="fold")
def _softmax(interp: Interpreter, op: qt.SoftmaxOp, x: TypedArray) -> np.ndarray:
    raw, t = _raw(x)
    axis = op.axis.value
    n = raw.shape[axis]
    dt = qt.softmax_diff_type(t)  # type: ignore[arg-type]
    wide = dt.width > _FAST - 2
    v = _work(raw, wide)
    d = v - np.max(v, axis=axis, keepdims=True)  # raw codes of x − max in dt (same fractional bits)
    et, it = op.exp_table.type.element, op.inv_table.type.element
    e = _lookup(d, wide, op.exp_start.value, op.exp_shift.value, _table(op.exp_table))
    st = qt.softmax_sum_type(et, max(n, 1))
    s = np.sum(_work(e, st.width > _FAST - 2), axis=axis, keepdims=True)
    r = _lookup(s, st.width > _FAST - 2, op.inv_start.value, op.inv_shift.value, _table(op.inv_table))
    y, yt = fx.mul(e, et, r, it)
    return convert_exact(y, yt, _out_elem(op))


# ----------------------------------------------------------------------------- data movement

@impl(qt.ReshapeOp, batch="index")
def _reshape(interp: Interpreter, op: qt.ReshapeOp, x: TypedArray) -> np.ndarray:
    raw, _ = _raw(x)
    return raw.reshape(op.output.type.shape)


@impl(qt.TransposeOp, batch="index")
def _transpose(interp: Interpreter, op: qt.TransposeOp, x: TypedArray) -> np.ndarray:
    raw, _ = _raw(x)
    return np.transpose(raw, _ints(op.perm))


@impl(qt.ConcatOp, batch="index")
def _concat(interp: Interpreter, op: qt.ConcatOp, *xs: TypedArray) -> np.ndarray:
    return np.concatenate([_raw(x)[0] for x in xs], axis=op.axis.value)


@impl(qt.SplitOp, batch="index")
def _split(interp: Interpreter, op: qt.SplitOp, x: TypedArray) -> tuple[np.ndarray, ...]:
    raw, _ = _raw(x)
    axis = op.axis.value
    sizes = [r.type.shape[axis] for r in op.outputs]
    return tuple(np.split(raw, np.cumsum(sizes)[:-1], axis=axis))


@impl(qt.SliceOp, batch="index")
def _slice(interp: Interpreter, op: qt.SliceOp, x: TypedArray) -> np.ndarray:
    raw, _ = _raw(x)
    ranges = [np.arange(b, e, s) for b, e, s in zip(_ints(op.starts), _ints(op.ends), _ints(op.steps), strict=True)]
    return np.asarray(raw[np.ix_(*ranges)]) if ranges else raw.copy()


@impl(qt.PadOp, batch="index")
def _pad(interp: Interpreter, op: qt.PadOp, x: TypedArray, value: TypedArray) -> np.ndarray:
    raw, _ = _raw(x)
    fill = _raw(value)[0].reshape(())[()]
    pads = _ints(op.pads)
    out = np.full(op.output.type.shape, fill, dtype=raw.dtype)
    out[tuple(slice(pads[i], pads[i] + d) for i, d in enumerate(raw.shape))] = raw
    return out


# ----------------------------------------------------------------------------- gather and scatter

def index_values(idx: TypedArray) -> np.ndarray:
    """The integer values of an index tensor (builtin integers or integer-valued fixed codes)."""
    t = _elem(idx.type)
    if isinstance(t, FixedPointType):
        raw = fx.as_raw(idx.data, t, check=False).astype(np.int64)
        return raw << -t.frac_bits
    return np.asarray(idx.data).astype(np.int64)


def normalise_indices(i: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(position in 0..n−1, valid): negative indices count from the end; others are invalid."""
    valid = (i >= -n) & (i < n)
    return np.where(valid, np.where(i < 0, i + n, i), 0), valid


def _is_float(t: Any) -> bool:
    return not isinstance(_elem(t), (FixedPointType, BipolarType))


def _along(mask: np.ndarray, rank: int, axis: int, index_rank: int = 1) -> np.ndarray:
    """``mask`` (the index shape) reshaped to broadcast against a result of ``rank`` at ``axis``."""
    return mask.reshape((1,) * axis + mask.shape + (1,) * (rank - axis - index_rank))


@impl(qt.GatherOp)
def _gather(interp: Interpreter, op: qt.GatherOp, x: TypedArray, indices: TypedArray) -> np.ndarray:
    data = np.asarray(x.data) if _is_float(x.type) else _raw(x)[0]
    axis = op.axis.value % data.ndim
    pos, valid = normalise_indices(index_values(indices), data.shape[axis])
    out = np.take(data, pos, axis=axis)
    keep = _along(valid, out.ndim, axis, valid.ndim)
    return np.where(keep, out, np.zeros((), dtype=out.dtype))


_FLOAT_AT = {"add": np.add.at, "mul": np.multiply.at, "max": np.maximum.at, "min": np.minimum.at}


def _scatter_positions(op: qt.ScatterOp, indices: TypedArray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Positions and the updates that land (invalid ones dropped; ``none``: the last per position)."""
    pos, valid = normalise_indices(index_values(indices), n)
    keep = np.flatnonzero(valid)
    if op.reduce.value == "none":
        last = {int(p): int(e) for e, p in zip(keep, pos[keep], strict=True)}
        keep = np.array(sorted(last.values()), dtype=np.int64)
    return pos[keep], keep


@impl(qt.ScatterOp)
def _scatter(interp: Interpreter, op: qt.ScatterOp, x: TypedArray, indices: TypedArray,
             updates: TypedArray) -> np.ndarray:
    axis = op.axis.value % len(x.shape)
    reduce = op.reduce.value
    pos, keep = _scatter_positions(op, indices, x.shape[axis])
    touched = np.unique(pos) if not op.include_self.value else None  # their input leaves the reduction
    if _is_float(x.type):
        acc = np.array(x.data, copy=True)
        if touched is not None and reduce != "none":
            _reset(acc, touched, axis, {"add": 0.0, "mul": 1.0, "max": -np.inf, "min": np.inf}[reduce])
        upd = np.take(np.asarray(updates.data, dtype=acc.dtype), keep, axis=axis)
        if reduce == "none":
            _assign(acc, pos, upd, axis)
        else:
            _FLOAT_AT[reduce](np.moveaxis(acc, axis, 0), pos, np.moveaxis(upd, axis, 0))
        return acc
    xr, xt = _as_fixed(*_raw(x))
    ur, ut = _as_fixed(*_raw(updates))
    ur = np.take(ur, keep, axis=axis)
    out_t = _out_elem(op)
    if reduce == "mul":
        return _scatter_mul(xr, xt, ur, ut, pos, axis, out_t, touched)
    count = np.bincount(pos, minlength=x.shape[axis]).max(initial=0) if reduce == "add" else 1
    work = qt.sum_type([(xt, 1), (ut, int(count))])
    wide = work.width > _FAST - 2
    acc = _work(_widen_to(xr, xt, work), wide)
    upd = _work(_widen_to(ur, ut, work), wide)
    if touched is not None and reduce != "none":
        _reset(acc, touched, axis, {"add": 0, "max": work.min_raw, "min": work.max_raw}[reduce])
    if reduce == "none":
        _assign(acc, pos, upd, axis)
    else:
        _FLOAT_AT[reduce](np.moveaxis(acc, axis, 0), pos, np.moveaxis(upd, axis, 0))
    return convert_exact(acc, work, out_t)


def _reset(acc: np.ndarray, rows: np.ndarray, axis: int, identity: Any) -> None:
    np.moveaxis(acc, axis, 0)[rows] = identity


def _assign(acc: np.ndarray, pos: np.ndarray, upd: np.ndarray, axis: int) -> None:
    view = np.moveaxis(acc, axis, 0)
    view[pos] = np.moveaxis(upd, axis, 0)


def _scatter_mul(xr: np.ndarray, xt: FixedPointType, ur: np.ndarray, ut: FixedPointType, pos: np.ndarray,
                 axis: int, out_t: QType, touched: np.ndarray | None) -> np.ndarray:
    """Exact products per destination (Python ints at a common scale), converted once."""
    n = xr.shape[axis]
    count = np.bincount(pos, minlength=n) if len(pos) else np.zeros(n, dtype=np.int64)
    most = int(count.max(initial=0))
    fx_, fu = max(xt.frac_bits, 0), max(ut.frac_bits, 0)
    acc = np.moveaxis(_work(xr, True) * (1 << (fx_ - xt.frac_bits)), axis, 0).copy()
    if touched is not None:
        acc[touched] = 1 << fx_
    upd = np.moveaxis(_work(ur, True) * (1 << (fu - ut.frac_bits)), axis, 0)
    for e, p in enumerate(pos):
        acc[p] = acc[p] * upd[e]
    for p in range(n):  # every destination to the scale of `most` factors
        acc[p] = acc[p] * (1 << (fu * (most - int(count[p]))))
    frac = fx_ + fu * most
    work = qt.type_for_range(min(int(acc.min(initial=0)), 0), max(int(acc.max(initial=0)), 0), frac)
    return convert_exact(np.moveaxis(acc, 0, axis), work, out_t)


# ----------------------------------------------------------------------------- trees

@impl(qt.TreeEnsembleOp, batch="fold")
def _tree_ensemble(interp: Interpreter, op: qt.TreeEnsembleOp, x: TypedArray) -> np.ndarray:
    from fmlc.runtime import trees

    ens = trees.of_op(op)
    how = op.aggregate.value
    if _is_float(x.type):  # before onnx-to-qt: float64 arithmetic
        acc, _ = trees.aggregate(ens, ens.leaves(np.asarray(x.data, np.float64)), how.upper(), np.float64)
        dtype = np.float32 if _out_elem(op).name == "f32" else np.float64  # type: ignore[union-attr]
        return (acc + np.asarray(op.base_values.data, np.float64)).astype(dtype)
    raw, _ = _raw(x)
    work, by_position, base = trees.per_op(op, _tree_tables)
    acc = ens.walk.reduce_leaves(raw, by_position, {"sum": np.add, "min": np.minimum, "max": np.maximum}[how])
    return convert_exact(acc + base[None, :], work, _out_elem(op))


def _tree_tables(op: qt.TreeEnsembleOp) -> tuple[FixedPointType, np.ndarray, np.ndarray]:
    """The type that holds a tree ensemble's sums exactly, its leaf values in that type by
    walk position [targets, positions], and its base values in that type."""
    from fmlc.runtime import trees

    ens = trees.of_op(op)
    lt, bt = op.leaf_values.type.element, op.base_values.type.element
    work = qt.sum_type([(lt, max(ens.n_trees, 1)), (bt, 1)])
    wide = work.width > _FAST - 2
    leaf = _work(_widen_to(ens.values, lt, work), wide)
    base = _work(_widen_to(np.asarray(fx.as_raw(op.base_values.data, bt, check=False)), bt, work), wide)
    return work, np.ascontiguousarray(leaf[ens.walk.leaf_row].T), base


@impl(qt.ArgMaxOp, batch="fold")
def _argmax(interp: Interpreter, op: qt.ArgMaxOp, x: TypedArray) -> np.ndarray:
    raw, _ = _raw(x)
    axis = op.axis.value
    values = np.asarray(raw)
    idx = np.asarray(np.argmax(values.astype(object) if values.dtype == object else values, axis=axis), np.int64)
    out = _out_elem(op)
    if isinstance(out, FixedPointType) and out.frac_bits == 0 and out.max_raw >= values.shape[axis] - 1:
        return idx  # every index is its own raw code
    return convert_exact(idx, integer(64), out)
