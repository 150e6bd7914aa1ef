// RUN: fmlc-opt %s -p onnx-to-qt | filecheck %s

// Data movement on quantised tensors keeps the element type.  A conv result travels
// channels-last (NHWC): Concat / Split / Slice / Pad on it work in that layout with their
// axes mapped (ONNX channel axis 1 is qt axis 3); a Transpose to NHWC costs nothing, so a
// Flatten after it is a bare qt.reshape, while a Flatten of the NCHW value first needs a
// qt.transpose back to the ONNX order.

"builtin.module"() ({
  "func.func"() <{function_type = (tensor<1x2x2x2xf32>) -> (tensor<1x12xf32>, tensor<1x12xf32>, tensor<1x2x2x2xf32>, tensor<1x2x2x4xf32>, tensor<1x16xf32>), sym_name = "main"}> ({
  ^bb0(%x: tensor<1x2x2x2xf32>):
    %s3 = "onnx.Constant"() <{value = dense<0.125> : tensor<f32>}> : () -> tensor<f32> loc("s3")
    %zero = "onnx.Constant"() <{value = dense<0.0> : tensor<f32>}> : () -> tensor<f32> loc("zero")
    %b8 = "onnx.Constant"() <{value = dense<8.0> : tensor<f32>}> : () -> tensor<f32> loc("b8")
    %W = "onnx.Constant"() <{value = dense<[[[[1.0]], [[-0.5]]], [[[0.25]], [[0.5]]], [[[-1.0]], [[2.0]]]]> : tensor<3x2x1x1xf32>}> : () -> tensor<3x2x1x1xf32> loc("W")
    %split = "onnx.Constant"() <{value = dense<[2, 4]> : tensor<2xi64>}> : () -> tensor<2xi64> loc("split_sizes")
    %st = "onnx.Constant"() <{value = dense<[1]> : tensor<1xi64>}> : () -> tensor<1xi64> loc("starts")
    %en = "onnx.Constant"() <{value = dense<[4]> : tensor<1xi64>}> : () -> tensor<1xi64> loc("ends")
    %ax = "onnx.Constant"() <{value = dense<[1]> : tensor<1xi64>}> : () -> tensor<1xi64> loc("axes")
    %stp = "onnx.Constant"() <{value = dense<[2]> : tensor<1xi64>}> : () -> tensor<1xi64> loc("steps")
    %pads = "onnx.Constant"() <{value = dense<[0, 0, 0, 1, 0, 0, 0, 1]> : tensor<8xi64>}> : () -> tensor<8xi64> loc("pads")
    %shp = "onnx.Constant"() <{value = dense<[1, -1]> : tensor<2xi64>}> : () -> tensor<2xi64> loc("shape")
    %xq = "onnx.Quant"(%x, %s3, %zero, %b8) <{narrow = 0 : i64, signed = 1 : i64}> : (tensor<1x2x2x2xf32>, tensor<f32>, tensor<f32>, tensor<f32>) -> tensor<1x2x2x2xf32> loc("in_q")
    %Wq = "onnx.Quant"(%W, %s3, %zero, %b8) <{narrow = 0 : i64, signed = 1 : i64}> : (tensor<3x2x1x1xf32>, tensor<f32>, tensor<f32>, tensor<f32>) -> tensor<3x2x1x1xf32> loc("w_q")
    %cv = "onnx.Conv"(%xq, %Wq) <{kernel_shape = [1 : i64, 1 : i64]}> : (tensor<1x2x2x2xf32>, tensor<3x2x1x1xf32>) -> tensor<1x3x2x2xf32> loc("conv")
    %tr = "onnx.Transpose"(%cv) <{perm = [0 : i64, 2 : i64, 3 : i64, 1 : i64]}> : (tensor<1x3x2x2xf32>) -> tensor<1x2x2x3xf32> loc("to_nhwc")
    %fl = "onnx.Flatten"(%tr) : (tensor<1x2x2x3xf32>) -> tensor<1x12xf32> loc("flatten_nhwc")
    %fl2 = "onnx.Flatten"(%cv) : (tensor<1x3x2x2xf32>) -> tensor<1x12xf32> loc("flatten_nchw")
    %cat = "onnx.Concat"(%cv, %cv) <{axis = 1 : i64}> : (tensor<1x3x2x2xf32>, tensor<1x3x2x2xf32>) -> tensor<1x6x2x2xf32> loc("concat")
    %s0, %s1 = "onnx.Split"(%cat, %split) <{axis = 1 : i64}> : (tensor<1x6x2x2xf32>, tensor<2xi64>) -> (tensor<1x2x2x2xf32>, tensor<1x4x2x2xf32>) loc("split")
    %sl = "onnx.Slice"(%s1, %st, %en, %ax, %stp) : (tensor<1x4x2x2xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<1x2x2x2xf32> loc("slice")
    %pd = "onnx.Pad"(%sl, %pads) : (tensor<1x2x2x2xf32>, tensor<8xi64>) -> tensor<1x2x2x4xf32> loc("pad")
    %cat2 = "onnx.Concat"(%xq, %xq) <{axis = -1 : i64}> : (tensor<1x2x2x2xf32>, tensor<1x2x2x2xf32>) -> tensor<1x2x2x4xf32> loc("concat_nchw")
    %rs = "onnx.Reshape"(%cat2, %shp) : (tensor<1x2x2x4xf32>, tensor<2xi64>) -> tensor<1x16xf32> loc("reshape")
    "func.return"(%fl, %fl2, %s0, %pd, %rs) : (tensor<1x12xf32>, tensor<1x12xf32>, tensor<1x2x2x2xf32>, tensor<1x2x2x4xf32>, tensor<1x16xf32>) -> ()
  }) {fmlc.inputs = ["x"], fmlc.outputs = ["fl", "fl2", "s0", "pd", "rs"]} : () -> ()
}) : () -> ()

// CHECK-NOT:  onnx.
// CHECK:      [[X:%[0-9]+]] = "qt.from_float"(%x) : (tensor<1x2x2x2xf32>) -> tensor<1x2x2x2x!qt.fixed<8,5,rnd_conv,sat>>
// CHECK:      [[C:%[0-9]+]] = "qt.conv"
// CHECK-SAME: -> tensor<1x2x2x3x!qt.[[T:fixed<[0-9]+,[0-9]+>]]> loc("conv")
// Transpose to NHWC + Flatten: the NHWC tensor is reshaped as it is.
// CHECK-NEXT: [[FL:%[0-9]+]] = "qt.reshape"([[C]]) : (tensor<1x2x2x3x!qt.[[T]]>) -> tensor<1x12x!qt.[[T]]> loc("flatten_nhwc")
// Flatten of the NCHW value: back to the ONNX order first.
// CHECK-NEXT: [[CT:%[0-9]+]] = "qt.transpose"([[C]]) <{perm = [0 : i64, 3 : i64, 1 : i64, 2 : i64]}> : (tensor<1x2x2x3x!qt.[[T]]>) -> tensor<1x3x2x2x!qt.[[T]]> loc("flatten_nchw")
// CHECK-NEXT: [[FL2:%[0-9]+]] = "qt.reshape"([[CT]]) : (tensor<1x3x2x2x!qt.[[T]]>) -> tensor<1x12x!qt.[[T]]> loc("flatten_nchw")
// channel axis 1 is NHWC axis 3
// CHECK-NEXT: [[CAT:%[0-9]+]] = "qt.concat"([[C]], [[C]]) <{axis = 3 : i64}> : (tensor<1x2x2x3x!qt.[[T]]>, tensor<1x2x2x3x!qt.[[T]]>) -> tensor<1x2x2x6x!qt.[[T]]> loc("concat")
// CHECK-NEXT: [[S0:%[0-9]+]], [[S1:%[0-9]+]] = "qt.split"([[CAT]]) <{axis = 3 : i64}> : (tensor<1x2x2x6x!qt.[[T]]>) -> (tensor<1x2x2x2x!qt.[[T]]>, tensor<1x2x2x4x!qt.[[T]]>) loc("split")
// channels 1 and 3 of the second part
// CHECK-NEXT: [[SL:%[0-9]+]] = "qt.slice"([[S1]]) <{ends = [1 : i64, 2 : i64, 2 : i64, 4 : i64], starts = [0 : i64, 0 : i64, 0 : i64, 1 : i64], steps = [1 : i64, 1 : i64, 1 : i64, 2 : i64]}> : (tensor<1x2x2x4x!qt.[[T]]>) -> tensor<1x2x2x2x!qt.[[T]]> loc("slice")
// ONNX W (axis 3) is NHWC axis 2: one zero either side
// CHECK-NEXT: [[Z:%[0-9]+]] = "qt.const"() <{value = dense<"0x00{{0*}}"> : tensor<!qt.[[T]]>}> : () -> tensor<!qt.[[T]]> loc("pad")
// CHECK-NEXT: [[PD:%[0-9]+]] = "qt.pad"([[SL]], [[Z]]) <{pads = [0 : i64, 0 : i64, 1 : i64, 0 : i64, 0 : i64, 0 : i64, 1 : i64, 0 : i64]}> : (tensor<1x2x2x2x!qt.[[T]]>, tensor<!qt.[[T]]>) -> tensor<1x2x4x2x!qt.[[T]]> loc("pad")
// NCHW tensors stay NCHW.
// CHECK-NEXT: [[CAT2:%[0-9]+]] = "qt.concat"([[X]], [[X]]) <{axis = 3 : i64}> : (tensor<1x2x2x2x!qt.fixed<8,5,rnd_conv,sat>>, tensor<1x2x2x2x!qt.fixed<8,5,rnd_conv,sat>>) -> tensor<1x2x2x4x!qt.fixed<8,5,rnd_conv,sat>> loc("concat_nchw")
// CHECK-NEXT: [[RS:%[0-9]+]] = "qt.reshape"([[CAT2]]) : (tensor<1x2x2x4x!qt.fixed<8,5,rnd_conv,sat>>) -> tensor<1x16x!qt.fixed<8,5,rnd_conv,sat>> loc("reshape")
// CHECK-NEXT: "qt.to_float"([[FL]])
// CHECK-NEXT: "qt.to_float"([[FL2]])
// CHECK-NEXT: [[S0T:%[0-9]+]] = "qt.transpose"([[S0]]) <{perm = [0 : i64, 3 : i64, 1 : i64, 2 : i64]}>
// CHECK-NEXT: "qt.to_float"([[S0T]])
// CHECK-NEXT: [[PDT:%[0-9]+]] = "qt.transpose"([[PD]]) <{perm = [0 : i64, 3 : i64, 1 : i64, 2 : i64]}> : (tensor<1x2x4x2x!qt.[[T]]>) -> tensor<1x2x2x4x!qt.[[T]]>
// CHECK-NEXT: "qt.to_float"([[PDT]])
// CHECK-NEXT: "qt.to_float"([[RS]])
