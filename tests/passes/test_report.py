"""``--report``: per-process multipliers (DSP vs LUT), adders, weight bits, interval and critical path.

Expected counts are derived by hand (a hand-written df module) or with numpy from the
weights (the zoo models through ``qt-to-df``).
"""

from __future__ import annotations

import functools
import json
import math
from pathlib import Path

import numpy as np
import pytest

from fmlc.compiler.cli import _context, build_parser
from fmlc.compiler.diagnostics import FmlcError
from fmlc.compiler.driver import run_pipeline
from fmlc.compiler.ir import Operation
from fmlc.compiler.models import load
from fmlc.compiler.parser import parse_module
from fmlc.compiler.verifier import verify
from fmlc.dialects import df, qt
from fmlc.passes.report import format_report, process_name, report, report_json

LOWER = "onnx-to-qt,canonicalize,qt-infer-precision,canonicalize,cse"

HAND = Path(__file__).with_name("report_hand.mlir")


@pytest.fixture(scope="module")
def hand():
    module = parse_module(HAND.read_text(), str(HAND))
    verify(module)
    return report(module)


def test_hand_written_counts(hand):
    fc, act, head = hand.processes
    # fc: 7 non-zero weights, 1, 2 and -4 are shifts -> 4 multiplications (3, 5, 7, -3); 12 x 12 bits -> DSP;
    # adders per output: col0 {2,-3} 2-1, col1 {1,-4}+bias 2, col2 {3,5,7}+bias 3 -> 6; reuse 2 halves both
    assert (fc.kind, fc.multiplications, fc.dsp, fc.lut, fc.adders) == ("dense 4x3", 4, 2, 0, 3)
    assert fc.weight_bits == 12 * 12 + 3 * 16
    # act: x * [3, 4, 0]: one real multiplication, 30 x 12 bits -> DSP; relu fused
    assert (act.kind, act.multiplications, act.dsp, act.lut, act.adders, act.weight_bits) == (
        "mul +relu", 1, 1, 0, 0, 3 * 12)
    # head: 3, 5, -6, 7 multiply, 1 is a wire; 8-bit weights -> LUT; adders col0 {3,5,-6} 2, col1 {1,7} 1
    assert (head.multiplications, head.dsp, head.lut, head.adders) == (4, 0, 4, 3)
    assert (hand.dsp, hand.lut, hand.adders, hand.weight_bits) == (3, 4, 6, 192 + 36 + 48)
    assert [p.schedule for p in hand.processes] == ["beat"] * 3


def test_hand_written_critical_path_takes_the_longer_branch(hand):
    assert hand.critical_path == ("fc", "head")
    assert hand.critical_latency == 5 + 7
    assert (hand.interval, hand.bottleneck) == (2, "fc")


def test_format_report(hand):
    text = format_report(hand)
    lines = text.splitlines()
    header = lines[0]
    assert header.split()[:2] == ["process", "kind"]
    rows = {line.split()[0]: line for line in lines[2:5]}
    assert set(rows) == {"fc", "act", "head"}
    end = header.index("LUT mult") + len("LUT mult")  # numbers right-aligned under their header
    assert rows["head"][:end].endswith(" 4") and rows["fc"][:end].endswith(" 0")
    total = next(line for line in lines if line.startswith("total"))
    assert total[:end].endswith(" 4")
    assert "critical path: 12 cycles: fc → head" in text
    assert "interval: 2 cycles (fc)" in text


def test_report_json_round_trips(hand):
    data = json.loads(json.dumps(report_json(hand)))
    assert data["totals"] == {"dsp": 3, "lut": 4, "adders": 6, "weight_bits": 276}
    assert data["critical_path"] == {"latency": 12, "processes": ["fc", "head"]}
    assert [p["name"] for p in data["processes"]] == ["fc", "act", "head"]
    assert data["processes"][0]["reuse"] == 2


# ----------------------------------------------------------------------------- the zoo


@functools.cache
def _lower(zoo: Path, name: str, options: str) -> Operation:
    path = str(zoo / f"{name}.onnx")
    args = build_parser().parse_args([path])
    return run_pipeline(load(path), f"{LOWER},qt-to-df{{{options}}}", args, _context(args))


def _processes(module: Operation) -> list[df.ProcessOp]:
    return [op for op in module.walk() if isinstance(op, df.ProcessOp)]


def _dense_expect(proc: df.ProcessOp) -> tuple[int, int]:
    """(multiplications, adders) of a dense process, counted from its constants with numpy."""
    dense = next(op for op in proc.block.ops if isinstance(op, qt.DenseOp))
    w = np.asarray(dense.weight.op.value.data, dtype=np.int64)
    b = np.asarray(dense.bias.op.value.data).astype(object)
    mag = np.abs(w)
    shift = (mag != 0) & ((mag & (mag - 1)) == 0)
    terms = np.count_nonzero(w, axis=0) + (b != 0).astype(int)
    return int(np.count_nonzero(w) - shift.sum()), int(np.maximum(terms - 1, 0).sum())


