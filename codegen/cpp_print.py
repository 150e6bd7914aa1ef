"""Print the C++ AST of :mod:`fmlc.codegen.cpp` as text.

This module owns all of the text: 4-space indentation, braces, semicolons, where pragmas
go and blank lines between top-level blocks.  It is also the last line of defence: every
leaf string is checked (identifiers, type spellings, operators, pragma words, include
paths) and anything that is not legal raises :class:`CodegenError`, so nothing taken
from a model reaches the C++ text unchecked even if a caller forgot
:func:`fmlc.codegen.legalize.legalize`.  String literals are escaped and comment text
is flattened onto one harmless line.
"""

from __future__ import annotations

import math
import numbers
import operator
import re
from collections.abc import Sequence

from fmlc.codegen import cpp
from fmlc.compiler.diagnostics import FmlcError

INDENT = "    "
INIT_ITEMS_PER_LINE = 16
"""Most scalars on one line of a wrapped initialiser; a list of at most this many prints inline."""
LINE_WIDTH = 100
"""Scalars of a wrapped initialiser share a line while it stays this narrow."""


class CodegenError(FmlcError):
    """A C++ AST that cannot be printed (an illegal name, operator, path, ...)."""


CPP_KEYWORDS = frozenset(
    """
    alignas alignof and and_eq asm auto bitand bitor bool break case catch char char8_t char16_t
    char32_t class compl concept const consteval constexpr constinit const_cast continue co_await
    co_return co_yield decltype default delete do double dynamic_cast else enum explicit export
    extern false float for friend goto if inline int long mutable namespace new noexcept not not_eq
    nullptr operator or or_eq private protected public register reinterpret_cast requires return
    short signed sizeof static static_assert static_cast struct switch template this thread_local
    throw true try typedef typeid typename union unsigned using virtual void volatile wchar_t while
    xor xor_eq
    """.split()
)
"""C++17 keywords and alternative tokens (plus the C++20 ones, so names stay future-proof)."""

BUILTIN_TYPES = frozenset(
    "void bool char char8_t char16_t char32_t wchar_t short int long signed unsigned float double".split()
)
"""Keywords that may be a :class:`~fmlc.codegen.cpp.CType` name, alone or space-separated
(``unsigned char``, ``long long``)."""

EXTERNAL_KEYWORDS = frozenset({"true", "false", "nullptr", "sizeof", "this"})
"""Keywords an external :class:`~fmlc.codegen.cpp.Name` may be."""

BINARY_OPS = frozenset("+ - * / % << >> < <= > >= == != && || & | ^".split())
UNARY_OPS = frozenset("- ! ~ & *".split())
ASSIGN_OPS = frozenset("= += -= <<= >>= |= &=".split())
INT_SUFFIXES = frozenset({"", "U", "L", "UL", "LL", "ULL"})

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_INCLUDE = re.compile(r"[A-Za-z0-9_./-]+")
_COMPOUND = (cpp.BinOp, cpp.Ternary, cpp.Unary)


# ----------------------------------------------------------------------------- leaves

def is_identifier(s: object) -> bool:
    """``s`` is a string usable as a C++ identifier (pattern, not a keyword)."""
    return isinstance(s, str) and _IDENT.fullmatch(s) is not None and s not in CPP_KEYWORDS


def _ident(s: object, what: str) -> str:
    if not is_identifier(s):
        raise CodegenError(f"{what} {s!r} is not a legal C++ identifier")
    assert isinstance(s, str)
    return s


def _word(s: object, what: str) -> str:
    """A pragma word: identifier pattern, keywords allowed (``INLINE``, ``port=return``)."""
    if not (isinstance(s, str) and _IDENT.fullmatch(s)):
        raise CodegenError(f"{what} {s!r} is not a legal pragma word")
    return s


def _qualified(s: object, what: str, allowed_keywords: frozenset[str] = frozenset()) -> str:
    """``a::b::c`` of identifiers; a lone component may also be one of ``allowed_keywords``."""
    parts = s.split("::") if isinstance(s, str) else [None]
    if not (len(parts) == 1 and parts[0] in allowed_keywords) and not all(is_identifier(p) for p in parts):
        raise CodegenError(f"{what} {s!r} is not a legal (qualified) C++ identifier")
    assert isinstance(s, str)
    return s


