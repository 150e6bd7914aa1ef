"""Lowerings of the compute layers: dense, convolution, pooling, normalisation,
elementwise arithmetic and activations.

Quantised weights (a folded quantiser) and every bias take the narrowest exact
fixed type; float weights take the layer's ``weight`` precision (rounded to
nearest).  Accumulators get the full exact type here, and ``qt-infer-precision``
narrows them from the actual weights.  A layer whose result is approximate (float
weights, tables, normalisation) ends in a cast to its ``result`` precision.
"""

from __future__ import annotations

import math

import numpy as np

from fmlc.compiler.attributes import ArrayAttr, FloatAttr, IntegerAttr, StringAttr
from fmlc.dialects import qt
from fmlc.passes.onnx_to_qt import Const, Converter, Lowered, lowering, tensor
from fmlc.passes.precision import exact_type, union_type
from fmlc.passes.tables import DEFAULT_OUTPUT, DEFAULT_RANGE, build_table


def _ints(values) -> ArrayAttr:
    return ArrayAttr(IntegerAttr(int(v)) for v in values)


def _weights(conv: Converter, c: Const, array: np.ndarray) -> tuple[object, qt.FixedPointType, bool]:
    """(qt value, element type, exact) of a weight tensor."""
    found = exact_type(array) if c.quantised else None
    if found is not None:
        t, raw = found
        return conv.const_value(raw, t), t, True
    t = conv.layer().weight
    v, _ = conv.rounded_const(array, t)
    return v, t, False


def _bias(conv: Converter, array: np.ndarray, exact_layer: bool) -> tuple[object, qt.FixedPointType]:
    if exact_layer:
        found = exact_type(array)
        if found is not None:
            t, raw = found
            return conv.const_value(raw, t), t
    t = conv.layer().bias
    v, _ = conv.rounded_const(array, t)
    return v, t


def _acc_type(x: qt.FixedPointType, w: qt.FixedPointType, k: int, b: qt.FixedPointType | None):
    acc = x.mul_type(w).sum_type(max(k, 1))
    return acc.add_type(b) if b is not None else acc


# ----------------------------------------------------------------------------- dense

def _dense(conv: Converter, x: Lowered, w_arr: np.ndarray, w_const: Const, b_arr: np.ndarray | None) -> Lowered:
    """x [..., K] @ W [K, N] (+ b [N])."""
    x = conv.materialise(x)
    w_v, w_t, w_exact = _weights(conv, w_const, w_arr)
    exact = x.exact and w_exact
    b_v, b_t = _bias(conv, b_arr, exact) if b_arr is not None else (None, None)
    out_t = _acc_type(x.type, w_t, w_arr.shape[0], b_t)  # type: ignore[arg-type]
    shape = (*x.shape[:-1], w_arr.shape[1])
    v = conv.emit1(qt.DenseOp, input=x.value, weight=w_v, bias=b_v, output=tensor(shape, out_t))
    return conv.finish_layer(Lowered(v, None, exact))


def _bipolar_dense(conv: Converter, x: Lowered, w_arr: np.ndarray) -> Lowered | None:
    """A bipolar input times ±c weights: XNOR-popcount, then the scale."""
    if not isinstance(x.type, qt.BipolarType):
        return None
    mag = np.abs(w_arr)
    if mag.size == 0 or not np.all(mag == mag.ravel()[0]) or mag.ravel()[0] == 0:
        return None
    bits = (w_arr > 0).astype(np.int64)
    w_v = conv.const_value(bits, qt.BipolarType())
    k = w_arr.shape[0]
    out_t = qt.integer(max(k, 1).bit_length() + 1)
    v = conv.emit1(qt.BipolarDenseOp, input=x.value, weight=w_v, output=tensor((*x.shape[:-1], w_arr.shape[1]),
                                                                                  out_t))
    out = Lowered(v, None, x.exact)
    c = float(mag.ravel()[0])
    return conv.with_const(qt.MulOp, out, np.array(c)) if c != 1.0 else out


