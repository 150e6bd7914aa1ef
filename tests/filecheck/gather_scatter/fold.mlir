// RUN: fmlc-opt %s -p canonicalize | filecheck %s

// Constant folding of onnx ops: torch's shape arithmetic around a scatter (Shape, Gather of a
// shape, Unsqueeze, Concat, ConstantOfShape, Expand of a constant index) folds to constants.
// Negative case: a Gather of the runtime input with a constant index is not folded (its
// data is not constant); it is left for the gather-scatter patterns.

"builtin.module"() ({
  "func.func"() <{function_type = (tensor<5x3xf32>) -> tensor<5x3xf32>, sym_name = "main"}> ({
  ^bb0(%x: tensor<5x3xf32>):
    %shape = "onnx.Shape"(%x) : (tensor<5x3xf32>) -> tensor<2xi64> loc("shape")
    %zero = "onnx.Constant"() <{value = dense<0> : tensor<i64>}> : () -> tensor<i64> loc("zero")
    %n = "onnx.Gather"(%shape, %zero) <{axis = 0 : i64}> : (tensor<2xi64>, tensor<i64>) -> tensor<i64> loc("n")
    %ax = "onnx.Constant"() <{value = dense<[0]> : tensor<1xi64>}> : () -> tensor<1xi64> loc("ax")
    %n1 = "onnx.Unsqueeze"(%n, %ax) : (tensor<i64>, tensor<1xi64>) -> tensor<1xi64> loc("n1")
    %three = "onnx.Constant"() <{value = dense<[3]> : tensor<1xi64>}> : () -> tensor<1xi64> loc("three")
    %dims = "onnx.Concat"(%n1, %three) <{axis = 0 : i64}> : (tensor<1xi64>, tensor<1xi64>) -> tensor<2xi64> loc("dims")
    %zeros = "onnx.ConstantOfShape"(%dims) : (tensor<2xi64>) -> tensor<5x3xf32> loc("zeros")
    %col = "onnx.Constant"() <{value = dense<[[4], [0], [4]]> : tensor<3x1xi64>}> : () -> tensor<3x1xi64> loc("col")
    %sh = "onnx.Constant"() <{value = dense<[3, 3]> : tensor<2xi64>}> : () -> tensor<2xi64> loc("sh")
    %index = "onnx.Expand"(%col, %sh) : (tensor<3x1xi64>, tensor<2xi64>) -> tensor<3x3xi64> loc("index")
    %src = "onnx.Gather"(%x, %col) <{axis = 0 : i64}> : (tensor<5x3xf32>, tensor<3x1xi64>) -> tensor<3x1x3xf32> loc("src")
    %srcr = "onnx.Reshape"(%src, %sh) : (tensor<3x1x3xf32>, tensor<2xi64>) -> tensor<3x3xf32> loc("srcr")
    %out = "onnx.ScatterElements"(%zeros, %index, %srcr) <{axis = 0 : i64, reduction = "add"}> : (tensor<5x3xf32>, tensor<3x3xi64>, tensor<3x3xf32>) -> tensor<5x3xf32> loc("scatter")
    "func.return"(%out) : (tensor<5x3xf32>) -> ()
  }) {fmlc.inputs = ["x"], fmlc.outputs = ["out"]} : () -> ()
}) : () -> ()

// CHECK:      ^bb0(%x: tensor<5x3xf32>):
// CHECK-DAG:  %zeros = "onnx.Constant"() <{value = dense<"0x00000000"> : tensor<5x3xf32>}> : () -> tensor<5x3xf32> loc("zeros")
// CHECK-DAG:  %index = "onnx.Constant"() <{value = dense<"0x040000000000000004000000000000000400000000000000000000000000000000000000000000000000000000000000040000000000000004000000000000000400000000000000"> : tensor<3x3xi64>}>
// CHECK:      %src = "onnx.Gather"(%x, %col) <{axis = 0 : i64}>
// CHECK:      "onnx.ScatterElements"(%zeros, %index, %srcr)
// CHECK-NOT:  onnx.Shape
// CHECK-NOT:  onnx.ConstantOfShape
// CHECK-NOT:  onnx.Expand
