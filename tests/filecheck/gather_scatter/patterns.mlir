// RUN: fmlc-opt %s -p gather-scatter | filecheck %s

// One case per rewrite pattern of gather-scatter, on the float tensors of the onnx level:
//   Gather, constant indices (a negative one normalised: -1 -> 4)   -> qt.gather, new constant
//   Gather, runtime indices                                          -> qt.gather on the input
//   GatherElements, constant index equal along the other axis      -> qt.gather with the 1-D column
//   GatherElements, constant index varying along the other axis    -> flat qt.gather (Reshape first)
//   GatherND, runtime indices [E, 1]                                 -> Reshape to [E], qt.gather
//   ScatterElements add, constant expanded index (duplicates fine)   -> qt.scatter with the column
//   ScatterElements max, runtime Expand of a column (torch expand)   -> qt.scatter with the column
//   ScatterND add, runtime indices [E, 1] (index_add_ / index_put_)  -> qt.scatter on axis 0

"builtin.module"() ({
  "func.func"() <{function_type = (tensor<5x3xf32>, tensor<4xi64>, tensor<4x1xi64>, tensor<4x3xf32>) -> (tensor<3x3xf32>, tensor<4x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<4x3xf32>, tensor<5x3xf32>, tensor<5x3xf32>, tensor<5x3xf32>), sym_name = "main"}> ({
  ^bb0(%x: tensor<5x3xf32>, %idx: tensor<4xi64>, %col: tensor<4x1xi64>, %msg: tensor<4x3xf32>):
    %ci = "onnx.Constant"() <{value = dense<"0x0100000000000000FFFFFFFFFFFFFFFF0000000000000000"> : tensor<3xi64>}> : () -> tensor<3xi64> loc("ci")
    %g1 = "onnx.Gather"(%x, %ci) <{axis = 0 : i64}> : (tensor<5x3xf32>, tensor<3xi64>) -> tensor<3x3xf32> loc("gather_const")
    %g2 = "onnx.Gather"(%x, %idx) <{axis = 0 : i64}> : (tensor<5x3xf32>, tensor<4xi64>) -> tensor<4x3xf32> loc("gather_dyn")
    %eu = "onnx.Constant"() <{value = dense<"0x030000000000000003000000000000000300000000000000010000000000000001000000000000000100000000000000"> : tensor<2x3xi64>}> : () -> tensor<2x3xi64> loc("eu")
    %g3 = "onnx.GatherElements"(%x, %eu) <{axis = 0 : i64}> : (tensor<5x3xf32>, tensor<2x3xi64>) -> tensor<2x3xf32> loc("elements_uniform")
    %ev = "onnx.Constant"() <{value = dense<"0x030000000000000000000000000000000300000000000000010000000000000001000000000000000200000000000000"> : tensor<2x3xi64>}> : () -> tensor<2x3xi64> loc("ev")
    %g4 = "onnx.GatherElements"(%x, %ev) <{axis = 0 : i64}> : (tensor<5x3xf32>, tensor<2x3xi64>) -> tensor<2x3xf32> loc("elements_varying")
    %g5 = "onnx.GatherND"(%x, %col) : (tensor<5x3xf32>, tensor<4x1xi64>) -> tensor<4x3xf32> loc("gather_nd")
    %zeros = "onnx.Constant"() <{value = dense<"0x00000000"> : tensor<5x3xf32>}> : () -> tensor<5x3xf32> loc("zeros")
    %si = "onnx.Constant"() <{value = dense<"0x040000000000000004000000000000000400000000000000000000000000000000000000000000000000000000000000040000000000000004000000000000000400000000000000040000000000000004000000000000000400000000000000"> : tensor<4x3xi64>}> : () -> tensor<4x3xi64> loc("si")
    %s1 = "onnx.ScatterElements"(%zeros, %si, %msg) <{axis = 0 : i64, reduction = "add"}> : (tensor<5x3xf32>, tensor<4x3xi64>, tensor<4x3xf32>) -> tensor<5x3xf32> loc("scatter_const")
    %shape = "onnx.Constant"() <{value = dense<"0x04000000000000000300000000000000"> : tensor<2xi64>}> : () -> tensor<2xi64> loc("shape")
    %ex = "onnx.Expand"(%col, %shape) : (tensor<4x1xi64>, tensor<2xi64>) -> tensor<4x3xi64> loc("expand")
    %s2 = "onnx.ScatterElements"(%x, %ex, %msg) <{axis = 0 : i64, reduction = "max"}> : (tensor<5x3xf32>, tensor<4x3xi64>, tensor<4x3xf32>) -> tensor<5x3xf32> loc("scatter_dyn")
    %s3 = "onnx.ScatterND"(%zeros, %col, %msg) <{reduction = "add"}> : (tensor<5x3xf32>, tensor<4x1xi64>, tensor<4x3xf32>) -> tensor<5x3xf32> loc("scatter_nd")
    "func.return"(%g1, %g2, %g3, %g4, %g5, %s1, %s2, %s3) : (tensor<3x3xf32>, tensor<4x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<4x3xf32>, tensor<5x3xf32>, tensor<5x3xf32>, tensor<5x3xf32>) -> ()
  }) : () -> ()
}) : () -> ()