@lowering("Gemm")
def gemm(conv: Converter, op) -> Lowered:
    a_v, b_v, *c_v = op.operands
    if conv.const(b_v) is None:
        raise conv.error("Gemm with a non-constant B is not supported")
    b_c = conv.const(b_v)
    w = np.asarray(b_c.array, dtype=np.float64)
    if op.attr("transB"):
        w = w.T
    alpha, beta = float(op.attr("alpha")), float(op.attr("beta"))
    if alpha != 1.0:
        w = w * alpha
    x = conv.onnx_order(conv.runtime(a_v))
    if op.attr("transA"):
        x = conv.in_layout(x, (1, 0))
        x = Lowered(x.value, None, x.exact)
    bias = None
    c_const = conv.const(c_v[0]) if c_v and conv.item(c_v[0]) is not None else None
    runtime_c = c_v and conv.item(c_v[0]) is not None and c_const is None
    if c_const is not None:
        c = np.asarray(c_const.array, dtype=np.float64) * beta
        full = np.broadcast_to(c, (x.shape[0], w.shape[1]))
        if np.all(full == full[:1]):
            bias = full[0].copy()
        else:
            raise conv.error("Gemm with a per-row C is not supported")
    out = _bipolar_dense(conv, x, w) if bias is None and not runtime_c else None
    if out is None:
        out = _dense(conv, x, w, Const(w, b_c.quantised), bias)
    if runtime_c:
        out = _binary(conv, qt.AddOp, out, conv.runtime(c_v[0]))
    return out


@lowering("MatMul")
def matmul(conv: Converter, op) -> Lowered:
    a_v, b_v = op.operands
    b_c = conv.const(b_v)
    if b_c is None or b_c.array.ndim != 2:
        raise conv.error("MatMul is supported with a constant 2-D right operand")
    x = conv.onnx_order(conv.runtime(a_v))
    w = np.asarray(b_c.array, dtype=np.float64)
    add, bias = _bias_add(conv, op, w.shape[1])
    out = _bipolar_dense(conv, x, w) if bias is None else None
    out = out or _dense(conv, x, w, b_c, bias)
    if add is not None:
        conv.items[add.results[0]] = out
    return out


def _bias_add(conv: Converter, op, n: int):
    """The Add of a constant vector that alone consumes ``op``'s result: it becomes the bias."""
    from fmlc.dialects.onnx import OPS

    users = op.results[0].users
    if len(users) != 1 or not isinstance(users[0], OPS["Add"]):
        return None, None
    add = users[0]
    other = [v for v in add.operands if v is not op.results[0]]
    c = conv.const(other[0]) if len(other) == 1 else None
    if c is None or c.array.size != n or c.array.ndim > len(op.results[0].type.shape) or (
            c.array.ndim and c.array.shape[-1] != n):
        return None, None
    return add, np.asarray(c.array, np.float64).reshape(n)


# ----------------------------------------------------------------------------- convolution

def channels_last(rank: int) -> tuple[int, ...]:
    return (0, *range(2, rank), 1)


