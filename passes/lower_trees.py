"""Lowering of ``qt.tree_ensemble`` (float, from ``tree-ensembles``) and ``ArgMax`` to fixed point.

**Exact thresholds.** With the input's fixed-point type known (``--default-precision``,
``[input.NAME]`` or an upstream quantiser), every float threshold θ becomes the raw
code that makes the comparison on raw codes r (value r·2^-f) identical to the float
comparison for *every* representable input::

    x ≤ θ  ⇔  r ≤ ⌊θ·2^f⌋        x > θ  ⇔  r > ⌊θ·2^f⌋
    x < θ  ⇔  r < ⌈θ·2^f⌉        x ≥ θ  ⇔  r ≥ ⌈θ·2^f⌉
    x = θ  ⇔  r = θ·2^f (never when θ is off the grid), and ≠ likewise

A comparison that comes out the same for the whole input range (a threshold beyond
it, or an equality off the grid) is decided now: the node is replaced by the child it
always takes.  So the remaining thresholds lie inside the input's range and have its
type, and every sample reaches the leaf the float trees give it.

**Leaf values** (and base values) are rounded to nearest-even with the fractional bits of
the layer's weight precision (``[layer.NAME] weight``, default ``fixed<16,6>``: 10 bits),
so each leaf is off by at most 2^-(f+1); the sum over the trees is exact, in the
narrowest type holding every reachable sum.  That rounding is the only approximation.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from fmlc.compiler.attributes import DenseElementsAttr, FloatAttr, IntegerAttr, TensorType
from fmlc.dialects import qt
from fmlc.dialects.qt import FixedPointType
from fmlc.passes.onnx_to_qt import Converter, Lowered, lowering, tensor
from fmlc.passes.tree_ensembles import tree_structure
from fmlc.runtime import trees


def grid_threshold(theta: float, mode: str, t: FixedPointType) -> bool | int:
    """The raw threshold for ``x mode θ`` on ``t``'s grid, or the comparison's constant outcome."""
    lo, hi = t.min_raw, t.max_raw
    if math.isnan(theta):
        return mode == "neq"
    if math.isinf(theta):
        above = theta > 0  # every x is below +inf, above -inf
        return {"leq": above, "lt": above, "gte": not above, "gt": not above, "eq": False, "neq": True}[mode]
    q = Fraction(theta) * Fraction(2) ** t.frac_bits
    if mode in ("eq", "neq"):
        on_grid = q.denominator == 1 and lo <= q <= hi
        if not on_grid:
            return mode == "neq"
        return int(q)
    fl, ce = math.floor(q), math.ceil(q)
    if mode in ("leq", "gt"):  # r <= fl
        if fl >= hi or fl < lo:
            return (fl >= hi) == (mode == "leq")
        return fl
    if ce <= lo or ce > hi:  # r < ce
        return (ce > hi) == (mode == "lt")
    return ce


def on_grid(ens: trees.Ensemble, t: FixedPointType) -> trees.Ensemble:
    """``ens`` with raw thresholds of type ``t`` and every decided node removed."""
    feature, mode, thr, true, false = [], [], [], [], []
    leaf_rows: dict[int, int] = {}

    def visit(i: int) -> int:
        while ens.mode[i] != trees.LEAF:
            outcome = grid_threshold(float(ens.threshold[i]), trees.MODES[ens.mode[i]], t)
            if isinstance(outcome, bool):
                i = int(ens.true[i] if outcome else ens.false[i])
                continue
            k = len(mode)
            feature.append(int(ens.feature[i]))
            mode.append(int(ens.mode[i]))
            thr.append(outcome)
            true.append(-1)
            false.append(-1)
            true[k], false[k] = visit(int(ens.true[i])), visit(int(ens.false[i]))
            return k
        k = len(mode)
        row = leaf_rows.setdefault(int(ens.true[i]), len(leaf_rows))
        feature.append(-1)
        mode.append(trees.LEAF)
        thr.append(0)
        true.append(row)
        false.append(row)
        return k

    roots = [visit(int(r)) for r in ens.roots]
    order = list(leaf_rows)
    return trees.Ensemble(np.array(roots, np.int64), np.array(feature, np.int64), np.array(mode, np.int64),
                          np.array(thr, dtype=object if t.width > 62 else np.int64), np.array(true, np.int64),
                          np.array(false, np.int64), np.zeros(len(mode), bool), ens.values[order],
                          ens.votes[order])


def rounded(values: np.ndarray, frac: int) -> np.ndarray:
    """Raw codes of ``values`` rounded to nearest-even on the 2^-frac grid (Python ints)."""
    scaled = np.ldexp(np.asarray(values, np.float64), frac)
    return np.array([int(v) for v in np.ravel(np.round(scaled))], dtype=object).reshape(np.shape(values))


def score_range(leaf: np.ndarray, base: np.ndarray, roots_rows: list[list[int]], how: str
                ) -> tuple[list[int], list[int]]:
    """Per target, the least and greatest exact score (raw codes) over all leaf choices."""
    lows, highs = [], []
    for t in range(leaf.shape[1]):
        los = [min(leaf[r, t] for r in rows) for rows in roots_rows]
        his = [max(leaf[r, t] for r in rows) for rows in roots_rows]
        reduce = {"sum": sum, "min": min, "max": max}[how]
        lo, hi = reduce(los), reduce(his)
        lows.append(int(lo + base[t]))
        highs.append(int(hi + base[t]))
    return lows, highs


def _dense(raw: np.ndarray, t: FixedPointType) -> DenseElementsAttr:
    arr = np.asarray(raw, dtype=object if t.width > 62 else np.int64)
    return DenseElementsAttr(TensorType(arr.shape, t), arr)


@lowering("qt.tree_ensemble")
def tree_ensemble(conv: Converter, op: qt.TreeEnsembleOp) -> Lowered:
    x = conv.materialise(conv.onnx_order(conv.runtime(op.input)))
    t = x.type
    assert isinstance(t, FixedPointType)
    ens = on_grid(trees.of_op(op), t)
    frac = conv.layer().weight.frac_bits
    leaf, base = rounded(ens.values, frac), rounded(np.asarray(op.base_values.data, np.float64), frac)
    both = [int(v) for v in np.ravel(leaf)] + [int(v) for v in np.ravel(base)] + [0]
    vt = qt.type_for_range(min(both), max(both), frac)
    lows, highs = score_range(leaf, base, ens.leaf_rows(), op.aggregate.value)
    out_t = qt.type_for_range(min(lows), max(highs), frac)
    v = conv.emit1(
        qt.TreeEnsembleOp, input=x.value, output=tensor((x.shape[0], ens.n_targets), out_t), **tree_structure(ens),
        nodes_threshold=_dense(ens.threshold, t), leaf_values=_dense(leaf, vt), base_values=_dense(base, vt),
        aggregate=op.aggregate)
    leaf_err = np.abs(np.ldexp(leaf.astype(np.float64), -frac) - ens.values)
    base_err = np.abs(np.ldexp(base.astype(np.float64), -frac) - np.asarray(op.base_values.data, np.float64))
    per_tree = np.array([leaf_err[rows].max(axis=0) for rows in ens.leaf_rows()])  # [trees, T]
    bound = per_tree.sum(axis=0) if op.aggregate.value == "sum" else per_tree.max(axis=0)
    v.op.attributes["leaf_error"] = FloatAttr(float(max(leaf_err.max(initial=0.0), base_err.max(initial=0.0))))
    v.op.attributes["error_bound"] = FloatAttr(float((bound + base_err).max(initial=0.0)))
    return Lowered(v, None, exact=False)


@lowering("ArgMax")
def arg_max(conv: Converter, op) -> Lowered:
    x = conv.materialise(conv.onnx_order(conv.runtime(op.operands[0])))
    rank = len(x.shape)
    axis = int(op.attr("axis")) % rank
    if op.attr("select_last_index"):
        raise conv.error("ArgMax with select_last_index = 1 is not supported")
    n = x.shape[axis]
    out_shape = [d for i, d in enumerate(x.shape) if i != axis]
    idx_t = qt.integer(max((n - 1).bit_length(), 1), signed=False)
    v = conv.emit1(qt.ArgMaxOp, input=x.value, axis=IntegerAttr(axis), output=tensor(out_shape, idx_t))
    if op.attr("keepdims"):
        out_shape.insert(axis, 1)
        v = conv.emit1(qt.ReshapeOp, input=v, output=tensor(out_shape, idx_t))
    return Lowered(v, None, x.exact)

