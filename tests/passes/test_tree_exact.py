"""Exactness of the fixed-point tree ensembles: every sample reaches the leaf onnxruntime gives it.

* ``grid_threshold`` against the float comparison, exhaustively: every raw code of
  small fixed types, thresholds on, next to and off the grid, beyond the range,
  ±inf and NaN, every branch mode.
* A "leaf-id" ensemble of every committed tree model (and the zoo's ``bdt_iris``):
  the same trees, whose target k is the row of the leaf tree k reaches.  onnxruntime
  on it gives the leaf of every sample in every tree; fmlc's ``qt`` and ``df``
  interpreters and the compiled C++ (csim) must give the same rows, on the golden
  inputs snapped to ``fixed<16,6>`` and on inputs one code either side of every
  threshold.
* Post transforms and class labels fmlc cannot lower fail with one line naming the node.
"""

from __future__ import annotations

import math
import subprocess
import sys
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from onnx import TensorProto, helper, numpy_helper

from fmlc.compiler import models
from fmlc.compiler.check import run_csim
from fmlc.compiler.diagnostics import FmlcError
from fmlc.compiler.driver import load_all
from fmlc.dialects import qt
from fmlc.passes.lower_trees import grid_threshold
from fmlc.runtime import trees

ort = pytest.importorskip("onnxruntime")

load_all()

ROOT = Path(__file__).parents[2]
EXAMPLES = sorted((ROOT / "examples" / "trees").glob("*.onnx"))
BDT_IRIS = (ROOT / ".." / "shared" / "zoo" / "public" / "bdt_iris.onnx").resolve()
MODEL_PATHS = [pytest.param(p, id=p.stem) for p in EXAMPLES] + [pytest.param(BDT_IRIS, id="bdt_iris")]

BRANCH_MODES = ("leq", "lt", "gte", "gt", "eq", "neq")
V3_MODE = {v: k for k, v in trees.ONNX_MODES.items()}

# the default input type, fixed<16,6>
FRAC = 10
LO, HI = -(1 << 15), (1 << 15) - 1
EXTRA_SAMPLES = 256


# ----------------------------------------------------------------------------- grid_threshold, exhaustively

@st.composite
def fixed_types(draw: Any) -> qt.FixedPointType:
    return qt.fixed(draw(st.integers(2, 9)), draw(st.integers(-2, 9)), signed=draw(st.booleans()))


@st.composite
def thresholds(draw: Any, t: qt.FixedPointType) -> float:
    f = t.frac_bits
    k = draw(st.integers(t.min_raw - 4, t.max_raw + 4))
    on = math.ldexp(k, -f)  # exact: |k| < 2^10
    kind = draw(st.sampled_from(("grid", "near", "nextafter", "half", "outside", "special", "any")))
    if kind == "grid":
        return on
    if kind == "near":
        return on + draw(st.sampled_from((-1, 1))) * math.ldexp(1, -f - draw(st.integers(1, 40)))
    if kind == "nextafter":
        return math.nextafter(on, draw(st.sampled_from((-math.inf, math.inf))))
    if kind == "half":
        return math.ldexp(2 * k + 1, -f - 1)
    if kind == "outside":
        edge = math.ldexp(t.max_raw + 1, -f) if draw(st.booleans()) else math.ldexp(t.min_raw, -f)
        return draw(st.sampled_from((-1.0, 1.0))) * abs(edge) * draw(st.sampled_from((1.0, 1.5, 2.0, 1e6, 1e300)))
    if kind == "special":
        return draw(st.sampled_from((math.inf, -math.inf, math.nan, 0.0, -0.0, 5e-324, -5e-324)))
    bound = math.ldexp(1, t.int_bits + 2)
    return draw(st.floats(-bound, bound, allow_nan=False))


def float_compare(x: Fraction, theta: float, mode: str) -> bool:
    """``x mode θ`` for a real x and a float θ, exactly (NaN: only ``neq`` holds)."""
    if math.isnan(theta):
        return mode == "neq"
    if math.isinf(theta):
        below = theta > 0  # x < +inf, x > -inf
        return {"leq": below, "lt": below, "gte": not below, "gt": not below, "eq": False, "neq": True}[mode]
    th = Fraction(theta)
    return {"leq": x <= th, "lt": x < th, "gte": x >= th, "gt": x > th, "eq": x == th, "neq": x != th}[mode]


