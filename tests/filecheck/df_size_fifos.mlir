// RUN: fmlc-opt %s -p df-size-fifos | filecheck %s
// RUN: fmlc-opt %s -p "df-size-fifos{max-depth=3}" | filecheck %s --check-prefix=CAP

// A fork whose branches re-join at a per-beat add; one branch goes through a process
// that reads every beat before it writes (a transpose).  Every stream starts deep
// enough for the whole tensor (16 beats).  The simulation on zeros, one beat per
// process and turn, finds that only the direct branch buffers: it holds the 16 beats
// the transpose reads before its first write; every other stream needs one beat.

"func.func"() <{function_type = (tensor<1x4x4x2xf32>) -> tensor<1x4x4x2xf32>, sym_name = "main"}> ({
^bb0(%x: tensor<1x4x4x2xf32>):
  %s = "df.from_float"(%x) : (tensor<1x4x4x2xf32>) -> !df.stream<1x4x4x2x!qt.fixed<8,3>, lanes = 2, depth = 16>
  %f:2 = "df.fork"(%s) : (!df.stream<1x4x4x2x!qt.fixed<8,3>, lanes = 2, depth = 16>) -> (!df.stream<1x4x4x2x!qt.fixed<8,3>, lanes = 2, depth = 16>, !df.stream<1x4x4x2x!qt.fixed<8,3>, lanes = 2, depth = 16>)
  %t = "df.process"(%f#0) <{layer = "transpose"}> ({
  ^bb0(%a: tensor<1x4x4x2x!qt.fixed<8,3>>):
    %r = "qt.transpose"(%a) <{perm = [0 : i64, 2 : i64, 1 : i64, 3 : i64]}> : (tensor<1x4x4x2x!qt.fixed<8,3>>) -> tensor<1x4x4x2x!qt.fixed<8,3>>
    "df.yield"(%r) : (tensor<1x4x4x2x!qt.fixed<8,3>>) -> ()
  }) : (!df.stream<1x4x4x2x!qt.fixed<8,3>, lanes = 2, depth = 16>) -> !df.stream<1x4x4x2x!qt.fixed<8,3>, lanes = 2, depth = 16>
  %y = "df.process"(%t, %f#1) <{layer = "add"}> ({
  ^bb0(%a: tensor<1x4x4x2x!qt.fixed<8,3>>, %b: tensor<1x4x4x2x!qt.fixed<8,3>>):
    %r = "qt.add"(%a, %b) : (tensor<1x4x4x2x!qt.fixed<8,3>>, tensor<1x4x4x2x!qt.fixed<8,3>>) -> tensor<1x4x4x2x!qt.fixed<9,4>>
    "df.yield"(%r) : (tensor<1x4x4x2x!qt.fixed<9,4>>) -> ()
  }) : (!df.stream<1x4x4x2x!qt.fixed<8,3>, lanes = 2, depth = 16>, !df.stream<1x4x4x2x!qt.fixed<8,3>, lanes = 2, depth = 16>) -> !df.stream<1x4x4x2x!qt.fixed<9,4>, lanes = 2, depth = 16>
  %o = "df.to_float"(%y) : (!df.stream<1x4x4x2x!qt.fixed<9,4>, lanes = 2, depth = 16>) -> tensor<1x4x4x2xf32>
  "func.return"(%o) : (tensor<1x4x4x2xf32>) -> ()
}) : () -> ()

// CHECK:      %s = "df.from_float"(%x) : {{.*}} -> !df.stream<1x4x4x2x!qt.fixed<8,3>, lanes = 2, depth = 1>
// CHECK-NEXT: {{.*}} = "df.fork"(%s) : {{.*}} -> (!df.stream<1x4x4x2x!qt.fixed<8,3>, lanes = 2, depth = 1>, !df.stream<1x4x4x2x!qt.fixed<8,3>, lanes = 2, depth = 16>)
// CHECK:      }) : (!df.stream<{{.*}}, depth = 1>) -> !df.stream<1x4x4x2x!qt.fixed<8,3>, lanes = 2, depth = 1>
// CHECK:      }) : (!df.stream<{{.*}}, depth = 1>, !df.stream<{{.*}}, depth = 16>) -> !df.stream<1x4x4x2x!qt.fixed<9,4>, lanes = 2, depth = 1>
// CHECK-NEXT: %o = "df.to_float"(%y) : (!df.stream<1x4x4x2x!qt.fixed<9,4>, lanes = 2, depth = 1>) -> tensor<1x4x4x2xf32>

// With a cap the direct branch gets 3 beats (too few: running it would deadlock).
// CAP:        "df.fork"
// CAP-SAME:   -> (!df.stream<1x4x4x2x!qt.fixed<8,3>, lanes = 2, depth = 1>, !df.stream<1x4x4x2x!qt.fixed<8,3>, lanes = 2, depth = 3>)
