"""Export ONNX-ML tree-ensemble test models, with onnxruntime goldens, so that CI never needs the training libraries.

This script is run by hand, in its own virtual environment; CI only reads the files it writes::

    python3 -m venv /tmp/mlvenv
    /tmp/mlvenv/bin/pip install scikit-learn skl2onnx xgboost lightgbm onnxmltools onnx==1.19.1 onnxruntime numpy
    /tmp/mlvenv/bin/python examples/export_trees.py            # --out defaults to examples/trees

For every model ``NAME`` it writes ``OUT/NAME.onnx`` and ``OUT/NAME.npz``, and at the end ``OUT/MODELS.md``
(library versions, and per model the facts of its tree operator).  The models are small sklearn, xgboost and
lightgbm ensembles on synthetic data with 6 features (3 classes for the multiclass classifiers), converted
with skl2onnx / onnxmltools, plus ``te5_reg``: ``sk_gb_reg`` rewritten as one ``ai.onnx.ml`` opset-5
``TreeEnsemble`` node.  The inputs lie on the grid of ``fixed<16,6>`` (multiples of 2^-10, |x| <= 7.5), so
they are exact in the compiler's default input type.  The golden ``npz`` holds ``x`` float32[256, 6]
(held out from training), ``y`` (onnxruntime's probabilities / scores as float32; a ZipMap's list of
dicts flattened to [N, C] in class order), for classifiers ``y_label`` int64[N] (onnxruntime's label
output) and ``label`` (ground truth), for regressors ``target`` (ground truth).

Everything is seeded and single-threaded: two runs write byte-identical files (a few seconds).  The goldens
come from single-threaded onnxruntime; a multi-threaded session sums the trees in another order and can
differ in the last bits (up to 2.4e-7 here).
"""

from __future__ import annotations

