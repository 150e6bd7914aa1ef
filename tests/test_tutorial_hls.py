"""Step 7 of the dialect tutorial: a user's op (examples/custom_op_hls.py, loaded with
--load) goes qt → df → C++ → C simulation, bit for bit, in both io modes; the tutorial
quotes the plugin verbatim and shows the commands' real output."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fmlc.codegen.emit import EMITTERS
from fmlc.compiler.cli import main
from fmlc.compiler.dialect import REGISTRY
from fmlc.runtime.aptypes import have_compiler
from fmlc.runtime.interpreter import RULES

ROOT = Path(__file__).resolve().parents[1]
PLUGIN = "examples/custom_op_hls.py"
MODEL = "examples/custom_op_model.mlir"
TUTORIAL = ROOT / "docs" / "tutorial-dialect.md"
IO_MODES = ("parallel", "stream")
needs_gxx = pytest.mark.skipif(not have_compiler(), reason="g++ not available")


def _forget_plugin() -> None:
    """Undo the plugin's registrations: each main([--load ...]) registers its dialect anew."""
    REGISTRY.dialects.pop("mine", None)
    RULES.pop("mine", None)
    for table in (REGISTRY.ops, EMITTERS):
        for key in [k for k in table if (k if isinstance(k, str) else k.name).startswith("mine.")]:
            del table[key]


@pytest.fixture(autouse=True)
def _fresh(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.chdir(ROOT)  # relative paths, so the output reads as in the tutorial
    _forget_plugin()
    yield
    _forget_plugin()


def _fmlc(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    rc = main(["--load", PLUGIN, MODEL, *args])
    out = capsys.readouterr().out
    return rc, "\n".join(line.rstrip() for line in out.splitlines()) + "\n"


def _section() -> str:
    doc = TUTORIAL.read_text(encoding="utf-8")
    assert "## Step 7: down to hardware" in doc
    return doc.split("## Step 7: down to hardware", 1)[1]


@pytest.mark.parametrize("io", IO_MODES)
def test_emit_df_makes_the_op_a_process(capsys: pytest.CaptureFixture[str], io: str) -> None:
    rc, out = _fmlc(capsys, "--emit=df", "--io", io)
    assert rc == 0
    assert '"qt.' not in out  # every qt op is gone; the user's op is the body of a process
    assert re.search(r'"df.process".*\n.*\n +%2 = "mine.square_relu"\(%arg0\)', out)
    if io == "parallel":
        assert f"$ fmlc --load {PLUGIN} {MODEL} --emit=df\n{out}```" in _section()


@needs_gxx
@pytest.mark.parametrize("io", IO_MODES)
def test_check_qt_df_csim_agree(capsys: pytest.CaptureFixture[str], io: str) -> None:
    rc, out = _fmlc(capsys, "--check", "--io", io)
    assert rc == 0, out
    assert re.search(r"^qt vs df +y +4096 +100\.00% +0 ", out, re.M)
    assert re.search(r"^df vs csim +y +4096 +100\.00% +0 ", out, re.M)
    assert out.endswith("OK: qt, df and csim agree bit for bit\n")
    assert f"$ fmlc --load {PLUGIN} {MODEL} --check\n{out}```" in _section()  # same table in both modes


@pytest.mark.parametrize("io", IO_MODES)
def test_emit_hls_writes_the_rule_s_loop(capsys: pytest.CaptureFixture[str], tmp_path: Path, io: str) -> None:
    rc, out = _fmlc(capsys, "--emit=hls", "--io", io, "-o", str(tmp_path / "out"))
    assert rc == 0
    assert f"io={io}" in out
    cpp = (tmp_path / "out" / "firmware" / "out.cpp").read_text(encoding="utf-8")
    assert "v1[i] = ufixed_10_5_rnd_conv_sat_t(r * r);" in cpp
    if io == "parallel":
        layer = cpp[cpp.index("void layer_sq"):cpp.index("\n\nvoid out(")]
        assert f"```cpp\n{layer}\n```" in _section()


def test_tutorial_quotes_the_plugin_and_model() -> None:
    section, code = _section(), (ROOT / PLUGIN).read_text(encoding="utf-8")
    blocks = re.findall(r"^```py\n(.*?)^```$", section, flags=re.S | re.M)
    assert len(blocks) == 3
    for block in blocks:
        assert block in code, f"this block of step 7 is not in {PLUGIN}:\n{block}"
    assert f"```\n{(ROOT / MODEL).read_text(encoding='utf-8')}```" in section


def test_onnx_ops_are_still_rejected_by_qt_to_df(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    text = (ROOT / MODEL).read_text(encoding="utf-8")
    bad = tmp_path / "bad.mlir"
    bad.write_text(text.replace('"mine.square_relu"', '"onnx.Relu"'), encoding="utf-8")
    rc = main([str(bad), "-p", "qt-to-df", "--allow-unregistered-dialect"])
    assert rc != 0
    assert "lower onnx ops to qt first" in capsys.readouterr().err
