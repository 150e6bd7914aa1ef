"""The float32-rounding hazard check: warns exactly where the reference's float32 sum can differ."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper

FMLC = Path(sys.executable).parent / "fmlc"
Q = "qonnx.custom_op.general"


def _model(bias: float, path: Path) -> None:
    """x -> Quant(8 bit, scale 1) -> Gemm(w = 2 quantised, bias) -> Quant(8 bit, scale 1)."""
    inits = [helper.make_tensor(n, TensorProto.FLOAT, dims, vals) for n, dims, vals in (
        ("s", [], [1.0]), ("z", [], [0.0]), ("b8", [], [8.0]), ("w", [1, 1], [2.0]), ("bias", [1], [bias]))]
    nodes = [
        helper.make_node("Quant", ["x", "s", "z", "b8"], ["xq"], domain=Q, signed=1, narrow=0, rounding_mode="ROUND"),
        helper.make_node("Quant", ["w", "s", "z", "b8"], ["wq"], domain=Q, signed=1, narrow=0, rounding_mode="ROUND"),
        helper.make_node("Gemm", ["xq", "wq", "bias"], ["acc"], name="gemm"),
        helper.make_node("Quant", ["acc", "s", "z", "b8"], ["y"], name="q_out", domain=Q, signed=1, narrow=0,
                         rounding_mode="ROUND"),
    ]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 1])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18), helper.make_opsetid(Q, 1)])
    onnx.save(model, path)


def _run(path: Path, level: str, x: Path, out: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(FMLC), str(path), "--run", str(x), "--level", level, "-o", str(out)],
                          capture_output=True, text=True)


def test_warns_and_the_difference_is_real(tmp_path):
    model, x = tmp_path / "m.onnx", tmp_path / "x.npz"
    _model(0.5 + 2.0**-24, model)  # 2·1 + 0.5 + 2^-24 rounds to 2.5 in float32, a tie of the output Quant
    np.savez(x, x=np.array([[1.0]], np.float32))
    qt = _run(model, "qt", x, tmp_path / "q.npz")
    ref = _run(model, "onnx", x, tmp_path / "o.npz")
    assert qt.returncode == 0 and ref.returncode == 0
    assert "q_out: warning:" in qt.stderr and "output channel(s) 0" in qt.stderr
    assert np.load(tmp_path / "o.npz")["y"].item() == 2.0  # the reference's double rounding
    assert np.load(tmp_path / "q.npz")["y"].item() == 3.0  # the exact value 2.5 + 2^-24 rounds up


def test_silent_when_the_bias_is_far_from_the_grid(tmp_path):
    model, x = tmp_path / "m.onnx", tmp_path / "x.npz"
    _model(0.5 + 2.0**-3, model)
    np.savez(x, x=np.arange(-8, 8, dtype=np.float32).reshape(16, 1, 1))
    qt = _run(model, "qt", x, tmp_path / "q.npz")
    assert _run(model, "onnx", x, tmp_path / "o.npz").returncode == 0
    assert "warning" not in qt.stderr
    assert np.array_equal(np.load(tmp_path / "q.npz")["y"], np.load(tmp_path / "o.npz")["y"])
