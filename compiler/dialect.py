"""Dialects and the registry that the parser, verifier and passes look names up in.

A dialect is a named group of op classes and of parametrized types/attributes.
fmlc's own dialects and a user's register the same way::

    MY = Dialect("my", ops=[MyOp], attributes=[MyType])
    register_dialect(MY)
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import attrs

from fmlc.compiler.attributes import ParametrizedAttribute

if TYPE_CHECKING:
    from fmlc.compiler.ir import Operation


@attrs.frozen
class Dialect:
    name: str
    ops: tuple[type[Operation], ...] = attrs.field(default=(), converter=tuple)
    attributes: tuple[type[ParametrizedAttribute], ...] = attrs.field(default=(), converter=tuple)

    def __attrs_post_init__(self) -> None:
        for cls in [*self.ops, *self.attributes]:
            if not cls.name.startswith(self.name + "."):
                raise ValueError(f"'{cls.name}' does not belong to dialect '{self.name}'")


class Registry:
    """Name → class tables for ops and dialect attributes/types."""

    def __init__(self) -> None:
        self.dialects: dict[str, Dialect] = {}
        self.ops: dict[str, type[Operation]] = {}
        self.attributes: dict[str, type[ParametrizedAttribute]] = {}

    def register(self, dialect: Dialect) -> None:
        old = self.dialects.get(dialect.name)
        if old is not None and old != dialect:
            raise ValueError(f"a different dialect named '{dialect.name}' is already registered")
        self.dialects[dialect.name] = dialect
        for op in dialect.ops:
            self.ops[op.name] = op
        for attr in dialect.attributes:
            self.attributes[attr.name] = attr

    def op(self, name: str) -> type[Operation] | None:
        return self.ops.get(name)

    def attribute(self, name: str) -> type[ParametrizedAttribute] | None:
        return self.attributes.get(name)

    def all_ops(self) -> Iterable[type[Operation]]:
        return self.ops.values()


REGISTRY = Registry()


def register_dialect(dialect: Dialect) -> Dialect:
    REGISTRY.register(dialect)
    return dialect
