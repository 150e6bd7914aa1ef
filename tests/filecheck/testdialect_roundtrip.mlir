// RUN: fmlc-opt %s --load %testdialect | filecheck %s
// RUN: fmlc-opt %s --allow-unregistered-dialect | filecheck %s
// RUN: fmlc-opt %s --load %testdialect | fmlc-opt - --allow-unregistered-dialect | filecheck %s

// The test dialect prints the same whether it is registered (--load) or not.

%a, %b = "test.effect"() : () -> (i32, !test.vec<4, (f32) -> index>) loc(fused["Gemm_0", "x.mlir":3:1])
%0:2 = "test.groups"(%a, %a, %a) <{count = 2 : i64, operandSegmentSizes = [1 : i32, 1 : i32, 1 : i32]}> : (i32, i32, i32) -> (i32, f32)
"test.region"(%0#1) ({
^bb0(%x: f32):
  %c = "test.const"() <{value = dense<"0x0000803F00000040"> : tensor<2xf32>}> : () -> tensor<2xf32>
  "test.yield"(%c, %x, %b) : (tensor<2xf32>, f32, !test.vec<4, (f32) -> index>) -> ()
^bb1:
}, {}) {nan = 0x7FC00000 : f32, neg = -0.0 : f64, s = "\E2\88\91", sym = @"odd name"} : (f32) -> ()
"test.isolated"() ({
  "test.flip"() <{state = false}> : () -> () loc("inner"("f.mlir":1:1))
}) : () -> ()

// CHECK:      "builtin.module"() ({
// CHECK-NEXT:   %a, %b = "test.effect"() : () -> (i32, !test.vec<4, (f32) -> index>) loc(fused["Gemm_0", "x.mlir":3:1])
// CHECK-NEXT:   %0, %1 = "test.groups"(%a, %a, %a) <{count = 2 : i64, operandSegmentSizes = [1 : i32, 1 : i32, 1 : i32]}> : (i32, i32, i32) -> (i32, f32)
// CHECK-NEXT:   "test.region"(%1) ({
// CHECK-NEXT:   ^bb0(%x: f32):
// CHECK-NEXT:     %c = "test.const"() <{value = dense<"0x0000803F00000040"> : tensor<2xf32>}> : () -> tensor<2xf32>
// CHECK-NEXT:     "test.yield"(%c, %x, %b) : (tensor<2xf32>, f32, !test.vec<4, (f32) -> index>) -> ()
// CHECK-NEXT:   ^bb1:
// CHECK-NEXT:   }, {}) {nan = 0x7FC00000 : f32, neg = -0.0 : f64, s = "\E2\88\91", sym = @"odd name"} : (f32) -> ()
// CHECK-NEXT:   "test.isolated"() ({
// CHECK-NEXT:     "test.flip"() <{state = false}> : () -> () loc("inner"("f.mlir":1:1))
// CHECK-NEXT:   }) : () -> ()
// CHECK-NEXT: }) : () -> ()
