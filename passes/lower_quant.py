"""Lowerings of the QONNX quantisers: the scale becomes the fixed-point type.

``Quant`` with power-of-two scales and zero-point 0 is a conversion to
``fixed<b, b+k, Q, SAT|SAT_SYM>`` (scale 2^k; NUMERICS.md §1), per tensor a single
``qt.cast``, per channel a multiply by 2^-k_c, a cast to integer codes and a multiply
by 2^k_c (all exact).  Integer zero-points are added before rounding and subtracted
after.  Other scales are approximated by an explicit rescale with 24-bit constants and
a warning stating the worst-case error (an error under ``--strict``).
"""

from __future__ import annotations

import math

import numpy as np

from fmlc.dialects import qt
from fmlc.passes.onnx_to_qt import Const, Converter, Lowered, log2_exact, lowering, tensor
from fmlc.passes.precision import type_for_range

# QONNX rounding mode -> ap_fixed quantisation mode (NUMERICS.md §1)
ROUNDING = {"ROUND": "rnd_conv", "HALF_EVEN": "rnd_conv", "FLOOR": "trn", "DOWN": "trn_zero",
            "HALF_UP": "rnd_inf", "HALF_DOWN": "rnd_zero"}
RESCALE_BITS = 24


def _mode(conv: Converter, rounding: str) -> str:
    mode = ROUNDING.get(rounding.upper())
    if mode is None:
        raise conv.error(f"rounding_mode '{rounding}' is not supported "
                         f"(supported: {', '.join(sorted(ROUNDING))})")
    return mode


def _scalar_int(conv: Converter, v, what: str) -> int:
    arr = conv.const_array(v, what)
    if arr.size != 1 or float(arr.ravel()[0]) != int(arr.ravel()[0]):
        raise conv.error(f"{what} must be a scalar integer, got {arr.ravel()[:4]}")
    return int(arr.ravel()[0])


def _code_range(bits: int, signed: bool, narrow: bool) -> tuple[int, int]:
    if signed:
        return -(1 << (bits - 1)) + narrow, (1 << (bits - 1)) - 1
    return 0, (1 << bits) - 1 - narrow


def _rounded_to_codes(conv: Converter, lw: Lowered, bits: int, signed: bool, narrow: bool, quant: str,
                      frac: int) -> Lowered:
    """``lw`` rounded (mode ``quant``) onto the grid 2^-frac and clamped to the integer code range."""
    lo, hi = _code_range(bits, signed, narrow)
    overflow = "sat_sym" if signed and narrow else "sat"
    t = qt.fixed(bits, bits - frac, signed, quant, overflow)
    out = conv.cast(lw, t, exact=lw.exact)
    if not signed and narrow:  # ap_ufixed has no narrow mode: clamp the top code
        v = _clip_scaled(conv, out, hi, frac, qt.fixed(bits, bits - frac, signed))
        out = Lowered(v, out.perm, out.exact)
    return out


def _clip_scaled(conv: Converter, lw: Lowered, top_code: int, frac: int, element: qt.FixedPointType):
    t = qt.fixed(lw.type.width, lw.type.int_bits, False)  # type: ignore[union-attr]
    top = conv.const_value(np.array(top_code), t)
    low = conv.const_value(np.array(0), t)
    return conv.emit1(qt.ClipOp, input=lw.value, min=low, max=top, output=tensor(lw.shape, element))


def _ceil_via_negation(conv: Converter, lw: Lowered, bits: int, signed: bool, narrow: bool,
                       frac: int) -> Lowered:
    """CEIL rounding: -floor(-x), with the clamp applied to the negated range."""
    neg = _negate(conv, lw)
    lo, hi = _code_range(bits, signed, narrow)
    wide = type_for_range(-hi, -lo, 0)
    q = conv.cast(neg, qt.fixed(wide.width + 1, wide.width + 1 - frac, True, "trn", "sat"))
    back = _negate(conv, q)
    return _rounded_to_codes(conv, back, bits, signed, narrow, "trn", frac)


