"""Fixed-point arithmetic on raw integers, bit-exact with the ap_types headers.

A value of a qt type T is an integer array V standing for V·2^−F (F = T.frac_bits);
``!qt.bipolar`` values are bits b standing for 2b − 1.  Raw arrays are ``int64``
when T.width <= 63 and object arrays of Python ints otherwise (:func:`as_raw`).

Every operation picks its path from the widths involved: ``int64`` when every
intermediate fits in 62 bits, exact Python integers otherwise, so host integers never
wrap silently.  Rules (NUMERICS.md §2, tests in ``tests/runtime``):

* :func:`convert` / :func:`from_float` quantise with the target's mode, then apply its
  overflow mode, exactly as the header constructors do (float sources decoded as the
  header decodes them).  Conversion *into* ``!qt.int`` follows ``ap_int``: truncation
  toward zero from a fixed value, and ``ap_int(double)``'s rule from a float.
* :func:`add` / :func:`sub` / :func:`mul` / :func:`neg` are the full-precision operators
  and return the header's result types; :func:`sum` and :func:`dense` return sums in
  a type with ceil(log2 n) more integer bits (:meth:`FixedPointType.sum_type`).
* :func:`to_float` rounds to nearest even (as ``to_float()`` / ``to_double()``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from fmlc.dialects.qt import BipolarType, FixedPointType, IntType, conversion_trips_assert, integer

QType = FixedPointType | BipolarType

FAST_BITS = 62  # int64 path while every intermediate magnitude stays below 2^62
_BIPOLAR_AS_INT = integer(2)  # a bipolar value 2b − 1 as an ap_int<2>


# ----------------------------------------------------------------------------- raw arrays

def _to_object(v: Any) -> np.ndarray:
    """An object array of Python ints."""
    arr = np.asarray(v)
    if arr.dtype == object:
        return np.frompyfunc(int, 1, 1)(arr).astype(object) if arr.ndim else np.array(int(arr), dtype=object)
    return arr.astype(np.int64).astype(object)


def _to_int64(v: np.ndarray) -> np.ndarray:
    """``v`` as int64 (the array itself when it already is: callers never write into it)."""
    return np.asarray(v).astype(np.int64, copy=False)


def _working(v: Any, wide: bool) -> np.ndarray:
    """``v`` in the representation an operation works in."""
    return _to_object(v) if wide else _to_int64(v)


def as_raw(values: Any, type_: QType, check: bool = True) -> np.ndarray:
    """Raw values in their canonical array form for ``type_``; ``check`` rejects values out of range."""
    arr = np.asarray(values)
    if arr.dtype != object and not np.issubdtype(arr.dtype, np.integer) and arr.dtype != bool:
        raise TypeError(f"raw values must be integers, got dtype {arr.dtype}")
    out = _to_object(arr) if type_.width > 63 else _to_int64(arr)
    if check and out.size and (np.any(out < type_.min_raw) or np.any(out > type_.max_raw)):
        raise ValueError(f"raw values out of range [{type_.min_raw}, {type_.max_raw}] of {type_}")
    return out


def _canonical(v: np.ndarray, type_: QType) -> np.ndarray:
    """A result in the canonical form of ``type_`` (object results already hold Python ints)."""
    v = np.asarray(v)
    if type_.width <= 63:
        return v.astype(np.int64, copy=False)
    return v if v.dtype == object else v.astype(np.int64).astype(object)


def _as_fixed(v: Any, type_: QType) -> tuple[np.ndarray, FixedPointType]:
    """Bipolar values as ap_int<2> (2b − 1); fixed values unchanged."""
    if isinstance(type_, BipolarType):
        return 2 * _to_int64(v) - 1, _BIPOLAR_AS_INT
    return np.asarray(v), type_


def _wrap(q: np.ndarray, width: int, signed: bool) -> np.ndarray:
    """Two's-complement wrap to ``width`` bits."""
    mask = (1 << width) - 1
    if not signed:
        return q & mask
    half = 1 << (width - 1)
    u = (q + half) & mask
    u -= half
    return u


# ----------------------------------------------------------------------------- conversion core

