"func.func"() <{function_type = (!toy.vec<4, f32>) -> !toy.vec<4, f32>, sym_name = "main"}> ({
^bb0(%x: !toy.vec<4, f32>):
  %a = "toy.scale"(%x) <{factor = 2}> : (!toy.vec<4, f32>) -> !toy.vec<4, f32> loc("Mul_0")
  %b = "toy.scale"(%a) <{factor = 3}> : (!toy.vec<4, f32>) -> !toy.vec<4, f32> loc("Mul_1")
  %c = "toy.scale"(%x) <{factor = 1}> : (!toy.vec<4, f32>) -> !toy.vec<4, f32> loc("Identity_2")
  %d = "toy.add"(%b, %c) : (!toy.vec<4, f32>, !toy.vec<4, f32>) -> !toy.vec<4, f32> loc("Add_3")
  "func.return"(%d) : (!toy.vec<4, f32>) -> ()
}) : () -> ()
