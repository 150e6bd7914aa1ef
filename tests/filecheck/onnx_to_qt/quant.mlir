// RUN: fmlc-opt %s -p onnx-to-qt | filecheck %s

// The QONNX quantisers become fixed-point types: a per-tensor power-of-two Quant is one
// conversion (qt.from_float on a graph input, qt.cast on an activation) whose type carries
// the scale (W = bits, I = bits + log2 scale), the rounding mode and saturation; an
// unsigned narrow Quant adds a clip of the top code; CEIL is -floor(-x); per-channel
// scales multiply by 2^-k_c, round to integer codes and multiply back.  BipolarQuant is a
// cast to !qt.bipolar, MultiThreshold a qt.threshold (thresholds as raw ceil(T·2^F)) and
// Trunc v2 a cast onto the output scale's grid.

"builtin.module"() ({
  "func.func"() <{function_type = (tensor<1x4xf32>) -> (tensor<1x4xf32>, tensor<1x4xf32>, tensor<1x4xf32>, tensor<1x4xf32>, tensor<1x4xf32>, tensor<1x4xf32>, tensor<1x4xf32>, tensor<1x4xf32>), sym_name = "main"}> ({
  ^bb0(%x: tensor<1x4xf32>):
    %s3 = "onnx.Constant"() <{value = dense<0.125> : tensor<f32>}> : () -> tensor<f32> loc("s3")
    %s2 = "onnx.Constant"() <{value = dense<0.25> : tensor<f32>}> : () -> tensor<f32> loc("s2")
    %zero = "onnx.Constant"() <{value = dense<0.0> : tensor<f32>}> : () -> tensor<f32> loc("zero")
    %b8 = "onnx.Constant"() <{value = dense<8.0> : tensor<f32>}> : () -> tensor<f32> loc("b8")
    %b4 = "onnx.Constant"() <{value = dense<4.0> : tensor<f32>}> : () -> tensor<f32> loc("b4")
    %spc = "onnx.Constant"() <{value = dense<[[0.5, 0.25, 1.0, 0.125]]> : tensor<1x4xf32>}> : () -> tensor<1x4xf32> loc("spc")
    %one = "onnx.Constant"() <{value = dense<1.0> : tensor<f32>}> : () -> tensor<f32> loc("one")
    %th = "onnx.Constant"() <{value = dense<[[-1.0, 0.0, 1.0]]> : tensor<1x3xf32>}> : () -> tensor<1x3xf32> loc("th")
    %xq = "onnx.Quant"(%x, %s3, %zero, %b8) <{narrow = 0 : i64, signed = 1 : i64}> : (tensor<1x4xf32>, tensor<f32>, tensor<f32>, tensor<f32>) -> tensor<1x4xf32> loc("in_q")
    %a_floor = "onnx.Quant"(%xq, %s2, %zero, %b4) <{narrow = 0 : i64, rounding_mode = "FLOOR", signed = 1 : i64}> : (tensor<1x4xf32>, tensor<f32>, tensor<f32>, tensor<f32>) -> tensor<1x4xf32> loc("act_floor")
    %a_sym = "onnx.Quant"(%xq, %s2, %zero, %b4) <{narrow = 1 : i64, rounding_mode = "HALF_UP", signed = 1 : i64}> : (tensor<1x4xf32>, tensor<f32>, tensor<f32>, tensor<f32>) -> tensor<1x4xf32> loc("act_narrow")
    %a_un = "onnx.Quant"(%xq, %s2, %zero, %b4) <{narrow = 1 : i64, signed = 0 : i64}> : (tensor<1x4xf32>, tensor<f32>, tensor<f32>, tensor<f32>) -> tensor<1x4xf32> loc("act_unsigned_narrow")
    %a_ceil = "onnx.Quant"(%xq, %s2, %zero, %b4) <{narrow = 0 : i64, rounding_mode = "CEIL", signed = 1 : i64}> : (tensor<1x4xf32>, tensor<f32>, tensor<f32>, tensor<f32>) -> tensor<1x4xf32> loc("act_ceil")
    %a_pc = "onnx.Quant"(%xq, %spc, %zero, %b4) <{narrow = 0 : i64, signed = 1 : i64}> : (tensor<1x4xf32>, tensor<1x4xf32>, tensor<f32>, tensor<f32>) -> tensor<1x4xf32> loc("act_per_channel")
    %bip = "onnx.BipolarQuant"(%xq, %one) : (tensor<1x4xf32>, tensor<f32>) -> tensor<1x4xf32> loc("bipolar")
    %mt = "onnx.MultiThreshold"(%xq, %th) <{out_bias = -1.0 : f32, out_scale = 0.5 : f32}> : (tensor<1x4xf32>, tensor<1x3xf32>) -> tensor<1x4xf32> loc("thresh")
    %tr = "onnx.Trunc"(%xq, %s3, %zero, %b8, %s2, %b4) <{rounding_mode = "FLOOR"}> : (tensor<1x4xf32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>) -> tensor<1x4xf32> loc("trunc")
    "func.return"(%a_floor, %a_sym, %a_un, %a_ceil, %a_pc, %bip, %mt, %tr) : (tensor<1x4xf32>, tensor<1x4xf32>, tensor<1x4xf32>, tensor<1x4xf32>, tensor<1x4xf32>, tensor<1x4xf32>, tensor<1x4xf32>, tensor<1x4xf32>) -> ()
  }) {fmlc.inputs = ["x"], fmlc.outputs = ["a_floor", "a_sym", "a_un", "a_ceil", "a_pc", "bip", "mt", "tr"]} : () -> ()
}) : () -> ()

