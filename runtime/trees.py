"""Tree ensembles (ONNX-ML): one flat representation for every attribute set, the
walk that finds each sample's leaf (all trees and samples at once, level by level), and
onnxruntime's float semantics around it.

Nodes are numbered globally.  A branch node compares feature ``feature[i]`` of the
sample with ``threshold[i]`` by ``mode[i]`` and goes to ``true[i]`` or
``false[i]`` (node numbers); a leaf has mode ``leaf`` and its ``true``/``false``
hold its row in ``values`` ([leaves, targets]).  ``votes`` says which targets a
leaf gives a weight to (onnxruntime leaves a target that no reached leaf votes for
out of MIN/MAX and of the classifier's argmax).
"""

from __future__ import annotations

import functools
import math
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

import attrs
import numpy as np

MODES = ("leq", "lt", "gte", "gt", "eq", "neq", "leaf")
ONNX_MODES = {"BRANCH_LEQ": "leq", "BRANCH_LT": "lt", "BRANCH_GTE": "gte", "BRANCH_GT": "gt",
              "BRANCH_EQ": "eq", "BRANCH_NEQ": "neq", "LEAF": "leaf"}
AGGREGATES = ("SUM", "AVERAGE", "MIN", "MAX")
POST_TRANSFORMS = ("NONE", "SOFTMAX", "LOGISTIC", "SOFTMAX_ZERO", "PROBIT")
LEAF = MODES.index("leaf")
_T = TypeVar("_T")


class TreeError(ValueError):
    """An ensemble whose attributes do not describe valid trees."""


@attrs.frozen(eq=False)
class Ensemble:
    roots: np.ndarray           # [trees] node number of each root
    feature: np.ndarray         # [M] feature index (-1 at leaves)
    mode: np.ndarray            # [M] index into MODES
    threshold: np.ndarray       # [M] float64 values, or raw codes once quantised
    true: np.ndarray            # [M] node number, or leaf row at a leaf
    false: np.ndarray           # [M]
    missing_true: np.ndarray    # [M] bool: NaN takes the true branch
    values: np.ndarray          # [L, T] leaf weights
    votes: np.ndarray           # [L, T] bool

    @property
    def n_trees(self) -> int:
        return len(self.roots)

    @property
    def n_targets(self) -> int:
        return int(self.values.shape[1])

    @functools.cached_property
    def walk(self) -> Walk:
        return Walk.of(self)

    def leaves(self, x: np.ndarray) -> np.ndarray:
        """[N, trees] leaf row each sample of ``x`` [N, F] reaches (float features compare
        as onnxruntime does, raw codes with raw thresholds of the same type)."""
        return self.walk.leaf_row.take(self.walk.positions(x)).T

    def leaf_rows(self) -> list[list[int]]:
        """The leaf rows each tree can reach."""
        out = []
        for root in self.roots:
            rows, stack = [], [int(root)]
            while stack:
                i = stack.pop()
                if self.mode[i] == LEAF:
                    rows.append(int(self.true[i]))
                else:
                    stack += [int(self.true[i]), int(self.false[i])]
            out.append(rows)
        return out

    def terms(self, leaf: np.ndarray, how: str) -> np.ndarray:
        """[trees, targets]: whether a tree is a term of the target's reduction of leaf values
        ``leaf`` (for a sum, a tree whose leaves all hold 0 for the target is not)."""
        if how != "sum":
            return np.ones((self.n_trees, self.n_targets), bool)
        return np.array([np.asarray(leaf)[rows].astype(bool).any(axis=0) for rows in self.leaf_rows()], bool)

    def depth(self) -> int:
        """The most branch nodes on a root-to-leaf path."""
        best = 0
        stack = [(int(r), 0) for r in self.roots]
        while stack:
            node, d = stack.pop()
            if self.mode[node] == LEAF:
                best = max(best, d)
            else:
                stack += [(int(self.true[node]), d + 1), (int(self.false[node]), d + 1)]
        return best


