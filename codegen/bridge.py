"""C++ that drives a project's top function from outside: the csim bridge and the testbench.

Both are ASTs of :mod:`fmlc.codegen.cpp` over the *raw* names of a
:class:`~fmlc.codegen.hls.Project`; :func:`fmlc.codegen.project.project_files` legalises
them together with the firmware.

* :func:`bridge_unit` (``csim/bridge.cpp``) exports ``extern "C" int fmlc_csim_run(in0, ...,
  out0, ..., n)``: one ``int64`` pointer per port (inputs, then outputs), ``n`` samples
  sample-major, raw codes (signed types sign-extended, unsigned ones zero-extended, a
  64-bit unsigned code as its bit pattern; input codes are taken modulo 2^W).
* :func:`testbench_unit` (``tb/tb_<name>.cpp``) is a ``main`` reading float samples from
  ``tb_input.txt`` and writing ``%.17g`` outputs to ``tb_output.txt``: in ``tb/`` when run
  from the project folder, else in the current folder (where Vitis C-simulation copies
  the testbench files).  Floats convert as ``qt.from_float`` does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from fmlc.codegen import cpp as C
from fmlc.codegen.emit import ctype_of
from fmlc.compiler.diagnostics import FmlcError
from fmlc.dialects import qt
from fmlc.dialects.qt import BipolarType

if TYPE_CHECKING:
    from fmlc.codegen.hls import Port, Project

ENTRY = "fmlc_csim_run"
"""The raw name of the bridge's exported function (usable, so legalisation keeps it)."""
TB_MAIN = "main"
"""The raw name of the testbench entry point (legalisation renames it; :func:`fmlc.codegen.project.legal_project`
restores it)."""
TB_INPUT, TB_OUTPUT, TB_DIR = "tb_input.txt", "tb_output.txt", "tb/"
MAX_RAW_BITS = 64

I64 = C.CType("std::int64_t")
RAW_IN, RAW_OUT = "fmlc_raw_in", "fmlc_raw_out"
"""Typedefs of ``const int64_t*`` and ``int64_t*`` (the AST has no pointer type: ``std::add_pointer_t``)."""

# Element access: (port, element lvalue/rvalue, flat element index within the sample) -> statements.
Access = Callable[["Port", C.Expr, C.Expr], list[C.Stmt]]


def _signed(port: Port) -> bool:
    return not isinstance(port.element, BipolarType) and bool(port.element.signed)


def _size(port: Port) -> int:
    return port.lanes * port.beats


def _n(name: str) -> C.Name:
    return C.Name(name)


def _ext(name: str) -> C.Name:
    return C.Name(name, external=True)


def _method(obj: C.Expr, method: str, *args: C.Expr) -> C.Call:
    return C.Call(C.Member(obj, method), args)


def _add(a: C.Expr, b: C.Expr) -> C.Expr:
    return b if a == C.Int(0) else C.BinOp("+", a, b)


def _mul(a: C.Expr, b: int) -> C.Expr:
    return a if b == 1 else C.BinOp("*", a, C.Int(b))


def _bits(port: Port) -> C.CType:
    return C.CType("ap_uint", (port.element.width,))


def _range(e: C.Expr, width: int) -> C.Call:
    return _method(e, "range", C.Int(width - 1), C.Int(0))


# ----------------------------------------------------------------------------- calling top

