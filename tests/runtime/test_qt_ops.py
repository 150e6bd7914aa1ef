"""Verifiers of the ``qt`` ops: each malformed op is rejected with its diagnostic."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from fmlc.compiler.diagnostics import VerifyError
from fmlc.compiler.driver import load_all
from fmlc.compiler.parser import parse_module
from fmlc.compiler.verifier import verify
from fmlc.dialects import qt
from fmlc.runtime.interpreter import run

load_all()

F = "!qt.fixed<8,3>"
U = "!qt.ufixed<6,2,rnd,sat>"
B = "!qt.bipolar"
I = "!qt.int<8>"


def module(args: list[str], body: str) -> str:
    params = ", ".join(f"%a{k}: {t}" for k, t in enumerate(args))
    return (f'"func.func"() <{{function_type = ({", ".join(args)}) -> (), sym_name = "f"}}> ({{\n'
            f"^bb0({params}):\n  {body}\n  \"func.return\"() : () -> ()\n}}) : () -> ()\n")


def check(args: list[str], body: str) -> None:
    verify(parse_module(module(args, body), "t.mlir"))


def conv(x: str, w: str, out: str, props: str = "dilations = [1, 1], pads = [0, 0, 0, 0], strides = [1, 1]",
         bias: str | None = None) -> tuple[list[str], str]:
    args = [x, w] + ([bias] if bias else [])
    operands = "%a0, %a1" + (", %a2" if bias else "")
    return args, f'%r = "qt.conv"({operands}) <{{{props}}}> : ({", ".join(args)}) -> {out}'


def pool(name: str, x: str, out: str, props: str) -> tuple[list[str], str]:
    return [x], f'%r = "qt.{name}"(%a0) <{{{props}}}> : ({x}) -> {out}'


def unary(name: str, x: str, out: str, props: str = "") -> tuple[list[str], str]:
    p = f" <{{{props}}}>" if props else ""
    return [x], f'%r = "qt.{name}"(%a0){p} : ({x}) -> {out}'


def op(name: str, args: list[str], outs: str, props: str = "") -> tuple[list[str], str]:
    p = f" <{{{props}}}>" if props else ""
    operands = ", ".join(f"%a{k}" for k in range(len(args)))
    names = "%r:2" if outs.startswith("(") else "%r"
    return args, f'{names} = "qt.{name}"({operands}){p} : ({", ".join(args)}) -> {outs}'


P2 = "dilations = [1, 1], kernel = [2, 2], pads = [0, 0, 0, 0], strides = [2, 2]"
LUT = 'shift = 0, start = 0, table = dense<"0x01"> : tensor<3x!qt.ufixed<6,2,rnd,sat>>'
SM = ('axis = 1, exp_shift = 0, exp_start = 0, exp_table = dense<"0x01"> : tensor<2x!qt.ufixed<8,1>>, '
      'inv_shift = 0, inv_start = 0, inv_table = dense<"0x01"> : tensor<2x!qt.ufixed<8,1>>')

VALID = {
    "const": ([], f'%r = "qt.const"() <{{value = dense<"0x01"> : tensor<2x{F}>}}> : () -> tensor<2x{F}>'),
    "from_float": unary("from_float", "tensor<2xf64>", f"tensor<2x{B}>"),
    "to_float": unary("to_float", f"tensor<2x{B}>", "tensor<2xf32>"),
    "cast": unary("cast", f"tensor<2x{F}>", f"tensor<2x{I}>"),
    "dense": op("dense", [f"tensor<3x2x4x{F}>", f"tensor<4x5x{U}>", f"tensor<5x{I}>"], f"tensor<3x2x5x{B}>"),
    "dense_1d": op("dense", [f"tensor<4x{F}>", f"tensor<4x5x{U}>"], f"tensor<5x{F}>"),
    "conv_depthwise": conv(f"tensor<1x5x5x4x{F}>", f"tensor<3x3x1x4x{F}>", f"tensor<1x3x1x4x{F}>",
                           "dilations = [1, 2], groups = 4, pads = [1, 0, 1, 0], strides = [2, 1]"),
    "conv1d": conv(f"tensor<2x7x3x{F}>", f"tensor<2x3x5x{F}>", f"tensor<2x6x5x{F}>",
                   "dilations = [1], pads = [0, 0], strides = [1]", bias=f"tensor<5x{I}>"),
    "add_broadcast": op("add", [f"tensor<2x1x{F}>", f"tensor<3x{B}>"], f"tensor<2x3x{U}>"),
    "mul_scalar": op("mul", [f"tensor<{F}>", f"tensor<3x{F}>"], f"tensor<3x{F}>"),
    "leaky_per_channel": op("leaky_relu", [f"tensor<2x3x4x{F}>", f"tensor<4x{F}>"], f"tensor<2x3x4x{F}>"),
    "prelu": op("leaky_relu", [f"tensor<2x3x4x{F}>", f"tensor<3x1x{F}>"], f"tensor<2x3x4x{F}>"),
    "clip": op("clip", [f"tensor<2x{F}>", f"tensor<{I}>", f"tensor<{U}>"], f"tensor<2x{F}>"),
    "max_pool": pool("max_pool", f"tensor<1x4x5x2x{B}>", f"tensor<1x2x2x2x{B}>", P2),
    "avg_pool_global": pool("avg_pool", f"tensor<1x4x5x2x{F}>", f"tensor<1x1x1x2x{U}>",
                            "count_include_pad = 1, dilations = [1, 1], kernel = [4, 5], pads = [0, 0, 0, 0], "
                            "strides = [1, 1]"),
    "avg_pool_3d": pool("avg_pool", f"tensor<1x4x4x4x2x{F}>", f"tensor<1x2x2x2x2x{F}>",
                        "dilations = [1, 1, 1], kernel = [2, 2, 2], pads = [0, 0, 0, 0, 0, 0], strides = [2, 2, 2]"),
    "reshape": unary("reshape", f"tensor<2x3x{F}>", f"tensor<6x1x{F}>"),
    "transpose": unary("transpose", f"tensor<2x3x4x{F}>", f"tensor<4x2x3x{F}>", "perm = [2, 0, 1]"),
    "concat": op("concat", [f"tensor<2x3x{F}>", f"tensor<2x1x{F}>"], f"tensor<2x4x{F}>", "axis = 1"),
    "split": op("split", [f"tensor<2x4x{F}>"], f"(tensor<2x1x{F}>, tensor<2x3x{F}>)", "axis = 1"),
    "slice_reverse": unary("slice", f"tensor<4x5x{F}>", f"tensor<4x3x{F}>",
                           "ends = [-1, 5], starts = [3, 0], steps = [-1, 2]"),
    "pad": op("pad", [f"tensor<2x3x{F}>", f"tensor<{F}>"], f"tensor<3x6x{F}>", "pads = [0, 1, 1, 2]"),
    "lut": unary("lut", f"tensor<2x{F}>", f"tensor<2x{U}>", LUT + ', function = "sigmoid"'),
    "softmax": unary("softmax", f"tensor<2x3x{F}>", f"tensor<2x3x{U}>", SM),
    "bipolar_dense": op("bipolar_dense", [f"tensor<2x4x{B}>", f"tensor<4x3x{B}>"], "tensor<2x3x!qt.int<4>>"),
    "threshold": op("threshold", [f"tensor<2x3x4x{F}>", f"tensor<3x5x{U}>"], "tensor<2x3x4x!qt.uint<3>>",
                    "axis = 1"),
    "threshold_shared": op("threshold", [f"tensor<2x3x{F}>", f"tensor<1x5x{F}>"], "tensor<2x3x!qt.uint<3>>",
                           "axis = 1"),
}


@pytest.mark.parametrize("case", VALID.values(), ids=VALID.keys())
def test_valid(case):
    check(*case)


INVALID = {
    "const_type": (([], f'%r = "qt.const"() <{{value = dense<"0x01"> : tensor<2x{F}>}}> : () -> tensor<3x{F}>'),
                   r"result type tensor<3x!qt.fixed<8,3>> differs from the value's type tensor<2x!qt.fixed<8,3>>"),
    "const_float": (([], '%r = "qt.const"() <{value = dense<"0x01"> : tensor<2xi8>}> : () -> tensor<2xi8>'),
                    r"result #0 \('output'\): tensor element: expected a !qt element type, got i8"),
    "from_float_f16": (unary("from_float", "tensor<2xf16>", f"tensor<2x{F}>"),
                       r"operand #0 \('input'\): tensor element: expected f32 or f64 or an integer type, got f16"),
    "to_float_shape": (unary("to_float", f"tensor<2x{F}>", "tensor<3xf32>"), r"result shape \[3\] should be \[2\]"),
    "cast_shape": (unary("cast", f"tensor<2x{F}>", f"tensor<2x1x{F}>"), r"result shape \[2, 1\] should be \[2\]"),
    "dense_bipolar": (op("dense", [f"tensor<4x{B}>", f"tensor<4x5x{F}>"], f"tensor<5x{F}>"),
                      r"operand #0 \('input'\): tensor element: expected a fixed-point type"),
    "dense_weight_rank": (op("dense", [f"tensor<4x{F}>", f"tensor<4x5x1x{F}>"], f"tensor<5x{F}>"),
                          r"weight must have rank 2, got shape \[4, 5, 1\]"),
    "dense_k": (op("dense", [f"tensor<3x{F}>", f"tensor<4x5x{F}>"], f"tensor<5x{F}>"),
                r"weight shape \[4, 5\] does not match the input's last dim 3"),
    "dense_bias": (op("dense", [f"tensor<4x{F}>", f"tensor<4x5x{F}>", f"tensor<4x{F}>"], f"tensor<5x{F}>"),
                   r"bias shape \[4\] should be \[5\]"),
    "dense_result": (op("dense", [f"tensor<2x4x{F}>", f"tensor<4x5x{F}>"], f"tensor<5x{F}>"),
                     r"result shape \[5\] should be \[2, 5\]"),
    "conv_3d": (conv(f"tensor<1x2x2x2x1x{F}>", f"tensor<1x1x1x1x1x{F}>", f"tensor<1x2x2x2x1x{F}>"),
                r"input must be \[N, \*spatial, C\] with 1 or 2 spatial dims"),
    "conv_groups": (conv(f"tensor<1x4x4x3x{F}>", f"tensor<1x1x1x4x{F}>", f"tensor<1x4x4x4x{F}>",
                         "dilations = [1, 1], groups = 2, pads = [0, 0, 0, 0], strides = [1, 1]"),
                    r"groups = 2 must divide the input channels 3 and the output channels 4"),
    "conv_weight_channels": (conv(f"tensor<1x4x4x4x{F}>", f"tensor<1x1x4x4x{F}>", f"tensor<1x4x4x4x{F}>",
                                  "dilations = [1, 1], groups = 2, pads = [0, 0, 0, 0], strides = [1, 1]"),
                             r"dim 2 must be C/groups = 2"),
    "conv_strides_len": (conv(f"tensor<1x4x4x2x{F}>", f"tensor<1x1x2x2x{F}>", f"tensor<1x4x4x2x{F}>",
                              "dilations = [1, 1], pads = [0, 0, 0, 0], strides = [1]"),
                         r"property 'strides' must have 2 entries, has 1"),
    "conv_pads_negative": (conv(f"tensor<1x4x4x2x{F}>", f"tensor<1x1x2x2x{F}>", f"tensor<1x4x4x2x{F}>",
                                "dilations = [1, 1], pads = [0, -1, 0, 0], strides = [1, 1]"),
                           r"property 'pads' entries must be >= 0"),
    "conv_stride_zero": (conv(f"tensor<1x4x4x2x{F}>", f"tensor<1x1x2x2x{F}>", f"tensor<1x4x4x2x{F}>",
                              "dilations = [1, 1], pads = [0, 0, 0, 0], strides = [0, 1]"),
                         r"property 'strides' entries must be >= 1"),
    "conv_not_ints": (conv(f"tensor<1x4x4x2x{F}>", f"tensor<1x1x2x2x{F}>", f"tensor<1x4x4x2x{F}>",
                           'dilations = [1, 1], pads = [0, 0, 0, 0], strides = [1, "a"]'),
                      r"property 'strides' must be an array of integers"),
    "conv_too_big": (conv(f"tensor<1x2x4x2x{F}>", f"tensor<3x1x2x2x{F}>", f"tensor<1x1x4x2x{F}>"),
                     r"spatial dim 0: a window of 3 \(dilation 1\) does not fit size 2 padded by 0\+0"),
    "conv_result": (conv(f"tensor<1x4x4x2x{F}>", f"tensor<3x3x2x5x{F}>", f"tensor<1x4x4x5x{F}>"),
                    r"result shape \[1, 4, 4, 5\] should be \[1, 2, 2, 5\]"),
    "conv_bias": (conv(f"tensor<1x4x4x2x{F}>", f"tensor<1x1x2x5x{F}>", f"tensor<1x4x4x5x{F}>",
                       bias=f"tensor<2x{F}>"), r"bias shape \[2\] should be \[5\]"),
    "conv_missing_prop": (conv(f"tensor<1x4x4x2x{F}>", f"tensor<1x1x2x5x{F}>", f"tensor<1x4x4x5x{F}>",
                               "pads = [0, 0, 0, 0], strides = [1, 1]"), r"requires property 'dilations'"),
    "conv_unknown_prop": (conv(f"tensor<1x4x4x2x{F}>", f"tensor<1x1x2x5x{F}>", f"tensor<1x4x4x5x{F}>",
                               "dilations = [1, 1], pads = [0, 0, 0, 0], strides = [1, 1], kernel = [1, 1]"),
                          r"has unknown property 'kernel'"),
    "add_broadcast": (op("add", [f"tensor<2x3x{F}>", f"tensor<2x{F}>"], f"tensor<2x3x{F}>"),
                      r"operand shapes \[2, 3\] and \[2\] do not broadcast"),
    "sub_result": (op("sub", [f"tensor<2x1x{F}>", f"tensor<3x{F}>"], f"tensor<2x1x{F}>"),
                   r"result shape \[2, 1\] should be \[2, 3\]"),
    "leaky_alpha": (op("leaky_relu", [f"tensor<3x{F}>", f"tensor<2x3x{F}>"], f"tensor<3x{F}>"),
                    r"alpha shape \[2, 3\] does not broadcast to the input shape \[3\]"),
    "clip_bound_rank": (op("clip", [f"tensor<2x{F}>", f"tensor<1x{F}>", f"tensor<{F}>"], f"tensor<2x{F}>"),
                        r"operand #1 \('min'\): expected a rank-0 tensor"),
    "pool_kernel_len": (pool("max_pool", f"tensor<1x4x4x2x{F}>", f"tensor<1x2x2x2x{F}>",
                             "dilations = [1, 1], kernel = [2], pads = [0, 0, 0, 0], strides = [2, 2]"),
                        r"property 'kernel' must have 2 entries, has 1"),
    "pool_all_padding": (pool("max_pool", f"tensor<1x1x4x2x{F}>", f"tensor<1x2x4x2x{F}>",
                              "dilations = [3, 1], kernel = [2, 1], pads = [1, 0, 2, 0], strides = [1, 1]"),
                         r"spatial dim 0: output position 0 has a window entirely in the padding"),
    "pool_result": (pool("avg_pool", f"tensor<1x4x4x2x{F}>", f"tensor<1x2x2x3x{F}>", P2),
                    r"result shape \[1, 2, 2, 3\] should be \[1, 2, 2, 2\]"),
    "pool_rank": (pool("max_pool", f"tensor<4x2x{F}>", f"tensor<4x2x{F}>", P2),
                  r"input must be \[N, \*spatial, C\] with at least 1 spatial dims"),
    "avg_pool_count": (pool("avg_pool", f"tensor<1x4x4x2x{F}>", f"tensor<1x2x2x2x{F}>", P2 + ", count_include_pad = 2"),
                       r"property 'count_include_pad' must be in 0..1, got 2"),
    "avg_pool_bipolar": (pool("avg_pool", f"tensor<1x4x4x2x{B}>", f"tensor<1x2x2x2x{F}>", P2),
                         r"operand #0 \('input'\): tensor element: expected a fixed-point type"),
    "reshape_count": (unary("reshape", f"tensor<2x3x{F}>", f"tensor<5x{F}>"), r"cannot reshape \[2, 3\] into \[5\]"),
    "reshape_element": (unary("reshape", f"tensor<2x3x{F}>", f"tensor<6x{U}>"),
                        r"result element type !qt.ufixed<6,2,rnd,sat> differs from the input's !qt.fixed<8,3>"),
    "transpose_perm": (unary("transpose", f"tensor<2x3x{F}>", f"tensor<3x2x{F}>", "perm = [1, 1]"),
                       r"property 'perm' \[1, 1\] is not a permutation of 0..1"),
    "transpose_shape": (unary("transpose", f"tensor<2x3x{F}>", f"tensor<2x3x{F}>", "perm = [1, 0]"),
                        r"result shape \[2, 3\] should be \[3, 2\]"),
    "concat_axis": (op("concat", [f"tensor<2x3x{F}>"], f"tensor<2x3x{F}>", "axis = 2"),
                    r"property 'axis' = 2 is not a dimension of a rank-2 tensor"),
    "concat_shape": (op("concat", [f"tensor<2x3x{F}>", f"tensor<3x1x{F}>"], f"tensor<2x4x{F}>", "axis = 1"),
                     r"input #1 shape \[3, 1\] does not fit the result \[2, 4\] along axis 1"),
    "concat_sum": (op("concat", [f"tensor<2x3x{F}>", f"tensor<2x2x{F}>"], f"tensor<2x4x{F}>", "axis = 1"),
                   r"inputs sum to 5 along axis 1, the result has 4"),
    "concat_element": (op("concat", [f"tensor<2x3x{F}>", f"tensor<2x1x{I}>"], f"tensor<2x4x{F}>", "axis = 1"),
                       r"input #1 element type !qt.int<8> differs from the result's !qt.fixed<8,3>"),
    "concat_none": (([], f'%r = "qt.concat"() <{{axis = 0}}> : () -> tensor<2x{F}>'), r"needs at least one input"),
    "split_sum": (op("split", [f"tensor<2x4x{F}>"], f"(tensor<2x1x{F}>, tensor<2x2x{F}>)", "axis = 1"),
                  r"results sum to 3 along axis 1, the input has 4"),
    "split_element": (op("split", [f"tensor<2x4x{F}>"], f"(tensor<2x1x{F}>, tensor<2x3x{U}>)", "axis = 1"),
                      r"result #1 element type"),
    "slice_step": (unary("slice", f"tensor<4x{F}>", f"tensor<4x{F}>", "ends = [4], starts = [0], steps = [0]"),
                   r"dim 0: step must not be 0"),
    "slice_range": (unary("slice", f"tensor<4x{F}>", f"tensor<2x{F}>", "ends = [6], starts = [3], steps = [1]"),
                    r"dim 0: range\(3, 6, 1\) leaves 0..3"),
    "slice_start": (unary("slice", f"tensor<4x{F}>", f"tensor<2x{F}>", "ends = [2], starts = [-2], steps = [1]"),
                    r"property 'starts' entries must be >= 0"),
    "slice_end": (unary("slice", f"tensor<4x{F}>", f"tensor<2x{F}>", "ends = [-2], starts = [3], steps = [-1]"),
                  r"property 'ends' entries must be >= -1"),
    "slice_shape": (unary("slice", f"tensor<4x{F}>", f"tensor<3x{F}>", "ends = [-1], starts = [3], steps = [-2]"),
                    r"result shape \[3\] should be \[2\]"),
    "pad_value": (op("pad", [f"tensor<2x{F}>", f"tensor<{I}>"], f"tensor<3x{F}>", "pads = [0, 1]"),
                  r"value element type !qt.int<8> differs from the input's !qt.fixed<8,3>"),
    "pad_negative": (op("pad", [f"tensor<2x{F}>", f"tensor<{F}>"], f"tensor<1x{F}>", "pads = [0, -1]"),
                     r"property 'pads' entries must be >= 0"),
    "pad_shape": (op("pad", [f"tensor<2x{F}>", f"tensor<{F}>"], f"tensor<4x{F}>", "pads = [0, 1]"),
                  r"result shape \[4\] should be \[3\]"),
    "lut_table_element": (unary("lut", f"tensor<2x{F}>", f"tensor<2x{F}>", LUT),
                          r"table element type !qt.ufixed<6,2,rnd,sat> differs from the result's !qt.fixed<8,3>"),
    "lut_shift": (unary("lut", f"tensor<2x{F}>", f"tensor<2x{U}>", LUT.replace("shift = 0", "shift = -1")),
                  r"property 'shift' must be >= 0, got -1"),
    "lut_table_rank": (unary("lut", f"tensor<2x{F}>", f"tensor<2x{U}>",
                             LUT.replace("tensor<3x", "tensor<3x1x")),
                       r"property 'table' must be a non-empty rank-1 tensor"),
    "lut_function": (unary("lut", f"tensor<2x{F}>", f"tensor<2x{U}>", LUT + ", function = 3"),
                     r"property 'function': expected StringAttr"),
    "softmax_axis": (unary("softmax", f"tensor<2x3x{F}>", f"tensor<2x3x{U}>", SM.replace("axis = 1", "axis = 2")),
                     r"property 'axis' = 2 is not a dimension of a rank-2 tensor"),
    "softmax_table": (unary("softmax", f"tensor<2x3x{F}>", f"tensor<2x3x{U}>",
                            SM.replace("tensor<2x!qt.ufixed<8,1>>", f"tensor<2x{B}>", 1)),
                      r"property 'exp_table' must hold a fixed-point type, got !qt.bipolar"),
    "softmax_missing": (unary("softmax", f"tensor<2x3x{F}>", f"tensor<2x3x{U}>", "axis = 1"),
                        r"requires property 'exp_start'"),
    "bipolar_dense_fixed": (op("bipolar_dense", [f"tensor<2x4x{F}>", f"tensor<4x3x{B}>"], f"tensor<2x3x{I}>"),
                            r"operand #0 \('input'\): tensor element: expected !qt.bipolar"),
    "bipolar_dense_k": (op("bipolar_dense", [f"tensor<2x4x{B}>", f"tensor<5x3x{B}>"], f"tensor<2x3x{I}>"),
                        r"weight shape \[5, 3\] does not match the input's last dim 4"),
    "threshold_channels": (op("threshold", [f"tensor<2x3x4x{F}>", f"tensor<4x5x{F}>"], f"tensor<2x3x4x{I}>",
                              "axis = 1"),
                           r"thresholds shape \[4, 5\]: dim 0 must be 1 or the 3 channels of input dim 1"),
    "threshold_rank": (op("threshold", [f"tensor<2x3x{F}>", f"tensor<3x{F}>"], f"tensor<2x3x{I}>", "axis = 1"),
                       r"operand #1 \('thresholds'\): expected a rank-2 tensor"),
    "threshold_shape": (op("threshold", [f"tensor<2x3x{F}>", f"tensor<3x2x{F}>"], f"tensor<3x2x{I}>", "axis = 1"),
                        r"result shape \[3, 2\] should be \[2, 3\]"),
}


@pytest.mark.parametrize(("case", "message"), INVALID.values(), ids=INVALID.keys())
def test_invalid(case, message):
    with pytest.raises(VerifyError, match=message):
        check(*case)


def test_every_op_is_pure_and_registered():
    from fmlc.compiler.opdef import ConstantLike, Pure

    names = {cls.name for cls in qt.QT.ops}
    assert len(names) == 28 and all(cls.has_trait(Pure) for cls in qt.QT.ops)
    assert [cls.name for cls in qt.QT.ops if cls.has_trait(ConstantLike)] == ["qt.const"]


def test_roundtrip_file_runs():
    """The filecheck round-trip function (every qt op) runs in the interpreter."""
    path = Path(__file__).parents[1] / "filecheck" / "qt_roundtrip.mlir"
    mod = parse_module(path.read_text(), str(path))
    verify(mod)
    rng = np.random.default_rng(0)
    out = run(mod, [rng.normal(size=(1, 4, 4, 2)).astype(np.float32) * 3, rng.normal(size=(1, 8)).astype(np.float32)])
    assert [o.data.dtype for o in out] == [np.float32, np.float64, object]
    assert out[1].data.min() >= 0 and out[1].data.max() <= 3


# ----------------------------------------------------------------------------- docs/qt-dialect.md

DOC = Path(__file__).parents[2] / "docs" / "qt-dialect.md"


def _split_top(text: str) -> list[str]:
    """``text`` split at commas outside <...> and (...)."""
    parts, depth, cur = [], 0, ""
    for ch in text:
        if ch in "<(":
            depth += 1
        elif ch in ">)":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur.strip())
            cur = ""
        else:
            cur += ch
    return [p for p in [*parts, cur.strip()] if p]


def _doc_examples() -> list[str]:
    blocks = re.findall(r"```mlir\n(.*?)```", DOC.read_text(), re.S)
    return [line for b in blocks for line in b.splitlines() if '"qt.' in line]


def test_doc_covers_every_op():
    names = {re.search(r'"(qt\.\w+)"', line).group(1) for line in _doc_examples()}
    assert names >= {cls.name for cls in qt.QT.ops} - {"qt.add", "qt.mul"}
    text = DOC.read_text()
    assert all(f"`{cls.name}`" in text for cls in qt.QT.ops)


@pytest.mark.parametrize("line", _doc_examples())
def test_doc_example_verifies(line):
    """Each example line of the reference, with its operands as function arguments, verifies."""
    operands = re.search(r'"qt\.\w+"\(([^)]*)\)', line).group(1)
    names = [n.strip() for n in operands.split(",") if n.strip()]
    signature = line.rsplit(" : (", 1)[1]
    inputs = _split_top(signature[:signature.index(") -> ")])
    assert len(inputs) == len(names)
    types = dict(zip(names, inputs, strict=True))
    params = ", ".join(f"{n}: {t}" for n, t in types.items())
    text = (f'"func.func"() <{{function_type = ({", ".join(types.values())}) -> (), sym_name = "f"}}> ({{\n'
            f"^bb0({params}):\n  {line}\n  \"func.return\"() : () -> ()\n}}) : () -> ()\n")
    verify(parse_module(text, "doc.mlir"))
