// RUN: not fmlc-opt %s 2>&1 | filecheck %s

"func.func"() <{function_type = () -> i32, sym_name = "f"}> ({
  "func.return"(%nope) : (i32) -> ()
}) : () -> ()

// CHECK:      undefined_value.mlir:4:17: error: use of undefined value '%nope'
// CHECK-NEXT:   "func.return"(%nope) : (i32) -> ()
