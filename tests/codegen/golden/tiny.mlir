"builtin.module"() ({
  "func.func"() <{function_type = (tensor<1x4xf32>) -> tensor<1x3xf32>, sym_name = "main"}> ({
  ^bb0(%x: tensor<1x4xf32>):
    %0 = "qt.from_float"(%x) : (tensor<1x4xf32>) -> tensor<1x4x!qt.fixed<8,3,rnd_conv,sat>> loc("x.185")
    %w = "qt.const"() <{value = dense<[[4, 0, -3], [8, 1, 0], [0, -16, 5], [2, 2, 2]]> : tensor<4x3x!qt.fixed<6,1>>}> : () -> tensor<4x3x!qt.fixed<6,1>>
    %b = "qt.const"() <{value = dense<[1, -2, 3]> : tensor<3x!qt.fixed<8,2>>}> : () -> tensor<3x!qt.fixed<8,2>>
    %1 = "qt.dense"(%0, %w, %b) : (tensor<1x4x!qt.fixed<8,3,rnd_conv,sat>>, tensor<4x3x!qt.fixed<6,1>>, tensor<3x!qt.fixed<8,2>>) -> tensor<1x3x!qt.fixed<16,6>> loc("/layer/Gemm_output_0")
    %2 = "qt.relu"(%1) : (tensor<1x3x!qt.fixed<16,6>>) -> tensor<1x3x!qt.ufixed<15,5>> loc("relu\"; system(\"x\")")
    %3 = "qt.cast"(%2) : (tensor<1x3x!qt.ufixed<15,5>>) -> tensor<1x3x!qt.ufixed<8,3,rnd_conv,sat>> loc("q")
    %4 = "qt.to_float"(%3) : (tensor<1x3x!qt.ufixed<8,3,rnd_conv,sat>>) -> tensor<1x3xf32> loc("y")
    "func.return"(%4) : (tensor<1x3xf32>) -> ()
  }) {fmlc.inputs = ["x.185"], fmlc.outputs = ["out\nput"]} : () -> ()
}) : () -> ()
