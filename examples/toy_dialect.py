"""A user's own dialect for fmlc, in one file: the ``toy`` dialect.

It defines a parametrized type ``!toy.vec<N, element>``, two ops (``toy.scale``
and ``toy.add``), two rewrite patterns that are both canonicalisation patterns of
``toy.scale`` and the body of a custom pass ``toy-fold-scales``, and runs them
through a pipeline string.  docs/tutorial-dialect.md walks through it.

Run it with ``python examples/toy_dialect.py``.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Sequence
from typing import Any

import attrs

from fmlc.compiler.attributes import (
    ElementType,
    IntegerAttr,
    ParamError,
    ParametrizedType,
    TypeAttribute,
)
from fmlc.compiler.diagnostics import ParseError, VerifyError, verify_error
from fmlc.compiler.dialect import Dialect, register_dialect
from fmlc.compiler.driver import load_all
from fmlc.compiler.ir import Operation
from fmlc.compiler.opdef import (
    HasCanonicalizer,
    Pure,
    SameOperandsAndResultType,
    op_def,
    operand,
    prop,
    result,
)
from fmlc.compiler.parser import parse_module
from fmlc.compiler.pass_manager import PassManager, PrintIR
from fmlc.compiler.passes import Pass, PassContext, parse_pipeline, register_pass
from fmlc.compiler.printer import format_type, print_op
from fmlc.compiler.rewriter import (
    GreedyRewriteDriver,
    OpRewritePattern,
    PatternRewriter,
    RewritePattern,
    canonicalization_pattern,
    defining_op,
)
from fmlc.compiler.verifier import verify


# ---------------------------------------------------------------- 1. a parametrized type
@attrs.frozen
class VecType(ParametrizedType):
    """``!toy.vec<4, f32>``: a vector of ``size`` elements of ``element`` type."""

    name = "toy.vec"
    size: int
    element: TypeAttribute

    def parameters(self) -> Sequence[Any]:
        return (self.size, self.element)

    @classmethod
    def from_parameters(cls, params: Sequence[Any]) -> VecType:
        if len(params) != 2 or not isinstance(params[0], int) or not isinstance(params[1], ElementType):
            raise ParamError("expected <size, element type>, e.g. !toy.vec<4, f32>")
        if params[0] < 1:
            raise ParamError(f"size must be at least 1, got {params[0]}")
        return cls(params[0], params[1])


# ---------------------------------------------------------------- 2. two ops
@op_def("toy.scale")
class ScaleOp(Operation):
    """output = input * factor, element by element."""

    input = operand(VecType)
    factor = prop(IntegerAttr)
    output = result(VecType)
    traits = (Pure(), HasCanonicalizer())

    def verify_(self) -> None:
        if self.factor.value == 0:
            raise verify_error(self, "factor must not be 0")
        if self.output.type != self.input.type:
            raise verify_error(self, f"result type {format_type(self.output.type)} differs from "
                                     f"input type {format_type(self.input.type)}")


@op_def("toy.add")
class AddOp(Operation):
    """output = lhs + rhs, element by element."""

    lhs = operand(VecType)
    rhs = operand(VecType)
    output = result(VecType)
    traits = (Pure(), SameOperandsAndResultType())


TOY = register_dialect(Dialect("toy", ops=[ScaleOp, AddOp], attributes=[VecType]))


# ---------------------------------------------------------------- 3. rewrite patterns
@canonicalization_pattern(ScaleOp)
class FoldScaleByOne(OpRewritePattern):
    """scale(x, 1) -> x"""

    op_type = ScaleOp

    def match_and_rewrite(self, op: ScaleOp, rewriter: PatternRewriter) -> None:
        if op.factor.value == 1:
            rewriter.replace_op(op, op.input)


@canonicalization_pattern(ScaleOp)
class CombineScales(OpRewritePattern):
    """scale(scale(x, a), b) -> scale(x, a*b), located at both ops."""

    op_type = ScaleOp

    def match_and_rewrite(self, op: ScaleOp, rewriter: PatternRewriter) -> None:
        inner = defining_op(op.input)
        if not isinstance(inner, ScaleOp):
            return  # no change: the pattern did not match
        merged = ScaleOp.build(
            input=inner.input,
            factor=IntegerAttr(inner.factor.value * op.factor.value, op.factor.type),
            output=op.output.type,
            location=rewriter.fused_location(inner, op),
        )
        rewriter.replace_op(op, merged)


# ---------------------------------------------------------------- 4. a pass with an option
@register_pass
@dataclasses.dataclass(frozen=True)
class FoldScales(Pass):
    """Merge chains of toy.scale; with drop-identity, also remove scales by 1."""

    name = "toy-fold-scales"
    summary = "merge chains of toy.scale into one"
    anchor = "func.func"
    drop_identity: bool = True

    def apply(self, ctx: PassContext, op: Operation) -> None:
        patterns: list[RewritePattern] = [CombineScales()]
        if self.drop_identity:
            patterns.append(FoldScaleByOne())
        GreedyRewriteDriver(patterns).apply(op)


# ---------------------------------------------------------------- 5. using it
SOURCE = """\
"func.func"() <{function_type = (!toy.vec<4, f32>) -> !toy.vec<4, f32>, sym_name = "main"}> ({
^bb0(%x: !toy.vec<4, f32>):
  %a = "toy.scale"(%x) <{factor = 2}> : (!toy.vec<4, f32>) -> !toy.vec<4, f32> loc("Mul_0")
  %b = "toy.scale"(%a) <{factor = 3}> : (!toy.vec<4, f32>) -> !toy.vec<4, f32> loc("Mul_1")
  %c = "toy.scale"(%x) <{factor = 1}> : (!toy.vec<4, f32>) -> !toy.vec<4, f32> loc("Identity_2")
  %d = "toy.add"(%b, %c) : (!toy.vec<4, f32>, !toy.vec<4, f32>) -> !toy.vec<4, f32> loc("Add_3")
  "func.return"(%d) : (!toy.vec<4, f32>) -> ()
}) : () -> ()
"""

BAD_SCALE = """\
"func.func"() <{function_type = (!toy.vec<4, f32>) -> !toy.vec<4, f32>, sym_name = "bad"}> ({
^bb0(%x: !toy.vec<4, f32>):
  %y = "toy.scale"(%x) <{factor = 0}> : (!toy.vec<4, f32>) -> !toy.vec<4, f32> loc("Mul_9")
  "func.return"(%y) : (!toy.vec<4, f32>) -> ()
}) : () -> ()
"""

BAD_ADD = """\
"func.func"() <{function_type = (tensor<4xf32>) -> (), sym_name = "bad"}> ({
^bb0(%t: tensor<4xf32>):
  %s = "toy.add"(%t, %t) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  "func.return"() : () -> ()
}) : () -> ()
"""

BAD_TYPE = """\
"func.func"() <{function_type = (!toy.vec<0, f32>) -> (), sym_name = "f"}> ({}) : () -> ()
"""


def main() -> None:
    load_all()  # fmlc's own dialects (func) and passes (canonicalize, cse)

    print("== 1. parse, verify and print ==")
    module = parse_module(SOURCE, "toy.mlir")
    verify(module)
    print(print_op(module))

    print("== 2. the verifier rejects bad ops ==")
    for filename, text in [("bad_scale.mlir", BAD_SCALE), ("bad_add.mlir", BAD_ADD)]:
        try:
            verify(parse_module(text, filename))
        except VerifyError as e:
            print(e)

    print("== 3. the parser rejects a bad type parameter ==")
    try:
        parse_module(BAD_TYPE, "bad_type.mlir")
    except ParseError as e:
        print(e)

    print("== 4. run a pipeline ==")
    pipeline = parse_pipeline("builtin.module(func.func(toy-fold-scales{drop-identity=false}),canonicalize)")
    print("pipeline:", pipeline)
    pm = PassManager(pipeline, instruments=[PrintIR(after=["toy-fold-scales"], stream=sys.stdout)])
    pm.run(module)

    print("== 5. the result ==")
    print(print_op(module))


if __name__ == "__main__":
    main()
