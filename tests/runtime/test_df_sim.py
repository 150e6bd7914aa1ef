"""The ``df`` FIFO simulation against whole-tensor ``qt`` evaluation, deadlocks, peaks and
``df-size-fifos``."""

from __future__ import annotations

import numpy as np
import pytest

from fmlc.compiler.driver import load_all
from fmlc.compiler.ir import Operation
from fmlc.compiler.parser import parse_module, parse_type
from fmlc.compiler.pass_manager import PassManager
from fmlc.compiler.passes import parse_pipeline
from fmlc.compiler.verifier import verify
from fmlc.dialects import df
from fmlc.runtime import fixed as fx
from fmlc.runtime.df_rules import StreamHandle, simulate
from fmlc.runtime.interpreter import Interpreter, InterpretError, Tracer, TypedArray, entry_function, run
from fmlc.runtime.qt_rules import from_float_raw

load_all()

X8 = "!qt.fixed<8,3>"
U7 = "!qt.ufixed<7,2>"
S12 = "!qt.fixed<12,5>"


def _dims(shape: tuple[int, ...]) -> str:
    return "x".join(map(str, shape))


def tensor(shape: tuple[int, ...], elem: str) -> str:
    return f"tensor<{_dims(shape)}x{elem}>"


def stream(shape: tuple[int, ...], elem: str, lanes: int, depth: int) -> str:
    return f"!df.stream<{_dims(shape)}x{elem}, lanes = {lanes}, depth = {depth}>"


class Graph:
    """A ``df`` function written as text: inputs, processes, forks, outputs."""

    def __init__(self) -> None:
        self.args: list[str] = []
        self.lines: list[str] = []
        self.types: dict[str, tuple[tuple[int, ...], str, int, int]] = {}
        self.outs: list[str] = []
        self.n = 0

    def _new(self, shape: tuple[int, ...], elem: str, lanes: int, depth: int, name: str | None = None) -> str:
        self.n += 1
        name = name or f"%s{self.n}"
        self.types[name] = (shape, elem, lanes, depth)
        return name

    def _st(self, name: str) -> str:
        return stream(*self.types[name])

    def input(self, shape: tuple[int, ...], elem: str, lanes: int, depth: int = 1) -> str:
        x = f"%x{len(self.args)}"
        self.args.append(f"{x}: {tensor(shape, 'f32')}")
        s = self._new(shape, elem, lanes, depth)
        self.lines.append(f'{s} = "df.from_float"({x}) : ({tensor(shape, "f32")}) -> {self._st(s)}')
        return s

    def process(self, name: str, ins: list[str], body: str, out: tuple) -> str:
        """``body``: qt ops on ``%a0``, ``%a1``... ending with a ``df.yield``."""
        r = self._new(*out)
        head = ", ".join(f"%a{i}: {tensor(*self.types[s][:2])}" for i, s in enumerate(ins))
        self.lines.append(f'{r} = "df.process"({", ".join(ins)}) <{{layer = "{name}"}}> ({{\n^bb0({head}):\n{body}\n'
                          f'}}) : ({", ".join(self._st(s) for s in ins)}) -> {self._st(r)} loc("{name}_loc")')
        return r

    def fork(self, src: str, depths: list[int]) -> list[str]:
        shape, elem, lanes, _ = self.types[src]
        base = f"%f{self.n}"
        results = [self._new(shape, elem, lanes, d, f"{base}#{k}") for k, d in enumerate(depths)]
        self.lines.append(f'{base}:{len(results)} = "df.fork"({src}) : ({self._st(src)}) -> '
                          f'({", ".join(self._st(r) for r in results)})')
        return results

    def output(self, s: str) -> None:
        self.outs.append(s)

    def text(self) -> str:
        body, rets = [], []
        for i, s in enumerate(self.outs):
            shape = self.types[s][0]
            body.append(f'%y{i} = "df.to_float"({s}) : ({self._st(s)}) -> {tensor(shape, "f32")}')
            rets.append(f"%y{i}")
        ret_types = ", ".join(tensor(self.types[s][0], "f32") for s in self.outs)
        arg_types = ", ".join(a.split(": ", 1)[1] for a in self.args)
        return "\n".join([
            f'"func.func"() <{{function_type = ({arg_types}) -> ({ret_types}), sym_name = "main"}}> ({{',
            f"^bb0({', '.join(self.args)}):", *self.lines, *body,
            f'"func.return"({", ".join(rets)}) : ({ret_types}) -> ()', "}) : () -> ()"])

    def module(self) -> Operation:
        m = parse_module(self.text(), "graph.mlir")
        verify(m)
        return m


