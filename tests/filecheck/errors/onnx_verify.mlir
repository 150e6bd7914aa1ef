// RUN: not fmlc-opt %s 2>&1 | filecheck %s

// onnx-dialect ops check their input and output counts against the ONNX signature.

"func.func"() <{function_type = (tensor<2x2xf32>) -> (), sym_name = "f"}> ({
^bb0(%x: tensor<2x2xf32>):
  %g = "onnx.Gemm"(%x) : (tensor<2x2xf32>) -> tensor<2x2xf32>
  "func.return"() : () -> ()
}) : () -> ()

// CHECK: onnx_verify.mlir:7:8: error: 'onnx.Gemm' op expects 2 to 3 inputs, got 1
