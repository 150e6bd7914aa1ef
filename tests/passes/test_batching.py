"""Batched interpretation (one pass over a leading sample axis) equals running sample by
sample, bit for bit, at the onnx and qt levels: every zoo model and example model, and
data movement with constant operands (pad fills, concat) that the ``index`` mode gathers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from fmlc.compiler.cli import _context, build_parser
from fmlc.compiler.models import load, lower_to, read_inputs, run_batch
from fmlc.compiler.parser import parse_module
from fmlc.runtime.interpreter import BATCH_MODES, impl

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = [ROOT / "examples" / "jet_tagger.onnx", ROOT / "examples" / "gnn_edge_index.onnx",
            ROOT / "examples" / "trees" / "xgb_clf.onnx", ROOT / "examples" / "trees" / "sk_rf_reg.onnx"]


def _same(path: Path) -> None:
    args = build_parser().parse_args([str(path)])
    ctx = _context(args)
    for level in ("onnx", "qt"):
        module = lower_to(load(str(path)), level, args, ctx)
        x = read_inputs(str(path.with_suffix(".npz")), module)
        x = {k: v[:48] for k, v in x.items()}
        one_by_one, batched = run_batch(module, x, batch=False), run_batch(module, x, batch=True)
        for name, want in one_by_one.items():
            assert batched[name].shape == want.shape, (path.name, level, name)
            assert np.array_equal(batched[name], want), (path.name, level, name)


@pytest.mark.parametrize("name", ["jet_mlp_w6a8", "jet_mlp_w6a8_qout", "cnn_w4a4", "mlp_float", "gnn_scatter",
                                  "bdt_iris"])
def test_zoo_batched_equals_per_sample(zoo: Path, name: str) -> None:
    _same(zoo / f"{name}.onnx")


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_examples_batched_equals_per_sample(path: Path) -> None:
    _same(path)


F8 = "!qt.fixed<8,3>"
MOVES = f"""
"builtin.module"() ({{
  "func.func"() <{{function_type = (tensor<2x3x{F8}>) -> (tensor<4x8x{F8}>, tensor<3x3x{F8}>, tensor<3x4x{F8}>),
                   sym_name = "main"}}> ({{
  ^bb0(%x: tensor<2x3x{F8}>):
    %z = "qt.const"() <{{value = dense<"0x05"> : tensor<{F8}>}}> : () -> tensor<{F8}>
    %p = "qt.pad"(%x, %z) <{{pads = [1 : i64, 2 : i64, 1 : i64, 3 : i64]}}>
        : (tensor<2x3x{F8}>, tensor<{F8}>) -> tensor<4x8x{F8}>
    %c = "qt.const"() <{{value = dense<"0x010203"> : tensor<1x3x{F8}>}}> : () -> tensor<1x3x{F8}>
    %k = "qt.concat"(%x, %c) <{{axis = 0 : i64}}> : (tensor<2x3x{F8}>, tensor<1x3x{F8}>) -> tensor<3x3x{F8}>
    %t = "qt.transpose"(%x) <{{perm = [1 : i64, 0 : i64]}}> : (tensor<2x3x{F8}>) -> tensor<3x2x{F8}>
    %j = "qt.concat"(%t, %t) <{{axis = 1 : i64}}> : (tensor<3x2x{F8}>, tensor<3x2x{F8}>) -> tensor<3x4x{F8}>
    "func.return"(%p, %k, %j) : (tensor<4x8x{F8}>, tensor<3x3x{F8}>, tensor<3x4x{F8}>) -> ()
  }}) : () -> ()
}}) : () -> ()
"""


def test_index_mode_with_constants() -> None:
    """Pad's constant fill is gathered; a concat with a multi-element constant falls back
    to the per-sample loop; both equal the per-sample runs."""
    from fmlc.runtime.interpreter import run

    module = parse_module(MOVES)
    rng = np.random.default_rng(0)
    x = rng.integers(-128, 128, size=(5, 2, 3))
    batched = run(module, [x], batch=True)
    for k in range(5):
        single = run(module, [x[k]])
        for b, s in zip(batched, single, strict=True):
            assert np.array_equal(np.asarray(b.data)[k], s.data)


def test_unknown_batch_mode_is_refused() -> None:
    from fmlc.dialects import qt

    with pytest.raises(ValueError, match="unknown batch mode"):
        impl(qt.ReluOp, batch="sideways")
    assert BATCH_MODES[qt.ReluOp] == "leading"
