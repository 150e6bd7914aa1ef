"""Parser of the textual IR (generic form), built on the lark grammar ``ir.lark``.

Errors are :class:`ParseError` with ``file:LINE:COL: error: ...``, the line and a
caret.  Ops of unregistered dialects are rejected unless ``allow_unregistered``.
"""

from __future__ import annotations

import functools
import struct
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from fmlc.compiler.attributes import (
    ArrayAttr,
    Attribute,
    BoolAttr,
    DenseElementsAttr,
    DictionaryAttr,
    ElementType,
    FloatAttr,
    FloatType,
    FunctionType,
    IndexType,
    IntegerAttr,
    IntegerType,
    KeyParam,
    NoneType,
    OpaqueAttribute,
    OpaqueType,
    ParamError,
    ParametrizedType,
    QuotedParam,
    ShapedParam,
    StringAttr,
    SymbolRefAttr,
    TensorType,
    TypeAttr,
    TypeAttribute,
    UnitAttr,
    decode_elements,
    f64,
    i64,
)
from fmlc.compiler.builtin import ModuleOp
from fmlc.compiler.diagnostics import ParseError, caret_excerpt
from fmlc.compiler.dialect import REGISTRY
from fmlc.compiler.ir import Block, Operation, Region, Value, unregistered_op
from fmlc.compiler.location import FileLineColLoc, FusedLoc, Location, NameLoc, SourcePos, UnknownLoc

if TYPE_CHECKING:  # lark loads on the first parse (CLI runs from ONNX never need it)
    import lark


@functools.cache
def _lark(start: str) -> lark.Lark:
    """The LALR parser of ``ir.lark`` from ``start``; lark caches the built tables in the
    temporary folder (keyed by grammar and options), which saves every run 0.15 s."""
    import lark

    grammar = (Path(__file__).with_name("ir.lark")).read_text()
    return lark.Lark(grammar, parser="lalr", lexer="contextual", start=start, propagate_positions=True,
                     maybe_placeholders=True, cache=True)


def unquote(token: str) -> str:
    """Decode a string literal (``\\\\``, ``\\"``, ``\\n``, ``\\t`` and ``\\XX`` escapes)."""
    body = token[1:-1]
    out = bytearray()
    i = 0
    while i < len(body):
        c = body[i]
        if c != "\\":
            out += c.encode("utf-8")
            i += 1
            continue
        nxt = body[i + 1]
        if nxt in '"\\':
            out += nxt.encode()
            i += 2
        elif nxt == "n":
            out += b"\n"
            i += 2
        elif nxt == "t":
            out += b"\t"
            i += 2
        else:
            out.append(int(body[i + 1:i + 3], 16))
            i += 3
    return out.decode("utf-8", errors="surrogateescape")


class _SemanticError(Exception):
    def __init__(self, node: Any, message: str) -> None:
        super().__init__(message)
        self.node = node
        self.message = message


def _pos(node: Any) -> tuple[int, int]:
    import lark

    if isinstance(node, lark.Token):
        return node.line or 1, node.column or 1
    meta = getattr(node, "meta", None)
    if meta is not None and not meta.empty:
        return meta.line, meta.column
    return 1, 1