_COMPARE = (np.less_equal, np.less, np.greater_equal, np.greater, np.equal, np.not_equal)  # by mode
BLOCK = 1 << 15  # trees × samples a pass of the walk takes: its arrays stay in the cache


@attrs.frozen(eq=False)
class Walk:
    """An ensemble's tables for walking every tree at once, one level per step.

    Position ``2·i + b`` is node i having taken branch b (1: true) and ``next`` maps it to
    the child's position ``2·child``; a leaf's children are itself, so ``steps`` steps
    take every sample to a leaf in every tree.  Node tables are repeated per position.
    """

    start: np.ndarray       # [trees] position of each root
    feature: np.ndarray     # [2M] feature index (0 at leaves)
    threshold: np.ndarray   # [2M]
    mode: np.ndarray        # [2M] index into MODES
    missing: np.ndarray     # [2M] bool: NaN takes the true branch
    next: np.ndarray        # [2M] position of the child a position leads to
    leaf_row: np.ndarray    # [2M] leaf row at a leaf's positions (0 elsewhere)
    steps: int              # the deepest tree's branch levels
    one_mode: int | None    # the mode of every branch node, if they share one

    @classmethod
    def of(cls, ens: Ensemble) -> Walk:
        m = len(ens.mode)
        leaf = ens.mode == LEAF
        for name, arr in (("roots", ens.roots), ("nodes_true", ens.true[~leaf]), ("nodes_false", ens.false[~leaf])):
            if np.any((arr < 0) | (arr >= m)):
                raise TreeError(f"{name} names a node that does not exist")
        node = np.arange(m)
        children = np.stack([np.where(leaf, node, ens.false), np.where(leaf, node, ens.true)], axis=1)
        modes = np.unique(ens.mode[~leaf])
        twice = lambda a: np.repeat(a, 2)  # noqa: E731
        return cls(2 * ens.roots, twice(np.where(leaf, 0, ens.feature)), twice(ens.threshold), twice(ens.mode),
                   twice(ens.missing_true), 2 * children.ravel(), twice(np.where(leaf, ens.true, 0)),
                   _steps(ens), int(modes[0]) if len(modes) == 1 else None)

    def positions(self, x: np.ndarray) -> np.ndarray:
        """[trees, N] the leaf position each sample of ``x`` [N, F] reaches in each tree."""
        return self._positions(*self._comparable(x))

    def reduce_leaves(self, x: np.ndarray, table: np.ndarray, ufunc: np.ufunc) -> np.ndarray:
        """[N, K]: ``ufunc`` reduced over the trees of ``table`` [K, positions] at the leaf
        positions of each sample of ``x`` [N, F], walked a block of samples at a time."""
        x, threshold = self._comparable(x)
        out = np.empty((len(x), len(table)), table.dtype)
        rows = max(1, BLOCK // max(len(self.start), 1))
        for i in range(0, len(x), rows):
            pos = self._positions(x[i:i + rows], threshold)
            out[i:i + rows] = ufunc.reduce(np.take(table, pos, axis=1), axis=1).T
        return out

    def _comparable(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``x`` and the thresholds in a dtype that compares them exactly (a TreeError when
        a node reads a feature ``x`` lacks)."""
        x = np.asarray(x)
        read = int(self.feature.max(initial=0))
        if self.steps and read >= x.shape[1]:
            raise TreeError(f"a node reads feature {read} of {x.shape[1]}")
        return _comparable(x, self.threshold)

    def _positions(self, x: np.ndarray, threshold: np.ndarray) -> np.ndarray:
        n, f = x.shape
        flat, row_start = np.ascontiguousarray(x).ravel(), np.arange(n) * f
        nan = x.dtype.kind == "f" and bool(self.missing.any()) and bool(np.isnan(x).any())
        shape = (len(self.start), n)
        pos, nxt = np.repeat(self.start[:, None], n, axis=1), np.empty(shape, np.intp)
        index, go = np.empty(shape, np.intp), np.empty(shape, bool)
        v, t = np.empty(shape, x.dtype), np.empty(shape, threshold.dtype)
        for _ in range(self.steps):  # every index is in range: "clip" only skips numpy's checks
            np.take(self.feature, pos, out=index, mode="clip")
            index += row_start
            np.take(flat, index, out=v, mode="clip")
            np.take(threshold, pos, out=t, mode="clip")
            self._branch(v, t, pos, go)
            if nan:
                go |= np.isnan(v) & self.missing.take(pos, mode="clip")
            pos += go
            np.take(self.next, pos, out=nxt, mode="clip")
            pos, nxt = nxt, pos
        return pos

    def _branch(self, v: np.ndarray, t: np.ndarray, pos: np.ndarray, out: np.ndarray) -> None:
        """Whether feature values ``v`` take the true branch at positions ``pos`` (thresholds
        ``t``); a leaf's result does not matter."""
        with np.errstate(invalid="ignore"):
            if self.one_mode is not None:
                _COMPARE[self.one_mode](v, t, out=out)
            else:
                m = self.mode.take(pos, mode="clip")
                out[...] = np.select([m == k for k in range(len(_COMPARE))], [c(v, t) for c in _COMPARE], False)


def _steps(ens: Ensemble) -> int:
    """The most branch nodes on a root-to-leaf path (TreeError naming a tree with a cycle)."""
    steps = _levels(ens, ens.roots)
    if steps is None:
        k = next(k for k in range(ens.n_trees) if _levels(ens, ens.roots[k:k + 1]) is None)
        raise TreeError(f"tree {k} has a cycle")
    return steps


def _levels(ens: Ensemble, roots: np.ndarray) -> int | None:
    """Branch levels below ``roots``; None when they never end (a cycle)."""
    level = np.unique(roots)
    for steps in range(len(ens.mode) + 1):
        level = level[ens.mode[level] != LEAF]
        if not len(level):
            return steps
        level = np.unique(np.concatenate([ens.true[level], ens.false[level]]))
    return None


def _comparable(x: np.ndarray, threshold: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Features and thresholds in one dtype that compares them exactly: float64 when either
    is float (onnxruntime's comparison), else the narrowest integer type holding both."""
    if x.dtype.kind == "f" or threshold.dtype.kind == "f":
        return x.astype(np.float64, copy=False), threshold.astype(np.float64, copy=False)
    both = [a for a in (x, threshold) if a.size]
    lo, hi = min((int(a.min()) for a in both), default=0), max((int(a.max()) for a in both), default=0)
    for dtype in (np.int16, np.int32, np.int64):
        if np.iinfo(dtype).min <= lo and hi <= np.iinfo(dtype).max:
            return x.astype(dtype, copy=False), threshold.astype(dtype, copy=False)
    return x.astype(object), threshold.astype(object)


_BY_OP: weakref.WeakKeyDictionary[Any, tuple[list[Any], dict[Any, Any]]] = weakref.WeakKeyDictionary()


def per_op(op: Any, build: Callable[[Any], _T]) -> _T:
    """``build(op)``, kept while the op holds the same property attributes (immutable: a pass
    replaces them, never changes them); its arrays must not be written to."""
    props = list(op.properties.items())
    kept = _BY_OP.get(op)
    if kept is None or len(kept[0]) != len(props) or any(
            k != n or a is not b for (k, a), (n, b) in zip(kept[0], props, strict=True)):
        kept = _BY_OP[op] = (props, {})
    if build not in kept[1]:
        kept[1][build] = build(op)
    return kept[1][build]  # type: ignore[no-any-return]


def of_op(op: Any) -> Ensemble:
    """The ensemble a ``qt.tree_ensemble`` op holds (thresholds and values as stored: f64
    values before ``onnx-to-qt``, raw codes after), read-only, made once per op."""
    return per_op(op, _read_op)


def _read_op(op: Any) -> Ensemble:
    from fmlc.runtime import fixed as fx

    def data(attr: Any) -> np.ndarray:
        elem = attr.type.element
        if hasattr(elem, "frac_bits"):
            return np.asarray(fx.as_raw(attr.data, elem, check=False))
        return np.asarray(attr.data, np.float64)

    ints = lambda name: np.array([a.value for a in getattr(op, name)], np.int64)  # noqa: E731
    modes = np.array([MODES.index(a.value) for a in op.nodes_mode], np.int64)
    missing = op.nodes_missing_true
    values = data(op.leaf_values)
    ens = Ensemble(ints("tree_roots"), ints("nodes_feature"), modes, data(op.nodes_threshold), ints("nodes_true"),
                   ints("nodes_false"), np.zeros(len(modes), bool) if missing is None else
                   np.array([a.value for a in missing], bool), values, np.ones(values.shape, bool))
    for arr in attrs.astuple(ens, recurse=False):
        arr.flags.writeable = False
    return ens


# ----------------------------------------------------------------------------- reading ONNX attributes

def _get(attrs_: dict[str, Any], name: str, default: Any = None) -> Any:
    v = attrs_.get(name)
    return default if v is None else v


def _floats(attrs_: dict[str, Any], name: str) -> tuple[np.ndarray | None, bool]:
    """``name`` or ``name_as_tensor`` as float64 (and whether it came as doubles)."""
    t = attrs_.get(f"{name}_as_tensor")
    if t is not None:
        return np.asarray(t, dtype=np.float64).ravel(), True
    v = attrs_.get(name)
    return (None, False) if v is None else (np.asarray(v, dtype=np.float32).astype(np.float64), False)


def from_v3(attrs_: dict[str, Any], classifier: bool) -> tuple[Ensemble, np.ndarray, bool]:
    """The ensemble of a TreeEnsembleClassifier / Regressor (opset 1 or 3), its base
    values, and whether it computes in double (``*_as_tensor`` attributes)."""
    tree_ids = list(_get(attrs_, "nodes_treeids", []))
    node_ids = list(_get(attrs_, "nodes_nodeids", []))
    m = len(tree_ids)
    if m == 0:
        raise TreeError("the ensemble has no nodes")
    modes = [ONNX_MODES.get(s.decode() if isinstance(s, bytes) else str(s)) for s in _get(attrs_, "nodes_modes", [])]
    if None in modes:
        bad = list(_get(attrs_, "nodes_modes"))[modes.index(None)]
        raise TreeError(f"node mode {bad!r} is not supported (BRANCH_LEQ/LT/GTE/GT/EQ/NEQ, LEAF)")
    thresholds, double = _floats(attrs_, "nodes_values")
    features = list(_get(attrs_, "nodes_featureids", []))
    trues, falses = list(_get(attrs_, "nodes_truenodeids", [])), list(_get(attrs_, "nodes_falsenodeids", []))
    missing = list(_get(attrs_, "nodes_missing_value_tracks_true", [0] * m))
    if thresholds is None:
        thresholds = np.zeros(m)
    for name, arr in (("nodes_nodeids", node_ids), ("nodes_modes", modes), ("nodes_values", thresholds),
                      ("nodes_featureids", features), ("nodes_truenodeids", trues),
                      ("nodes_falsenodeids", falses), ("nodes_missing_value_tracks_true", missing)):
        if len(arr) != m:
            raise TreeError(f"{name} has {len(arr)} entries, nodes_treeids {m}")
    index: dict[tuple[int, int], int] = {}
    for i, key in enumerate(zip(tree_ids, node_ids, strict=True)):
        if key in index:
            raise TreeError(f"node {key[1]} of tree {key[0]} appears twice")
        index[key] = i
    prefix = "class" if classifier else "target"
    w_trees, w_nodes = list(_get(attrs_, f"{prefix}_treeids", [])), list(_get(attrs_, f"{prefix}_nodeids", []))
    w_ids = list(_get(attrs_, f"{prefix}_ids", []))
    weights, w_double = _floats(attrs_, f"{prefix}_weights")
    weights = np.zeros(0) if weights is None else weights
    if not len(w_trees) == len(w_nodes) == len(w_ids) == len(weights):
        raise TreeError(f"the {prefix}_* attributes differ in length")
    if classifier:
        labels = attrs_.get("classlabels_int64s")
        if labels is None:
            raise TreeError("string class labels (classlabels_strings) are not supported; export integer labels")
        n_targets = len(labels)
    else:
        n_targets = int(_get(attrs_, "n_targets", 1))
    leaf_row = {i: r for r, i in enumerate(i for i in range(m) if modes[i] == "leaf")}
    values = np.zeros((len(leaf_row), n_targets))
    votes = np.zeros((len(leaf_row), n_targets), dtype=bool)
    for t, nd, c, w in zip(w_trees, w_nodes, w_ids, weights, strict=True):
        i = index.get((t, nd))
        if i is None or i not in leaf_row:
            raise TreeError(f"a weight names node {nd} of tree {t}, which is not a leaf")
        if not 0 <= c < n_targets:
            raise TreeError(f"a weight names target {c}; there are {n_targets}")
        if votes[leaf_row[i], c]:
            raise TreeError(f"leaf {nd} of tree {t} has two weights for target {c} (not supported)")
        values[leaf_row[i], c] = w
        votes[leaf_row[i], c] = True
    true = np.zeros(m, np.int64)
    false = np.zeros(m, np.int64)
    for i in range(m):
        if modes[i] == "leaf":
            true[i] = false[i] = leaf_row[i]
            continue
        for arr, child in ((true, trues[i]), (false, falses[i])):
            j = index.get((tree_ids[i], child))
            if j is None or j == i:
                raise TreeError(f"node {node_ids[i]} of tree {tree_ids[i]} points to missing node {child}")
            arr[i] = j
    roots = [tree_ids.index(t) for t in dict.fromkeys(tree_ids)]  # onnxruntime: a tree's first listed node
    base, b_double = _floats(attrs_, "base_values")
    ens = Ensemble(np.array(roots, np.int64), np.array([f if md != "leaf" else -1 for f, md in
                                                        zip(features, modes, strict=True)], np.int64),
                   np.array([MODES.index(md) for md in modes], np.int64), thresholds, true, false,
                   np.array(missing, bool), values, votes)
    return ens, np.zeros(0) if base is None else base, double or w_double or b_double


def from_v5(attrs_: dict[str, Any]) -> Ensemble:
    """The ensemble of an ai.onnx.ml opset-5 TreeEnsemble (interior nodes and leaves apart)."""
    modes5 = np.asarray(attrs_["nodes_modes"]).astype(np.int64).ravel()
    if np.any((modes5 < 0) | (modes5 > 5)):
        raise TreeError("node mode BRANCH_MEMBER (6) and unknown modes are not supported")
    splits = np.asarray(attrs_["nodes_splits"], dtype=np.float64).ravel()
    features = list(attrs_["nodes_featureids"])
    trues, true_leaf = list(attrs_["nodes_truenodeids"]), list(attrs_["nodes_trueleafs"])
    falses, false_leaf = list(attrs_["nodes_falsenodeids"]), list(attrs_["nodes_falseleafs"])
    n = len(modes5)
    missing = list(_get(attrs_, "nodes_missing_value_tracks_true", [0] * n))
    targets = list(attrs_["leaf_targetids"])
    weights = np.asarray(attrs_["leaf_weights"], dtype=np.float64).ravel()
    n_leaves = len(targets)
    if len(weights) != n_leaves or not all(len(a) == n for a in (splits, features, trues, true_leaf, falses,
                                                                   false_leaf, missing)):
        raise TreeError("the nodes_* / leaf_* attributes differ in length")
    n_targets = int(attrs_.get("n_targets") or (max(targets) + 1 if targets else 1))
    values = np.zeros((n_leaves, n_targets))
    votes = np.zeros((n_leaves, n_targets), dtype=bool)
    for r, (t, w) in enumerate(zip(targets, weights, strict=True)):
        if not 0 <= t < n_targets:
            raise TreeError(f"leaf {r} names target {t}; there are {n_targets}")
        values[r, t], votes[r, t] = w, True

    def child(c: int, leaf: int) -> int:
        limit = n_leaves if leaf else n
        if not 0 <= c < limit:
            raise TreeError(f"a node points to {'leaf' if leaf else 'node'} {c} of {limit}")
        return n + c if leaf else c

    true = np.array([child(c, lf) for c, lf in zip(trues, true_leaf, strict=True)] + list(range(n_leaves)),
                    np.int64)
    false = np.array([child(c, lf) for c, lf in zip(falses, false_leaf, strict=True)] + list(range(n_leaves)),
                     np.int64)
    roots = list(attrs_["tree_roots"])
    if any(not 0 <= r < n for r in roots):
        raise TreeError("tree_roots names a node that does not exist")
    return Ensemble(np.array(roots, np.int64), np.array(features + [-1] * n_leaves, np.int64),
                    np.concatenate([modes5, np.full(n_leaves, LEAF)]),
                    np.concatenate([splits, np.zeros(n_leaves)]), true, false,
                    np.array(missing + [0] * n_leaves, bool), values, votes)


# ----------------------------------------------------------------------------- onnxruntime's arithmetic

def aggregate(ens: Ensemble, rows: np.ndarray, how: str, dtype: Any) -> tuple[np.ndarray, np.ndarray]:
    """Per-sample target scores and "has a score" flags, tree by tree in ``dtype``."""
    n = rows.shape[0]
    acc = np.zeros((n, ens.n_targets), dtype)
    has = np.zeros((n, ens.n_targets), bool)
    values = ens.values.astype(dtype)
    for k in range(ens.n_trees):
        v, vote = values[rows[:, k]], ens.votes[rows[:, k]]
        if how in ("SUM", "AVERAGE"):
            acc = np.where(vote, acc + v, acc)
        else:
            better = v < acc if how == "MIN" else v > acc
            acc = np.where(vote & (~has | better), v, acc)
        has |= vote
    return acc, has


def logistic(v: np.ndarray) -> np.ndarray:
    a = np.asarray(v, np.float32)
    p = (1 / (1 + np.exp(-np.abs(a).astype(np.float64)))).astype(np.float32)
    return np.where(a < 0, np.float32(1) - p, p).astype(np.float32)


def probit(v: np.ndarray) -> np.ndarray:
    from statistics import NormalDist

    dist = NormalDist()
    flat = [dist.inv_cdf(p) if 0 < p < 1 else math.copysign(math.inf, p - 0.5) for p in np.ravel(v)]
    return np.asarray(flat, np.float64).reshape(np.shape(v)).astype(np.float32)


def transform(s: np.ndarray, post: str) -> np.ndarray:
    """The post transform of score rows ``s`` [N, k] (float32 results)."""
    s = np.asarray(s, np.float64)
    if post == "LOGISTIC":
        return logistic(s)
    if post == "PROBIT":
        return probit(s)
    if post == "SOFTMAX":
        e = np.exp(s - np.max(s, axis=1, keepdims=True))
        return (e / np.sum(e, axis=1, keepdims=True)).astype(np.float32)
    if post == "SOFTMAX_ZERO":  # onnxruntime: a score within 1e-7 of 0 stays ~0 and is not summed
        m = np.max(s, axis=1, keepdims=True)
        nonzero = np.abs(s) > np.float64(np.float32(1e-7))
        e = np.where(nonzero, np.exp(s - m), s * np.exp(-m))
        with np.errstate(divide="ignore", invalid="ignore"):
            return (e / np.sum(np.where(nonzero, e, 0), axis=1, keepdims=True)).astype(np.float32)
    return s.astype(np.float32)


def _write(scores: list[float], has: list[bool], post: str, second: int) -> list[float]:
    """onnxruntime's ``write_scores``: the post transform, and for one score the second
    class it makes up (``second``: 0/1 all weights positive, 2/3 mixed, -1 none)."""
    s = np.array([scores], np.float32)
    if len(scores) >= 2:  # a score without a vote is written as 0
        return list(transform(np.where(has, s, np.float32(0)), post)[0])
    if post == "PROBIT":
        return [float(probit(s)[0, 0])]
    # onnxruntime makes up the other class's score; only LOGISTIC transforms it
    if second in (0, 1):
        p = logistic(s)[0, 0] if post == "LOGISTIC" else s[0, 0]
        return [float(np.float32(1) - p), float(p)]
    if second in (2, 3):
        if post == "LOGISTIC":
            return [float(logistic(-s)[0, 0]), float(logistic(s)[0, 0])]
        return [float(-s[0, 0]), float(s[0, 0])]
    raise TreeError("a binary classifier without a second class score")


def run_regressor(ens: Ensemble, base: np.ndarray, how: str, post: str, x: np.ndarray, dtype: Any) -> np.ndarray:
    """TreeEnsembleRegressor / TreeEnsemble as onnxruntime computes it: [N, targets] float32."""
    acc, has = aggregate(ens, ens.leaves(x), how, dtype)
    base = base.astype(dtype)
    t = ens.n_targets
    if how == "AVERAGE":
        acc = (acc / dtype(ens.n_trees)).astype(dtype)
    if t == 1:
        origin = base[0] if len(base) == 1 else dtype(0)
        acc = np.where(has | (how in ("SUM", "AVERAGE")), acc + origin, origin)
        return (probit(acc) if post == "PROBIT" else acc).astype(np.float32)
    if how in ("MIN", "MAX"):
        acc = np.where(has, acc, dtype(0))
    if len(base) == t:
        acc = (acc + base[None, :]).astype(dtype)
    return transform(np.where(has, acc, dtype(0)), post)  # a target no leaf voted for is written as 0


def run_classifier(ens: Ensemble, base: np.ndarray, labels: list[int], post: str, x: np.ndarray,
                   dtype: Any) -> tuple[np.ndarray, np.ndarray]:
    """TreeEnsembleClassifier as onnxruntime computes it: labels [N] and scores [N, C]."""
    acc, has = aggregate(ens, ens.leaves(x), "SUM", dtype)
    c = len(labels)
    voted = {int(k) for k in np.nonzero(ens.votes.any(axis=0))[0]}
    binary = c == 2 and len(voted) == 1
    positive = bool(np.all(ens.values[ens.votes] >= 0))
    base = [dtype(b) for b in base]
    out_labels, out_scores = [], []
    for n in range(acc.shape[0]):
        s, h = [dtype(v) for v in acc[n]], [bool(v) for v in has[n]]
        second = -1
        if c > 2:
            for k, b in enumerate(base[:c]):
                s[k], h[k] = (s[k] + b if h[k] else b), True
            best = max((k for k in range(c) if h[k]), key=lambda k: (s[k], -k), default=0)
            label = labels[best]
        else:
            if len(base) == 2:
                if h[1]:
                    s[1] = base[1] + s[0]
                    s[0] = -s[1]
                else:
                    s[1], s[0] = s[1] + base[1], s[0] + base[0]
            elif len(base) == 1:
                s[0] = s[0] + base[0]
                if not h[1]:
                    s, h = s[:1], h[:1]
            elif not base:
                second = 3
                if not h[1]:
                    s, h = s[:1], h[:1]
            pos = s[1] if len(s) == 2 and h[1] else (s[0] if h[0] else dtype(0))
            if binary:
                cut = 0.5 if positive else 0.0
                win = pos > cut
                second = (0 if win else 1) if positive else (2 if win else 3)
                label = labels[1] if win else labels[0]
            else:
                label = 1 if pos > 0 else 0
        scores = _write(s, h, post, second)
        out_labels.append(label)
        out_scores.append(scores + [0.0] * (c - len(scores)))
    return np.array(out_labels, np.int64), np.array(out_scores, np.float32)
