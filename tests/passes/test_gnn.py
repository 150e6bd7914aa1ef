"""Graph networks end to end: torch's gather/scatter idioms, the two GNN models, and the
runtime-index semantics (negative and out-of-range indices) of interpreter and C++ alike."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fmlc.compiler import models
from fmlc.compiler.check import run_csim
from fmlc.compiler.cli import main
from fmlc.compiler.diagnostics import FmlcError
from fmlc.compiler.parser import parse_module
from fmlc.runtime import aptypes

ROOT = Path(__file__).parents[2]
IDIOMS = Path(__file__).parent / "data" / "gnn_idioms"
EXAMPLE = ROOT / "examples" / "gnn_edge_index.onnx"
needs_cxx = pytest.mark.skipif(not aptypes.have_compiler(), reason="g++ not installed")

# torch idioms (tests/passes/data/gnn_idioms/IDIOMS.md) and why the unsupported ones fail
UNSUPPORTED = {
    "degree_bincount": "unsupported node",  # ReduceMax: a data-dependent output length
    "gather_elements_dyn": "vary along the other axes",
    "knn_edge_features": "unsupported node",  # TopK
    "mean_aggr_clamp": "unsupported node",  # Max
    "mean_aggr_where": "'onnx.Greater' op has no lowering",
    "one_hot_dyn": "'onnx.Equal' op has no lowering",
    "segment_softmax": "Div by a non-constant tensor",
}
GOLDEN = sorted(p.stem for p in IDIOMS.glob("*.onnx") if p.with_suffix(".npz").exists())
SUPPORTED = [n for n in GOLDEN if n not in UNSUPPORTED]


def _levels(path: Path, npz: Path, levels: tuple[str, ...] = ("onnx", "qt", "df")) -> dict[str, np.ndarray]:
    out = {}
    for level in levels:
        m = models.lower_to(models.load(str(path)), level, None)
        (y,) = models.run_batch(m, models.read_inputs(str(npz), m)).values()
        out[level] = y
    return out


@pytest.mark.parametrize("name", SUPPORTED)
def test_idiom_levels_match_onnxruntime(name: str) -> None:
    """Every level equals onnxruntime bit for bit: the inputs are multiples of 1/8, so the
    default fixed<16,6> holds every gathered, summed, max'ed and multiplied value exactly."""
    onnx = IDIOMS / f"{name}.onnx"
    y = np.load(onnx.with_suffix(".npz"))["y"]
    out = _levels(onnx, onnx.with_suffix(".npz"))
    for level, got in out.items():
        assert np.array_equal(got, y), (level, np.abs(got - y).max())


@pytest.mark.parametrize("name", sorted(UNSUPPORTED))
def test_unsupported_idioms_fail_at_the_node(name: str) -> None:
    onnx = IDIOMS / f"{name}.onnx"
    with pytest.raises(FmlcError) as e:
        models.lower_to(models.load(str(onnx)), "qt", None)
    assert UNSUPPORTED[name] in str(e.value)


# one model per regime and reduction: constant/runtime gather, add/max/min/mul/none, include_self
CSIM_IDIOMS = ["getitem_2d_dyn", "scatter_add_const", "index_put_assign_dyn", "scatter_reduce_amax",
               "scatter_reduce_amin_self", "add_self_loops_dyn", "gather_elements_const"]


