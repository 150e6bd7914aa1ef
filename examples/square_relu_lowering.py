"""A lowering pattern for a user's op: ``qt.mul(r, r)`` of ``r = qt.relu(x)`` becomes ``mine.square_relu(x)``.

The op, its interpreter rule and its C++ emission rule are in ``examples/custom_op_hls.py``; this file adds
the fourth piece, a rewrite pattern that puts the op into a model, and the pass ``square-relu`` that runs
it.  Both files are plugins, loaded in this order (docs/guide/experts.md)::

    fmlc --load examples/custom_op_hls.py --load examples/square_relu_lowering.py MODEL -p '...,square-relu'

The pattern needs no type arithmetic: ``mine.square_relu`` converts its exact result into whatever result
type it is given, and it is given the type of the ``qt.mul`` it replaces, which holds the product
exactly.  The greedy driver erases the ``qt.relu`` once nothing uses it.
"""

from __future__ import annotations

import dataclasses

from fmlc.compiler.diagnostics import FmlcError
from fmlc.compiler.dialect import REGISTRY
from fmlc.compiler.ir import Operation
from fmlc.compiler.passes import Pass, PassContext, register_pass
from fmlc.compiler.rewriter import GreedyRewriteDriver, OpRewritePattern, PatternRewriter, defining_op
from fmlc.dialects import qt


class SquareOfRelu(OpRewritePattern):
    """mul(relu(x), relu(x)) -> mine.square_relu(x), in the mul's result type, at the mul's location."""

    op_type = qt.MulOp

    def match_and_rewrite(self, op: qt.MulOp, rewriter: PatternRewriter) -> None:
        relu = defining_op(op.lhs)
        if op.rhs is not op.lhs or not isinstance(relu, qt.ReluOp):
            return  # no change: the pattern did not match
        square_relu = REGISTRY.ops["mine.square_relu"]
        rewriter.replace_op(op, square_relu.build(input=relu.input, output=op.output.type))


@register_pass
@dataclasses.dataclass(frozen=True)
class SquareRelu(Pass):
    """Rewrite every qt.mul of a qt.relu by itself into mine.square_relu."""

    name = "square-relu"
    summary = "qt.mul(r, r) of r = qt.relu(x) -> mine.square_relu(x) (load examples/custom_op_hls.py first)"

    def apply(self, ctx: PassContext, op: Operation) -> None:
        if "mine.square_relu" not in REGISTRY.ops:
            raise FmlcError("error: square-relu needs mine.square_relu: --load examples/custom_op_hls.py first")
        GreedyRewriteDriver([SquareOfRelu()]).apply(op)
