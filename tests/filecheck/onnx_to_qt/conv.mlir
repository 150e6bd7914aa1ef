// RUN: fmlc-opt %s -p onnx-to-qt | filecheck %s

// Convolutions and pools work channels-last: an NCHW value is transposed to NHWC once it
// reaches a conv or pool, weights [OC, C/g, KH, KW] become [KH, KW, C/g, OC], and the
// value travels NHWC (a max_pool reads the conv's result directly) until something needs
// the ONNX order (here the outputs).  Quantised weights are exact constants (4-bit narrow,
// scale 2^-3: fixed<4,1>), the bias is exact.  A 2x2 average pool divides by 4 exactly
// (two more fractional bits), a global one over 4x4 by 16.

"builtin.module"() ({
  "func.func"() <{function_type = (tensor<1x2x4x4xf32>, tensor<1x1x6xf32>) -> (tensor<1x2x2x1xf32>, tensor<1x2x2x2xf32>, tensor<1x2x1x1xf32>, tensor<1x2x3x3xf32>, tensor<1x2x4xf32>), sym_name = "main"}> ({
  ^bb0(%x: tensor<1x2x4x4xf32>, %s: tensor<1x1x6xf32>):
    %s3 = "onnx.Constant"() <{value = dense<0.125> : tensor<f32>}> : () -> tensor<f32> loc("s3")
    %zero = "onnx.Constant"() <{value = dense<0.0> : tensor<f32>}> : () -> tensor<f32> loc("zero")
    %b8 = "onnx.Constant"() <{value = dense<8.0> : tensor<f32>}> : () -> tensor<f32> loc("b8")
    %b4 = "onnx.Constant"() <{value = dense<4.0> : tensor<f32>}> : () -> tensor<f32> loc("b4")
    %Wc = "onnx.Constant"() <{value = dense<[[[[-0.5, -0.375], [-0.25, -0.125]], [[0.0, 0.125], [0.25, 0.375]]], [[[0.5, 0.625], [-0.75, 1.0]], [[0.125, 0.125], [0.0, -0.125]]]]> : tensor<2x2x2x2xf32>}> : () -> tensor<2x2x2x2xf32> loc("Wc")
    %bc = "onnx.Constant"() <{value = dense<[0.5, -0.25]> : tensor<2xf32>}> : () -> tensor<2xf32> loc("bc")
    %Wdw = "onnx.Constant"() <{value = dense<[[[[-0.5, -0.375], [-0.25, -0.125]]], [[[0.0, 0.125], [0.25, 0.375]]]]> : tensor<2x1x2x2xf32>}> : () -> tensor<2x1x2x2xf32> loc("Wdw")
    %Wd = "onnx.Constant"() <{value = dense<[[[-0.375, -0.25, -0.125]], [[0.0, 0.125, 0.25]]]> : tensor<2x1x3xf32>}> : () -> tensor<2x1x3xf32> loc("Wd")
    %xq = "onnx.Quant"(%x, %s3, %zero, %b8) <{narrow = 0 : i64, signed = 1 : i64}> : (tensor<1x2x4x4xf32>, tensor<f32>, tensor<f32>, tensor<f32>) -> tensor<1x2x4x4xf32> loc("in_q")
    %Wcq = "onnx.Quant"(%Wc, %s3, %zero, %b4) <{narrow = 1 : i64, signed = 1 : i64}> : (tensor<2x2x2x2xf32>, tensor<f32>, tensor<f32>, tensor<f32>) -> tensor<2x2x2x2xf32> loc("wc_q")
    %Wdwq = "onnx.Quant"(%Wdw, %s3, %zero, %b4) <{narrow = 1 : i64, signed = 1 : i64}> : (tensor<2x1x2x2xf32>, tensor<f32>, tensor<f32>, tensor<f32>) -> tensor<2x1x2x2xf32> loc("wdw_q")
    %Wdq = "onnx.Quant"(%Wd, %s3, %zero, %b4) <{narrow = 1 : i64, signed = 1 : i64}> : (tensor<2x1x3xf32>, tensor<f32>, tensor<f32>, tensor<f32>) -> tensor<2x1x3xf32> loc("wd_q")
    %cv = "onnx.Conv"(%xq, %Wcq, %bc) <{pads = [1 : i64, 1 : i64, 0 : i64, 0 : i64], strides = [1 : i64, 2 : i64]}> : (tensor<1x2x4x4xf32>, tensor<2x2x2x2xf32>, tensor<2xf32>) -> tensor<1x2x4x2xf32> loc("conv")
    %mp = "onnx.MaxPool"(%cv) <{kernel_shape = [2 : i64, 2 : i64], strides = [2 : i64, 2 : i64]}> : (tensor<1x2x4x2xf32>) -> tensor<1x2x2x1xf32> loc("maxpool")
    %ap = "onnx.AveragePool"(%xq) <{kernel_shape = [2 : i64, 2 : i64], strides = [2 : i64, 2 : i64]}> : (tensor<1x2x4x4xf32>) -> tensor<1x2x2x2xf32> loc("avgpool")
    %gap = "onnx.GlobalAveragePool"(%xq) : (tensor<1x2x4x4xf32>) -> tensor<1x2x1x1xf32> loc("gap")
    %dw = "onnx.Conv"(%xq, %Wdwq) <{group = 2 : i64, kernel_shape = [2 : i64, 2 : i64]}> : (tensor<1x2x4x4xf32>, tensor<2x1x2x2xf32>) -> tensor<1x2x3x3xf32> loc("depthwise")
    %sq = "onnx.Quant"(%s, %s3, %zero, %b8) <{narrow = 0 : i64, signed = 1 : i64}> : (tensor<1x1x6xf32>, tensor<f32>, tensor<f32>, tensor<f32>) -> tensor<1x1x6xf32> loc("s_q")
    %c1 = "onnx.Conv"(%sq, %Wdq) <{dilations = [2 : i64], pads = [1 : i64, 1 : i64]}> : (tensor<1x1x6xf32>, tensor<2x1x3xf32>) -> tensor<1x2x4xf32> loc("conv1d")
    "func.return"(%mp, %ap, %gap, %dw, %c1) : (tensor<1x2x2x1xf32>, tensor<1x2x2x2xf32>, tensor<1x2x1x1xf32>, tensor<1x2x3x3xf32>, tensor<1x2x4xf32>) -> ()
  }) {fmlc.inputs = ["x", "s"], fmlc.outputs = ["mp", "ap", "gap", "dw", "c1"]} : () -> ()
}) : () -> ()