def _negate(conv: Converter, lw: Lowered) -> Lowered:
    minus_one = conv.const_value(np.array(-1), qt.fixed(1, 1))
    t = lw.type.mul_type(qt.fixed(1, 1))  # type: ignore[union-attr]
    v = conv.emit1(qt.MulOp, lhs=lw.value, rhs=minus_one, output=tensor(lw.shape, t))
    return Lowered(v, lw.perm, lw.exact)


@lowering("Quant", "IntQuant")
def quant(conv: Converter, op) -> Lowered:
    x, s_v, z_v, b_v = op.operands
    scale = np.asarray(conv.const_array(s_v, "the scale"), dtype=np.float32)
    zero = np.asarray(conv.const_array(z_v, "the zero-point"), dtype=np.float32)
    bits = _scalar_int(conv, b_v, "the bit width")
    signed, narrow = bool(op.attr("signed")), bool(op.attr("narrow"))
    rounding = str(op.attr("rounding_mode")).upper()
    if bits < 1:
        raise conv.error(f"bit width {bits} is not supported")
    if bits == 1 and signed:
        if np.any(zero != 0):
            raise conv.error("a 1-bit signed (bipolar) Quant with a zero-point is not supported")
        return _bipolar_scaled(conv, x, scale)
    ks = [log2_exact(float(s)) for s in scale.ravel()]
    po2 = all(k is not None for k in ks)
    zero_int = bool(np.all(zero == np.round(zero)))
    if not zero_int:
        raise conv.error("a non-integer zero-point is not supported")
    if rounding == "UP":
        raise conv.error("rounding_mode 'UP' (away from zero) is not supported")
    if conv.is_graph_input(x) and (not po2 or np.any(zero != 0) or scale.size > 1 or rounding == "CEIL"):
        conv.warn(f"this quantiser on a float graph input is applied after the input enters at "
                  f"{_type_text(conv.config.input(x.name_hint or ''))} (set [input.NAME] precision in the config)")
    if not po2 or np.any(zero != 0):
        return _rescale(conv, op, x, scale, zero, bits, signed, narrow, rounding)
    if rounding == "CEIL":
        quant_mode = "ceil"
    else:
        quant_mode = _mode(conv, rounding)
    if scale.size == 1:
        k = ks[0]
        frac = -k
        if conv.is_graph_input(x) and quant_mode != "ceil":
            lo, hi = _code_range(bits, signed, narrow)
            t = qt.fixed(bits, bits - frac, signed, quant_mode, "sat_sym" if signed and narrow else "sat")
            lw = conv.input(x, t, exact=True)
            if not signed and narrow:
                v = _clip_scaled(conv, lw, hi, frac, qt.fixed(bits, bits - frac, False))
                lw = Lowered(v, lw.perm, True)
            return lw
        lw = conv.materialise(conv.runtime(x))
        if quant_mode == "ceil":
            return _ceil_via_negation(conv, lw, bits, signed, narrow, frac)
        return _rounded_to_codes(conv, lw, bits, signed, narrow, quant_mode, frac)
    # per-channel powers of two: x * 2^-k_c -> integer codes -> * 2^k_c
    lw = conv.materialise(conv.runtime(x))
    inv = (1.0 / scale.astype(np.float64))
    codes = conv.with_const(qt.MulOp, lw, inv)
    if quant_mode == "ceil":
        q = _ceil_via_negation(conv, codes, bits, signed, narrow, 0)
    else:
        q = _rounded_to_codes(conv, codes, bits, signed, narrow, quant_mode, 0)
    return conv.with_const(qt.MulOp, q, scale.astype(np.float64))


