"""Interpreter rules of the ``df`` dialect: a FIFO simulation of the process network.

A stream's run-time value is a :class:`StreamHandle` on a :class:`Channel` (a FIFO of
``depth`` beats).  ``df.from_float``, ``df.fork`` and ``df.process`` compute nothing when
the interpreter reaches them: they register a node with the interpreter's
:class:`Dataflow` and return handles.  The first ``df.to_float`` registers the rest of
its block (the other host sinks included) and simulates every node registered so far;
nodes registered after a simulation run in a later one, where streams already written
act as full sources.

Each node is a small state machine with ``step``: it runs until it blocks (a read from
an empty FIFO, a write to a full one) or finishes.  A process follows
:func:`fmlc.dialects.df.process_events`: before writing output beat k it reads each
input, in order, up to the beats the event needs; after its last event it reads what
is left.  Its values come from running its body with the ``qt`` rules on per-input
buffers holding the beats read so far (zeros elsewhere), recomputed only when a beat
is to be written and new input was read since the last computation -- so a schedule
that writes a beat too early shows up as a df result that differs from qt.  The
scheduler visits the nodes round robin until all are done; a round without progress
is a deadlock, reported with every stuck node and what it waits on.

``unbounded=True`` (for sizing FIFOs) makes every FIFO infinite and lets each node
write at most one beat per visit, as if every process wrote one beat per cycle, so a
stream's peak occupancy is the buffering that rates and schedules really call for
(with run-until-blocked visits the first producer would fill every FIFO).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from fmlc.compiler.attributes import TensorType
from fmlc.compiler.ir import BlockArgument, Operation, OpResult, Value
from fmlc.compiler.location import UnknownLoc
from fmlc.dialects import df
from fmlc.runtime import fixed as fx
from fmlc.runtime.interpreter import Interpreter, InterpretError, TypedArray, impl, interpret_error
from fmlc.runtime.qt_rules import from_float_raw, host_array, to_host


class Channel:
    """One FIFO.  ``data`` is the stream's flattened raw tensor, valid for the first
    ``written`` beats; ``read`` beats were taken by the reader; ``peak`` is the most beats
    it held."""

    __slots__ = ("value", "lanes", "beats", "depth", "data", "written", "read", "peak", "reader")

    def __init__(self, value: Value, depth: int, data: np.ndarray | None = None) -> None:
        t: df.StreamType = value.type  # type: ignore[assignment]
        self.value = value
        self.lanes, self.beats, self.depth = t.lanes, t.beats, depth
        self.data = _zeros(t.element, t.lanes * t.beats) if data is None else data
        self.written = self.read = self.peak = 0
        self.reader: _Node | None = None

    def tensor(self) -> np.ndarray:
        return self.data.reshape(self.value.type.shape)  # type: ignore[attr-defined]


class StreamHandle:
    """The run-time value of a stream; as an array, its tensor (once simulated)."""

    __slots__ = ("channel",)

    def __init__(self, channel: Channel) -> None:
        self.channel = channel

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return np.asarray(self.channel.tensor(), dtype=dtype)

    @property
    def shape(self) -> tuple[int, ...]:
        return self.channel.value.type.shape  # type: ignore[attr-defined,no-any-return]

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __repr__(self) -> str:
        c = self.channel
        return f"<stream {label(c.value)}: {c.written}/{c.beats} beats written>"


def _zeros(element: Any, n: int) -> np.ndarray:
    return np.zeros(n, dtype=object if element.width > 63 else np.int64) if n else np.zeros(0, np.int64)


# ----------------------------------------------------------------------------- names


def label(value_or_op: Value | Operation) -> str:
    """A short name for a node (or the node writing a stream) in messages."""
    op = value_or_op.op if isinstance(value_or_op, OpResult) else value_or_op
    if isinstance(op, df.ProcessOp):
        return op.layer.value  # type: ignore[no-any-return]
    if isinstance(op, df.ForkOp):
        return f"fork of {label(op.input)}"
    if isinstance(op, df.FromFloatOp):
        src = op.input
        if isinstance(src, BlockArgument):
            return f"input {src.name_hint or src.index}"
        return "host input"
    if isinstance(op, df.ToFloatOp):
        return "host output"
    if isinstance(op, BlockArgument):
        return f"argument {op.index}"
    return getattr(op, "name", "?")


def _where(op: Operation) -> str:
    if isinstance(op.location, UnknownLoc) and op.source is not None:
        return str(op.source)
    return op.location.describe()


def describe(op: Operation) -> str:
    """``process 'Conv_0' (model.onnx:Conv_0)`` and the like."""
    kind = {df.ProcessOp: "process", df.ForkOp: "fork", df.FromFloatOp: "source", df.ToFloatOp: "sink"}
    return f"{kind.get(type(op), op.name)} '{label(op)}' ({_where(op)})"


# ----------------------------------------------------------------------------- nodes


class _Node:
    """A process of the network; ``step(budget)`` advances it (at most ``budget`` beats
    written per output when given) and returns whether anything happened."""

    op: Operation
    done = False
    wait: tuple[bool, Channel] | None = None  # (writing?, channel) where it blocked

    def step(self, budget: int | None) -> bool:
        raise NotImplementedError

    def waiting(self) -> str:
        if self.wait is None:
            return "not blocked"
        writing, ch = self.wait
        if writing:
            reader = "nobody" if ch.reader is None else f"'{label(ch.reader.op)}'"
            return f"writing a full stream (depth {ch.depth}) to {reader}"
        return f"reading an empty stream from '{label(ch.value)}'"


def _wrote(ch: Channel, n: int = 1) -> None:
    ch.written += n
    held = ch.written - ch.read
    if held > ch.peak:
        ch.peak = held


class _Source(_Node):
    """``df.from_float``: the converted tensor, written beat by beat."""

    def __init__(self, op: Operation, out: Channel) -> None:
        self.op, self.out = op, out

    def step(self, budget: int | None) -> bool:
        ch = self.out
        if ch.written == ch.beats:  # an empty tensor
            self.done = True
            return True
        limit = min(ch.beats, ch.read + ch.depth)
        if budget is not None:
            limit = min(limit, ch.written + budget)
        if limit <= ch.written:
            self.wait = (True, ch)
            return False
        _wrote(ch, limit - ch.written)
        self.done = ch.written == ch.beats
        return True


class _Sink(_Node):
    """``df.to_float``: reads every beat."""

    def __init__(self, op: Operation, inp: Channel) -> None:
        self.op, self.inp = op, inp

    def step(self, budget: int | None) -> bool:
        ch = self.inp
        moved = ch.written > ch.read
        ch.read = ch.written
        self.done = ch.read == ch.beats
        self.wait = None if self.done else (False, ch)
        return moved or self.done


class _Fork(_Node):
    """``df.fork``: reads beat k, then writes it to each output in turn.  The outputs
    share the input's data (each beat is written once, before it is read)."""

    def __init__(self, op: Operation, inp: Channel, outs: list[Channel]) -> None:
        self.op, self.inp, self.outs = op, inp, outs
        self.next = len(outs)  # the output to write the beat in hand to; len(outs): no beat in hand

    def step(self, budget: int | None) -> bool:
        inp, outs = self.inp, self.outs
        moved, beats = False, 0
        while True:
            if self.next == len(outs):
                if inp.read == inp.beats:
                    self.done = True
                    return True
                if budget is not None and beats >= budget:
                    return moved
                if inp.written == inp.read:
                    self.wait = (False, inp)
                    return moved
                inp.read += 1
                self.next, moved = 0, True
            while self.next < len(outs):
                ch = outs[self.next]
                if ch.written - ch.read >= ch.depth:
                    self.wait = (True, ch)
                    return moved
                _wrote(ch)
                self.next += 1
            beats += 1