def _int(value: object, what: str) -> int:
    if isinstance(value, bool):
        raise CodegenError(f"{what} {value!r} is a bool, not an integer")
    try:
        return operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        raise CodegenError(f"{what} {value!r} is not an integer") from None


def _dims(dims: Sequence[int]) -> str:
    out = []
    for d in dims:
        n = _int(d, "array dimension")
        if n <= 0:
            raise CodegenError(f"array dimension {n} is not positive")
        out.append(f"[{n}]")
    return "".join(out)


def _int_literal(node: cpp.Int) -> str:
    v, suffix = _int(node.value, "integer literal"), node.suffix
    if suffix not in INT_SUFFIXES:
        raise CodegenError(f"integer suffix {suffix!r} is not one of {sorted(INT_SUFFIXES)}")
    if "U" in suffix:
        if abs(v) >= 2**64:
            raise CodegenError(f"integer literal {v} does not fit 64 bits")
    elif v == -(2**63):
        return f"(-{2**63 - 1}{suffix or 'LL'} - 1)"
    elif not -(2**63) < v < 2**63:
        raise CodegenError(f"integer literal {v} does not fit a signed 64-bit integer")
    return f"{v}{suffix}"


def _float_literal(node: cpp.Float) -> str:
    v = node.value
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        raise CodegenError(f"float literal {v!r} is not a real number")
    x = float(v)
    if not math.isfinite(x):
        raise CodegenError(f"float literal {x!r} is not finite")
    mantissa, e, exponent = repr(x).partition("e")
    if "." not in mantissa:
        mantissa += ".0"
    return mantissa + e + exponent


_STR_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def _str_literal(value: object) -> str:
    """A double-quoted literal of the UTF-8 bytes of ``value``; printable ASCII stays, the
    rest are 3-digit octal escapes (never run into a following digit); a ``?`` next to
    another is escaped, so no trigraph can form."""
    if not isinstance(value, str):
        raise CodegenError(f"string literal {value!r} is not a str")
    try:
        data = value.encode("utf-8")
    except UnicodeEncodeError as e:
        raise CodegenError(f"string literal {value!r} is not valid Unicode text: {e}") from None
    out = []
    for i, b in enumerate(data):
        c = chr(b)
        if c in _STR_ESCAPES:
            out.append(_STR_ESCAPES[c])
        elif c == "?" and b"?" in (data[i - 1 : i] if i else b"", data[i + 1 : i + 2]):
            out.append("\\?")
        elif 0x20 <= b < 0x7F:
            out.append(c)
        else:
            out.append(f"\\{b:03o}")
    return '"' + "".join(out) + '"'


def comment_text(text: object) -> str:
    """``// text`` on one line: non-printable characters (line breaks, controls, bidi
    overrides) become spaces, ``*/`` and ``??`` are broken up, trailing backslashes and
    blanks are dropped (a trailing ``\\`` would splice the next line into the comment)."""
    if not isinstance(text, str):
        raise CodegenError(f"comment text {text!r} is not a str")
    s = "".join(c if c.isprintable() else " " for c in text)
    s = re.sub(r"\?(?=\?)", "? ", s.replace("*/", "* /"))
    s = re.sub(r"[\s\\]+\Z", "", s)
    return f"// {s}" if s else "//"


def _pragma(p: cpp.Pragma) -> str:
    words = ["#pragma HLS", _word(p.name, "pragma name")]
    for opt in p.options:
        if isinstance(opt, str):
            words.append(_word(opt, "pragma flag"))
        elif isinstance(opt, tuple) and len(opt) == 2:
            key, value = opt
            if isinstance(value, cpp.Name):
                text = _name(value)
            elif isinstance(value, str):
                text = _word(value, "pragma value")
            else:
                text = str(_int(value, "pragma value"))
            words.append(f"{_word(key, 'pragma key')}={text}")
        else:
            raise CodegenError(f"pragma option {opt!r} is neither a flag nor a (key, value) pair")
    return " ".join(words)


# ----------------------------------------------------------------------------- types and expressions

