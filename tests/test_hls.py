"""The HLS back end end to end: the emitted project, --check on the zoo, atomic output."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fmlc.compiler.cli import main
from fmlc.runtime import aptypes

HERE = Path(__file__).parent
TINY = HERE / "codegen" / "golden" / "tiny.mlir"
GOLDEN = HERE / "codegen" / "golden" / "tiny"
ZOO = HERE.parent.parent / "shared" / "zoo" / "public"
needs_cxx = pytest.mark.skipif(not aptypes.have_compiler(), reason="g++ not installed")


def _files(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): p.read_text() for p in sorted(root.rglob("*")) if p.is_file()}


def test_golden_project(tmp_path: Path) -> None:
    """The emitted project of a small dense+relu+cast model, file for file.

    Regenerate after an intended change with
    ``fmlc tests/codegen/golden/tiny.mlir --emit=hls -o tests/codegen/golden/tiny --force``.
    """
    assert main([str(TINY), "--emit=hls", "-o", str(tmp_path / "tiny")]) == 0
    got, want = _files(tmp_path / "tiny"), _files(GOLDEN)
    assert sorted(got) == sorted(want)
    for path, text in want.items():
        assert got[path] == text, path


def test_hostile_names_never_reach_the_cpp(tmp_path: Path) -> None:
    assert main([str(TINY), "--emit=hls", "-o", str(tmp_path / "p"), "--io", "stream"]) == 0
    for path, text in _files(tmp_path / "p").items():
        if path.endswith((".cpp", ".h")):
            assert "system(" not in text and "x.185" not in text and "out\nput" not in text, path
            assert '"; ' not in text, path


@needs_cxx
@pytest.mark.parametrize("io", [[], ["--io", "stream"]])
def test_tiny_check(io: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(TINY), "--check", *io]) == 0
    out = capsys.readouterr().out
    assert "qt vs df" in out and "df vs csim" in out and "OK" in out


def test_existing_output_is_kept_without_force(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "proj"
    out.mkdir()
    (out / "mine.txt").write_text("keep")
    assert main([str(TINY), "--emit=hls", "-o", str(out)]) == 1
    assert "--force" in capsys.readouterr().err
    assert _files(out) == {"mine.txt": "keep"}
    assert main([str(TINY), "--emit=hls", "-o", str(out), "--force"]) == 0
    assert "mine.txt" not in _files(out) and "build.tcl" in _files(out)


def test_failure_leaves_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "proj"
    assert main([str(TINY), "--emit=hls", "-o", str(out), "--reuse-factor", "5"]) == 1
    err = capsys.readouterr().err
    assert "reuse factor 5 is not valid" in err and "valid values near it: 4, 6" in err
    assert "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_reuse_on_a_layer_without_multipliers_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "cfg.toml"
    cfg.write_text('[layer.q]\nreuse_factor = 2\n')
    assert main([str(TINY), "--emit=df", "--config", str(cfg)]) == 1
    assert "'q' is not a dense, conv or bipolar_dense layer" in capsys.readouterr().err
    cfg.write_text('[layer."/layer/Gemm_output_0"]\nreuse_factor = 2\n')
    assert main([str(TINY), "--emit=df", "--config", str(cfg)]) == 0
    assert "reuse = 2" in capsys.readouterr().out


# ----------------------------------------------------------------------------- the zoo

ZOO_MODELS = ["jet_mlp_w6a8", "jet_mlp_w6a8_qout", "cnn_w4a4", "mlp_float", "gnn_scatter", "bdt_iris"]
EXACT_TO_GOLDEN = {"jet_mlp_w6a8", "jet_mlp_w6a8_qout", "cnn_w4a4"}  # power-of-two QONNX models


@needs_cxx
@pytest.mark.skipif(not ZOO.is_dir(), reason="../shared/zoo not present")
@pytest.mark.parametrize("io", [[], ["--io", "stream", "--reuse-factor", "4"]], ids=["parallel-r1", "stream-r4"])
@pytest.mark.parametrize("name", ZOO_MODELS)
def test_zoo_check(name: str, io: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """qt = df = csim bit for bit on the golden inputs; csim = golden y where NUMERICS says exact."""
    model = ZOO / f"{name}.onnx"
    assert main([str(model), "--check", str(model.with_suffix(".npz")), *io]) == 0
    out = capsys.readouterr().out
    for pair in ("qt vs df", "df vs csim"):
        assert re.search(rf"{pair}\s+\S+\s+\d+\s+100\.00%", out), out
    if name in EXACT_TO_GOLDEN:
        assert re.search(r"y vs csim\s+\S+\s+\d+\s+100\.00%", out), out