def _bipolar_scaled(conv: Converter, x, scale: np.ndarray) -> Lowered:
    lw = conv.runtime(x, as_type=qt.fixed(2, 2, True, "trn", "sat")) if conv.is_graph_input(x) \
        else conv.runtime(x)
    lw = conv.materialise(lw)
    bit = conv.cast(lw, qt.BipolarType(), exact=lw.exact)
    if np.all(scale == 1):
        return bit
    return conv.with_const(qt.MulOp, conv.materialise(bit), scale.astype(np.float64))


@lowering("BipolarQuant")
def bipolar_quant(conv: Converter, op) -> Lowered:
    x, s_v = op.operands
    return _bipolar_scaled(conv, x, np.asarray(conv.const_array(s_v, "the scale"), dtype=np.float32))


def _rescale(conv: Converter, op, x, scale: np.ndarray, zero: np.ndarray, bits: int, signed: bool, narrow: bool,
             rounding: str) -> Lowered:
    """Non-power-of-two scale or a zero-point: x·(1/s) + z, rounded and clamped, minus z, times s."""
    exact_scales = all(log2_exact(float(s)) is not None for s in scale.ravel())
    if rounding == "CEIL":
        raise conv.error("rounding_mode 'CEIL' with a zero-point or non-power-of-two scale is not supported")
    quant_mode = _mode(conv, rounding)
    lw = conv.materialise(conv.runtime(x))
    s64 = scale.astype(np.float64)
    inv = _round_significant(1.0 / s64, RESCALE_BITS)
    s_c = _round_significant(s64, RESCALE_BITS)
    lo, hi = _code_range(bits, signed, narrow)
    if not exact_scales:
        xmax = float(max(abs(lw.type.min), abs(lw.type.max)))  # type: ignore[union-attr]
        err_code = xmax * float(np.max(np.abs(inv - 1.0 / s64)))
        err = float(np.max(s64)) * (1 + math.ceil(err_code)) + max(abs(lo), abs(hi)) * float(
            np.max(np.abs(s_c - s64)))
        conv.warn(f"scale {_show(scale)} is not a power of two: rescaled with {RESCALE_BITS}-bit constants; "
                  f"worst-case error {err:.3g} (one quantisation step plus constant rounding)")
    t = conv.with_const(qt.MulOp, lw, inv)
    if np.any(zero != 0):
        t = conv.with_const(qt.AddOp, t, zero.astype(np.float64))
    codes = type_for_range(lo, hi, 0, quant_mode, "sat")
    q = conv.cast(t, codes)
    if codes.min_raw != lo or codes.max_raw != hi:
        lo_c = conv.const_value(np.array(lo), type_for_range(lo, lo, 0))
        hi_c = conv.const_value(np.array(hi), type_for_range(hi, hi, 0))
        v = conv.emit1(qt.ClipOp, input=q.value, min=lo_c, max=hi_c, output=tensor(q.shape, codes.with_modes()))
        q = Lowered(v, q.perm, q.exact)
    if np.any(zero != 0):
        q = conv.with_const(qt.SubOp, q, zero.astype(np.float64))
    out = conv.with_const(qt.MulOp, q, s_c)
    return Lowered(out.value, out.perm, out.exact and exact_scales)


def _type_text(t) -> str:
    from fmlc.compiler.printer import format_type

    return format_type(t)


def _round_significant(x: np.ndarray, bits: int) -> np.ndarray:
    m, e = np.frexp(np.asarray(x, dtype=np.float64))
    return np.ldexp(np.round(m * 2.0**bits), e - bits)


def _show(a: np.ndarray) -> str:
    flat = a.ravel()
    return str(float(flat[0])) if flat.size == 1 else f"[{', '.join(f'{float(v):g}' for v in flat[:3])}, ...]"