# ----------------------------------------------------------------------------- a reference


def reference(module: Operation, inputs: list[np.ndarray]) -> list[np.ndarray]:
    """The graph computed tensor by tensor: every process body run once on whole inputs."""
    func = entry_function(module)  # type: ignore[arg-type]
    interp, env = Interpreter(), {}
    for a, x in zip(func.regions[0].blocks[0].args, inputs, strict=True):
        env[a] = x
    outs = []
    for op in func.regions[0].blocks[0].ops:
        if isinstance(op, df.FromFloatOp):
            env[op.output] = from_float_raw(np.asarray(env[op.input], np.float32), op.output.type.element)
        elif isinstance(op, df.ForkOp):
            for r in op.outputs:
                env[r] = env[op.input]
        elif isinstance(op, df.ProcessOp):
            args = [TypedArray(env[v], v.type.tensor) for v in op.inputs]
            for r, y in zip(op.outputs, interp.run_region(op.body, args), strict=True):
                env[r] = y.data
        elif isinstance(op, df.ToFloatOp):
            outs.append(fx.to_float(env[op.input], op.input.type.element, np.float32))
    return outs


def check_against_reference(module: Operation, seed: int = 0, samples: int = 3) -> None:
    func = entry_function(module)  # type: ignore[arg-type]
    rng = np.random.default_rng(seed)
    for _ in range(samples):
        xs = [rng.uniform(-20, 20, a.type.shape).astype(np.float32) for a in func.regions[0].blocks[0].args]
        got = [r.data for r in run(module, xs)]  # type: ignore[arg-type]
        want = reference(module, xs)
        for g, w in zip(got, want, strict=True):
            assert g.dtype == np.float32
            np.testing.assert_array_equal(g, w)


def size(module: Operation, pipeline: str) -> Operation:
    return PassManager(parse_pipeline(pipeline)).run(module)  # type: ignore[arg-type]


def procs(module: Operation) -> dict[str, df.ProcessOp]:
    return {op.properties["layer"].value: op for op in module.walk() if isinstance(op, df.ProcessOp)}


def relu_cast(shape: tuple[int, ...]) -> str:
    return (f'%r = "qt.relu"(%a0) : ({tensor(shape, X8)}) -> {tensor(shape, U7)}\n'
            f'%c = "qt.cast"(%r) : ({tensor(shape, U7)}) -> {tensor(shape, S12)}\n'
            f'"df.yield"(%c) : ({tensor(shape, S12)}) -> ()')


# ----------------------------------------------------------------------------- df == qt


def test_parallel_chain_one_beat() -> None:
    g = Graph()
    shape = (1, 8)
    x = g.input(shape, X8, lanes=8)
    y = g.process("relu_cast", [x], relu_cast(shape), (shape, S12, 8, 1))
    z = g.process("relu2", [y], f'%r = "qt.relu"(%a0) : ({tensor(shape, S12)}) -> {tensor(shape, U7)}\n'
                                   f'"df.yield"(%r) : ({tensor(shape, U7)}) -> ()', (shape, U7, 8, 1))
    g.output(z)
    m = g.module()
    assert {df.schedule_kind(p) for p in procs(m).values()} == {"beat"}
    check_against_reference(m)
    _, flow = simulate(entry_function(m), [np.ones(shape, np.float32)])  # type: ignore[arg-type]
    assert set(flow.peaks.values()) == {1}


def test_stream_mode_per_beat_process() -> None:
    g = Graph()
    shape = (1, 4, 4, 2)
    x = g.input(shape, X8, lanes=2, depth=2)
    y = g.process("relu_cast", [x], relu_cast(shape), (shape, S12, 2, 2))
    g.output(y)
    m = g.module()
    p = procs(m)["relu_cast"]
    assert df.schedule_kind(p) == "beat" and p.outputs[0].type.beats == 16
    check_against_reference(m)
    _, flow = simulate(entry_function(m), [np.ones(shape, np.float32)])  # type: ignore[arg-type]
    assert all(1 <= v <= 2 for v in flow.peaks.values())  # never above the depth