// The function keeps its float interface.
// CHECK:      "func.func"() <{function_type = (tensor<1x4xf32>) -> (tensor<1x4xf32>, tensor<1x4xf32>, tensor<1x4xf32>, tensor<1x4xf32>, tensor<1x4xf32>, tensor<1x4xf32>, tensor<1x4xf32>, tensor<1x4xf32>), sym_name = "main"}>
// CHECK-NOT:  onnx.
// 8-bit signed, scale 2^-3, ROUND (half to even): fixed<8,5,rnd_conv,sat>, straight from the float input.
// CHECK:      [[X:%[0-9]+]] = "qt.from_float"(%x) : (tensor<1x4xf32>) -> tensor<1x4x!qt.fixed<8,5,rnd_conv,sat>>
// 4-bit, scale 2^-2, FLOOR: truncation.
// CHECK-NEXT: "qt.cast"([[X]]) : (tensor<1x4x!qt.fixed<8,5,rnd_conv,sat>>) -> tensor<1x4x!qt.fixed<4,2,trn,sat>> loc("act_floor")
// narrow signed saturates symmetrically; HALF_UP rounds half away from zero.
// CHECK-NEXT: "qt.cast"([[X]]) : (tensor<1x4x!qt.fixed<8,5,rnd_conv,sat>>) -> tensor<1x4x!qt.fixed<4,2,rnd_inf,sat_sym>> loc("act_narrow")
// unsigned narrow: ufixed<4,2> and a clip at the top code 14 (3.5).
// CHECK-NEXT: [[U:%[0-9]+]] = "qt.cast"([[X]]) : (tensor<1x4x!qt.fixed<8,5,rnd_conv,sat>>) -> tensor<1x4x!qt.ufixed<4,2,rnd_conv,sat>> loc("act_unsigned_narrow")
// CHECK:      [[TOP:%[0-9]+]] = "qt.const"() <{value = dense<"0x0E"> : tensor<!qt.ufixed<4,2>>}> : () -> tensor<!qt.ufixed<4,2>> loc("act_unsigned_narrow")
// CHECK-NEXT: [[LOW:%[0-9]+]] = "qt.const"() <{value = dense<"0x00"> : tensor<!qt.ufixed<4,2>>}> : () -> tensor<!qt.ufixed<4,2>> loc("act_unsigned_narrow")
// CHECK-NEXT: "qt.clip"([[U]], [[LOW]], [[TOP]]) : (tensor<1x4x!qt.ufixed<4,2,rnd_conv,sat>>, tensor<!qt.ufixed<4,2>>, tensor<!qt.ufixed<4,2>>) -> tensor<1x4x!qt.ufixed<4,2>> loc("act_unsigned_narrow")
// CEIL: negate, truncate (floor), negate back, cast to the codes.
// CHECK:      "qt.mul"([[X]], %{{[0-9]+}}) : (tensor<1x4x!qt.fixed<8,5,rnd_conv,sat>>, tensor<!qt.fixed<1,1>>) -> tensor<1x4x!qt.fixed<9,6>> loc("act_ceil")
// CHECK-NEXT: "qt.cast"(%{{[0-9]+}}) : (tensor<1x4x!qt.fixed<9,6>>) -> tensor<1x4x!qt.fixed<6,4,trn,sat>> loc("act_ceil")
// CHECK:      "qt.mul"
// CHECK-SAME: -> tensor<1x4x!qt.fixed<7,5>> loc("act_ceil")
// CHECK-NEXT: "qt.cast"(%{{[0-9]+}}) : (tensor<1x4x!qt.fixed<7,5>>) -> tensor<1x4x!qt.fixed<4,2,trn,sat>> loc("act_ceil")
// per channel: x · 2^-k_c (2, 4, 1, 8), integer codes, · 2^k_c (0.5, 0.25, 1, 0.125).
// CHECK:      [[INV:%[0-9]+]] = "qt.const"() <{value = dense<"0x02040108"> : tensor<1x4x!qt.ufixed<4,4>>}> : () -> tensor<1x4x!qt.ufixed<4,4>> loc("act_per_channel")
// CHECK-NEXT: [[CODES:%[0-9]+]] = "qt.mul"([[X]], [[INV]]) : (tensor<1x4x!qt.fixed<8,5,rnd_conv,sat>>, tensor<1x4x!qt.ufixed<4,4>>) -> tensor<1x4x!qt.fixed<12,9>> loc("act_per_channel")
// CHECK-NEXT: [[INT:%[0-9]+]] = "qt.cast"([[CODES]]) : (tensor<1x4x!qt.fixed<12,9>>) -> tensor<1x4x!qt.fixed<4,4,rnd_conv,sat>> loc("act_per_channel")
// CHECK-NEXT: [[S:%[0-9]+]] = "qt.const"() <{value = dense<"0x04020801"> : tensor<1x4x!qt.ufixed<4,1>>}> : () -> tensor<1x4x!qt.ufixed<4,1>> loc("act_per_channel")
// CHECK-NEXT: "qt.mul"([[INT]], [[S]]) : (tensor<1x4x!qt.fixed<4,4,rnd_conv,sat>>, tensor<1x4x!qt.ufixed<4,1>>) -> tensor<1x4x!qt.fixed<8,5>> loc("act_per_channel")
// CHECK-NEXT: [[BIP:%[0-9]+]] = "qt.cast"([[X]]) : (tensor<1x4x!qt.fixed<8,5,rnd_conv,sat>>) -> tensor<1x4x!qt.bipolar> loc("bipolar")
// thresholds -1, 0, 1 as raw fixed<8,5> codes -8, 0, 8; then the count · 0.5 - 1.
// CHECK-NEXT: [[TH:%[0-9]+]] = "qt.const"() <{value = dense<"0xF80008"> : tensor<1x3x!qt.fixed<8,5>>}> : () -> tensor<1x3x!qt.fixed<8,5>> loc("thresh")
// CHECK-NEXT: [[CNT:%[0-9]+]] = "qt.threshold"([[X]], [[TH]]) <{axis = 1 : i64}> : (tensor<1x4x!qt.fixed<8,5,rnd_conv,sat>>, tensor<1x3x!qt.fixed<8,5>>) -> tensor<1x4x!qt.uint<2>> loc("thresh")
// CHECK:      "qt.mul"([[CNT]], %{{[0-9]+}}) : (tensor<1x4x!qt.uint<2>>, tensor<1x1x!qt.ufixed<1,0>>) -> tensor<1x4x!qt.ufixed<3,2>> loc("thresh")
// CHECK:      "qt.add"
// CHECK-SAME: loc("thresh")
// Trunc v2 onto the 2^-2 grid, 4 bits, FLOOR.
// CHECK-NEXT: "qt.cast"([[X]]) : (tensor<1x4x!qt.fixed<8,5,rnd_conv,sat>>) -> tensor<1x4x!qt.fixed<4,2,trn,sat>> loc("trunc")
// Outputs leave through qt.to_float; a bipolar output is first cast to ±1.
// CHECK:      "qt.cast"([[BIP]]) : (tensor<1x4x!qt.bipolar>) -> tensor<1x4x!qt.fixed<2,2>>
// CHECK:      "func.return"
// CHECK-NOT:  onnx.
