// RUN: fmlc-opt %s --load %testdialect -p canonicalize,cse --print-ir-after-all 2>&1 | filecheck %s --check-prefix=ALL
// RUN: fmlc-opt %s --load %testdialect -p cse,canonicalize,cse --print-ir-after-change 2>&1 | filecheck %s --check-prefix=CHANGE
// RUN: fmlc-opt %s --load %testdialect -p canonicalize,cse --print-ir-before=cse --print-ir-after=canonicalize 2>&1 | filecheck %s --check-prefix=NAMED

%x = "test.effect"() : () -> i32
%dead = "test.pure"(%x) : (i32) -> i32
"test.effect"(%x) : (i32) -> ()

// ALL:      // -----// IR Dump After canonicalize (builtin.module) //----- //
// ALL-NEXT: "builtin.module"() ({
// ALL-NEXT:   %x = "test.effect"() : () -> i32
// ALL-NEXT:   "test.effect"(%x) : (i32) -> ()
// ALL:      // -----// IR Dump After cse (builtin.module) //----- //
// ALL:      "builtin.module"() ({

// Only canonicalize changes the IR.
// CHANGE-NOT: IR Dump After cse
// CHANGE:     // -----// IR Dump After canonicalize (builtin.module) //----- //
// CHANGE-NOT: IR Dump

// NAMED:     IR Dump After canonicalize
// NAMED-NOT: test.pure
// NAMED:     IR Dump Before cse
// NAMED-NOT: IR Dump
