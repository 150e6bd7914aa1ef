// RUN: not fmlc-opt %s -p gather-scatter 2>&1 | filecheck %s

// Negative case: a runtime GatherElements index that may differ along the other axes has no
// qt form (only a column broadcast, as torch's index.unsqueeze(1).expand_as(x), does).

"builtin.module"() ({
  "func.func"() <{function_type = (tensor<5x3xf32>, tensor<2x3xi64>) -> tensor<2x3xf32>, sym_name = "main"}> ({
  ^bb0(%x: tensor<5x3xf32>, %i: tensor<2x3xi64>):
    %g = "onnx.GatherElements"(%x, %i) <{axis = 0 : i64}> : (tensor<5x3xf32>, tensor<2x3xi64>) -> tensor<2x3xf32>
    "func.return"(%g) : (tensor<2x3xf32>) -> ()
  }) : () -> ()
}) : () -> ()

// CHECK:     gather_scatter_varying.mlir:9:10: error: 'onnx.GatherElements' op GatherElements with runtime indices that vary along the other axes is not supported
// CHECK-NOT: builtin.module
