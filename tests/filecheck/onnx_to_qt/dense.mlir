// RUN: fmlc-opt %s -p onnx-to-qt | filecheck %s

// Dense layers: a quantiser on constant weights folds (as qonnx folds it) and the weights
// become an exact qt.const (4-bit narrow codes, scale 2^-3: fixed<4,1>); a float bias is
// held exactly (float32 0.1 needs fixed<29,2>); the accumulator type is the full exact one.
// Float weights take the default precision fixed<16,6> and the result is cast back to it.
// A bipolar input times ±1 weights is an XNOR-popcount qt.bipolar_dense.

"builtin.module"() ({
  "func.func"() <{function_type = (tensor<1x3xf32>) -> (tensor<1x2xf32>, tensor<1x2xf32>, tensor<1x2xf32>, tensor<1x2xf32>), sym_name = "main"}> ({
  ^bb0(%x: tensor<1x3xf32>):
    %s3 = "onnx.Constant"() <{value = dense<0.125> : tensor<f32>}> : () -> tensor<f32> loc("s3")
    %zero = "onnx.Constant"() <{value = dense<0.0> : tensor<f32>}> : () -> tensor<f32> loc("zero")
    %b8 = "onnx.Constant"() <{value = dense<8.0> : tensor<f32>}> : () -> tensor<f32> loc("b8")
    %b4 = "onnx.Constant"() <{value = dense<4.0> : tensor<f32>}> : () -> tensor<f32> loc("b4")
    %W = "onnx.Constant"() <{value = dense<[[0.5, -0.25], [0.125, 1.0], [-1.0, 0.0]]> : tensor<3x2xf32>}> : () -> tensor<3x2xf32> loc("W")
    %Wt = "onnx.Constant"() <{value = dense<[[0.5, 0.125, -1.0], [-0.25, 1.0, 0.0]]> : tensor<2x3xf32>}> : () -> tensor<2x3xf32> loc("Wt")
    %bias = "onnx.Constant"() <{value = dense<[0.1, -2.0]> : tensor<2xf32>}> : () -> tensor<2xf32> loc("bias")
    %one = "onnx.Constant"() <{value = dense<1.0> : tensor<f32>}> : () -> tensor<f32> loc("one")
    %Wpm = "onnx.Constant"() <{value = dense<[[1.0, -1.0], [-1.0, -1.0], [1.0, 1.0]]> : tensor<3x2xf32>}> : () -> tensor<3x2xf32> loc("Wpm")
    %xq = "onnx.Quant"(%x, %s3, %zero, %b8) <{narrow = 0 : i64, signed = 1 : i64}> : (tensor<1x3xf32>, tensor<f32>, tensor<f32>, tensor<f32>) -> tensor<1x3xf32> loc("in_q")
    %Wq = "onnx.Quant"(%W, %s3, %zero, %b4) <{narrow = 1 : i64, signed = 1 : i64}> : (tensor<3x2xf32>, tensor<f32>, tensor<f32>, tensor<f32>) -> tensor<3x2xf32> loc("w_q")
    %xb = "onnx.BipolarQuant"(%x, %one) : (tensor<1x3xf32>, tensor<f32>) -> tensor<1x3xf32> loc("bip_in")
    %g = "onnx.Gemm"(%xq, %Wq, %bias) : (tensor<1x3xf32>, tensor<3x2xf32>, tensor<2xf32>) -> tensor<1x2xf32> loc("fc1")
    %g2 = "onnx.Gemm"(%xq, %Wt) <{transB = 1 : i64}> : (tensor<1x3xf32>, tensor<2x3xf32>) -> tensor<1x2xf32> loc("fc_float")
    %m = "onnx.MatMul"(%xq, %Wq) : (tensor<1x3xf32>, tensor<3x2xf32>) -> tensor<1x2xf32> loc("mm")
    %ma = "onnx.Add"(%m, %bias) : (tensor<1x2xf32>, tensor<2xf32>) -> tensor<1x2xf32> loc("mm_bias")
    %bd = "onnx.MatMul"(%xb, %Wpm) : (tensor<1x3xf32>, tensor<3x2xf32>) -> tensor<1x2xf32> loc("bin_mm")
    "func.return"(%g, %g2, %ma, %bd) : (tensor<1x2xf32>, tensor<1x2xf32>, tensor<1x2xf32>, tensor<1x2xf32>) -> ()
  }) {fmlc.inputs = ["x"], fmlc.outputs = ["g", "g2", "ma", "bd"]} : () -> ()
}) : () -> ()

