"""The public model zoo end to end: import, lower to ``qt``, run both levels on the golden inputs.

QONNX models must reproduce the golden outputs exactly at the ``onnx`` level and the
``qt`` level must equal the ``onnx`` level exactly; the float model is compared with a
tolerance (``onnx``) and by argmax (``qt``).  Models with ops of later issues must fail
to import with the one "unsupported nodes" error.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from fmlc.compiler.cli import _context, build_parser
from fmlc.compiler.diagnostics import FmlcError
from fmlc.compiler.models import interface_names, load, lower_to, run_batch
from fmlc.passes.import_onnx import import_file

FMLC = Path(sys.executable).parent / "fmlc"
QONNX_MODELS = ["jet_mlp_w6a8", "jet_mlp_w6a8_qout", "cnn_w4a4"]


def lower_qt(path: Path):
    args = build_parser().parse_args([str(path)])
    return lower_to(load(str(path)), "qt", args, _context(args))


def run_levels(zoo: Path, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(golden y, onnx-level y, qt-level y) on the golden x."""
    path = zoo / f"{name}.onnx"
    golden = np.load(zoo / f"{name}.npz")
    onnx_mod = load(str(path))
    qt_mod = lower_qt(path)
    (in_name,), (out_name,) = interface_names(onnx_mod)
    assert interface_names(qt_mod) == ([in_name], [out_name])
    assert {op.name.split(".")[0] for op in qt_mod.walk()} <= {"builtin", "func", "qt"}
    y_onnx = run_batch(onnx_mod, {in_name: golden["x"]})[out_name]
    y_qt = run_batch(qt_mod, {in_name: golden["x"]})[out_name]
    assert y_onnx.shape == y_qt.shape == golden["y"].shape
    return golden["y"], y_onnx, y_qt


@pytest.mark.parametrize("name", QONNX_MODELS)
def test_qonnx_model_bit_exact(zoo, name):
    y, y_onnx, y_qt = run_levels(zoo, name)
    assert np.array_equal(y_onnx, y), f"onnx level differs from golden: max {np.max(np.abs(y_onnx - y))}"
    assert np.array_equal(y_qt, y_onnx), f"qt level differs from onnx level: max {np.max(np.abs(y_qt - y_onnx))}"


def test_mlp_float(zoo):
    y, y_onnx, y_qt = run_levels(zoo, "mlp_float")
    np.testing.assert_allclose(y_onnx, y, rtol=1e-6, atol=1e-6)
    agree = float(np.mean(np.argmax(y_qt, axis=-1) == np.argmax(y_onnx, axis=-1)))
    err = float(np.max(np.abs(y_qt - y_onnx)))
    print(f"mlp_float: qt vs onnx argmax agreement {agree:.4f}, max abs error {err:.3g}")
    assert agree >= 0.99
    assert err < 0.05  # a softmax output in [0, 1]: the table error is far below this


def test_qonnx_model_through_cli(zoo, tmp_path):
    """The CLI runs a batch-1 QONNX model sample by sample on the golden npz (x key) at both levels."""
    name = "cnn_w4a4"
    out = {}
    for level in ("onnx", "qt"):
        y_path = tmp_path / f"y_{level}.npz"
        p = subprocess.run([str(FMLC), str(zoo / f"{name}.onnx"), "--run", str(zoo / f"{name}.npz"),
                            f"--level={level}", "-o", str(y_path)], capture_output=True, text=True)
        assert p.returncode == 0, p.stderr
        with np.load(y_path) as npz:
            (key,) = npz.files
            out[level] = npz[key]
    golden = np.load(zoo / f"{name}.npz")["y"]
    assert np.array_equal(out["onnx"], golden)
    assert np.array_equal(out["qt"], golden)


def test_unsupported_models(tmp_path):
    """One error names every node fmlc cannot import (here a kNN-style TopK and an ONNX-ML
    linear classifier) and lists what it can."""
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])
    nodes = [helper.make_node("TopK", ["x", "k"], ["v", "i"], name="knn"),
             helper.make_node("LinearClassifier", ["v"], ["label", "scores"], domain="ai.onnx.ml",
                              coefficients=[1.0, 2.0], classlabels_ints=[0, 1], name="linear")]
    k = helper.make_tensor("k", TensorProto.INT64, [1], [2])
    outs = [helper.make_tensor_value_info("label", TensorProto.INT64, [1]),
            helper.make_tensor_value_info("scores", TensorProto.FLOAT, [1, 2])]
    model = helper.make_model(helper.make_graph(nodes, "g", [x], outs, [k]),
                              opset_imports=[helper.make_opsetid("", 18), helper.make_opsetid("ai.onnx.ml", 3)])
    path = tmp_path / "knn.onnx"
    path.write_bytes(model.SerializeToString())
    with pytest.raises(FmlcError) as e:
        import_file(path)
    msg = str(e.value)
    first = msg.splitlines()[0]
    assert first.startswith("error: ") and "2 unsupported nodes" in first and "knn.onnx" in first
    assert "knn: TopK (domain 'ai.onnx')" in msg and "linear: LinearClassifier (domain 'ai.onnx.ml')" in msg
    assert "supported: " in msg and "Gemm" in msg and "ai.onnx.ml:TreeEnsembleClassifier" in msg
