"""Lowerings of gathers, scatters and broadcasts to fixed point.

``qt.gather`` / ``qt.scatter`` on float tensors (what ``gather-scatter`` makes
of the ONNX ops) take the fixed-point types of their operands.  A scatter's
result type is exact: a sum of the destination and d updates, where d is the
largest in-degree of the constant index (or E, the index length, when the
index arrives at run time); a product likewise; max/min/none hold both
operand types.  A destination filled with the reduction's identity (torch's
``zeros(...).scatter_add_``) is dropped from that sum: it becomes a constant of
the identity in the result type (0, 1, the type's minimum for max, its maximum
for min), which the hardware does not add.

Expand and Tile of runtime tensors are wiring: a ``qt.gather`` with a constant
index along each broadcast or repeated axis.
"""

from __future__ import annotations

import numpy as np

from fmlc.compiler.attributes import IntegerAttr
from fmlc.compiler.ir import Value
from fmlc.dialects import qt
from fmlc.dialects.qt import FixedPointType
from fmlc.passes.onnx_to_qt import Converter, Lowered, lowering, tensor

IDENTITY = {"add": 0.0, "mul": 1.0, "max": -np.inf, "min": np.inf}


def _index(conv: Converter, v: Value) -> tuple[Value, np.ndarray | None]:
    """The qt index tensor of ONNX-level ``v`` and its values when constant."""
    c = conv.const(v)
    if c is not None:
        arr = np.asarray(c.array, np.int64)
        return conv.exact_const(arr), arr
    lw = conv.runtime(v)
    if not isinstance(lw.type, FixedPointType) or lw.type.frac_bits > 0:
        raise conv.error(f"indices of type {lw.type} are not integers")
    return lw.value, None


def _data(conv: Converter, v: Value) -> Lowered:
    return conv.materialise(conv.onnx_order(conv.runtime(v)))


@lowering("qt.gather")
def gather(conv: Converter, op: qt.GatherOp) -> Lowered:
    x = _data(conv, op.input)
    idx, _ = _index(conv, op.indices)
    v = conv.emit1(qt.GatherOp, input=x.value, indices=idx, axis=op.axis,
                   output=tensor(op.output.type.shape, x.type))  # type: ignore[attr-defined]
    return Lowered(v, None, x.exact)


def scatter_type(reduce: str, dest: FixedPointType | None, upd: FixedPointType, count: int) -> FixedPointType:
    """The exact result type of a scatter (``dest`` None: the destination is the identity)."""
    if reduce == "add":
        return qt.sum_type([(upd, count)] + ([(dest, 1)] if dest is not None else []))
    if reduce == "mul":
        return qt.product_type(([dest] if dest is not None else []) + [upd] * count)
    if dest is None or dest == upd:
        return upd
    return qt.union_type(dest, upd)


def identity_raw(reduce: str, t: FixedPointType) -> int:
    return {"add": 0, "mul": 1 << t.frac_bits if t.frac_bits >= 0 else 0, "max": t.min_raw,
            "min": t.max_raw}[reduce]


@lowering("qt.scatter")
def scatter(conv: Converter, op: qt.ScatterOp) -> Lowered:
    reduce = op.reduce.value
    shape = tuple(op.output.type.shape)  # type: ignore[attr-defined]
    axis = op.axis.value % len(shape)
    upd = _data(conv, op.updates)
    idx, values = _index(conv, op.indices)
    count = op.indices.type.shape[0] if values is None else qt.in_degree(values, shape[axis])  # type: ignore
    assert isinstance(upd.type, FixedPointType)
    c = conv.const(op.input)
    if reduce != "none" and c is not None and np.all(np.asarray(c.array) == IDENTITY[reduce]):
        out_t = scatter_type(reduce, None, upd.type, count)
        dest = conv.const_value(np.full(shape, identity_raw(reduce, out_t)), out_t)
        exact = upd.exact
    else:
        d = _data(conv, op.input)
        assert isinstance(d.type, FixedPointType)
        out_t = scatter_type(reduce, d.type, upd.type, count)
        dest, exact = d.value, d.exact and upd.exact
    if out_t.width > qt.MAX_WIDTH:
        raise conv.error(f"the exact {reduce} of {count} updates needs {out_t.width} bits (at most "
                         f"{qt.MAX_WIDTH})")
    self_ = {} if op.include_self.value else {"include_self": op.include_self}  # the default is not printed
    v = conv.emit1(qt.ScatterOp, input=dest, indices=idx, updates=upd.value, axis=IntegerAttr(axis),
                   reduce=op.reduce, output=tensor(shape, out_t), **self_)
    return Lowered(v, None, exact)


def _wire(conv: Converter, x: Lowered, axis: int, index: np.ndarray) -> Lowered:
    """``x`` gathered along ``axis`` at constant ``index`` (a broadcast or a repeat)."""
    shape = list(x.shape)
    shape[axis] = len(index)
    v = conv.emit1(qt.GatherOp, input=x.value, indices=conv.exact_const(np.asarray(index, np.int64)),
                   axis=IntegerAttr(axis), output=tensor(shape, x.type))
    return Lowered(v, None, x.exact)


def _to_rank(conv: Converter, x: Lowered, rank: int) -> Lowered:
    if len(x.shape) >= rank:
        return x
    shape = (1,) * (rank - len(x.shape)) + tuple(x.shape)
    return Lowered(conv.emit1(qt.ReshapeOp, input=x.value, output=tensor(shape, x.type)), None, x.exact)


@lowering("Expand")
def expand(conv: Converter, op) -> Lowered:
    out = tuple(op.results[0].type.shape)
    x = _to_rank(conv, _data(conv, op.operands[0]), len(out))
    for axis, (have, want) in enumerate(zip(x.shape, out, strict=True)):
        if have != want:
            x = _wire(conv, x, axis, np.zeros(want, np.int64))
    return x


@lowering("Tile")
def tile(conv: Converter, op) -> Lowered:
    x = _data(conv, op.operands[0])
    reps = conv.const_array(op.operands[1], "Tile's repeats")
    for axis, r in enumerate(np.asarray(reps, np.int64).ravel()):
        if r != 1:
            x = _wire(conv, x, axis, np.tile(np.arange(x.shape[axis]), int(r)))
    return x