import argparse
import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightgbm
import numpy as np
import onnx
import onnx.version_converter
import onnxmltools
import onnxruntime as ort
import skl2onnx
import sklearn
import xgboost
from onnx import helper, numpy_helper
from onnxmltools.convert.common.data_types import FloatTensorType as MlFloatTensorType
from skl2onnx.common.data_types import FloatTensorType
from sklearn.datasets import make_classification, make_regression
from sklearn.ensemble import (
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

REPO = Path(__file__).resolve().parent.parent
N_FEATURES, N_CLASSES = 6, 3
N_TRAIN, N_GOLDEN = 1024, 256
X_MAX, X_STEP = 7.5, 2.0**-10  # |x| <= X_MAX < 8, on the fixed<16,6> grid
SEED = 0
OPSET, ML_OPSET = 18, 3  # the most skl2onnx may use; it writes the lowest that suffices (ai.onnx.ml 1 here)
MLTOOLS_OPSET = 15  # the highest onnxmltools 1.16 accepts
TE5_OPSETS = {"": 21, "ai.onnx.ml": 5}
INPUT = "input"
LEGACY_TREE_OPS = ("TreeEnsembleClassifier", "TreeEnsembleRegressor")
MODES = ["BRANCH_LEQ", "BRANCH_LT", "BRANCH_GTE", "BRANCH_GT", "BRANCH_EQ", "BRANCH_NEQ", "BRANCH_MEMBER"]
AGGREGATES = ["AVERAGE", "SUM", "MIN", "MAX"]
POST_TRANSFORMS = ["NONE", "SOFTMAX", "LOGISTIC", "SOFTMAX_ZERO", "PROBIT"]


# ------------------------------------------------------------------------------------------------ data
@dataclass
class Data:
    """Training and golden (held-out) samples; ``y`` is a class index or a regression target."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_gold: np.ndarray
    y_gold: np.ndarray


def _to_grid(x: np.ndarray) -> np.ndarray:
    """Scale so max |x| = X_MAX, then round to multiples of X_STEP (exact in float32 and in fixed<16,6>)."""
    x = x * (X_MAX / np.abs(x).max())
    return (np.round(x / X_STEP) * X_STEP).astype(np.float32)


def make_data(task: str, seed: int) -> Data:
    """``task``: 'multiclass', 'binary' or 'regression'; the last N_GOLDEN samples are held out."""
    n = N_TRAIN + N_GOLDEN
    if task == "regression":
        x, y = make_regression(n_samples=n, n_features=N_FEATURES, n_informative=4, noise=10.0, random_state=seed)
        x = _to_grid(x)
        y = x[:, 0] * x[:, 1] / 8 + y / np.std(y) * 2  # a little non-linearity; |target| of a few units
        y = y.astype(np.float32)
    else:
        classes = N_CLASSES if task == "multiclass" else 2
        x, y = make_classification(n_samples=n, n_features=N_FEATURES, n_informative=4, n_redundant=1,
                                   n_classes=classes, n_clusters_per_class=1, random_state=seed)
        x, y = _to_grid(x), y.astype(np.int64)
    return Data(x[:N_TRAIN], y[:N_TRAIN], x[N_TRAIN:], y[N_TRAIN:])


# ---------------------------------------------------------------------------------------------- models
@dataclass
class Spec:
    """One model: its task, an unfitted estimator and how to convert the fitted one."""

    name: str
    task: str
    make: Callable[[], Any]
    exporter: str  # 'skl2onnx', 'skl2onnx-nozipmap', 'xgboost' or 'lightgbm'


def _skl(model: Any, zipmap: bool = True) -> onnx.ModelProto:
    options = None if zipmap else {id(model): {"zipmap": False}}
    return skl2onnx.convert_sklearn(model, initial_types=[(INPUT, FloatTensorType([None, N_FEATURES]))],
                                    target_opset={"": OPSET, "ai.onnx.ml": ML_OPSET}, options=options)


def _xgb(model: Any) -> onnx.ModelProto:
    return onnxmltools.convert_xgboost(model, initial_types=[(INPUT, MlFloatTensorType([None, N_FEATURES]))],
                                       target_opset=MLTOOLS_OPSET)


def _lgbm(model: Any) -> onnx.ModelProto:
    return onnxmltools.convert_lightgbm(model, initial_types=[(INPUT, MlFloatTensorType([None, N_FEATURES]))],
                                        target_opset=MLTOOLS_OPSET, zipmap=False)


CONVERTERS: dict[str, Callable[[Any], onnx.ModelProto]] = {
    "skl2onnx": _skl,
    "skl2onnx-nozipmap": lambda m: _skl(m, zipmap=False),
    "xgboost": _xgb,
    "lightgbm": _lgbm,
}
XGB = {"max_depth": 3, "learning_rate": 0.3, "n_jobs": 1, "random_state": SEED, "tree_method": "exact"}
LGBM = {"num_leaves": 8, "learning_rate": 0.2, "n_jobs": 1, "random_state": SEED, "deterministic": True,
        "force_row_wise": True, "verbose": -1}

SPECS = [
    Spec("sk_gb_clf", "multiclass", lambda: GradientBoostingClassifier(n_estimators=8, max_depth=3,
                                                                       random_state=SEED), "skl2onnx"),
    Spec("sk_gb_bin", "binary", lambda: GradientBoostingClassifier(n_estimators=10, max_depth=3,
                                                                   random_state=SEED), "skl2onnx-nozipmap"),
    Spec("sk_gb_reg", "regression", lambda: GradientBoostingRegressor(n_estimators=10, max_depth=3,
                                                                      random_state=SEED), "skl2onnx"),
    Spec("sk_rf_clf", "multiclass", lambda: RandomForestClassifier(n_estimators=8, max_depth=4,
                                                                   random_state=SEED, n_jobs=1), "skl2onnx"),
    Spec("sk_rf_reg", "regression", lambda: RandomForestRegressor(n_estimators=8, max_depth=4,
                                                                  random_state=SEED, n_jobs=1), "skl2onnx"),
    Spec("sk_dt_clf", "multiclass", lambda: DecisionTreeClassifier(max_depth=5, random_state=SEED), "skl2onnx"),
    Spec("sk_dt_reg", "regression", lambda: DecisionTreeRegressor(max_depth=5, random_state=SEED), "skl2onnx"),
    Spec("xgb_clf", "multiclass", lambda: xgboost.XGBClassifier(n_estimators=8, **XGB), "xgboost"),
    Spec("xgb_bin", "binary", lambda: xgboost.XGBClassifier(n_estimators=10, **XGB), "xgboost"),
    Spec("xgb_reg", "regression", lambda: xgboost.XGBRegressor(n_estimators=10, **XGB), "xgboost"),
    Spec("lgbm_clf", "multiclass", lambda: lightgbm.LGBMClassifier(n_estimators=8, **LGBM), "lightgbm"),
    Spec("lgbm_reg", "regression", lambda: lightgbm.LGBMRegressor(n_estimators=10, **LGBM), "lightgbm"),
]
DATA_SEEDS = {"multiclass": 1, "binary": 2, "regression": 3}


# ----------------------------------------------------------------------------------------- onnx helpers
def _attrs(node: onnx.NodeProto) -> dict[str, Any]:
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def _tree_node(model: onnx.ModelProto) -> onnx.NodeProto:
    (node,) = [n for n in model.graph.node if n.op_type in (*LEGACY_TREE_OPS, "TreeEnsemble")]
    return node


def finalize(model: onnx.ModelProto, name: str) -> onnx.ModelProto:
    """Make the converter's output uniform and reproducible.

    The default-domain opset becomes at least OPSET (fmlc imports opsets 13 to 21; the converters write the
    lowest that suffices, as low as 8), through ``onnx.version_converter``, or is declared where the graph
    has no default-domain node.  A label output declared as [1] while the batch is dynamic (onnxmltools'
    lightgbm classifier) gets the input's batch dimension.  Doc strings and metadata (they may hold local
    paths) go, the graph is named ``name`` (converters use a random one), and the IR version is the lowest
    the opsets need.
    """
    opsets = {o.domain: o.version for o in model.opset_import}
    if "" not in opsets:
        model.opset_import.append(helper.make_opsetid("", OPSET))
    elif opsets[""] < OPSET:
        converted = onnx.version_converter.convert_version(model, OPSET)
        del converted.graph.output[:]  # it drops a ZipMap output's sequence type: keep the converter's
        converted.graph.output.extend(model.graph.output)
        model = converted
    batch = model.graph.input[0].type.tensor_type.shape.dim[0]
    for out in model.graph.output:
        dims = out.type.tensor_type.shape.dim if out.type.HasField("tensor_type") else []
        if len(dims) == 1 and dims[0].dim_value == 1 and not batch.HasField("dim_value"):
            dims[0].CopyFrom(batch)
    # one import per domain (skl2onnx repeats the default one for regressors), in a fixed order (the
    # version converter's varies)
    versions: dict[str, int] = {}
    for o in model.opset_import:
        versions[o.domain] = max(versions.get(o.domain, 0), o.version)
    del model.opset_import[:]
    model.opset_import.extend(helper.make_opsetid(d, v) for d, v in sorted(versions.items()))
    model.graph.name = name
    model.doc_string = ""
    del model.metadata_props[:]
    model.graph.doc_string = ""
    for item in (*model.graph.node, *model.graph.input, *model.graph.output, *model.graph.value_info,
                 *model.graph.initializer):
        item.doc_string = ""
    for node in model.graph.node:
        for a in node.attribute:
            a.doc_string = ""
    model.ir_version = helper.find_min_ir_version_for(list(model.opset_import))
    onnx.checker.check_model(model, full_check=True)
    return model


def run_ort(model: onnx.ModelProto, x: np.ndarray) -> list[Any]:
    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    sess = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    return sess.run(None, {sess.get_inputs()[0].name: x})


def savez(path: Path, **arrays: np.ndarray) -> None:
    """``np.savez_compressed`` with fixed zip timestamps, so reruns are byte-identical."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for key, value in arrays.items():
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.ascontiguousarray(value), allow_pickle=False)
            info = zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, buf.getvalue())