class _Process(_Node):
    """``df.process``: follows its schedule, computing its body on what it has read."""

    def __init__(self, interp: Interpreter, op: df.ProcessOp, ins: list[Channel], outs: list[Channel]) -> None:
        self.op, self.interp, self.ins, self.outs = op, interp, ins, outs
        self.events = [(e.output, e.beat * outs[e.output].lanes, (e.beat + 1) * outs[e.output].lanes, e.needs)
                       for e in df.process_events(op)]
        self.at = 0
        self.bufs = [_zeros(ch.value.type.element, ch.lanes * ch.beats) for ch in ins]  # type: ignore[attr-defined]
        self.copied = [0] * len(ins)
        self.results: list[np.ndarray] = []
        self.stale = True

    def step(self, budget: int | None) -> bool:
        ins, outs, events = self.ins, self.outs, self.events
        moved, written = False, 0
        while self.at < len(events):
            j, lo, hi, needs = events[self.at]
            for ch, need in zip(ins, needs, strict=True):
                if ch.read < need:
                    got = min(need, ch.written)
                    if got > ch.read:
                        ch.read, moved, self.stale = got, True, True
                    if got < need:
                        self.wait = (False, ch)
                        return moved
            ch = outs[j]
            if ch.written - ch.read >= ch.depth:
                self.wait = (True, ch)
                return moved
            if budget is not None and written >= budget:
                return moved
            if self.stale:
                self._compute()
            ch.data[lo:hi] = self.results[j][lo:hi]
            _wrote(ch)
            self.at += 1
            moved, written = True, written + 1
        for ch in ins:  # the rest of every input
            if ch.read < ch.written:
                ch.read, moved = ch.written, True
            if ch.read < ch.beats:
                self.wait = (False, ch)
                return moved
        self.done = True
        if self.interp.listeners:  # listeners (a tracer) see the body once, on whole inputs
            self._compute(listen=True)
        return True

    def _compute(self, listen: bool = False) -> None:
        changed = not self.results
        for i, ch in enumerate(self.ins):
            buf, lo, hi = self.bufs[i], self.copied[i] * ch.lanes, ch.read * ch.lanes
            if hi > lo and (changed or np.any(buf[lo:hi] != ch.data[lo:hi])):  # beats of zeros change nothing
                buf[lo:hi] = ch.data[lo:hi]
                changed = True
            self.copied[i] = ch.read
        self.stale = False
        if not (changed or listen):
            return
        args = [TypedArray(buf.reshape(ch.value.type.shape).copy(), ch.value.type.tensor)  # type: ignore[attr-defined]
                for buf, ch in zip(self.bufs, self.ins, strict=True)]
        interp, listeners = self.interp, self.interp.listeners
        interp.listeners = listeners if listen else []
        try:
            self.results = [np.asarray(r.data).reshape(-1) for r in interp.run_region(self.op.body, args)]
        finally:
            interp.listeners = listeners


