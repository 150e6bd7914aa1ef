// A hand-written df module for tests/passes/test_report.py:
// fc (latency 5) -> fork -> act (latency 1) -> out0; fork -> head (latency 7) -> out1.
"builtin.module"() ({
  "func.func"() <{function_type = (tensor<1x4xf32>) -> (tensor<1x3xf32>, tensor<1x2xf32>), sym_name = "main"}> ({
  ^bb0(%x: tensor<1x4xf32>):
    %0 = "df.from_float"(%x) : (tensor<1x4xf32>) -> !df.stream<1x4x!qt.fixed<12,4>, lanes = 4, depth = 1>
    %1 = "df.process"(%0) <{ii = 2 : i64, latency = 5 : i64, layer = "fc", reuse = 2 : i64, storage = "registers", strategy = "latency"}> ({
    ^bb0(%a: tensor<1x4x!qt.fixed<12,4>>):
      %w = "qt.const"() <{value = dense<[[0, 1, 3], [2, -4, 5], [0, 0, 7], [-3, 0, 0]]> : tensor<4x3x!qt.fixed<12,2>>}> : () -> tensor<4x3x!qt.fixed<12,2>>
      %b = "qt.const"() <{value = dense<[0, 5, 1]> : tensor<3x!qt.fixed<16,8>>}> : () -> tensor<3x!qt.fixed<16,8>>
      %d = "qt.dense"(%a, %w, %b) : (tensor<1x4x!qt.fixed<12,4>>, tensor<4x3x!qt.fixed<12,2>>, tensor<3x!qt.fixed<16,8>>) -> tensor<1x3x!qt.fixed<30,10>>
      "df.yield"(%d) : (tensor<1x3x!qt.fixed<30,10>>) -> ()
    }) : (!df.stream<1x4x!qt.fixed<12,4>, lanes = 4, depth = 1>) -> !df.stream<1x3x!qt.fixed<30,10>, lanes = 3, depth = 1>
    %2:2 = "df.fork"(%1) : (!df.stream<1x3x!qt.fixed<30,10>, lanes = 3, depth = 1>) -> (!df.stream<1x3x!qt.fixed<30,10>, lanes = 3, depth = 1>, !df.stream<1x3x!qt.fixed<30,10>, lanes = 3, depth = 1>)
    %3 = "df.process"(%2#0) <{ii = 1 : i64, latency = 1 : i64, layer = "act", reuse = 1 : i64, storage = "none", strategy = "latency"}> ({
    ^bb0(%a: tensor<1x3x!qt.fixed<30,10>>):
      %k = "qt.const"() <{value = dense<[[3, 4, 0]]> : tensor<1x3x!qt.fixed<12,4>>}> : () -> tensor<1x3x!qt.fixed<12,4>>
      %m = "qt.mul"(%a, %k) : (tensor<1x3x!qt.fixed<30,10>>, tensor<1x3x!qt.fixed<12,4>>) -> tensor<1x3x!qt.fixed<42,14>>
      %r = "qt.relu"(%m) : (tensor<1x3x!qt.fixed<42,14>>) -> tensor<1x3x!qt.ufixed<8,4>>
      "df.yield"(%r) : (tensor<1x3x!qt.ufixed<8,4>>) -> ()
    }) : (!df.stream<1x3x!qt.fixed<30,10>, lanes = 3, depth = 1>) -> !df.stream<1x3x!qt.ufixed<8,4>, lanes = 3, depth = 1>
    %4 = "df.process"(%2#1) <{ii = 1 : i64, latency = 7 : i64, layer = "head", reuse = 1 : i64, storage = "registers", strategy = "latency"}> ({
    ^bb0(%a: tensor<1x3x!qt.fixed<30,10>>):
      %w = "qt.const"() <{value = dense<[[3, 0], [5, 1], [-6, 7]]> : tensor<3x2x!qt.fixed<8,2>>}> : () -> tensor<3x2x!qt.fixed<8,2>>
      %d = "qt.dense"(%a, %w) : (tensor<1x3x!qt.fixed<30,10>>, tensor<3x2x!qt.fixed<8,2>>) -> tensor<1x2x!qt.fixed<24,8>>
      "df.yield"(%d) : (tensor<1x2x!qt.fixed<24,8>>) -> ()
    }) : (!df.stream<1x3x!qt.fixed<30,10>, lanes = 3, depth = 1>) -> !df.stream<1x2x!qt.fixed<24,8>, lanes = 2, depth = 1>
    %5 = "df.to_float"(%3) : (!df.stream<1x3x!qt.ufixed<8,4>, lanes = 3, depth = 1>) -> tensor<1x3xf32>
    %6 = "df.to_float"(%4) : (!df.stream<1x2x!qt.fixed<24,8>, lanes = 2, depth = 1>) -> tensor<1x2xf32>
    "func.return"(%5, %6) : (tensor<1x3xf32>, tensor<1x2xf32>) -> ()
  }) : () -> ()
}) : () -> ()
