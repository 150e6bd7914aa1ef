"""print -> parse -> print is the identity: a property test over random modules, and
hand-written cases for the forms the printer never produces itself."""

from __future__ import annotations

import math
import textwrap

import irgen
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from fmlc.compiler.attributes import DenseElementsAttr, FloatAttr, FunctionType, IntegerType, f32
from fmlc.compiler.ir import BlockArgument
from fmlc.compiler.location import FusedLoc, NameLoc
from fmlc.compiler.parser import parse_attribute, parse_module, parse_type
from fmlc.compiler.printer import format_attribute, print_op
from fmlc.compiler.verifier import verify


def reprint(text: str, allow_unregistered: bool = True) -> str:
    module = parse_module(text, "<test>", allow_unregistered=allow_unregistered)
    verify(module)
    return print_op(module)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(irgen.modules())
def test_random_modules_round_trip(module):
    verify(module)
    text = print_op(module)
    parsed = parse_module(text, "<random>", allow_unregistered=True)
    verify(parsed)
    assert print_op(parsed) == text
    for old, new in zip(module.walk(), parsed.walk(), strict=True):  # nothing was lost in the text either
        assert (new.name, new.result_types, new.properties, new.attributes, new.location) == \
            (old.name, old.result_types, old.properties, old.attributes, old.location)


CANONICAL = [
    # unregistered ops, value name hints, multiple blocks with arguments, an empty region, an empty block
    """
    "builtin.module"() ({
      %x = "other.op"() {note = "unregistered"} : () -> i32
      %0, %y = "other.pair"(%x) : (i32) -> (f32, tensor<?x4xf32>)
      "other.regions"(%y) ({
      ^bb0:
        %1 = "other.inner"(%x, %0) : (i32, f32) -> index
      ^bb1(%arg0: i32, %z: !test.vec<4, bf16>):
        "other.use"(%arg0, %z, %y) : (i32, !test.vec<4, bf16>, tensor<?x4xf32>) -> ()
      }, {}, {
      ^bb0:
      }) : (tensor<?x4xf32>) -> ()
    }) : () -> ()
    """,
    # registered ops: func, test.groups with segment sizes, locations of every kind
    """
    "builtin.module"() ({
      "func.func"() <{function_type = (i32, f32) -> i32, sym_name = "f"}> ({
      ^bb0(%a: i32, %b: f32):
        %0, %1 = "test.groups"(%a, %a) <{operandSegmentSizes = [1 : i32, 0 : i32, 1 : i32]}> : (i32, i32) -> (i32, f32)
        "test.effect"(%1, %b) : (f32, f32) -> () loc(fused["a"("b.mlir":1:2), unknown])
        "func.return"(%0) : (i32) -> () loc("x.onnx":3:4)
      }) : () -> () loc("Gemm_0")
    }) : () -> ()
    """,
]


@pytest.mark.parametrize("text", CANONICAL)
def test_canonical_text_prints_back_unchanged(text):
    text = textwrap.dedent(text).lstrip()
    assert reprint(text) == text


def test_result_groups_and_top_level_ops():
    text = """
    %0:2 = "other.two"() : () -> (i32, f32)
    "other.use"(%0#1, %0#0, %0) : (f32, i32, i32) -> ()
    """
    module = parse_module(text, allow_unregistered=True)
    two, use = module.ops
    assert [v for v in use.operands] == [two.results[1], two.results[0], two.results[0]]
    printed = print_op(module)
    assert '%0, %1 = "other.two"() : () -> (i32, f32)' in printed
    assert '"other.use"(%1, %0, %0)' in printed
    assert reprint(printed) == printed


def test_name_hints_are_kept_and_made_unique():
    text = """
    %x = "other.a"() : () -> i32
    "other.r"() ({
    ^bb0(%x: i32, %arg7: i32, %5: i32):
      %x_1 = "other.b"(%x) : (i32) -> i32
    }) : () -> ()
    """
    printed = reprint(text)
    assert "%x = " in printed and "^bb0(%x_1: i32, %arg0: i32, %arg1: i32):" in printed
    assert '%x_1_1 = "other.b"(%x_1)' in printed
    assert reprint(printed) == printed


def test_function_typed_values():
    text = '%0 = "other.f"() {t = () -> ((i32) -> i32)} : () -> ((f32) -> (i32, f32))\n'
    module = parse_module(text, allow_unregistered=True)
    assert module.ops[0].result.type == FunctionType([f32], [IntegerType(32), f32])
    assert reprint(print_op(module)) == print_op(module)


@pytest.mark.parametrize(("text", "value"), [
    ("0x7FC00000 : f32", math.nan), ("0xFF800000 : f32", -math.inf), ("-0.0 : f64", -0.0),
    ("1.401298464324817e-45 : f32", 1.401298464324817e-45), ("5e-324 : f64", 5e-324), ("2 : f16", 2.0),
])
def test_float_attributes(text, value):
    attr = parse_attribute(text)
    assert attr == FloatAttr(value, parse_type(text.split(" : ")[1]))
    assert format_attribute(attr) == (text if text != "2 : f16" else "2.0 : f16")


def test_dense_literals_print_as_hex_and_splats_shrink():
    assert format_attribute(parse_attribute("dense<[[1, 2], [3, -4]]> : tensor<2x2xi8>")) == \
        'dense<"0x010203FC"> : tensor<2x2xi8>'
    assert format_attribute(parse_attribute("dense<1.5> : tensor<3xf32>")) == 'dense<"0x0000C03F"> : tensor<3xf32>'
    assert format_attribute(parse_attribute('dense<"0x0000C03F"> : tensor<3xf32>')) == \
        'dense<"0x0000C03F"> : tensor<3xf32>'


@pytest.mark.parametrize("element", ["i1", "si7", "i63", "ui63", "i64", "ui64", "index"])
def test_dense_integers_at_the_ends_of_their_range(element):
    t = parse_type(f"tensor<2x{element}>")
    lo, hi = irgen.int_range(t.element)
    attr = DenseElementsAttr(t, np.array([lo, hi], dtype=object))
    parsed = parse_attribute(format_attribute(attr))
    assert parsed == attr and [int(v) for v in parsed.data] == [lo, hi]


def test_fused_location_of_one_is_kept():
    loc = parse_attribute('loc(fused["a"])')
    assert loc == FusedLoc([NameLoc("a")])
    assert format_attribute(loc) == 'loc(fused["a"])'


def test_block_arguments_belong_to_their_block():
    module = parse_module('"other.r"() ({\n^bb0(%a: i32):\n  "other.u"(%a) : (i32) -> ()\n}) : () -> ()',
                          allow_unregistered=True)
    (arg,) = module.ops[0].regions[0].blocks[0].args
    assert isinstance(arg, BlockArgument) and arg.users == [module.ops[0].regions[0].blocks[0].ops[0]]