# ------------------------------------------------------------------------------------- TreeEnsemble v5
def to_tree_ensemble_v5(model: onnx.ModelProto) -> onnx.ModelProto:
    """Rewrite a single-target ``TreeEnsembleRegressor`` model as one ai.onnx.ml opset-5 ``TreeEnsemble`` node.

    Interior nodes go to ``nodes_*`` and leaves to ``leaf_*``, tree by tree in the legacy order.  A nonzero
    ``base_values`` (which opset 5 lacks) becomes one more tree, last: a single leaf holding the base value,
    encoded as the spec says, one ``nodes_*`` entry whose both branches reach that leaf.
    """
    node = _tree_node(model)
    if node.op_type != "TreeEnsembleRegressor":
        raise ValueError(f"expected a TreeEnsembleRegressor, got {node.op_type}")
    a = _attrs(node)
    if a.get("n_targets", 1) != 1:
        raise ValueError("only single-target ensembles")
    values = a["nodes_values"] if "nodes_values" in a else numpy_helper.to_array(a["nodes_values_as_tensor"])
    weights = a["target_weights"] if "target_weights" in a else numpy_helper.to_array(a["target_weights_as_tensor"])
    base = a.get("base_values", [])
    if "base_values_as_tensor" in a:
        base = numpy_helper.to_array(a["base_values_as_tensor"]).tolist()
    missing = a.get("nodes_missing_value_tracks_true", [0] * len(a["nodes_nodeids"]))
    modes = [m.decode() for m in a["nodes_modes"]]
    key = list(zip(a["nodes_treeids"], a["nodes_nodeids"], strict=True))  # (tree, node) of each legacy entry
    leaf_weight: dict[tuple[int, int], float] = {}
    for t, n, w in zip(a["target_treeids"], a["target_nodeids"], weights, strict=True):
        leaf_weight[(t, n)] = leaf_weight.get((t, n), 0.0) + float(w)
    interior = {k: j for j, k in enumerate(k for k, m in zip(key, modes, strict=True) if m != "LEAF")}
    leaves = {k: j for j, k in enumerate(k for k, m in zip(key, modes, strict=True) if m == "LEAF")}
    children = {(k[0], c) for k, tc, fc in zip(key, a["nodes_truenodeids"], a["nodes_falsenodeids"], strict=True)
                if k in interior for c in (tc, fc)}
    if any(k not in children and k in leaves for k in key):
        raise ValueError("single-leaf trees in the source are not handled")

    def branch(tree: int, child: int) -> tuple[int, int]:
        """(index, is_leaf) of a legacy child."""
        k = (tree, child)
        return (leaves[k], 1) if k in leaves else (interior[k], 0)

    # one row per interior node: split, mode, feature, true id, true is leaf, false id, false is leaf, missing
    rows = []
    for i, k in enumerate(key):
        if k in interior:
            rows.append((values[i], MODES.index(modes[i]), a["nodes_featureids"][i],
                         *branch(k[0], a["nodes_truenodeids"][i]), *branch(k[0], a["nodes_falsenodeids"][i]),
                         missing[i]))
    leaf_weights = [leaf_weight.get(k, 0.0) for k in leaves]
    tree_roots = [interior[k] for k in interior if k not in children]
    if base and float(base[0]) != 0.0:
        tree_roots.append(len(rows))
        rows.append((0.0, 0, 0, len(leaf_weights), 1, len(leaf_weights), 1, 0))
        leaf_weights.append(float(base[0]))
    columns = [list(c) for c in zip(*rows, strict=True)]
    splits, node_modes, features, true_ids, true_leafs, false_ids, false_leafs, missing = columns

    kwargs: dict[str, Any] = {
        "nodes_splits": numpy_helper.from_array(np.array(splits, np.float32)),
        "nodes_modes": numpy_helper.from_array(np.array(node_modes, np.uint8)),
        "nodes_featureids": features,
        "nodes_truenodeids": true_ids, "nodes_trueleafs": true_leafs,
        "nodes_falsenodeids": false_ids, "nodes_falseleafs": false_leafs,
        "leaf_targetids": [0] * len(leaf_weights),
        "leaf_weights": numpy_helper.from_array(np.array(leaf_weights, np.float32)),
        "tree_roots": tree_roots, "n_targets": 1,
        "aggregate_function": AGGREGATES.index(a.get("aggregate_function", b"SUM").decode()),
        "post_transform": POST_TRANSFORMS.index(a.get("post_transform", b"NONE").decode()),
    }
    if any(missing):
        kwargs["nodes_missing_value_tracks_true"] = missing
    (inp,), (outp,) = model.graph.input, model.graph.output
    te = helper.make_node("TreeEnsemble", [inp.name], [outp.name], name="TreeEnsemble", domain="ai.onnx.ml",
                          **kwargs)
    graph = helper.make_graph([te], "te5_reg", [inp], [outp])
    return helper.make_model(graph, producer_name="fmlc-export_trees",
                             opset_imports=[helper.make_opsetid(d, v) for d, v in TE5_OPSETS.items()])


