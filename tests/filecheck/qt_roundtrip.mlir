// RUN: fmlc-opt %s | filecheck %s
// RUN: fmlc-opt %s | fmlc-opt - | filecheck %s

// A function using every qt op parses, verifies and prints back as it was read.
// tests/runtime/test_qt_ops.py also runs it in the interpreter.

"builtin.module"() ({
  "func.func"() <{function_type = (tensor<1x4x4x2xf32>, tensor<1x8xf32>) -> (tensor<1x2x2x4xf32>, tensor<1x8xf64>, tensor<1x3x!qt.fixed<100,50,rnd_conv,sat>>), sym_name = "main"}> ({
  ^bb0(%img: tensor<1x4x4x2xf32>, %vec: tensor<1x8xf32>):
    %x = "qt.from_float"(%img) : (tensor<1x4x4x2xf32>) -> tensor<1x4x4x2x!qt.fixed<8,3,rnd_conv,sat>>
    %w = "qt.const"() <{value = dense<"0x03"> : tensor<3x3x1x4x!qt.fixed<4,1>>}> : () -> tensor<3x3x1x4x!qt.fixed<4,1>>
    %b = "qt.const"() <{value = dense<"0x01FF0200"> : tensor<4x!qt.fixed<8,4>>}> : () -> tensor<4x!qt.fixed<8,4>>
    %c = "qt.conv"(%x, %w, %b) <{dilations = [1 : i64, 1 : i64], groups = 2 : i64, pads = [1 : i64, 1 : i64, 1 : i64, 1 : i64], strides = [1 : i64, 1 : i64]}> : (tensor<1x4x4x2x!qt.fixed<8,3,rnd_conv,sat>>, tensor<3x3x1x4x!qt.fixed<4,1>>, tensor<4x!qt.fixed<8,4>>) -> tensor<1x4x4x4x!qt.fixed<12,6,rnd,sat>>
    %r = "qt.relu"(%c) : (tensor<1x4x4x4x!qt.fixed<12,6,rnd,sat>>) -> tensor<1x4x4x4x!qt.ufixed<8,4,trn,sat>>
    %al = "qt.const"() <{value = dense<"0x01"> : tensor<4x!qt.fixed<4,0>>}> : () -> tensor<4x!qt.fixed<4,0>>
    %lr = "qt.leaky_relu"(%c, %al) : (tensor<1x4x4x4x!qt.fixed<12,6,rnd,sat>>, tensor<4x!qt.fixed<4,0>>) -> tensor<1x4x4x4x!qt.fixed<12,6>>
    %lo = "qt.const"() <{value = dense<"0xF0"> : tensor<!qt.fixed<8,4>>}> : () -> tensor<!qt.fixed<8,4>>
    %hi = "qt.const"() <{value = dense<"0x30"> : tensor<!qt.int<8>>}> : () -> tensor<!qt.int<8>>
    %cl = "qt.clip"(%lr, %lo, %hi) : (tensor<1x4x4x4x!qt.fixed<12,6>>, tensor<!qt.fixed<8,4>>, tensor<!qt.int<8>>) -> tensor<1x4x4x4x!qt.fixed<12,6>>
    %s = "qt.add"(%cl, %r) : (tensor<1x4x4x4x!qt.fixed<12,6>>, tensor<1x4x4x4x!qt.ufixed<8,4,trn,sat>>) -> tensor<1x4x4x4x!qt.fixed<14,7>>
    %d = "qt.sub"(%s, %b) : (tensor<1x4x4x4x!qt.fixed<14,7>>, tensor<4x!qt.fixed<8,4>>) -> tensor<1x4x4x4x!qt.fixed<14,7>>
    %m = "qt.mul"(%d, %al) : (tensor<1x4x4x4x!qt.fixed<14,7>>, tensor<4x!qt.fixed<4,0>>) -> tensor<1x4x4x4x!qt.fixed<16,7,rnd_conv,sat_sym>>
    %mp = "qt.max_pool"(%m) <{dilations = [1 : i64, 1 : i64], kernel = [2 : i64, 2 : i64], pads = [0 : i64, 0 : i64, 1 : i64, 1 : i64], strides = [2 : i64, 2 : i64]}> : (tensor<1x4x4x4x!qt.fixed<16,7,rnd_conv,sat_sym>>) -> tensor<1x2x2x4x!qt.fixed<16,7>>
    %ap = "qt.avg_pool"(%mp) <{count_include_pad = 0 : i64, dilations = [1 : i64, 1 : i64], kernel = [3 : i64, 3 : i64], pads = [1 : i64, 1 : i64, 1 : i64, 1 : i64], strides = [1 : i64, 1 : i64]}> : (tensor<1x2x2x4x!qt.fixed<16,7>>) -> tensor<1x2x2x4x!qt.fixed<16,7,rnd_inf,sat_zero>>
    %cs = "qt.cast"(%ap) : (tensor<1x2x2x4x!qt.fixed<16,7,rnd_inf,sat_zero>>) -> tensor<1x2x2x4x!qt.int<8>>
    %tr = "qt.transpose"(%cs) <{perm = [0 : i64, 3 : i64, 1 : i64, 2 : i64]}> : (tensor<1x2x2x4x!qt.int<8>>) -> tensor<1x4x2x2x!qt.int<8>>
    %rs = "qt.reshape"(%tr) : (tensor<1x4x2x2x!qt.int<8>>) -> tensor<1x16x!qt.int<8>>
    %p0, %p1 = "qt.split"(%rs) <{axis = 1 : i64}> : (tensor<1x16x!qt.int<8>>) -> (tensor<1x10x!qt.int<8>>, tensor<1x6x!qt.int<8>>)
    %cc = "qt.concat"(%p1, %p0) <{axis = 1 : i64}> : (tensor<1x6x!qt.int<8>>, tensor<1x10x!qt.int<8>>) -> tensor<1x16x!qt.int<8>>
    %sl = "qt.slice"(%cc) <{ends = [1 : i64, -1 : i64], starts = [0 : i64, 15 : i64], steps = [1 : i64, -2 : i64]}> : (tensor<1x16x!qt.int<8>>) -> tensor<1x8x!qt.int<8>>
    %pv = "qt.const"() <{value = dense<"0x7F"> : tensor<!qt.int<8>>}> : () -> tensor<!qt.int<8>>
    %pd = "qt.pad"(%sl, %pv) <{pads = [0 : i64, 1 : i64, 0 : i64, 1 : i64]}> : (tensor<1x8x!qt.int<8>>, tensor<!qt.int<8>>) -> tensor<1x10x!qt.int<8>>
    %dw = "qt.const"() <{value = dense<"0x05"> : tensor<10x3x!qt.fixed<6,2>>}> : () -> tensor<10x3x!qt.fixed<6,2>>
    %dn = "qt.dense"(%pd, %dw) : (tensor<1x10x!qt.int<8>>, tensor<10x3x!qt.fixed<6,2>>) -> tensor<1x3x!qt.fixed<10,4,rnd_conv,sat>>
    %lu = "qt.lut"(%dn) <{function = "sigmoid", shift = 4 : i64, start = -512 : i64, table = dense<"0x00010203"> : tensor<4x!qt.ufixed<8,0>>}> : (tensor<1x3x!qt.fixed<10,4,rnd_conv,sat>>) -> tensor<1x3x!qt.ufixed<8,0>>
    %sm = "qt.softmax"(%dn) <{axis = 1 : i64, exp_shift = 2 : i64, exp_start = -64 : i64, exp_table = dense<"0x01020408"> : tensor<4x!qt.ufixed<8,1>>, inv_shift = 3 : i64, inv_start = 0 : i64, inv_table = dense<"0x8040"> : tensor<2x!qt.ufixed<8,1>>}> : (tensor<1x3x!qt.fixed<10,4,rnd_conv,sat>>) -> tensor<1x3x!qt.ufixed<8,0,rnd,sat>>
    %v = "qt.from_float"(%vec) : (tensor<1x8xf32>) -> tensor<1x8x!qt.bipolar>
    %bw = "qt.const"() <{value = dense<"0x01"> : tensor<8x8x!qt.bipolar>}> : () -> tensor<8x8x!qt.bipolar>
    %bd = "qt.bipolar_dense"(%v, %bw) : (tensor<1x8x!qt.bipolar>, tensor<8x8x!qt.bipolar>) -> tensor<1x8x!qt.int<5>>
    %th = "qt.const"() <{value = dense<"0xFE0002"> : tensor<1x3x!qt.int<5>>}> : () -> tensor<1x3x!qt.int<5>>
    %tq = "qt.threshold"(%bd, %th) <{axis = 1 : i64}> : (tensor<1x8x!qt.int<5>>, tensor<1x3x!qt.int<5>>) -> tensor<1x8x!qt.uint<2>>
    %wc = "qt.const"() <{value = dense<"0x01000000000000000000000000000000000000000000000000F839300000000000000000000000"> : tensor<3x!qt.fixed<100,50,rnd_conv,sat>>}> : () -> tensor<3x!qt.fixed<100,50,rnd_conv,sat>>
    %wa = "qt.add"(%dn, %wc) : (tensor<1x3x!qt.fixed<10,4,rnd_conv,sat>>, tensor<3x!qt.fixed<100,50,rnd_conv,sat>>) -> tensor<1x3x!qt.fixed<100,50,rnd_conv,sat>>
    %o1 = "qt.to_float"(%ap) : (tensor<1x2x2x4x!qt.fixed<16,7,rnd_inf,sat_zero>>) -> tensor<1x2x2x4xf32>
    %o2 = "qt.to_float"(%tq) : (tensor<1x8x!qt.uint<2>>) -> tensor<1x8xf64>
    "func.return"(%o1, %o2, %wa) : (tensor<1x2x2x4xf32>, tensor<1x8xf64>, tensor<1x3x!qt.fixed<100,50,rnd_conv,sat>>) -> ()
  }) : () -> ()
}) : () -> ()

