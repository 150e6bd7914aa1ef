// RUN: fmlc-opt %s | filecheck %s
// RUN: fmlc-opt %s | fmlc-opt - | filecheck %s
// RUN: fmlc-opt %s --no-locations | filecheck %s --check-prefix=NOLOC

// The builtin and func dialects print back as they were read.

"builtin.module"() <{sym_name = "m"}> ({
  "func.func"() <{function_type = (i32, tensor<?x4xf32>) -> (tensor<?x4xf32>, i32), sym_name = "swap"}> ({
  ^bb0(%n: i32, %t: tensor<?x4xf32>):
    "func.return"(%t, %n) : (tensor<?x4xf32>, i32) -> () loc("ret")
  }) {doc = "swaps\n\"two\" values", unit_flag} : () -> () loc("model.onnx":1:2)
  "func.func"() <{function_type = () -> (), sym_name = "empty"}> ({
    "func.return"() : () -> ()
  }) : () -> ()
}) : () -> ()

// CHECK:      "builtin.module"() <{sym_name = "m"}> ({
// CHECK-NEXT:   "func.func"() <{function_type = (i32, tensor<?x4xf32>) -> (tensor<?x4xf32>, i32), sym_name = "swap"}> ({
// CHECK-NEXT:   ^bb0(%n: i32, %t: tensor<?x4xf32>):
// CHECK-NEXT:     "func.return"(%t, %n) : (tensor<?x4xf32>, i32) -> () loc("ret")
// CHECK-NEXT:   }) {doc = "swaps\0A\"two\" values", unit_flag} : () -> () loc("model.onnx":1:2)
// CHECK-NEXT:   "func.func"() <{function_type = () -> (), sym_name = "empty"}> ({
// CHECK-NEXT:     "func.return"() : () -> ()
// CHECK-NEXT:   }) : () -> ()
// CHECK-NEXT: }) : () -> ()

// NOLOC-NOT: loc(