def _round_increment(v: np.ndarray, fl: np.ndarray, rem: np.ndarray, half: Any, quant: str) -> np.ndarray:
    """+1 or 0 added to floor(v / 2^d) by ``quant`` (rem = v mod 2^d, half = 2^(d−1))."""
    if quant == "trn":
        return np.zeros(np.shape(v), dtype=bool)
    neg = v < 0
    above, tie = rem > half, rem == half
    inc = {
        "trn_zero": neg,
        "rnd": above | tie,
        "rnd_zero": above | (tie & neg),
        "rnd_min_inf": above,
        "rnd_inf": above | (tie & ~neg),
        "rnd_conv": above | (tie & ((fl & 1) != 0)),
    }[quant]
    return inc & (rem != 0)


def _shift_round(v: np.ndarray, d: Any, quant: str) -> np.ndarray:
    """Round v / 2^d (d >= 0) to an integer with ``quant``."""
    fl = v >> d
    rem = v & ((1 << d) - 1)
    half = (1 << d) >> 1
    return fl + _round_increment(v, fl, rem, half, quant)


def _pick(right: Any, on_right: Callable[[], Any], on_left: Callable[[], Any]) -> Any:
    """``on_right()`` where ``right``, else ``on_left()`` (evaluating only what a scalar needs)."""
    if isinstance(right, bool):
        return on_right() if right else on_left()
    return np.where(right, on_right(), on_left())


def _requantize(v: np.ndarray, d: Any, vbits: int, width: int, signed: bool, quant: str,
                overflow: str, span: tuple[int, int] | None = None) -> np.ndarray:
    """Raw of the format (width, signed, quant, overflow) for the value v·2^−d.

    ``d`` (a scalar or an array like ``v``) > 0 drops bits with rounding, < 0 appends
    zero bits; |v| <= 2^vbits, and ``span`` (if known) bounds v more tightly.  Overflow is
    decided after rounding.  Shifts are clamped to where the result stops depending on
    them, so the int64 path never overflows.
    """
    wide = width > FAST_BITS - 1 or vbits > FAST_BITS - 2
    v = _working(v, wide)
    if not wide and np.ndim(d) == 0 and vbits + max(-int(d), 0) <= _SHORT_BITS:
        return _requantize_short(v, int(d), vbits, width, signed, quant, overflow, span)
    if np.ndim(d) == 0:
        right: Any = int(d) > 0
        dr: Any = min(max(int(d), 0), vbits + 2)
        s: Any = min(max(-int(d), 0), width + 1)
        keep: Any = max(width - s, 0)
    else:
        d = _working(d, wide)
        right = d > 0
        dr = np.minimum(np.maximum(d, 0), vbits + 2)
        s = np.minimum(np.maximum(-d, 0), width + 1)
        keep = np.maximum(width - s, 0)
    lo, hi = _limits(width, signed, overflow)
    q_right = _shift_round(v, dr, quant) if right is not False else None

    if overflow == "wrap":
        q = _pick(right, lambda: q_right, lambda: (v & ((1 << keep) - 1)) << s)
        return _wrap(q, width, signed)
    above = _pick(right, lambda: q_right > hi, lambda: v > (hi >> s))
    below = _pick(right, lambda: q_right < lo, lambda: v < -((-lo) >> s))
    inside = _pick(right, lambda: q_right, lambda: np.where(above | below, 0, v) << s)
    if overflow == "sat_zero":
        return np.where(above | below, 0, inside)
    return np.where(above, hi, np.where(below, lo, inside))


_SHORT_BITS = 60  # int64 values of at most this many bits take :func:`_requantize_short`


def _round_shift(v: np.ndarray, d: int, quant: str) -> np.ndarray:
    """Round v / 2^d (d >= 1, |v| < 2^60) to an integer with ``quant``: one biased shift.

    floor((v + b) / 2^d) with the bias b that moves exactly the values ``quant`` rounds up
    past the next multiple: 2^(d−1) for ties up, 2^(d−1) − 1 for ties down, plus one for
    the ties that go up only on negative values (rnd_zero), only on odd quotients
    (rnd_conv), or minus one on negative ties (rnd_inf); 2^d − 1 on negatives (trn_zero).
    """
    half = 1 << (d - 1)
    if quant == "trn":
        return v >> d
    if quant == "trn_zero":
        q = v + ((v >> 63) & ((1 << d) - 1))
    elif quant == "rnd":
        q = v + half
    elif quant == "rnd_min_inf":
        q = v + (half - 1)
    elif quant in ("rnd_inf", "rnd_zero"):
        q = v >> 63  # −1 on negative values
        if quant == "rnd_zero":
            q = -q
            q -= 1
        q += half
        q += v
    else:  # rnd_conv: + 1 when the quotient's floor is odd
        q = v >> d
        q &= 1
        q += half - 1
        q += v
    q >>= d
    return q