class _Builder:
    """Walks the lark tree and builds IR with scoped SSA names."""

    def __init__(self, filename: str, allow_unregistered: bool) -> None:
        self.filename = filename
        self.allow_unregistered = allow_unregistered
        self.scopes: list[dict[str, Value]] = [{}]
        self.groups: dict[Value, tuple[Value, ...]] = {}  # first result of '%x:n' -> all n results

    # -- values
    def define(self, token: lark.Token, value: Value) -> None:
        name = str(token)
        if any(name in s for s in self.scopes[-1:]):
            raise _SemanticError(token, f"redefinition of SSA value '{name}'")
        self.scopes[-1][name] = value
        hint = name[1:]
        value.name_hint = None if hint.isdigit() else hint

    def lookup(self, node: lark.Tree) -> Value:
        token, index = node.children
        name = str(token)
        for scope in reversed(self.scopes):
            if name in scope:
                value = scope[name]
                break
        else:
            raise _SemanticError(token, f"use of undefined value '{name}'")
        if index is not None:
            # '%x#k' picks result k of a group '%x:n'
            group = self.groups.get(value)
            k = int(index)
            if group is None or not 0 <= k < len(group):
                raise _SemanticError(token, f"'{name}#{k}' is not a result of '{name}'")
            return group[k]
        return value

    # -- ops
    def operation(self, node: lark.Tree) -> Operation:
        results, name_tok, *rest = node.children
        operand_nodes = rest[:-5]
        props, regions, attrs_, sig, loc = rest[-5:]
        name = unquote(str(name_tok))
        cls = REGISTRY.op(name)
        if cls is None:
            dialect = name.split(".", 1)[0]
            if not self.allow_unregistered or "." not in name:
                known = "" if dialect in REGISTRY.dialects else f" (dialect '{dialect}' is not registered)"
                raise _SemanticError(name_tok, f"unknown operation '{name}'{known}")
            cls = unregistered_op(name)
        operands = [self.lookup(n) for n in operand_nodes if n is not None]
        in_types, out_types = self.signature(sig)
        if len(in_types) != len(operands):
            raise _SemanticError(sig, f"'{name}' has {len(operands)} operands but its type lists {len(in_types)}")
        for k, (v, t) in enumerate(zip(operands, in_types, strict=True)):
            if v.type != t:
                from fmlc.compiler.printer import format_type

                raise _SemanticError(sig, f"operand #{k} of '{name}' has type {format_type(v.type)}, "
                                          f"but the signature says {format_type(t)}")
        op = cls(operands, out_types,
                 properties=self.attr_dict(props.children[0]) if props is not None else None,
                 attributes=self.attr_dict(attrs_) if attrs_ is not None else None,
                 location=self.location(loc) if loc is not None else UnknownLoc())
        line, col = _pos(name_tok)
        op.source = SourcePos(self.filename, line, col)
        # regions are parsed after the op exists, so their ops can see outer values only
        if regions is not None:
            for r in regions.children:
                op.add_region(self.region(r))
        if results is not None:
            self.bind_results(results, op)
        return op

    def bind_results(self, node: lark.Tree, op: Operation) -> None:
        groups = [(tok, int(n) if n is not None else 1) for tok, n in (g.children for g in node.children)]
        total = sum(n for _, n in groups)
        if total != len(op.results):
            raise _SemanticError(node, f"'{op.name}' has {len(op.results)} results but {total} names are bound")
        start = 0
        for tok, n in groups:
            vals = op.results[start:start + n]
            self.define(tok, vals[0])
            if n > 1:
                self.groups[vals[0]] = tuple(vals)
            start += n

    def signature(self, node: lark.Tree) -> tuple[list[TypeAttribute], list[TypeAttribute]]:
        *ins, res = node.children
        return [self.type(t) for t in ins if t is not None], self.result_types(res)

    def result_types(self, node: lark.Tree) -> list[TypeAttribute]:
        if node.data == "single_result":
            return [self.type(node.children[0])]
        return [self.type(t) for t in node.children if t is not None]

    def region(self, node: lark.Tree) -> Region:
        self.scopes.append({})
        try:
            region = Region()
            ops = [c for c in node.children if c.data == "operation"]
            blocks = [c for c in node.children if c.data == "block"]
            if ops or not blocks:
                if ops or node.children:
                    entry = region.add_block(Block())
                    for o in ops:
                        entry.append(self.operation(o))
            # create all labelled blocks (and their arguments) before their ops
            made = []
            for b in blocks:
                label, args, *body = b.children
                block = region.add_block(Block())
                if args is not None:
                    for a in args.children:
                        if a is None:
                            continue
                        tok, t, _loc = a.children
                        self.define(tok, block.add_arg(self.type(t)))
                made.append((block, body))
            for block, body in made:
                for o in body:
                    block.append(self.operation(o))
            return region
        finally:
            self.scopes.pop()

    # -- attributes
    def attr_dict(self, node: lark.Tree) -> dict[str, Attribute]:
        out: dict[str, Attribute] = {}
        for entry in node.children:
            if entry is None:
                continue
            key_tok, value = entry.children
            key = unquote(str(key_tok)) if key_tok.type == "STRING" else str(key_tok)
            if key in out:
                raise _SemanticError(key_tok, f"duplicate key '{key}' in attribute dictionary")
            out[key] = UnitAttr() if value is None else self.attribute(value)
        return out

    def attribute(self, node: lark.Tree) -> Attribute:
        try:
            return self._attribute(node)
        except ValueError as e:  # e.g. an integer that does not fit its type
            raise _SemanticError(node, str(e)) from None

    def _attribute(self, node: lark.Tree) -> Attribute:
        kind, ch = node.data, node.children
        if kind == "int_attr":
            t = self.type(ch[1]) if ch[1] is not None else i64
            if isinstance(t, FloatType):
                return FloatAttr(float(int(ch[0])), t)
            return IntegerAttr(int(ch[0]), t)
        if kind == "float_attr":
            t = self.type(ch[1]) if ch[1] is not None else f64
            if not isinstance(t, FloatType):
                raise _SemanticError(ch[0], "a float literal needs a float type")
            return FloatAttr(_round_to(float(ch[0]), t), t)
        if kind == "hex_float_attr":
            t = self.type(ch[1])
            if isinstance(t, FloatType):
                return FloatAttr(_float_from_bits(int(str(ch[0]), 16), t), t)
            return IntegerAttr(int(str(ch[0]), 16), t)
        if kind in ("true_attr", "false_attr"):
            return BoolAttr(kind == "true_attr")
        if kind == "unit_attr":
            return UnitAttr()
        if kind == "string_attr":
            return StringAttr(unquote(str(ch[0])))
        if kind == "symbol_attr":
            return SymbolRefAttr(str(ch[0])[1:])
        if kind == "quoted_symbol_attr":
            return SymbolRefAttr(unquote(str(ch[0])))
        if kind == "array_attr":
            return ArrayAttr(self.attribute(c) for c in ch if c is not None)
        if kind == "dict_attr":
            return DictionaryAttr(self.attr_dict(ch[0]))
        if kind == "dense_attr":
            return self.dense(ch[0], ch[1])
        if kind == "dense_resource_attr":
            raise _SemanticError(node, "cannot parse an elided constant (dense_resource<__elided__>); "
                                       "print the IR without --elide-constants")
        if kind == "type_attr":
            sub = ch[0]
            return TypeAttr(self.function_type(sub) if sub.data == "function_type" else self.type(sub))
        if kind == "dialect_attr":
            return self.dialect_entity(ch[0], ch[1], is_type=False)
        if kind == "location_attr":
            return self.location(ch[0])
        raise _SemanticError(node, f"unsupported attribute form {kind}")

    def dense(self, body: lark.Tree, type_node: lark.Tree) -> DenseElementsAttr:
        t = self.type(type_node)
        if not isinstance(t, TensorType) or not t.has_static_shape:
            raise _SemanticError(type_node, "a dense constant needs a statically shaped tensor type")
        if not isinstance(t.element, ElementType):
            raise _SemanticError(type_node, "this element type cannot hold dense constants")
        try:
            if body.data == "dense_hex":
                text = unquote(str(body.children[0]))
                if not text.startswith("0x"):
                    raise ValueError("a dense hex blob must start with 0x")
                return DenseElementsAttr(t, decode_elements(bytes.fromhex(text[2:]), t))
            values = np.array(self.dense_literal(body.children[0]), dtype=object)
            if values.shape == ():
                values = np.full(t.shape, values.item(), dtype=object)
            if tuple(values.shape) != t.shape:
                raise ValueError(f"literal of shape {values.shape} does not match {t.shape}")
            if t.element.is_float:
                data = values.astype(np.float64)
            else:
                data = np.array(values.tolist(), dtype=object).reshape(values.shape)
                if all(-(1 << 63) <= int(v) < (1 << 63) for v in data.reshape(-1)):
                    data = data.astype(np.int64)
            return DenseElementsAttr(t, data)
        except ValueError as e:
            raise _SemanticError(body, f"invalid dense constant: {e}") from None

    def dense_literal(self, node: Any) -> Any:
        if node.data == "dense_list":
            return [self.dense_literal(c) for c in node.children if c is not None]
        if node.data in ("dense_true", "dense_false"):
            return 1 if node.data == "dense_true" else 0
        tok = node.children[0]
        return int(tok) if tok.type == "INT" else float(tok)

    def location(self, node: lark.Tree) -> Location:
        return self.loc_inner(node.children[0])

    def loc_inner(self, node: lark.Tree) -> Location:
        ch = node.children
        if node.data == "loc_unknown":
            return UnknownLoc()
        if node.data == "loc_file":
            return FileLineColLoc(unquote(str(ch[0])), int(ch[1]), int(ch[2]))
        if node.data == "loc_name":
            return NameLoc(unquote(str(ch[0])), self.loc_inner(ch[1]) if ch[1] is not None else None)
        parts = [self.loc_inner(c) for c in ch]
        return FusedLoc(tuple(parts))  # as written: print -> parse -> print is the identity

    # -- types
    def type(self, node: lark.Tree) -> TypeAttribute:
        kind, ch = node.data, node.children
        if kind == "int_type":
            s = str(ch[0])
            if s.startswith("si"):
                return IntegerType(int(s[2:]), "signed")
            if s.startswith("ui"):
                return IntegerType(int(s[2:]), "unsigned")
            return IntegerType(int(s[1:]))
        if kind == "float_type":
            return FloatType(str(ch[0]))
        if kind == "index_type":
            return IndexType()
        if kind == "none_type":
            return NoneType()
        if kind == "tensor_type":
            dims = _dims(ch[0]) if ch[0] is not None else ()
            return TensorType(dims, self.type(ch[1]))
        if kind == "dialect_type":
            return self.dialect_entity(ch[0], ch[1], is_type=True)  # type: ignore[return-value]
        if kind == "function_type":
            return self.function_type(node)
        raise _SemanticError(node, f"unsupported type form {kind}")

    def function_type(self, node: lark.Tree) -> FunctionType:
        *ins, res = node.children
        return FunctionType([self.type(t) for t in ins if t is not None], self.result_types(res))

    def dialect_entity(self, tok: lark.Token, params_node: lark.Tree | None, is_type: bool) -> Attribute:
        name = str(tok)[1:]
        params = [self.param(p) for p in params_node.children if p is not None] if params_node is not None else []
        cls = REGISTRY.attribute(name)
        if cls is None:
            if not self.allow_unregistered:
                what = "type" if is_type else "attribute"
                raise _SemanticError(tok, f"unknown {what} '{str(tok)}'")
            return OpaqueType(name, params) if is_type else OpaqueAttribute(name, params)
        if is_type != issubclass(cls, ParametrizedType):
            raise _SemanticError(tok, f"'{name}' is {'an attribute' if is_type else 'a type'}, not "
                                      f"{'a type' if is_type else 'an attribute'}")
        try:
            return cls.from_parameters(params)
        except ParamError as e:
            raise _SemanticError(tok, f"invalid parameters for '{str(tok)}': {e}") from None

    def param(self, node: lark.Tree) -> Any:
        if node.data == "key_param":
            return KeyParam(str(node.children[0]), self.param(node.children[1]))
        if node.data == "param":
            return self.param(node.children[0])
        ch = node.children
        if node.data == "p_int":
            return int(ch[0])
        if node.data == "p_float":
            return float(ch[0])
        if node.data == "p_ident":
            return str(ch[0])
        if node.data == "p_string":
            return QuotedParam(unquote(str(ch[0])))
        if node.data == "p_shaped":
            return ShapedParam(_dims(ch[0]), self.type(ch[1]))
        if node.data == "p_type":
            return self.type(ch[0])
        if node.data == "p_attr":
            return self.dialect_entity(ch[0], ch[1], is_type=False)
        raise _SemanticError(node, f"unsupported parameter form {node.data}")


