"""Tree ensembles end to end: every committed model (examples/trees, made by
examples/export_trees.py with onnxruntime goldens) and the zoo's bdt_iris through
``--check``: qt = df = csim bit for bit, the label equal to onnxruntime's on every golden
input, the score within the bound ``--report`` states."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fmlc.compiler.cli import main
from fmlc.runtime import aptypes

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples" / "trees").glob("*.onnx"))
BDT_IRIS = ROOT.parent / "shared" / "zoo" / "public" / "bdt_iris.onnx"
MODELS = [pytest.param(p, id=p.stem) for p in EXAMPLES]
needs_cxx = pytest.mark.skipif(not aptypes.have_compiler(), reason="g++ not installed")
_ROW = re.compile(r"^(\w+) vs (\w+)\s+(\S+)\s+(\d+)\s+([\d.]+)%\s+(\S+)", re.M)


def _rows(out: str) -> dict[tuple[str, str, str], tuple[float, float]]:
    """(level, level, output) → (bit-exact %, max |diff|) of a --check table."""
    return {(m[1], m[2], m[3]): (float(m[5]), float(m[6])) for m in _ROW.finditer(out)}


def _bound(model: Path, capsys: pytest.CaptureFixture[str]) -> float:
    """The score error bound and the table errors --report states, summed."""
    assert main([str(model), "--emit=df", "--report"]) == 0
    out = capsys.readouterr().out
    return sum(float(x) for x in re.findall(r"within ([\d.e-]+)(?: of the float trees|$)", out, re.M))


def test_the_committed_models_are_there() -> None:
    names = {p.stem for p in EXAMPLES}
    for exporter in ("sk_gb", "sk_rf", "sk_dt", "xgb", "lgbm"):
        assert {f"{exporter}_clf", f"{exporter}_reg"} <= names
    assert {"sk_gb_bin", "xgb_bin", "te5_reg"} <= names


@needs_cxx
@pytest.mark.parametrize("model", MODELS)
def test_check(model: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bound = _bound(model, capsys)
    assert main([str(model), "--check", str(model.with_suffix(".npz"))]) == 0
    rows = _rows(capsys.readouterr().out)
    outputs = {k[2] for k in rows}
    for out in outputs:
        assert rows["qt", "df", out][0] == 100.0 and rows["df", "csim", out][0] == 100.0
    labels = [o for o in outputs if "label" in o]
    scores = [o for o in outputs if o not in labels]
    assert all(rows["y", "csim", o] == (100.0, 0.0) for o in labels)  # the label of every golden input
    (score,) = scores
    assert rows["y", "csim", score][1] <= bound


@needs_cxx
@pytest.mark.parametrize("name", ["xgb_bin", "lgbm_clf", "sk_gb_reg"])
def test_check_io_stream(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    model = ROOT / "examples" / "trees" / f"{name}.onnx"
    assert main([str(model), "--check", str(model.with_suffix(".npz")), "--io", "stream"]) == 0
    rows = _rows(capsys.readouterr().out)
    assert all(v[0] == 100.0 for k, v in rows.items() if k[:2] in (("qt", "df"), ("df", "csim")))


def test_report_states_the_leaf_rounding(capsys: pytest.CaptureFixture[str]) -> None:
    if not BDT_IRIS.exists():
        pytest.skip("../shared/zoo not present")
    assert main([str(BDT_IRIS), "--emit=df", "--report"]) == 0
    out = capsys.readouterr().out
    assert "tree_ensemble 30 trees d≤3 204 cmp →3" in out
    assert re.search(r"leaf values rounded to ap_fixed<15,5> \(each within 0\.000488\); a score within 0\.0045\d",
                     out), out


def _ensemble(path: Path, aggregate: str, post: str = "NONE") -> None:
    """Three depth-2 trees over 3 features, two targets, every leaf voting for both, base values."""
    from onnx import TensorProto, helper

    tree_ids, node_ids, feats, modes, values, trues, falses = [], [], [], [], [], [], []
    t_tree, t_node, t_id, t_w = [], [], [], []
    for t in range(3):
        layout = [(t % 3, "BRANCH_LEQ", 0.25 * t - 0.3, 1, 2), ((t + 1) % 3, "BRANCH_LT", 0.5, 3, 4),
                  ((t + 2) % 3, "BRANCH_GTE", -0.7 + 0.1 * t, 5, 6)] + [(0, "LEAF", 0.0, 0, 0)] * 4
        for n, (f, m, v, tr, fa) in enumerate(layout):
            tree_ids.append(t), node_ids.append(n), feats.append(f), modes.append(m), values.append(v)
            trues.append(tr), falses.append(fa)
            if m == "LEAF":
                for k in range(2):
                    t_tree.append(t), t_node.append(n), t_id.append(k), t_w.append(0.37 * (n - 4) + 0.21 * t - k)
    node = helper.make_node(
        "TreeEnsembleRegressor", ["x"], ["y"], domain="ai.onnx.ml", name="bdt", n_targets=2,
        aggregate_function=aggregate, post_transform=post, base_values=[0.125, -0.5], nodes_treeids=tree_ids,
        nodes_nodeids=node_ids, nodes_featureids=feats, nodes_modes=modes, nodes_values=values,
        nodes_truenodeids=trues, nodes_falsenodeids=falses, target_treeids=t_tree, target_nodeids=t_node,
        target_ids=t_id, target_weights=t_w)
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18), helper.make_opsetid("ai.onnx.ml", 3)])
    model.ir_version = 8
    path.write_bytes(model.SerializeToString())


@needs_cxx
@pytest.mark.parametrize(("aggregate", "post"), [("SUM", "SOFTMAX"), ("AVERAGE", "LOGISTIC"), ("MIN", "NONE"),
                                                 ("MAX", "NONE")])
def test_aggregates_through_csim(aggregate: str, post: str, tmp_path: Path,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    """Every aggregate function (and both transforms) on random representable inputs: qt = df = csim."""
    model = tmp_path / f"bdt_{aggregate.lower()}.onnx"
    _ensemble(model, aggregate, post)
    assert main([str(model), "--check", "--default-precision", "fixed<8,3>"]) == 0
    rows = _rows(capsys.readouterr().out)
    assert rows["qt", "df", "y"][0] == 100.0 and rows["df", "csim", "y"][0] == 100.0
