"""Lowerings of shape and data-movement ops.

A Transpose only changes the layout a value travels in; Reshape, Flatten,
Squeeze and Unsqueeze need the ONNX element order and get it (a ``qt.transpose``
when the value travels channels-last) before a ``qt.reshape``.  Concat, Split,
Slice and Pad work in whatever layout their input has, with axes mapped.
"""

from __future__ import annotations

import numpy as np

from fmlc.compiler.attributes import ArrayAttr, FloatType, IntegerAttr, IntegerType, TensorType
from fmlc.dialects import qt
from fmlc.passes.onnx_to_qt import Const, Converter, Lowered, inverse, lowering, tensor
from fmlc.passes.precision import exact_type, union_type


def _ints(values) -> ArrayAttr:
    return ArrayAttr(IntegerAttr(int(v)) for v in values)


def _result_shape(op, k: int = 0) -> tuple[int, ...]:
    return op.results[k].type.shape


@lowering("Reshape", "Flatten", "Squeeze", "Unsqueeze")
def reshape(conv: Converter, op) -> Lowered:
    x = conv.onnx_order(conv.runtime(op.operands[0]))
    shape = _result_shape(op)
    if tuple(shape) == tuple(x.shape):
        return x
    v = conv.emit1(qt.ReshapeOp, input=x.value, output=tensor(shape, x.type))
    return Lowered(v, None, x.exact)


@lowering("Identity")
def identity(conv: Converter, op) -> Lowered:
    return conv.runtime(op.operands[0])


@lowering("Transpose")
def transpose(conv: Converter, op) -> Lowered:
    x = conv.runtime(op.operands[0])
    rank = len(x.shape)
    p = op.attr("perm") or list(range(rank))[::-1]
    old = x.perm or tuple(range(rank))
    inv_p = inverse(p)
    new = tuple(inv_p[o] for o in old)
    return Lowered(x.value, None if new == tuple(range(rank)) else new, x.exact)


@lowering("Cast")
def cast(conv: Converter, op) -> Lowered:
    out = op.results[0].type
    if isinstance(out, TensorType) and isinstance(out.element, FloatType):
        return conv.runtime(op.operands[0])
    x = conv.runtime(op.operands[0])
    if isinstance(out, TensorType) and isinstance(out.element, IntegerType) and out.element.width == 64 \
            and isinstance(x.type, qt.FixedPointType) and x.type.frac_bits <= 0 and x.type.width <= 63:
        return x  # an integer value (a class label) to int64: unchanged
    raise conv.error("Cast of a runtime tensor to a non-float type is not supported (but for integers to int64)")


@lowering("Shape")
def shape(conv: Converter, op) -> Const:
    dims = np.array(op.operands[0].type.shape, dtype=np.int64)
    start, end = int(op.attr("start") or 0), op.attr("end")
    return Const(dims[start:end])


def _axis(op, rank: int) -> int:
    return int(op.attr("axis")) % rank


@lowering("Concat")
def concat(conv: Converter, op) -> Lowered:
    runtime = [v for v in op.operands if conv.const(v) is None]
    first = conv.runtime(runtime[0])
    rank = len(first.shape)
    perm = first.perm
    parts = [conv.materialise(conv.runtime(v, perm or tuple(range(rank)))) for v in op.operands]
    element = union_type([p.type for p in parts]) if len({p.type for p in parts}) > 1 else parts[0].type
    parts = [conv.cast(p, element) for p in parts]
    qaxis = (perm or tuple(range(rank))).index(_axis(op, rank))
    shape = list(parts[0].shape)
    shape[qaxis] = sum(p.shape[qaxis] for p in parts)
    v = conv.emit1(qt.ConcatOp, inputs=[p.value for p in parts], axis=IntegerAttr(qaxis),
                   output=tensor(shape, element))
    return Lowered(v, perm, all(p.exact for p in parts))


