"""The ``fmlc`` and ``fmlc-opt`` command lines: output permissions, ``--print-pipeline`` from a
dump's level, ``--check`` on a df dump, and ``--report`` names of processes without a location."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from fmlc.compiler import opt
from fmlc.compiler.cli import main
from fmlc.runtime import aptypes

HERE = Path(__file__).parent
ROOT = HERE.parent
TINY = HERE / "codegen" / "golden" / "tiny.mlir"  # qt level, input "x.185" of shape 1x4
JET = ROOT / "examples" / "jet_tagger.onnx"
needs_cxx = pytest.mark.skipif(not aptypes.have_compiler(), reason="g++ not installed")

# A qt-level model without locations; the dense result is named %acc.
NAMED = """\
"builtin.module"() ({
  "func.func"() <{function_type = (tensor<1x4xf32>) -> tensor<1x3xf32>, sym_name = "main"}> ({
  ^bb0(%x: tensor<1x4xf32>):
    %0 = "qt.from_float"(%x) : (tensor<1x4xf32>) -> tensor<1x4x!qt.fixed<8,3,rnd_conv,sat>>
    %w = "qt.const"() <{value = dense<[[4, 0, -3], [8, 1, 0], [0, -16, 5], [2, 2, 2]]> : tensor<4x3x!qt.fixed<6,1>>}> \
: () -> tensor<4x3x!qt.fixed<6,1>>
    %acc = "qt.dense"(%0, %w) : (tensor<1x4x!qt.fixed<8,3,rnd_conv,sat>>, tensor<4x3x!qt.fixed<6,1>>) \
-> tensor<1x3x!qt.fixed<16,6>>
    %1 = "qt.to_float"(%acc) : (tensor<1x3x!qt.fixed<16,6>>) -> tensor<1x3xf32>
    "func.return"(%1) : (tensor<1x3xf32>) -> ()
  }) : () -> ()
}) : () -> ()
"""


# ----------------------------------------------------------------------------- output permissions


@pytest.fixture(params=[0o022, 0o002], ids=["umask022", "umask002"])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    old = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def test_outputs_get_the_umask_permissions(tmp_path: Path, umask: int) -> None:
    """Every ``-o`` output is created like open()/mkdir would (0666 / 0777 less the umask),
    not with the 0600 / 0700 of a temporary file, and no temporary is left behind."""
    out = tmp_path / "out"
    np.savez(tmp_path / "x.npz", x=np.zeros((3, 4), dtype=np.float32))
    assert main([str(TINY), "--emit=hls", "-o", str(out / "proj")]) == 0
    assert main([str(TINY), "--emit=hls", "-o", str(out / "proj"), "--force"]) == 0  # the replacing path
    assert main([str(TINY), "--emit=df", "-o", str(out / "tiny.df.mlir")]) == 0
    assert main([str(TINY), "--report-json", str(out / "r.json")]) == 0
    assert main([str(TINY), "--run", str(tmp_path / "x.npz"), "-o", str(out / "y.npz")]) == 0
    assert opt.main([str(TINY), "-p", "cse", "-o", str(out / "opt.mlir")]) == 0
    files = [p for p in out.rglob("*") if p.is_file()]
    folders = [out / "proj", *(p for p in (out / "proj").rglob("*") if p.is_dir())]
    assert len(files) > 8 and len(folders) > 2
    for f in files:
        assert _mode(f) == 0o666 & ~umask, f
    for d in folders:
        assert _mode(d) == 0o777 & ~umask, d
    assert sorted(p.name for p in out.iterdir()) == ["opt.mlir", "proj", "r.json", "tiny.df.mlir", "y.npz"]


def test_a_device_output_is_written_to_not_replaced(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``-o /dev/null`` (here through a link, so a regression cannot replace the real one) writes
    to the device; ``--emit=hls --force`` refuses to move it away."""
    sink = tmp_path / "sink"
    sink.symlink_to(os.devnull)
    assert main([str(TINY), "--emit=qt", "-o", str(sink)]) == 0
    assert opt.main([str(TINY), "-o", str(sink)]) == 0
    assert main([str(TINY), "--emit=hls", "-o", str(sink), "--force"]) == 1
    assert capsys.readouterr().err == f"error: cannot write '{sink}': it exists and is neither a folder nor a file\n"
    assert sink.is_symlink() and stat.S_ISCHR(sink.stat().st_mode)
    assert os.listdir(tmp_path) == ["sink"]