# ---------------------------------------------------------------------------------------------- facts
def _depths(children: dict[int, tuple[int, int] | None], root: int) -> int:
    """Comparisons on the longest root-to-leaf path; ``children[n]`` is None for a leaf."""
    kids = children[root]
    return 0 if kids is None else 1 + max(_depths(children, c) for c in kids)


def tree_facts(model: onnx.ModelProto) -> dict[str, Any]:
    """Trees, depth, node counts and attributes of the model's tree operator."""
    node = _tree_node(model)
    a = _attrs(node)
    opsets = {o.domain or "ai.onnx": o.version for o in model.opset_import}
    facts: dict[str, Any] = {"op": f"{node.op_type} (ai.onnx.ml opset {opsets['ai.onnx.ml']})"}
    if node.op_type == "TreeEnsemble":
        n_int, n_leaf = len(a["nodes_featureids"]), len(a["leaf_targetids"])
        modes = sorted({MODES[m] for m in numpy_helper.to_array(a["nodes_modes"]).tolist()})
        # children: interior nodes as i, leaves as ~j
        children: dict[int, tuple[int, int] | None] = {~j: None for j in range(n_leaf)}
        for i in range(n_int):
            t = ~a["nodes_truenodeids"][i] if a["nodes_trueleafs"][i] else a["nodes_truenodeids"][i]
            f = ~a["nodes_falsenodeids"][i] if a["nodes_falseleafs"][i] else a["nodes_falsenodeids"][i]
            children[i] = (t, f)
        depths = [_depths(children, r) for r in a["tree_roots"]]
        facts |= {"trees": len(a["tree_roots"]), "nodes": f"{n_int + n_leaf} ({n_int} interior, {n_leaf} leaves)",
                  "aggregate": AGGREGATES[a.get("aggregate_function", 1)],
                  "post": POST_TRANSFORMS[a.get("post_transform", 0)], "base_values": "n/a (no attribute)"}
    else:
        modes_all = [m.decode() for m in a["nodes_modes"]]
        modes = sorted(set(modes_all) - {"LEAF"})
        n_leaf = modes_all.count("LEAF")
        key = list(zip(a["nodes_treeids"], a["nodes_nodeids"], strict=True))
        idx = {k: i for i, k in enumerate(key)}
        children = {}
        for i, (t, _) in enumerate(key):
            children[i] = None if modes_all[i] == "LEAF" else (idx[(t, a["nodes_truenodeids"][i])],
                                                                idx[(t, a["nodes_falsenodeids"][i])])
        trees = sorted(set(a["nodes_treeids"]))
        depths = [_depths(children, idx[(t, 0)]) for t in trees]
        base = a.get("base_values", [])
        if "base_values_as_tensor" in a:
            base = numpy_helper.to_array(a["base_values_as_tensor"]).tolist()
        facts |= {"trees": len(trees), "nodes": f"{len(key)} ({len(key) - n_leaf} interior, {n_leaf} leaves)",
                  "aggregate": a.get("aggregate_function", b"SUM").decode() if "Regressor" in node.op_type
                  else "n/a (classifier: SUM)",
                  "post": a.get("post_transform", b"NONE").decode(),
                  "base_values": "yes [" + ", ".join(f"{v:.6g}" for v in base) + "]" if base else "no"}
    facts["depth"] = max(depths)
    facts["modes"] = ", ".join(modes)
    facts["missing_true"] = "yes" if any(a.get("nodes_missing_value_tracks_true", [])) else "no"
    facts["as_tensor"] = ", ".join(sorted(k for k in a if k.endswith("_as_tensor"))) or "no"
    others = [f"{n.op_type}" + (f" ({n.domain})" if n.domain else "") for n in model.graph.node if n is not node]
    facts["other_ops"] = ", ".join(others) or "none"

    def sig(vi: onnx.ValueInfoProto) -> str:
        t = vi.type
        if t.HasField("tensor_type"):
            dims = ",".join(d.dim_param or (str(d.dim_value) if d.HasField("dim_value") else "?")
                            for d in t.tensor_type.shape.dim)
            return f"{vi.name}: {onnx.TensorProto.DataType.Name(t.tensor_type.elem_type).lower()}[{dims}]"
        if t.HasField("sequence_type") and t.sequence_type.elem_type.HasField("map_type"):
            m = t.sequence_type.elem_type.map_type
            key = onnx.TensorProto.DataType.Name(m.key_type).lower()
            val = onnx.TensorProto.DataType.Name(m.value_type.tensor_type.elem_type).lower()
            return f"{vi.name}: seq(map({key}, {val}))"
        return f"{vi.name}: {helper.printable_type(t)}"

    facts["inputs"] = "; ".join(sig(v) for v in model.graph.input)
    facts["outputs"] = "; ".join(sig(v) for v in model.graph.output)
    return facts