def raw_compare(r: int, c: int, mode: str) -> bool:
    return {"leq": r <= c, "lt": r < c, "gte": r >= c, "gt": r > c, "eq": r == c, "neq": r != c}[mode]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_grid_threshold_exhaustive(data: st.DataObject) -> None:
    t = data.draw(fixed_types(), label="type")
    theta = data.draw(thresholds(t), label="theta")
    lsb = Fraction(2) ** -t.frac_bits
    codes = range(t.min_raw, t.max_raw + 1)
    for mode in BRANCH_MODES:
        out = grid_threshold(theta, mode, t)
        if not isinstance(out, bool):
            assert isinstance(out, int), (t, theta, mode, out)
            assert t.min_raw <= out <= t.max_raw, (t, theta, mode, out)
        for r in codes:
            want = float_compare(r * lsb, theta, mode)
            got = out if isinstance(out, bool) else raw_compare(r, out, mode)
            assert got == want, f"{t} θ={theta!r} mode={mode} r={r} (x={float(r * lsb)!r}): grid_threshold " \
                                f"gave {out!r}, fixed says {got}, float says {want}"


# ----------------------------------------------------------------------------- leaf-id models

def node_attributes(node: onnx.NodeProto) -> dict[str, Any]:
    """The node's attributes as ``trees.from_v3`` / ``from_v5`` read them (tensors as arrays, strings decoded)."""
    out: dict[str, Any] = {}
    for a in node.attribute:
        v = helper.get_attribute_value(a)
        if isinstance(v, onnx.TensorProto):
            v = numpy_helper.to_array(v)
        elif isinstance(v, bytes):
            v = v.decode()
        elif isinstance(v, list) and v and isinstance(v[0], bytes):
            v = [s.decode() for s in v]
        out[a.name] = v
    return out


def ensemble_of(model: onnx.ModelProto) -> trees.Ensemble:
    (node,) = [n for n in model.graph.node if n.op_type.startswith("TreeEnsemble")]
    a = node_attributes(node)
    if node.op_type == "TreeEnsemble":
        return trees.from_v5(a)
    return trees.from_v3(a, classifier=node.op_type == "TreeEnsembleClassifier")[0]


def preorder(ens: trees.Ensemble, root: int) -> tuple[list[int], dict[int, tuple[int, int]]]:
    """A tree's nodes numbered in preorder (the root is node 0, listed first, as onnxruntime wants):
    the ensemble's node of each local id, and the local (true, false) children of each branch."""
    order: list[int] = []
    children: dict[int, tuple[int, int]] = {}

    def number(i: int) -> int:
        nid = len(order)
        order.append(i)
        if ens.mode[i] != trees.LEAF:
            children[nid] = (number(int(ens.true[i])), number(int(ens.false[i])))
        return nid

    number(root)
    return order, children


def leaf_id_model(ens: trees.Ensemble, n_features: int) -> onnx.ModelProto:
    """A TreeEnsembleRegressor with ``ens``'s trees whose target k is the leaf row tree k reaches."""
    cols: dict[str, list[Any]] = {k: [] for k in (
        "nodes_treeids", "nodes_nodeids", "nodes_featureids", "nodes_modes", "nodes_values", "nodes_truenodeids",
        "nodes_falsenodeids", "nodes_missing_value_tracks_true", "target_treeids", "target_nodeids", "target_ids",
        "target_weights")}
    for k, root in enumerate(ens.roots):
        order, children = preorder(ens, int(root))
        for nid, i in enumerate(order):
            leaf = ens.mode[i] == trees.LEAF
            theta = 0.0 if leaf else float(ens.threshold[i])
            assert leaf or float(np.float32(theta)) == theta, "a threshold float32 cannot hold"
            t, f = children.get(nid, (0, 0))
            cols["nodes_treeids"].append(k)
            cols["nodes_nodeids"].append(nid)
            cols["nodes_featureids"].append(0 if leaf else int(ens.feature[i]))
            cols["nodes_modes"].append(V3_MODE[trees.MODES[ens.mode[i]]])
            cols["nodes_values"].append(theta)
            cols["nodes_truenodeids"].append(t)
            cols["nodes_falsenodeids"].append(f)
            cols["nodes_missing_value_tracks_true"].append(int(ens.missing_true[i]))
            if leaf:
                cols["target_treeids"].append(k)
                cols["target_nodeids"].append(nid)
                cols["target_ids"].append(k)
                cols["target_weights"].append(float(ens.true[i]))
    node = helper.make_node("TreeEnsembleRegressor", ["x"], ["leaf"], domain="ai.onnx.ml", name="leaf_ids",
                            n_targets=ens.n_trees, aggregate_function="SUM", post_transform="NONE", **cols)
    graph = helper.make_graph([node], "leaf_ids", [helper.make_tensor_value_info("x", TensorProto.FLOAT,
                                                                                 [None, n_features])],
                              [helper.make_tensor_value_info("leaf", TensorProto.FLOAT, [None, ens.n_trees])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18), helper.make_opsetid("ai.onnx.ml", 3)],
                              ir_version=8)
    onnx.checker.check_model(model, full_check=True)
    return model


