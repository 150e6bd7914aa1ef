// RUN: not fmlc-opt %s 2>&1 | filecheck %s

"func.func"() <{function_type = (i32) -> f32, sym_name = "f"}> ({
^bb0(%a: i32):
  "func.return"(%a) : (i32) -> ()
}) : () -> ()

// CHECK: func_return.mlir:5:3: error: 'func.return' op returns (i32) but the function declares (f32)
