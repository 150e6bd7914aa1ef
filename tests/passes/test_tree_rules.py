"""The ``onnx``-level tree-ensemble rules (``runtime/trees.py``) against onnxruntime.

The committed example models (``examples/trees``) and the zoo's ``bdt_iris`` run on
their golden inputs; small random ensembles built with ``onnx.helper`` (every branch
mode, thresholds on a grid the inputs hit exactly, NaN inputs, base values, post
transforms, the binary-classifier special cases, ``*_as_tensor`` doubles, opset-5
``TreeEnsemble``, renumbered trees and nodes) run on random grid inputs.  Labels must
agree exactly; scores within 1e-6 absolute (models) / 1e-5 (random ensembles): fmlc
computes softmax / logistic in float64 and rounds, onnxruntime in float32.  onnxruntime
runs single-threaded, so it sums the trees in order, as fmlc does.

At the end, one small deterministic case per behaviour of onnxruntime 1.31 that the
random tests found, so that a failure names it.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from onnx import TensorProto, helper, numpy_helper

from fmlc.compiler import models
from fmlc.compiler.diagnostics import FmlcError
from fmlc.compiler.driver import load_all

ort = pytest.importorskip("onnxruntime")

load_all()

ROOT = Path(__file__).parents[2]
EXAMPLES = sorted((ROOT / "examples" / "trees").glob("*.onnx"))
BDT_IRIS = (ROOT / ".." / "shared" / "zoo" / "public" / "bdt_iris.onnx").resolve()
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

V3_MODES = ("BRANCH_LEQ", "BRANCH_LT", "BRANCH_GTE", "BRANCH_GT", "BRANCH_EQ", "BRANCH_NEQ")
V5_AGGREGATES = ("AVERAGE", "SUM", "MIN", "MAX")
V5_POSTS = ("NONE", "SOFTMAX", "LOGISTIC", "SOFTMAX_ZERO", "PROBIT")
GRID = (-1.0, -0.5, 0.0, 0.5, 1.0)
OFF_GRID = (-0.75, 0.1, 0.3, 1.7)        # thresholds that the inputs hit seldom (0.1: float vs double) or never
INPUTS = GRID + (-2.0, -0.25, 0.1, 0.75, 3.0)
WEIGHTS = (-1.0, -0.5, -0.25, 0.0, 0.25, 0.5, 1.0, 2.0)
MULTI_POSTS = ("NONE", "SOFTMAX", "LOGISTIC", "SOFTMAX_ZERO")
V5_ORT_POSTS = ("NONE", "SOFTMAX_ZERO")  # codes 1 and 2 differ between the spec and onnxruntime (see below)
CLASSIFIER_POSTS = ("NONE", "LOGISTIC", "SOFTMAX")
# onnxruntime writes a stale value into the second column of a two-class classifier whose
# lone score has no second-class rule (base_values of length 1, both classes voted somewhere,
# class 1 not by this sample); fmlc refuses with this message.
NO_SECOND_CLASS = "a binary classifier without a second class score"


# ----------------------------------------------------------------------------- running both sides

def ort_session(model: onnx.ModelProto | Path) -> Any:
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    src = model.SerializeToString() if isinstance(model, onnx.ModelProto) else str(model)
    return ort.InferenceSession(src, so, providers=["CPUExecutionProvider"])


def zipmap_labels(model: onnx.ModelProto) -> list[int]:
    (node,) = [n for n in model.graph.node if n.op_type == "ZipMap"]
    return list(next(helper.get_attribute_value(a) for a in node.attribute if a.name == "classlabels_int64s"))


def ort_outputs(model: onnx.ModelProto, sess: Any, x: np.ndarray) -> dict[str, np.ndarray]:
    """onnxruntime's outputs by name; ZipMap's list of dicts flattened to [N, C] in class order."""
    names = [o.name for o in sess.get_outputs()]
    res = sess.run(None, {sess.get_inputs()[0].name: x})
    out = {}
    for name, r in zip(names, res, strict=True):
        if isinstance(r, list):
            labels = zipmap_labels(model)
            r = np.array([[row[k] for k in labels] for row in r], np.float32)
        out[name] = np.asarray(r)
    return out


def fmlc_outputs(path: Path, x: np.ndarray) -> dict[str, np.ndarray]:
    m = models.load(str(path))
    (in_name,), _ = models.interface_names(m)
    return models.run_batch(m, {in_name: x})


def fmlc_outputs_of(model: onnx.ModelProto, x: np.ndarray) -> dict[str, np.ndarray]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.onnx"
        onnx.save(model, str(path))
        return fmlc_outputs(path, x)


def compare(fm: dict[str, np.ndarray], rt: dict[str, np.ndarray], tol: float, what: str,
            rtol: float | None = None) -> dict[str, float]:
    """Integer outputs (labels) exactly, float outputs (scores) within ``tol`` absolute plus
    ``rtol`` (default ``tol``) relative; returns the max abs difference of each float output."""
    assert fm.keys() == rt.keys(), what
    diffs = {}
    for name, want in rt.items():
        got = np.asarray(fm[name])
        assert got.size == want.size, f"{what}: output {name} has shape {got.shape}, onnxruntime {want.shape}"
        if np.issubdtype(want.dtype, np.integer):
            np.testing.assert_array_equal(got.reshape(want.shape), want, err_msg=f"{what}: output {name}")
            continue
        got = got.astype(np.float64).reshape(want.shape)
        np.testing.assert_allclose(got, want.astype(np.float64), rtol=tol if rtol is None else rtol, atol=tol,
                                   equal_nan=True, err_msg=f"{what}: output {name}")
        finite = np.isfinite(want)
        diffs[name] = float(np.max(np.abs(got[finite] - want[finite]), initial=0.0))
    return diffs


def describe(model: onnx.ModelProto, x: np.ndarray) -> str:
    node = model.graph.node[0]
    attrs = {}
    for a in node.attribute:
        v = helper.get_attribute_value(a)
        attrs[a.name] = numpy_helper.to_array(v).tolist() if isinstance(v, onnx.TensorProto) else v
    return f"{node.op_type} {attrs}\nx = {x.tolist()}"


def check_random(model: onnx.ModelProto, x: np.ndarray, tol: float = 1e-5) -> None:
    """fmlc vs onnxruntime on a generated model; attribute sets onnxruntime refuses are skipped."""
    try:
        want = ort_outputs(model, ort_session(model), x)
    except Exception:  # onnxruntime rejects the attribute set: nothing to compare with
        assume(False)
        raise
    try:
        got = fmlc_outputs_of(model, x)
    except FmlcError as e:
        assume(NO_SECOND_CLASS not in str(e))
        raise
    compare(got, want, tol, describe(model, x))


# ----------------------------------------------------------------------------- committed models

MODEL_PATHS = [pytest.param(p, id=p.stem) for p in EXAMPLES] + [pytest.param(BDT_IRIS, id="bdt_iris")]


@pytest.mark.parametrize("path", MODEL_PATHS)
def test_models_match_onnxruntime(path: Path) -> None:
    if not path.exists():
        pytest.skip(f"{path} not found")
    golden = np.load(path.with_suffix(".npz"))
    x = golden["x"].astype(np.float32)
    model = onnx.load(str(path))
    want = ort_outputs(model, ort_session(path), x)
    compare(fmlc_outputs(path, x), want, 1e-6, path.name, rtol=0.0)
    # and this onnxruntime reproduces the committed goldens
    (scores,) = [v for v in want.values() if v.dtype.kind == "f"]
    np.testing.assert_allclose(scores.reshape(golden["y"].shape), golden["y"], rtol=0, atol=1e-6)
    if "y_label" in golden.files:
        (labels,) = [v for v in want.values() if v.dtype.kind == "i"]
        np.testing.assert_array_equal(labels, golden["y_label"])


# ----------------------------------------------------------------------------- random ensembles

Forest = list[list[dict[str, Any]]]


def draw_tree(draw: Any, n_features: int) -> list[dict[str, Any]]:
    """One random tree of depth <= 4: a list of nodes in preorder (root first), interior
    nodes ``{mode, feature, threshold, missing, true, false}`` (children as indices into the
    list), leaves ``{mode: "LEAF"}``."""
    depth = draw(st.integers(0, 4))
    thresholds = st.sampled_from(GRID) | st.sampled_from(OFF_GRID)
    nodes: list[dict[str, Any]] = []

    def build(level: int) -> int:
        i = len(nodes)
        nodes.append({"mode": "LEAF"})
        if level < depth and (level == 0 or draw(st.integers(0, 3)) > 0):
            node = {"mode": draw(st.sampled_from(V3_MODES)), "feature": draw(st.integers(0, n_features - 1)),
                    "threshold": draw(thresholds), "missing": draw(st.booleans())}
            node["true"] = build(level + 1)
            node["false"] = build(level + 1)
            nodes[i] = node
        return i

    build(0)
    return nodes


@st.composite
def forests(draw: Any, n_trees: int, n_features: int) -> Forest:
    return [draw_tree(draw, n_features) for _ in range(n_trees)]


def leaves_of(forest: Forest) -> list[tuple[int, int]]:
    return [(t, i) for t, nodes in enumerate(forest) for i, n in enumerate(nodes) if n["mode"] == "LEAF"]


def v3_node_attrs(forest: Forest, double: bool, tree_ids: list[int] | None = None,
                  node_ids: list[list[int]] | None = None) -> dict[str, Any]:
    """The legacy ``nodes_*`` attributes, tree by tree, root first; ``tree_ids`` / ``node_ids``
    renumber trees and nodes (default: tree index, preorder index)."""
    a: dict[str, list[Any]] = {k: [] for k in ("nodes_treeids", "nodes_nodeids", "nodes_modes", "nodes_featureids",
                                               "nodes_values", "nodes_truenodeids", "nodes_falsenodeids",
                                               "nodes_missing_value_tracks_true")}
    for t, nodes in enumerate(forest):
        ids = node_ids[t] if node_ids else list(range(len(nodes)))
        for i, n in enumerate(nodes):
            leaf = n["mode"] == "LEAF"
            a["nodes_treeids"].append(tree_ids[t] if tree_ids else t)
            a["nodes_nodeids"].append(ids[i])
            a["nodes_modes"].append(n["mode"])
            a["nodes_featureids"].append(0 if leaf else n["feature"])
            a["nodes_values"].append(0.0 if leaf else n["threshold"])
            a["nodes_truenodeids"].append(0 if leaf else ids[n["true"]])
            a["nodes_falsenodeids"].append(0 if leaf else ids[n["false"]])
            a["nodes_missing_value_tracks_true"].append(0 if leaf else int(n["missing"]))
    if double:
        a.update(floats_attr("nodes_values", a.pop("nodes_values"), True))
    return a


def floats_attr(name: str, values: list[float], double: bool) -> dict[str, Any]:
    if double:
        return {f"{name}_as_tensor": helper.make_tensor(f"{name}_as_tensor", TensorProto.DOUBLE, [len(values)],
                                                        values)}
    return {name: values}


def make_model(op_type: str, attrs: dict[str, Any], n_features: int, outputs: list[onnx.ValueInfoProto],
               ml_opset: int = 3, ir_version: int = 8, in_type: int = TensorProto.FLOAT) -> onnx.ModelProto:
    attrs = {k: v for k, v in attrs.items() if not (isinstance(v, list) and not v)}  # helper cannot type []
    node = helper.make_node(op_type, ["input"], [o.name for o in outputs], domain="ai.onnx.ml", **attrs)
    graph = helper.make_graph([node], "trees", [helper.make_tensor_value_info("input", in_type, [None, n_features])],
                              outputs)
    return helper.make_model(graph, ir_version=ir_version,
                             opset_imports=[helper.make_opsetid("", 18), helper.make_opsetid("ai.onnx.ml", ml_opset)])


def regressor_output(n_targets: int, elem: int = TensorProto.FLOAT) -> list[onnx.ValueInfoProto]:
    return [helper.make_tensor_value_info("variable", elem, [None, n_targets])]


def classifier_outputs(n_classes: int) -> list[onnx.ValueInfoProto]:
    return [helper.make_tensor_value_info("label", TensorProto.INT64, [None]),
            helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [None, n_classes])]


def in_type(double: bool) -> int:
    """onnxruntime reads ``*_as_tensor`` (double) attributes only in its double-input kernels."""
    return TensorProto.DOUBLE if double else TensorProto.FLOAT


@st.composite
def inputs(draw: Any, n_features: int, double: bool = False) -> np.ndarray:
    """1-8 samples on the input grid (which holds every grid threshold), NaN in some draws."""
    n = draw(st.integers(1, 8))
    value = st.sampled_from(INPUTS) | st.just(float("nan")) if draw(st.booleans()) else st.sampled_from(INPUTS)
    rows = draw(st.lists(st.lists(value, min_size=n_features, max_size=n_features), min_size=n, max_size=n))
    return np.array(rows, np.float32).astype(np.float64 if double else np.float32)


weights_st = st.sampled_from(WEIGHTS) | st.floats(-3, 3, width=32, allow_subnormal=False)


@st.composite
def regressors(draw: Any, double: bool = False) -> tuple[onnx.ModelProto, np.ndarray]:
    """TreeEnsembleRegressor: 1-3 targets, every aggregate (MIN/MAX: every leaf votes every
    target; SUM/AVERAGE with several targets: each leaf votes any subset), base values or
    none, a post transform with several targets."""
    n_features = draw(st.integers(1, 5))
    n_targets = draw(st.integers(1, 3))
    how = draw(st.sampled_from(("SUM", "AVERAGE", "MIN", "MAX")))
    forest = draw(forests(draw(st.integers(1, 6)), n_features))
    ids, nodes, tree_ids, weights = [], [], [], []
    for t, i in leaves_of(forest):
        if how in ("MIN", "MAX") or n_targets == 1:
            voted = list(range(n_targets))
        else:
            voted = sorted(draw(st.sets(st.integers(0, n_targets - 1))))
        for c in voted:
            tree_ids.append(t)
            nodes.append(i)
            ids.append(c)
            weights.append(draw(weights_st))
    post = "NONE" if n_targets == 1 else draw(st.sampled_from(MULTI_POSTS))
    attrs = {**v3_node_attrs(forest, double), "n_targets": n_targets, "aggregate_function": how,
             "post_transform": post, "target_treeids": tree_ids, "target_nodeids": nodes, "target_ids": ids,
             **floats_attr("target_weights", weights, double)}
    if draw(st.booleans()):
        base = draw(st.lists(weights_st, min_size=n_targets, max_size=n_targets))
        attrs.update(floats_attr("base_values", base, double))
    model = make_model("TreeEnsembleRegressor", attrs, n_features, regressor_output(n_targets),
                       in_type=in_type(double))
    return model, draw(inputs(n_features, double))


@st.composite
def classifiers(draw: Any, double: bool = False) -> tuple[onnx.ModelProto, np.ndarray]:
    """TreeEnsembleClassifier: 3-4 classes (every leaf votes every class, tree k votes class
    k % C as in gradient boosting, or random subsets with tree 0 voting at every leaf),
    binary (one class id, 0 or 1, weights all positive or mixed), two classes both voted;
    base values of every meaningful length; labels 0..C-1 or arbitrary."""
    n_features = draw(st.integers(1, 5))
    forest = draw(forests(draw(st.integers(1, 6)), n_features))
    kind = draw(st.sampled_from(("multi_all", "multi_gb", "multi_sparse", "binary", "two_all", "two_sparse")))
    n_classes = draw(st.integers(3, 4)) if kind.startswith("multi") else 2
    positive = draw(st.booleans())
    w_st = st.sampled_from((0.0, 0.25, 0.5, 0.75, 1.0)) | st.floats(0, 1, width=32) if positive else weights_st
    binary_class = draw(st.sampled_from((0, 0, 1)))
    ids, nodes, tree_ids, weights = [], [], [], []
    for t, i in leaves_of(forest):
        if kind == "multi_gb":
            voted = [t % n_classes]
        elif kind == "binary":
            voted = [binary_class]
        elif kind.endswith("sparse"):
            voted = sorted(draw(st.sets(st.integers(0, n_classes - 1), min_size=int(t == 0))))
        else:
            voted = list(range(n_classes))
        for c in voted:
            tree_ids.append(t)
            nodes.append(i)
            ids.append(c)
            weights.append(draw(w_st))
    if draw(st.booleans()):
        labels = list(range(n_classes))
    else:
        labels = draw(st.lists(st.integers(-50, 50), min_size=n_classes, max_size=n_classes, unique=True))
    n_base = draw(st.sampled_from((0, n_classes) if n_classes > 2 else (0, 1, 2)))
    attrs = {**v3_node_attrs(forest, double), "post_transform": draw(st.sampled_from(CLASSIFIER_POSTS)),
             "classlabels_int64s": labels, "class_treeids": tree_ids, "class_nodeids": nodes, "class_ids": ids,
             **floats_attr("class_weights", weights, double)}
    if n_base:
        attrs.update(floats_attr("base_values", draw(st.lists(weights_st, min_size=n_base, max_size=n_base)), double))
    model = make_model("TreeEnsembleClassifier", attrs, n_features, classifier_outputs(n_classes),
                       in_type=in_type(double))
    return model, draw(inputs(n_features, double))


@st.composite
def renumbered(draw: Any) -> tuple[onnx.ModelProto, np.ndarray]:
    """A regressor whose trees have arbitrary distinct ids and whose nodes have shuffled ids
    (each tree still lists its root first, the root onnxruntime takes)."""
    n_features = draw(st.integers(1, 3))
    forest = draw(forests(draw(st.integers(1, 4)), n_features))
    tree_ids = draw(st.lists(st.integers(0, 20), min_size=len(forest), max_size=len(forest), unique=True))
    node_ids = [draw(st.permutations(range(len(nodes)))) for nodes in forest]
    leaves = leaves_of(forest)
    attrs = {**v3_node_attrs(forest, False, tree_ids, node_ids), "n_targets": 1,
             "target_treeids": [tree_ids[t] for t, _ in leaves], "target_nodeids": [node_ids[t][i] for t, i in leaves],
             "target_ids": [0] * len(leaves), "target_weights": [draw(weights_st) for _ in leaves]}
    return make_model("TreeEnsembleRegressor", attrs, n_features, regressor_output(1)), draw(inputs(n_features))


def add_tree_v5(nodes: list[dict[str, Any]], cols: dict[str, list[Any]], first_leaf: int) -> int:
    """Append one tree's interior nodes to the opset-5 columns ``cols`` (leaves numbered from
    ``first_leaf``); returns its number of leaves.  A lone leaf becomes one node whose
    branches both reach it."""
    interior = {i: k for k, i in enumerate(i for i, n in enumerate(nodes) if n["mode"] != "LEAF")}
    leaf = {i: first_leaf + k for k, i in enumerate(i for i, n in enumerate(nodes) if n["mode"] == "LEAF")}
    n_leaves = len(leaf)
    if not interior:
        nodes = [{"mode": "BRANCH_LEQ", "feature": 0, "threshold": 0.0, "missing": False, "true": 0, "false": 0}]
        interior, leaf = {0: 0}, {0: first_leaf}
    base = len(cols["modes"])

    def child(i: int) -> tuple[int, int]:
        return (leaf[i], 1) if i in leaf else (base + interior[i], 0)

    for i, n in enumerate(nodes):
        if i not in interior:
            continue
        (t, t_leaf), (f, f_leaf) = child(n["true"]), child(n["false"])
        for name, value in (("splits", n["threshold"]), ("modes", V3_MODES.index(n["mode"])),
                            ("featureids", n["feature"]), ("missing", int(n["missing"])), ("truenodeids", t),
                            ("trueleafs", t_leaf), ("falsenodeids", f), ("falseleafs", f_leaf)):
            cols[name].append(value)
    return n_leaves


@st.composite
def tree_ensembles_v5(draw: Any) -> tuple[onnx.ModelProto, np.ndarray]:
    """ai.onnx.ml opset-5 TreeEnsemble (float or double): every leaf one target weight; a
    single-leaf tree as one node whose branches both reach the leaf."""
    double = draw(st.booleans())
    n_features = draw(st.integers(1, 5))
    n_targets = draw(st.integers(1, 3))
    how = draw(st.sampled_from(V5_AGGREGATES))
    forest = draw(forests(draw(st.integers(1, 6)), n_features))
    cols: dict[str, list[Any]] = {k: [] for k in ("splits", "modes", "featureids", "truenodeids", "trueleafs",
                                                  "falsenodeids", "falseleafs", "missing")}
    targets, weights, roots = [], [], []
    for nodes in forest:
        roots.append(len(cols["modes"]))
        n_leaves = add_tree_v5(nodes, cols, len(targets))
        targets += [0 if n_targets == 1 else draw(st.integers(0, n_targets - 1)) for _ in range(n_leaves)]
        weights += [draw(weights_st) for _ in range(n_leaves)]
    dtype = np.float64 if double else np.float32
    post = "NONE" if n_targets == 1 else draw(st.sampled_from(V5_ORT_POSTS))
    attrs = {"nodes_splits": numpy_helper.from_array(np.array(cols["splits"], dtype), "nodes_splits"),
             "nodes_modes": numpy_helper.from_array(np.array(cols["modes"], np.uint8), "nodes_modes"),
             "nodes_featureids": cols["featureids"], "nodes_truenodeids": cols["truenodeids"],
             "nodes_trueleafs": cols["trueleafs"], "nodes_falsenodeids": cols["falsenodeids"],
             "nodes_falseleafs": cols["falseleafs"], "nodes_missing_value_tracks_true": cols["missing"],
             "leaf_targetids": targets,
             "leaf_weights": numpy_helper.from_array(np.array(weights, dtype), "leaf_weights"),
             "tree_roots": roots, "n_targets": n_targets, "aggregate_function": V5_AGGREGATES.index(how),
             "post_transform": V5_POSTS.index(post)}
    model = make_model("TreeEnsemble", attrs, n_features, regressor_output(n_targets, in_type(double)), ml_opset=5,
                       ir_version=10, in_type=in_type(double))
    return model, draw(inputs(n_features, double))


@FAST
@given(regressors())
def test_random_regressor(case: tuple[onnx.ModelProto, np.ndarray]) -> None:
    check_random(*case)


@FAST
@given(classifiers())
def test_random_classifier(case: tuple[onnx.ModelProto, np.ndarray]) -> None:
    check_random(*case)


@FAST
@given(regressors(double=True))
def test_random_regressor_as_tensor(case: tuple[onnx.ModelProto, np.ndarray]) -> None:
    check_random(*case)


@FAST
@given(classifiers(double=True))
def test_random_classifier_as_tensor(case: tuple[onnx.ModelProto, np.ndarray]) -> None:
    check_random(*case)


@FAST
@given(tree_ensembles_v5())
def test_random_tree_ensemble_v5(case: tuple[onnx.ModelProto, np.ndarray]) -> None:
    check_random(*case)


@FAST
@given(renumbered())
def test_random_node_numbering(case: tuple[onnx.ModelProto, np.ndarray]) -> None:
    check_random(*case)


# ----------------------------------------------------------------------------- one case per onnxruntime behaviour

def assert_matches_ort(model: onnx.ModelProto, x: np.ndarray) -> None:
    compare(fmlc_outputs_of(model, x), ort_outputs(model, ort_session(model), x), 1e-5, describe(model, x))


def stump(weights: dict[str, list[Any]], prefix: str = "target", **attrs: Any) -> dict[str, Any]:
    """One tree, ``x0 <= 0`` -> node 1, else node 2; ``weights`` maps ``ids`` / ``nodeids`` /
    ``weights`` to the ``{prefix}_*`` lists."""
    a = {"nodes_treeids": [0, 0, 0], "nodes_nodeids": [0, 1, 2], "nodes_modes": ["BRANCH_LEQ", "LEAF", "LEAF"],
         "nodes_featureids": [0, 0, 0], "nodes_values": [0.0, 0.0, 0.0], "nodes_truenodeids": [1, 0, 0],
         "nodes_falsenodeids": [2, 0, 0], f"{prefix}_treeids": [0] * len(weights["ids"])}
    a.update({f"{prefix}_{k}": v for k, v in weights.items()})
    return {**a, **attrs}


STUMP_X = np.array([[-1.0], [1.0]], np.float32)


@pytest.mark.parametrize("how", ["SUM", "AVERAGE", "MIN", "MAX"])
def test_regressor_target_without_votes_is_zero(how: str) -> None:
    """Several targets: a target no reached leaf votes for comes out 0, its base value not added
    (onnxruntime writes a score whose has-score flag is unset as 0).  ort: [[0, -1.5], [-0.75, 0]]."""
    w = {"ids": [1, 0], "nodeids": [1, 2], "weights": [0.5, 0.25]}
    attrs = stump(w, n_targets=2, base_values=[-1.0, -2.0], aggregate_function=how)
    assert_matches_ort(make_model("TreeEnsembleRegressor", attrs, 1, regressor_output(2)), STUMP_X)


@pytest.mark.parametrize("base", [[0.1], [0.1, -0.3]])
@pytest.mark.parametrize("post", CLASSIFIER_POSTS)
def test_binary_classifier_unvoted_class_is_zero(base: list[float], post: str) -> None:
    """Two classes, only class 1 voted: class 0 has no score, so its base value (or -score[1]
    for two base values) is written as 0 before the post transform.  ort (NONE, base [0.1]):
    [[0, 0.2], [0, 0.9]]; base [0.1, -0.3]: [[0, -0.3], [0, -0.3]]."""
    w = {"ids": [1, 1], "nodeids": [1, 2], "weights": [0.2, 0.9]}
    attrs = stump(w, "class", classlabels_int64s=[0, 1], base_values=base, post_transform=post)
    assert_matches_ort(make_model("TreeEnsembleClassifier", attrs, 1, classifier_outputs(2)), STUMP_X)


@pytest.mark.parametrize("weights", [[0.2, 0.9], [-0.4, 0.7]], ids=["positive", "mixed"])
@pytest.mark.parametrize("post", ["LOGISTIC", "SOFTMAX", "SOFTMAX_ZERO"])
def test_binary_classifier_single_score_post_transform(weights: list[float], post: str) -> None:
    """Binary (class ids all 0), no base values: the one score s becomes two columns.  ort:
    all weights positive -> [1 - T(s), T(s)] with T logistic for LOGISTIC and the identity
    for SOFTMAX / SOFTMAX_ZERO (no softmax); mixed signs -> [L(-s), L(s)] for LOGISTIC, else
    [-s, s].  E.g. positive, SOFTMAX: [[0.8, 0.2], [0.1, 0.9]]; LOGISTIC: [[0.4502, 0.5498], ...]."""
    w = {"ids": [0, 0], "nodeids": [1, 2], "weights": weights}
    attrs = stump(w, "class", classlabels_int64s=[0, 1], post_transform=post)
    assert_matches_ort(make_model("TreeEnsembleClassifier", attrs, 1, classifier_outputs(2)), STUMP_X)


def test_root_is_first_listed_node() -> None:
    """The root of a tree is the first node listed for it, whatever its id (onnxruntime), not
    node id 0.  Root id 2, leaves 0 (true, 1.0) and 1 (false, 2.0).  ort: [[1], [2]]."""
    attrs = {"nodes_treeids": [7, 7, 7], "nodes_nodeids": [2, 0, 1], "nodes_modes": ["BRANCH_LEQ", "LEAF", "LEAF"],
             "nodes_featureids": [0, 0, 0], "nodes_values": [0.0, 0.0, 0.0], "nodes_truenodeids": [0, 0, 0],
             "nodes_falsenodeids": [1, 0, 0], "target_treeids": [7, 7], "target_nodeids": [0, 1], "target_ids": [0, 0],
             "target_weights": [1.0, 2.0], "n_targets": 1}
    assert_matches_ort(make_model("TreeEnsembleRegressor", attrs, 1, regressor_output(1)), STUMP_X)


@pytest.mark.parametrize("code", [1, 2])
def test_tree_ensemble_v5_post_transform_codes(code: int) -> None:
    """TreeEnsemble (opset 5) post_transform 1 / 2: fmlc follows the ONNX spec (SOFTMAX /
    LOGISTIC); onnxruntime 1.31 reads them in its own enum order (1 = LOGISTIC, 2 = SOFTMAX),
    so fmlc's result for code 1 is onnxruntime's for code 2 and the other way round."""
    f32 = lambda v: numpy_helper.from_array(np.array(v, np.float32))  # noqa: E731

    def model(post: int) -> onnx.ModelProto:
        attrs = {"nodes_splits": f32([0.0]), "nodes_modes": numpy_helper.from_array(np.array([0], np.uint8)),
                 "nodes_featureids": [0], "nodes_truenodeids": [0], "nodes_trueleafs": [1],
                 "nodes_falsenodeids": [1], "nodes_falseleafs": [1], "leaf_targetids": [0, 1],
                 "leaf_weights": f32([1.0, -0.5]), "tree_roots": [0], "n_targets": 2, "aggregate_function": 1,
                 "post_transform": post}
        return make_model("TreeEnsemble", attrs, 1, regressor_output(2), ml_opset=5, ir_version=10)

    swapped = model(3 - code)
    compare(fmlc_outputs_of(model(code), STUMP_X), ort_outputs(swapped, ort_session(swapped), STUMP_X), 1e-5,
            describe(model(code), STUMP_X))


@pytest.mark.parametrize(("n_targets", "how"), [(1, "SUM"), (1, "MAX"), (2, "MIN"), (2, "MAX")])
def test_duplicate_leaf_weights_are_refused(n_targets: int, how: str) -> None:
    """Two weight entries for one (leaf, target): onnxruntime's result depends on the aggregate
    (the first entry with one target, the MIN / MAX of the entries with several); no exporter
    writes them, and fmlc refuses them at the import with an error naming the node."""
    w = {"ids": [0, 0, 0], "nodeids": [1, 1, 2], "weights": [0.5, 0.25, 1.0]}
    attrs = stump(w, n_targets=n_targets, aggregate_function=how)
    with pytest.raises(FmlcError, match="has two weights for target 0"):
        fmlc_outputs_of(make_model("TreeEnsembleRegressor", attrs, 1, regressor_output(n_targets)), STUMP_X)


@pytest.mark.parametrize("weights", [[-1.0, -1.0, 1e-7], [-5.9604645e-08, -5.9604645e-08, 0.0]],
                         ids=["at_threshold", "all_tiny"])
def test_softmax_zero_small_scores(weights: list[float]) -> None:
    """SOFTMAX_ZERO (onnxruntime, in float): a score s with ``|s| > 1e-7f`` is exp(s - max), any
    other s * exp(-max), and the sum divided by runs over the former only.  float32(1e-7)
    itself is "zero": ort [[0.5, 0.5, 1.359e-7]] (fmlc, comparing with the double 1e-7:
    [[0.212, 0.212, 0.576]]); scores all tiny divide by 0: ort [[-inf, -inf, nan]]."""
    w = {"ids": [0, 1, 2], "nodeids": [1, 1, 1], "weights": weights}
    attrs = stump(w, n_targets=3, post_transform="SOFTMAX_ZERO")
    assert_matches_ort(make_model("TreeEnsembleRegressor", attrs, 1, regressor_output(3)), STUMP_X[:1])


def test_two_classes_without_second_score_is_refused() -> None:
    """Both classes voted somewhere, one base value, a sample that reaches only class-0 votes:
    onnxruntime leaves the second column stale; fmlc refuses rather than invent it."""
    w = {"ids": [0, 0, 1], "nodeids": [1, 2, 2], "weights": [0.2, 0.9, 0.4]}
    attrs = stump(w, "class", classlabels_int64s=[0, 1], base_values=[0.1])
    with pytest.raises(FmlcError, match=NO_SECOND_CLASS):
        fmlc_outputs_of(make_model("TreeEnsembleClassifier", attrs, 1, classifier_outputs(2)), STUMP_X)