def _call_top(project: Project, load: Access, store: Access) -> tuple[list[C.Stmt], list[C.Stmt]]:
    """(declare the top's arguments and fill the inputs with ``load``; call top and hand each
    output element to ``store``).  ``io=stream`` wraps beats into ``hls::stream`` objects."""
    ins = [f"fmlc_x{k}" for k in range(len(project.inputs))]
    outs = [f"fmlc_y{k}" for k in range(len(project.outputs))]
    call = C.ExprStmt(C.Call(_n(project.top), [_n(a) for a in ins + outs]))
    zero = C.Int(0)
    if project.io != "stream":
        def decl(name: str, port: Port) -> C.VarDecl:
            return C.VarDecl(port.ctype, name, (_size(port),))

        def each(name: str, port: Port, access: Access, is_input: bool) -> C.For:
            i = "fmlc_i"
            return C.For(i, zero, C.Int(_size(port)), access(port, C.Index(_n(name), _n(i)), _n(i)))
    else:
        b, lane, beat = "fmlc_b", "fmlc_l", "fmlc_beat"

        def beat_type(port: Port) -> C.TypeName:
            if port.beat is None:
                raise FmlcError(f"error: io=stream port {port.name!r} has no beat type")
            return port.beat

        def decl(name: str, port: Port) -> C.VarDecl:
            return C.VarDecl(C.CType("hls::stream", (beat_type(port),)), name)

        def each(name: str, port: Port, access: Access, is_input: bool) -> C.For:
            element = C.Index(C.Member(_n(beat), "data"), _n(lane))
            lanes = C.For(lane, zero, C.Int(port.lanes),
                          access(port, element, _add(_mul(_n(b), port.lanes), _n(lane))))
            if is_input:
                body = [C.VarDecl(beat_type(port), beat), lanes, C.ExprStmt(_method(_n(name), "write", _n(beat)))]
            else:
                body = [C.VarDecl(beat_type(port), beat, init=_method(_n(name), "read")), lanes]
            return C.For(b, zero, C.Int(port.beats), body)

    before: list[C.Stmt] = []
    for name, port in zip(ins, project.inputs, strict=True):
        before += [decl(name, port), each(name, port, load, True)]
    before += [decl(name, port) for name, port in zip(outs, project.outputs, strict=True)]
    after = [call, *(each(name, port, store, False) for name, port in zip(outs, project.outputs, strict=True))]
    return before, after


def _header_include(project: Project) -> C.Include:
    """The top's header, found through the firmware folder on the include path."""
    return C.Include(project.header.rsplit("/", 1)[-1])


# ----------------------------------------------------------------------------- csim bridge

def check_raw_width(project: Project) -> None:
    """Raise :class:`FmlcError` naming the first port whose elements exceed 64 bits."""
    for port in (*project.inputs, *project.outputs):
        if port.element.width > MAX_RAW_BITS:
            raise FmlcError(f"error: port {port.name!r} has {port.element.width}-bit elements "
                            f"({port.element.cpp}); C simulation passes raw codes as int64, at most "
                            f"{MAX_RAW_BITS} bits")


def bridge_unit(project: Project) -> C.TranslationUnit:
    """``csim/bridge.cpp``: ``extern "C" int fmlc_csim_run(in0, ..., out0, ..., int n)`` on raw codes."""
    check_raw_width(project)
    sample = "fmlc_s"
    in_ptr = [f"fmlc_in{k}" for k in range(len(project.inputs))]
    out_ptr = [f"fmlc_out{k}" for k in range(len(project.outputs))]
    ptr = {p.param: name for p, name in zip((*project.inputs, *project.outputs), in_ptr + out_ptr, strict=True)}

    def at(port: Port, index: C.Expr) -> C.Index:
        return C.Index(_n(ptr[port.param]), _add(_mul(_n(sample), _size(port)), index))

    def load(port: Port, dst: C.Expr, index: C.Expr) -> list[C.Stmt]:
        return [C.VarDecl(_bits(port), "fmlc_bits", init=at(port, index)),
                C.Assign(_range(dst, port.element.width), _n("fmlc_bits"))]

    def store(port: Port, src: C.Expr, index: C.Expr) -> list[C.Stmt]:
        w = port.element.width
        bits = _n("fmlc_bits")
        raw = (_method(C.Cast(C.CType("ap_int", (w,)), bits), "to_int64") if _signed(port)
               else C.Cast(I64, _method(bits, "to_uint64")))
        return [C.VarDecl(_bits(port), "fmlc_bits", init=_range(src, w)), C.Assign(at(port, index), raw)]

    params = ([C.Param(C.TypeName(RAW_IN), p) for p in in_ptr] + [C.Param(C.TypeName(RAW_OUT), p) for p in out_ptr]
              + [C.Param(C.INT, "fmlc_n")])
    run = C.Function(C.INT, ENTRY, params, [
        C.For(sample, C.Int(0), _n("fmlc_n"), [stmt for part in _call_top(project, load, store) for stmt in part]),
        C.Return(C.Int(0)),
    ])
    return C.TranslationUnit([
        C.Comment(f"C simulation bridge of {project.name}: raw int64 codes in and out, n samples sample-major."),
        C.Include("cstdint", system=True),
        C.Include("type_traits", system=True),
        _header_include(project),
        C.Typedef(C.CType("std::add_pointer_t", (C.CType("std::add_const_t", (I64,)),)), RAW_IN),
        C.Typedef(C.CType("std::add_pointer_t", (I64,)), RAW_OUT),
        C.ExternC([run]),
    ])


# ----------------------------------------------------------------------------- testbench

