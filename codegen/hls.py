"""``df-to-cpp``: a df-level module → the firmware's C++ AST (a :class:`Project`).

One C++ function per ``df.process`` (and per ``df.fork`` in io=stream), a top function
wiring them, ``defines.h`` (typedefs, beat structs) and ``weights.h`` (``static const``
arrays).  The function of a process follows its schedule (``df.schedule_kind``):

* io=parallel: arrays in, arrays out, the body on whole tensors, ``PIPELINE II=reuse``.
* ``beat``: a loop over beats (``PIPELINE II=reuse``): read one beat of every input,
  compute the body on rows, write one beat of every output.
* ``window``: a line buffer of (K−1)·d+1 rows; after each input beat, the output pixels
  that became complete are computed and written (the same order the df interpreter uses).
* ``whole``: read every input beat into a buffer, compute, write every output beat.

Names here are raw; :func:`fmlc.codegen.legalize.legalize` maps them before printing.
"""

from __future__ import annotations

import math
import re

import attrs
import numpy as np

from fmlc.codegen import cpp as C
from fmlc.codegen import gather, kernels, trees  # noqa: F401  (register the qt emission rules)
from fmlc.codegen.emit import EMITTERS, Arr, CodegenError, Ctx, ModuleCtx, emit_error
from fmlc.compiler.builtin import ModuleOp
from fmlc.compiler.ir import Operation, Value
from fmlc.compiler.opdef import ConstantLike
from fmlc.dialects import df
from fmlc.dialects.func import FuncOp, ReturnOp
from fmlc.dialects.qt import BipolarType, FixedPointType, integer

DEFAULT_PART = "xcvu13p-flga2577-2-e"
DEFAULT_CLOCK_NS = 5.0
_SHORT = re.compile(r"^[A-Za-z]{1,3}\d*$")
_INT32 = integer(32)


@attrs.frozen
class Port:
    name: str                       # graph input/output name (model text, not C++)
    param: str                      # raw C++ parameter name of the top function
    shape: tuple[int, ...]
    element: FixedPointType | BipolarType
    ctype: C.TypeName               # typedef of the element type
    beat: C.TypeName | None         # io=stream: the beat struct (``data[lanes]``)
    lanes: int
    beats: int


@attrs.frozen
class Project:
    name: str
    top: str
    io: str
    inputs: tuple[Port, ...]
    outputs: tuple[Port, ...]
    units: dict[str, C.TranslationUnit]
    header: str
    part: str = DEFAULT_PART
    clock_ns: float = DEFAULT_CLOCK_NS


def io_mode(module: ModuleOp) -> str:
    streams = [r.type for op in module.walk() for r in op.results if isinstance(r.type, df.StreamType)]
    return "stream" if any(s.beats > 1 or s.lanes != max(math.prod(s.shape), 1) for s in streams) else "parallel"


def build_firmware(module: ModuleOp, name: str, io: str | None = None, part: str = DEFAULT_PART,
                   clock_ns: float = DEFAULT_CLOCK_NS) -> Project:
    """The firmware AST of a df-level module (``name``: the project / top function name)."""
    funcs = [op for op in module.walk() if isinstance(op, FuncOp)]
    if len(funcs) != 1:
        raise CodegenError(f"error: expected one function in the df module, found {len(funcs)}")
    return _Builder(funcs[0], name, io or io_mode(module)).build(part, clock_ns)


def _proc_name(raw: str) -> str:
    return f"layer_{raw}" if _SHORT.match(raw) else raw


