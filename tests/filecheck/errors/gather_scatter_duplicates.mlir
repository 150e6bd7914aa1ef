// RUN: not fmlc-opt %s -p gather-scatter 2>&1 | filecheck %s

// Negative case: a scatter with reduction 'none' and duplicate constant indices is refused at
// the node (ONNX leaves the result undefined); with 'add' the same indices are fine.

"builtin.module"() ({
  "func.func"() <{function_type = (tensor<5x3xf32>, tensor<2x3xf32>) -> tensor<5x3xf32>, sym_name = "main"}> ({
  ^bb0(%x: tensor<5x3xf32>, %u: tensor<2x3xf32>):
    %i = "onnx.Constant"() <{value = dense<"0x010000000000000001000000000000000100000000000000010000000000000001000000000000000100000000000000"> : tensor<2x3xi64>}> : () -> tensor<2x3xi64>
    %ok = "onnx.ScatterElements"(%x, %i, %u) <{axis = 0 : i64, reduction = "add"}> : (tensor<5x3xf32>, tensor<2x3xi64>, tensor<2x3xf32>) -> tensor<5x3xf32>
    %s = "onnx.ScatterElements"(%ok, %i, %u) <{axis = 0 : i64}> : (tensor<5x3xf32>, tensor<2x3xi64>, tensor<2x3xf32>) -> tensor<5x3xf32>
    "func.return"(%s) : (tensor<5x3xf32>) -> ()
  }) : () -> ()
}) : () -> ()

// CHECK:     gather_scatter_duplicates.mlir:11:10: error: 'onnx.ScatterElements' op reduction 'none' with duplicate indices (position 1 is written more than once): ONNX leaves the result undefined
// CHECK-NOT: builtin.module