// CHECK:      [[CI:%[0-9]+]] = "onnx.Constant"() <{value = dense<"0x010000000000000004000000000000000000000000000000"> : tensor<3xi64>}>
// CHECK-NEXT: %g1 = "qt.gather"(%x, [[CI]]) <{axis = 0 : i64}> : (tensor<5x3xf32>, tensor<3xi64>) -> tensor<3x3xf32> loc("gather_const")
// CHECK-NEXT: %g2 = "qt.gather"(%x, %idx) <{axis = 0 : i64}> : (tensor<5x3xf32>, tensor<4xi64>) -> tensor<4x3xf32> loc("gather_dyn")
// CHECK-NEXT: [[EU:%[0-9]+]] = "onnx.Constant"() <{value = dense<"0x03000000000000000100000000000000"> : tensor<2xi64>}>
// CHECK-NEXT: %g3 = "qt.gather"(%x, [[EU]]) <{axis = 0 : i64}> : (tensor<5x3xf32>, tensor<2xi64>) -> tensor<2x3xf32>
// CHECK:      [[FLAT:%[0-9]+]] = "onnx.Reshape"(%x, {{%[0-9]+}}) : (tensor<5x3xf32>, tensor<1xi64>) -> tensor<15xf32>
// CHECK-NEXT: [[EV:%[0-9]+]] = "onnx.Constant"() <{value = dense<"0x090000000000000001000000000000000B00000000000000030000000000000004000000000000000800000000000000"> : tensor<2x3xi64>}>
// CHECK-NEXT: %g4 = "qt.gather"([[FLAT]], [[EV]]) <{axis = 0 : i64}> : (tensor<15xf32>, tensor<2x3xi64>) -> tensor<2x3xf32>
// CHECK:      [[ROWS:%[0-9]+]] = "onnx.Reshape"(%col, {{%[0-9]+}}) : (tensor<4x1xi64>, tensor<1xi64>) -> tensor<4xi64> loc("gather_nd")
// CHECK-NEXT: %g5 = "qt.gather"(%x, [[ROWS]]) <{axis = 0 : i64}> : (tensor<5x3xf32>, tensor<4xi64>) -> tensor<4x3xf32>
// CHECK:      [[SI:%[0-9]+]] = "onnx.Constant"() <{value = dense<"0x0400000000000000000000000000000004000000000000000400000000000000"> : tensor<4xi64>}>
// CHECK-NEXT: %s1 = "qt.scatter"(%zeros, [[SI]], %msg) <{axis = 0 : i64, reduce = "add"}> : (tensor<5x3xf32>, tensor<4xi64>, tensor<4x3xf32>) -> tensor<5x3xf32>
// CHECK:      [[COL:%[0-9]+]] = "onnx.Reshape"(%col, {{%[0-9]+}}) : (tensor<4x1xi64>, tensor<1xi64>) -> tensor<4xi64> loc("scatter_dyn")
// CHECK-NEXT: %s2 = "qt.scatter"(%x, [[COL]], %msg) <{axis = 0 : i64, reduce = "max"}>
// CHECK:      [[ND:%[0-9]+]] = "onnx.Reshape"(%col, {{%[0-9]+}}) : (tensor<4x1xi64>, tensor<1xi64>) -> tensor<4xi64> loc("scatter_nd")
// CHECK-NEXT: %s3 = "qt.scatter"(%zeros, [[ND]], %msg) <{axis = 0 : i64, reduce = "add"}>
// CHECK-NOT:  onnx.Gather
// CHECK-NOT:  onnx.Scatter