def snapped(x: np.ndarray) -> np.ndarray:
    """Raw fixed<16,6> codes of ``x``: nearest grid point, clipped to the range."""
    return np.clip(np.round(np.asarray(x, np.float64) * (1 << FRAC)), LO, HI).astype(np.int64)


def threshold_codes(ens: trees.Ensemble, n_features: int) -> list[np.ndarray]:
    """Per feature, the codes next to its thresholds (⌊θ·2^f⌋, ⌈θ·2^f⌉ and one more either side) and the range ends."""
    out = []
    for j in range(n_features):
        codes = {LO, HI}
        for theta in ens.threshold[(ens.feature == j) & (ens.mode != trees.LEAF)]:
            q = float(theta) * (1 << FRAC)  # exact: a power-of-two scale
            fl, ce = math.floor(q), math.ceil(q)
            codes.update((fl - 1, fl, ce, ce + 1))
        out.append(np.array(sorted(c for c in codes if LO <= c <= HI), np.int64))
    return out


def samples(ens: trees.Ensemble, golden: np.ndarray, seed: int) -> np.ndarray:
    """The golden inputs on the grid, then EXTRA_SAMPLES rows mixing threshold-adjacent and random codes."""
    rng = np.random.default_rng(seed)
    n_features = golden.shape[1]
    base = snapped(golden)
    near = threshold_codes(ens, n_features)
    extra = np.empty((EXTRA_SAMPLES, n_features), np.int64)
    for j in range(n_features):
        pick = rng.random(EXTRA_SAMPLES)
        from_thr = near[j][rng.integers(0, len(near[j]), EXTRA_SAMPLES)]
        uniform = rng.integers(LO, HI + 1, EXTRA_SAMPLES)
        data_like = base[rng.integers(0, len(base), EXTRA_SAMPLES), j] + rng.integers(-3, 4, EXTRA_SAMPLES)
        extra[:, j] = np.where(pick < 0.7, from_thr, np.where(pick < 0.85, uniform, np.clip(data_like, LO, HI)))
    raw = np.concatenate([base, extra])
    x = np.ldexp(raw.astype(np.float64), -FRAC).astype(np.float32)
    assert np.array_equal(snapped(x), raw)  # every input lies on the fixed<16,6> grid
    return x


def ort_leaves(model: onnx.ModelProto, x: np.ndarray) -> np.ndarray:
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    sess = ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])
    (y,) = sess.run(None, {"x": x})
    return np.asarray(y)