# ----------------------------------------------------------------------------- the network


class Dataflow:
    """The streams and processes one interpreter has registered, and their simulation."""

    def __init__(self, interp: Interpreter, unbounded: bool = False) -> None:
        self.interp = interp
        self.unbounded = unbounded
        self.channels: dict[Value, Channel] = {}
        self.nodes: dict[Operation, _Node] = {}
        self.pending: list[_Node] = []
        self.reached: set[Operation] = set()  # ops the interpreter ran (others were registered ahead)

    @property
    def peaks(self) -> dict[Value, int]:
        """The most beats each stream held (during the simulations run so far)."""
        return {v: ch.peak for v, ch in self.channels.items()}

    # -- registration (idempotent: a node registered ahead is found again by its op)
    def _channel(self, value: Value, data: np.ndarray | None = None) -> Channel:
        t: df.StreamType = value.type  # type: ignore[assignment]
        ch = self.channels[value] = Channel(value, t.beats if self.unbounded else t.depth, data)
        return ch

    def _input(self, op: Operation, value: Value) -> Channel:
        ch = self.channels[value]
        if ch.reader is not None:
            raise interpret_error(op, f"reads the stream from '{label(value)}' that "
                                      f"{describe(ch.reader.op)} reads too; fan it out with 'df.fork'")
        return ch

    def _add(self, node: _Node, inputs: Sequence[Channel] = ()) -> None:
        for ch in inputs:
            ch.reader = node
        self.nodes[node.op] = node
        self.pending.append(node)

    def source(self, op: df.FromFloatOp, x: TypedArray) -> list[Channel]:
        if op not in self.nodes:
            t: df.StreamType = op.output.type
            data = host_array(x.data, x.type.element)  # type: ignore[attr-defined]
            raw = fx.as_raw(np.asarray(from_float_raw(data, t.element)).reshape(-1), t.element, check=False)  # type: ignore[arg-type]
            self._add(_Source(op, self._channel(op.output, raw)))
        return [self.channels[op.output]]

    def fork(self, op: df.ForkOp) -> list[Channel]:
        if op not in self.nodes:
            inp = self._input(op, op.input)
            self._add(_Fork(op, inp, [self._channel(r, inp.data) for r in op.outputs]), [inp])
        return [self.channels[r] for r in op.outputs]

    def process(self, op: df.ProcessOp) -> list[Channel]:
        if op not in self.nodes:
            ins = [self._input(op, v) for v in op.inputs]
            self._add(_Process(self.interp, op, ins, [self._channel(r) for r in op.outputs]), ins)
        return [self.channels[r] for r in op.outputs]

    def sink(self, op: df.ToFloatOp) -> Channel:
        if op not in self.nodes:
            inp = self._input(op, op.input)
            self._add(_Sink(op, inp), [inp])
        return self.channels[op.input]

    def register_block(self, op: Operation) -> None:
        """Register every ``df`` op of ``op``'s block whose inputs are known (ahead of the
        interpreter), so that no stream of the network lacks its reader."""
        block = op.parent
        for o in block.ops if block is not None else [op]:
            if o in self.nodes:
                continue
            if isinstance(o, df.FromFloatOp):
                try:
                    x = self.interp.get(o.input)
                except KeyError:
                    continue
                self.source(o, x)
            elif isinstance(o, (df.ProcessOp, df.ForkOp, df.ToFloatOp)):
                if all(v in self.channels for v in o.operands):
                    {df.ProcessOp: self.process, df.ForkOp: self.fork, df.ToFloatOp: self.sink}[type(o)](o)

    # -- simulation
    def run(self) -> None:
        """Simulate the nodes registered since the last run until all are done."""
        nodes, self.pending = self.pending, []
        for ch in self.channels.values():
            if ch.reader is None:  # read by nothing registered yet: a host-side buffer
                ch.depth = ch.beats
        budget = 1 if self.unbounded else None
        active = [n for n in nodes if not n.done]
        while active:
            moved = False
            for n in active:
                moved = n.step(budget) or moved
            active = [n for n in active if not n.done]
            if active and not moved:
                raise deadlock(active)


