// RUN: not fmlc-opt %s 2>&1 | filecheck %s

// A grouped qt.conv whose weight does not have C/groups input channels
// (tests/runtime/test_qt_ops.py checks every other qt diagnostic).

"func.func"() <{function_type = (tensor<1x4x4x4x!qt.fixed<8,3>>, tensor<3x3x4x8x!qt.fixed<4,1>>) -> (), sym_name = "f"}> ({
^bb0(%x: tensor<1x4x4x4x!qt.fixed<8,3>>, %w: tensor<3x3x4x8x!qt.fixed<4,1>>):
  %y = "qt.conv"(%x, %w) <{dilations = [1 : i64, 1 : i64], groups = 2 : i64, pads = [1 : i64, 1 : i64, 1 : i64, 1 : i64], strides = [1 : i64, 1 : i64]}> : (tensor<1x4x4x4x!qt.fixed<8,3>>, tensor<3x3x4x8x!qt.fixed<4,1>>) -> tensor<1x4x4x8x!qt.fixed<16,8>>
  "func.return"() : () -> ()
}) : () -> ()

// CHECK: qt_verify.mlir:8:8: error: 'qt.conv' op weight shape [3, 3, 4, 8]: dim 2 must be C/groups = 2
