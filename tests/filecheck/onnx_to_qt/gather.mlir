// RUN: fmlc-opt %s -p onnx-to-qt{default-precision=fixed<8,3>} | filecheck %s

// The float qt.gather / qt.scatter that gather-scatter leaves take fixed-point types.  A
// scatter-add onto zeros (the identity) is sized from the updates alone, exactly: with the
// constant index [4, 0, 4, 1] the in-degree is 2, so fixed<8,3> ([-4, 3.97]) grows by one bit;
// with the runtime index (an integer input, entering as !qt.int<16>) all E = 4 updates may
// land on one node: [-16, 15.875], two bits.  The zeros become a constant of the result type.

"builtin.module"() ({
  "func.func"() <{function_type = (tensor<5x3xf32>, tensor<4xi64>, tensor<4x3xf32>) -> (tensor<5x3xf32>, tensor<5x3xf32>, tensor<4x3xf32>), sym_name = "main"}> ({
  ^bb0(%x: tensor<5x3xf32>, %idx: tensor<4xi64>, %msg: tensor<4x3xf32>):
    %zeros = "onnx.Constant"() <{value = dense<"0x00000000"> : tensor<5x3xf32>}> : () -> tensor<5x3xf32> loc("zeros")
    %ci = "onnx.Constant"() <{value = dense<"0x0400000000000000000000000000000004000000000000000100000000000000"> : tensor<4xi64>}> : () -> tensor<4xi64> loc("ci")
    %s1 = "qt.scatter"(%zeros, %ci, %msg) <{axis = 0 : i64, reduce = "add"}> : (tensor<5x3xf32>, tensor<4xi64>, tensor<4x3xf32>) -> tensor<5x3xf32> loc("scatter_const")
    %s2 = "qt.scatter"(%zeros, %idx, %msg) <{axis = 0 : i64, reduce = "add"}> : (tensor<5x3xf32>, tensor<4xi64>, tensor<4x3xf32>) -> tensor<5x3xf32> loc("scatter_dyn")
    %g = "qt.gather"(%x, %idx) <{axis = 0 : i64}> : (tensor<5x3xf32>, tensor<4xi64>) -> tensor<4x3xf32> loc("gather_dyn")
    "func.return"(%s1, %s2, %g) : (tensor<5x3xf32>, tensor<5x3xf32>, tensor<4x3xf32>) -> ()
  }) {fmlc.inputs = ["x", "edge_index", "msg"], fmlc.outputs = ["s1", "s2", "g"]} : () -> ()
}) : () -> ()

// CHECK:      [[MSG:%[0-9]+]] = "qt.from_float"(%msg) : (tensor<4x3xf32>) -> tensor<4x3x!qt.fixed<8,3>>
// CHECK-NEXT: [[CI:%[0-9]+]] = "qt.const"() <{value = dense<"0x04000401"> : tensor<4x!qt.ufixed<3,3>>}>
// CHECK-NEXT: [[Z1:%[0-9]+]] = "qt.const"() <{value = dense<"0x0000"> : tensor<5x3x!qt.fixed<9,4>>}>
// CHECK-NEXT: "qt.scatter"([[Z1]], [[CI]], [[MSG]]) <{axis = 0 : i64, reduce = "add"}> : (tensor<5x3x!qt.fixed<9,4>>, tensor<4x!qt.ufixed<3,3>>, tensor<4x3x!qt.fixed<8,3>>) -> tensor<5x3x!qt.fixed<9,4>> loc("scatter_const")
// CHECK-NEXT: [[IDX:%[0-9]+]] = "qt.from_float"(%idx) : (tensor<4xi64>) -> tensor<4x!qt.int<16>>
// CHECK-NEXT: [[Z2:%[0-9]+]] = "qt.const"() <{value = dense<"0x0000"> : tensor<5x3x!qt.fixed<10,5>>}>
// CHECK-NEXT: "qt.scatter"([[Z2]], [[IDX]], [[MSG]]) <{axis = 0 : i64, reduce = "add"}> : (tensor<5x3x!qt.fixed<10,5>>, tensor<4x!qt.int<16>>, tensor<4x3x!qt.fixed<8,3>>) -> tensor<5x3x!qt.fixed<10,5>> loc("scatter_dyn")
// CHECK-NEXT: [[X:%[0-9]+]] = "qt.from_float"(%x)
// CHECK-NEXT: "qt.gather"([[X]], [[IDX]]) <{axis = 0 : i64}> : (tensor<5x3x!qt.fixed<8,3>>, tensor<4x!qt.int<16>>) -> tensor<4x3x!qt.fixed<8,3>> loc("gather_dyn")
