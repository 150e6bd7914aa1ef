"""The rewriter, its listeners, the greedy and walk drivers, and canonicalisation patterns."""

from __future__ import annotations

import pytest
import testdialect as td

from fmlc.compiler.attributes import BoolAttr, i32
from fmlc.compiler.builtin import ModuleOp
from fmlc.compiler.ir import Operation
from fmlc.compiler.location import FusedLoc, NameLoc
from fmlc.compiler.opdef import op_def
from fmlc.compiler.parser import parse_module
from fmlc.compiler.printer import print_op
from fmlc.compiler.rewriter import (
    GreedyRewriteDriver,
    NonConvergenceError,
    OpRewritePattern,
    PatternRewriter,
    RewriteListener,
    canonicalization_pattern,
    walk_and_rewrite,
)
from fmlc.compiler.verifier import verify


def parse(text: str) -> ModuleOp:
    module = parse_module(text)
    verify(module)
    return module


def body(module: ModuleOp) -> str:
    """The module's ops as text, without the module line and indentation."""
    return "\n".join(line.strip() for line in print_op(module, print_locations=False).splitlines()[1:-1])


class Recorder(RewriteListener):
    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []

    def op_inserted(self, op: Operation) -> None:
        self.events.append(("inserted", op.name))

    def op_erased(self, op: Operation) -> None:
        self.events.append(("erased", op.name))

    def op_modified(self, op: Operation) -> None:
        self.events.append(("modified", op.name))

    def op_replaced(self, op: Operation, new_values) -> None:
        self.events.append(("replaced", op.name))


NEG_CHAIN = """
%x = "test.effect"() : () -> i32
%a = "test.neg"(%x) : (i32) -> i32 loc("a")
%b = "test.neg"(%a) : (i32) -> i32 loc("b")
"test.effect"(%b) : (i32) -> ()
"""


def test_replace_op_with_values():
    module = parse(NEG_CHAIN)
    x, a, b, use = module.ops
    rec = Recorder()
    PatternRewriter(b, rec).replace_op(b, [a.input])
    assert use.operands == (x.result,) and b.parent is None
    assert rec.events == [("replaced", "test.neg"), ("modified", "test.effect"), ("erased", "test.neg")]
    assert a.result.uses == []  # b's operand was dropped too


def test_replace_op_with_ops_inherits_or_keeps_locations():
    module = parse(NEG_CHAIN)
    _, a, b, use = module.ops
    rewriter = PatternRewriter(b)
    first = td.PureOp.build(ins=[a.input], outs=[i32])
    second = td.PureOp.build(ins=[first.results[0]], outs=[i32], location=rewriter.fused_location(a, b))
    rewriter.replace_op(b, [first, second])
    assert [op.name for op in module.ops] == ["test.effect", "test.neg", "test.pure", "test.pure", "test.effect"]
    assert first.location == NameLoc("b")
    assert second.location == FusedLoc([NameLoc("a"), NameLoc("b")])
    assert use.operands == (second.results[0],)
    verify(module)


def test_replace_op_checks_its_arguments():
    module = parse(NEG_CHAIN)
    x, a, b, _ = module.ops
    with pytest.raises(ValueError, match=r"replacing 'test.neg' \(1 results\) with 2 values"):
        PatternRewriter(b).replace_op(b, [x.result, x.result])
    with pytest.raises(TypeError, match="not a mix"):
        PatternRewriter(b).replace_op(b, [x.result, td.PureOp.build(outs=[])])


def test_fused_location_flattens_and_drops_unknown_and_duplicates():
    ops = [td.EffectOp.build(ins=[], outs=[], location=loc) for loc in
           (NameLoc("a"), FusedLoc([NameLoc("b"), NameLoc("a")]), td.EffectOp().location)]
    assert PatternRewriter.fused_location(*ops) == FusedLoc([NameLoc("a"), NameLoc("b")])
    assert PatternRewriter.fused_location(ops[0], ops[2]) == NameLoc("a")


def test_erase_op_refuses_while_results_are_used():
    module = parse(NEG_CHAIN)
    _, a, b, _ = module.ops
    rec = Recorder()
    with pytest.raises(ValueError, match=r"cannot erase 'test.neg': result #0 still has uses"):
        PatternRewriter(a, rec).erase_op(a)
    assert a.parent is not None
    PatternRewriter(b, rec).replace_op(b, [a.input])
    PatternRewriter(a, rec).erase_op(a)
    assert [op.name for op in module.ops] == ["test.effect", "test.effect"]


