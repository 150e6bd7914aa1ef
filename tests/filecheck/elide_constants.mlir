// RUN: fmlc-opt %s --load %testdialect --elide-constants=4 | filecheck %s
// RUN: fmlc-opt %s --load %testdialect --elide-constants | filecheck %s --check-prefix=DEFAULT
// RUN: fmlc-opt %s --load %testdialect | filecheck %s --check-prefix=FULL

%small = "test.const"() <{value = dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32>}> : () -> tensor<4xf32>
%big = "test.const"() <{value = dense<[1, 2, 3, 4, 5]> : tensor<5xi8>}> : () -> tensor<5xi8>
%splat = "test.const"() <{value = dense<7> : tensor<17xi16>}> : () -> tensor<17xi16>

// CHECK: %small = "test.const"() <{value = dense<"0x0000803F000000400000404000008040"> : tensor<4xf32>}>
// CHECK: %big = "test.const"() <{value = dense_resource<__elided__> : tensor<5xi8>}>
// CHECK: %splat = "test.const"() <{value = dense_resource<__elided__> : tensor<17xi16>}>

// DEFAULT: %big = "test.const"() <{value = dense<"0x0102030405"> : tensor<5xi8>}>
// DEFAULT: %splat = "test.const"() <{value = dense_resource<__elided__> : tensor<17xi16>}>

// FULL: %splat = "test.const"() <{value = dense<"0x0700"> : tensor<17xi16>}>
