"""The textual IR printer: MLIR's generic op form.

``%r = "dialect.op"(%a, %b) <{props}> ({regions}) {attrs} : (types) -> types loc(...)``

Dense constants print as exact little-endian hex blobs so that printing, parsing
and printing again gives the same text; ``elide_constants`` shortens them for reading.
"""

from __future__ import annotations

import io
import math
import re
import struct
from collections.abc import Sequence
from typing import Any

import numpy as np

from fmlc.compiler.attributes import (
    ArrayAttr,
    Attribute,
    BoolAttr,
    DenseElementsAttr,
    DictionaryAttr,
    FloatAttr,
    FloatType,
    FunctionType,
    IndexType,
    IntegerAttr,
    IntegerType,
    KeyParam,
    NoneType,
    OpaqueAttribute,
    ParametrizedAttribute,
    ParametrizedType,
    QuotedParam,
    ShapedParam,
    StringAttr,
    SymbolRefAttr,
    TensorType,
    TypeAttr,
    TypeAttribute,
    UnitAttr,
)
from fmlc.compiler.ir import Block, Operation, Region, Value
from fmlc.compiler.location import FileLineColLoc, FusedLoc, Location, NameLoc, UnknownLoc

BARE_ID = re.compile(r"[A-Za-z_][\w$.]*\Z")
_VALUE_HINT = re.compile(r"[A-Za-z_$.][\w$.-]*\Z")
_RESERVED_HINT = re.compile(r"arg\d+\Z")


def quote(s: str) -> str:
    """A string literal; bytes outside printable ASCII become ``\\XX``."""
    out = []
    for b in s.encode("utf-8"):
        ch = chr(b)
        if ch in '"\\':
            out.append("\\" + ch)
        elif 0x20 <= b < 0x7F:
            out.append(ch)
        else:
            out.append(f"\\{b:02X}")
    return '"' + "".join(out) + '"'


def format_float(value: float, type_: FloatType) -> str:
    if math.isfinite(value):
        return repr(float(value))
    bits = type_.storage_bits
    if bits == 64:
        raw = struct.unpack("<Q", struct.pack("<d", value))[0]
    elif type_.name == "f32":
        raw = int(np.array(value, dtype=np.float32).view(np.uint32))
    elif type_.name == "f16":
        raw = int(np.array(value, dtype=np.float16).view(np.uint16))
    else:  # bf16
        raw = int(np.array(value, dtype=np.float32).view(np.uint32)) >> 16
    return f"0x{raw:0{bits // 4}X}"


def format_type(t: TypeAttribute) -> str:
    if isinstance(t, IntegerType):
        return {"signless": "i", "signed": "si", "unsigned": "ui"}[t.signedness] + str(t.width)
    if isinstance(t, FloatType):
        return t.name
    if isinstance(t, IndexType):
        return "index"
    if isinstance(t, NoneType):
        return "none"
    if isinstance(t, TensorType):
        return f"tensor<{format_dims(t.shape)}{format_type(t.element)}>"
    if isinstance(t, FunctionType):
        ins = ", ".join(format_type(x) for x in t.inputs)
        return f"({ins}) -> {format_result_types(t.results)}"
    if isinstance(t, (ParametrizedAttribute, OpaqueAttribute)):
        return format_attribute(t)
    raise TypeError(f"cannot print type {t!r}")


def format_dims(shape: Sequence[int]) -> str:
    return "".join(("?" if d < 0 else str(d)) + "x" for d in shape)


def format_result_types(types: Sequence[TypeAttribute]) -> str:
    if len(types) == 1 and not isinstance(types[0], FunctionType):
        return format_type(types[0])
    return "(" + ", ".join(format_type(t) for t in types) + ")"


def format_param(p: Any) -> str:
    if isinstance(p, bool):
        return "true" if p else "false"
    if isinstance(p, int):
        return str(p)
    if isinstance(p, float):
        return repr(p)
    if isinstance(p, str):
        if not BARE_ID.match(p):
            raise ValueError(f"parameter {p!r} is not a bare identifier; use QuotedParam")
        return p
    if isinstance(p, QuotedParam):
        return quote(p.value)
    if isinstance(p, ShapedParam):
        return format_dims(p.shape) + format_type(p.element)
    if isinstance(p, KeyParam):
        return f"{p.key} = {format_param(p.value)}"
    if isinstance(p, Attribute):
        return format_attribute(p)
    raise TypeError(f"cannot print parameter {p!r}")


def _format_dialect(prefix: str, name: str, params: Sequence[Any], sep: str) -> str:
    if not params:
        return f"{prefix}{name}"
    return f"{prefix}{name}<{sep.join(format_param(p) for p in params)}>"