class _Builder:
    def __init__(self, func: FuncOp, name: str, io: str) -> None:
        self.func, self.name, self.io = func, name, io
        self.m = ModuleCtx(partition=True)
        self.functions: list[C.Function] = []
        self.beats: dict[tuple[object, int], C.TypeName] = {}
        self.structs: list[C.Struct] = []

    # -- names and types -------------------------------------------------------
    def beat(self, s: df.StreamType) -> C.TypeName:
        key = (s.element, s.lanes)
        if key not in self.beats:
            elem = self.m.typedef(s.element)  # type: ignore[arg-type]
            name = self.m.unique(f"beat_{elem.name.removesuffix('_t')}_x{s.lanes}")
            self.structs.append(C.Struct(name, [C.Field(elem, "data", (s.lanes,))]))
            self.beats[key] = C.TypeName(name)
        return self.beats[key]

    def param(self, s: df.StreamType, pname: str, is_input: bool) -> C.Param:
        if self.io == "stream":
            return C.Param(C.CType("hls::stream", [self.beat(s)]), pname, ref=True)
        return C.Param(self.m.typedef(s.element), pname, (max(math.prod(s.shape), 1),),  # type: ignore[arg-type]
                       const=is_input)

    # -- processes -------------------------------------------------------------
    def process(self, proc: df.ProcessOp) -> str:
        fname = self.m.unique(_proc_name(proc.layer.value))
        ins = [f"in{k}" for k in range(len(proc.inputs))]
        outs = [f"out{k}" for k in range(len(proc.outputs))]
        params = [*(self.param(s.type, n, True) for s, n in zip(proc.inputs, ins, strict=True)),
                  *(self.param(s.type, n, False) for s, n in zip(proc.outputs, outs, strict=True))]
        kind = "whole" if self.io == "parallel" else df.schedule_kind(proc)
        if self.io == "parallel":
            body, pragmas = self._parallel(proc, fname, ins, outs)
            pragmas = [C.Pragma("PIPELINE", (("II", proc.ii.value),)), *pragmas]
        elif kind == "beat":
            body, pragmas = self._beat(proc, fname, ins, outs)
        elif kind == "window":
            body, pragmas = self._window(proc, fname, ins, outs)
        else:
            body, pragmas = self._whole_stream(proc, fname, ins, outs)
        self.functions.append(C.Function(C.VOID, fname, params, body, pragmas))
        return fname

    def _ctx(self, proc: df.ProcessOp, fname: str, beat: C.Expr, rows: bool) -> Ctx:
        ctx = Ctx(self.m, fname, beat, rows)
        ctx.reuse = proc.reuse.value
        return ctx

    def _body(self, ctx: Ctx, proc: df.ProcessOp, args: list[Arr]) -> list[Arr]:
        """Emit the process body's ops; returns the arrays of the yielded values."""
        values: dict[Value, Arr] = dict(zip(proc.block.args, args, strict=True))
        first = True
        window = ctx.window
        for op in proc.block.ops:
            if isinstance(op, df.YieldOp):
                return [values[v] for v in op.values]
            if op.has_trait(ConstantLike):
                raw = np.asarray(op.value.data)  # type: ignore[attr-defined]
                values[op.results[0]] = ctx.const(raw, op.results[0].type.element, "w")
                continue
            rule = _rule_for(op)
            ctx.window = window if first else None
            first = False
            operands = [values.get(v) for v in op.operands]
            out = rule(ctx, op, *operands)
            for r, a in zip(op.results, out if isinstance(out, tuple) else (out,), strict=True):
                values[r] = a
        raise emit_error(proc, "body has no df.yield")

    def _parallel(self, proc: df.ProcessOp, fname: str, ins: list[str], outs: list[str]
                  ) -> tuple[list[C.Stmt], list[C.Pragma]]:
        ctx = self._ctx(proc, fname, C.Int(0), False)
        args = [Arr(n, s.type.element, max(math.prod(s.type.shape), 1)) for n, s in zip(ins, proc.inputs, strict=True)]
        results = self._body(ctx, proc, args)
        for n, r in zip(outs, results, strict=True):
            ctx.emit(ctx.loop("i", r.size, [C.Assign(C.Index(C.Name(n), C.Name("i")), r.at(C.Name("i")))]))
        parts = [C.Pragma("ARRAY_PARTITION", (("variable", C.Name(n)), "complete", ("dim", 0))) for n in ins + outs]
        return ctx.stmts, [*parts, *ctx.pragmas]

    def _read_beat(self, ctx: Ctx, stream: str, s: df.StreamType, into: str, offset: C.Expr | None) -> list[C.Stmt]:
        b = f"{into}_beat"

        def dst(l_: C.Expr) -> C.Expr:
            return C.Index(C.Name(into), l_ if offset is None else C.BinOp("+", offset, l_))

        return [C.VarDecl(self.beat(s), b, init=C.Call(C.Member(C.Name(stream), "read"))),
                ctx.loop("l", s.lanes, [C.Assign(dst(C.Name("l")), C.Index(C.Member(C.Name(b), "data"), C.Name("l")))])]

    def _write_beat(self, ctx: Ctx, stream: str, s: df.StreamType, src: Arr, offset: C.Expr | None) -> list[C.Stmt]:
        b = f"{stream}_beat"

        def at(l_: C.Expr) -> C.Expr:
            return src.at(l_ if offset is None else C.BinOp("+", offset, l_))

        return [C.VarDecl(self.beat(s), b),
                ctx.loop("l", s.lanes, [C.Assign(C.Index(C.Member(C.Name(b), "data"), C.Name("l")), at(C.Name("l")))]),
                C.ExprStmt(C.Call(C.Member(C.Name(stream), "write"), (C.Name(b),)))]

    def _beat(self, proc: df.ProcessOp, fname: str, ins: list[str], outs: list[str]
              ) -> tuple[list[C.Stmt], list[C.Pragma]]:
        ctx = self._ctx(proc, fname, C.Name("k"), True)
        stmts: list[C.Stmt] = []
        args = []
        for n, s in zip(ins, proc.inputs, strict=True):
            stmts.append(C.VarDecl(self.m.typedef(s.type.element), f"{n}_row", (s.type.lanes,)))
            stmts.extend(self._read_beat(ctx, n, s.type, f"{n}_row", None))
            args.append(Arr(f"{n}_row", s.type.element, s.type.lanes, whole=False))
        ctx.stmts = stmts
        results = self._body(ctx, proc, args)
        for n, s, r in zip(outs, proc.outputs, results, strict=True):
            ctx.emit(*self._write_beat(ctx, n, s.type, r, None))
        beats = proc.outputs[0].type.beats
        loop = C.For("k", C.Int(0), C.Int(beats), ctx.stmts, (C.Pragma("PIPELINE", (("II", proc.ii.value),)),))
        return [loop], ctx.pragmas

    def _whole_stream(self, proc: df.ProcessOp, fname: str, ins: list[str], outs: list[str]
                      ) -> tuple[list[C.Stmt], list[C.Pragma]]:
        ctx = self._ctx(proc, fname, C.Int(0), False)
        args = []
        for n, s in zip(ins, proc.inputs, strict=True):
            t = s.type
            size = max(math.prod(t.shape), 1)
            ctx.emit(C.VarDecl(self.m.typedef(t.element), f"{n}_buf", (size,)))
            read = self._read_beat(ctx, n, t, f"{n}_buf", C.BinOp("*", C.Name("k"), C.Int(t.lanes)))
            ctx.emit(C.For("k", C.Int(0), C.Int(t.beats), read, (C.Pragma("PIPELINE"),)))
            args.append(Arr(f"{n}_buf", t.element, size))
        results = self._body(ctx, proc, args)
        most = max(s.type.beats for s in proc.outputs)
        writes: list[C.Stmt] = []
        for n, s, r in zip(outs, proc.outputs, results, strict=True):
            w = self._write_beat(ctx, n, s.type, r, C.BinOp("*", C.Name("k"), C.Int(s.type.lanes)))
            writes.extend(w if s.type.beats == most else [C.If(C.BinOp("<", C.Name("k"), C.Int(s.type.beats)), w)])
        ctx.emit(C.For("k", C.Int(0), C.Int(most), writes, (C.Pragma("PIPELINE"),)))
        return ctx.stmts, ctx.pragmas

    def _window(self, proc: df.ProcessOp, fname: str, ins: list[str], outs: list[str]
                ) -> tuple[list[C.Stmt], list[C.Pragma]]:
        op = df.anchor(proc)
        assert op is not None
        spatial, out_sp, *_ = df.window_geometry(op)
        if len(spatial) > 2:
            raise emit_error(op, "streaming windows over more than two spatial dims have no C++ emission")
        t = proc.inputs[0].type
        chans = t.lanes
        rows = df.ring_rows(op)
        needs = df.window_needs(op)
        in_beats = t.beats
        ready = np.zeros(in_beats, dtype=np.int64)
        for need in needs:
            ready[need - 1] += 1
        first = np.concatenate([[0], np.cumsum(ready)[:-1]])
        most = int(ready.max())
        ctx = self._ctx(proc, fname, C.Name("p"), True)
        width = spatial[1] if len(spatial) == 2 else 1
        buf_dims = (rows, width, chans) if len(spatial) == 2 else (rows, chans)
        stmts: list[C.Stmt] = [C.VarDecl(self.m.typedef(t.element), "buf", buf_dims),
                               C.Pragma("ARRAY_PARTITION", (("variable", C.Name("buf")), "complete", ("dim", 0)))]
        first_tab = self.m.constant(first, _INT32, f"{fname}_first", index=True)
        count_tab = self.m.constant(ready, _INT32, f"{fname}_ready", index=True)
        j = C.Name("j")
        # read one input beat into the ring
        if len(spatial) == 2:
            slot = [C.BinOp("%", C.BinOp("/", j, C.Int(width)), C.Int(rows)), C.BinOp("%", j, C.Int(width))]
        else:
            slot = [C.BinOp("%", j, C.Int(rows))]
        target: C.Expr = C.Name("buf")
        for e in slot:
            target = C.Index(target, e)
        read = [C.VarDecl(self.beat(t), "in0_beat", init=C.Call(C.Member(C.Name(ins[0]), "read"))),
                ctx.loop("l", chans, [C.Assign(C.Index(target, C.Name("l")),
                                               C.Index(C.Member(C.Name("in0_beat"), "data"), C.Name("l")))])]
        p = C.Name("p")
        out_pos = [C.BinOp("/", p, C.Int(out_sp[1])), C.BinOp("%", p, C.Int(out_sp[1]))] if len(out_sp) == 2 else [p]
        ctx.window = _Ring(rows, len(spatial), out_pos)
        ctx.stmts = [C.VarDecl(C.CType("int"), "p", init=C.BinOp("+", first_tab.at(j), C.Name("n")))]
        results = self._body(ctx, proc, [Arr("buf", t.element, 0, whole=False)])
        for n, s, r in zip(outs, proc.outputs, results, strict=True):
            ctx.emit(*self._write_beat(ctx, n, s.type, r, None))
        emit_loop = C.For("n", C.Int(0), C.Int(most), [C.If(C.BinOp("<", C.Name("n"), count_tab.at(j)), ctx.stmts)])
        stmts.append(C.For("j", C.Int(0), C.Int(in_beats), [*read, emit_loop],
                           (C.Pragma("PIPELINE", (("II", proc.ii.value),)),)))
        return stmts, ctx.pragmas

    def fork(self, op: df.ForkOp) -> str:
        fname = self.m.unique("fork")
        s = op.input.type
        outs = [f"out{k}" for k in range(len(op.outputs))]
        params = [self.param(s, "in0", True), *(self.param(r.type, n, False) for r, n in zip(op.outputs, outs,
                                                                                             strict=True))]
        b = C.Name("b")
        body = [C.VarDecl(self.beat(s), "b", init=C.Call(C.Member(C.Name("in0"), "read"))),
                *(C.ExprStmt(C.Call(C.Member(C.Name(n), "write"), (b,))) for n in outs)]
        loop = C.For("k", C.Int(0), C.Int(s.beats), body, (C.Pragma("PIPELINE"),))
        self.functions.append(C.Function(C.VOID, fname, params, [loop]))
        return fname

    # -- the top function -------------------------------------------------------
    def build(self, part: str, clock_ns: float) -> Project:
        block = self.func.entry
        in_names, out_names = _interface(self.func)
        ret = block.last_op
        assert isinstance(ret, ReturnOp)
        inputs: list[Port] = []
        outputs: list[Port] = []
        names: dict[Value, str] = {}
        for op in block.ops:
            if isinstance(op, df.FromFloatOp):
                k = block.args.index(op.input)
                port = self._port(in_names[k], f"in_{in_names[k]}", op.output.type)
                inputs.append(port)
                names[op.output] = port.param
        to_ports: dict[Value, Port] = {}
        for k, v in enumerate(ret.values):
            to = v.op  # type: ignore[attr-defined]
            if not isinstance(to, df.ToFloatOp):
                raise emit_error(ret, "every output must be a df.to_float result")
            port = self._port(out_names[k], f"out_{out_names[k]}", to.input.type)
            outputs.append(port)
            to_ports[to.input] = port
        body: list[C.Stmt] = []
        copies: list[C.Stmt] = []

        def copy_out(r: Value) -> None:  # an output port written from a value that also feeds processes
            n = max(math.prod(r.type.shape), 1)  # type: ignore[attr-defined]
            copies.append(C.For("i", C.Int(0), C.Int(n), [C.Assign(
                C.Index(C.Name(to_ports[r].param), C.Name("i")), C.Index(C.Name(names[r]), C.Name("i")))],
                (C.Pragma("UNROLL"),)))

        for op in block.ops:
            if isinstance(op, (df.ProcessOp, df.ForkOp)):
                if isinstance(op, df.ForkOp) and self.io == "parallel":
                    for r in op.outputs:
                        names[r] = names[op.input]
                        if r in to_ports:
                            copy_out(r)
                    continue
                fname = self.process(op) if isinstance(op, df.ProcessOp) else self.fork(op)
                args = []
                for r in op.results:
                    if r in to_ports and not (self.io == "parallel" and len(r.uses) > 1):
                        names[r] = to_ports[r].param
                    else:
                        names[r] = self.m.unique(f"s_{fname}_{r.index}")
                        body.extend(self._local(r, names[r]))
                        if r in to_ports:
                            copy_out(r)
                    args.append(C.Name(names[r]))
                body.append(C.ExprStmt(C.Call(C.Name(fname), [*(C.Name(names[v]) for v in op.operands), *args])))
        top_params = [*(self._top_param(p, True) for p in inputs), *(self._top_param(p, False) for p in outputs)]
        pragmas: list[C.Pragma] = []
        for p in [*inputs, *outputs]:
            if self.io == "stream":
                pragmas.append(C.Pragma("INTERFACE", ("axis", ("port", C.Name(p.param)))))
            else:
                pragmas.append(C.Pragma("ARRAY_PARTITION", (("variable", C.Name(p.param)), "complete", ("dim", 0))))
                pragmas.append(C.Pragma("INTERFACE", ("ap_vld", ("port", C.Name(p.param)))))
        if self.io == "stream":
            pragmas.append(C.Pragma("DATAFLOW"))
        else:
            ii = max((op.ii.value for op in block.ops if isinstance(op, df.ProcessOp)), default=1)
            pragmas.append(C.Pragma("PIPELINE", (("II", ii),)))
        top = C.Function(C.VOID, self.name, top_params, [*body, *copies], pragmas)
        proto = C.Function(C.VOID, self.name, top_params, None)
        return self._project(top, proto, tuple(inputs), tuple(outputs), part, clock_ns)

    def _local(self, r: Value, var: str) -> list[C.Stmt]:
        s: df.StreamType = r.type  # type: ignore[assignment]
        if self.io == "stream":
            return [C.VarDecl(C.CType("hls::stream", [self.beat(s)]), var),
                    C.Pragma("STREAM", (("variable", C.Name(var)), ("depth", s.depth)))]
        return [C.VarDecl(self.m.typedef(s.element), var, (max(math.prod(s.shape), 1),)),  # type: ignore[arg-type]
                C.Pragma("ARRAY_PARTITION", (("variable", C.Name(var)), "complete", ("dim", 0)))]

    def _port(self, graph_name: str, param: str, s: df.StreamType) -> Port:
        elem = s.element
        return Port(graph_name, self.m.unique(param), tuple(s.shape), elem, self.m.typedef(elem),  # type: ignore[arg-type]
                    self.beat(s) if self.io == "stream" else None, s.lanes, s.beats)

    def _top_param(self, p: Port, is_input: bool) -> C.Param:
        if self.io == "stream":
            return C.Param(C.CType("hls::stream", [p.beat]), p.param, ref=True)  # type: ignore[list-item]
        return C.Param(p.ctype, p.param, (max(math.prod(p.shape), 1),), const=is_input)

    def _project(self, top: C.Function, proto: C.Function, inputs: tuple[Port, ...], outputs: tuple[Port, ...],
                 part: str, clock_ns: float) -> Project:
        guard = f"{self.name.upper()}_DEFINES_H"
        includes = [C.Include("ap_fixed.h"), C.Include("ap_int.h")]
        if self.io == "stream":
            includes.append(C.Include("hls_stream.h"))
        defines = C.TranslationUnit([C.Guard(guard, [*includes, *self.m.typedefs.values(), *self.structs])])
        weights = C.TranslationUnit([C.Guard(f"{self.name.upper()}_WEIGHTS_H",
                                             [C.Include("cstdint", system=True), C.Include("defines.h"),
                                              *self.m.decoder_decls, *self.m.constant_decls])])
        header = C.TranslationUnit([C.Guard(f"{self.name.upper()}_H", [C.Include("defines.h"), proto])])
        source = C.TranslationUnit([C.Include(f"{self.name}.h"), C.Include("weights.h"), *self.functions, top])
        units = {"firmware/defines.h": defines, "firmware/weights.h": weights,
                 f"firmware/{self.name}.h": header, f"firmware/{self.name}.cpp": source}
        return Project(self.name, self.name, self.io, inputs, outputs, units, f"firmware/{self.name}.h", part,
                       clock_ns)