def test_erase_op_allows_uses_inside_itself():
    module = parse('"test.region"() ({\n  %v = "test.effect"() : () -> i32\n  "test.effect"(%v) : (i32) -> ()\n'
                   '}) : () -> ()\n')
    (region_op,) = module.ops
    inner_def = region_op.regions[0].blocks[0].ops[0]
    PatternRewriter(region_op).erase_op(region_op)
    assert module.ops == () and inner_def.result.uses == []


def test_insert_op_positions():
    module = parse('"test.effect"() : () -> () loc("here")\n"test.flip"() <{state = true}> : () -> ()\n')
    effect, flip = module.ops
    rec = Recorder()
    rewriter = PatternRewriter(effect, rec)
    new = [td.EffectOp.build(ins=[], outs=[], attributes={"n": BoolAttr(k == 0)}) for k in range(3)]
    rewriter.insert_op(new[0])
    rewriter.insert_op(new[1], after=flip)
    rewriter.insert_op(new[2], at_end=module.body.block)
    assert list(module.ops) == [new[0], effect, flip, new[1], new[2]]
    assert all(op.location == NameLoc("here") for op in new) and rewriter.changed
    assert rec.events == [("inserted", "test.effect")] * 3


def test_greedy_driver_reaches_a_fixpoint_and_erases_dead_ops():
    module = parse("""
    %x = "test.effect"() : () -> i32
    %a = "test.neg"(%x) : (i32) -> i32
    %b = "test.neg"(%a) : (i32) -> i32
    %c = "test.neg"(%b) : (i32) -> i32
    %d = "test.neg"(%c) : (i32) -> i32
    %p = "test.pure"(%d) : (i32) -> f32
    %kept = "test.effect"(%p) : (f32) -> f32
    "test.effect"(%d) : (i32) -> ()
    """)
    outer = Recorder()
    driver = GreedyRewriteDriver([td.FoldDoubleNeg()], listener=outer)
    assert driver.apply(module) is True
    assert body(module) == '%x = "test.effect"() : () -> i32\n' \
        '%p = "test.pure"(%x) : (i32) -> f32\n' \
        '%kept = "test.effect"(%p) : (f32) -> f32\n' \
        '"test.effect"(%x) : (i32) -> ()'
    assert outer.events and set(outer.events) == {("modified", "test.neg")}
    assert GreedyRewriteDriver([td.FoldDoubleNeg()]).apply(module) is False


def test_greedy_driver_erases_chains_of_dead_pure_ops():
    text = ('%x = "test.effect"() : () -> i32\n%a = "test.pure"(%x) : (i32) -> i32\n'
            '%b = "test.pure"(%a, %a) : (i32, i32) -> i32\n%c = "test.neg"(%b) : (i32) -> i32\n')
    assert GreedyRewriteDriver([], erase_dead=False).apply(parse(text)) is False
    module = parse(text)
    assert GreedyRewriteDriver([]).apply(module) is True
    assert body(module) == '%x = "test.effect"() : () -> i32'


def test_greedy_driver_fails_loudly_when_it_does_not_converge():
    module = parse('"test.flip"() <{state = true}> : () -> ()\n')
    with pytest.raises(NonConvergenceError, match=r"did not converge after 4 iterations; patterns still firing: "
                                                  r"FlipState \(\d+x\)"):
        GreedyRewriteDriver([td.FlipState()], max_iterations=4).apply(module)


def test_walk_and_rewrite_visits_each_op_once():
    module = parse('"test.flip"() <{state = true}> : () -> ()\n"test.isolated"() ({\n'
                   '  "test.flip"() <{state = false}> : () -> ()\n}) : () -> ()\n')
    assert walk_and_rewrite(module, [td.FlipState()]) is True
    assert [op.state.value for op in module.walk() if isinstance(op, td.FlipOp)] == [False, True]
    assert walk_and_rewrite(module, [td.FoldDoubleNeg()]) is False


def test_patterns_run_by_benefit():
    class Low(OpRewritePattern):
        op_type = td.FlipOp

        def match_and_rewrite(self, op, rewriter):
            op.attributes["by"] = BoolAttr(False)
            rewriter.notify_modified(op)

    class High(Low):
        benefit = 2

        def match_and_rewrite(self, op, rewriter):
            op.attributes["by"] = BoolAttr(True)
            rewriter.notify_modified(op)

    module = parse('"test.flip"() <{state = true}> : () -> ()\n')
    walk_and_rewrite(module, [Low(), High()])
    assert module.ops[0].attributes["by"] == BoolAttr(True)


def test_canonicalization_patterns_need_the_trait():
    @op_def("test.plain")
    class PlainOp(Operation):
        pass

    with pytest.raises(TypeError, match="'test.plain' does not declare the HasCanonicalizer trait"):
        canonicalization_pattern(PlainOp)(td.FlipState)