def test_window_processes_match_the_qt_ops() -> None:
    g = Graph()
    shape, conv_shape, pool_shape = (1, 5, 5, 2), (1, 5, 5, 3), (1, 2, 2, 3)
    x = g.input(shape, X8, lanes=2)
    w = np.arange(-27, 27).reshape(3, 3, 2, 3) % 7 - 3
    conv = (f'%w = "qt.const"() <{{value = dense<{w.tolist()}> : {tensor((3, 3, 2, 3), "!qt.fixed<4,1>")}}}> : () '
            f'-> {tensor((3, 3, 2, 3), "!qt.fixed<4,1>")}\n'
            f'%c = "qt.conv"(%a0, %w) <{{dilations = [1 : i64, 1 : i64], groups = 1 : i64, '
            f'pads = [1 : i64, 1 : i64, 1 : i64, 1 : i64], strides = [1 : i64, 1 : i64]}}> : '
            f'({tensor(shape, X8)}, {tensor((3, 3, 2, 3), "!qt.fixed<4,1>")}) -> {tensor(conv_shape, S12)}\n'
            f'%r = "qt.relu"(%c) : ({tensor(conv_shape, S12)}) -> {tensor(conv_shape, S12)}\n'
            f'"df.yield"(%r) : ({tensor(conv_shape, S12)}) -> ()')
    c = g.process("conv", [x], conv, (conv_shape, S12, 3, 1))
    pool = (f'%m = "qt.max_pool"(%a0) <{{dilations = [1 : i64, 1 : i64], kernel = [2 : i64, 2 : i64], '
            f'pads = [0 : i64, 0 : i64, 0 : i64, 0 : i64], strides = [2 : i64, 2 : i64]}}> : '
            f'({tensor(conv_shape, S12)}) -> {tensor(pool_shape, S12)}\n'
            f'"df.yield"(%m) : ({tensor(pool_shape, S12)}) -> ()')
    p = g.process("pool", [c], pool, (pool_shape, S12, 3, 1))
    g.output(p)
    m = g.module()
    assert [df.schedule_kind(op) for op in procs(m).values()] == ["window", "window"]
    check_against_reference(m)


def test_fork_and_two_input_add() -> None:
    g = Graph()
    shape = (1, 4, 4, 2)
    x = g.input(shape, X8, lanes=2)
    a, b = g.fork(x, [1, 2])
    r = g.process("relu", [a], f'%r = "qt.relu"(%a0) : ({tensor(shape, X8)}) -> {tensor(shape, U7)}\n'
                                  f'"df.yield"(%r) : ({tensor(shape, U7)}) -> ()', (shape, U7, 2, 1))
    s = g.process("add", [r, b], add(shape, U7, X8), (shape, S12, 2, 1))
    g.output(s)
    m = g.module()
    assert df.schedule_kind(procs(m)["add"]) == "beat"
    check_against_reference(m)


def add(shape: tuple[int, ...], ta: str, tb: str) -> str:
    return (f'%s = "qt.add"(%a0, %a1) : ({tensor(shape, ta)}, {tensor(shape, tb)}) -> {tensor(shape, S12)}\n'
            f'"df.yield"(%s) : ({tensor(shape, S12)}) -> ()')


def test_several_outputs_and_a_stream_as_array() -> None:
    g = Graph()
    shape = (1, 2, 2, 2)
    x = g.input(shape, X8, lanes=2)
    a, b = g.fork(x, [1, 1])
    y = g.process("relu_cast", [a], relu_cast(shape), (shape, S12, 2, 1))
    g.output(y)
    g.output(b)
    m = g.module()
    check_against_reference(m)
    xs = [np.linspace(-4, 4, 8, dtype=np.float32).reshape(shape)]
    tracer = Tracer()
    run(m, xs, listeners=[tracer])  # type: ignore[arg-type]
    handle = tracer.values["relu_cast_loc"].data
    assert isinstance(handle, StreamHandle)  # as an array: the stream's tensor
    np.testing.assert_array_equal(np.asarray(handle), from_float_raw(reference(m, xs)[0], parse_type(S12)))


def test_a_wrong_schedule_shows_up(monkeypatch: pytest.MonkeyPatch) -> None:
    g = Graph()
    shape = (1, 4, 2)
    x = g.input(shape, X8, lanes=2)
    y = g.process("relu_cast", [x], relu_cast(shape), (shape, S12, 2, 1))
    g.output(y)
    m = g.module()
    xs = [np.full(shape, 3.0, np.float32)]
    early = lambda p: [df.Event(0, k, (max(k, 1),)) for k in range(4)]  # noqa: E731  beat k before reading it
    monkeypatch.setattr(df, "process_events", early)
    got = run(m, xs)[0].data  # type: ignore[arg-type]
    assert not np.array_equal(got, reference(m, xs)[0])
    assert np.all(got[0, 1:] == 0)  # written from zeros: beat k was not read yet