def test_an_unwritable_output_is_a_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "file").write_text("x")
    for argv in (["--emit=hls", "-o", str(tmp_path / "file" / "proj")], ["-o", str(tmp_path / "file" / "q.mlir")]):
        assert main([str(TINY), *argv]) == 1
        err = capsys.readouterr().err
        assert err.startswith(f"error: cannot write '{argv[-1]}': ") and err.count("\n") == 1, err
    assert os.listdir(tmp_path) == ["file"]


# ----------------------------------------------------------------------------- --print-pipeline


@pytest.fixture(scope="module")
def dumps(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The jet tagger at the qt and df levels."""
    d = tmp_path_factory.mktemp("dumps")
    out = {lv: d / f"jet.{lv}.mlir" for lv in ("qt", "df")}
    for lv, path in out.items():
        assert main([str(JET), f"--emit={lv}", "-o", str(path)]) == 0
    return out


def _printed(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert main([*argv, "--print-pipeline"]) == 0
    return capsys.readouterr().out.strip()


def test_print_pipeline_starts_at_the_model_level(dumps: dict[str, Path],
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    full = _printed(capsys, str(JET), "--emit=hls")
    assert full.startswith("canonicalize,tree-ensembles,gather-scatter,onnx-to-qt,")
    assert full.endswith(",cse,qt-to-df,df-size-fifos")
    assert _printed(capsys, str(dumps["qt"]), "--emit=hls") == "qt-to-df,df-size-fifos"
    assert _printed(capsys, str(dumps["qt"]), "--check", "--io", "stream") == "qt-to-df{io=stream},df-size-fifos"
    assert _printed(capsys, str(dumps["qt"]), "--emit=qt") == ""
    assert _printed(capsys, str(dumps["df"]), "--emit=hls") == ""
    assert _printed(capsys, str(dumps["qt"]), "-p", "cse") == "cse"
    assert main([str(dumps["df"]), "--emit=qt", "--print-pipeline"]) == 1
    assert capsys.readouterr().err == "error: the model is at the 'df' level and cannot be raised to 'qt'\n"


def test_printed_pipeline_is_the_one_that_runs(dumps: dict[str, Path], tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    printed = _printed(capsys, str(dumps["qt"]), "--emit=df", "--reuse-factor", "2")
    assert main([str(dumps["qt"]), "--emit=df", "--reuse-factor", "2", "--ir-dump-dir", str(tmp_path / "d"),
                 "-o", str(tmp_path / "jet.df.mlir")]) == 0
    ran = [p.stem.split("_", 1)[1] for p in sorted((tmp_path / "d").iterdir())][1:]  # after 000_input
    assert ran == [p.split("{")[0] for p in printed.split(",")] == ["qt-to-df", "df-size-fifos"]


# ----------------------------------------------------------------------------- --check


@needs_cxx
def test_check_on_a_df_dump_lists_only_the_levels_that_ran(dumps: dict[str, Path],
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(dumps["df"]), "--check", str(JET.with_suffix(".npz"))]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"{dumps['df']}: 32 samples, levels df, csim"
    assert [line.split("  ")[0] for line in lines[3:-1]] == ["df vs csim", "y vs df", "y vs csim"]
    assert lines[-1] == "OK: df and csim agree bit for bit (reference: df, the level the model is at; qt did not run)"


@needs_cxx
def test_check_from_a_qt_dump(dumps: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(dumps["qt"]), "--check"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].endswith("levels qt, df, csim")
    assert lines[-1] == "OK: qt, df and csim agree bit for bit"


# ----------------------------------------------------------------------------- --report names


def test_report_names_processes_without_a_location(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    noloc = tmp_path / "noloc.mlir"
    assert main([str(JET), "--emit=qt", "--no-locations", "-o", str(noloc)]) == 0
    assert main([str(noloc), "--report"]) == 0
    first = capsys.readouterr().out
    assert "<unknown>" not in first
    assert [line.split()[0] for line in first.splitlines()[2:6]] == ["dense#0", "dense#1", "dense#2", "dense#3"]
    assert "dense#0 → dense#1 → dense#2 → dense#3\n" in first  # the critical path
    assert main([str(noloc), "--report"]) == 0
    assert capsys.readouterr().out == first  # stable across runs


def test_report_names_a_process_by_its_result_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    named = tmp_path / "named.mlir"
    named.write_text(NAMED, encoding="utf-8")
    assert main([str(named), "--report"]) == 0
    assert capsys.readouterr().out.splitlines()[2].split()[:2] == ["dense%acc", "dense"]
