"""``gather-scatter``: ONNX gathers and scatters become ``qt.gather`` / ``qt.scatter``.

Run after ``canonicalize`` (which folds shape arithmetic and constant index
tensors, see :mod:`fmlc.passes.onnx_fold`) and before ``onnx-to-qt``.  Each
pattern turns one ONNX form into the two ops with an explicit index tensor:

* ``Gather`` (torch ``index_select``, ``x[idx]``, ``x[edge_index[0]]``) → ``qt.gather``;
* ``GatherElements`` / ``ScatterElements`` whose index is the same along every
  axis but ``axis`` (torch ``gather`` / ``scatter_add_`` / ``scatter_reduce`` with
  ``index.unsqueeze(1).expand_as(src)``): constant, or a runtime ``Expand`` of a
  column → ``qt.gather`` / ``qt.scatter`` with the 1-D index;
* ``GatherND`` / ``ScatterND`` with one index per row (``indices[..., 1]``, torch
  ``index_put_`` / ``index_add_``) → the same along axis 0;
* any other form with *constant* indices → the op on the flattened tensor
  (every element is wiring);
* torch's ``scatter_reduce(..., include_self=False)`` (a scatter writing the reduction's
  identity, -FLT_MAX for amax, then the reduction) → one ``qt.scatter`` with
  ``include_self = false``.

Constant indices are checked and normalised here: a negative index becomes
its positive twin, an out-of-range one is an error at the node, and so are
duplicate indices under ``reduction = none`` (ONNX leaves their result
undefined).  Indices that arrive at run time keep the defined behaviour of
the qt ops (negative indices count from the end, anything else out of range is
ignored by a scatter and reads zero in a gather).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from fmlc.compiler.attributes import BoolAttr, IntegerAttr, IntegerType, StringAttr, TensorType
from fmlc.compiler.diagnostics import op_error
from fmlc.compiler.ir import Operation, Value
from fmlc.compiler.passes import Pass, PassContext, register_pass
from fmlc.compiler.rewriter import GreedyRewriteDriver, OpRewritePattern, PatternRewriter, defining_op
from fmlc.dialects import onnx as onnx_d
from fmlc.dialects import qt
from fmlc.passes.import_onnx import dense
from fmlc.passes.onnx_fold import constant_array

# ----------------------------------------------------------------------------- helpers

def _shape(v: Value) -> tuple[int, ...]:
    return tuple(v.type.shape)  # type: ignore[attr-defined]


def _axis(op: onnx_d.OnnxOp, rank: int) -> int:
    axis = int(op.attr("axis"))
    if not -rank <= axis < rank:
        raise op_error(op, f"axis {axis} is out of range for rank {rank}")
    return axis % rank


def _is_index(v: Value) -> bool:
    return isinstance(v.type, TensorType) and isinstance(v.type.element, IntegerType)


def _const(arr: np.ndarray, rewriter: PatternRewriter, op: Operation) -> Value:
    c = onnx_d.constant(dense(np.asarray(arr, dtype=np.int64)), location=op.location)
    rewriter.insert_op(c)
    return c.result


def _reshape(v: Value, shape: Sequence[int], rewriter: PatternRewriter, op: Operation) -> Value:
    """An ``onnx.Reshape`` of ``v`` (returned as is when the shape already matches)."""
    if tuple(shape) == _shape(v):
        return v
    target = _const(np.array(shape, np.int64), rewriter, op)
    r = onnx_d.OPS["Reshape"].build(inputs=[v, target], outputs=[TensorType(tuple(shape), v.type.element)],
                                    location=op.location)  # type: ignore[attr-defined]
    rewriter.insert_op(r)
    return r.results[0]


def normalised(op: Operation, idx: np.ndarray, n: int, what: str = "index") -> np.ndarray:
    """Constant indices in 0..n−1 (negative ones counted from the end); out of range is an error."""
    idx = np.asarray(idx, np.int64)
    bad = idx[(idx < -n) | (idx >= n)]
    if bad.size:
        raise op_error(op, f"{what} {int(bad.flat[0])} is out of range for a dimension of size {n}")
    return np.where(idx < 0, idx + n, idx)


def _no_duplicates(op: Operation, flat_positions: np.ndarray) -> None:
    uniq, counts = np.unique(flat_positions, return_counts=True)
    if (counts > 1).any():
        raise op_error(op, f"reduction 'none' with duplicate indices (position {int(uniq[counts > 1][0])} is "
                           "written more than once): ONNX leaves the result undefined")


def _row_of(arr: np.ndarray, axis: int) -> np.ndarray | None:
    """The 1-D index when ``arr`` is constant along every axis but ``axis``."""
    moved = np.moveaxis(arr, axis, 0).reshape(arr.shape[axis], -1)
    if moved.shape[1] == 0 or not (moved == moved[:, :1]).all():
        return None
    return moved[:, 0]


def _runtime_row(v: Value, axis: int, rewriter: PatternRewriter, op: Operation) -> Value | None:
    """A runtime index that varies only along ``axis``: a broadcast (``Expand``) of a tensor that
    is 1 on every other axis, or such a tensor itself; the result is reshaped to 1-D."""
    shape = _shape(v)
    src = v
    producer = defining_op(v)
    if isinstance(producer, onnx_d.OPS["Expand"]):
        src = producer.operands[0]
    s = _shape(src)
    s = (1,) * (len(shape) - len(s)) + s
    if len(s) != len(shape) or s[axis] != shape[axis] or any(d != 1 for i, d in enumerate(s) if i != axis):
        return None
    return _reshape(src, [shape[axis]], rewriter, op)


def _gather(data: Value, indices: Value, axis: int, out_shape: Sequence[int], rewriter: PatternRewriter,
            op: Operation) -> Value:
    g = qt.GatherOp.build(input=data, indices=indices, axis=IntegerAttr(axis), location=op.location,
                          output=TensorType(tuple(out_shape), data.type.element))  # type: ignore[attr-defined]
    rewriter.insert_op(g)
    return g.result


def _scatter(data: Value, indices: Value, updates: Value, axis: int, reduce: str, rewriter: PatternRewriter,
             op: Operation) -> Value:
    s = qt.ScatterOp.build(input=data, indices=indices, updates=updates, axis=IntegerAttr(axis),
                           reduce=StringAttr(reduce), output=data.type, location=op.location)
    rewriter.insert_op(s)
    return s.result


def _flat_gather(op: Operation, data: Value, flat_index: np.ndarray, rewriter: PatternRewriter) -> Value:
    """``data`` flattened, gathered at constant positions (shaped as the result)."""
    flat = _reshape(data, [int(np.prod(_shape(data)))], rewriter, op)
    return _gather(flat, _const(flat_index, rewriter, op), 0, flat_index.shape, rewriter, op)


def _flat_scatter(op: onnx_d.OnnxOp, data: Value, flat_index: np.ndarray, updates: Value,
                  rewriter: PatternRewriter) -> Value:
    """Scatter into flattened ``data`` at constant positions, reshaped back."""
    reduce = str(op.attr("reduction"))
    if reduce == "none":
        _no_duplicates(op, flat_index)
    shape = _shape(data)
    flat = _reshape(data, [int(np.prod(shape))], rewriter, op)
    upd = _reshape(updates, [flat_index.size], rewriter, op)
    out = _scatter(flat, _const(flat_index.ravel(), rewriter, op), upd, 0, reduce, rewriter, op)
    return _reshape(out, shape, rewriter, op)


def _element_positions(op: Operation, idx: np.ndarray, axis: int, shape: Sequence[int]) -> np.ndarray:
    """Flat positions in a tensor of ``shape`` of GatherElements/ScatterElements indices."""
    idx = normalised(op, idx, shape[axis])
    coords = list(np.indices(idx.shape))
    coords[axis] = idx
    return np.ravel_multi_index(tuple(coords), tuple(shape))


def _nd_positions(op: Operation, idx: np.ndarray, shape: Sequence[int]) -> np.ndarray:
    """Flat positions of every element GatherND/ScatterND (batch_dims = 0) address."""
    k = idx.shape[-1]
    if k > len(shape):
        raise op_error(op, f"indices address {k} dims of a rank-{len(shape)} tensor")
    cols = [normalised(op, idx[..., d], shape[d]) for d in range(k)]
    base = np.ravel_multi_index(tuple(cols), tuple(shape[:k])) if k else np.zeros(idx.shape[:-1], np.int64)
    inner = int(np.prod(shape[k:]))
    return (base[..., None] * inner + np.arange(inner)).reshape(idx.shape[:-1] + tuple(shape[k:]))


# ----------------------------------------------------------------------------- patterns

class GatherPattern(OpRewritePattern):
    """``Gather(data, indices, axis)`` → ``qt.gather`` (constant indices normalised)."""

    op_type = onnx_d.OPS["Gather"]

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter) -> None:
        data, indices = op.operands
        axis = _axis(op, len(_shape(data)))  # type: ignore[arg-type]
        arr = constant_array(indices)
        if arr is not None:
            indices = _const(normalised(op, arr, _shape(data)[axis]), rewriter, op)
        rewriter.replace_op(op, [_gather(data, indices, axis, _shape(op.results[0]), rewriter, op)])


class GatherElementsPattern(OpRewritePattern):
    """``GatherElements`` with an index constant along the other axes → ``qt.gather`` along
    ``axis``; another constant index → a flat gather; a runtime ``Expand``-ed column too."""

    op_type = onnx_d.OPS["GatherElements"]

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter) -> None:
        data, indices = op.operands
        shape, out = _shape(data), _shape(op.results[0])
        axis = _axis(op, len(shape))  # type: ignore[arg-type]
        same_others = all(a == b for i, (a, b) in enumerate(zip(shape, out, strict=True)) if i != axis)
        arr = constant_array(indices)
        if arr is not None:
            row = _row_of(arr, axis) if same_others else None
            if row is None:
                rewriter.replace_op(op, [_flat_gather(op, data, _element_positions(op, arr, axis, shape),
                                                      rewriter)])
                return
            idx = _const(normalised(op, row, shape[axis]), rewriter, op)
        else:
            idx = _runtime_row(indices, axis, rewriter, op) if same_others else None
            if idx is None:
                raise op_error(op, "GatherElements with runtime indices that vary along the other axes is not "
                                   "supported (use an index that is the same on every other axis, as "
                                   "index.unsqueeze(1).expand_as(x) gives)")
        rewriter.replace_op(op, [_gather(data, idx, axis, out, rewriter, op)])


class GatherNDPattern(OpRewritePattern):
    """``GatherND`` (batch_dims 0): one index per row → ``qt.gather`` along axis 0; other
    constant indices → a flat gather."""

    op_type = onnx_d.OPS["GatherND"]

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter) -> None:
        data, indices = op.operands
        if int(op.attr("batch_dims") or 0) != 0:  # type: ignore[attr-defined]
            raise op_error(op, "GatherND with batch_dims > 0 is not supported")
        shape, ishape = _shape(data), _shape(indices)
        arr = constant_array(indices)
        if arr is not None:
            rewriter.replace_op(op, [_flat_gather(op, data, _nd_positions(op, arr, shape), rewriter)])
            return
        if ishape[-1] != 1:
            raise op_error(op, "GatherND with runtime indices is supported for one index per row "
                               "(indices [..., 1]) only")
        idx = _reshape(indices, ishape[:-1], rewriter, op)
        rewriter.replace_op(op, [_gather(data, idx, 0, _shape(op.results[0]), rewriter, op)])


class ScatterElementsPattern(OpRewritePattern):
    """``ScatterElements`` with an index constant along the other axes (torch ``scatter_add_`` with
    an expanded index) → ``qt.scatter`` along ``axis``; another constant index → a flat scatter."""

    op_type = onnx_d.OPS["ScatterElements"]

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter) -> None:
        data, indices, updates = op.operands
        shape, ushape = _shape(data), _shape(updates)
        axis = _axis(op, len(shape))  # type: ignore[arg-type]
        reduce = str(op.attr("reduction"))  # type: ignore[attr-defined]
        same_others = all(a == b for i, (a, b) in enumerate(zip(shape, ushape, strict=True)) if i != axis)
        arr = constant_array(indices)
        if arr is not None:
            row = _row_of(arr, axis) if same_others else None
            if row is None:
                flat = _element_positions(op, arr, axis, shape)
                rewriter.replace_op(op, [_flat_scatter(op, data, flat, updates, rewriter)])  # type: ignore[arg-type]
                return
            row = normalised(op, row, shape[axis])
            if reduce == "none":
                _no_duplicates(op, row)
            idx = _const(row, rewriter, op)
        else:
            idx = _runtime_row(indices, axis, rewriter, op) if same_others else None
            if idx is None:
                raise op_error(op, "ScatterElements with runtime indices that vary along the other axes is not "
                                   "supported (use an index that is the same on every other axis, as "
                                   "index.unsqueeze(1).expand_as(src) gives)")
        rewriter.replace_op(op, [_scatter(data, idx, updates, axis, reduce, rewriter, op)])


class ScatterNDPattern(OpRewritePattern):
    """``ScatterND`` with one index per row (torch ``index_put_`` / ``index_add_``) → ``qt.scatter``
    along axis 0; other constant indices → a flat scatter."""

    op_type = onnx_d.OPS["ScatterND"]

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter) -> None:
        data, indices, updates = op.operands
        shape, ishape = _shape(data), _shape(indices)
        reduce = str(op.attr("reduction"))  # type: ignore[attr-defined]
        arr = constant_array(indices)
        if arr is not None and ishape[-1] != 1:
            flat = _nd_positions(op, arr, shape)
            rewriter.replace_op(op, [_flat_scatter(op, data, flat, updates, rewriter)])  # type: ignore[arg-type]
            return
        if ishape[-1] != 1:
            raise op_error(op, "ScatterND with runtime indices is supported for one index per row "
                               "(indices [..., 1]) only")
        rows = int(np.prod(ishape[:-1]))
        if arr is not None:
            row = normalised(op, arr.reshape(rows), shape[0])
            if reduce == "none":
                _no_duplicates(op, row)
            idx = _const(row, rewriter, op)
        else:
            idx = _reshape(indices, [rows], rewriter, op)
        upd = _reshape(updates, [rows, *shape[1:]], rewriter, op)
        rewriter.replace_op(op, [_scatter(data, idx, upd, 0, reduce, rewriter, op)])


def _same_index(a: Value, b: Value) -> bool:
    """Whether two index values are equal: the same value, equal constants, or the same
    reshape of the same value."""
    if a is b:
        return True
    ca, cb = constant_array(a), constant_array(b)
    if ca is not None and cb is not None:
        return ca.shape == cb.shape and bool(np.array_equal(ca, cb))
    pa, pb = defining_op(a), defining_op(b)
    reshape = onnx_d.OPS["Reshape"]
    return (isinstance(pa, reshape) and isinstance(pb, reshape) and pa.operands[0] is pb.operands[0]
            and _shape(a) == _shape(b))


FLT_MAX = float(np.finfo(np.float32).max)


def _resets_to_identity(reset: qt.ScatterOp, reduce: str) -> bool:
    """Whether ``reset`` writes ``reduce``'s identity at every index it names (torch writes
    -FLT_MAX with a min-scatter before amax, +FLT_MAX with a max-scatter before amin, 1 with
    an assignment before prod)."""
    values = constant_array(reset.updates)
    if values is None or values.size == 0:
        return False
    r = reset.reduce.value
    if reduce == "max":
        return bool(np.all(values <= -FLT_MAX)) and r in ("none", "min")
    if reduce == "min":
        return bool(np.all(values >= FLT_MAX)) and r in ("none", "max")
    identity = {"add": 0.0, "mul": 1.0}.get(reduce)
    return identity is not None and bool(np.all(values == identity)) and r == "none"


class ExcludeSelfPattern(OpRewritePattern):
    """torch ``scatter_reduce(..., include_self=False)``: a scatter that first resets the touched
    destinations to the reduction's identity, then reduces into them → one ``qt.scatter``
    with ``include_self = false``."""

    op_type = qt.ScatterOp

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter) -> None:
        reset = defining_op(op.input)  # type: ignore[attr-defined]
        if not (isinstance(reset, qt.ScatterOp) and op.include_self.value  # type: ignore[attr-defined]
                and len(reset.output.uses) == 1 and reset.axis == op.axis  # type: ignore[attr-defined]
                and _same_index(reset.indices, op.indices)  # type: ignore[attr-defined]
                and _resets_to_identity(reset, op.reduce.value)):  # type: ignore[attr-defined]
            return
        new = qt.ScatterOp.build(input=reset.input, indices=op.indices, updates=op.updates,  # type: ignore
                                 axis=op.axis, reduce=op.reduce, include_self=BoolAttr(False),  # type: ignore
                                 output=op.output.type, location=op.location)  # type: ignore[attr-defined]
        rewriter.replace_op(op, [new])


PATTERNS = (GatherPattern, GatherElementsPattern, GatherNDPattern, ScatterElementsPattern, ScatterNDPattern,
            ExcludeSelfPattern)


@register_pass
@dataclasses.dataclass(frozen=True)
class GatherScatter(Pass):
    """Rewrite ONNX gathers and scatters to ``qt.gather`` / ``qt.scatter`` (module docstring)."""

    name = "gather-scatter"
    summary = "rewrite onnx Gather*/Scatter* (torch index_select, scatter_add_, ...) to qt.gather/qt.scatter"

    def apply(self, ctx: PassContext, op: Operation) -> None:
        GreedyRewriteDriver([p() for p in PATTERNS]).apply(op)

