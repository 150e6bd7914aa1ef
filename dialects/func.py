"""The ``func`` dialect: functions and their return."""

from __future__ import annotations

from fmlc.compiler.attributes import FunctionType, StringAttr, TypeAttr
from fmlc.compiler.diagnostics import verify_error
from fmlc.compiler.dialect import Dialect, register_dialect
from fmlc.compiler.ir import Block, Operation, Region
from fmlc.compiler.opdef import (
    HasParent,
    IsolatedFromAbove,
    IsTerminator,
    SingleBlock,
    op_def,
    prop,
    region,
    var_operand,
)


@op_def("func.func")
class FuncOp(Operation):
    """A function: one block whose arguments are the inputs, ended by ``func.return``."""

    sym_name = prop(StringAttr)
    function_type = prop(TypeAttr)
    body = region()
    traits = (IsolatedFromAbove(), SingleBlock())

    @classmethod
    def create(cls, name: str, inputs: list, results: list) -> FuncOp:
        body = Region([Block(inputs)])
        return cls.build(sym_name=StringAttr(name), function_type=TypeAttr(FunctionType(inputs, results)),
                         body=body)  # type: ignore[return-value]

    @property
    def type(self) -> FunctionType:
        return self.function_type.type

    @property
    def entry(self) -> Block:
        return self.body.block

    def verify_(self) -> None:
        if not isinstance(self.function_type.type, FunctionType):
            raise verify_error(self, "property 'function_type' must be a function type")
        args = tuple(a.type for a in self.entry.args)
        if args != self.type.inputs:
            raise verify_error(self, f"entry block argument types {_types(args)} do not match the "
                                     f"function inputs {_types(self.type.inputs)}")
        last = self.entry.last_op
        if not isinstance(last, ReturnOp):
            raise verify_error(self, "body must end with 'func.return'")


@op_def("func.return")
class ReturnOp(Operation):
    """Returns its operands from the enclosing function."""

    values = var_operand()
    traits = (IsTerminator(), HasParent(["func.func"]))

    def verify_(self) -> None:
        func = self.parent_op
        if isinstance(func, FuncOp) and isinstance(func.function_type.type, FunctionType):
            got = tuple(v.type for v in self.values)
            if got != func.type.results:
                raise verify_error(self, f"returns {_types(got)} but the function declares "
                                         f"{_types(func.type.results)}")


def _types(ts) -> str:
    from fmlc.compiler.printer import format_attribute

    return "(" + ", ".join(format_attribute(t) for t in ts) + ")"


FUNC = register_dialect(Dialect("func", ops=[FuncOp, ReturnOp]))
