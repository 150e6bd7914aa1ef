"""The ``builtin`` dialect: the top-level ``builtin.module``."""

from __future__ import annotations

from fmlc.compiler.attributes import StringAttr
from fmlc.compiler.dialect import Dialect, register_dialect
from fmlc.compiler.ir import Block, Operation, Region
from fmlc.compiler.opdef import IsolatedFromAbove, SingleBlock, op_def, prop, region


@op_def("builtin.module")
class ModuleOp(Operation):
    """A container of top-level ops (functions, globals); it has no terminator."""

    sym_name = prop(StringAttr, optional=True)
    body = region()
    traits = (IsolatedFromAbove(), SingleBlock())

    @classmethod
    def create(cls, ops: list[Operation] | None = None) -> ModuleOp:
        return cls(regions=[Region([Block(ops=ops or [])])])  # type: ignore[return-value]

    @property
    def ops(self) -> tuple[Operation, ...]:
        return self.body.block.ops


BUILTIN = register_dialect(Dialect("builtin", ops=[ModuleOp]))