@attrs.frozen
class _Ring:
    """Window access into a line buffer of ``rows`` rows: ``buf[y % rows][x][c]``."""

    rows: int
    dims: int
    out_pos: list[C.Expr]

    def load(self, pos: list[C.Expr], c: C.Expr | int) -> C.Expr:
        e: C.Expr = C.Index(C.Name("buf"), C.BinOp("%", pos[0], C.Int(self.rows)))
        for p in pos[1:]:
            e = C.Index(e, p)
        return C.Index(e, C.Int(c) if isinstance(c, int) else c)


def _rule_for(op: Operation):  # type: ignore[no-untyped-def]
    for cls in type(op).__mro__:
        if cls in EMITTERS:
            return EMITTERS[cls]
    raise emit_error(op, "has no C++ emission rule (register one with @emits)")


def _interface(func: FuncOp) -> tuple[list[str], list[str]]:
    from fmlc.compiler.attributes import ArrayAttr

    block = func.entry
    ins = func.attributes.get("fmlc.inputs")
    outs = func.attributes.get("fmlc.outputs")
    n_out = len(block.last_op.operands) if block.last_op is not None else 0
    in_names = [a.value for a in ins] if isinstance(ins, ArrayAttr) else [f"input{i}" for i in range(len(block.args))]
    out_names = [a.value for a in outs] if isinstance(outs, ArrayAttr) else [f"output{i}" for i in range(n_out)]
    return in_names, out_names