# ----------------------------------------------------------------------------------------------- export
def golden(model: onnx.ModelProto, data: Data, classifier: bool) -> dict[str, np.ndarray]:
    """onnxruntime's outputs on the golden inputs, as the npz arrays."""
    outs = run_ort(model, data.x_gold)
    if not classifier:
        (y,) = outs
        return {"x": data.x_gold, "y": np.asarray(y, np.float32), "target": data.y_gold}
    label, prob = outs
    if isinstance(prob, list):  # ZipMap: a list of {class: probability}
        classes = sorted(prob[0])
        prob = np.array([[p[c] for c in classes] for p in prob], np.float32)
    return {"x": data.x_gold, "y": np.asarray(prob, np.float32), "y_label": np.asarray(label, np.int64),
            "label": data.y_gold}


def export(out: Path) -> list[tuple[str, str, dict[str, Any]]]:
    out.mkdir(parents=True, exist_ok=True)
    data = {task: make_data(task, seed) for task, seed in DATA_SEEDS.items()}
    rows: list[tuple[str, str, dict[str, Any]]] = []
    models: dict[str, tuple[onnx.ModelProto, Any]] = {}
    for spec in SPECS:
        d = data[spec.task]
        est = spec.make().fit(d.x_train, d.y_train)
        model = finalize(CONVERTERS[spec.exporter](est), spec.name)
        models[spec.name] = (model, est)
        classifier = spec.task != "regression"
        arrays = golden(model, d, classifier)
        ref = est.predict_proba(d.x_gold) if classifier else est.predict(d.x_gold).reshape(arrays["y"].shape)
        err = float(np.abs(arrays["y"] - ref).max())
        check = f"max abs(ort - {type(est).__name__}.{'predict_proba' if classifier else 'predict'}) = {err:.3g}"
        if classifier:
            agree = int((arrays["y_label"] == est.predict(d.x_gold)).sum())
            acc = float((arrays["y_label"] == d.y_gold).mean())
            check += f"; labels agree {agree}/{N_GOLDEN}; accuracy {acc:.3f}"
        else:
            r2 = 1 - float(((arrays["y"].ravel() - d.y_gold) ** 2).mean() / d.y_gold.var())
            check += f"; R^2 {r2:.3f}"
        facts = _write(out, spec.name, model, arrays, check)
        rounds = getattr(est, "n_estimators", 1)
        if facts["trees"] != rounds:
            facts["trees"] = f"{facts['trees']} ({rounds} rounds x {facts['trees'] // rounds} classes)"
        rows.append((spec.name, spec.exporter, facts))

    # te5_reg: sk_gb_reg as one ai.onnx.ml opset-5 TreeEnsemble node
    src_model, src_est = models["sk_gb_reg"]
    d = data["regression"]
    te5 = finalize(to_tree_ensemble_v5(src_model), "te5_reg")
    arrays = golden(te5, d, classifier=False)
    src_y = run_ort(src_model, d.x_gold)[0]
    err_src = float(np.abs(arrays["y"] - src_y).max())
    err_est = float(np.abs(arrays["y"].ravel() - src_est.predict(d.x_gold)).max())
    ulp = float(np.abs(arrays["y"] - src_y).max() / np.spacing(np.abs(src_y).max()))
    check = (f"max abs(ort - ort(sk_gb_reg)) = {err_src:.3g} ({ulp:.0f} ulp of max abs(y)); "
             f"max abs(ort - GradientBoostingRegressor.predict) = {err_est:.3g}")
    facts = _write(out, "te5_reg", te5, arrays, check)
    facts["trees"] = f"{facts['trees']} (sk_gb_reg's 10, then one single-leaf tree holding its base value)"
    rows.append(("te5_reg", "this script (from sk_gb_reg.onnx)", facts))
    return rows


