// RUN: fmlc-opt %s -p onnx-to-qt 2>&1 | filecheck %s
// RUN: not fmlc-opt %s -p onnx-to-qt,onnx-to-qt 2>&1 | filecheck %s --check-prefix=TWICE

// A Quant with a scale that is not a power of two converts with an explicit rescale and a
// warning naming the node and the worst-case error (an error under fmlc --strict).
// Converting again fails: onnx-to-qt expects onnx-dialect ops (an imported model).

"builtin.module"() ({
  "func.func"() <{function_type = (tensor<2x2xf32>) -> tensor<2x2xf32>, sym_name = "main"}> ({
  ^bb0(%x: tensor<2x2xf32>):
    %s = "onnx.Constant"() <{value = dense<0.1> : tensor<f32>}> : () -> tensor<f32>
    %s4 = "onnx.Constant"() <{value = dense<0.0625> : tensor<f32>}> : () -> tensor<f32>
    %z = "onnx.Constant"() <{value = dense<0.0> : tensor<f32>}> : () -> tensor<f32>
    %b = "onnx.Constant"() <{value = dense<8.0> : tensor<f32>}> : () -> tensor<f32>
    %b10 = "onnx.Constant"() <{value = dense<10.0> : tensor<f32>}> : () -> tensor<f32>
    %xq = "onnx.Quant"(%x, %s4, %z, %b10) <{narrow = 0 : i64, signed = 1 : i64}> : (tensor<2x2xf32>, tensor<f32>, tensor<f32>, tensor<f32>) -> tensor<2x2xf32> loc("in_q")
    %y = "onnx.Quant"(%xq, %s, %z, %b) <{narrow = 0 : i64, signed = 1 : i64}> : (tensor<2x2xf32>, tensor<f32>, tensor<f32>, tensor<f32>) -> tensor<2x2xf32> loc("odd_scale")
    "func.return"(%y) : (tensor<2x2xf32>) -> ()
  }) : () -> ()
}) : () -> ()

// CHECK:     onnx_to_qt_warning.mlir:17:10: warning: 'onnx.Quant' op scale 0.10000000149011612 is not a power of two: rescaled with 24-bit constants; worst-case error {{[0-9.e-]+}}
// CHECK-NOT: warning
// CHECK:     "qt.mul"
// CHECK:     "qt.cast"
// CHECK:     "qt.mul"
// CHECK-NOT: onnx.

// TWICE:      warning: 'onnx.Quant' op scale 0.10000000149011612 is not a power of two
// TWICE-NEXT: error: 'qt.from_float' op is not an onnx-dialect op; onnx-to-qt expects an imported model
// TWICE-NOT:  builtin.module