def test_a_stream_with_two_readers_is_an_error() -> None:
    g = Graph()
    shape = (1, 2)
    x = g.input(shape, X8, lanes=2)
    y = g.process("one", [x], relu_cast(shape), (shape, S12, 2, 1))
    z = g.process("two", [x], relu_cast(shape), (shape, S12, 2, 1))
    g.output(y)
    g.output(z)
    with pytest.raises(InterpretError, match="reads the stream from 'input x0' that process 'one'"):
        run(g.module(), [np.zeros(shape, np.float32)])  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- deadlock and sizing


def rejoin(direct_depth: int) -> Operation:
    """x -> fork -> (transpose: all beats first) and (direct, depth ``direct_depth``) -> add."""
    g = Graph()
    shape = (1, 4, 4, 2)
    x = g.input(shape, X8, lanes=2, depth=1)
    a, b = g.fork(x, [1, direct_depth])
    tr = (f'%t = "qt.transpose"(%a0) <{{perm = [0 : i64, 2 : i64, 1 : i64, 3 : i64]}}> : '
          f'({tensor(shape, X8)}) -> {tensor(shape, X8)}\n"df.yield"(%t) : ({tensor(shape, X8)}) -> ()')
    t = g.process("transpose", [a], tr, (shape, X8, 2, 1))
    s = g.process("add", [t, b], add(shape, X8, X8), (shape, S12, 2, 1))
    g.output(s)
    return g.module()


def test_deadlock_names_every_stuck_process() -> None:
    m = rejoin(direct_depth=1)
    assert [df.schedule_kind(p) for p in procs(m).values()] == ["whole", "beat"]
    with pytest.raises(InterpretError) as info:
        run(m, [np.zeros((1, 4, 4, 2), np.float32)])  # type: ignore[arg-type]
    msg = str(info.value)
    assert "\n" not in msg and "deadlock" in msg
    assert "process 'add' (add_loc) reading an empty stream from 'transpose'" in msg
    assert "process 'transpose' (transpose_loc) reading an empty stream from 'fork of input x0'" in msg
    assert "fork 'fork of input x0' (graph.mlir:" in msg and "writing a full stream (depth 1) to 'add'" in msg
    assert "sink 'host output'" in msg and "source 'input x0'" in msg


def test_size_fifos_makes_the_deadlocked_graph_run() -> None:
    m = rejoin(direct_depth=1)
    m = size(m, "df-size-fifos")
    depths = {label: r.type.depth for label, r in streams(m).items()}
    # the direct branch holds what the transpose reads before its first write
    assert depths == {"input": 1, "fork#0": 1, "fork#1": 16, "transpose": 1, "add": 1}
    check_against_reference(m)
    _, flow = simulate(entry_function(m), [np.zeros((1, 4, 4, 2), np.float32)])  # type: ignore[arg-type]
    assert all(flow.peaks[r] <= r.type.depth for r in streams(m).values())


def test_size_fifos_cap_can_deadlock() -> None:
    m = size(rejoin(direct_depth=1), "df-size-fifos{max-depth=4}")
    assert max(r.type.depth for r in streams(m).values()) == 4
    with pytest.raises(InterpretError, match="deadlock"):
        run(m, [np.zeros((1, 4, 4, 2), np.float32)])  # type: ignore[arg-type]


def streams(m: Operation) -> dict[str, object]:
    out = {}
    for op in m.walk():
        if isinstance(op, df.FromFloatOp):
            out["input"] = op.output
        elif isinstance(op, df.ForkOp):
            out.update({f"fork#{k}": r for k, r in enumerate(op.outputs)})
        elif isinstance(op, df.ProcessOp):
            out[op.properties["layer"].value] = op.outputs[0]
    return out


def test_sizing_a_chain_needs_depth_one() -> None:
    g = Graph()
    shape = (1, 4, 4, 2)
    x = g.input(shape, X8, lanes=2, depth=16)
    y = g.process("a", [x], relu_cast(shape), (shape, S12, 2, 16))
    g.output(y)
    m = size(g.module(), "df-size-fifos")
    assert {r.type.depth for r in streams(m).values()} == {1}
    check_against_reference(m)


