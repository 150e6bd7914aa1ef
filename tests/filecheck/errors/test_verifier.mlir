// RUN: not fmlc-opt %s --load %testdialect 2>&1 | filecheck %s

"test.region"() ({
  "test.yield"() : () -> ()
  "test.effect"() : () -> ()
}) : () -> ()

// CHECK: test_verifier.mlir:4:3: error: 'test.yield' op must be the last operation in its block