// CHECK-NOT:  onnx.
// CHECK:      [[X:%[0-9]+]] = "qt.from_float"(%x) : (tensor<1x3xf32>) -> tensor<1x3x!qt.fixed<8,5,rnd_conv,sat>>
// BipolarQuant on the input: the sign bit of the float (x >= 0 is +1).
// CHECK:      [[XB:%[0-9]+]] = "qt.cast"(%{{[0-9]+}}) : (tensor<1x3x!qt.fixed<2,2,trn,sat>>) -> tensor<1x3x!qt.bipolar> loc("bip_in")
// Weight codes 4, -2, 1, 7 (1.0 saturates to 0.875), -7, 0.
// CHECK:      [[W:%[0-9]+]] = "qt.const"() <{value = dense<"0x04FE0107F900"> : tensor<3x2x!qt.fixed<4,1>>}> : () -> tensor<3x2x!qt.fixed<4,1>> loc("fc1")
// CHECK-NEXT: [[B:%[0-9]+]] = "qt.const"() <{value = dense<"0xCDCCCC00000000F0"> : tensor<2x!qt.fixed<29,2>>}> : () -> tensor<2x!qt.fixed<29,2>> loc("fc1")
// CHECK-NEXT: [[G:%[0-9]+]] = "qt.dense"([[X]], [[W]], [[B]]) : (tensor<1x3x!qt.fixed<8,5,rnd_conv,sat>>, tensor<3x2x!qt.fixed<4,1>>, tensor<2x!qt.fixed<29,2>>) -> tensor<1x2x!qt.fixed<36,9>> loc("fc1")
// Float weights (transposed): rounded into fixed<16,6>; no bias; the result cast to fixed<16,6>.
// CHECK-NEXT: [[WF:%[0-9]+]] = "qt.const"() <{value = dense<"0x000200FF8000000400FC0000"> : tensor<3x2x!qt.fixed<16,6>>}> : () -> tensor<3x2x!qt.fixed<16,6>> loc("fc_float")
// CHECK-NEXT: [[GF:%[0-9]+]] = "qt.dense"([[X]], [[WF]]) : (tensor<1x3x!qt.fixed<8,5,rnd_conv,sat>>, tensor<3x2x!qt.fixed<16,6>>) -> tensor<1x2x!qt.fixed<26,13>> loc("fc_float")
// CHECK-NEXT: [[GF2:%[0-9]+]] = "qt.cast"([[GF]]) : (tensor<1x2x!qt.fixed<26,13>>) -> tensor<1x2x!qt.fixed<16,6>> loc("fc_float")
// MatMul (+ Add of a constant): a dense on the same exact weights.
// CHECK:      "qt.dense"([[X]], %{{[0-9]+}}
// CHECK-SAME: tensor<3x2x!qt.fixed<4,1>>
// CHECK-SAME: loc("mm
// CHECK:      [[WB:%[0-9]+]] = "qt.const"() <{value = dense<"0x010000000101"> : tensor<3x2x!qt.bipolar>}> : () -> tensor<3x2x!qt.bipolar> loc("bin_mm")
// CHECK-NEXT: [[BD:%[0-9]+]] = "qt.bipolar_dense"([[XB]], [[WB]]) : (tensor<1x3x!qt.bipolar>, tensor<3x2x!qt.bipolar>) -> tensor<1x2x!qt.int<3>> loc("bin_mm")
// CHECK:      "qt.to_float"([[G]]) : (tensor<1x2x!qt.fixed<36,9>>) -> tensor<1x2xf32>
// CHECK-NEXT: "qt.to_float"([[GF2]]) : (tensor<1x2x!qt.fixed<16,6>>) -> tensor<1x2xf32>
// CHECK:      "qt.to_float"([[BD]]) : (tensor<1x2x!qt.int<3>>) -> tensor<1x2xf32>
// CHECK-NOT:  onnx.