def test_a_host_op_between_two_networks_runs_them_in_turn() -> None:
    """The second network needs the first one's output: it runs in a second simulation,
    where the fork output the first left unread is a full source."""
    shape, t = (1, 4, 2), tensor((1, 4, 2), "f32")
    text = f'''"func.func"() <{{function_type = ({t}) -> ({t}, {t}), sym_name = "main"}}> ({{
^bb0(%x: {t}):
  %s = "df.from_float"(%x) : ({t}) -> {stream(shape, X8, 2, 1)}
  %f:2 = "df.fork"(%s) : ({stream(shape, X8, 2, 1)}) -> ({stream(shape, X8, 2, 1)}, {stream(shape, X8, 2, 1)})
  %r = "df.process"(%f#0) <{{layer = "first"}}> ({{
  ^bb0(%a0: {tensor(shape, X8)}):
{relu_cast(shape)}
  }}) : ({stream(shape, X8, 2, 1)}) -> {stream(shape, S12, 2, 1)}
  %y = "df.to_float"(%r) : ({stream(shape, S12, 2, 1)}) -> {t}
  %h = "onnx.Relu"(%y) : ({t}) -> {t}
  %s2 = "df.from_float"(%h) : ({t}) -> {stream(shape, X8, 2, 1)}
  %q = "df.process"(%s2, %f#1) <{{layer = "second"}}> ({{
  ^bb0(%a0: {tensor(shape, X8)}, %a1: {tensor(shape, X8)}):
{add(shape, X8, X8)}
  }}) : ({stream(shape, X8, 2, 1)}, {stream(shape, X8, 2, 1)}) -> {stream(shape, S12, 2, 1)}
  %z = "df.to_float"(%q) : ({stream(shape, S12, 2, 1)}) -> {t}
  "func.return"(%y, %z) : ({t}, {t}) -> ()
}}) : () -> ()'''
    m = parse_module(text, "two.mlir")
    verify(m)
    x = np.linspace(-6, 6, 8, dtype=np.float32).reshape(shape)
    (y, z), flow = simulate(entry_function(m), [x])  # type: ignore[arg-type]
    xq = fx.to_float(from_float_raw(x, parse_type(X8)), parse_type(X8), np.float32)
    h = fx.to_float(from_float_raw(np.maximum(y.data, 0), parse_type(X8)), parse_type(X8), np.float32)
    np.testing.assert_array_equal(y.data, np.maximum(xq, 0))
    np.testing.assert_array_equal(z.data, (h + xq).astype(np.float32))
    assert len(flow.nodes) == 7 and all(n.done for n in flow.nodes.values())


def test_a_process_with_two_outputs() -> None:
    """A per-beat split writes its outputs' beats round robin, to two host outputs."""
    shape, s1, s2 = (1, 4, 4, 3), (1, 4, 4, 1), (1, 4, 4, 2)
    i, o1, o2 = stream(shape, X8, 3, 1), stream(s1, X8, 1, 1), stream(s2, X8, 2, 1)
    text = f'''"func.func"() <{{function_type = ({tensor(shape, "f32")}) -> ({tensor(s1, "f32")}, {tensor(s2, "f32")}),
                  sym_name = "main"}}> ({{
^bb0(%x: {tensor(shape, "f32")}):
  %s = "df.from_float"(%x) : ({tensor(shape, "f32")}) -> {i}
  %p:2 = "df.process"(%s) <{{layer = "split"}}> ({{
  ^bb0(%a: {tensor(shape, X8)}):
    %u, %v = "qt.split"(%a) <{{axis = 3 : i64}}> : ({tensor(shape, X8)}) -> ({tensor(s1, X8)}, {tensor(s2, X8)})
    "df.yield"(%u, %v) : ({tensor(s1, X8)}, {tensor(s2, X8)}) -> ()
  }}) : ({i}) -> ({o1}, {o2})
  %y = "df.to_float"(%p#0) : ({o1}) -> {tensor(s1, "f32")}
  %z = "df.to_float"(%p#1) : ({o2}) -> {tensor(s2, "f32")}
  "func.return"(%y, %z) : ({tensor(s1, "f32")}, {tensor(s2, "f32")}) -> ()
}}) : () -> ()'''
    m = parse_module(text, "split.mlir")
    verify(m)
    p = procs(m)["split"]
    assert df.schedule_kind(p) == "beat" and [e.output for e in df.process_events(p)[:4]] == [0, 1, 0, 1]
    check_against_reference(m)


def test_one_interpreter_calls_twice() -> None:
    g = Graph()
    shape = (1, 4, 2)
    x = g.input(shape, X8, lanes=2)
    g.output(g.process("relu_cast", [x], relu_cast(shape), (shape, S12, 2, 1)))
    m = g.module()
    func, interp = entry_function(m), Interpreter()  # type: ignore[arg-type]
    for v in (1.5, -2.0, 3.25):
        xs = [np.full(shape, v, np.float32)]
        np.testing.assert_array_equal(interp.call(func, xs)[0].data, reference(m, xs)[0])
