"""Passes and pipeline strings.

A pass is a frozen dataclass: its fields are its options, ``name`` is how
pipelines call it, ``apply(ctx, op)`` does the work.  Pipelines are strings::

    onnx-to-qt,canonicalize,qt-to-df{reuse-factor=4 io=stream}
    builtin.module(canonicalize,func.func(cse))

Option names use dashes for the fields' underscores.  A pipeline prints back in
one canonical form (options that differ from their defaults, in field order).
"""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any, ClassVar, Literal, Union

import attrs

from fmlc.compiler.diagnostics import FmlcError
from fmlc.compiler.dialect import REGISTRY
from fmlc.compiler.ir import Operation


class PipelineError(FmlcError):
    pass


@attrs.define
class PassContext:
    """Compile-wide settings that passes read (config, strictness, warnings)."""

    config: dict[str, Any] = attrs.Factory(dict)
    strict: bool = False
    model_path: str | None = None


@dataclasses.dataclass(frozen=True)
class Pass:
    """Base of every pass.  ``anchor`` names the op kind it runs on (None: any)."""

    name: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    anchor: ClassVar[str | None] = None

    def apply(self, ctx: PassContext, op: Operation) -> None:
        raise NotImplementedError

    @classmethod
    def options(cls) -> list[dataclasses.Field]:
        return list(dataclasses.fields(cls))

    def option_text(self) -> str:
        parts = []
        for f in self.options():
            value = getattr(self, f.name)
            if f.default is not dataclasses.MISSING and value == f.default:
                continue
            parts.append(f"{f.name.replace('_', '-')}={_format_value(value)}")
        return "{" + " ".join(parts) + "}" if parts else ""

    def __str__(self) -> str:
        return self.name + self.option_text()


PASSES: dict[str, type[Pass]] = {}


def register_pass(cls: type[Pass]) -> type[Pass]:
    """Class decorator: make a pass available to pipelines by its ``name``."""
    if not cls.name:
        raise TypeError(f"{cls.__name__} has no pass name")
    params = cls.__dict__.get("__dataclass_params__")  # the class itself, not only a base, is a dataclass
    if params is None or not params.frozen:
        raise TypeError(f"pass {cls.name} must be a frozen dataclass (decorate it with @dataclass(frozen=True))")
    PASSES[cls.name] = cls
    return cls


# ----------------------------------------------------------------------------- pipeline model


@attrs.frozen
class Nested:
    """Passes run on every ``anchor`` op nested in the current op."""

    anchor: str
    items: tuple[Pass | Nested, ...] = attrs.field(converter=tuple)

    def __str__(self) -> str:
        return f"{self.anchor}({format_items(self.items)})"


@attrs.frozen
class Pipeline:
    items: tuple[Pass | Nested, ...] = attrs.field(converter=tuple)

    def __str__(self) -> str:
        return format_items(self.items)

    def passes(self) -> list[Pass]:
        out: list[Pass] = []

        def visit(items):
            for it in items:
                if isinstance(it, Nested):
                    visit(it.items)
                else:
                    out.append(it)

        visit(self.items)
        return out


def format_items(items: tuple[Pass | Nested, ...]) -> str:
    return ",".join(str(i) for i in items)


def _format_value(v: Any) -> str:
    if v is None:
        return "none"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (tuple, list)):
        return ",".join(_format_value(x) for x in v)
    s = str(v)
    if not s or any(c in s for c in " {}\"'=,"):
        return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return s


# ----------------------------------------------------------------------------- pipeline parsing