def _requantize_short(v: np.ndarray, d: int, vbits: int, width: int, signed: bool, quant: str,
                      overflow: str, span: tuple[int, int] | None = None) -> np.ndarray:
    """:func:`_requantize` for int64 ``v`` and a scalar shift whose every intermediate stays
    below 2^62: a biased shift, then a clip (or wrap), skipped when the bounds of v (its
    ``span``, else ±2^vbits), shifted and rounded alike, already fit the format."""
    lo_v, hi_v = span if span is not None else (-(1 << vbits), 1 << vbits)
    if d > 0:
        dr = min(d, vbits + 2)
        q = _round_shift(v, dr, quant)
        bounds = [int(_round_shift(np.int64(b), dr, quant)) for b in (lo_v, hi_v)]  # rounding is monotonic
    else:
        q, bounds = (v << -d if d else v), [lo_v << -d, hi_v << -d]
    lo, hi = _limits(width, signed, overflow)
    if lo <= bounds[0] and bounds[1] <= hi:
        return q
    if overflow == "wrap" and q.size and lo <= q.min() and q.max() <= hi:  # two reductions beat the wrap's passes
        return q
    return _overflow(q, width, signed, overflow)


def _limits(width: int, signed: bool, overflow: str) -> tuple[int, int]:
    """(lo, hi) raw codes of a format: symmetric under ``sat_sym``."""
    hi = (1 << (width - signed)) - 1
    return (-hi if signed and overflow == "sat_sym" and width > 1 else (-(1 << (width - 1)) if signed else 0)), hi


def _overflow(q: np.ndarray, width: int, signed: bool, overflow: str) -> np.ndarray:
    """Integer-valued ``q`` (int64, or exact floats) brought into the format by ``overflow``, as int64."""
    lo, hi = _limits(width, signed, overflow)
    if overflow == "wrap":
        return _wrap(q.astype(np.int64, copy=False), width, signed)
    if overflow == "sat_zero":
        q = np.where((q < lo) | (q > hi), 0, q)
    else:
        q = np.clip(q, lo, hi)
    return q.astype(np.int64, copy=False)


