// RUN: not fmlc-opt %s -p gather-scatter 2>&1 | filecheck %s

// Negative case: a constant index outside -n..n-1 is an error at the node (-5 is the first
// element of a dim of size 5, -6 is out of range).

"builtin.module"() ({
  "func.func"() <{function_type = (tensor<5x3xf32>) -> tensor<2x3xf32>, sym_name = "main"}> ({
  ^bb0(%x: tensor<5x3xf32>):
    %i = "onnx.Constant"() <{value = dense<"0xFBFFFFFFFFFFFFFFFAFFFFFFFFFFFFFF"> : tensor<2xi64>}> : () -> tensor<2xi64>
    %g = "onnx.Gather"(%x, %i) <{axis = 0 : i64}> : (tensor<5x3xf32>, tensor<2xi64>) -> tensor<2x3xf32>
    "func.return"(%g) : (tensor<2x3xf32>) -> ()
  }) : () -> ()
}) : () -> ()

// CHECK:     gather_scatter_range.mlir:10:10: error: 'onnx.Gather' op index -6 is out of range for a dimension of size 5
// CHECK-NOT: builtin.module
