"builtin.module"() ({
  "func.func"() <{function_type = (tensor<1x4x4xf32>) -> tensor<1x4x4xf32>, sym_name = "main"}> ({
  ^bb0(%x: tensor<1x4x4xf32>):
    %0 = "qt.from_float"(%x) : (tensor<1x4x4xf32>) -> tensor<1x4x4x!qt.fixed<8,3,rnd_conv,sat>> loc("x")
    %1 = "mine.square_relu"(%0) : (tensor<1x4x4x!qt.fixed<8,3,rnd_conv,sat>>) -> tensor<1x4x4x!qt.ufixed<10,5,rnd_conv,sat>> loc("sq")
    %2 = "qt.to_float"(%1) : (tensor<1x4x4x!qt.ufixed<10,5,rnd_conv,sat>>) -> tensor<1x4x4xf32> loc("y")
    "func.return"(%2) : (tensor<1x4x4xf32>) -> ()
  }) {fmlc.inputs = ["x"], fmlc.outputs = ["y"]} : () -> ()
}) : () -> ()
