"""The emission framework: per-op C++ emission rules and the context they write into.

A rule turns one ``qt`` op inside a ``df`` process into statements::

    @emits(qt.ReluOp)
    def _relu(ctx: Ctx, op, x: Arr) -> Arr: ...

Every tensor value is a flat C++ array (:class:`Arr`).  In a process that streams
beat by beat the array holds the current beat's ``lanes`` elements and ``ctx.beat`` is
the beat index; otherwise it holds the whole tensor and ``ctx.beat`` is 0.  Constants
(weights, tables, alphas) are always whole arrays in ``weights.h``.  A user's op
registers its rule the same way (docs/tutorial-dialect.md).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import attrs
import numpy as np

from fmlc.codegen import cpp as C
from fmlc.codegen.cpp_print import CodegenError
from fmlc.compiler.diagnostics import op_diagnostic
from fmlc.compiler.ir import Operation
from fmlc.dialects import qt
from fmlc.dialects.qt import BipolarType, FixedPointType

QType = FixedPointType | BipolarType
Rule = Callable[..., Any]
EMITTERS: dict[type[Operation], Rule] = {}


def emit_error(op: Operation, message: str) -> CodegenError:
    return CodegenError(str(op_diagnostic(op, message)))


def emits(*op_types: type[Operation]) -> Callable[[Rule], Rule]:
    """Register ``rule`` as the C++ emission rule of ``op_types``."""

    def wrap(rule: Rule) -> Rule:
        for t in op_types:
            EMITTERS[t] = rule
        return rule

    return wrap


@attrs.frozen
class Arr:
    """A flat C++ array: ``name[size]`` of ``elem``; ``whole`` when it holds the whole
    tensor (constants always do), else the current beat's row.  A constant of a fixed-point
    type is stored as raw integer codes and read through its ``decode`` function."""

    name: str
    elem: QType
    size: int
    whole: bool = True
    decode: C.Name | C.TypeName | None = None

    def at(self, i: C.Expr | int) -> C.Expr:
        e = C.Index(C.Name(self.name), C.Int(i) if isinstance(i, int) else i)
        if isinstance(self.decode, C.TypeName):
            return C.Cast(self.decode, e)
        return C.Call(self.decode, (e,)) if self.decode else e


def type_name(t: QType) -> str:
    """The typedef name of an element type: ``fixed_8_3_rnd_conv_sat``, ``uint_4``, ``bipolar``."""
    if isinstance(t, BipolarType):
        return "bipolar_t"
    kind = ("" if t.signed else "u") + ("int" if t.is_int else "fixed")
    parts = [kind, str(t.width)]
    if not t.is_int:
        parts.append(str(t.int_bits).replace("-", "m"))
        if (t.quant, t.overflow) != ("trn", "wrap"):
            parts += [t.quant, t.overflow]
    return "_".join(parts) + "_t"


def ctype_of(t: QType) -> C.CType:
    """The library spelling of a qt element type."""
    if isinstance(t, BipolarType):
        return C.CType("ap_uint", (1,))
    args: list[Any] = [t.width] if t.is_int else [t.width, t.int_bits]
    if not t.is_int and (t.quant, t.overflow) != ("trn", "wrap"):
        args.append(f"AP_{t.quant.upper()}")
        if t.overflow != "wrap":
            args.append(f"AP_{t.overflow.upper()}")
    return C.CType(("ap_" if t.signed else "ap_u") + ("int" if t.is_int else "fixed"), args)


class Ctx:
    """Where emission rules write: statements, fresh names, typedefs and constants."""

    def __init__(self, module_ctx: ModuleCtx, prefix: str, beat: C.Expr, beat_rows: bool) -> None:
        self.m = module_ctx
        self.prefix = prefix
        self.stmts: list[C.Stmt] = []
        self.beat = beat
        self.beat_rows = beat_rows  # arrays hold one beat (a row) rather than the whole tensor
        self.window: Any = None     # set by the process wrapper for window schedules
        self.reuse = 1
        self.pragmas: list[C.Pragma] = []  # function-level pragmas the rules ask for
        self._count = 0

    def fresh(self, base: str) -> str:
        self._count += 1
        return f"{base}{self._count}"

    def t(self, elem: QType) -> C.TypeName:
        return self.m.typedef(elem)

    def emit(self, *stmts: C.Stmt) -> None:
        self.stmts.extend(stmts)

    def array(self, elem: QType, size: int, base: str = "v") -> Arr:
        name = self.fresh(base)
        self.emit(C.VarDecl(self.t(elem), name, (size,)))
        if size > 1 and self.m.partition:
            self.emit(C.Pragma("ARRAY_PARTITION", (("variable", C.Name(name)), "complete", ("dim", 1))))
        return Arr(name, elem, size, whole=not self.beat_rows)

    def const(self, value: Any, elem: QType, base: str = "w") -> Arr:
        """A whole constant array (raw codes ``value``, any shape) in ``weights.h``."""
        return self.m.constant(np.asarray(value), elem, f"{self.prefix}_{base}")

    def row_index(self, lane: C.Expr | int, lanes: int) -> C.Expr:
        """The flat index of element ``lane`` of the current row in a whole tensor."""
        lane_e = C.Int(lane) if isinstance(lane, int) else lane
        if not self.beat_rows:
            return lane_e
        return C.BinOp("+", C.BinOp("*", self.beat, C.Int(lanes)), lane_e)

    def loop(self, var: str, n: int, body: list[C.Stmt], unroll: bool = True) -> C.For:
        pragmas = (C.Pragma("UNROLL"),) if unroll else ()
        return C.For(var, C.Int(0), C.Int(n), tuple(body), pragmas)


class ModuleCtx:
    """Project-wide: typedefs and constant arrays, deduplicated."""

    def __init__(self, partition: bool) -> None:
        self.partition = partition
        self.typedefs: dict[QType, C.Typedef] = {}
        self.constants: dict[tuple[Any, ...], Arr] = {}
        self.constant_decls: list[C.VarDecl] = []
        self.decoder_decls: list[C.Function] = []
        self.decoders: dict[QType, str] = {}
        self._names: set[str] = set()

    def typedef(self, elem: QType) -> C.TypeName:
        if elem not in self.typedefs:
            self.typedefs[elem] = C.Typedef(ctype_of(elem), type_name(elem))
        return C.TypeName(type_name(elem))

    def unique(self, base: str) -> str:
        name, k = base, 1
        while name in self._names:
            k += 1
            name = f"{base}_{k}"
        self._names.add(name)
        return name

    def constant(self, raw: np.ndarray, elem: QType, base: str, index: bool = False) -> Arr:
        """A ``static const`` array of raw codes in ``weights.h`` (deduplicated), read as
        ``elem`` (``index``: as plain ``int``, for index tables).  Builtin integers compile
        fast, where an ``ap_fixed`` initialiser list costs g++ a constructor call per element."""
        flat = tuple(np.ravel(raw).tolist()) or (0,)
        key = (elem, index, flat)
        if key in self.constants:
            return self.constants[key]
        name = self.unique(base)
        self.constant_decls.append(C.VarDecl(C.INT if index else storage_type(elem), name, (len(flat),),
                                             C.IntTable(flat), static=True, const=True))
        decode: C.Name | C.TypeName | None = None
        if isinstance(elem, FixedPointType) and not elem.is_int and not index:
            decode = C.Name(self.decoder(elem))
        elif not index:
            decode = self.typedef(elem)
        arr = Arr(name, elem, len(flat), decode=decode)
        self.constants[key] = arr
        return arr

    def decoder(self, elem: FixedPointType) -> str:
        """``T raw_T(long long r)``: the fixed-point value with raw code ``r``."""
        tname = self.typedef(elem)
        if elem not in self.decoders:
            fname = self.unique(f"raw_{tname.name}")
            v, r = C.Name("v"), C.Name("r")
            body = [C.VarDecl(tname, "v"),
                    C.Assign(C.Call(C.Member(v, "range"), (C.Int(elem.width - 1), C.Int(0))), r),
                    C.Return(v)]
            self.decoders[elem] = fname
            self.decoder_decls.append(C.Function(tname, fname, [C.Param(C.CType("long long"), "r")], body,
                                                 static=True, inline=True))
        return self.decoders[elem]


def storage_type(elem: QType) -> C.CType:
    """The smallest builtin integer that holds ``elem``'s raw codes."""
    bits, signed = elem.storage_bits, elem.storage_signed
    if bits > 64:
        raise CodegenError(f"error: a constant of {elem} needs {bits} bits; constants wider than 64 bits "
                           "are not supported by the C++ back end yet")
    width = next(w for w in (8, 16, 32, 64) if bits <= w)
    return C.CType(f"{'' if signed else 'u'}int{width}_t")