@lowering("Split")
def split(conv: Converter, op) -> list[Lowered]:
    x = conv.materialise(conv.runtime(op.operands[0]))
    rank = len(x.shape)
    perm = x.perm or tuple(range(rank))
    axis = _axis(op, rank)
    qaxis = perm.index(axis)
    types = []
    for r in op.results:
        s = [r.type.shape[p] for p in perm]
        types.append(tensor(s, x.type))
    outs = conv.emit(qt.SplitOp, input=x.value, axis=IntegerAttr(qaxis), outputs=types).results
    return [Lowered(v, x.perm, x.exact) for v in outs]


@lowering("Slice")
def slice_(conv: Converter, op) -> Lowered:
    x = conv.materialise(conv.runtime(op.operands[0]))
    rank = len(x.shape)
    onnx_shape = op.operands[0].type.shape
    starts = conv.const_array(op.operands[1], "Slice starts").astype(np.int64)
    ends = conv.const_array(op.operands[2], "Slice ends").astype(np.int64)
    axes = (conv.const_array(op.operands[3], "Slice axes").astype(np.int64)
            if len(op.operands) > 3 and conv.item(op.operands[3]) is not None else np.arange(len(starts)))
    steps = (conv.const_array(op.operands[4], "Slice steps").astype(np.int64)
             if len(op.operands) > 4 and conv.item(op.operands[4]) is not None else np.ones(len(starts), np.int64))
    st, en, sp = [0] * rank, list(onnx_shape), [1] * rank
    for s, e, a, p in zip(starts, ends, axes, steps, strict=True):
        a = int(a) % rank
        dim = onnx_shape[a]
        sl = slice(int(s), int(e), int(p)).indices(dim)
        st[a], en[a], sp[a] = sl
    perm = x.perm or tuple(range(rank))
    qs, qe, qp = [st[p] for p in perm], [en[p] for p in perm], [sp[p] for p in perm]
    out_shape = [len(range(s, e, p)) for s, e, p in zip(qs, qe, qp, strict=True)]
    v = conv.emit1(qt.SliceOp, input=x.value, starts=_ints(qs), ends=_ints(qe), steps=_ints(qp),
                   output=tensor(out_shape, x.type))
    return Lowered(v, x.perm, x.exact)


@lowering("Pad")
def pad(conv: Converter, op) -> Lowered:
    if str(op.attr("mode")) != "constant":
        raise conv.error(f"Pad mode '{op.attr('mode')}' is not supported at the qt level (constant only)")
    x = conv.materialise(conv.runtime(op.operands[0]))
    rank = len(x.shape)
    pads = conv.const_array(op.operands[1], "Pad pads").astype(np.int64)
    value = 0.0
    if len(op.operands) > 2 and conv.item(op.operands[2]) is not None:
        value = float(conv.const_array(op.operands[2], "the Pad value").ravel()[0])
    axes = list(range(rank))
    if len(op.operands) > 3 and conv.item(op.operands[3]) is not None:
        axes = [int(a) % rank for a in conv.const_array(op.operands[3], "Pad axes")]
    if np.any(pads < 0):
        raise conv.error("negative Pad amounts (cropping) are not supported")
    begin, end = [0] * rank, [0] * rank
    n = len(axes)
    for i, a in enumerate(axes):
        begin[a], end[a] = int(pads[i]), int(pads[i + n])
    perm = x.perm or tuple(range(rank))
    qb, qe = [begin[p] for p in perm], [end[p] for p in perm]
    found = exact_type(np.array(value))
    assert found is not None
    element = x.type
    vt, _ = found
    if float(value) != 0.0:
        element = union_type([x.type, vt])
        x = conv.cast(x, element)
    raw = np.array(round(value * 2.0 ** element.frac_bits), dtype=np.int64)
    pv = conv.const_value(raw, element)
    shape = [s + b + e for s, b, e in zip(x.shape, qb, qe, strict=True)]
    v = conv.emit1(qt.PadOp, input=x.value, value=pv, pads=_ints(qb + qe), output=tensor(shape, element))
    return Lowered(v, x.perm, x.exact)
