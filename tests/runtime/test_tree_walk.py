"""The level-synchronous tree walk (``trees.Walk``) against a sample-by-sample reference
walk, on random ensembles: every branch mode, one mode or mixed, ties at thresholds,
trees of different depths and shuffled node numbers, raw codes of every width (int16,
int32, int64, Python ints) and floats with NaN features and missing-value tracking; and
the reduction of leaf values over the trees, a block of samples at a time."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fmlc.compiler.attributes import ArrayAttr
from fmlc.compiler.cli import _context, build_parser
from fmlc.compiler.driver import load_all
from fmlc.compiler.models import load, lower_to, main_function
from fmlc.runtime import trees
from fmlc.runtime.trees import LEAF, Ensemble, TreeError

load_all()

ROOT = Path(__file__).resolve().parents[2]
BRANCH_MODES = range(LEAF)  # leq, lt, gte, gt, eq, neq
SCALES = (1, 1 << 20, 1 << 40, 1 << 70)  # int16, int32, int64, Python-int raw codes


def reference_leaves(ens: Ensemble, x: np.ndarray) -> np.ndarray:
    """[N, trees] leaf rows, one sample and one tree at a time (the walk's definition)."""
    out = np.zeros((len(x), ens.n_trees), np.int64)
    for n, row in enumerate(x):
        for k, node in enumerate(ens.roots):
            while ens.mode[node] != LEAF:
                v, t = row[ens.feature[node]], ens.threshold[node]
                go = (v <= t, v < t, v >= t, v > t, v == t, v != t)[ens.mode[node]]
                if isinstance(v, float) and math.isnan(v) and ens.missing_true[node]:
                    go = True
                node = ens.true[node] if go else ens.false[node]
            out[n, k] = ens.true[node]
    return out


@st.composite
def ensembles(draw: Any, features: int) -> Ensemble:
    """Random trees over ``features`` features with thresholds in -3..3, nodes shuffled."""
    one_mode = draw(st.none() | st.sampled_from(BRANCH_MODES))
    nodes: list[tuple[int, int, float, int, int]] = []  # feature, mode, threshold, true, false
    leaves = 0

    def grow(depth: int) -> int:
        nonlocal leaves
        i = len(nodes)
        nodes.append((-1, LEAF, 0.0, leaves, leaves))
        if depth == 0 or draw(st.integers(0, 3)) == 0:
            leaves += 1
            return i
        mode = draw(st.sampled_from(BRANCH_MODES)) if one_mode is None else one_mode
        feature, threshold = draw(st.integers(0, features - 1)), draw(st.integers(-3, 3))
        true, false = grow(depth - 1), grow(depth - 1)
        nodes[i] = (feature, mode, threshold, true, false)
        return i

    roots = [grow(draw(st.integers(0, 5))) for _ in range(draw(st.integers(1, 4)))]
    renumber = np.array(draw(st.permutations(range(len(nodes)))))  # renumber[i]: node i's new number
    old = np.argsort(renumber)  # old[j]: the node numbered j
    feature, mode, threshold, true, false = (np.array(col) for col in zip(*[nodes[i] for i in old], strict=True))
    branch = mode != LEAF
    true[branch], false[branch] = renumber[true[branch]], renumber[false[branch]]
    missing = np.array(draw(st.lists(st.booleans(), min_size=len(nodes), max_size=len(nodes))), bool)
    values = np.array(draw(st.lists(st.integers(-9, 9), min_size=2 * leaves, max_size=2 * leaves))).reshape(-1, 2)
    return Ensemble(renumber[roots], feature, mode, threshold.astype(np.float64), true, false, missing, values,
                    np.ones(values.shape, bool))


@st.composite
def cases(draw: Any) -> tuple[Ensemble, np.ndarray]:
    features = draw(st.integers(1, 3))
    ens = draw(ensembles(features))
    rows = draw(st.integers(0, 40))
    grid = np.array(draw(st.lists(st.integers(-4, 4), min_size=rows * features, max_size=rows * features)))
    return ens, grid.reshape(rows, features)


SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(cases(), st.sampled_from(SCALES), st.integers(-5, 5))
def test_raw_codes(case: tuple[Ensemble, np.ndarray], scale: int, offset: int) -> None:
    """Raw codes compare with raw thresholds exactly, whatever dtype holds them."""
    ens, grid = case
    as_codes = np.vectorize(lambda v: int(v) * scale + offset, otypes=[object])
    x, threshold = as_codes(grid), as_codes(ens.threshold)
    if scale < 1 << 40:
        x, threshold = x.astype(np.int64), threshold.astype(np.int64)
    raw = Ensemble(ens.roots, ens.feature, ens.mode, threshold, ens.true, ens.false, ens.missing_true,
                   ens.values, ens.votes)
    assert np.array_equal(raw.leaves(x), reference_leaves(raw, x))


@SETTINGS
@given(cases(), st.data())
def test_float_features(case: tuple[Ensemble, np.ndarray], data: st.DataObject) -> None:
    """Float features (NaN among them) compare as onnxruntime does, float32 inputs too."""
    ens, grid = case
    x = grid.astype(np.float64) / 2
    nan = np.array(data.draw(st.lists(st.booleans(), min_size=x.size, max_size=x.size)), bool).reshape(x.shape)
    x[nan] = np.nan
    want = reference_leaves(ens, x)
    assert np.array_equal(ens.leaves(x), want)
    assert np.array_equal(ens.leaves(x.astype(np.float32)), want)


@SETTINGS
@given(cases(), st.integers(1, 9), st.sampled_from([np.add, np.minimum, np.maximum]))
def test_reduce_leaves_in_blocks(case: tuple[Ensemble, np.ndarray], block: int, ufunc: np.ufunc) -> None:
    """Reducing the leaf values over the trees, a few samples per block: as leaf by leaf."""
    ens, x = case
    table = np.ascontiguousarray(ens.values[ens.walk.leaf_row].T)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(trees, "BLOCK", block)
        got = ens.walk.reduce_leaves(x, table, ufunc)
    assert np.array_equal(got, ufunc.reduce(ens.values[reference_leaves(ens, x)], axis=1))


def stump(**fields: Any) -> Ensemble:
    """Node 0 compares feature 0 with 0: leaf 0 (node 1) if true, leaf 1 (node 2) if not."""
    base = dict(roots=np.array([0]), feature=np.array([0, -1, -1]), mode=np.array([0, LEAF, LEAF]),
                threshold=np.zeros(3), true=np.array([1, 0, 1]), false=np.array([2, 0, 1]),
                missing_true=np.zeros(3, bool), values=np.zeros((2, 1)), votes=np.ones((2, 1), bool))
    return Ensemble(**{**base, **fields})


def test_cycle_is_refused() -> None:
    with pytest.raises(TreeError, match="tree 1 has a cycle"):  # node 3 leads back to itself
        stump(roots=np.array([0, 3]), feature=np.array([0, -1, -1, 0]), mode=np.array([0, LEAF, LEAF, 1]),
              threshold=np.zeros(4), true=np.array([1, 0, 1, 3]), false=np.array([2, 0, 1, 1]),
              missing_true=np.zeros(4, bool)).leaves(np.zeros((1, 1)))


def test_missing_feature_is_refused() -> None:
    with pytest.raises(TreeError, match="feature 2 of 1"):
        stump(feature=np.array([2, -1, -1])).leaves(np.zeros((3, 1)))


def test_op_ensemble_follows_replaced_properties() -> None:
    """``of_op`` keeps an op's ensemble until a pass replaces one of its properties."""
    path = str(ROOT / "examples" / "trees" / "sk_dt_reg.onnx")
    args = build_parser().parse_args([path])
    module = lower_to(load(path), "qt", args, _context(args))
    op = next(o for o in main_function(module).walk() if o.name == "qt.tree_ensemble")
    ens = trees.of_op(op)
    assert trees.of_op(op) is ens
    assert not ens.threshold.flags.writeable
    op.properties["tree_roots"] = ArrayAttr([*op.tree_roots, *op.tree_roots])
    assert trees.of_op(op).n_trees == 2 * ens.n_trees