def print_type(t: cpp.Type) -> str:
    """``int``, ``ap_fixed<8,3,AP_RND_CONV>``, ``hls::stream<beat_t>`` or a declared type name."""
    if isinstance(t, cpp.TypeName):
        return _ident(t.name, "type name")
    if not isinstance(t, cpp.CType):
        raise CodegenError(f"{t!r} is not a type")
    if _is_builtin(t.name):
        if t.args:
            raise CodegenError(f"builtin type {t.name!r} takes no template arguments")
        return t.name
    name = _qualified(t.name, "type")
    if not t.args:
        return name
    args = []
    for a in t.args:
        if isinstance(a, cpp.CType | cpp.TypeName):
            args.append(print_type(a))
        elif isinstance(a, str):
            args.append(_qualified(a, "template argument", frozenset({"true", "false"})))
        else:
            args.append(str(_int(a, "template argument")))
    return f"{name}<{','.join(args)}>"


def _is_builtin(name: object) -> bool:
    """``int``, ``unsigned char``, ``long long``: builtin type keywords, single spaces."""
    return isinstance(name, str) and all(w in BUILTIN_TYPES for w in name.split(" "))


def _name(n: cpp.Name) -> str:
    if n.external:
        return _qualified(n.id, "external name", EXTERNAL_KEYWORDS)
    return _ident(n.id, "name")


def _operand(e: cpp.Expr) -> str:
    """``e`` as an operand of an operator or a postfix base: parenthesised when compound."""
    text = print_expr(e)
    negative_number = isinstance(e, cpp.Int | cpp.Float) and text.startswith("-")
    return f"({text})" if isinstance(e, _COMPOUND) or negative_number else text


def print_expr(e: cpp.Expr) -> str:
    """One expression on one line (initialiser lists inline)."""
    match e:
        case cpp.Name():
            return _name(e)
        case cpp.Int():
            return _int_literal(e)
        case cpp.Float():
            return _float_literal(e)
        case cpp.Str():
            return _str_literal(e.value)
        case cpp.Index():
            return f"{_operand(e.base)}[{print_expr(e.index)}]"
        case cpp.Member():
            return f"{_operand(e.base)}{'->' if e.arrow else '.'}{_ident(e.field, 'member')}"
        case cpp.Call():
            return f"{_operand(e.func)}({', '.join(print_expr(a) for a in e.args)})"
        case cpp.BinOp():
            if e.op not in BINARY_OPS:
                raise CodegenError(f"binary operator {e.op!r} is not one of {sorted(BINARY_OPS)}")
            return f"{_operand(e.lhs)} {e.op} {_operand(e.rhs)}"
        case cpp.Unary():
            if e.op not in UNARY_OPS:
                raise CodegenError(f"unary operator {e.op!r} is not one of {sorted(UNARY_OPS)}")
            return f"{e.op}{_operand(e.operand)}"
        case cpp.Cast():
            if isinstance(e.type, cpp.CType) and " " in e.type.name:  # no functional cast to ``long long``
                return f"static_cast<{print_type(e.type)}>({print_expr(e.expr)})"
            return f"{print_type(e.type)}({print_expr(e.expr)})"
        case cpp.Ternary():
            return f"{_operand(e.cond)} ? {_operand(e.then)} : {_operand(e.other)}"
        case cpp.InitList():
            return "{" + ", ".join(print_expr(i) for i in e.items) + "}"
        case cpp.IntTable():
            return "{" + ", ".join(map(_int_item, e.values)) + "}"
    raise CodegenError(f"{e!r} is not an expression")


def _int_item(v: int) -> str:
    """An integer in a table of any builtin integer type: unsuffixed unless it needs it."""
    if v >= 2**63:
        return f"{v}ULL"
    if v == -(2**63):
        return "(-9223372036854775807LL - 1)"
    return str(v)