@needs_cxx
@pytest.mark.parametrize("name", CSIM_IDIOMS)
def test_idiom_check(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    onnx = IDIOMS / f"{name}.onnx"
    assert main([str(onnx), "--check", str(onnx.with_suffix(".npz"))]) == 0
    out = capsys.readouterr().out
    for pair in ("qt vs df", "df vs csim", "y vs csim"):
        assert re.search(rf"{pair}\s+\S+\s+\d+\s+100\.00%", out), out


@needs_cxx
@pytest.mark.parametrize("io", [[], ["--io", "stream", "--reuse-factor", "2"]], ids=["parallel", "stream-r2"])
def test_edge_index_model_check(io: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """edge_index as an input, two rounds of message passing, sigmoid edges: qt = df = csim."""
    assert main([str(EXAMPLE), "--check", str(EXAMPLE.with_suffix(".npz")), *io]) == 0
    out = capsys.readouterr().out
    for pair in ("qt vs df", "df vs csim"):
        assert re.search(rf"{pair}\s+\S+\s+\d+\s+100\.00%", out), out
    err = float(re.search(r"y vs csim\s+\S+\s+\d+\s+\S+\s+(\S+)", out).group(1))
    assert err < 0.05  # a probability; fixed<16,6> with a 1024-entry sigmoid table


def test_edge_index_model_decisions() -> None:
    """The qt level takes the same edge decisions (p > 0.5) as onnxruntime on the golden graphs."""
    npz = EXAMPLE.with_suffix(".npz")
    (qt_y,) = _levels(EXAMPLE, npz, ("qt",)).values()
    y = np.load(npz)["y"]
    assert np.mean((qt_y > 0.5) == (y > 0.5)) >= 0.99


# ----------------------------------------------------------------------------- runtime indices

N, E, F = 5, 6, 3
RUNTIME_IR = Path(__file__).parent / "data" / "gnn_runtime.mlir"  # N = 5, E = 6, F = 3


def _reference(x: np.ndarray, idx: np.ndarray, msg: np.ndarray) -> list[np.ndarray]:
    """The documented semantics in plain Python: −n..−1 count from the end, others are ignored."""
    valid = [(e, int(i) % N) for e, i in enumerate(idx) if -N <= i < N]
    g = np.zeros((E, F))
    for e, j in valid:
        g[e] = x[j]
    sa, sm, sn, sx = np.zeros((N, F)), x.astype(np.float64), x.astype(np.float64), x.astype(np.float64)
    seen: set[int] = set()
    for e, j in valid:
        sa[j] += msg[e]
        sm[j] = np.maximum(sm[j], msg[e])
        sn[j] = msg[e]
        sx[j] = msg[e] if j not in seen else np.minimum(sx[j], msg[e])
        seen.add(j)
    return [g, sa, sm, sn, sx]


@pytest.fixture(scope="module")
def runtime_df() -> object:
    return models.lower_to(parse_module(RUNTIME_IR.read_text(), str(RUNTIME_IR)), "df", None)


eighths = st.integers(-64, 63).map(lambda k: k / 8)


@needs_cxx
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.integers(-2 * N, 2 * N - 1) | st.sampled_from([-32768, 32767, 70000]), min_size=E, max_size=E),
       st.lists(eighths, min_size=N * F, max_size=N * F), st.lists(eighths, min_size=E * F, max_size=E * F))
def test_runtime_indices_interpreter_equals_hardware(runtime_df: object, idx: list[int], x: list[float],
                                                     msg: list[float]) -> None:
    """Negative, out-of-range and wrapping (70000 → 4464 in !qt.int<16>) indices: the df
    interpreter, the C simulation and the documented semantics agree exactly."""
    xs = np.array(x, np.float32).reshape(N, F)
    ms = np.array(msg, np.float32).reshape(E, F)
    ids = np.array(idx, np.int64)
    inputs = {"x": xs[None], "idx": ids[None], "msg": ms[None]}
    interp = models.run_batch(runtime_df, inputs)
    hw = run_csim(runtime_df, inputs, "gnn_runtime")
    wrapped = ((ids + 2**15) % 2**16) - 2**15  # the !qt.int<16> port wraps
    for (name, got), want in zip(interp.items(), _reference(xs, wrapped, ms), strict=True):
        assert np.array_equal(got.reshape(want.shape), want), name
        assert np.array_equal(hw[name].reshape(want.shape), want), name


CONSTANT_IR = Path(__file__).parent / "data" / "gnn_constant.mlir"  # the same ops, indices fixed
CONSTANT_IDX = np.array([-1, 2, 2, 7, 0, -5], np.int64)


@pytest.fixture(scope="module")
def constant_df() -> object:
    return models.lower_to(parse_module(CONSTANT_IR.read_text(), str(CONSTANT_IR)), "df", None)


@needs_cxx
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(eighths, min_size=N * F, max_size=N * F), st.lists(eighths, min_size=E * F, max_size=E * F))
def test_constant_indices_interpreter_equals_hardware(constant_df: object, x: list[float], msg: list[float]) -> None:
    """Wiring and balanced trees (add, max, none, min without self; an out-of-range constant
    index ignored): interpreter = C simulation = the documented semantics."""
    xs = np.array(x, np.float32).reshape(N, F)
    ms = np.array(msg, np.float32).reshape(E, F)
    inputs = {"x": xs[None], "msg": ms[None]}
    interp = models.run_batch(constant_df, inputs)
    hw = run_csim(constant_df, inputs, "gnn_constant")
    for (name, got), want in zip(interp.items(), _reference(xs, CONSTANT_IDX, ms), strict=True):
        assert np.array_equal(got.reshape(want.shape), want), name
        assert np.array_equal(hw[name].reshape(want.shape), want), name
