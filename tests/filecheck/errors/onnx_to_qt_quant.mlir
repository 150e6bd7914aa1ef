// RUN: not fmlc-opt %s -p onnx-to-qt 2>&1 | filecheck %s

// A quantiser whose scale is not a compile-time constant cannot become a type.

"builtin.module"() ({
  "func.func"() <{function_type = (tensor<2x2xf32>, tensor<f32>) -> tensor<2x2xf32>, sym_name = "main"}> ({
  ^bb0(%x: tensor<2x2xf32>, %scale: tensor<f32>):
    %z = "onnx.Constant"() <{value = dense<0.0> : tensor<f32>}> : () -> tensor<f32>
    %b = "onnx.Constant"() <{value = dense<8.0> : tensor<f32>}> : () -> tensor<f32>
    %xq = "onnx.Quant"(%x, %scale, %z, %b) <{narrow = 0 : i64, signed = 1 : i64}> : (tensor<2x2xf32>, tensor<f32>, tensor<f32>, tensor<f32>) -> tensor<2x2xf32> loc("runtime_scale")
    "func.return"(%xq) : (tensor<2x2xf32>) -> ()
  }) : () -> ()
}) : () -> ()

// CHECK:     onnx_to_qt_quant.mlir:10:11: error: 'onnx.Quant' op the scale must be a constant
// CHECK-NOT: builtin.module