class _Reader:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def error(self, message: str, pos: int | None = None) -> PipelineError:
        p = self.pos if pos is None else pos
        return PipelineError(f"<pipeline>:1:{p + 1}: error: {message}\n{self.text}\n{' ' * p}^")

    def skip_ws(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def peek(self) -> str:
        self.skip_ws()
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def expect(self, ch: str) -> None:
        if self.peek() != ch:
            found = repr(self.text[self.pos]) if self.pos < len(self.text) else "end of pipeline"
            raise self.error(f"expected '{ch}', found {found}")
        self.pos += 1

    def name(self) -> tuple[str, int]:
        self.skip_ws()
        start = self.pos
        while self.pos < len(self.text) and (self.text[self.pos].isalnum() or self.text[self.pos] in "-_."):
            self.pos += 1
        if start == self.pos:
            found = repr(self.text[self.pos]) if self.pos < len(self.text) else "end of pipeline"
            raise self.error(f"expected a pass name, found {found}")
        return self.text[start:self.pos], start

    def value(self) -> str:
        self.skip_ws()
        if self.peek() == '"':
            self.pos += 1
            out = []
            while self.pos < len(self.text) and self.text[self.pos] != '"':
                if self.text[self.pos] == "\\" and self.pos + 1 < len(self.text):
                    self.pos += 1
                out.append(self.text[self.pos])
                self.pos += 1
            self.expect('"')
            return "".join(out)
        start = self.pos
        depth = 0
        while self.pos < len(self.text):
            c = self.text[self.pos]
            if c == "[":
                depth += 1
            elif c == "]":
                depth -= 1
            elif depth == 0 and (c.isspace() or c == "}"):
                break
            self.pos += 1
        return self.text[start:self.pos]


def parse_pipeline(text: str) -> Pipeline:
    """Parse a pipeline string; unknown passes and options are errors listing what exists."""
    r = _Reader(text)
    items = _parse_items(r, top=True)
    if r.peek():
        raise r.error(f"unexpected '{r.peek()}'")
    if len(items) == 1 and isinstance(items[0], Nested) and items[0].anchor == "builtin.module":
        items = list(items[0].items)
    return Pipeline(items)


def _parse_items(r: _Reader, top: bool) -> list[Pass | Nested]:
    items: list[Pass | Nested] = []
    if top and not r.peek():
        return items
    while True:
        name, start = r.name()
        if r.peek() == "(":
            if REGISTRY.op(name) is None:
                raise r.error(f"unknown op '{name}' to nest passes on", start)
            r.pos += 1
            inner = _parse_items(r, top=False) if r.peek() != ")" else []
            r.expect(")")
            items.append(Nested(name, inner))
        else:
            items.append(_make_pass(r, name, start))
        if r.peek() != ",":
            return items
        r.pos += 1


def _make_pass(r: _Reader, name: str, start: int) -> Pass:
    cls = PASSES.get(name)
    if cls is None:
        known = ", ".join(sorted(PASSES)) or "(none registered)"
        raise r.error(f"unknown pass '{name}'; registered passes: {known}", start)
    kwargs: dict[str, Any] = {}
    if r.peek() == "{":
        r.pos += 1
        fields = {f.name.replace("_", "-"): f for f in cls.options()}
        hints = typing.get_type_hints(cls)
        while r.peek() != "}":
            if not r.peek():
                raise r.error("unterminated option list, expected '}'")
            key, kpos = r.name()
            f = fields.get(key)
            if f is None:
                known = ", ".join(fields) or "none"
                raise r.error(f"pass '{name}' has no option '{key}'; its options: {known}", kpos)
            r.expect("=")
            vpos = r.pos
            raw = r.value()
            try:
                kwargs[f.name] = convert_option(raw, hints[f.name])
            except ValueError as e:
                raise r.error(f"option '{key}' of pass '{name}': {e}", vpos) from None
        r.pos += 1
    try:
        return cls(**kwargs)
    except (ValueError, TypeError) as e:
        raise r.error(f"pass '{name}': {e}", start) from None


def convert_option(raw: str, hint: Any) -> Any:
    """Convert option text to the field's annotated type."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin is Union or origin is types.UnionType:  # Optional[X] and X | None
        non_none = [a for a in args if a is not type(None)]
        if raw in ("", "none", "None") and len(non_none) < len(args):
            return None
        return convert_option(raw, non_none[0])
    if origin is Literal:
        if raw not in args:
            raise ValueError(f"'{raw}' is not one of {', '.join(map(str, args))}")
        return raw
    if origin is tuple:
        elem = args[0] if args else str
        body = raw[1:-1] if raw.startswith("[") and raw.endswith("]") else raw
        return tuple(convert_option(x.strip(), elem) for x in body.split(",") if x.strip())
    if hint is bool:
        if raw.lower() in ("true", "1", "on", "yes"):
            return True
        if raw.lower() in ("false", "0", "off", "no"):
            return False
        raise ValueError(f"'{raw}' is not a boolean (true/false)")
    if hint is int:
        try:
            return int(raw, 0)
        except ValueError:
            raise ValueError(f"'{raw}' is not an integer") from None
    if hint is float:
        try:
            return float(raw)
        except ValueError:
            raise ValueError(f"'{raw}' is not a number") from None
    return raw


def pass_help() -> str:
    """One line per registered pass with its options."""
    lines = []
    for name in sorted(PASSES):
        cls = PASSES[name]
        opts = " ".join(f"{f.name.replace('_', '-')}={_format_value(f.default)}"
                        if f.default is not dataclasses.MISSING else f.name.replace("_", "-")
                        for f in cls.options())
        lines.append(f"  {name}{'{' + opts + '}' if opts else ''}  {cls.summary}")
    return "\n".join(lines)

