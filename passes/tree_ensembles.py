"""``tree-ensembles``: ONNX-ML tree ensembles become ``qt.tree_ensemble`` and plain ONNX ops.

A TreeEnsembleClassifier / TreeEnsembleRegressor (opset 1 and 3) or TreeEnsemble
(opset 5) splits into what it computes:

* ``qt.tree_ensemble`` on the float input: the trees, their leaf values (divided by
  the tree count for ``AVERAGE``) and the base values, one score per target;
* the columns onnxruntime derives from those scores (for a binary classifier
  ``[-s, s]`` or ``[1 - s, s]``), as Slice / Neg / Add / Concat;
* the post transform: ``Sigmoid`` (LOGISTIC) or ``Softmax`` (SOFTMAX);
* the label: ``ArgMax`` over the columns onnxruntime compares, then a ``Gather`` of
  the class labels when they are not 0..C−1.

``ZipMap`` disappears: its output is the score tensor.  ``onnx-to-qt`` then lowers
each piece with the existing rules (the trees in ``lower_trees``).  What the split
assumes of onnxruntime's per-sample "has a score" flags: a class that any leaf votes
for has a score in every sample (exporters give every tree's leaves the same
classes); MIN/MAX need every leaf to vote for every target.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import attrs
import numpy as np

from fmlc.compiler.attributes import ArrayAttr, IntegerAttr, StringAttr, TensorType, f32, i64
from fmlc.compiler.diagnostics import op_error
from fmlc.compiler.ir import Operation, Value
from fmlc.compiler.passes import Pass, PassContext, register_pass
from fmlc.compiler.rewriter import GreedyRewriteDriver, OpRewritePattern, PatternRewriter
from fmlc.dialects import onnx as onnx_d
from fmlc.dialects import qt
from fmlc.passes.import_onnx import dense
from fmlc.runtime import trees
from fmlc.runtime.onnx_rules import tree_attributes


@attrs.frozen
class Column:
    """``sign · scores[:, k] + offset`` (``k`` None: the constant ``offset``)."""

    k: int | None
    sign: int = 1
    offset: float = 0.0

    def neg(self) -> Column:
        return Column(self.k, -self.sign, -self.offset)

    def one_minus(self) -> Column:
        return Column(self.k, -self.sign, 1.0 - self.offset)


@attrs.frozen
class Plan:
    """How onnxruntime's outputs follow from the per-target sums of the trees."""

    scores: list[Column]
    post: str
    labels: list[Column] = attrs.field(factory=list)
    label_values: list[int] = attrs.field(factory=list)


class PlanError(ValueError):
    pass


def classifier_plan(ens: trees.Ensemble, base: np.ndarray, labels: list[int], post: str) -> Plan:
    """onnxruntime's TreeAggregatorClassifier, with each class's "has a score" fixed."""
    c = len(labels)
    voted = [bool(v) for v in ens.votes.any(axis=0)]
    b = [float(v) for v in base]
    if c > 2:
        has = [voted[k] or k < len(b) for k in range(c)]
        cols = [Column(k, 1, b[k] if k < len(b) else 0.0) for k in range(c)]
        chosen = [k for k in range(c) if has[k]]
        return Plan(cols, post, [cols[k] for k in chosen], [labels[k] for k in chosen])
    if c != 2:
        raise PlanError(f"a classifier with {c} class label(s) is not supported")
    # onnxruntime's binary case: base values change the scores but not the "has a score" flags,
    # and a score without the flag is written as 0
    zero = Column(None)
    has0, has1 = voted
    s0, s1 = Column(0), Column(1) if has1 else zero
    second = -1
    if len(b) == 2 and has1:
        s1 = Column(0, 1, b[1])
        s0 = s1.neg()
    elif len(b) in (1, 2):
        s0 = Column(0 if has0 else None, 1, b[0])
    else:
        second = 3
    single = not has1 and len(b) < 2
    pos = s1 if has1 else (s0 if has0 else zero)
    if sum(voted) == 1:  # binary_case: the label is pos > 0.5 (all weights >= 0) or pos > 0
        positive = bool(np.all(ens.values[ens.votes] >= 0))
        label_cols, label_values = [Column(None, 1, 0.5 if positive else 0.0), pos], [labels[0], labels[1]]
        second = 0 if positive else 2
    else:
        label_cols, label_values = [zero, pos], [0, 1]
    if not single:
        return Plan([s0 if has0 else zero, s1 if has1 else zero], post, label_cols,
                    label_values)
    if post == "PROBIT" or second == -1:
        raise PlanError("a binary classifier with one score column and this post_transform is not supported")
    if post == "LOGISTIC":  # [1 - sigmoid(s), sigmoid(s)] = sigmoid([-s, s])
        return Plan([s0.neg(), s0], post, label_cols, label_values)
    # the other transforms leave one score as it is
    return Plan([s0.one_minus() if second in (0, 1) else s0.neg(), s0], "NONE", label_cols, label_values)