def _int_table(e: cpp.IntTable, indent: str) -> str:
    """A table of numbers, the same count on every line within :data:`LINE_WIDTH` columns."""
    small = not e.values or (-(2**63) < min(e.values) and max(e.values) < 2**63)
    items = list(map(str if small else _int_item, e.values))
    if len(items) <= INIT_ITEMS_PER_LINE:
        return "{" + ", ".join(items) + "}"
    inner = indent + INDENT
    per_line = max(1, (LINE_WIDTH - len(inner)) // (max(map(len, items)) + 2))
    lines = [inner + ", ".join(items[k:k + per_line]) + "," for k in range(0, len(items), per_line)]
    return "{\n" + "\n".join(lines) + "\n" + indent + "}"


def _init(e: cpp.Expr, indent: str) -> str:
    """An initialiser: a list with nested lists or more than :data:`INIT_ITEMS_PER_LINE`
    items spreads over lines (nested lists one per line, scalars up to that many per line
    within :data:`LINE_WIDTH` columns)."""
    if isinstance(e, cpp.IntTable):
        return _int_table(e, indent)
    if not isinstance(e, cpp.InitList):
        return print_expr(e)
    nested = any(isinstance(i, cpp.InitList) for i in e.items)
    if not nested and len(e.items) <= INIT_ITEMS_PER_LINE:
        return print_expr(e)
    inner = indent + INDENT
    lines, run = ["{"], []

    def flush() -> None:  # up to INIT_ITEMS_PER_LINE items a line, within LINE_WIDTH when they fit
        line: list[str] = []
        for text in run:
            if line and (len(line) == INIT_ITEMS_PER_LINE or len(inner + ", ".join([*line, text]) + ",") > LINE_WIDTH):
                lines.append(inner + ", ".join(line) + ",")
                line = []
            line.append(text)
        if line:
            lines.append(inner + ", ".join(line) + ",")
        run.clear()

    for item in e.items:
        if isinstance(item, cpp.InitList):
            flush()
            lines.append(inner + _init(item, inner) + ",")
        else:
            run.append(print_expr(item))
    flush()
    lines.append(indent + "}")
    return "\n".join(lines)


# ----------------------------------------------------------------------------- statements

def _var_decl(d: cpp.VarDecl, indent: str) -> list[str]:
    words = [w for w, on in (("static", d.static), ("const", d.const)) if on]
    head = " ".join([*words, print_type(d.type), _ident(d.name, "variable name") + _dims(d.dims)])
    if d.init is None:
        return [f"{indent}{head};"]
    return f"{indent}{head} = {_init(d.init, indent)};".split("\n")


def _block(stmts: Sequence[cpp.Stmt], indent: str, pragmas: Sequence[cpp.Pragma] = ()) -> list[str]:
    """The lines inside braces: ``pragmas`` first, then ``stmts``, all one level deeper."""
    inner = indent + INDENT
    lines = []
    for p in pragmas:
        if not isinstance(p, cpp.Pragma):
            raise CodegenError(f"{p!r} is not a pragma")
        lines.append(inner + _pragma(p))
    for s in stmts:
        lines.extend(_stmt(s, inner))
    return lines


def _stmt(s: cpp.Stmt, indent: str) -> list[str]:
    match s:
        case cpp.Pragma():
            return [indent + _pragma(s)]
        case cpp.VarDecl():
            return _var_decl(s, indent)
        case cpp.Assign():
            if s.op not in ASSIGN_OPS:
                raise CodegenError(f"assignment operator {s.op!r} is not one of {sorted(ASSIGN_OPS)}")
            return [f"{indent}{print_expr(s.target)} {s.op} {print_expr(s.value)};"]
        case cpp.ExprStmt():
            return [f"{indent}{print_expr(s.expr)};"]
        case cpp.Return():
            return [f"{indent}return;" if s.value is None else f"{indent}return {print_expr(s.value)};"]
        case cpp.Comment():
            return [indent + comment_text(s.text)]
        case cpp.For():
            var, step = _ident(s.var, "loop variable"), _int(s.step, "loop step")
            if step < 1:
                raise CodegenError(f"loop step {step} is not positive")
            label = "" if s.label is None else _ident(s.label, "loop label") + ": "
            incr = f"{var}++" if step == 1 else f"{var} += {step}"
            head = f"{indent}{label}for (int {var} = {print_expr(s.start)}; {var} < {_operand(s.stop)}; {incr}) {{"
            return [head, *_block(s.body, indent, s.pragmas), indent + "}"]
        case cpp.If():
            lines = [f"{indent}if ({print_expr(s.cond)}) {{", *_block(s.then, indent)]
            other = s.other
            while len(other) == 1 and isinstance(other[0], cpp.If):  # else-if chain
                lines += [f"{indent}}} else if ({print_expr(other[0].cond)}) {{", *_block(other[0].then, indent)]
                other = other[0].other
            if other:
                lines += [f"{indent}}} else {{", *_block(other, indent)]
            return [*lines, indent + "}"]
        case cpp.Scope():
            return [indent + "{", *_block(s.body, indent), indent + "}"]
    raise CodegenError(f"{s!r} is not a statement")


# ----------------------------------------------------------------------------- top level

def _param(p: cpp.Param) -> str:
    if not isinstance(p, cpp.Param):
        raise CodegenError(f"{p!r} is not a parameter")
    name, dims = _ident(p.name, "parameter name"), _dims(p.dims)
    ty = ("const " if p.const else "") + print_type(p.type)
    if p.ref:
        return f"{ty} (&{name}){dims}" if dims else f"{ty}& {name}"
    return f"{ty} {name}{dims}"


def _function(f: cpp.Function) -> list[str]:
    words = [w for w, on in (("static", f.static), ("inline", f.inline)) if on]
    params = ", ".join(_param(p) for p in f.params)
    head = " ".join([*words, print_type(f.ret), f"{_ident(f.name, 'function name')}({params})"])
    if f.body is None:
        if f.pragmas:
            raise CodegenError(f"prototype of {f.name!r} cannot carry pragmas")
        return [head + ";"]
    return [head + " {", *_block(f.body, "", f.pragmas), "}"]


def _include(i: cpp.Include) -> str:
    path = i.path
    if not (isinstance(path, str) and _INCLUDE.fullmatch(path)) or ".." in path:
        raise CodegenError(f"include path {path!r} is not a plain relative path of [A-Za-z0-9_./-]")
    return f"#include <{path}>" if i.system else f'#include "{path}"'


def _top(item: cpp.TopLevel) -> tuple[str, list[str]]:
    """The lines of one top-level item and its kind (for blank-line placement)."""
    match item:
        case cpp.Include():
            return "include", [_include(item)]
        case cpp.Typedef():
            return "typedef", [f"typedef {print_type(item.type)} {_ident(item.name, 'typedef name')};"]
        case cpp.Struct():
            fields = []
            for fd in item.fields:
                if not isinstance(fd, cpp.Field):
                    raise CodegenError(f"{fd!r} is not a struct field")
                fields.append(f"{INDENT}{print_type(fd.type)} {_ident(fd.name, 'field name')}{_dims(fd.dims)};")
            return "block", [f"struct {_ident(item.name, 'struct name')} {{", *fields, "};"]
        case cpp.VarDecl():
            lines = _var_decl(item, "")
            return ("var" if len(lines) == 1 else "block"), lines
        case cpp.Function():
            return ("prototype" if item.body is None else "block"), _function(item)
        case cpp.ExternC():
            return "block", ['extern "C" {', *_items(item.items), "}"]
        case cpp.Guard():
            name = _ident(item.name, "include guard")
            body = _items(item.items)
            return "block", [f"#ifndef {name}", f"#define {name}", *([""] + body + [""] if body else []), "#endif"]
        case cpp.Comment():
            return "comment", [comment_text(item.text)]
    raise CodegenError(f"{item!r} is not a top-level item")


def _items(items: Sequence[cpp.TopLevel]) -> list[str]:
    """Top-level items; a blank line separates different kinds and surrounds blocks
    (functions, structs, wrapped arrays, extern "C", guards); comments stick to what follows."""
    lines: list[str] = []
    previous = None
    for item in items:
        kind, text = _top(item)
        if lines and previous != "comment" and (kind != previous or kind == "block"):
            lines.append("")
        lines.extend(text)
        previous = kind
    return lines


def print_unit(unit: cpp.TranslationUnit) -> str:
    """The text of one file (ends with a newline)."""
    if not isinstance(unit, cpp.TranslationUnit):
        raise CodegenError(f"{unit!r} is not a translation unit")
    return "\n".join(_items(unit.items)) + "\n"
