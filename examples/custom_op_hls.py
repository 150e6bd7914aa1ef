"""A user's own qt-level op, down to hardware: ``mine.square_relu``.

``mine.square_relu`` computes max(x, 0)² element by element on fixed-point tensors.
Three registrations take it from the IR to the C simulation, none of them in fmlc's
own files: the op (``op_def``, with a verifier), its interpreter rule (``@impl``,
exact on raw codes: the qt and df levels run it), and its C++ emission rule
(``@emits``: the firmware and the C simulation).  docs/tutorial-dialect.md, step 7,
walks through it.  Use it with ``fmlc --load examples/custom_op_hls.py MODEL.mlir``.
"""

from __future__ import annotations

import numpy as np

from fmlc.codegen import cpp as C
from fmlc.codegen.emit import Arr, Ctx, convert, emits, result_elem
from fmlc.compiler.diagnostics import verify_error
from fmlc.compiler.dialect import Dialect, register_dialect
from fmlc.compiler.ir import Operation
from fmlc.compiler.opdef import Pure, op_def, operand, result
from fmlc.dialects.qt import FixedTensor
from fmlc.runtime import fixed as fx
from fmlc.runtime.interpreter import Interpreter, TypedArray, impl
from fmlc.runtime.qt_rules import convert_exact


# ---------------------------------------------------------------- 1. the op
@op_def("mine.square_relu")
class SquareReluOp(Operation):
    """output = max(input, 0)², converted once into the result's element type."""

    input = operand(FixedTensor)
    output = result(FixedTensor)
    traits = (Pure(),)

    def verify_(self) -> None:
        if self.output.type.shape != self.input.type.shape:
            raise verify_error(self, "result shape differs from the input shape")


register_dialect(Dialect("mine", ops=[SquareReluOp]))


# ---------------------------------------------------------------- 2. the interpreter rule
@impl(SquareReluOp)
def _square_relu(interp: Interpreter, op: SquareReluOp, x: TypedArray) -> np.ndarray:
    t = x.type.element
    r = np.maximum(fx.as_raw(x.data, t, check=False), 0)  # raw codes; 0 is code 0
    square, st = fx.mul(r, t, r, t)                        # exact product, type t.mul_type(t)
    return convert_exact(square, st, op.output.type.element)


# ---------------------------------------------------------------- 3. the C++ emission rule
@emits(SquareReluOp)
def _emit_square_relu(ctx: Ctx, op: SquareReluOp, x: Arr) -> Arr:
    t, out_t = x.elem, result_elem(op)
    out = ctx.array(out_t, x.size)  # x.size: the whole tensor, or one beat's row when streaming
    i, r = C.Name("i"), C.Name("r")
    relu = C.Ternary(C.BinOp("<", x.at(i), C.Int(0)), C.Cast(ctx.t(t), C.Int(0)), x.at(i))
    ctx.emit(ctx.loop("i", x.size, [
        C.VarDecl(ctx.t(t), "r", init=relu),
        C.Assign(out.at(i), convert(ctx, C.BinOp("*", r, r), t.mul_type(t), out_t)),
    ]))
    return out