def _dims(tok: lark.Token) -> tuple[int, ...]:
    return tuple(-1 if d == "?" else int(d) for d in str(tok).split("x")[:-1])


def _round_to(value: float, t: FloatType) -> float:
    if t.name == "f32":
        return float(np.float32(value))
    if t.name == "f16":
        return float(np.float16(value))
    return value


def _float_from_bits(raw: int, t: FloatType) -> float:
    if t.name == "f64":
        return struct.unpack("<d", struct.pack("<Q", raw))[0]
    if t.name == "f32":
        return float(np.array(raw, dtype=np.uint32).view(np.float32))
    if t.name == "f16":
        return float(np.array(raw, dtype=np.uint16).view(np.float16))
    return float(np.array(raw << 16, dtype=np.uint32).view(np.float32))


def _expected(e: lark.exceptions.UnexpectedInput) -> str:
    names = sorted(getattr(e, "expected", None) or getattr(e, "allowed", None) or [])
    pretty = []
    for n in names:
        pat = _lark("start").get_terminal(n).pattern
        pretty.append(repr(pat.value) if pat.type == "str" else n.lower())
    return ", ".join(pretty[:8]) + (", ..." if len(pretty) > 8 else "")


def _parse(text: str, filename: str, start: str, allow_unregistered: bool, build: str) -> Any:
    import lark

    try:
        tree = _lark(start).parse(text)
    except lark.exceptions.UnexpectedCharacters as e:
        raise _error(text, filename, e.line, e.column,
                     f"unexpected character {text[e.pos_in_stream]!r}") from None
    except lark.exceptions.UnexpectedEOF as e:
        line = text.count("\n") + 1
        raise _error(text, filename, line, len(text.splitlines()[-1]) + 1 if text.strip() else 1,
                     f"unexpected end of input, expected {_expected(e)}") from None
    except lark.exceptions.UnexpectedToken as e:
        tok = e.token
        if tok.type == "$END":
            lines = text.splitlines() or [""]
            raise _error(text, filename, len(lines), len(lines[-1]) + 1,
                         f"unexpected end of input, expected {_expected(e)}") from None
        raise _error(text, filename, tok.line, tok.column,
                     f"unexpected '{tok}', expected {_expected(e)}") from None
    builder = _ModuleBuilder(filename, allow_unregistered)
    try:
        return getattr(builder, build)(tree)
    except _SemanticError as e:
        line, col = _pos(e.node)
        raise _error(text, filename, line, col, e.message) from None
    except lark.exceptions.VisitError as e:  # pragma: no cover - defensive
        raise _error(text, filename, 1, 1, str(e.orig_exc)) from None


def _error(text: str, filename: str, line: int, col: int, message: str) -> ParseError:
    excerpt = caret_excerpt(text, line, col)
    return ParseError(f"{filename}:{line}:{col}: error: {message}" + (f"\n{excerpt}" if excerpt else ""))


class _ModuleBuilder(_Builder):
    def module(self, tree: lark.Tree) -> ModuleOp:
        ops = [self.operation(c) for c in tree.children]
        if len(ops) == 1 and isinstance(ops[0], ModuleOp):
            return ops[0]
        return ModuleOp.create(ops)


def parse_module(text: str, filename: str = "<stdin>", allow_unregistered: bool = False) -> ModuleOp:
    """Parse IR text; several top-level ops are wrapped in a ``builtin.module``."""
    return _parse(text, filename, "start", allow_unregistered, "module")


def parse_type(text: str, allow_unregistered: bool = False) -> TypeAttribute:
    """Parse one type, e.g. ``tensor<4x!qt.fixed<8,1>>``."""
    return _parse(text, "<type>", "type", allow_unregistered, "type")


def parse_attribute(text: str, allow_unregistered: bool = False) -> Attribute:
    return _parse(text, "<attribute>", "attribute", allow_unregistered, "attribute")