def _write(out: Path, name: str, model: onnx.ModelProto, arrays: dict[str, np.ndarray],
           check: str) -> dict[str, Any]:
    path = out / f"{name}.onnx"
    path.write_bytes(model.SerializeToString())
    savez(out / f"{name}.npz", **arrays)
    facts = tree_facts(model) | {"size": path.stat().st_size, "check": check}
    print(f"{name:10s} {facts['size']:7d} B  {facts['op']}  trees {facts['trees']}  depth {facts['depth']}  {check}")
    return facts


def write_models_md(out: Path, rows: list[tuple[str, str, dict[str, Any]]]) -> None:
    versions = ", ".join(f"{m.__name__} {m.__version__}" for m in
                         (sklearn, skl2onnx, xgboost, lightgbm, onnxmltools, ort, onnx, np))
    lines = [
        "# Tree-ensemble test models",
        "",
        "Written by [`examples/export_trees.py`](../export_trees.py); do not edit by hand.",
        "",
        f"Libraries: {versions}.",
        "",
        "Rerun (from the repository root, in a virtual environment that is not the project's)::",
        "",
        "    python3 -m venv /tmp/mlvenv",
        "    /tmp/mlvenv/bin/pip install scikit-learn skl2onnx xgboost lightgbm onnxmltools onnx==1.19.1 "
        "onnxruntime numpy",
        "    /tmp/mlvenv/bin/python examples/export_trees.py   # --out examples/trees",
        "",
        f"Data: {N_FEATURES} features, sklearn `make_classification` (3 classes, or 2 for `*_bin`) / "
        f"`make_regression` (standardized target plus x0*x1/8), scaled to max |x| = {X_MAX} and rounded to "
        f"multiples of 2^-10 (exact in fixed<16,6>); {N_TRAIN} training samples, {N_GOLDEN} held-out golden "
        "samples. npz keys: `x` float32[256,6]; `y` float32 (onnxruntime probabilities, ZipMap flattened to "
        "[N,C] in class order, or scores); classifiers: `y_label` int64[256] (onnxruntime label output) and "
        "`label` (ground truth); regressors: `target` (ground truth, float32[256]). The check compares "
        "onnxruntime (CPU) with the source library on `x`. The goldens come from a single-threaded onnxruntime "
        "session (batched or one sample at a time, it reproduces them bit for bit); with more threads it sums "
        "the trees in another order and can differ in the last bits (up to 2.4e-7 with onnxruntime 1.31.1). "
        "Default-domain opsets are raised to 18 (onnx.version_converter) where the converter wrote less, "
        "duplicate opset imports are merged, lgbm_clf's `label` output is declared [?] (onnxmltools writes [1]), "
        "doc strings and metadata are dropped and graphs are named after the model.",
        "",
        "Depth counts comparisons on the longest root-to-leaf path; nodes count legacy `nodes_*` entries "
        "(interior and leaves) or, for `TreeEnsemble`, `nodes_*` plus `leaf_*` entries.",
        "",
    ]
    for name, exporter, f in rows:
        lines.append(
            f"- **{name}**: exporter {exporter}; trees {f['trees']}, max depth {f['depth']}, nodes {f['nodes']}; "
            f"inputs `{f['inputs']}`; outputs `{f['outputs']}`; op {f['op']}; modes {f['modes']}; "
            f"post_transform {f['post']}; aggregate_function {f['aggregate']}; base_values {f['base_values']}; "
            f"missing_value_tracks_true=1: {f['missing_true']}; *_as_tensor: {f['as_tensor']}; "
            f"other ops: {f['other_ops']}; {f['size']} bytes; check: {f['check']}.")
    (out / "MODELS.md").write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "examples" / "trees", help="output folder")
    args = parser.parse_args()
    rows = export(args.out)
    write_models_md(args.out, rows)


if __name__ == "__main__":
    main()
