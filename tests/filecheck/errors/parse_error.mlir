// RUN: not fmlc-opt %s 2>&1 | filecheck %s

"func.func"() <{function_type = () -> (), sym_name = "f"}> ({
  "func.return"( : () -> ()
}) : () -> ()

// CHECK:      parse_error.mlir:4:18: error: unexpected ':', expected ')', value_id
// CHECK-NEXT:   "func.return"( : () -> ()
// CHECK-NEXT: {{^                 \^$}}
// CHECK-NOT:  Traceback