def format_attribute(a: Attribute, elide: int | None = None) -> str:
    """Text of an attribute; dense constants over ``elide`` elements are elided."""
    if isinstance(a, TypeAttribute):
        if isinstance(a, ParametrizedType):
            return _format_dialect("!", a.name, a.parameters(), a.param_separator)
        if isinstance(a, OpaqueAttribute):
            return _format_dialect("!", a.name, a.params, ", ")
        return format_type(a)
    if isinstance(a, BoolAttr):
        return "true" if a.value else "false"
    if isinstance(a, IntegerAttr):
        return f"{a.value} : {format_type(a.type)}"
    if isinstance(a, FloatAttr):
        return f"{format_float(a.value, a.type)} : {format_type(a.type)}"
    if isinstance(a, StringAttr):
        return quote(a.value)
    if isinstance(a, UnitAttr):
        return "unit"
    if isinstance(a, SymbolRefAttr):
        return "@" + (a.name if BARE_ID.match(a.name) else quote(a.name))
    if isinstance(a, TypeAttr):
        return format_type(a.type)
    if isinstance(a, ArrayAttr):
        return "[" + ", ".join(format_attribute(x, elide) for x in a) + "]"
    if isinstance(a, DictionaryAttr):
        return format_attr_dict(a.as_dict(), elide)
    if isinstance(a, DenseElementsAttr):
        if elide is not None and a.type.num_elements > elide:
            return f"dense_resource<__elided__> : {format_type(a.type)}"
        return f"dense<\"0x{_dense_hex(a)}\"> : {format_type(a.type)}"
    if isinstance(a, ParametrizedAttribute):
        return _format_dialect("#", a.name, a.parameters(), a.param_separator)
    if isinstance(a, OpaqueAttribute):
        return _format_dialect("#", a.name, a.params, ", ")
    if isinstance(a, Location):
        return format_location(a)
    raise TypeError(f"cannot print attribute {a!r}")


def _dense_hex(a: DenseElementsAttr) -> str:
    blob = a.to_bytes()
    n = a.type.num_elements
    if n > 1:
        size = len(blob) // n
        first = blob[:size]
        if blob == first * n:
            blob = first
    return blob.hex().upper()


def format_attr_dict(d: dict[str, Attribute], elide: int | None = None) -> str:
    entries = []
    for key in sorted(d):
        k = key if BARE_ID.match(key) else quote(key)
        v = d[key]
        entries.append(k if isinstance(v, UnitAttr) else f"{k} = {format_attribute(v, elide)}")
    return "{" + ", ".join(entries) + "}"


def format_location(loc: Location) -> str:
    def inner(l: Location) -> str:
        if isinstance(l, UnknownLoc):
            return "unknown"
        if isinstance(l, FileLineColLoc):
            return f"{quote(l.file)}:{l.line}:{l.col}"
        if isinstance(l, NameLoc):
            return quote(l.name) + (f"({inner(l.child)})" if l.child is not None else "")
        if isinstance(l, FusedLoc):
            return "fused[" + ", ".join(inner(x) for x in l.locations) + "]"
        raise TypeError(f"cannot print location {l!r}")

    return f"loc({inner(loc)})"


class Printer:
    """Prints ops in generic form; value names are unique in one printout."""

    def __init__(self, stream: io.TextIOBase | None = None, *, elide_constants: int | None = None,
                 print_locations: bool = True, indent: str = "  ") -> None:
        self.stream = stream if stream is not None else io.StringIO()
        self.elide = elide_constants
        self.print_locations = print_locations
        self.indent_unit = indent
        self._names: dict[Value, str] = {}
        self._used: set[str] = set()
        self._next_result = 0
        self._next_arg = 0

    def _w(self, s: str) -> None:
        self.stream.write(s)

    def name_of(self, v: Value, is_arg: bool = False) -> str:
        name = self._names.get(v)
        if name is not None:
            return name
        hint = v.name_hint
        if hint and _VALUE_HINT.match(hint) and not _RESERVED_HINT.match(hint) and not hint.isdigit():
            candidate, k = hint, 0
            while candidate in self._used:
                k += 1
                candidate = f"{hint}_{k}"
        elif is_arg:
            candidate = f"arg{self._next_arg}"
            self._next_arg += 1
        else:
            candidate = str(self._next_result)
            self._next_result += 1
        while candidate in self._used:  # a hint like "x_1" may already be taken
            candidate += "_"
        self._used.add(candidate)
        self._names[v] = "%" + candidate
        return self._names[v]

    def print_op(self, op: Operation, depth: int = 0) -> None:
        pad = self.indent_unit * depth
        self._w(pad)
        if op.results:
            self._w(", ".join(self.name_of(r) for r in op.results) + " = ")
        self._w(quote(op.name) + "(" + ", ".join(self.name_of(v) for v in op.operands) + ")")
        if op.properties:
            self._w(" <" + format_attr_dict(op.properties, self.elide) + ">")
        if op.regions:
            self._w(" (")
            for i, region in enumerate(op.regions):
                if i:
                    self._w(", ")
                self.print_region(region, depth)
            self._w(")")
        if op.attributes:
            self._w(" " + format_attr_dict(op.attributes, self.elide))
        ins = ", ".join(format_type(v.type) for v in op.operands)
        self._w(f" : ({ins}) -> {format_result_types(op.result_types)}")
        if self.print_locations and not isinstance(op.location, UnknownLoc):
            self._w(" " + format_location(op.location))
        self._w("\n")

    def print_region(self, region: Region, depth: int) -> None:
        if not region.blocks:
            self._w("{}")
            return
        self._w("{\n")
        for i, block in enumerate(region.blocks):
            labelled = i > 0 or block.args or len(region.blocks) > 1 or not block.ops
            self.print_block(block, depth + 1, i, labelled)
        self._w(self.indent_unit * depth + "}")

    def print_block(self, block: Block, depth: int, index: int, labelled: bool) -> None:
        if labelled:
            self._w(self.indent_unit * (depth - 1) + f"^bb{index}")
            if block.args:
                args = ", ".join(f"{self.name_of(a, True)}: {format_type(a.type)}" for a in block.args)
                self._w(f"({args})")
            self._w(":\n")
        for op in block.ops:
            self.print_op(op, depth)


def print_op(op: Operation, **options: Any) -> str:
    """The text of ``op`` (usually a ``builtin.module``)."""
    p = Printer(**options)
    p.print_op(op)
    return p.stream.getvalue()  # type: ignore[attr-defined]
