// RUN: not fmlc-opt %s 2>&1 | filecheck %s
// RUN: fmlc-opt %s --allow-unregistered-dialect | filecheck %s --check-prefix=ALLOWED

"mystery.op"() : () -> ()

// CHECK:   unknown_op.mlir:4:1: error: unknown operation 'mystery.op' (dialect 'mystery' is not registered)
// ALLOWED: "mystery.op"() : () -> ()
