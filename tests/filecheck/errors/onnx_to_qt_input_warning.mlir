// RUN: fmlc-opt %s -p onnx-to-qt 2>&1 | filecheck %s

// Only a per-tensor, zero-point 0, non-CEIL Quant reads a float graph input exactly (one
// qt.from_float into its type).  Others quantise the input after it enters at the default
// input precision, with a warning (an error under fmlc --strict).

"builtin.module"() ({
  "func.func"() <{function_type = (tensor<2x2xf32>) -> tensor<2x2xf32>, sym_name = "main"}> ({
  ^bb0(%x: tensor<2x2xf32>):
    %s = "onnx.Constant"() <{value = dense<0.25> : tensor<f32>}> : () -> tensor<f32>
    %z = "onnx.Constant"() <{value = dense<0.0> : tensor<f32>}> : () -> tensor<f32>
    %b = "onnx.Constant"() <{value = dense<8.0> : tensor<f32>}> : () -> tensor<f32>
    %y = "onnx.Quant"(%x, %s, %z, %b) <{narrow = 0 : i64, rounding_mode = "CEIL", signed = 1 : i64}> : (tensor<2x2xf32>, tensor<f32>, tensor<f32>, tensor<f32>) -> tensor<2x2xf32> loc("ceil_on_input")
    "func.return"(%y) : (tensor<2x2xf32>) -> ()
  }) : () -> ()
}) : () -> ()

// CHECK:      onnx_to_qt_input_warning.mlir:13:10: warning: 'onnx.Quant' op this quantiser on a float graph input is applied after the input enters at !qt.fixed<16,6>
// CHECK:      "qt.from_float"(%x) : (tensor<2x2xf32>) -> tensor<2x2x!qt.fixed<16,6>>