@pytest.mark.parametrize("path", MODEL_PATHS)
def test_leaves_match_onnxruntime(path: Path, tmp_path: Path) -> None:
    if not path.exists():  # only the zoo model can be absent (no ../shared next to the repository)
        pytest.skip(f"{path} not found")
    ens = ensemble_of(onnx.load(str(path)))
    golden = np.load(path.with_suffix(".npz"))["x"]
    x = samples(ens, golden, seed=sum(path.stem.encode()))
    model = leaf_id_model(ens, x.shape[1])
    leaf_path = tmp_path / f"{path.stem}_leaf_ids.onnx"
    onnx.save(model, str(leaf_path))

    want = ort_leaves(model, x)
    assert want.shape == (len(x), ens.n_trees)
    assert np.array_equal(want, np.round(want)) and want.min() >= 0  # leaf rows, exact in float32
    # the leaf-id model is the ensemble fmlc read: its own float walk agrees
    assert np.array_equal(ens.leaves(x.astype(np.float64)), want)

    got: dict[str, np.ndarray] = {}
    qt_m = models.lower_to(models.load(str(leaf_path)), "qt", None)
    df_m = models.lower_to(models.load(str(leaf_path)), "df", None)
    (in_name,), (out_name,) = models.interface_names(df_m)
    got["qt"] = models.run_batch(qt_m, {in_name: x})[out_name]
    got["df"] = models.run_batch(df_m, {in_name: x})[out_name]
    got["csim"] = run_csim(df_m, {in_name: x}, f"tree_exact_{path.stem}")[out_name]
    for level, y in got.items():
        y = np.asarray(y, np.float64).reshape(want.shape)
        bad = np.argwhere(y != want)
        assert not len(bad), (
            f"{path.name} at {level}: {len(bad)} (sample, tree) pairs reach another leaf than in onnxruntime; "
            f"first: sample {bad[0][0]} x={x[bad[0][0]].tolist()} tree {bad[0][1]}: "
            f"fmlc leaf {y[tuple(bad[0])]}, onnxruntime {want[tuple(bad[0])]}")


# ----------------------------------------------------------------------------- unsupported attribute sets

def _one_split(op_type: str, name: str, outputs: list[onnx.ValueInfoProto], **attrs: Any) -> onnx.ModelProto:
    node = helper.make_node(op_type, ["x"], [o.name for o in outputs], domain="ai.onnx.ml", name=name,
                            nodes_treeids=[0, 0, 0], nodes_nodeids=[0, 1, 2], nodes_featureids=[0, 0, 0],
                            nodes_modes=["BRANCH_LEQ", "LEAF", "LEAF"], nodes_values=[0.5, 0.0, 0.0],
                            nodes_truenodeids=[1, 0, 0], nodes_falsenodeids=[2, 0, 0], **attrs)
    graph = helper.make_graph([node], name, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 2])],
                              outputs)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18), helper.make_opsetid("ai.onnx.ml", 3)],
                              ir_version=8)
    onnx.checker.check_model(model, full_check=True)
    return model


def probit_regressor() -> onnx.ModelProto:
    return _one_split("TreeEnsembleRegressor", "probit_trees",
                      [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 2])],
                      n_targets=2, aggregate_function="SUM", post_transform="PROBIT",
                      target_treeids=[0, 0, 0, 0], target_nodeids=[1, 1, 2, 2], target_ids=[0, 1, 0, 1],
                      target_weights=[0.25, 0.5, 0.75, 0.125])


def string_label_classifier() -> onnx.ModelProto:
    return _one_split("TreeEnsembleClassifier", "string_trees",
                      [helper.make_tensor_value_info("label", TensorProto.STRING, [None]),
                       helper.make_tensor_value_info("prob", TensorProto.FLOAT, [None, 2])],
                      classlabels_strings=["a", "b"], post_transform="NONE", class_treeids=[0, 0],
                      class_nodeids=[1, 2], class_ids=[0, 1], class_weights=[1.0, 1.0])


def cli(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "fmlc", str(path), "--emit=qt"], capture_output=True, text=True,
                          timeout=120)


def assert_one_line_error(proc: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert proc.returncode != 0
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "error:" in lines[0], lines[0]
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


def test_probit_fails_at_the_node(tmp_path: Path) -> None:
    model = probit_regressor()
    ort_leaves(model, np.zeros((1, 2), np.float32))  # onnxruntime runs it: only fmlc refuses
    path = tmp_path / "probit.onnx"
    onnx.save(model, str(path))
    with pytest.raises(FmlcError) as e:
        models.lower_to(models.load(str(path)), "qt", None)
    first = str(e.value).splitlines()[0]
    assert "probit_trees" in first and "PROBIT" in first, first
    assert_one_line_error(cli(path), "probit_trees", "PROBIT")


def test_string_class_labels_fail_at_import(tmp_path: Path) -> None:
    path = tmp_path / "strings.onnx"
    onnx.save(string_label_classifier(), str(path))
    with pytest.raises(FmlcError) as e:
        models.load(str(path))
    msg = str(e.value)
    assert len(msg.strip().splitlines()) == 1, msg
    assert "string_trees" in msg and "classlabels_strings" in msg, msg
    assert_one_line_error(cli(path), "string_trees", "classlabels_strings")
