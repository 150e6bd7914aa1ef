"""The ``test`` dialect of the IR core's tests: ops with every kind of declared field,
a parametrized type, canonicalisation patterns and a pass that breaks the IR.

It is also a plugin: ``fmlc-opt --load tests/compiler/testdialect.py`` registers it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any, ClassVar

import attrs

from fmlc.compiler.attributes import (
    BoolAttr,
    DenseElementsAttr,
    FloatType,
    IntegerAttr,
    IntegerType,
    ParamError,
    ParametrizedType,
    StringAttr,
    TensorType,
    TypeAttribute,
)
from fmlc.compiler.dialect import Dialect, register_dialect
from fmlc.compiler.driver import load_all
from fmlc.compiler.ir import Operation
from fmlc.compiler.opdef import (
    ConstantLike,
    HasCanonicalizer,
    HasParent,
    IsolatedFromAbove,
    IsTerminator,
    Pure,
    SameOperandsAndResultType,
    TensorOf,
    op_def,
    operand,
    opt_operand,
    prop,
    region,
    result,
    var_operand,
    var_result,
)
from fmlc.compiler.passes import Pass, PassContext, register_pass
from fmlc.compiler.rewriter import OpRewritePattern, PatternRewriter, canonicalization_pattern, defining_op

load_all()  # fmlc's own dialects and passes, as the command-line tools have them


@attrs.frozen
class VecType(ParametrizedType):
    """``!test.vec<N, T>``: N >= 1 elements of type T."""

    name: ClassVar[str] = "test.vec"
    length: int
    element: TypeAttribute

    def parameters(self) -> Sequence[Any]:
        return (self.length, self.element)

    @classmethod
    def from_parameters(cls, params: Sequence[Any]) -> VecType:
        if len(params) != 2 or type(params[0]) is not int or not isinstance(params[1], TypeAttribute):
            raise ParamError("expected <length, element type>")
        if params[0] < 1:
            raise ParamError(f"length must be at least 1, got {params[0]}")
        return cls(params[0], params[1])


@op_def("test.pure")
class PureOp(Operation):
    ins = var_operand()
    outs = var_result()
    value = prop(optional=True)
    traits = (Pure(),)


@op_def("test.effect")
class EffectOp(Operation):
    """Not pure: never erased or merged."""

    ins = var_operand()
    outs = var_result()


@op_def("test.groups")
class GroupsOp(Operation):
    """Every kind of operand and result group; needs ``operandSegmentSizes``."""

    first = operand()
    maybe = opt_operand()
    rest = var_operand()
    out = result()
    more = var_result()
    count = prop(IntegerAttr, default=IntegerAttr(0))
    label = prop(StringAttr, optional=True)


@op_def("test.region")
class RegionOp(Operation):
    ins = var_operand()
    outs = var_result()
    bodies = region("variadic")


@op_def("test.isolated")
class IsolatedOp(Operation):
    body = region()
    traits = (IsolatedFromAbove(),)


@op_def("test.yield")
class YieldOp(Operation):
    values = var_operand()
    traits = (IsTerminator(), HasParent(["test.region", "test.isolated"]))


@op_def("test.cast")
class CastOp(Operation):
    """An integer scalar to a float tensor."""

    input = operand(IntegerType)
    output = result(TensorOf(FloatType))
    traits = (Pure(),)


@op_def("test.const")
class ConstOp(Operation):
    value = prop(DenseElementsAttr)
    output = result(TensorType)
    traits = (Pure(), ConstantLike())


@op_def("test.neg")
class NegOp(Operation):
    input = operand()
    output = result()
    traits = (Pure(), SameOperandsAndResultType(), HasCanonicalizer())


@op_def("test.flip")
class FlipOp(Operation):
    """Its canonicalisation pattern flips ``state`` forever: it never converges."""

    state = prop(BoolAttr)
    traits = (HasCanonicalizer(),)


@canonicalization_pattern(NegOp)
class FoldDoubleNeg(OpRewritePattern):
    """-(-x) -> x"""

    op_type = NegOp

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter) -> None:
        inner = defining_op(op.input)
        if isinstance(inner, NegOp):
            rewriter.replace_op(op, [inner.input])


@canonicalization_pattern(FlipOp)
class FlipState(OpRewritePattern):
    op_type = FlipOp

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter) -> None:
        op.properties["state"] = BoolAttr(not op.state.value)
        rewriter.notify_modified(op)


TEST = register_dialect(Dialect("test", ops=[PureOp, EffectOp, GroupsOp, RegionOp, IsolatedOp, YieldOp, CastOp,
                                             ConstOp, NegOp, FlipOp], attributes=[VecType]))


@register_pass
@dataclasses.dataclass(frozen=True)
class BreakIR(Pass):
    """Drops ``sym_name`` from every ``func.func``: the IR no longer verifies."""

    name = "test-break-ir"

    def apply(self, ctx: PassContext, op: Operation) -> None:
        for inner in op.walk():
            if inner.name == "func.func":
                inner.properties.pop("sym_name", None)