def deadlock(stuck: Sequence[_Node]) -> InterpretError:
    """The error for a network where none of ``stuck`` can advance."""
    parts = [f"{describe(n.op)} {n.waiting()}" for n in stuck]
    at = next((n.op for n in stuck if isinstance(n, _Process)), stuck[0].op)
    return interpret_error(at, "deadlock, no process can advance: " + "; ".join(parts))


def dataflow(interp: Interpreter, op: Operation) -> Dataflow:
    """The interpreter's :class:`Dataflow` (created on first use), as the interpreter
    reaches ``op``; reaching an op a second time (a new call) starts a fresh network."""
    flow = getattr(interp, "dataflow", None)
    if flow is None or op in flow.reached:
        flow = interp.dataflow = Dataflow(interp, flow.unbounded if flow is not None else False)  # type: ignore[attr-defined]
    flow.reached.add(op)
    return flow  # type: ignore[no-any-return]


def _handles(op: Operation, channels: list[Channel]) -> tuple[TypedArray, ...]:
    return tuple(TypedArray(StreamHandle(ch), r.type) for r, ch in zip(op.results, channels, strict=True))


# ----------------------------------------------------------------------------- rules


@impl(df.FromFloatOp)
def _from_float(interp: Interpreter, op: df.FromFloatOp, x: TypedArray) -> tuple[TypedArray, ...]:
    return _handles(op, dataflow(interp, op).source(op, x))


@impl(df.ForkOp)
def _fork(interp: Interpreter, op: df.ForkOp, x: TypedArray) -> tuple[TypedArray, ...]:
    return _handles(op, dataflow(interp, op).fork(op))


@impl(df.ProcessOp)
def _process(interp: Interpreter, op: df.ProcessOp, *xs: TypedArray) -> tuple[TypedArray, ...]:
    return _handles(op, dataflow(interp, op).process(op))


@impl(df.YieldOp)
def _yield(interp: Interpreter, op: df.YieldOp, *xs: TypedArray) -> tuple[TypedArray, ...]:
    return xs


@impl(df.ToFloatOp)
def _to_float(interp: Interpreter, op: df.ToFloatOp, x: TypedArray) -> np.ndarray:
    flow = dataflow(interp, op)
    if op not in flow.nodes or not flow.nodes[op].done:
        flow.register_block(op)
        flow.run()
    ch = flow.channels[op.input]
    if ch.read < ch.beats:
        raise interpret_error(op, f"its stream from '{label(op.input)}' was not simulated")
    t: TensorType = op.output.type  # type: ignore[assignment]
    elem = op.input.type.element  # type: ignore[attr-defined]
    return to_host(fx.as_raw(ch.tensor(), elem, check=False), elem, t.element)


def simulate(func: Operation, inputs: Sequence[Any], *, unbounded: bool = False) -> tuple[list[TypedArray], Dataflow]:
    """Run ``func`` with a fresh interpreter; also returns its :class:`Dataflow` (peaks)."""
    interp = Interpreter()
    flow = interp.dataflow = Dataflow(interp, unbounded)  # type: ignore[attr-defined]
    results = interp.call(func, inputs)
    if flow.pending:  # streams no host output reads
        flow.run()
    return results, flow
