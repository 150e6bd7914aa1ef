"""The C++ AST: what the HLS back end builds and :mod:`fmlc.codegen.cpp_print` prints.

Nodes are frozen attrs classes.  Strings appear only as leaves: an identifier
(:class:`Name`, declared names; legalised by :mod:`fmlc.codegen.legalize`), a library
type spelling built from numbers (:class:`CType`, e.g. ``ap_fixed<8,3,AP_RND_CONV>``), a
number, a pragma keyword, an include path or comment text.  Nothing here knows about
indentation, braces or where a pragma goes: the printer owns all of that.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Union  # noqa: UP035 - recursive aliases below need Union at runtime

import attrs


def _tuple(x: Sequence) -> tuple:  # type: ignore[type-arg]
    return tuple(x)


# ----------------------------------------------------------------------------- types

@attrs.frozen
class CType:
    """A library or builtin type spelling: ``int``, ``ap_fixed<8,3>``, ``hls::stream<beat_t>``
    (``args`` are printed inside the angle brackets: numbers, mode keywords or types)."""

    name: str
    args: tuple[int | str | CType | TypeName, ...] = attrs.field(default=(), converter=_tuple)


@attrs.frozen
class TypeName:
    """A type declared in the program (a typedef or struct): an identifier, legalised."""

    name: str


Type = Union[CType, TypeName]  # noqa: UP007


# ----------------------------------------------------------------------------- expressions

@attrs.frozen
class Name:
    """A reference to a declared variable, parameter or function (legalised), or to a
    library function when ``external`` (then it must already be a legal identifier,
    possibly qualified: ``std::printf``)."""

    id: str
    external: bool = False


@attrs.frozen
class Int:
    value: int
    suffix: str = ""  # "", "LL", "ULL"


@attrs.frozen
class Float:
    value: float


@attrs.frozen
class Str:
    """A string literal (escaped by the printer)."""

    value: str


@attrs.frozen
class Index:
    base: Expr
    index: Expr


@attrs.frozen
class Member:
    """``base.field`` (``arrow``: ``base->field``); ``field`` is a library member name."""

    base: Expr
    field: str
    arrow: bool = False


@attrs.frozen
class Call:
    func: Expr
    args: tuple[Expr, ...] = attrs.field(default=(), converter=_tuple)


@attrs.frozen
class BinOp:
    """``lhs op rhs`` with ``op`` one of + - * / % << >> < <= > >= == != && || & | ^."""

    op: str
    lhs: Expr
    rhs: Expr


@attrs.frozen
class Unary:
    """``op operand`` with ``op`` one of - ! ~ & *."""

    op: str
    operand: Expr


@attrs.frozen
class Cast:
    """``T(expr)``: a conversion to ``type`` (printed as a functional cast)."""

    type: Type
    expr: Expr


@attrs.frozen
class Ternary:
    cond: Expr
    then: Expr
    other: Expr


@attrs.frozen
class InitList:
    """``{a, b, {c, d}}`` for array initialisers."""

    items: tuple[Expr, ...] = attrs.field(converter=_tuple)


@attrs.frozen
class IntTable:
    """``{v0, v1, ...}``: the initialiser of a constant integer table (weights as raw codes).
    A leaf however long: it holds numbers only, so tree walks need not visit them."""

    values: tuple[int, ...] = attrs.field(converter=_tuple, repr=False)


Expr = Union[Name, Int, Float, Str, Index, Member, Call, BinOp, Unary, Cast, Ternary, InitList, IntTable]  # noqa: UP007


# ----------------------------------------------------------------------------- statements

@attrs.frozen
class Pragma:
    """``#pragma HLS NAME opt opt=value``: ``options`` are flags (str) or (key, value) pairs."""

    name: str
    options: tuple[str | tuple[str, str | int | Name], ...] = attrs.field(default=(), converter=_tuple)


@attrs.frozen
class VarDecl:
    """``[static] [const] T name[d0][d1] = init;``"""

    type: Type
    name: str
    dims: tuple[int, ...] = attrs.field(default=(), converter=_tuple)
    init: Expr | None = None
    static: bool = False
    const: bool = False


@attrs.frozen
class Assign:
    """``target op value;`` with ``op`` one of = += -= <<= >>= |= &=."""

    target: Expr
    value: Expr
    op: str = "="


@attrs.frozen
class ExprStmt:
    expr: Expr


@attrs.frozen
class Return:
    value: Expr | None = None


@attrs.frozen
class Comment:
    """A ``//`` comment line (the printer strips line breaks from the text)."""

    text: str


@attrs.frozen
class For:
    """``for (int var = start; var < stop; var += step) { pragmas; body }``."""

    var: str
    start: Expr
    stop: Expr
    body: tuple[Stmt, ...] = attrs.field(converter=_tuple)
    pragmas: tuple[Pragma, ...] = attrs.field(default=(), converter=_tuple)
    step: int = 1
    label: str | None = None


@attrs.frozen
class If:
    cond: Expr
    then: tuple[Stmt, ...] = attrs.field(converter=_tuple)
    other: tuple[Stmt, ...] = attrs.field(default=(), converter=_tuple)


@attrs.frozen
class Scope:
    """A braced block of statements."""

    body: tuple[Stmt, ...] = attrs.field(converter=_tuple)


Stmt = Union[Pragma, VarDecl, Assign, ExprStmt, Return, Comment, For, If, Scope]  # noqa: UP007


# ----------------------------------------------------------------------------- top level

@attrs.frozen
class Include:
    path: str
    system: bool = False


@attrs.frozen
class Typedef:
    type: Type
    name: str


@attrs.frozen
class Field:
    type: Type
    name: str
    dims: tuple[int, ...] = attrs.field(default=(), converter=_tuple)


@attrs.frozen
class Struct:
    name: str
    fields: tuple[Field, ...] = attrs.field(converter=_tuple)


@attrs.frozen
class Param:
    """A function parameter: ``[const] T name[d0]`` or ``T& name`` (``ref``)."""

    type: Type
    name: str
    dims: tuple[int, ...] = attrs.field(default=(), converter=_tuple)
    ref: bool = False
    const: bool = False


@attrs.frozen
class Function:
    """A function definition; ``pragmas`` print first in the body.  ``body=None`` makes
    it a declaration (prototype)."""

    ret: Type
    name: str
    params: tuple[Param, ...] = attrs.field(converter=_tuple)
    body: tuple[Stmt, ...] | None = attrs.field(default=(), converter=lambda b: None if b is None else tuple(b))
    pragmas: tuple[Pragma, ...] = attrs.field(default=(), converter=_tuple)
    static: bool = False
    inline: bool = False


@attrs.frozen
class ExternC:
    items: tuple[TopLevel, ...] = attrs.field(converter=_tuple)


@attrs.frozen
class Guard:
    """An include guard around ``items`` (``#ifndef NAME / #define NAME / ... / #endif``)."""

    name: str
    items: tuple[TopLevel, ...] = attrs.field(converter=_tuple)


TopLevel = Union[Include, Typedef, Struct, VarDecl, Function, ExternC, Guard, Comment]  # noqa: UP007


@attrs.frozen
class TranslationUnit:
    """One file: ``items`` in order."""

    items: tuple[TopLevel, ...] = attrs.field(converter=_tuple)


VOID = CType("void")
INT = CType("int")