// CHECK-NOT:  onnx.
// CHECK:      [[X:%[0-9]+]] = "qt.from_float"(%x) : (tensor<1x2x4x4xf32>) -> tensor<1x2x4x4x!qt.fixed<8,5,rnd_conv,sat>>
// CHECK-NEXT: [[XT:%[0-9]+]] = "qt.transpose"([[X]]) <{perm = [0 : i64, 2 : i64, 3 : i64, 1 : i64]}> : (tensor<1x2x4x4x!qt.fixed<8,5,rnd_conv,sat>>) -> tensor<1x4x4x2x!qt.fixed<8,5,rnd_conv,sat>> loc("conv")
// weights [KH, KW, C, OC]: codes w[oc, c, kh, kw] / 2^-3 (1.0 saturates to 7); bias codes 2, -1 (2^-2)
// CHECK-NEXT: [[W:%[0-9]+]] = "qt.const"() <{value = dense<"0xFC040001FD050101FEFA0200FF0703FF"> : tensor<2x2x2x2x!qt.fixed<4,1>>}> : () -> tensor<2x2x2x2x!qt.fixed<4,1>> loc("conv")
// CHECK-NEXT: [[B:%[0-9]+]] = "qt.const"() <{value = dense<"0x02FF"> : tensor<2x!qt.fixed<3,1>>}> : () -> tensor<2x!qt.fixed<3,1>> loc("conv")
// CHECK-NEXT: [[C:%[0-9]+]] = "qt.conv"([[XT]], [[W]], [[B]]) <{dilations = [1 : i64, 1 : i64], groups = 1 : i64, pads = [1 : i64, 1 : i64, 0 : i64, 0 : i64], strides = [1 : i64, 2 : i64]}> : (tensor<1x4x4x2x!qt.fixed<8,5,rnd_conv,sat>>, tensor<2x2x2x2x!qt.fixed<4,1>>, tensor<2x!qt.fixed<3,1>>) -> tensor<1x4x2x2x!qt.fixed<{{[0-9]+}},{{[0-9]+}}>> loc("conv")
// the max pool reads the conv result in NHWC (no transpose, no cast in between)
// CHECK-NEXT: [[MP:%[0-9]+]] = "qt.max_pool"([[C]]) <{dilations = [1 : i64, 1 : i64], kernel = [2 : i64, 2 : i64], pads = [0 : i64, 0 : i64, 0 : i64, 0 : i64], strides = [2 : i64, 2 : i64]}>
// CHECK-SAME: -> tensor<1x2x1x2x!qt.fixed<{{[0-9]+}},{{[0-9]+}}>> loc("maxpool")
// 2x2 / 2x2 average pool: a sum of 4, two more fractional bits, exact.
// CHECK:      "qt.avg_pool"(%{{[0-9]+}}) <{count_include_pad = 0 : i64, dilations = [1 : i64, 1 : i64], kernel = [2 : i64, 2 : i64], pads = [0 : i64, 0 : i64, 0 : i64, 0 : i64], strides = [2 : i64, 2 : i64]}> : (tensor<1x4x4x2x!qt.fixed<8,5,rnd_conv,sat>>) -> tensor<1x2x2x2x!qt.fixed<10,5>> loc("avgpool")
// CHECK:      "qt.avg_pool"(%{{[0-9]+}}) <{count_include_pad = 0 : i64, dilations = [1 : i64, 1 : i64], kernel = [4 : i64, 4 : i64], pads = [0 : i64, 0 : i64, 0 : i64, 0 : i64], strides = [1 : i64, 1 : i64]}> : (tensor<1x4x4x2x!qt.fixed<8,5,rnd_conv,sat>>) -> tensor<1x1x1x2x!qt.fixed<12,5>> loc("gap")
// depthwise: weights [KH, KW, 1, C], groups = C.
// CHECK:      [[WDW:%[0-9]+]] = "qt.const"() <{value = dense<"0xFC00FD01FE02FF03"> : tensor<2x2x1x2x!qt.fixed<3,0>>}> : () -> tensor<2x2x1x2x!qt.fixed<3,0>> loc("depthwise")
// CHECK-NEXT: "qt.conv"(%{{[0-9]+}}, [[WDW]]) <{dilations = [1 : i64, 1 : i64], groups = 2 : i64, pads = [0 : i64, 0 : i64, 0 : i64, 0 : i64], strides = [1 : i64, 1 : i64]}> : (tensor<1x4x4x2x!qt.fixed<8,5,rnd_conv,sat>>, tensor<2x2x1x2x!qt.fixed<3,0>>) -> tensor<1x3x3x2x!qt.fixed<{{[0-9]+}},{{[0-9]+}}>> loc("depthwise")
// 1-D: NCW -> NWC, weights [K, C, OC].
// CHECK:      [[S:%[0-9]+]] = "qt.from_float"(%s) : (tensor<1x1x6xf32>) -> tensor<1x1x6x!qt.fixed<8,5,rnd_conv,sat>>
// CHECK-NEXT: [[ST:%[0-9]+]] = "qt.transpose"([[S]]) <{perm = [0 : i64, 2 : i64, 1 : i64]}> : (tensor<1x1x6x!qt.fixed<8,5,rnd_conv,sat>>) -> tensor<1x6x1x!qt.fixed<8,5,rnd_conv,sat>> loc("conv1d")
// CHECK-NEXT: [[WD:%[0-9]+]] = "qt.const"() <{value = dense<"0xFD00FE01FF02"> : tensor<3x1x2x!qt.fixed<3,0>>}> : () -> tensor<3x1x2x!qt.fixed<3,0>> loc("conv1d")
// CHECK-NEXT: [[C1:%[0-9]+]] = "qt.conv"([[ST]], [[WD]]) <{dilations = [2 : i64], groups = 1 : i64, pads = [1 : i64, 1 : i64], strides = [1 : i64]}> : (tensor<1x6x1x!qt.fixed<8,5,rnd_conv,sat>>, tensor<3x1x2x!qt.fixed<3,0>>) -> tensor<1x4x2x!qt.fixed<{{[0-9]+}},{{[0-9]+}}>> loc("conv1d")
// back to NCHW for the outputs
// CHECK:      "qt.transpose"([[MP]]) <{perm = [0 : i64, 3 : i64, 1 : i64, 2 : i64]}>
// CHECK-SAME: -> tensor<1x2x2x1x!qt.fixed<{{[0-9]+}},{{[0-9]+}}>>
// CHECK:      "qt.transpose"([[C1]]) <{perm = [0 : i64, 2 : i64, 1 : i64]}>
// CHECK:      "func.return"
