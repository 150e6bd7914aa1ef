// qt.gather / qt.scatter on constant indices [-1, 2, 2, 7, 0, -5] (7 is out of range: ignored / zero) (tests/passes/test_gnn.py): N = 5 nodes, E = 6 updates, F = 3.
"builtin.module"() ({
  "func.func"() <{function_type = (tensor<5x3xf32>, tensor<6x3xf32>) -> (tensor<6x3xf32>, tensor<5x3xf32>, tensor<5x3xf32>, tensor<5x3xf32>, tensor<5x3xf32>), sym_name = "main"}> ({
  ^bb0(%x: tensor<5x3xf32>, %msg: tensor<6x3xf32>):
    %idx = "onnx.Constant"() <{value = dense<"0xFFFFFFFFFFFFFFFF0200000000000000020000000000000007000000000000000000000000000000FBFFFFFFFFFFFFFF"> : tensor<6xi64>}> : () -> tensor<6xi64>
    %zeros = "onnx.Constant"() <{value = dense<"0x00000000"> : tensor<5x3xf32>}> : () -> tensor<5x3xf32>
    %g = "qt.gather"(%x, %idx) <{axis = 0 : i64}> : (tensor<5x3xf32>, tensor<6xi64>) -> tensor<6x3xf32>
    %sa = "qt.scatter"(%zeros, %idx, %msg) <{axis = 0 : i64, reduce = "add"}> : (tensor<5x3xf32>, tensor<6xi64>, tensor<6x3xf32>) -> tensor<5x3xf32>
    %sm = "qt.scatter"(%x, %idx, %msg) <{axis = 0 : i64, reduce = "max"}> : (tensor<5x3xf32>, tensor<6xi64>, tensor<6x3xf32>) -> tensor<5x3xf32>
    %sn = "qt.scatter"(%x, %idx, %msg) <{axis = 0 : i64, reduce = "none"}> : (tensor<5x3xf32>, tensor<6xi64>, tensor<6x3xf32>) -> tensor<5x3xf32>
    %sx = "qt.scatter"(%x, %idx, %msg) <{axis = 0 : i64, reduce = "min", include_self = false}> : (tensor<5x3xf32>, tensor<6xi64>, tensor<6x3xf32>) -> tensor<5x3xf32>
    "func.return"(%g, %sa, %sm, %sn, %sx) : (tensor<6x3xf32>, tensor<5x3xf32>, tensor<5x3xf32>, tensor<5x3xf32>, tensor<5x3xf32>) -> ()
  }) {fmlc.inputs = ["x", "msg"], fmlc.outputs = ["g", "sa", "sm", "sn", "sx"]} : () -> ()
}) : () -> ()
