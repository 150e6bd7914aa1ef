// RUN: not fmlc-opt %s -p onnx-to-qt 2>&1 | filecheck %s

// A Gemm whose B is a runtime tensor (here the quantised input itself) has no qt lowering:
// one error at the Gemm, and no IR printed.

"builtin.module"() ({
  "func.func"() <{function_type = (tensor<2x2xf32>) -> tensor<2x2xf32>, sym_name = "main"}> ({
  ^bb0(%x: tensor<2x2xf32>):
    %s = "onnx.Constant"() <{value = dense<0.125> : tensor<f32>}> : () -> tensor<f32>
    %z = "onnx.Constant"() <{value = dense<0.0> : tensor<f32>}> : () -> tensor<f32>
    %b = "onnx.Constant"() <{value = dense<8.0> : tensor<f32>}> : () -> tensor<f32>
    %xq = "onnx.Quant"(%x, %s, %z, %b) <{narrow = 0 : i64, signed = 1 : i64}> : (tensor<2x2xf32>, tensor<f32>, tensor<f32>, tensor<f32>) -> tensor<2x2xf32>
    %g = "onnx.Gemm"(%xq, %xq) <{transB = 1 : i64}> : (tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<2x2xf32>
    "func.return"(%g) : (tensor<2x2xf32>) -> ()
  }) : () -> ()
}) : () -> ()

// CHECK:     onnx_to_qt.mlir:13:10: error: 'onnx.Gemm' op Gemm with a non-constant B is not supported
// CHECK-NOT: builtin.module
