"""docs/onnx-import.md, docs/precision.md and docs/trees.md stay runnable.

Every ```toml block must be a config that ``fmlc.passes.precision.load_config`` accepts,
and every ``fmlc ...`` command line of a ```console block (after its ``$ `` prompt) or a
```sh block must exit 0 when run from the repository root, and print what a console block
shows under it (up to the next ``$ `` line, if anything): its standard output, or its
standard error when it prints nothing else (``--print-ir-before``), matched as in
test_docs_gnn, a ``...`` line (indented or not) standing for any lines. Commands run in a scratch
directory that mirrors the repository root (a symlink per top-level entry, and
``../shared`` when it exists), so the files they write (``-o y.npz``) do not land in the
checkout; a toml block whose first line is ``# NAME.toml`` is written there as ``NAME.toml``
for the commands that pass ``--config NAME.toml``. A command continues over lines ending in
``\\`` and over a ``<<'EOF'`` here-document. Commands that read ``../shared`` are skipped
when it is absent.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from test_docs_gnn import matches

from fmlc.passes.precision import load_config

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
DOCS = [ROOT / "docs" / "onnx-import.md", ROOT / "docs" / "precision.md", ROOT / "docs" / "trees.md"]
FMLC = shlex.join([sys.executable, "-P", "-m", "fmlc"])  # -P: the scratch directory is not on sys.path

_FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```[ \t]*$", re.S | re.M)
_HEREDOC = re.compile(r"<<-?\s*['\"]?(\w+)['\"]?")


def blocks(path: Path) -> list[tuple[str, str]]:
    """(language, body) of every fenced block of ``path``."""
    return [(m.group(1), m.group(2)) for m in _FENCE.finditer(path.read_text(encoding="utf-8"))]


def commands(lang: str, body: str) -> list[tuple[str, list[str]]]:
    """The ``fmlc`` command lines of a console or sh block, with continuations and here-documents,
    each with the output lines the block shows under it."""
    lines = body.splitlines()
    out: list[tuple[str, list[str]]] = []
    shown: list[str] | None = None  # the output of the last fmlc command, while lines belong to it
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if lang == "console":
            if not line.startswith("$ "):
                if shown is not None:
                    shown.append(line.rstrip())
                continue
            line = line[2:]
        shown = None
        if not line.startswith("fmlc "):
            continue
        cmd = [line]
        while cmd[-1].endswith("\\") and i < len(lines):
            cmd.append(lines[i])
            i += 1
        m = _HEREDOC.search(cmd[-1])
        if m:
            while i < len(lines):
                cmd.append(lines[i])
                i += 1
                if lines[i - 1] == m.group(1):
                    break
        shown = []
        out.append(("\n".join(cmd), shown))
    return out


def _cases() -> tuple[list, list]:
    tomls, cmds = [], []
    for doc in DOCS:
        for lang, body in blocks(doc):
            if lang == "toml":
                tomls.append(pytest.param(body, id=f"{doc.name}:toml{len(tomls)}"))
            elif lang in ("console", "sh"):
                for c, shown in commands(lang, body):
                    cmds.append(pytest.param(c, shown, id=f"{doc.name}:{c.split(chr(10))[0][:60]}"))
    return tomls, cmds


TOMLS, COMMANDS = _cases()


def test_docs_have_examples() -> None:
    assert len(TOMLS) >= 1
    assert len(COMMANDS) >= 8
    assert any("<<'EOF'" in c.values[0] for c in COMMANDS)  # the here-document parser found the IR example


@pytest.mark.parametrize("text", TOMLS)
def test_toml_block_is_a_valid_config(text: str, tmp_path: Path) -> None:
    path = tmp_path / "cfg.toml"
    path.write_text(text, encoding="utf-8")
    cfg = load_config(str(path))
    for name in cfg.layers:  # every type string of every section parses
        cfg.layer(name)
    for name in cfg.inputs:
        cfg.input(name)


@pytest.fixture(scope="module")
def workdir(repo_mirror: Callable[[str], Path]) -> Path:
    work = repo_mirror("docs_onnx")
    for doc in DOCS:
        for lang, body in blocks(doc):
            first = body.split("\n", 1)[0]
            m = re.match(r"#\s*([\w.-]+\.toml)\b", first)
            if lang == "toml" and m:
                (work / m.group(1)).write_text(body, encoding="utf-8")
    return work


@pytest.mark.parametrize(("command", "shown"), COMMANDS)
def test_command_runs(command: str, shown: list[str], workdir: Path) -> None:
    if "../shared" in command and not SHARED.is_dir():
        pytest.skip("../shared is not available")
    script = FMLC + command[len("fmlc"):]
    proc = subprocess.run(["bash", "-c", script], cwd=workdir, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"{command}\nexit {proc.returncode}\n{proc.stderr[-3000:]}"
    if shown:
        printed = proc.stdout or proc.stderr
        expected = ["..." if line.strip() == "..." else line for line in shown]
        assert matches(expected, [line.rstrip() for line in printed.splitlines()]), \
            f"{command}\nthe page shows:\n" + "\n".join(shown) + f"\n---- the command prints:\n{printed}"