def _decode_float(x: np.ndarray, mant_bits: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(negative, mantissa, exponent, is_zero) with |x| read as mantissa·2^exponent the
    way the headers read it: the hidden bit is always set (so subnormals, inf and NaN
    decode as ordinary numbers) and only ±0 is special."""
    if mant_bits == 52:
        bits = np.asarray(x, dtype=np.float64).view(np.uint64)
        ebits, bias = 11, 1023
    else:
        bits = np.asarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
        ebits, bias = 8, 127
    neg = (bits >> np.uint64(mant_bits + ebits)) != 0
    exp_field = (bits >> np.uint64(mant_bits)) & np.uint64((1 << ebits) - 1)
    frac = bits & np.uint64((1 << mant_bits) - 1)
    man = (frac | np.uint64(1 << mant_bits)).astype(np.int64)
    exponent = exp_field.astype(np.int64) - (bias + mant_bits)
    zero = (exp_field == 0) & (frac == 0)
    return neg, man, exponent, zero


# ----------------------------------------------------------------------------- conversions

def from_float(x: Any, type_: QType) -> np.ndarray:
    """Raw values of ``type_`` for float32/float64 ``x``, as the header constructor computes them.

    Fixed types: the exact value of ``x`` (a float32 is widened to double first), rounded
    with the type's quantisation mode and then its overflow mode.  ``!qt.int``: the
    ``ap_int(double|float)`` rule, truncation toward zero then wrap, except that
    x in (−0.5, 0) gives +1 (a header bug that emitted code must avoid).  Bipolar:
    x >= 0 → +1 (−0.0 too), otherwise and NaN → −1.
    """
    x = np.asarray(x)
    if x.dtype not in (np.float32, np.float64):
        x = x.astype(np.float64)
    if isinstance(type_, BipolarType):
        return (x >= 0).astype(np.int64)
    if type_.is_int:
        return _canonical(_ap_int_from_float(x, type_), type_)
    x = x.astype(np.float64, copy=False)
    short = _from_float_short(x, type_)
    if short is not None:
        return short
    neg, man, exponent, zero = _decode_float(x, 52)
    v = np.where(neg, -man, man)
    raw = _requantize(v, -(exponent + type_.frac_bits), 53, type_.width, type_.signed, type_.quant,
                      type_.overflow)
    return _canonical(np.where(zero, 0, raw), type_)


_NORMAL_MIN = 2.0 ** -1022


def _from_float_short(x: np.ndarray, type_: FixedPointType) -> np.ndarray | None:
    """:func:`from_float` in float64 arithmetic, or None where that would not be exact: for
    formats of at most 52 bits and finite, normal ``x`` whose scaled values y = x·2^F stay
    normal and below 2^52.  Scaling by 2^F, floor(y), rint(y) and floor(y) + 0.5 are then
    exact, and rounding compares y with those."""
    if type_.width > 52 or x.size == 0:
        return None
    scale = 2.0 ** type_.frac_bits
    a = np.abs(x)
    top, least = float(a.max()) * scale, float(np.min(a, where=a > 0, initial=np.inf))
    if not (top < 2.0 ** 52 and (least == np.inf or (least >= _NORMAL_MIN and least * scale >= _NORMAL_MIN))):
        return None  # NaN, inf, subnormals or huge values: the header's decoding (below)
    y = x * scale
    quant = type_.quant
    if quant == "rnd_conv":
        q = np.rint(y)
    else:
        q = np.floor(y)
        if quant == "trn_zero":
            q += (y > q) & (y < 0)
        elif quant != "trn":
            mid = q + 0.5  # exact below 2^52 (y − q is not: −2^−54 − q loses bits)
            if quant == "rnd":
                q += y >= mid
            elif quant == "rnd_min_inf":
                q += y > mid
            else:  # ties away from (rnd_inf) / toward (rnd_zero) zero
                q += (y > mid) | ((y == mid) & ((y >= 0) if quant == "rnd_inf" else (y < 0)))
    return _overflow(q, type_.width, type_.signed, type_.overflow)


def _ap_int_from_float(x: np.ndarray, type_: FixedPointType) -> np.ndarray:
    mant_bits = 52 if x.dtype == np.float64 else 23
    neg, man, exponent, zero = _decode_float(x, mant_bits)
    mag = _requantize(man, -exponent, mant_bits + 1, type_.width, False, "trn", "wrap")
    val = _wrap(np.where(neg, -mag, mag), type_.width, type_.signed)
    quirk = neg & (exponent < -(mant_bits + 1))  # |x| < 0.5: the header sets −1, then negates it
    one = _wrap(np.ones_like(val), type_.width, type_.signed)
    return np.where(zero, 0, np.where(quirk, one, val))


def convert(v: Any, src: QType, dst: QType) -> np.ndarray:
    """Raw values of ``dst`` for raw values ``v`` of ``src`` (C++ ``dst y = x;``)."""
    if isinstance(dst, BipolarType):
        fv, _ = _as_fixed(v, src)
        return (np.asarray(fv) >= 0).astype(np.int64)
    v, src = _as_fixed(v, src)
    if dst.is_int:
        wide = dst.width > FAST_BITS or src.int_bits > FAST_BITS
        return _canonical(_wrap(_working(_int_value(v, src), wide), dst.width, dst.signed), dst)
    raw = _requantize(v, src.frac_bits - dst.frac_bits, src.width, dst.width, dst.signed, dst.quant,
                      dst.overflow, (src.min_raw, src.max_raw))
    return _canonical(raw, dst)


def _int_value(v: np.ndarray, src: FixedPointType) -> np.ndarray:
    """``to_ap_int_base()``: truncation toward zero (integer sources unchanged).

    A signed source with I = 0 gives −1 for every negative value, as the header does;
    with I < 0 the header reads uninitialised bits and this returns the true value 0.
    """
    f = src.frac_bits
    wide = src.width > FAST_BITS or src.int_bits > FAST_BITS
    v = _working(v, wide)
    if f <= 0:
        return v << -f
    mag = np.where(v < 0, -v, v) >> min(f, src.width + 1)
    t = np.where(v < 0, -mag, mag)
    if src.int_bits == 0 and src.signed:
        t = np.where(v < 0, -1, t)
    return t


def to_int(v: Any, type_: QType) -> np.ndarray:
    """The integer part toward zero, as ``to_ap_int_base()`` (``to_int()`` further wraps to 32 bits)."""
    fv, ft = _as_fixed(v, type_)
    out = _int_value(fv, ft)
    return _to_object(out) if max(ft.int_bits, 1) > 63 else _to_int64(out)


def to_float(v: Any, type_: QType, dtype: Any = np.float64) -> np.ndarray:
    """Values of raw ``v`` as float32/float64, rounded to nearest even (exact when representable).

    Follows IEEE (subnormals, ±inf on overflow); the header's ``to_float()`` agrees
    in the normal range and produces garbage outside it.
    """
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise TypeError(f"to_float: dtype must be float32 or float64, got {dtype}")
    fv, ft = _as_fixed(v, type_)
    prec, emin = (53, -1022) if dtype == np.float64 else (24, -126)
    fv = np.asarray(fv)
    f = ft.frac_bits
    if fv.dtype == object:
        m, k = _round_mantissa_object(fv, f, prec, emin)
    else:
        m, k = _round_mantissa_int64(_to_int64(fv), f, prec, emin)
    with np.errstate(over="ignore"):
        mag = np.ldexp(m.astype(np.float64), np.clip(k - f, -3000, 3000))
    out = np.where(np.asarray(fv < 0, dtype=bool), -mag, mag)
    with np.errstate(over="ignore"):
        return out.astype(dtype)


def _round_mantissa_int64(v: np.ndarray, f: int, prec: int, emin: int) -> tuple[np.ndarray, np.ndarray]:
    """|v| = m·2^k rounded to ``prec`` bits (subnormal grid below 2^emin), RNE."""
    a = np.abs(v).astype(np.uint64)
    bl = np.frexp(a.astype(np.float64))[1].astype(np.int64)  # may be one too large after rounding
    bl -= (bl > 0) & ((a >> np.maximum(bl - 1, 0).astype(np.uint64)) == 0)
    k = np.maximum(bl - prec, emin - (prec - 1) + f)
    kc = np.clip(k, 0, 63).astype(np.uint64)
    one = np.uint64(1)
    fl = a >> kc
    rem = a & ((one << kc) - one)
    half = (one << kc) >> one
    up = (rem > half) | ((rem == half) & (rem != 0) & ((fl & one) == one))
    m = np.where(k > 63, np.uint64(0), fl + up.astype(np.uint64))
    return m, np.maximum(k, 0)


def _round_mantissa_object(v: np.ndarray, f: int, prec: int, emin: int) -> tuple[np.ndarray, np.ndarray]:
    def one(x: int) -> tuple[int, int]:
        a = abs(int(x))
        k = max(a.bit_length() - prec, emin - (prec - 1) + f, 0)
        fl, rem, half = a >> k, a & ((1 << k) - 1), (1 << k) >> 1
        return fl + (rem > half or (rem == half and rem != 0 and fl & 1 == 1)), k

    m, k = np.frompyfunc(one, 1, 2)(v)
    return _to_int64(m), _to_int64(k)


# ----------------------------------------------------------------------------- hazards

def conversion_hazard(src: QType, dst: QType) -> str | None:
    """Why the header cannot be trusted for ``dst y = x;``, or None."""
    if conversion_trips_assert(src, dst):
        return (f"converting {src.cpp} to {dst.cpp} trips an assertion in ap_fixed_base "
                f"(rounding mode with F_src - F_dst > W_src); cast through an intermediate type")
    if isinstance(dst, IntType) and isinstance(src, FixedPointType) and not src.is_int and src.int_bits < 0:
        return f"converting {src.cpp} (I < 0) to {dst.cpp} reads uninitialised bits in the header"
    return None


# ----------------------------------------------------------------------------- arithmetic

def _align(v: np.ndarray, type_: FixedPointType, frac: int, wide: bool) -> np.ndarray:
    return _working(v, wide) << (frac - type_.frac_bits)


def add(a: Any, ta: QType, b: Any, tb: QType) -> tuple[np.ndarray, FixedPointType]:
    """Full-precision ``a + b``: (raw, result type)."""
    return _add_sub(a, ta, b, tb, subtract=False)


def sub(a: Any, ta: QType, b: Any, tb: QType) -> tuple[np.ndarray, FixedPointType]:
    """Full-precision ``a - b``: (raw, result type)."""
    return _add_sub(a, ta, b, tb, subtract=True)


def _add_sub(a: Any, ta: QType, b: Any, tb: QType, subtract: bool) -> tuple[np.ndarray, FixedPointType]:
    a, ta = _as_fixed(a, ta)
    b, tb = _as_fixed(b, tb)
    rt = ta.sub_type(tb) if subtract else ta.add_type(tb)
    wide = rt.width > FAST_BITS
    x, y = _align(a, ta, rt.frac_bits, wide), _align(b, tb, rt.frac_bits, wide)
    return _canonical(x - y if subtract else x + y, rt), rt


def mul(a: Any, ta: QType, b: Any, tb: QType) -> tuple[np.ndarray, QType]:
    """Full-precision ``a * b``: (raw, result type).

    bipolar × bipolar is XNOR (bipolar); bipolar × fixed is ±x in ``x``'s negation type.
    """
    if isinstance(ta, BipolarType) and isinstance(tb, BipolarType):
        return 1 - (_to_int64(a) ^ _to_int64(b)), ta
    if isinstance(ta, BipolarType) or isinstance(tb, BipolarType):
        (s, _), (x, tx) = ((a, ta), (b, tb)) if isinstance(ta, BipolarType) else ((b, tb), (a, ta))
        rt = tx.neg_type()
        xv = _working(x, rt.width > FAST_BITS)
        return _canonical(np.where(_to_int64(s) == 1, xv, -xv), rt), rt
    rt = ta.mul_type(tb)
    wide = rt.width > FAST_BITS
    return _canonical(_working(a, wide) * _working(b, wide), rt), rt


def neg(a: Any, ta: QType) -> tuple[np.ndarray, FixedPointType]:
    """Full-precision ``-a``: (raw, result type)."""
    a, ta = _as_fixed(a, ta)
    rt = ta.neg_type()
    return _canonical(-_working(a, rt.width > FAST_BITS), rt), rt


_COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "eq": np.equal, "ne": np.not_equal, "lt": np.less, "le": np.less_equal, "gt": np.greater,
    "ge": np.greater_equal,
}


def compare(op: str, a: Any, ta: QType, b: Any, tb: QType) -> np.ndarray:
    """Exact comparison ``a op b`` (op: eq, ne, lt, le, gt, ge) between any two types.

    The headers agree except where :func:`comparison_hazard` says otherwise.
    """
    a, ta = _as_fixed(a, ta)
    b, tb = _as_fixed(b, tb)
    frac = max(ta.frac_bits, tb.frac_bits)
    wide = max(ta.width + frac - ta.frac_bits, tb.width + frac - tb.frac_bits) > FAST_BITS
    result = _COMPARE[op](_align(a, ta, frac, wide), _align(b, tb, frac, wide))
    return np.asarray(result, dtype=bool)


def compared_widths(ta: FixedPointType, tb: FixedPointType) -> tuple[int, int]:
    """Widths of the two integers the header compares for C++ ``a op b`` once their
    binary points are aligned (``ap_fixed_base``'s OP_CMP_AF; ap_int counts as I = W)."""
    fa, fb = ta.frac_bits, tb.frac_bits
    if fa == fb:
        return ta.width, tb.width
    if fa > fb:
        return ta.width, max(tb.width + fa - fb, 1)
    return max(ta.width + fb - fa + 1, 1), tb.width


def comparison_hazard(ta: QType, tb: QType) -> str | None:
    """Why C++ ``a op b`` (``a`` of ``ta`` on the left) can differ from :func:`compare`, or None.

    After aligning the binary points the header compares the raw integers with
    ``ap_private``'s C-like rule: a signed and an unsigned operand compare as
    unsigned (a negative value is then larger than every unsigned one, and ``==``
    matches patterns modulo 2^width) when the unsigned integer is at least as wide as
    the signed one and at least 32 bits wide.  Verified against the headers in
    tests/runtime/test_fixed_properties.py (test_comparison_hazard, test_arithmetic_random).  Cast the
    unsigned operand to a signed type one bit wider to compare exactly.
    """
    if isinstance(ta, BipolarType) or isinstance(tb, BipolarType) or ta.signed == tb.signed:
        return None
    wa, wb = compared_widths(ta, tb)
    w_unsigned, w_signed = (wb, wa) if ta.signed else (wa, wb)
    if w_unsigned >= max(w_signed, 32):
        return (f"comparing {ta.cpp} with {tb.cpp} compares a {w_unsigned}-bit unsigned and a {w_signed}-bit "
                "signed integer as unsigned in ap_private; cast the unsigned operand to a wider signed type")
    return None


def shl(v: Any, type_: FixedPointType, n: int) -> np.ndarray:
    """``x << n`` (n >= 0): same type, high bits dropped (wrap, no saturation)."""
    keep = max(type_.width - n, 0)
    wide = type_.width > FAST_BITS
    return _canonical(_wrap((_working(v, wide) & ((1 << keep) - 1)) << min(n, type_.width), type_.width,
                            type_.signed), type_)


def shr(v: Any, type_: FixedPointType, n: int) -> np.ndarray:
    """``x >> n`` (n >= 0): same type, rounded toward −∞."""
    return _canonical(_working(v, type_.width > FAST_BITS) >> min(n, type_.width), type_)


# ----------------------------------------------------------------------------- reductions

def sum(v: Any, type_: QType, axis: int | None = None) -> tuple[np.ndarray, FixedPointType]:
    """Exact sum along ``axis`` (all if None) in ``type_.sum_type(n)``: ceil(log2 n) more bits."""
    fv, ft = _as_fixed(v, type_)
    fv = np.asarray(fv)
    n = fv.size if axis is None else fv.shape[axis]
    rt = ft.sum_type(max(n, 1))
    return _canonical(np.sum(_working(fv, rt.width > FAST_BITS), axis=axis), rt), rt


def dense_type(tx: FixedPointType, tw: FixedPointType, k: int, tb: FixedPointType | None = None) -> FixedPointType:
    """Type of :func:`dense`'s exact result: the sum of ``k`` products, plus the bias."""
    rt = tx.mul_type(tw).sum_type(max(k, 1))
    return rt if tb is None else rt.add_type(tb)


def gemm_dtype(tx: FixedPointType, tw: FixedPointType, k: int, tb: FixedPointType | None = None) -> Any:
    """The float type :func:`dense` runs its GEMM in, or None for integer arithmetic.

    Every partial sum of ``k`` products is an integer below 2^(W−1) (W: the sum type's
    width), so BLAS is exact in float32 below 24 bits (half the memory, twice the speed),
    in float64 below 53; the bias then joins in int64.
    """
    if dense_type(tx, tw, k, tb).width > FAST_BITS:
        return None
    width = dense_type(tx, tw, k).width
    if width <= _FLOAT32_EXACT_BITS:
        return np.float32
    return np.float64 if width <= _FLOAT_EXACT_BITS else None


def dense(x: Any, tx: FixedPointType, w: Any, tw: FixedPointType, b: Any = None,
          tb: FixedPointType | None = None) -> tuple[np.ndarray, FixedPointType]:
    """Exact ``x @ w (+ b)`` (x: [..., K], w: [K, N], b: [N]) and its type, :func:`dense_type`.

    ``x`` may already be of :func:`gemm_dtype` (floats holding the raw integers).
    """
    x, w = np.asarray(x), np.asarray(w)
    k = w.shape[0]
    rt = dense_type(tx, tw, k)
    out_t = dense_type(tx, tw, k, tb)
    ftype = gemm_dtype(tx, tw, k, tb)
    if ftype is not None:  # one GEMM (not a stack of row products), the bias added in place
        acc = (x.reshape(-1, k).astype(ftype, copy=False) @ _to_int64(w).astype(ftype)).astype(np.int64)
        if b is not None and tb is not None:
            acc <<= out_t.frac_bits - rt.frac_bits
            acc += _to_int64(b) << (out_t.frac_bits - tb.frac_bits)
        return acc.reshape(*x.shape[:-1], w.shape[1]), out_t
    if rt.width <= FAST_BITS:
        acc = _canonical(_to_int64(x) @ _to_int64(w), rt)
    else:
        acc = _canonical(_limb_matmul(_to_object(x), _to_object(w), k), rt)
    if b is None or tb is None:
        return acc, rt
    return add(acc, rt, b, tb)


_LIMB = 24
_FLOAT_EXACT_BITS = 53
_FLOAT32_EXACT_BITS = 24


def _limbs(v: np.ndarray) -> list[np.ndarray]:
    """int64 limbs of 24 bits, least significant first; the top limb carries the sign."""
    bits = max(int(np.max(np.abs(v), initial=0)).bit_length() + 1, 1)
    count = -(-bits // _LIMB)
    mask = (1 << _LIMB) - 1
    parts = [_to_int64((v >> (_LIMB * i)) & mask) for i in range(count - 1)]
    return [*parts, _to_int64(v >> (_LIMB * (count - 1)))]


def _limb_matmul(x: np.ndarray, w: np.ndarray, k: int) -> np.ndarray:
    """Exact ``x @ w`` of wide integers: int64 matmuls of 24-bit limbs, summed as Python ints."""
    if k == 0 or k >= 1 << (FAST_BITS - 2 * _LIMB - 1):
        return x @ w
    xl, wl = _limbs(x), _limbs(w)
    out = None
    for i, xi in enumerate(xl):
        for j, wj in enumerate(wl):
            part = (xi @ wj).astype(object) << (_LIMB * (i + j))
            out = part if out is None else out + part
    return out


# ----------------------------------------------------------------------------- exact helpers

def widen(v: Any, src: QType, dst: FixedPointType) -> np.ndarray:
    """Raw values of ``dst`` for the same values as raw ``v`` of ``src``, with no rounding.

    ``dst`` must have at least ``src``'s fractional bits (a bipolar source counts as
    ``ap_int<2>``) and room for every value: nothing is rounded or checked for overflow.
    """
    fv, ft = _as_fixed(v, src)
    shift = dst.frac_bits - ft.frac_bits
    if shift < 0:
        raise ValueError(f"widen: {dst} has fewer fractional bits than {ft}")
    return _canonical(_working(fv, dst.width > FAST_BITS) << shift, dst)


def convert_quotient(v: Any, src: QType, n: Any, dst: QType) -> np.ndarray:
    """Raw values of ``dst`` for the exact rational (v·2^−F_src) / n, n a positive integer
    (an int or an integer array broadcasting with ``v``).

    Rounded once, by ``dst``'s quantisation mode, then ``dst``'s overflow mode applies to
    the rounded integer, as :func:`convert` does for a fixed source.  Into ``!qt.int``:
    truncation toward zero, then wrap.  Into bipolar: value >= 0 → +1.
    """
    fv, ft = _as_fixed(v, src)
    fv, n = np.asarray(fv), np.asarray(n)
    if n.size and int(np.min(n)) < 1:
        raise ValueError("convert_quotient: the divisor must be a positive integer")
    if isinstance(dst, BipolarType):
        return np.broadcast_to(fv >= 0, np.broadcast_shapes(fv.shape, n.shape)).astype(np.int64)
    quant, overflow = ("trn_zero", "wrap") if dst.is_int else (dst.quant, dst.overflow)
    # value·2^F_dst = N / D with N = v·2^max(−d, 0) and D = n·2^max(d, 0), d = F_src − F_dst;
    # d beyond W_src + 1 leaves |N / D| <= 1/4, where every mode decides alike, so clamp it.
    d = min(ft.frac_bits - dst.frac_bits, ft.width + 1)
    nbits = int(np.max(n, initial=1)).bit_length()
    nbits_total = ft.width + max(-d, 0) + max(d, 0) + nbits + 2
    wide = nbits_total > FAST_BITS
    num = _working(fv, wide) << max(-d, 0)
    den = _working(n, wide) << max(d, 0)
    q = num // den
    rem = num - q * den
    q = q + _round_increment(num, q, 2 * rem, den, quant)
    raw = _requantize(q, 0, ft.width + max(-d, 0) + 1, dst.width, dst.signed, "trn", overflow)
    return _canonical(raw, dst)
