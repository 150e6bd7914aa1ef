// RUN: not fmlc-opt %s -p "cse,no-such-pass" 2>&1 | filecheck %s
// RUN: not fmlc-opt %s -p "canonicalize{max-iterations=many}" 2>&1 | filecheck %s --check-prefix=VALUE
// RUN: not fmlc-opt %s --load %testdialect -p canonicalize 2>&1 | filecheck %s --check-prefix=LOOP

"test.flip"() <{state = true}> : () -> ()

// CHECK:      <pipeline>:1:5: error: unknown pass 'no-such-pass'; registered passes: canonicalize, cse
// CHECK-NEXT: cse,no-such-pass
// CHECK-NEXT: {{^    \^$}}

// VALUE: error: option 'max-iterations' of pass 'canonicalize': 'many' is not an integer

// LOOP: error: pattern rewriting did not converge after 10 iterations; patterns still firing: FlipState
