"""The ``df`` dialect: processes joined by streams.

``!df.stream<1x8x8x4x!qt.fixed<8,1>, lanes = 4, depth = 2>`` carries one tensor as
``beats = elements / lanes`` beats of ``lanes`` consecutive elements (row-major), through
a FIFO of ``depth`` beats.  In ``io=parallel`` a stream is one beat of every element
(a fully partitioned array); in ``io=stream`` a beat is the last dimension (one pixel's
channels), as hls4ml streams them.

A ``df.process`` is one hardware process.  Its region holds the ``qt`` ops it computes
on whole tensors (block arguments are the tensors its input streams carry, ``df.yield``
gives the tensors of its output streams); its properties are the hardware knobs.  The
*schedule* of a process -- which input beats it must have read before it writes each
output beat -- follows from its first computing op (its *anchor*), see
:func:`process_events`: that is the streaming contract the interpreter simulates and the
C++ implements.  ``df.fork`` copies a stream to several consumers; ``df.from_float`` /
``df.to_float`` are the host side of the top function's ports (the testbench or csim
bridge converts floats to and from the port types).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, ClassVar

import attrs

from fmlc.compiler.attributes import (
    Attribute,
    IntegerAttr,
    KeyParam,
    ParamError,
    ParametrizedType,
    ShapedParam,
    StringAttr,
    TensorType,
    TypeAttribute,
)
from fmlc.compiler.diagnostics import verify_error
from fmlc.compiler.dialect import Dialect, register_dialect
from fmlc.compiler.ir import Operation, OpResult
from fmlc.compiler.opdef import (
    ConstantLike,
    Constraint,
    HasParent,
    IsolatedFromAbove,
    IsTerminator,
    SingleBlock,
    op_def,
    operand,
    prop,
    region,
    result,
    var_operand,
    var_result,
)
from fmlc.dialects import qt

STRATEGIES = ("latency", "resource")
STORAGES = ("registers", "lutram", "bram", "none")
IO_MODES = ("parallel", "stream")


# ----------------------------------------------------------------------------- the stream type

@attrs.frozen
class StreamType(ParametrizedType):
    """``!df.stream<SHAPExELEM, lanes = L, depth = D>``."""

    name: ClassVar[str] = "df.stream"
    shape: tuple[int, ...] = attrs.field(converter=tuple)
    element: TypeAttribute
    lanes: int
    depth: int

    def __attrs_post_init__(self) -> None:
        n = math.prod(self.shape)
        for what, v in (("lanes", self.lanes), ("depth", self.depth)):
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ParamError(f"{self.name}: {what} must be a positive integer, got {v!r}")
        if any(not isinstance(d, int) or d < 0 for d in self.shape):
            raise ParamError(f"{self.name}: the shape must be static, got {self.shape}")
        if n % self.lanes:
            raise ParamError(f"{self.name}: lanes = {self.lanes} does not divide the {n} elements")

    @property
    def tensor(self) -> TensorType:
        return TensorType(self.shape, self.element)

    @property
    def beats(self) -> int:
        return math.prod(self.shape) // self.lanes

    def with_depth(self, depth: int) -> StreamType:
        return attrs.evolve(self, depth=depth)

    def parameters(self) -> tuple[Any, ...]:
        return (ShapedParam(self.shape, self.element), KeyParam("lanes", self.lanes), KeyParam("depth", self.depth))

    @classmethod
    def from_parameters(cls, params: Sequence[Any]) -> StreamType:
        if len(params) != 3 or not isinstance(params[0], ShapedParam):
            raise ParamError(f"{cls.name} expects <SHAPExELEMENT, lanes = L, depth = D>")
        keys = {}
        for p in params[1:]:
            if not isinstance(p, KeyParam) or p.key not in ("lanes", "depth") or p.key in keys:
                raise ParamError(f"{cls.name} expects <SHAPExELEMENT, lanes = L, depth = D>")
            keys[p.key] = p.value
        return cls(params[0].shape, params[0].element, keys["lanes"], keys["depth"])


def stream_of(t: TensorType, io: str, depth: int | None = None) -> StreamType:
    """The stream carrying ``t`` in ``io`` mode; depth defaults to every beat (never blocks)."""
    n = max(t.num_elements, 1)
    lanes = n if io == "parallel" or not t.shape else max(t.shape[-1], 1)
    if n % lanes:
        lanes = n
    s = StreamType(t.shape, t.element, lanes, 1)
    return s.with_depth(depth if depth is not None else s.beats)


class _Stream(Constraint):
    def check(self, value: Attribute) -> str | None:
        return None if isinstance(value, StreamType) else "must be a !df.stream"

    def __str__(self) -> str:
        return "a !df.stream"


STREAM = _Stream()


# ----------------------------------------------------------------------------- ops

@op_def("df.from_float")
class FromFloatOp(Operation):
    """Host side of an input port: the float tensor converted into the stream's element
    type exactly as ``qt.from_float`` converts it."""

    input = operand(qt.HostTensor)
    output = result(STREAM)

    def verify_(self) -> None:
        if tuple(self.input.type.shape) != self.output.type.shape:
            raise verify_error(self, f"stream shape {self.output.type.shape} differs from the input "
                                     f"{tuple(self.input.type.shape)}")


@op_def("df.to_float")
class ToFloatOp(Operation):
    """Host side of an output port: the stream's tensor as floats (round to nearest even), or
    as integers for an integer-valued stream (a class label)."""

    input = operand(STREAM)
    output = result(qt.HostTensor)

    def verify_(self) -> None:
        if tuple(self.output.type.shape) != self.input.type.shape:
            raise verify_error(self, f"result shape {tuple(self.output.type.shape)} differs from the stream "
                                     f"{self.input.type.shape}")


@op_def("df.fork")
class ForkOp(Operation):
    """Copies every beat of one stream to each result (fan-out)."""

    input = operand(STREAM)
    outputs = var_result(STREAM)

    def verify_(self) -> None:
        if len(self.outputs) < 2:
            raise verify_error(self, "needs at least two results")
        for k, r in enumerate(self.outputs):
            if r.type.with_depth(1) != self.input.type.with_depth(1):
                raise verify_error(self, f"result #{k} carries another tensor or lane count than the input")


@op_def("df.process")
class ProcessOp(Operation):
    """A hardware process computing its region's ``qt`` ops on the tensors its streams carry.

    Properties: ``layer`` (the layer name: per-layer config and the C++ function name),
    ``reuse`` (each multiplier is used ``reuse`` times per beat), ``strategy``
    (``latency``: specialised unrolled kernels; ``resource``: weights in memory and a
    folded loop), ``ii`` and ``latency`` (estimates in clock cycles per beat and per
    tensor), ``storage`` (where the weights live).
    """

    inputs = var_operand(STREAM)
    outputs = var_result(STREAM)
    layer = prop(StringAttr)
    reuse = prop(IntegerAttr, default=IntegerAttr(1))
    strategy = prop(StringAttr, default=StringAttr("latency"))
    ii = prop(IntegerAttr, default=IntegerAttr(1))
    latency = prop(IntegerAttr, default=IntegerAttr(1))
    storage = prop(StringAttr, default=StringAttr("none"))
    body = region()
    traits = (IsolatedFromAbove(), SingleBlock())

    @property
    def block(self) -> Any:
        return self.body.blocks[0]

    def verify_(self) -> None:
        for key, allowed in (("strategy", STRATEGIES), ("storage", STORAGES)):
            v = self.properties[key].value if key in self.properties else None
            if v is not None and v not in allowed:
                raise verify_error(self, f"property '{key}' must be one of {', '.join(allowed)}, got {v!r}")
        for key in ("reuse", "ii", "latency"):
            if key in self.properties and self.properties[key].value < 1:
                raise verify_error(self, f"property '{key}' must be >= 1")
        if not self.body.blocks:
            raise verify_error(self, "needs a body")
        block = self.block
        want = [s.type.tensor for s in self.inputs]
        got = [a.type for a in block.args]
        if got != want:
            raise verify_error(self, f"body arguments {len(got)} must be the tensors of the {len(want)} input "
                                     "streams, in order")
        last = block.last_op
        if not isinstance(last, YieldOp):
            raise verify_error(self, "body must end with 'df.yield'")
        if [v.type for v in last.values] != [s.type.tensor for s in self.outputs]:
            raise verify_error(self, "'df.yield' must give the tensors of the output streams, in order")


@op_def("df.yield")
class YieldOp(Operation):
    """Ends a process body with the tensors of its output streams."""

    values = var_operand()
    traits = (IsTerminator(), HasParent(["df.process"]))


DF_OPS: tuple[type[Operation], ...] = (FromFloatOp, ToFloatOp, ForkOp, ProcessOp, YieldOp)
DF = register_dialect(Dialect("df", ops=list(DF_OPS), attributes=[StreamType]))


# ----------------------------------------------------------------------------- schedules

# ops that act on each leading index independently (along the last dim only, or elementwise)
_PER_BEAT: tuple[type[Operation], ...] = (
    qt.CastOp, qt.ReluOp, qt.LeakyReluOp, qt.ClipOp, qt.LutOp, qt.AddOp, qt.DenseOp, qt.BipolarDenseOp,
    qt.TreeEnsembleOp,
)
_WINDOW: tuple[type[Operation], ...] = (qt.ConvOp, qt.MaxPoolOp, qt.AvgPoolOp)


def compute_ops(proc: ProcessOp) -> list[Operation]:
    """The body ops that compute (not constants, not the yield)."""
    return [op for op in proc.block.ops if not op.has_trait(ConstantLike) and not isinstance(op, YieldOp)]


def anchor(proc: ProcessOp) -> Operation | None:
    ops = compute_ops(proc)
    return ops[0] if ops else None


def is_per_beat(op: Operation) -> bool:
    """Whether ``op`` computes output row k (all dims but the last) from input row k alone."""
    if isinstance(op, _PER_BEAT):
        return True
    if isinstance(op, (qt.SoftmaxOp, qt.ArgMaxOp)):
        return op.axis.value in (-1, len(op.input.type.shape) - 1)
    if isinstance(op, qt.ThresholdOp):
        return True
    if isinstance(op, (qt.ConcatOp, qt.SplitOp)):
        rank = len(op.results[0].type.shape if isinstance(op, qt.SplitOp) else op.output.type.shape)
        return op.axis.value in (-1, rank - 1)
    return False


def schedule_kind(proc: ProcessOp) -> str:
    """``beat`` (output beat k needs input beat k), ``window`` (a line buffer: output pixel k
    needs the input up to its window's last pixel) or ``whole`` (all input first)."""
    streams = [*proc.inputs, *proc.outputs]
    beats = {s.type.beats for s in streams}
    if beats == {1}:
        return "beat"
    ops = compute_ops(proc)
    if not ops:
        return "whole"
    rows = {_rows(v.type) for op in ops for v in [*op.operands, *op.results]
            if isinstance(v.type, TensorType) and not is_constant(v)}
    lanes_ok = all(s.type.lanes == (s.type.shape[-1] if s.type.shape else 1) for s in streams)
    if lanes_ok and len(beats) == 1 and all(is_per_beat(op) for op in ops) and len(rows) == 1:
        return "beat"
    first = ops[0]
    if (isinstance(first, _WINDOW) and lanes_ok and len(proc.inputs) == 1
            and all(is_per_beat(op) for op in ops[1:])
            and len({_rows(v.type) for op in ops[1:] for v in [*op.operands, *op.results] if not is_constant(v)}
                    | {_rows(first.output.type)}) == 1):
        return "window"
    return "whole"


def _rows(t: TensorType) -> int:
    return math.prod(t.shape[:-1]) if t.shape else 1


def is_constant(v: Any) -> bool:
    """Whether a constant-like op defines ``v``."""
    return isinstance(v, OpResult) and v.op.has_trait(ConstantLike)


def window_geometry(op: Operation) -> tuple[list[int], list[int], list[int], list[int], list[int], list[int]]:
    """(input spatial, output spatial, kernel, strides, dilations, pads) of a conv or pool."""
    in_shape = op.operands[0].type.shape
    out_shape = op.results[0].type.shape
    ns = len(in_shape) - 2
    kernel = list(op.operands[1].type.shape[:ns]) if isinstance(op, qt.ConvOp) else [a.value for a in op.kernel]
    ints = [[a.value for a in getattr(op, k)] for k in ("strides", "dilations", "pads")]
    return list(in_shape[1:-1]), list(out_shape[1:-1]), kernel, *ints


def window_needs(op: Operation) -> list[int]:
    """For each output pixel (raster order), the input pixels to read before it can be written."""
    spatial, out, kernel, strides, dilations, pads = window_geometry(op)
    ns = len(spatial)
    needs, most = [], 0
    for pos in _raster(out):
        last = [min(p * strides[i] - pads[i] + (kernel[i] - 1) * dilations[i], spatial[i] - 1)
                for i, p in enumerate(pos)]
        index = 0
        for i in range(ns):
            index = index * spatial[i] + max(last[i], 0)
        most = max(most, index + 1)
        needs.append(most)
    return needs


def _raster(shape: Sequence[int]) -> list[tuple[int, ...]]:
    out: list[tuple[int, ...]] = [()]
    for d in shape:
        out = [(*p, i) for p in out for i in range(d)]
    return out


def ring_rows(op: Operation) -> int:
    """Rows (the first spatial dim) a line buffer keeps for a window op: (K−1)·d + 1."""
    _, _, kernel, _, dilations, _ = window_geometry(op)
    return (kernel[0] - 1) * dilations[0] + 1


@attrs.frozen
class Event:
    """Write beat ``beat`` of output ``output`` once ``needs[i]`` beats of input i are read."""

    output: int
    beat: int
    needs: tuple[int, ...]


def process_events(proc: ProcessOp) -> list[Event]:
    """The order in which ``proc`` writes its output beats, and what each waits for.

    Outputs are written beat by beat, round robin over the outputs.  Every input is
    read to its end before the process finishes.
    """
    kind = schedule_kind(proc)
    n_in = len(proc.inputs)
    totals = tuple(s.type.beats for s in proc.inputs)
    most = max((s.type.beats for s in proc.outputs), default=0)
    if kind == "window":
        needs = window_needs(anchor(proc))  # type: ignore[arg-type]
        return [Event(j, k, (needs[k],)) for k in range(most) for j in range(len(proc.outputs))]
    events = []
    for k in range(most):
        for j, s in enumerate(proc.outputs):
            if k < s.type.beats:
                need = tuple(min(k + 1, t) for t in totals) if kind == "beat" else totals
                events.append(Event(j, k, need if n_in else ()))
    return events
