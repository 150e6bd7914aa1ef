// RUN: fmlc-opt %s -p onnx-to-qt | filecheck %s

// Relu and Clip keep the input's type; LeakyRelu's slope 0.125 is an exact constant and
// the result type holds x and 0.125·x.  Sigmoid and tanh become a qt.lut over the input's
// raw codes (sigmoid covers [-8, 8], tanh [-4, 4]; an 8-bit input needs no index shift, a
// float input at the default fixed<16,6> does) with the table's worst-case error recorded
// as an error_bound attribute; softmax is a table-based qt.softmax.

"builtin.module"() ({
  "func.func"() <{function_type = (tensor<1x4xf32>) -> (tensor<1x4xf32>, tensor<1x4xf32>, tensor<1x4xf32>, tensor<1x4xf32>, tensor<1x4xf32>, tensor<1x4xf32>, tensor<1x4xf32>), sym_name = "main"}> ({
  ^bb0(%x: tensor<1x4xf32>):
    %s3 = "onnx.Constant"() <{value = dense<0.125> : tensor<f32>}> : () -> tensor<f32> loc("s3")
    %zero = "onnx.Constant"() <{value = dense<0.0> : tensor<f32>}> : () -> tensor<f32> loc("zero")
    %b8 = "onnx.Constant"() <{value = dense<8.0> : tensor<f32>}> : () -> tensor<f32> loc("b8")
    %lo = "onnx.Constant"() <{value = dense<-1.0> : tensor<f32>}> : () -> tensor<f32> loc("lo")
    %hi = "onnx.Constant"() <{value = dense<2.0> : tensor<f32>}> : () -> tensor<f32> loc("hi")
    %xq = "onnx.Quant"(%x, %s3, %zero, %b8) <{narrow = 0 : i64, signed = 1 : i64}> : (tensor<1x4xf32>, tensor<f32>, tensor<f32>, tensor<f32>) -> tensor<1x4xf32> loc("in_q")
    %r = "onnx.Relu"(%xq) : (tensor<1x4xf32>) -> tensor<1x4xf32> loc("relu")
    %cl = "onnx.Clip"(%xq, %lo, %hi) : (tensor<1x4xf32>, tensor<f32>, tensor<f32>) -> tensor<1x4xf32> loc("clip")
    %lr = "onnx.LeakyRelu"(%xq) <{alpha = 0.125 : f32}> : (tensor<1x4xf32>) -> tensor<1x4xf32> loc("leaky")
    %sg = "onnx.Sigmoid"(%xq) : (tensor<1x4xf32>) -> tensor<1x4xf32> loc("sigmoid")
    %th = "onnx.Tanh"(%xq) : (tensor<1x4xf32>) -> tensor<1x4xf32> loc("tanh")
    %sm = "onnx.Softmax"(%xq) <{axis = -1 : i64}> : (tensor<1x4xf32>) -> tensor<1x4xf32> loc("softmax")
    %sf = "onnx.Sigmoid"(%x) : (tensor<1x4xf32>) -> tensor<1x4xf32> loc("sigmoid_float")
    "func.return"(%r, %cl, %lr, %sg, %th, %sm, %sf) : (tensor<1x4xf32>, tensor<1x4xf32>, tensor<1x4xf32>, tensor<1x4xf32>, tensor<1x4xf32>, tensor<1x4xf32>, tensor<1x4xf32>) -> ()
  }) {fmlc.inputs = ["x"], fmlc.outputs = ["r", "cl", "lr", "sg", "th", "sm", "sf"]} : () -> ()
}) : () -> ()

