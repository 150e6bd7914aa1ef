"""Declared ops: accessors of single/optional/variadic groups, ``Op.build``, defaults, clone."""

from __future__ import annotations

import pytest
import testdialect as td

from fmlc.compiler.attributes import ArrayAttr, IntegerAttr, StringAttr, f32, i32
from fmlc.compiler.builtin import ModuleOp
from fmlc.compiler.diagnostics import VerifyError
from fmlc.compiler.ir import Block, Region
from fmlc.compiler.location import NameLoc
from fmlc.compiler.parser import parse_module
from fmlc.compiler.printer import print_op
from fmlc.compiler.verifier import verify


@pytest.fixture
def values():
    """Three i32 values defined by an op in a module."""
    source = td.EffectOp.build(ins=[], outs=[i32, i32, i32])
    ModuleOp.create([source])
    for v, hint in zip(source.results, "abc", strict=True):
        v.name_hint = hint
    return source.results


@pytest.mark.parametrize(("maybe", "rest", "segments"), [(None, [], [1, 0, 0]), (1, [], [1, 1, 0]),
                                                         (None, [1, 2], [1, 0, 2]), (2, [0, 1, 2], [1, 1, 3])])
def test_groups_and_segment_sizes(values, maybe, rest, segments):
    op = td.GroupsOp.build(first=values[0], maybe=None if maybe is None else values[maybe],
                           rest=[values[k] for k in rest], out=f32, more=[i32, f32])
    assert op.properties["operandSegmentSizes"] == ArrayAttr(IntegerAttr(n, i32) for n in segments)
    assert "resultSegmentSizes" not in op.properties  # one variadic result group needs no sizes
    assert op.first is values[0]
    assert op.maybe is (None if maybe is None else values[maybe])
    assert op.rest == tuple(values[k] for k in rest)
    assert op.out.type == f32 and [r.type for r in op.more] == [i32, f32]
    assert op.count == IntegerAttr(0) and op.label is None  # the default, and an absent optional property
    values[0].op.parent.append(op)
    verify(op.parent_op)


def test_segment_sizes_survive_the_text(values):
    op = td.GroupsOp.build(first=values[0], rest=[values[1]], out=i32, more=[], count=IntegerAttr(3),
                           label=StringAttr("l"))
    module = values[0].op.parent_op
    module.body.block.append(op)
    verify(module)
    module = parse_module(print_op(module))
    parsed = module.ops[1]
    assert parsed.maybe is None and [v.name_hint for v in parsed.rest] == ["b"]
    assert parsed.count == IntegerAttr(3) and parsed.label == StringAttr("l") and parsed.more == ()


def test_single_variadic_group_takes_the_rest(values):
    op = td.PureOp.build(ins=list(values), outs=[f32])
    assert op.ins == tuple(values) and op.outs == (op.results[0],) and op.value is None
    assert "operandSegmentSizes" not in op.properties


def test_build_rejects_missing_and_unknown_fields(values):
    with pytest.raises(TypeError, match="missing result type 'output'"):
        td.NegOp.build(input=values[0])
    with pytest.raises(TypeError, match="missing property 'state'"):
        td.FlipOp.build()
    with pytest.raises(TypeError, match=r"unknown fields \['bogus'\]"):
        td.NegOp.build(input=values[0], output=i32, bogus=1)
    with pytest.raises(TypeError, match="missing a required operand"):
        td.NegOp.build(output=i32)


def test_build_sets_regions_location_and_attributes():
    inner = Region([Block([i32])])
    op = td.RegionOp.build(ins=[], outs=[], bodies=[inner, Region()], location=NameLoc("n"),
                           attributes={"k": StringAttr("v")})
    assert op.bodies == tuple(op.regions) and op.regions[0] is inner and inner.parent is op
    assert op.location == NameLoc("n") and op.attributes == {"k": StringAttr("v")}
    assert len(td.IsolatedOp.build().body.blocks) == 0  # an omitted single region is a new empty one


def test_wrong_groups_fail_verification_and_accessors(values):
    op = td.GroupsOp(operands=[values[0], values[1]], result_types=[i32],
                     properties={"operandSegmentSizes": ArrayAttr([IntegerAttr(2, i32), IntegerAttr(0, i32),
                                                                   IntegerAttr(0, i32)])})
    values[0].op.parent.append(op)
    with pytest.raises(VerifyError, match="group 'first' of kind single cannot hold 2 operands"):
        verify(op.parent_op)
    with pytest.raises(ValueError, match="cannot hold 2 operands"):
        _ = op.first


def test_clone_is_deep_and_remaps_values():
    module = parse_module("""
    %x = "test.effect"() : () -> i32
    %y = "test.effect"() : () -> i32
    %r = "test.region"(%x) ({
    ^bb0(%arg: f32):
      %in = "test.pure"(%arg, %x) <{value = 1 : i64}> : (f32, i32) -> f32 loc("p")
      "test.yield"(%in) : (f32) -> ()
    }) {tag} : (i32) -> i32
    """)
    x, y, original = module.ops
    copy = original.clone({x.result: y.result})
    module.body.block.append(copy)
    verify(module)
    text = print_op(module)
    assert '%r_1 = "test.region"(%y) ({\n  ^bb0(%arg_1: f32):\n    %in_1 = "test.pure"(%arg_1, %y)' in text
    old_inner = original.regions[0].blocks[0].ops[0]
    new_inner = copy.regions[0].blocks[0].ops[0]
    assert new_inner is not old_inner and new_inner.location == old_inner.location == NameLoc("p")
    assert new_inner.properties == old_inner.properties and new_inner.properties is not old_inner.properties
    assert [u.op for u in x.result.uses] == [original, old_inner]
    new_inner.properties["value"] = IntegerAttr(2)
    assert old_inner.value == IntegerAttr(1)


def test_uses_follow_operand_changes(values):
    a, b, _ = values
    op = td.PureOp.build(ins=[a, a, b], outs=[])
    assert a.users == [op] and len(a.uses) == 2
    op.set_operand(1, b)
    assert [u.index for u in a.uses] == [0] and [u.index for u in b.uses] == [2, 1]
    a.replace_all_uses_with(b)
    assert op.operands == (b, b, b) and not a.has_uses()
    op.drop_operands()
    assert not b.has_uses() and op.operands == ()
