"""The interpreter core: rules, scoping, listeners, tracing and missing-rule errors."""

from __future__ import annotations

import numpy as np
import pytest

from fmlc.compiler.attributes import FloatAttr, TensorType, f32
from fmlc.compiler.dialect import REGISTRY, Dialect, register_dialect
from fmlc.compiler.driver import load_all
from fmlc.compiler.ir import Operation
from fmlc.compiler.opdef import IsolatedFromAbove, Pure, op_def, operand, prop, result
from fmlc.compiler.parser import parse_module
from fmlc.runtime.interpreter import InterpretError, OpCounter, Tracer, TypedArray, impl, rule_for, run

load_all()


@op_def("itest.add")
class AddOp(Operation):
    lhs = operand(TensorType)
    rhs = operand(TensorType)
    out = result(TensorType)
    traits = (Pure(),)


@op_def("itest.scale")
class ScaleOp(Operation):
    input = operand(TensorType)
    factor = prop(FloatAttr)
    out = result(TensorType)
    traits = (Pure(),)


@op_def("itest.norule")
class NoRuleOp(Operation):
    input = operand(TensorType)
    out = result(TensorType)


register_dialect(Dialect("itest", ops=[AddOp, ScaleOp, NoRuleOp]))


@impl(AddOp)
def _add(interp, op, a: TypedArray, b: TypedArray):
    return a.data + b.data


@impl(ScaleOp)
def _scale(interp, op, x: TypedArray):
    return (x.data * np.float32(op.factor.value)).astype(np.float32)


PROGRAM = """
"func.func"() <{function_type = (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>, sym_name = "main"}> ({
^bb0(%a: tensor<3xf32>, %b: tensor<3xf32>):
  %s = "itest.add"(%a, %b) : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32> loc("Add_0")
  %t = "itest.scale"(%s) <{factor = 0.5 : f32}> : (tensor<3xf32>) -> tensor<3xf32> loc("Scale_1")
  %u = "itest.add"(%t, %t) : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  "func.return"(%u) : (tensor<3xf32>) -> ()
}) : () -> ()
"""


def test_runs_function_and_listeners(tmp_path):
    module = parse_module(PROGRAM, "prog.mlir")
    counter, tracer = OpCounter(), Tracer()
    a = np.array([1, 2, 3], dtype=np.float32)
    b = np.array([3, 2, 1], dtype=np.float32)
    (out,) = run(module, [a, b], listeners=[counter, tracer])
    np.testing.assert_array_equal(out.data, (a + b) * 0.5 * 2)
    assert out.type == TensorType((3,), f32)
    assert counter.counts == {"itest.add": 2, "itest.scale": 1, "func.return": 1}
    assert list(tracer.values) == ["Add_0", "Scale_1", "prog.mlir:6:8"]
    tracer.save(tmp_path / "trace.npz")
    saved = np.load(tmp_path / "trace.npz")
    np.testing.assert_array_equal(saved["Scale_1"], (a + b) * 0.5)
    assert str(saved["Scale_1.type"]) == "tensor<3xf32>"


def test_missing_rule_names_op_and_location():
    text = PROGRAM.replace('"itest.scale"(%s) <{factor = 0.5 : f32}>', '"itest.norule"(%s)')
    module = parse_module(text, "prog.mlir")
    with pytest.raises(InterpretError, match=r"prog.mlir:5:8: error: 'itest.norule' op has no interpreter rule"):
        run(module, [np.zeros(3, np.float32)] * 2)


def test_input_shape_is_checked():
    module = parse_module(PROGRAM, "prog.mlir")
    with pytest.raises(InterpretError, match="failed to run|shape"):
        run(module, [np.zeros(4, np.float32), np.zeros(3, np.float32)])


def test_every_fmlc_op_has_a_rule():
    """Every op of fmlc's own dialects that runs as a statement has a rule at its level."""
    own = {name for name in REGISTRY.dialects if name != "itest" and not name.startswith("test")}
    missing = [op.name for op in REGISTRY.all_ops()
               if op.name.split(".")[0] in own and not op.has_trait(IsolatedFromAbove) and rule_for(op) is None]
    assert not missing, f"ops without interpreter rules: {missing}"