// CHECK-NOT:  onnx.
// CHECK:      [[X:%[0-9]+]] = "qt.from_float"(%x) : (tensor<1x4xf32>) -> tensor<1x4x!qt.fixed<8,5,rnd_conv,sat>>
// CHECK-NEXT: "qt.relu"([[X]]) : (tensor<1x4x!qt.fixed<8,5,rnd_conv,sat>>) -> tensor<1x4x!qt.fixed<8,5,rnd_conv,sat>> loc("relu")
// CHECK-NEXT: [[LO:%[0-9]+]] = "qt.const"() <{value = dense<"0xFF"> : tensor<!qt.fixed<2,2>>}> : () -> tensor<!qt.fixed<2,2>> loc("clip")
// CHECK-NEXT: [[HI:%[0-9]+]] = "qt.const"() <{value = dense<"0x01"> : tensor<!qt.ufixed<1,2>>}> : () -> tensor<!qt.ufixed<1,2>> loc("clip")
// CHECK-NEXT: "qt.clip"([[X]], [[LO]], [[HI]]) : (tensor<1x4x!qt.fixed<8,5,rnd_conv,sat>>, tensor<!qt.fixed<2,2>>, tensor<!qt.ufixed<1,2>>) -> tensor<1x4x!qt.fixed<8,5,rnd_conv,sat>> loc("clip")
// CHECK-NEXT: [[A:%[0-9]+]] = "qt.const"() <{value = dense<"0x01"> : tensor<!qt.ufixed<1,-2>>}> : () -> tensor<!qt.ufixed<1,-2>> loc("leaky")
// CHECK-NEXT: "qt.leaky_relu"([[X]], [[A]]) : (tensor<1x4x!qt.fixed<8,5,rnd_conv,sat>>, tensor<!qt.ufixed<1,-2>>) -> tensor<1x4x!qt.fixed<11,5>> loc("leaky")
// CHECK-NEXT: "qt.lut"([[X]]) <{function = "sigmoid", shift = 0 : i64, start = -64 : i64, table = dense<"0x{{[0-9A-F]+}}"> : tensor<129x!qt.ufixed<17,1,rnd_conv,sat>>}> {error_bound = {{[0-9.e-]+}} : f64} : (tensor<1x4x!qt.fixed<8,5,rnd_conv,sat>>) -> tensor<1x4x!qt.ufixed<17,1,rnd_conv,sat>> loc("sigmoid")
// CHECK-NEXT: "qt.lut"([[X]]) <{function = "tanh", shift = 0 : i64, start = -32 : i64, table = dense<"0x{{[0-9A-F]+}}"> : tensor<65x!qt.fixed<18,2,rnd_conv,sat>>}> {error_bound = {{[0-9.e-]+}} : f64} : (tensor<1x4x!qt.fixed<8,5,rnd_conv,sat>>) -> tensor<1x4x!qt.fixed<18,2,rnd_conv,sat>> loc("tanh")
// CHECK-NEXT: "qt.softmax"([[X]]) <{axis = 1 : i64, exp_shift = {{[0-9]+}} : i64, exp_start = {{-?[0-9]+}} : i64, exp_table = dense<"0x{{[0-9A-F]+}}"> : tensor<{{[0-9]+}}x!qt.ufixed<18,1,rnd_conv,sat>>, inv_shift = {{[0-9]+}} : i64, inv_start = {{[0-9]+}} : i64, inv_table = dense<"0x{{[0-9A-F]+}}"> : tensor<{{[0-9]+}}x!qt.ufixed<18,1,rnd_conv,sat>>}> {error_bound = {{[0-9.e-]+}} : f64} : (tensor<1x4x!qt.fixed<8,5,rnd_conv,sat>>) -> tensor<1x4x!qt.ufixed<16,0,rnd_conv,sat>> loc("softmax")
// The float input enters at the default precision; the table's bins span 2^shift codes.
// CHECK-NEXT: [[XF:%[0-9]+]] = "qt.from_float"(%x) : (tensor<1x4xf32>) -> tensor<1x4x!qt.fixed<16,6>>
// CHECK-NEXT: "qt.lut"([[XF]]) <{function = "sigmoid", shift = {{[1-9][0-9]*}} : i64, start = {{-[0-9]+}} : i64, table = dense<"0x{{[0-9A-F]+}}"> : tensor<{{[0-9]+}}x!qt.ufixed<17,1,rnd_conv,sat>>}> {error_bound = {{[0-9.e-]+}} : f64} : (tensor<1x4x!qt.fixed<16,6>>) -> tensor<1x4x!qt.ufixed<17,1,rnd_conv,sat>> loc("sigmoid_float")
// CHECK:      "func.return"
