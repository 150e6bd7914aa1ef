// RUN: fmlc-opt %s -p gather-scatter | filecheck %s

// torch's scatter_reduce(0, idx, src, "amax", include_self=False) exports as a min-scatter of
// -FLT_MAX (resetting the touched rows to max's identity) and then the max-scatter: the two
// become one qt.scatter with include_self = false.  Negative case: a reset to 0.0 is not max's
// identity, so those two scatters stay two.

"builtin.module"() ({
  "func.func"() <{function_type = (tensor<5x3xf32>, tensor<4xi64>, tensor<4x3xf32>) -> (tensor<5x3xf32>, tensor<5x3xf32>), sym_name = "main"}> ({
  ^bb0(%x: tensor<5x3xf32>, %i: tensor<4xi64>, %src: tensor<4x3xf32>):
    %ax = "onnx.Constant"() <{value = dense<"0x0100000000000000"> : tensor<1xi64>}> : () -> tensor<1xi64>
    %col = "onnx.Unsqueeze"(%i, %ax) : (tensor<4xi64>, tensor<1xi64>) -> tensor<4x1xi64>
    %sh = "onnx.Constant"() <{value = dense<"0x01000000000000000300000000000000"> : tensor<2xi64>}> : () -> tensor<2xi64>
    %idx = "onnx.Expand"(%col, %sh) : (tensor<4x1xi64>, tensor<2xi64>) -> tensor<4x3xi64>
    %lowest = "onnx.Constant"() <{value = dense<"0xFFFF7FFF"> : tensor<4x3xf32>}> : () -> tensor<4x3xf32>
    %reset = "onnx.ScatterElements"(%x, %idx, %lowest) <{axis = 0 : i64, reduction = "min"}> : (tensor<5x3xf32>, tensor<4x3xi64>, tensor<4x3xf32>) -> tensor<5x3xf32> loc("reset")
    %amax = "onnx.ScatterElements"(%reset, %idx, %src) <{axis = 0 : i64, reduction = "max"}> : (tensor<5x3xf32>, tensor<4x3xi64>, tensor<4x3xf32>) -> tensor<5x3xf32> loc("amax")
    %zero = "onnx.Constant"() <{value = dense<"0x00000000"> : tensor<4x3xf32>}> : () -> tensor<4x3xf32>
    %reset0 = "onnx.ScatterElements"(%x, %idx, %zero) <{axis = 0 : i64, reduction = "min"}> : (tensor<5x3xf32>, tensor<4x3xi64>, tensor<4x3xf32>) -> tensor<5x3xf32> loc("reset0")
    %max0 = "onnx.ScatterElements"(%reset0, %idx, %src) <{axis = 0 : i64, reduction = "max"}> : (tensor<5x3xf32>, tensor<4x3xi64>, tensor<4x3xf32>) -> tensor<5x3xf32> loc("max0")
    "func.return"(%amax, %max0) : (tensor<5x3xf32>, tensor<5x3xf32>) -> ()
  }) : () -> ()
}) : () -> ()

// CHECK:      [[COL:%[0-9]+]] = "onnx.Reshape"(%col, {{%[0-9]+}}) : (tensor<4x1xi64>, tensor<1xi64>) -> tensor<4xi64> loc("amax")
// CHECK-NEXT: %amax = "qt.scatter"(%x, [[COL]], %src) <{axis = 0 : i64, include_self = false, reduce = "max"}>
// CHECK-NOT:  loc("reset")
// CHECK:      %reset0 = "qt.scatter"(%x, {{%[0-9]+}}, %zero) <{axis = 0 : i64, reduce = "min"}>
// CHECK:      %max0 = "qt.scatter"(%reset0, {{%[0-9]+}}, %src) <{axis = 0 : i64, reduce = "max"}>
