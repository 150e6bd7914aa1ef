"""Constant folding of ``onnx`` ops, as a canonicalisation pattern.

An ``onnx`` op whose operands are all constants (and ``Shape`` / ``Size``, whose
result depends only on the static shape) becomes an ``onnx.Constant`` computed by
its interpreter rule, so shape arithmetic (Shape, Gather, Concat, Unsqueeze,
Range, ConstantOfShape, Equal, Where, Expand, Cast, ...) and constant index
tensors disappear before the rewrite patterns and ``onnx-to-qt`` see the graph.

Quantisers are not folded: ``onnx-to-qt`` reads a quantiser applied to a weight
as the weight's fixed-point type, which a plain float constant would lose.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from fmlc.compiler.attributes import NoneType
from fmlc.compiler.diagnostics import DiagnosticError
from fmlc.compiler.ir import Operation, Value
from fmlc.compiler.rewriter import PatternRewriter, RewritePattern, canonicalization_pattern, defining_op
from fmlc.dialects import onnx as onnx_d
from fmlc.passes.import_onnx import dense, dtype_of
from fmlc.runtime import rules as _rules  # noqa: F401  (folding runs the interpreter rules)
from fmlc.runtime.interpreter import Interpreter, TypedArray, interpret_error, rule_for

NOT_FOLDED = {"Constant", "Quant", "IntQuant", "BipolarQuant", "Trunc", "MultiThreshold"}
SHAPE_ONLY = {"Shape", "Size"}


def constant_array(v: Value) -> np.ndarray | None:
    """The value of ``v`` when an ``onnx.Constant`` defines it, else None."""
    op = defining_op(v)
    if isinstance(op, onnx_d.OPS["Constant"]):
        return np.asarray(op.value.data)  # type: ignore[attr-defined]
    return None


def _operand(v: Value, shape_only: bool) -> TypedArray | None:
    if isinstance(v.type, NoneType):
        return TypedArray(None, v.type)
    arr = constant_array(v)
    if arr is None and shape_only:  # Shape and Size read only the (static) shape
        arr = np.zeros(v.type.shape, np.float32)  # type: ignore[attr-defined]
    return None if arr is None else TypedArray(arr, v.type)


def fold(op: onnx_d.OnnxOp) -> list[np.ndarray] | None:
    """The results of ``op`` when they are known at compile time, else None."""
    if op.op_type in NOT_FOLDED:
        return None
    args = [_operand(v, op.op_type in SHAPE_ONLY) for v in op.operands]
    if any(a is None for a in args):
        return None
    rule = rule_for(type(op))
    if rule is None:
        return None
    with np.errstate(all="ignore"):
        try:
            out: Any = rule(Interpreter(), op, *args)
        except DiagnosticError:
            raise
        except Exception as e:  # a rule's numpy error on bad constants: name the node
            raise interpret_error(op, f"cannot fold: {type(e).__name__}: {e}") from None
    outs = list(out) if isinstance(out, (tuple, list)) else [out]
    return [np.asarray(o.data if isinstance(o, TypedArray) else o) for o in outs]


@canonicalization_pattern(*onnx_d.OPS.values())
class FoldConstantOnnxOp(RewritePattern):
    """``op(constants...)`` → ``onnx.Constant`` (the value its interpreter rule computes)."""

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter) -> None:
        if not isinstance(op, onnx_d.OnnxOp) or not op.results:
            return
        values = fold(op)
        if values is None:
            return
        new: list[Value] = []
        for r, arr in zip(op.results, values, strict=False):
            c = onnx_d.constant(dense(arr.astype(dtype_of(r.type.element))), location=op.location)
            rewriter.insert_op(c)
            c.result.name_hint = r.name_hint
            new.append(c.result)
        rewriter.replace_op(op, new)
