// RUN: fmlc-opt %s --load %testdialect -p canonicalize | filecheck %s

// Dead pure ops are erased (a whole chain of them), -(-x) folds to x, ops with effects stay.
%x = "test.effect"() : () -> i32
%dead1 = "test.pure"(%x) : (i32) -> i32
%dead2 = "test.pure"(%dead1, %dead1) : (i32, i32) -> f32
%n1 = "test.neg"(%x) : (i32) -> i32
%n2 = "test.neg"(%n1) : (i32) -> i32
%n3 = "test.neg"(%n2) : (i32) -> i32
%unused_effect = "test.effect"(%x) : (i32) -> i32
"test.effect"(%n3) : (i32) -> ()

// CHECK:      "builtin.module"() ({
// CHECK-NEXT:   %x = "test.effect"() : () -> i32
// CHECK-NEXT:   [[NEG:%n[0-9]]] = "test.neg"(%x) : (i32) -> i32
// CHECK-NEXT:   %unused_effect = "test.effect"(%x) : (i32) -> i32
// CHECK-NEXT:   "test.effect"([[NEG]]) : (i32) -> ()
// CHECK-NEXT: }) : () -> ()
// CHECK-NOT:  test.pure