def regressor_plan(ens: trees.Ensemble, base: np.ndarray, how: str, post: str) -> Plan:
    """onnxruntime's regression aggregators (the 1/n of AVERAGE goes into the leaves)."""
    t = ens.n_targets
    b = [float(v) for v in base]
    if how in ("MIN", "MAX") and not ens.votes.all():
        raise PlanError(f"aggregate_function {how} needs every leaf to give a value for every target")
    if t == 1:
        return Plan([Column(0, 1, b[0] if len(b) == 1 else 0.0)], "PROBIT" if post == "PROBIT" else "NONE")
    voted = ens.votes.any(axis=0)  # a target no leaf votes for is written as 0, base value or not
    return Plan([Column(k, 1, b[k] if len(b) == t else 0.0) if voted[k] else Column(None) for k in range(t)], post)


# ----------------------------------------------------------------------------- building the ops

class _Builder:
    def __init__(self, rewriter: PatternRewriter, op: Operation) -> None:
        self.rewriter, self.op = rewriter, op

    def onnx(self, op_type: str, inputs: Sequence[Value], out: TensorType, **props: object) -> Value:
        new = onnx_d.OPS[op_type].build(inputs=list(inputs), outputs=[out], location=self.op.location, **props)
        self.rewriter.insert_op(new)
        return new.results[0]

    def const(self, arr: np.ndarray) -> Value:
        c = onnx_d.constant(dense(arr), location=self.op.location)
        self.rewriter.insert_op(c)
        return c.result

    def column(self, scores: Value, col: Column) -> Value:
        n = scores.type.shape[0]  # type: ignore[attr-defined]
        t = TensorType((n, 1), f32)
        if col.k is None:
            return self.const(np.full((n, 1), col.offset, np.float32))
        v = self.onnx("Slice", [scores, *(self.const(np.array([a], np.int64)) for a in (col.k, col.k + 1, 1))], t)
        if col.sign < 0:
            v = self.onnx("Neg", [v], t)
        if col.offset:
            v = self.onnx("Add", [v, self.const(np.array([col.offset], np.float32))], t)
        return v

    def columns(self, scores: Value, cols: list[Column]) -> Value:
        width = scores.type.shape[1]  # type: ignore[attr-defined]
        if cols == [Column(k) for k in range(width)]:
            return scores
        parts = [self.column(scores, c) for c in cols]
        if len(parts) == 1:
            return parts[0]
        n = scores.type.shape[0]  # type: ignore[attr-defined]
        return self.onnx("Concat", parts, TensorType((n, len(cols)), f32), axis=IntegerAttr(1))


def _fold_offsets(plan: Plan, targets: int) -> tuple[Plan, np.ndarray]:
    """Move each target's offset into the tree op's base values where every column of
    that target adds it unnegated (so the exact accumulator includes it)."""
    base = np.zeros(targets)
    cols = plan.scores + plan.labels
    for k in range(targets):
        uses = [c for c in cols if c.k == k]
        if uses and all(c.sign == 1 and c.offset == uses[0].offset for c in uses):
            base[k] = uses[0].offset

    def strip(c: Column) -> Column:
        return Column(c.k, c.sign, c.offset - (base[c.k] * c.sign if c.k is not None else 0.0))

    return attrs.evolve(plan, scores=[strip(c) for c in plan.scores], labels=[strip(c) for c in plan.labels]), base


def _ints(a: Sequence[int] | np.ndarray) -> ArrayAttr:
    return ArrayAttr(IntegerAttr(int(v)) for v in a)


def tree_structure(ens: trees.Ensemble) -> dict[str, ArrayAttr]:
    """The ``qt.tree_ensemble`` properties that hold the shape of the trees."""
    return {"tree_roots": _ints(ens.roots), "nodes_feature": _ints(ens.feature),
            "nodes_mode": ArrayAttr(StringAttr(trees.MODES[k]) for k in ens.mode),
            "nodes_true": _ints(ens.true), "nodes_false": _ints(ens.false)}


def tree_op(ens: trees.Ensemble, x: Value, base: np.ndarray, aggregate: str, scale: float,
            op: Operation) -> Operation:
    """The float ``qt.tree_ensemble`` of ``ens`` (leaf values times ``scale``)."""
    n = x.type.shape[0]  # type: ignore[attr-defined]
    return qt.TreeEnsembleOp.build(
        input=x, output=TensorType((n, ens.n_targets), f32), **tree_structure(ens),
        nodes_threshold=dense(np.asarray(ens.threshold, np.float64).reshape(len(ens.mode))),
        nodes_missing_true=_ints(ens.missing_true),
        leaf_values=dense(np.asarray(ens.values * scale, np.float64)),
        base_values=dense(np.asarray(base, np.float64)), aggregate=StringAttr(aggregate.lower()),
        location=op.location)