def literal(raw: int, elem: QType) -> C.Expr:
    """An exact constant of ``elem`` with raw code ``raw`` (a double literal holds it exactly)."""
    if isinstance(elem, BipolarType) or elem.is_int:
        return C.Int(raw)
    if raw and abs(raw).bit_length() > 53:
        raise CodegenError(f"error: a constant of {elem.cpp} needs {abs(raw).bit_length()} significant bits; "
                           "constants wider than 53 bits are not supported by the C++ back end yet")
    value = math.ldexp(raw, -elem.frac_bits)
    return C.Float(value) if not float(value).is_integer() else C.Int(int(value))


# ----------------------------------------------------------------------------- exact conversions

def convert(ctx: Ctx, e: C.Expr, src: QType, dst: QType) -> C.Expr:
    """``dst(e)`` with the semantics of the qt interpreter's conversion (``convert_exact``),
    routed through an exact intermediate type where the headers would assert or read
    uninitialised bits."""
    if src == dst:
        return e
    if isinstance(dst, BipolarType):
        raise CodegenError(f"error: no C++ conversion into !qt.bipolar from {src}")
    if isinstance(src, BipolarType):
        e = C.Ternary(e, C.Int(1), C.Int(-1))
        src = qt.integer(2)
        e = C.Cast(ctx.t(src), e)
    if dst.is_int and not src.is_int and src.signed and src.int_bits < 1:
        mid = qt.fixed(src.width + 1 - src.int_bits, 1, True)
        e, src = C.Cast(ctx.t(mid), e), mid
    if qt.conversion_trips_assert(src, dst):
        mid = qt.fixed(max(src.int_bits, -dst.frac_bits) + src.frac_bits, max(src.int_bits, -dst.frac_bits),
                       src.signed)
        e = C.Cast(ctx.t(mid), e)
    return C.Cast(ctx.t(dst), e)


def result_elem(op: Operation, index: int = 0) -> QType:
    return op.results[index].type.element  # type: ignore[no-any-return]