// CHECK:      "builtin.module"() ({
// CHECK-NEXT:   "func.func"() <{function_type = (tensor<1x4x4x2xf32>, tensor<1x8xf32>) -> (tensor<1x2x2x4xf32>, tensor<1x8xf64>, tensor<1x3x!qt.fixed<100,50,rnd_conv,sat>>), sym_name = "main"}> ({
// CHECK-NEXT:   ^bb0(%img: tensor<1x4x4x2xf32>, %vec: tensor<1x8xf32>):
// CHECK-NEXT:     %x = "qt.from_float"(%img) : (tensor<1x4x4x2xf32>) -> tensor<1x4x4x2x!qt.fixed<8,3,rnd_conv,sat>>
// CHECK-NEXT:     %w = "qt.const"() <{value = dense<"0x03"> : tensor<3x3x1x4x!qt.fixed<4,1>>}> : () -> tensor<3x3x1x4x!qt.fixed<4,1>>
// CHECK-NEXT:     %b = "qt.const"() <{value = dense<"0x01FF0200"> : tensor<4x!qt.fixed<8,4>>}> : () -> tensor<4x!qt.fixed<8,4>>
// CHECK-NEXT:     %c = "qt.conv"(%x, %w, %b) <{dilations = [1 : i64, 1 : i64], groups = 2 : i64, pads = [1 : i64, 1 : i64, 1 : i64, 1 : i64], strides = [1 : i64, 1 : i64]}> : (tensor<1x4x4x2x!qt.fixed<8,3,rnd_conv,sat>>, tensor<3x3x1x4x!qt.fixed<4,1>>, tensor<4x!qt.fixed<8,4>>) -> tensor<1x4x4x4x!qt.fixed<12,6,rnd,sat>>
// CHECK-NEXT:     %r = "qt.relu"(%c) : (tensor<1x4x4x4x!qt.fixed<12,6,rnd,sat>>) -> tensor<1x4x4x4x!qt.ufixed<8,4,trn,sat>>
// CHECK-NEXT:     %al = "qt.const"() <{value = dense<"0x01"> : tensor<4x!qt.fixed<4,0>>}> : () -> tensor<4x!qt.fixed<4,0>>
// CHECK-NEXT:     %lr = "qt.leaky_relu"(%c, %al) : (tensor<1x4x4x4x!qt.fixed<12,6,rnd,sat>>, tensor<4x!qt.fixed<4,0>>) -> tensor<1x4x4x4x!qt.fixed<12,6>>
// CHECK-NEXT:     %lo = "qt.const"() <{value = dense<"0xF0"> : tensor<!qt.fixed<8,4>>}> : () -> tensor<!qt.fixed<8,4>>
// CHECK-NEXT:     %hi = "qt.const"() <{value = dense<"0x30"> : tensor<!qt.int<8>>}> : () -> tensor<!qt.int<8>>
// CHECK-NEXT:     %cl = "qt.clip"(%lr, %lo, %hi) : (tensor<1x4x4x4x!qt.fixed<12,6>>, tensor<!qt.fixed<8,4>>, tensor<!qt.int<8>>) -> tensor<1x4x4x4x!qt.fixed<12,6>>
// CHECK-NEXT:     %s = "qt.add"(%cl, %r) : (tensor<1x4x4x4x!qt.fixed<12,6>>, tensor<1x4x4x4x!qt.ufixed<8,4,trn,sat>>) -> tensor<1x4x4x4x!qt.fixed<14,7>>
// CHECK-NEXT:     %d = "qt.sub"(%s, %b) : (tensor<1x4x4x4x!qt.fixed<14,7>>, tensor<4x!qt.fixed<8,4>>) -> tensor<1x4x4x4x!qt.fixed<14,7>>
// CHECK-NEXT:     %m = "qt.mul"(%d, %al) : (tensor<1x4x4x4x!qt.fixed<14,7>>, tensor<4x!qt.fixed<4,0>>) -> tensor<1x4x4x4x!qt.fixed<16,7,rnd_conv,sat_sym>>
// CHECK-NEXT:     %mp = "qt.max_pool"(%m) <{dilations = [1 : i64, 1 : i64], kernel = [2 : i64, 2 : i64], pads = [0 : i64, 0 : i64, 1 : i64, 1 : i64], strides = [2 : i64, 2 : i64]}> : (tensor<1x4x4x4x!qt.fixed<16,7,rnd_conv,sat_sym>>) -> tensor<1x2x2x4x!qt.fixed<16,7>>
// CHECK-NEXT:     %ap = "qt.avg_pool"(%mp) <{count_include_pad = 0 : i64, dilations = [1 : i64, 1 : i64], kernel = [3 : i64, 3 : i64], pads = [1 : i64, 1 : i64, 1 : i64, 1 : i64], strides = [1 : i64, 1 : i64]}> : (tensor<1x2x2x4x!qt.fixed<16,7>>) -> tensor<1x2x2x4x!qt.fixed<16,7,rnd_inf,sat_zero>>
// CHECK-NEXT:     %cs = "qt.cast"(%ap) : (tensor<1x2x2x4x!qt.fixed<16,7,rnd_inf,sat_zero>>) -> tensor<1x2x2x4x!qt.int<8>>
// CHECK-NEXT:     %tr = "qt.transpose"(%cs) <{perm = [0 : i64, 3 : i64, 1 : i64, 2 : i64]}> : (tensor<1x2x2x4x!qt.int<8>>) -> tensor<1x4x2x2x!qt.int<8>>
// CHECK-NEXT:     %rs = "qt.reshape"(%tr) : (tensor<1x4x2x2x!qt.int<8>>) -> tensor<1x16x!qt.int<8>>
// CHECK-NEXT:     %p0, %p1 = "qt.split"(%rs) <{axis = 1 : i64}> : (tensor<1x16x!qt.int<8>>) -> (tensor<1x10x!qt.int<8>>, tensor<1x6x!qt.int<8>>)
// CHECK-NEXT:     %cc = "qt.concat"(%p1, %p0) <{axis = 1 : i64}> : (tensor<1x6x!qt.int<8>>, tensor<1x10x!qt.int<8>>) -> tensor<1x16x!qt.int<8>>
// CHECK-NEXT:     %sl = "qt.slice"(%cc) <{ends = [1 : i64, -1 : i64], starts = [0 : i64, 15 : i64], steps = [1 : i64, -2 : i64]}> : (tensor<1x16x!qt.int<8>>) -> tensor<1x8x!qt.int<8>>
// CHECK-NEXT:     %pv = "qt.const"() <{value = dense<"0x7F"> : tensor<!qt.int<8>>}> : () -> tensor<!qt.int<8>>
// CHECK-NEXT:     %pd = "qt.pad"(%sl, %pv) <{pads = [0 : i64, 1 : i64, 0 : i64, 1 : i64]}> : (tensor<1x8x!qt.int<8>>, tensor<!qt.int<8>>) -> tensor<1x10x!qt.int<8>>
// CHECK-NEXT:     %dw = "qt.const"() <{value = dense<"0x05"> : tensor<10x3x!qt.fixed<6,2>>}> : () -> tensor<10x3x!qt.fixed<6,2>>
// CHECK-NEXT:     %dn = "qt.dense"(%pd, %dw) : (tensor<1x10x!qt.int<8>>, tensor<10x3x!qt.fixed<6,2>>) -> tensor<1x3x!qt.fixed<10,4,rnd_conv,sat>>
// CHECK-NEXT:     %lu = "qt.lut"(%dn) <{function = "sigmoid", shift = 4 : i64, start = -512 : i64, table = dense<"0x00010203"> : tensor<4x!qt.ufixed<8,0>>}> : (tensor<1x3x!qt.fixed<10,4,rnd_conv,sat>>) -> tensor<1x3x!qt.ufixed<8,0>>
// CHECK-NEXT:     %sm = "qt.softmax"(%dn) <{axis = 1 : i64, exp_shift = 2 : i64, exp_start = -64 : i64, exp_table = dense<"0x01020408"> : tensor<4x!qt.ufixed<8,1>>, inv_shift = 3 : i64, inv_start = 0 : i64, inv_table = dense<"0x8040"> : tensor<2x!qt.ufixed<8,1>>}> : (tensor<1x3x!qt.fixed<10,4,rnd_conv,sat>>) -> tensor<1x3x!qt.ufixed<8,0,rnd,sat>>
// CHECK-NEXT:     %v = "qt.from_float"(%vec) : (tensor<1x8xf32>) -> tensor<1x8x!qt.bipolar>
// CHECK-NEXT:     %bw = "qt.const"() <{value = dense<"0x01"> : tensor<8x8x!qt.bipolar>}> : () -> tensor<8x8x!qt.bipolar>
// CHECK-NEXT:     %bd = "qt.bipolar_dense"(%v, %bw) : (tensor<1x8x!qt.bipolar>, tensor<8x8x!qt.bipolar>) -> tensor<1x8x!qt.int<5>>
// CHECK-NEXT:     %th = "qt.const"() <{value = dense<"0xFE0002"> : tensor<1x3x!qt.int<5>>}> : () -> tensor<1x3x!qt.int<5>>
// CHECK-NEXT:     %tq = "qt.threshold"(%bd, %th) <{axis = 1 : i64}> : (tensor<1x8x!qt.int<5>>, tensor<1x3x!qt.int<5>>) -> tensor<1x8x!qt.uint<2>>
// CHECK-NEXT:     %wc = "qt.const"() <{value = dense<"0x01000000000000000000000000000000000000000000000000F839300000000000000000000000"> : tensor<3x!qt.fixed<100,50,rnd_conv,sat>>}> : () -> tensor<3x!qt.fixed<100,50,rnd_conv,sat>>
// CHECK-NEXT:     %wa = "qt.add"(%dn, %wc) : (tensor<1x3x!qt.fixed<10,4,rnd_conv,sat>>, tensor<3x!qt.fixed<100,50,rnd_conv,sat>>) -> tensor<1x3x!qt.fixed<100,50,rnd_conv,sat>>
// CHECK-NEXT:     %o1 = "qt.to_float"(%ap) : (tensor<1x2x2x4x!qt.fixed<16,7,rnd_inf,sat_zero>>) -> tensor<1x2x2x4xf32>
// CHECK-NEXT:     %o2 = "qt.to_float"(%tq) : (tensor<1x8x!qt.uint<2>>) -> tensor<1x8xf64>
// CHECK-NEXT:     "func.return"(%o1, %o2, %wa) : (tensor<1x2x2x4xf32>, tensor<1x8xf64>, tensor<1x3x!qt.fixed<100,50,rnd_conv,sat>>) -> ()
// CHECK-NEXT:   }) : () -> ()
// CHECK-NEXT: }) : () -> ()