@lowering("Trunc")
def trunc(conv: Converter, op) -> Lowered:
    """Trunc v2 (6 inputs) and v1 (5 inputs), NUMERICS.md §1."""
    x, s_v, z_v, in_bw_v, *rest = op.operands
    scale = np.asarray(conv.const_array(s_v, "the scale"), dtype=np.float32)
    zero = np.asarray(conv.const_array(z_v, "the zero-point"), dtype=np.float32)
    k = log2_exact(float(scale.ravel()[0])) if scale.size == 1 else None
    if k is None or np.any(zero != 0):
        raise conv.error("Trunc is supported with a scalar power-of-two scale and zero-point 0")
    quant_mode = _mode(conv, str(op.attr("rounding_mode")))
    lw = conv.materialise(conv.runtime(x))
    grid = lw.type  # RNE(x/s): x normally lies on the s grid already; round onto it exactly if not
    if grid.frac_bits > -k:  # type: ignore[union-attr]
        lw = conv.cast(lw, qt.fixed(grid.int_bits + 1 - k, grid.int_bits + 1, True, "rnd_conv"))  # type: ignore
    on_grid = lw
    if len(rest) == 2:  # v2: out_scale, out_bw
        out_scale = np.asarray(conv.const_array(rest[0], "the output scale"), dtype=np.float32)
        out_bits = _scalar_int(conv, rest[1], "the output bit width")
        ko = log2_exact(float(out_scale.ravel()[0])) if out_scale.size == 1 else None
        if ko is None:
            raise conv.error("Trunc is supported with a scalar power-of-two output scale")
        return _rounded_to_codes(conv, on_grid, out_bits, bool(op.attr("signed")), bool(op.attr("narrow")),
                                 quant_mode, -ko)
    in_bits = _scalar_int(conv, in_bw_v, "the input bit width")
    out_bits = _scalar_int(conv, rest[0], "the output bit width")
    d = in_bits - out_bits
    down = conv.with_const(qt.MulOp, on_grid, np.array(2.0 ** -d))  # code / 2^d, exact
    t = down.type
    return conv.cast(down, qt.fixed(max(t.int_bits + 1 - k, 1), t.int_bits + 1, True, quant_mode, "wrap"))


@lowering("MultiThreshold")
def multithreshold(conv: Converter, op) -> Lowered:
    x, t_v = op.operands
    thresholds = np.asarray(conv.const_array(t_v, "the thresholds"), dtype=np.float64)
    lw = conv.materialise(conv.runtime(x))
    rank = len(lw.shape)
    layout = op.attr("data_layout")
    if layout:
        axis = str(layout).upper().index("C")
    else:
        axis = 1 if rank in (2, 4) else rank - 1 if rank == 3 else 1
    qaxis = (lw.perm or tuple(range(rank))).index(axis)
    t = lw.type
    raw = np.ceil(thresholds * 2.0 ** t.frac_bits)  # x >= T  <=>  raw(x) >= ceil(T·2^F)
    if np.any(raw < t.min_raw) or np.any(raw > t.max_raw):
        wider = qt.fixed(t.width + 1, t.int_bits + 1, True)
        lw = conv.cast(lw, wider)
        t = wider
        raw = np.clip(raw, t.min_raw, t.max_raw)
    th = conv.const_value(raw.astype(np.int64), t.with_modes())
    bins = thresholds.shape[-1]
    count_t = qt.integer(max(bins, 1).bit_length(), False)
    v = conv.emit1(qt.ThresholdOp, input=lw.value, thresholds=th, axis=_int(qaxis),
                   output=tensor(lw.shape, count_t))
    out = Lowered(v, lw.perm, lw.exact)
    out_scale, out_bias = float(op.attr("out_scale")), float(op.attr("out_bias"))
    if out_scale != 1.0:  # a float32 constant, multiplied exactly
        out = conv.with_const(qt.MulOp, out, np.array(out_scale))
    if out_bias != 0.0:
        out = conv.with_const(qt.AddOp, out, np.array(out_bias))
    return out


def _int(v: int):
    from fmlc.compiler.attributes import IntegerAttr

    return IntegerAttr(int(v))


__all__ = ["Const", "quant", "bipolar_quant", "trunc", "multithreshold"]