def _pads(conv: Converter, op, spatial, kernel, strides, dilations) -> list[int]:
    auto = str(op.attr("auto_pad") or "NOTSET")
    ns = len(spatial)
    if auto in ("NOTSET", ""):
        pads = op.attr("pads") or [0] * (2 * ns)
        return [int(p) for p in pads]
    if auto == "VALID":
        return [0] * (2 * ns)
    if auto not in ("SAME_UPPER", "SAME_LOWER"):
        raise conv.error(f"auto_pad '{auto}' is not supported")
    begins, ends = [], []
    for s, k, st, d in zip(spatial, kernel, strides, dilations, strict=True):
        out = -(-s // st)
        total = max((out - 1) * st + (k - 1) * d + 1 - s, 0)
        small = total // 2
        begins.append(small if auto == "SAME_UPPER" else total - small)
        ends.append(total - begins[-1])
    return begins + ends


@lowering("Conv")
def convolution(conv: Converter, op) -> Lowered:
    x_v, w_v, *b_v = op.operands
    w_c = conv.const(w_v)
    if w_c is None:
        raise conv.error("Conv with non-constant weights is not supported")
    w = np.asarray(w_c.array, dtype=np.float64)  # [OC, C/g, *K]
    rank = w.ndim
    if rank not in (3, 4):
        raise conv.error(f"{rank - 2}-D convolution is not supported (1-D and 2-D are)")
    ns = rank - 2
    x = conv.materialise(conv.runtime(x_v, channels_last(rank)))
    spatial = x.shape[1:-1]
    kernel = w.shape[2:]
    strides = op.attr("strides") or [1] * ns
    dilations = op.attr("dilations") or [1] * ns
    pads = _pads(conv, op, spatial, kernel, strides, dilations)
    groups = int(op.attr("group"))
    w_cl = np.transpose(w, (*range(2, rank), 1, 0))  # [*K, C/g, OC]
    w_val, w_t, w_exact = _weights(conv, w_c, w_cl)
    exact = x.exact and w_exact
    b_val, b_t = (None, None)
    bias_c = conv.const(b_v[0]) if b_v and conv.item(b_v[0]) is not None else None
    if b_v and conv.item(b_v[0]) is not None and bias_c is None:
        raise conv.error("Conv with a non-constant bias is not supported")
    if bias_c is not None:
        b_val, b_t = _bias(conv, np.asarray(bias_c.array, dtype=np.float64), exact)
    k_total = int(np.prod(kernel)) * w.shape[1]
    out_t = _acc_type(x.type, w_t, k_total, b_t)  # type: ignore[arg-type]
    out_spatial = [(s + pads[i] + pads[i + ns] - d * (k - 1) - 1) // st + 1
                   for i, (s, k, st, d) in enumerate(zip(spatial, kernel, strides, dilations, strict=True))]
    shape = (x.shape[0], *out_spatial, w.shape[0])
    v = conv.emit1(qt.ConvOp, input=x.value, weight=w_val, bias=b_val, strides=_ints(strides),
                   dilations=_ints(dilations), pads=_ints(pads), groups=IntegerAttr(groups),
                   output=tensor(shape, out_t))
    return conv.finish_layer(Lowered(v, channels_last(rank), exact))


# ----------------------------------------------------------------------------- pooling

def _pool_geometry(conv: Converter, op, spatial):
    ns = len(spatial)
    kernel = list(op.attr("kernel_shape"))
    strides = op.attr("strides") or [1] * ns
    dilations = op.attr("dilations") or [1] * ns
    pads = _pads(conv, op, spatial, kernel, strides, dilations)
    if op.attr("ceil_mode"):  # extend the end padding so the floor formula gives the ceil one
        for i, (s, k, st, d) in enumerate(zip(spatial, kernel, strides, dilations, strict=True)):
            eff = (k - 1) * d + 1
            total = s + pads[i] + pads[i + ns] - eff
            out = -(-total // st) + 1
            if (out - 1) * st >= s + pads[i]:  # the last window must start inside the input
                out -= 1
            pads[i + ns] += max((out - 1) * st + eff - (s + pads[i] + pads[i + ns]), 0)
    out = [(s + pads[i] + pads[i + ns] - d * (k - 1) - 1) // st + 1
           for i, (s, k, st, d) in enumerate(zip(spatial, kernel, strides, dilations, strict=True))]
    return kernel, strides, dilations, pads, out


def _pool(conv: Converter, op, x_v, kind: str, global_: bool) -> Lowered:
    rank = len(op.operands[0].type.shape)
    x = conv.materialise(conv.runtime(x_v, channels_last(rank)))
    spatial = list(x.shape[1:-1])
    ns = len(spatial)
    if global_:
        kernel, strides, dilations, pads, out = spatial, [1] * ns, [1] * ns, [0] * (2 * ns), [1] * ns
    else:
        if len(op.results) > 1 and op.results[1].has_uses():
            raise conv.error("MaxPool's Indices output is not supported")
        kernel, strides, dilations, pads, out = _pool_geometry(conv, op, spatial)
    shape = (x.shape[0], *out, x.shape[-1])
    common = {"kernel": _ints(kernel), "strides": _ints(strides), "dilations": _ints(dilations),
              "pads": _ints(pads)}
    if kind == "max":
        v = conv.emit1(qt.MaxPoolOp, input=x.value, output=tensor(shape, x.type), **common)
        return Lowered(v, channels_last(rank), x.exact)
    include = bool(op.attr("count_include_pad")) if not global_ else False
    if any(d != 1 for d in dilations):
        raise conv.error("AveragePool with dilations is not supported")
    counts = _window_counts(spatial, kernel, strides, pads, out, include)
    n = int(np.prod(kernel))
    po2 = all(c & (c - 1) == 0 for c in counts)
    extra = max(c.bit_length() - 1 for c in counts) if po2 else max(math.ceil(math.log2(n)) + 8, 8)
    t = x.type
    out_t = qt.fixed(t.width + extra, t.int_bits, t.signed, "rnd_conv" if not po2 else "trn")
    v = conv.emit1(qt.AvgPoolOp, input=x.value, count_include_pad=IntegerAttr(int(include)),
                   output=tensor(shape, out_t), **common)
    res = Lowered(v, channels_last(rank), x.exact and po2)
    return conv.finish_layer(res)


def _window_counts(spatial, kernel, strides, pads, out, include: bool) -> set[int]:
    ns = len(spatial)
    per_axis = []
    for i in range(ns):
        counts = set()
        for o in range(out[i]):
            start = o * strides[i] - pads[i]
            end = start + kernel[i]
            counts.add(kernel[i] if include else min(end, spatial[i]) - max(start, 0))
        per_axis.append(counts)
    total = {1}
    for counts in per_axis:
        total = {a * b for a in total for b in counts}
    return total


@lowering("MaxPool")
def max_pool(conv: Converter, op):
    return [_pool(conv, op, op.operands[0], "max", False), None]


@lowering("AveragePool")
def avg_pool(conv: Converter, op) -> Lowered:
    return _pool(conv, op, op.operands[0], "avg", False)


@lowering("GlobalMaxPool")
def global_max_pool(conv: Converter, op) -> Lowered:
    return _pool(conv, op, op.operands[0], "max", True)


@lowering("GlobalAveragePool")
def global_avg_pool(conv: Converter, op) -> Lowered:
    return _pool(conv, op, op.operands[0], "avg", True)


@lowering("BatchNormalization")
def batch_norm(conv: Converter, op) -> Lowered:
    """y = x·a + c per channel, a = γ/√(var+ε), c = β − mean·a, with a and c rounded to float32."""
    x_v, *params = op.operands
    gamma, beta, mean, var = (np.asarray(conv.const_array(p, "BatchNormalization parameters"), np.float64)
                              for p in params)
    eps = float(op.attr("epsilon"))
    a = gamma / np.sqrt(var + eps)
    c = beta - mean * a
    a32, c32 = a.astype(np.float32).astype(np.float64), c.astype(np.float32).astype(np.float64)
    x = conv.materialise(conv.runtime(x_v))
    rank = len(x.shape)
    shape = [1] * rank
    shape[1] = -1
    xmax = float(max(abs(x.type.min), abs(x.type.max)))
    y = conv.with_const(qt.MulOp, x, a32.reshape(shape))
    y = conv.with_const(qt.AddOp, y, c32.reshape(shape))
    ymax = xmax * float(np.max(np.abs(a))) + float(np.max(np.abs(c)))
    err = xmax * float(np.max(np.abs(a32 - a))) + float(np.max(np.abs(c32 - c))) + ymax * 2.0**-23
    conv.warn(f"BatchNormalization lowered to a per-channel scale-and-shift with float32 constants; "
              f"|error| <= {err:.3g} against exact arithmetic before the result precision's rounding "
              f"(one LSB of {_type_text(conv.layer().result)})")
    return conv.finish_layer(Lowered(y.value, y.perm, False))


# ----------------------------------------------------------------------------- elementwise

def _binary(conv: Converter, cls, a: Lowered, b: Lowered) -> Lowered:
    a, b = conv.materialise(a), conv.materialise(b)
    b = conv.in_layout(b, a.perm) if len(b.shape) == len(a.shape) else conv.onnx_order(b)
    if len(b.shape) != len(a.shape):
        a = conv.onnx_order(a)
    ta, tb = a.type, b.type
    t = {qt.AddOp: ta.add_type, qt.SubOp: ta.sub_type, qt.MulOp: ta.mul_type}[cls](tb)  # type: ignore[index]
    shape = np.broadcast_shapes(a.shape, b.shape)
    v = conv.emit1(cls, lhs=a.value, rhs=b.value, output=tensor(shape, t))
    return conv.finish_layer(Lowered(v, a.perm, a.exact and b.exact))


def _with_const(conv: Converter, cls, x: Lowered, arr: np.ndarray, const_first: bool) -> Lowered:
    return conv.finish_layer(conv.with_const(cls, x, arr, const_first))


def _arith(conv: Converter, op, cls) -> Lowered:
    a_v, b_v = op.operands
    ca, cb = conv.const(a_v), conv.const(b_v)
    if cb is not None:
        return _with_const(conv, cls, conv.runtime(a_v), np.asarray(cb.array, np.float64), False)
    if ca is not None:
        return _with_const(conv, cls, conv.runtime(b_v), np.asarray(ca.array, np.float64), True)
    return _binary(conv, cls, conv.runtime(a_v), conv.runtime(b_v))


@lowering("Add")
def add(conv: Converter, op) -> Lowered:
    return _arith(conv, op, qt.AddOp)


@lowering("Sub")
def sub(conv: Converter, op) -> Lowered:
    return _arith(conv, op, qt.SubOp)


@lowering("Mul")
def mul(conv: Converter, op) -> Lowered:
    return _arith(conv, op, qt.MulOp)


@lowering("Div")
def div(conv: Converter, op) -> Lowered:
    a_v, b_v = op.operands
    cb = conv.const(b_v)
    if cb is None:
        raise conv.error("Div by a non-constant tensor is not supported")
    b = np.asarray(cb.array, np.float64)
    m, _ = np.frexp(b)
    recip = 1.0 / b
    out = _with_const(conv, qt.MulOp, conv.runtime(a_v), recip, False)
    if not np.all(np.abs(m) == 0.5):
        conv.warn("division by a constant that is not a power of two: multiplied by its float64 reciprocal "
                  "(relative error <= 2^-53 before the layer's result rounding)")
        out = conv.finish_layer(Lowered(out.value, out.perm, False))
    return out


@lowering("Neg")
def neg(conv: Converter, op) -> Lowered:
    return _with_const(conv, qt.MulOp, conv.runtime(op.operands[0]), np.array(-1.0), False)


@lowering("Relu")
def relu(conv: Converter, op) -> Lowered:
    x = conv.materialise(conv.runtime(op.operands[0]))
    v = conv.emit1(qt.ReluOp, input=x.value, output=tensor(x.shape, x.type))
    return Lowered(v, x.perm, x.exact)


def _leaky(conv: Converter, x: Lowered, alpha: np.ndarray) -> Lowered:
    x = conv.materialise(x)
    aligned = Converter.layout_array(alpha, len(x.shape), x.perm) if alpha.ndim else alpha
    found = exact_type(aligned)
    if found is None:
        raise conv.error("slope needs more than 128 bits to be exact")
    at, raw = found
    a = conv.const_value(raw, at)
    t = union_type([x.type, x.type.mul_type(at)])
    v = conv.emit1(qt.LeakyReluOp, input=x.value, alpha=a, output=tensor(x.shape, t))
    return conv.finish_layer(Lowered(v, x.perm, x.exact))


@lowering("LeakyRelu")
def leaky_relu(conv: Converter, op) -> Lowered:
    return _leaky(conv, conv.runtime(op.operands[0]), np.array(float(op.attr("alpha")), np.float64))


@lowering("PRelu")
def prelu(conv: Converter, op) -> Lowered:
    slope = np.asarray(conv.const_array(op.operands[1], "the PRelu slope"), np.float64)
    x = conv.runtime(op.operands[0])
    if slope.ndim > len(x.shape):
        raise conv.error("slope has a higher rank than the input")
    return _leaky(conv, x, slope)


@lowering("Clip")
def clip(conv: Converter, op) -> Lowered:
    x = conv.materialise(conv.runtime(op.operands[0]))
    bounds, types = [], [x.type]
    for k, default in ((1, x.type.min), (2, x.type.max)):
        has = len(op.operands) > k and conv.item(op.operands[k]) is not None
        value = float(conv.const_array(op.operands[k], "a Clip bound").ravel()[0]) if has else float(default)
        value = min(max(value, float(x.type.min)), float(x.type.max))
        found = exact_type(np.array(value))
        if found is None:
            raise conv.error("Clip bound needs more than 128 bits to be exact")
        bounds.append(conv.const_value(found[1], found[0]))
        types.append(found[0])
    out_t = union_type(types) if any(t.frac_bits > x.type.frac_bits for t in types[1:]) else x.type
    v = conv.emit1(qt.ClipOp, input=x.value, min=bounds[0], max=bounds[1], output=tensor(x.shape, out_t))
    return Lowered(v, x.perm, x.exact)


@lowering("HardSigmoid")
def hard_sigmoid(conv: Converter, op) -> Lowered:
    """clip(alpha·x + beta, 0, 1) with alpha and beta exact float32 constants."""
    x = conv.runtime(op.operands[0])
    y = _with_const(conv, qt.MulOp, x, np.array(float(op.attr("alpha"))), False)
    y = _with_const(conv, qt.AddOp, y, np.array(float(op.attr("beta"))), False)
    zero, one = (conv.const_value(np.array(r), qt.fixed(2, 2)) for r in (0, 1))
    v = conv.emit1(qt.ClipOp, input=y.value, min=zero, max=one, output=tensor(y.shape, y.type))
    return conv.finish_layer(Lowered(v, y.perm, False))


# ----------------------------------------------------------------------------- tables

def _table_op(conv: Converter, x: Lowered, name: str, lo: float, hi: float, output: qt.FixedPointType) -> Lowered:
    x = conv.materialise(x)
    cfg = conv.layer()
    if cfg.table_range is not None:
        lo, hi = cfg.table_range
    try:
        table = build_table(name, x.type, lo, hi, cfg.table_size, output)
    except ValueError as e:
        raise conv.error(str(e)) from None
    tt = tensor(table.raw.shape, output)
    from fmlc.compiler.attributes import DenseElementsAttr

    v = conv.emit1(qt.LutOp, input=x.value, start=IntegerAttr(table.start), shift=IntegerAttr(table.shift),
                   table=DenseElementsAttr(tt, table.raw), function=StringAttr(name),
                   output=tensor(x.shape, output))
    v.op.attributes["error_bound"] = FloatAttr(table.error)
    return Lowered(v, x.perm, False)


def _configured_result(conv: Converter) -> qt.FixedPointType | None:
    """The layer's ``result`` (or ``precision``) when the config sets one for it."""
    raw = conv.config.layers.get(conv.current.location.describe(), {})  # type: ignore[union-attr]
    return conv.layer().result if "result" in raw or "precision" in raw else None


def _table_output(conv: Converter, name: str) -> qt.FixedPointType:
    return _configured_result(conv) or DEFAULT_OUTPUT[name]


def _type_text(t) -> str:
    from fmlc.compiler.printer import format_type

    return format_type(t)


@lowering("Sigmoid", "Tanh")
def sigmoid_tanh(conv: Converter, op) -> Lowered:
    name = "sigmoid" if op.op_type == "Sigmoid" else "tanh"
    lo, hi = DEFAULT_RANGE[name]
    return _table_op(conv, conv.runtime(op.operands[0]), name, lo, hi, _table_output(conv, name))


@lowering("Exp")
def exp(conv: Converter, op) -> Lowered:
    x = conv.materialise(conv.runtime(op.operands[0]))
    lo, hi = float(x.type.min), float(x.type.max)
    hi = min(hi, 16.0)
    out_i = max(int(math.ceil(hi / math.log(2))) + 1, 1)
    out = _configured_result(conv) or qt.fixed(out_i + 16, out_i, False, "rnd_conv", "sat")
    return _table_op(conv, x, "exp", lo, hi, out)


SOFTMAX_RANGE = 8.0  # exp table covers x - max(x) in [-8, 0]
SOFTMAX_EXP = qt.fixed(18, 1, False, "rnd_conv", "sat")
SOFTMAX_INV = qt.fixed(18, 1, False, "rnd_conv", "sat")
SOFTMAX_OUT = qt.fixed(16, 0, False, "rnd_conv", "sat")


@lowering("Softmax")
def softmax(conv: Converter, op) -> Lowered:
    """Stable softmax by tables: e = exp(x − max) from a table, 1/Σe from a table, y = e · (1/Σe)."""
    x = conv.materialise(conv.runtime(op.operands[0]))
    rank = len(x.shape)
    axis = int(op.attr("axis")) % rank
    qaxis = (x.perm or tuple(range(rank))).index(axis)
    n = x.shape[qaxis]
    cfg = conv.layer()
    lo, hi = cfg.table_range if cfg.table_range is not None else (-SOFTMAX_RANGE, 0.0)
    d_t = qt.softmax_diff_type(x.type)
    try:
        e_tab = build_table("exp", d_t, lo, min(hi, 0.0), cfg.table_size, SOFTMAX_EXP, above=False)
    except ValueError as e:
        raise conv.error(str(e)) from None
    s_t = qt.softmax_sum_type(SOFTMAX_EXP, n)
    smallest = float(np.max(e_tab.raw)) * SOFTMAX_EXP.lsb_float  # the max element contributes this much
    i_tab = build_table("reciprocal", s_t, smallest, float(max(n, 2)), cfg.table_size, SOFTMAX_INV, below=False,
                        above=False)
    out_t = _table_output_softmax(conv)
    from fmlc.compiler.attributes import DenseElementsAttr

    def dense(t):
        return DenseElementsAttr(tensor(t.raw.shape, t.output), t.raw)

    v = conv.emit1(qt.SoftmaxOp, input=x.value, axis=IntegerAttr(qaxis), exp_start=IntegerAttr(e_tab.start),
                   exp_shift=IntegerAttr(e_tab.shift), exp_table=dense(e_tab), inv_start=IntegerAttr(i_tab.start),
                   inv_shift=IntegerAttr(i_tab.shift), inv_table=dense(i_tab), output=tensor(x.shape, out_t))
    # |e·r − p| <= max(e)·E_inv + (n + 1)·E_exp / Σe_min, plus the output rounding
    e_max = float(np.max(e_tab.raw)) * SOFTMAX_EXP.lsb_float
    bound = e_max * i_tab.error + (n + 1) * e_tab.error / smallest + out_t.lsb_float
    v.op.attributes["error_bound"] = FloatAttr(min(bound, 1.0))
    return Lowered(v, x.perm, False)


def _table_output_softmax(conv: Converter) -> qt.FixedPointType:
    return _configured_result(conv) or SOFTMAX_OUT
