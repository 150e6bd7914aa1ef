// RUN: not fmlc-opt %s -p onnx-to-qt 2>&1 | filecheck %s

// Division by a runtime tensor has no qt lowering (division by a constant is a multiply).

"builtin.module"() ({
  "func.func"() <{function_type = (tensor<2x2xf32>) -> tensor<2x2xf32>, sym_name = "main"}> ({
  ^bb0(%x: tensor<2x2xf32>):
    %s = "onnx.Constant"() <{value = dense<0.125> : tensor<f32>}> : () -> tensor<f32> loc("s")
    %z = "onnx.Constant"() <{value = dense<0.0> : tensor<f32>}> : () -> tensor<f32> loc("z")
    %b = "onnx.Constant"() <{value = dense<8.0> : tensor<f32>}> : () -> tensor<f32> loc("b")
    %xq = "onnx.Quant"(%x, %s, %z, %b) <{narrow = 0 : i64, signed = 1 : i64}> : (tensor<2x2xf32>, tensor<f32>, tensor<f32>, tensor<f32>) -> tensor<2x2xf32> loc("in_q")
    %d = "onnx.Div"(%xq, %xq) : (tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<2x2xf32> loc("layer/div")
    "func.return"(%d) : (tensor<2x2xf32>) -> ()
  }) : () -> ()
}) : () -> ()

// CHECK:     onnx_to_qt_div.mlir:12:10: error: 'onnx.Div' op Div by a non-constant tensor is not supported
// CHECK-NOT: builtin.module
