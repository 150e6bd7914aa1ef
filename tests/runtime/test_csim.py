"""C simulation through the csim bridge: raw codes of every kind of type, width 1..64, go
through a hand-made firmware and come back exactly."""

from __future__ import annotations

import importlib.util
import math
import random
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fmlc.dialects import qt
from fmlc.runtime import aptypes, csim
from fmlc.runtime import fixed as fx


def _sibling(name: str, path: Path) -> Any:
    """The hand-made firmware builder of tests/codegen/test_project.py."""
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


handmade = _sibling("fmlc_tests_handmade", Path(__file__).parents[1] / "codegen" / "test_project.py")
hand_project, require_cxx = handmade.hand_project, handmade.require_cxx

WIDTHS = (1, 2, 7, 8, 31, 32, 33, 53, 63, 64)
TYPES: list[Any] = [qt.BipolarType()]
for _k, _w in enumerate(WIDTHS):
    TYPES += [qt.fixed(_w, (_w // 2, -3, _w + 5, 0)[_k % 4]), qt.fixed(_w, (1, _w, -2, _w + 9)[_k % 4], False),
              qt.integer(_w), qt.integer(_w, False)]
SHAPE = (2, 3)


@pytest.fixture(scope="module", params=["parallel", "stream"])
def model(request: pytest.FixtureRequest) -> csim.CsimModel:
    require_cxx()
    types = TYPES if request.param == "parallel" else TYPES[::3]
    return csim.CsimModel(hand_project([(t, t) for t in types], request.param, SHAPE, name=f"rt_{request.param}"))


def _codes(t: Any, count: int, rng: random.Random) -> np.ndarray:
    """``count`` raw codes of ``t``: half of them extremes (min, max, 0, ±1 around them)."""
    lo, hi = int(t.min_raw), int(t.max_raw)
    special = [v for v in (lo, lo + 1, -1, 0, 1, hi - 1, hi) if lo <= v <= hi]
    codes = [rng.choice(special) if rng.random() < 0.5 else rng.randint(lo, hi) for _ in range(count)]
    return fx.as_raw(np.array(codes, dtype=object), t)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 4))
def test_raw_codes_round_trip(model: csim.CsimModel, seed: int, n: int) -> None:
    rng = random.Random(seed)
    inputs = [_codes(port.element, n * math.prod(SHAPE), rng).reshape(n, *SHAPE) for port in model.project.inputs]
    outputs = model.run_raw(inputs)
    for x, y, port in zip(inputs, outputs, model.project.outputs, strict=True):
        assert y.shape == (n, *SHAPE) and y.dtype == x.dtype
        bad = np.nonzero((x != y).reshape(-1))[0]
        assert not len(bad), f"{port.element}: sent {x.reshape(-1)[bad[0]]}, got {y.reshape(-1)[bad[0]]}"


@pytest.mark.parametrize("io", ["parallel", "stream"])
def test_element_order_and_conversion(io: str) -> None:
    """Output element i is input element i plus i (converted): beats and samples stay in order."""
    require_cxx()
    pairs = [(qt.integer(8), qt.integer(8)), (qt.integer(6, False), qt.fixed(12, 9)), (qt.fixed(8, 4), qt.fixed(8, 4))]
    p = hand_project(pairs, io, SHAPE, add="index", name=f"order_{io}")
    rng = np.random.default_rng(3)
    xs = [fx.as_raw(rng.integers(t.min_raw, t.max_raw + 1, (5, *SHAPE)), t) for t, _ in pairs]
    ys = csim.run_raw(p, xs)
    index = np.arange(math.prod(SHAPE)).reshape(SHAPE)
    assert np.array_equal(ys[0], (xs[0] + index + 128) % 256 - 128)  # int<8> wraps
    assert np.array_equal(ys[1], (xs[1] + index) * 8)  # exact in fixed<12,9>: 3 fraction bits
    assert np.array_equal(ys[2], (xs[2] + 16 * index + 128) % 256 - 128)  # +i in fixed<8,4>: raw +16 i, wraps


def test_bad_inputs_are_refused(model: csim.CsimModel) -> None:
    ports = model.project.inputs
    good = [np.zeros((2, *SHAPE), dtype=object if p.element.width > 63 else np.int64) for p in ports]
    assert [y.shape for y in model.run_raw([g[:0] for g in good])] == [(0, *SHAPE)] * len(ports)
    with pytest.raises(csim.CsimError, match=f"takes {len(ports)} inputs"):
        model.run_raw(good[:-1])
    with pytest.raises(csim.CsimError, match="has shape"):
        model.run_raw([good[0][:, :1], *good[1:]])
    with pytest.raises(csim.CsimError, match="out of range"):
        model.run_raw([good[0] + 2, *good[1:]])  # bipolar codes are 0 and 1


def test_missing_compiler_and_wide_ports(monkeypatch: pytest.MonkeyPatch) -> None:
    p = hand_project([(qt.integer(8), qt.integer(8))], name="nocxx")
    monkeypatch.setattr(aptypes, "have_compiler", lambda cxx="g++": False)
    with pytest.raises(csim.CsimError, match="needs the C\\+\\+ compiler 'g\\+\\+'"):
        csim.CsimModel(p)
    monkeypatch.undo()
    with pytest.raises(csim.FmlcError, match="port 'out:0.*65-bit"):
        csim.CsimModel(hand_project([(qt.integer(8), qt.integer(65))], name="wide"))
