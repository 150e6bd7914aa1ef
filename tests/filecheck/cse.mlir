// RUN: fmlc-opt %s --load %testdialect -p cse | filecheck %s
// RUN: fmlc-opt %s --load %testdialect -p "builtin.module(func.func(cse))" | filecheck %s --check-prefix=NESTED

"func.func"() <{function_type = (i32) -> (), sym_name = "f"}> ({
^bb0(%x: i32):
  %a = "test.pure"(%x) : (i32) -> i32
  %b = "test.pure"(%x) : (i32) -> i32
  %attr = "test.pure"(%x) {k = 1 : i64} : (i32) -> i32
  %prop = "test.pure"(%x) <{value = 1 : i64}> : (i32) -> i32
  %type = "test.pure"(%x) : (i32) -> f32
  %e1 = "test.effect"(%x) : (i32) -> i32
  %e2 = "test.effect"(%x) : (i32) -> i32
  "test.region"() ({
    %inner = "test.pure"(%x) : (i32) -> i32
    "test.effect"(%inner) : (i32) -> ()
  }) : () -> ()
  "test.effect"(%a, %b, %attr, %prop, %type, %e1, %e2) : (i32, i32, i32, i32, f32, i32, i32) -> ()
  "func.return"() : () -> ()
}) : () -> ()
"test.isolated"() ({
  %c = "test.pure"() : () -> i32
  %d = "test.pure"() : () -> i32
  "test.effect"(%c, %d) : (i32, i32) -> ()
}) : () -> ()

// Duplicates of a pure op go, also inside a nested (non-isolated) region; ops with other
// attributes, properties or result types, and ops with effects, stay.
// CHECK:      ^bb0(%x: i32):
// CHECK-NEXT:   %a = "test.pure"(%x) : (i32) -> i32
// CHECK-NEXT:   %attr = "test.pure"(%x) {k = 1 : i64} : (i32) -> i32
// CHECK-NEXT:   %prop = "test.pure"(%x) <{value = 1 : i64}> : (i32) -> i32
// CHECK-NEXT:   %type = "test.pure"(%x) : (i32) -> f32
// CHECK-NEXT:   %e1 = "test.effect"(%x) : (i32) -> i32
// CHECK-NEXT:   %e2 = "test.effect"(%x) : (i32) -> i32
// CHECK-NEXT:   "test.region"() ({
// CHECK-NEXT:     "test.effect"(%a) : (i32) -> ()
// CHECK-NEXT:   }) : () -> ()
// CHECK-NEXT:   "test.effect"(%a, %a, %attr, %prop, %type, %e1, %e2)
// CHECK:      "test.isolated"() ({
// CHECK-NEXT:   %c = "test.pure"() : () -> i32
// CHECK-NEXT:   "test.effect"(%c, %c) : (i32, i32) -> ()

// Nested in func.func, cse leaves the isolated op outside any function alone.
// NESTED:     "test.effect"(%a, %a, %attr
// NESTED:     %c = "test.pure"() : () -> i32
// NESTED-NEXT: %d = "test.pure"() : () -> i32
// NESTED-NEXT: "test.effect"(%c, %d) : (i32, i32) -> ()
