"""``qt-to-df``: group ``qt`` ops into ``df`` processes joined by streams.

Each computing ``qt`` op becomes the anchor of a ``df.process``; an activation, cast,
clip or table that is the only user of a process's result joins that process (as
hls4ml fuses a layer's activation), so no wide accumulator travels between processes.
The constants an op uses are copied into its process (weights live with their
multipliers).  A value used by several processes goes through a ``df.fork``.  Graph
inputs (``qt.from_float``) and outputs (``qt.to_float``) become the host sides of the
top function's ports, ``df.from_float`` / ``df.to_float``.

Knobs: ``io`` (``parallel``: every stream one beat; ``stream``: one beat per pixel /
row), ``reuse-factor`` and ``strategy``, each from the pass option, else the config
file's ``[default]`` section (per layer: ``[layer.NAME] reuse_factor``, ``strategy``),
else ``parallel`` / 1 / ``latency``.  A reuse factor a layer cannot take is an error
listing the valid values near it; it is never changed silently.  Streams start deep
enough to hold a whole tensor; ``df-size-fifos`` shrinks them.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from fmlc.compiler.attributes import IntegerAttr, StringAttr, TensorType
from fmlc.compiler.diagnostics import FmlcError, op_diagnostic
from fmlc.compiler.ir import Block, Operation, OpResult, Region, Value
from fmlc.compiler.location import UnknownLoc, fuse
from fmlc.compiler.opdef import ConstantLike
from fmlc.compiler.passes import Pass, PassContext, register_pass
from fmlc.dialects import df, qt
from fmlc.dialects.func import FuncOp, ReturnOp
from fmlc.passes import hw_cost

FUSIBLE: tuple[type[Operation], ...] = (
    qt.CastOp, qt.ReluOp, qt.LeakyReluOp, qt.ClipOp, qt.LutOp, qt.ThresholdOp,
)
_TABLE_OPS = (qt.LutOp, qt.SoftmaxOp)
_BRAM_BITS = 18 * 1024  # weights above one BRAM18's worth go to block RAM


class LoweringError(FmlcError):
    pass


def _fail(op: Operation, message: str) -> LoweringError:
    return LoweringError(str(op_diagnostic(op, message)))


@dataclasses.dataclass
class Knobs:
    io: str
    reuse: int
    strategy: str
    layers: dict[str, dict[str, Any]]

    def for_layer(self, name: str) -> tuple[int, str]:
        raw = self.layers.get(name, {})
        return int(raw.get("reuse_factor", self.reuse)), str(raw.get("strategy", self.strategy))


@register_pass
@dataclasses.dataclass(frozen=True)
class QtToDf(Pass):
    """Group qt ops into df processes joined by streams (io mode, reuse factor, strategy)."""

    name = "qt-to-df"
    summary = "qt ops → df processes and streams (io=parallel|stream, reuse-factor, strategy)"
    io: str = ""
    reuse_factor: int = 0
    strategy: str = ""

    def apply(self, ctx: PassContext, op: Operation) -> None:
        knobs = _knobs(self, ctx)
        funcs = [op] if isinstance(op, FuncOp) else [f for f in op.walk() if isinstance(f, FuncOp)]
        macs: set[str] = set()
        for func in funcs:
            macs |= _Lowering(func, knobs).run()
        stray = sorted(n for n, raw in knobs.layers.items() if "reuse_factor" in raw and n not in macs)
        if stray:
            raise LoweringError(f"error: [layer.{stray[0]}] reuse_factor: '{stray[0]}' is not a dense, conv or "
                                f"bipolar_dense layer; the layers with multipliers are: {', '.join(sorted(macs))}")


def _knobs(p: QtToDf, ctx: PassContext) -> Knobs:
    cfg = ctx.config.get("precision")
    defaults = dict(getattr(cfg, "defaults", {}) or {})
    layers = dict(getattr(cfg, "layers", {}) or {})
    for name, raw in layers.items():
        if "io" in raw:
            raise LoweringError(f"error: [layer.{name}]: 'io' is a setting of the whole graph; "
                                "set it in [default] or with --io")
    io = p.io or str(defaults.get("io", "parallel"))
    if io not in df.IO_MODES:
        raise LoweringError(f"error: io must be one of {', '.join(df.IO_MODES)}, got {io!r}")
    strategy = p.strategy or str(defaults.get("strategy", "latency"))
    for where, s in [("default", strategy), *((f"layer.{n}", r.get("strategy")) for n, r in layers.items())]:
        if s is not None and s not in df.STRATEGIES:
            raise LoweringError(f"error: [{where}] strategy must be one of {', '.join(df.STRATEGIES)}, "
                                f"got {s!r}")
    reuse = p.reuse_factor or int(defaults.get("reuse_factor", 1))
    if reuse < 1:
        raise LoweringError(f"error: the reuse factor must be >= 1, got {reuse}")
    return Knobs(io, reuse, strategy, layers)


def layer_name(op: Operation, index: int) -> str:
    """The name of the layer ``op`` anchors, process number ``index``: its location (the ONNX
    node), else its kind and result name (``dense%h`` for ``%h = "qt.dense"``) or number
    (``dense#3``)."""
    loc = op.location
    if loc is not None and not isinstance(loc, UnknownLoc):
        return loc.describe()
    kind = op.name.removeprefix("qt.")
    hint = op.results[0].name_hint if op.results else None
    return f"{kind}%{hint}" if hint else f"{kind}#{index}"


@dataclasses.dataclass
class _Group:
    ops: list[Operation]
    name: str = ""

    @property
    def anchor(self) -> Operation:
        return self.ops[0]


class _Lowering:
    def __init__(self, func: FuncOp, knobs: Knobs) -> None:
        self.func = func
        self.knobs = knobs
        self.block: Block = func.entry

    # -- grouping -------------------------------------------------------------
    def _groups(self) -> list[_Group]:
        groups: list[_Group] = []
        group_of: dict[Operation, _Group] = {}
        for op in self.block.ops:
            if op.has_trait(ConstantLike) or isinstance(op, (qt.FromFloatOp, qt.ToFloatOp, ReturnOp)):
                continue
            if op.name.startswith("onnx."):
                raise _fail(op, "cannot be lowered to df: lower onnx ops to qt first (onnx-to-qt)")
            src = _fusion_source(op)
            g = group_of.get(src.op) if src is not None else None
            if g is not None and g.ops[-1] is src.op:
                g.ops.append(op)
            else:
                g = _Group([op])
                groups.append(g)
            group_of[op] = g
        for i, g in enumerate(groups):
            g.name = layer_name(g.anchor, i)
        return groups

    # -- rewriting ------------------------------------------------------------
    def run(self) -> set[str]:
        """Rewrite the function; returns the names of its multiply-accumulate layers."""
        groups = self._groups()
        ret = self.block.last_op
        if not isinstance(ret, ReturnOp):
            raise _fail(self.func, "body must end with 'func.return'")
        streams: dict[Value, list[Value]] = {}  # qt value -> stream values (one per pending use)
        new_ops: list[Operation] = []
        producers: dict[Value, Value] = {}
        for op in list(self.block.ops):
            if isinstance(op, qt.FromFloatOp):
                if op.input not in self.block.args:
                    raise _fail(op, "qt-to-df: qt.from_float must convert a graph input")
                s = df.FromFloatOp.build(input=op.input, output=self._stream(op.output.type),
                                         location=op.location)
                new_ops.append(s)
                producers[op.output] = s.output
        group_order = {g.anchor: g for g in groups}
        for op in list(self.block.ops):
            g = group_order.get(op)
            if g is None:
                continue
            inputs = _group_inputs(g)
            in_streams = [self._use(v, producers, streams, g.anchor) for v in inputs]
            outputs = _group_outputs(g)
            proc = self._process(g, inputs, in_streams, outputs)
            new_ops.append(proc)
            for v, r in zip(outputs, proc.outputs, strict=True):
                producers[v] = r
        outs = []
        for v in ret.values:
            to = v.op if isinstance(v, OpResult) else None
            if not isinstance(to, qt.ToFloatOp):
                raise _fail(ret, "qt-to-df: every graph output must be a qt.to_float result")
            s = self._use(to.input, producers, streams, to)
            outs.append((to, s))
        final = [df.ToFloatOp.build(input=s, output=to.output.type, location=to.location) for to, s in outs]
        self._forks(producers, new_ops, streams)
        for (to, _), f in zip(outs, final, strict=True):
            to.output.replace_all_uses_with(f.output)
        old = [o for o in self.block.ops if o is not ret]
        for o in [*new_ops, *final]:
            self.block.insert_before(ret, o)
        for o in reversed(old):
            o.erase(safe=False)
        return {g.name for g in groups if isinstance(g.anchor, hw_cost.MAC_OPS)}

    def _stream(self, t: TensorType) -> df.StreamType:
        return df.stream_of(t, self.knobs.io)

    @staticmethod
    def _use(v: Value, producers: dict[Value, Value], streams: dict[Value, list[Value]], user: Operation) -> Value:
        """A stream carrying qt value ``v`` for one more consumer (forks are added later)."""
        if v not in producers:
            raise _fail(user, "qt-to-df: an operand is neither a graph input, a constant nor a process result")
        placeholder = Value(producers[v].type)
        streams.setdefault(v, []).append(placeholder)
        return placeholder

    def _forks(self, producers: dict[Value, Value], new_ops: list[Operation],
               streams: dict[Value, list[Value]]) -> None:
        for v, uses in streams.items():
            src = producers[v]
            if len(uses) == 1:
                uses[0].replace_all_uses_with(src)
                continue
            fork = df.ForkOp.build(input=src, outputs=[src.type] * len(uses),
                                   location=src.op.location if isinstance(src, OpResult) else None)
            owner = src.op if isinstance(src, OpResult) else None
            new_ops.insert(new_ops.index(owner) + 1 if owner in new_ops else 0, fork)
            for placeholder, out in zip(uses, fork.outputs, strict=True):
                placeholder.replace_all_uses_with(out)

    def _process(self, g: _Group, inputs: list[Value], in_streams: list[Value], outputs: list[Value]) -> Operation:
        block = Block([v.type for v in inputs])
        mapping: dict[Value, Value] = dict(zip(inputs, block.args, strict=True))
        for op in g.ops:
            for operand in op.operands:
                if operand not in mapping:
                    const = operand.op  # type: ignore[attr-defined]
                    c = const.clone()
                    block.append(c)
                    mapping[operand] = c.results[0]
            c = op.clone(mapping)
            block.append(c)
            for r, cr in zip(op.results, c.results, strict=True):
                mapping[r] = cr
        block.append(df.YieldOp.build(values=[mapping[v] for v in outputs]))
        name = g.name
        reuse, strategy, storage = self._hardware(g, name)
        steps = sum(hw_cost.step_latency(op, reuse) for op in g.ops)
        out_types = [self._stream(v.type) for v in outputs]
        proc = df.ProcessOp.build(
            inputs=in_streams, outputs=out_types, layer=StringAttr(name), reuse=IntegerAttr(reuse),
            strategy=StringAttr(strategy), ii=IntegerAttr(reuse if isinstance(g.anchor, hw_cost.MAC_OPS) else 1),
            latency=IntegerAttr(max(steps, 1)), storage=StringAttr(storage), body=Region([block]),
            location=fuse(*(op.location for op in g.ops)))
        kind = df.schedule_kind(proc)  # type: ignore[arg-type]
        beats = max((t.beats for t in out_types), default=1)
        if kind == "whole":
            beats += max((s.type.beats for s in in_streams), default=0)
        proc.properties["latency"] = IntegerAttr(max(steps, 1) + (beats - 1) * proc.ii.value)
        return proc

    def _hardware(self, g: _Group, name: str) -> tuple[int, str, str]:
        reuse, strategy = self.knobs.for_layer(name)
        anchor = g.anchor
        if not isinstance(anchor, hw_cost.MAC_OPS):
            tables = sum(int(math.prod(getattr(op, k).type.shape)) * getattr(op, k).type.element.width
                         for op in g.ops if isinstance(op, _TABLE_OPS)
                         for k in (("table",) if isinstance(op, qt.LutOp) else ("exp_table", "inv_table")))
            storage = "none" if not tables else "bram" if tables > _BRAM_BITS else "lutram"
            return 1, "latency", storage
        valid = hw_cost.valid_reuse(anchor)
        if reuse not in valid:
            near = ", ".join(map(str, hw_cost.nearest(valid, reuse)))
            raise _fail(anchor, f"reuse factor {reuse} is not valid for layer '{name}' "
                                f"({hw_cost.macs_per_beat(anchor)} multiplications per beat); valid values near "
                                f"it: {near} (all: {', '.join(map(str, valid))}). Set [layer.{name}] reuse_factor "
                                "in the config to choose another for this layer")
        _, _, bits = hw_cost.weight_stats(anchor)
        storage = "registers" if strategy == "latency" else "bram" if bits > _BRAM_BITS else "lutram"
        return reuse, strategy, storage


def _fusion_source(op: Operation) -> OpResult | None:
    """The process result ``op`` can join: its only computed operand, used by ``op`` alone."""
    if not isinstance(op, FUSIBLE):
        return None
    computed = [v for v in op.operands if not df.is_constant(v)]
    if len(computed) != 1 or not isinstance(computed[0], OpResult):
        return None
    v = computed[0]
    if len(v.uses) != 1 or len(v.op.results) != 1 or isinstance(v.op, (qt.FromFloatOp, qt.ToFloatOp)):
        return None
    return v


def _group_inputs(g: _Group) -> list[Value]:
    inside = {r for op in g.ops for r in op.results}
    seen: list[Value] = []
    for op in g.ops:
        for v in op.operands:
            if v not in inside and not df.is_constant(v) and v not in seen:
                seen.append(v)
    return seen


def _group_outputs(g: _Group) -> list[Value]:
    members = set(map(id, g.ops))
    return [r for op in g.ops for r in op.results
            if any(id(u) not in members for u in r.users) or not r.uses]