def _check(ens: trees.Ensemble, op: Operation) -> None:
    n = ens.n_trees
    if n == 0:
        raise op_error(op, "the ensemble has no trees")
    x = op.operands[0].type.shape  # type: ignore[attr-defined]
    used = ens.feature[ens.feature >= 0]
    if used.size and int(used.max()) >= x[1]:
        raise op_error(op, f"a node reads feature {int(used.max())} of an input with {x[1]}")


class TreePattern(OpRewritePattern):
    """A tree-ensemble node → ``qt.tree_ensemble`` + the ONNX ops of its outputs."""

    op_type = (onnx_d.OPS["TreeEnsembleClassifier"], onnx_d.OPS["TreeEnsembleRegressor"],
                onnx_d.OPS["TreeEnsemble"])

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter) -> None:
        a = tree_attributes(op)
        kind = op.op_type  # type: ignore[attr-defined]
        try:
            if kind == "TreeEnsemble":
                ens, base = trees.from_v5(a), np.zeros(0)
                how = ("AVERAGE", "SUM", "MIN", "MAX")[int(a["aggregate_function"])]
                post = trees.POST_TRANSFORMS[int(a["post_transform"])]
            else:
                ens, base, _ = trees.from_v3(a, classifier=kind == "TreeEnsembleClassifier")
                how, post = a.get("aggregate_function", "SUM"), a["post_transform"]
            if kind == "TreeEnsembleClassifier":
                plan = classifier_plan(ens, base, list(a["classlabels_int64s"]), post)
            else:
                plan = regressor_plan(ens, base, how, post)
        except (trees.TreeError, PlanError, IndexError) as e:
            raise op_error(op, str(e)) from None
        if plan.post not in ("NONE", "SOFTMAX", "LOGISTIC"):
            raise op_error(op, f"post_transform {plan.post} has no fixed-point lowering (NONE, SOFTMAX and "
                               "LOGISTIC do)")
        _check(ens, op)
        plan, base_vec = _fold_offsets(plan, ens.n_targets)
        scale = 1.0 / ens.n_trees if how == "AVERAGE" else 1.0
        tree = tree_op(ens, op.operands[0], base_vec, "sum" if how == "AVERAGE" else how, scale, op)
        rewriter.insert_op(tree)
        b = _Builder(rewriter, op)
        scores = b.columns(tree.results[0], plan.scores)
        shape = scores.type.shape  # type: ignore[attr-defined]
        if plan.post == "LOGISTIC":
            scores = b.onnx("Sigmoid", [scores], TensorType(shape, f32))
        elif plan.post == "SOFTMAX":
            scores = b.onnx("Softmax", [scores], TensorType(shape, f32), axis=IntegerAttr(-1))
        if kind != "TreeEnsembleClassifier":
            rewriter.replace_op(op, [scores])
            return
        label = self._label(b, tree.results[0], plan)
        rewriter.replace_op(op, [label, scores])

    @staticmethod
    def _label(b: _Builder, tree: Value, plan: Plan) -> Value:
        n = tree.type.shape[0]  # type: ignore[attr-defined]
        cols = b.columns(tree, plan.labels)
        idx = b.onnx("ArgMax", [cols], TensorType((n,), i64), axis=IntegerAttr(1), keepdims=IntegerAttr(0))
        if plan.label_values == list(range(len(plan.label_values))):
            return idx
        table = b.const(np.array(plan.label_values, np.int64))
        return b.onnx("Gather", [table, idx], TensorType((n,), i64), axis=IntegerAttr(0))


class ZipMapPattern(OpRewritePattern):
    """``ZipMap`` → its input (fmlc keeps class scores a [N, classes] tensor)."""

    op_type = onnx_d.OPS["ZipMap"]

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter) -> None:
        rewriter.replace_op(op, [op.operands[0]])


@register_pass
@dataclasses.dataclass(frozen=True)
class TreeEnsembles(Pass):
    """Split ONNX-ML tree ensembles into ``qt.tree_ensemble`` and plain ONNX ops (module docstring)."""

    name = "tree-ensembles"
    summary = "rewrite ai.onnx.ml TreeEnsemble*/ZipMap to qt.tree_ensemble + Slice/Neg/Add/Softmax/ArgMax"

    def apply(self, ctx: PassContext, op: Operation) -> None:
        GreedyRewriteDriver([TreePattern(), ZipMapPattern()]).apply(op)


__all__ = ["Column", "Plan", "TreeEnsembles", "classifier_plan", "regressor_plan"]