def test_jet_layer1_counts(zoo):
    module = _lower(zoo, "jet_mlp_w6a8", "io=stream")
    proc = _processes(module)[0]
    mults, adders = _dense_expect(proc)
    w = np.asarray(next(op for op in proc.block.ops if isinstance(op, qt.ConstOp)).value.data)
    assert w.shape == (16, 64) and 0 < np.count_nonzero(w) < w.size  # pruned: some zeros
    row = report(module).processes[0]
    assert (row.name, row.kind, row.schedule) == ("node_linear", "dense 16x64 +relu +cast", "beat")
    # 8-bit activations x 6-bit weights: below the DSP width, all LUT multipliers
    assert (row.multiplications, row.dsp, row.lut, row.adders) == (mults, 0, mults, adders)
    assert row.weight_bits == 16 * 64 * 6 + 64 * 33


def test_reuse_divides_multipliers_and_adders(zoo):
    one, four = (report(_lower(zoo, "jet_mlp_w6a8", f"io=stream reuse-factor={r}")) for r in (1, 4))
    for a, b in zip(one.processes, four.processes, strict=True):
        assert b.reuse == 4 and b.ii == 4
        assert a.multiplications == b.multiplications
        assert b.lut == math.ceil(a.lut / 4) and b.dsp == math.ceil(a.dsp / 4)
        assert b.adders == math.ceil(a.adders / 4)
    assert four.interval == 4


def test_critical_path_is_the_sum_along_the_chain(zoo):
    module = _lower(zoo, "jet_mlp_w6a8", "io=stream reuse-factor=4")
    r = report(module)
    procs = _processes(module)
    assert r.critical_path == tuple(map(process_name, procs))
    assert r.critical_latency == sum(p.latency.value for p in procs)


def test_float_mlp_uses_dsps(zoo):
    module = _lower(zoo, "mlp_float", "")
    r = report(module)
    for proc, row in zip(_processes(module)[:3], r.processes[:3], strict=True):
        mults, adders = _dense_expect(proc)
        assert (row.dsp, row.lut, row.adders) == (mults, 0, adders)  # 16-bit x 16-bit
    soft = r.processes[3]
    assert (soft.kind, soft.multiplications, soft.dsp, soft.adders) == ("softmax", 3, 3, 2)
    assert soft.weight_bits == (513 + 514) * 18  # exp and 1/sum tables
    assert soft.storage == "bram"


def test_conv_counts_one_output_pixel(zoo):
    module = _lower(zoo, "cnn_w4a4", "io=stream reuse-factor=4")
    r = report(module)
    procs = _processes(module)
    k = next(i for i, p in enumerate(procs) if any(isinstance(op, qt.ConvOp) for op in p.block.ops))
    conv = next(op for op in procs[k].block.ops if isinstance(op, qt.ConvOp))
    w = np.asarray(conv.weight.op.value.data, dtype=np.int64)
    mag = np.abs(w)
    mults = int(np.count_nonzero(w) - ((mag != 0) & ((mag & (mag - 1)) == 0)).sum())
    row = r.processes[k]
    assert [p.kind for p in r.processes] == ["transpose", "conv 3x3 1→4 +relu +cast", "max_pool 2x2", "transpose",
                                             "reshape", "dense 64x10"]
    assert row.schedule == "window"
    assert (row.multiplications, row.lut, row.dsp) == (mults, math.ceil(mults / 4), 0)
    beats = {process_name(p) + str(i): max(s.type.beats for s in [*p.inputs, *p.outputs]) * p.ii.value
             for i, p in enumerate(procs)}
    assert r.interval == max(beats.values()) == 10 * 10 * 4  # the conv reads 100 pixels at II 4
    assert r.critical_latency == sum(p.latency.value for p in procs)


def test_docs_table_is_current(zoo):
    """docs/hls-backend.md shows the report of jet_mlp_w6a8 as it is."""
    doc = (Path(__file__).parents[2] / "docs" / "hls-backend.md").read_text(encoding="utf-8")
    text = format_report(report(_lower(zoo, "jet_mlp_w6a8", "io=stream reuse-factor=4")))
    assert text in doc


@pytest.mark.parametrize(("name", "reuse"), [("jet_mlp_w6a8", 7), ("cnn_w4a4", 5)])
def test_docs_reuse_errors_are_current(zoo, name, reuse):
    """docs/reuse-factor.md quotes the invalid-reuse errors as fmlc gives them."""
    doc = (Path(__file__).parents[2] / "docs" / "reuse-factor.md").read_text(encoding="utf-8")
    with pytest.raises(FmlcError) as e:
        _lower(zoo, name, f"reuse-factor={reuse}")
    assert str(e.value).strip() in doc