def _from_double(port: Port, v: C.Expr) -> C.Expr:
    """``v`` converted into the port's element type as ``qt.from_float`` converts it."""
    elem = port.element
    if isinstance(elem, BipolarType):
        return C.Cast(port.ctype, C.Ternary(C.BinOp(">=", v, C.Float(0.0)), C.Int(1), C.Int(0)))
    if elem.is_int:  # truncation toward zero, then wrap (not ap_int(double)'s rule)
        v = C.Cast(ctype_of(qt.fixed(elem.width, elem.width, elem.signed, "trn_zero", "wrap")), v)
    return C.Cast(port.ctype, v)


def _to_double(port: Port, e: C.Expr) -> C.Expr:
    if isinstance(port.element, BipolarType):
        return C.Ternary(e, C.Float(1.0), C.Float(-1.0))
    return _method(e, "to_double")


def testbench_unit(project: Project) -> C.TranslationUnit:
    """``tb/tb_<name>.cpp``: floats from ``tb_input.txt`` (one sample per line, all inputs in
    port order) through top into ``tb_output.txt`` (one line per sample); exits 1 when
    neither ``tb/tb_input.txt`` nor ``tb_input.txt`` can be opened."""
    fin, fout, v = _n("fmlc_fin"), _n("fmlc_fout"), _n("fmlc_v")
    first_out = project.outputs[0] if project.outputs else None

    def load(port: Port, dst: C.Expr, index: C.Expr) -> list[C.Stmt]:
        return [C.ExprStmt(C.BinOp(">>", fin, v)), C.Assign(dst, _from_double(port, v))]

    def store(port: Port, src: C.Expr, index: C.Expr) -> list[C.Stmt]:
        sep = C.ExprStmt(C.BinOp("<<", fout, C.Str(" ")))
        first = [C.If(C.BinOp(">", index, C.Int(0)), [sep])] if port is first_out else [sep]
        return [*first, C.ExprStmt(C.BinOp("<<", fout, _to_double(port, src)))]

    # One sample: read it, stop (0) at the end of the input, else run top and write a line (1).
    before, after = _call_top(project, load, store)
    step = C.Function(C.INT, "fmlc_step", [
        C.Param(C.CType("std::ifstream"), "fmlc_fin", ref=True),
        C.Param(C.CType("std::ofstream"), "fmlc_fout", ref=True),
    ], [
        C.VarDecl(C.CType("double"), "fmlc_v", init=C.Float(0.0)),
        *before,
        C.If(C.Unary("!", fin), [C.Return(C.Int(0))]),
        *after,
        C.ExprStmt(C.BinOp("<<", fout, C.Str("\n"))),
        C.Return(C.Int(1)),
    ], static=True)

    def open_pair(directory: str) -> list[C.Stmt]:
        return [C.ExprStmt(_method(fin, "open", C.Str(directory + TB_INPUT))),
                C.If(_method(fin, "is_open"), [C.ExprStmt(_method(fout, "open", C.Str(directory + TB_OUTPUT)))])]

    more, k = _n("fmlc_more"), "fmlc_k"
    main = C.Function(C.INT, TB_MAIN, [], [
        C.VarDecl(C.CType("std::ifstream"), "fmlc_fin"),
        C.VarDecl(C.CType("std::ofstream"), "fmlc_fout"),
        C.Comment(f"{TB_DIR}{TB_INPUT} from the project folder, else {TB_INPUT} here (Vitis C simulation)"),
        *open_pair(TB_DIR),
        C.If(C.Unary("!", _method(fin, "is_open")), open_pair("")),
        C.If(C.Unary("!", _method(fout, "is_open")), [
            C.ExprStmt(C.BinOp("<<", _ext("std::cerr"),
                               C.Str(f"error: cannot open {TB_DIR}{TB_INPUT} or {TB_INPUT} (and its output)\n"))),
            C.Return(C.Int(1)),
        ]),
        C.ExprStmt(_method(fout, "precision", C.Int(17))),
        C.Comment("one sample per iteration until the input ends"),
        C.VarDecl(C.INT, "fmlc_more", init=C.Int(1)),
        C.For(k, C.Int(0), more, [C.Assign(more, C.Call(_n("fmlc_step"), [fin, fout]), op="+=")]),
        C.Return(C.Int(0)),
    ])
    return C.TranslationUnit([
        C.Comment(f"Testbench of {project.name}: {TB_INPUT} (floats, one sample per line) -> {TB_OUTPUT}."),
        C.Include("fstream", system=True),
        C.Include("iostream", system=True),
        _header_include(project),
        step,
        main,
    ])
