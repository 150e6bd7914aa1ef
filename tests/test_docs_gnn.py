"""docs/gnn.md and docs/rewrite-patterns.md stay true: their commands run and print what the pages show.

Every ``$ `` command of a ```console block runs under ``bash -o pipefail`` in a scratch folder
that mirrors the repository root (a symlink per top-level entry, and ``../shared`` when it
exists), with the tools next to this Python (``fmlc``, ``fmlc-opt``, ``filecheck``) first on
PATH. Before that, the files a page defines are written there:

* the ```py blocks of a page, joined in order, are one plugin file, named by the comment on
  the first line of the first block (``# gather_compose.py: ...``);
* a ```mlir or ```toml block whose first line is a comment naming a file (``// compose.mlir``,
  ``# gnn.toml``) is written under that name.

(```python blocks, the torch code of docs/gnn.md, are not run.) A command's expected output is
the rest of its block up to the next ``$ `` line: its standard output when it exits 0, its
standard error otherwise (the pages' error examples). A line ``...`` elides: the other lines
must appear in that order, each run of lines between elisions contiguous; without ``...`` the
output must match exactly. Commands reading ``../shared`` are skipped when it is absent, and
``--check`` (C simulation) when g++ is. The ``// RUN:`` line of every written ``.mlir`` runs too.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from fmlc.runtime.aptypes import have_compiler

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
BIN = Path(sys.executable).parent
GNN = ROOT / "docs" / "gnn.md"
PATTERNS = ROOT / "docs" / "rewrite-patterns.md"
DOCS = (GNN, PATTERNS)

_FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```[ \t]*$", re.S | re.M)
_NAMED = re.compile(r"^(?://|#)\s*([\w.-]+\.(?:py|mlir|toml))\b")


def blocks(path: Path) -> list[tuple[str, str]]:
    """(language, body) of every fenced block of ``path``."""
    return [(m.group(1), m.group(2)) for m in _FENCE.finditer(path.read_text(encoding="utf-8"))]


def files(path: Path) -> dict[str, str]:
    """The files ``path`` defines: its joined ```py blocks and its named ```mlir / ```toml blocks."""
    out: dict[str, str] = {}
    py = [body for lang, body in blocks(path) if lang == "py"]
    if py:
        name = _NAMED.match(py[0])
        assert name, f"{path.name}: the first py block must start with '# NAME.py'"
        out[name.group(1)] = "\n\n".join(b.rstrip("\n") + "\n" for b in py)
    for lang, body in blocks(path):
        name = _NAMED.match(body)
        if lang in ("mlir", "toml") and name:
            out[name.group(1)] = body
    return out


def commands(path: Path) -> list[tuple[str, list[str]]]:
    """(command, expected output lines) of every ``$ `` line of the ```console blocks of ``path``."""
    out: list[tuple[str, list[str]]] = []
    for lang, body in blocks(path):
        if lang != "console":
            continue
        for line in body.splitlines():
            if line.startswith("$ "):
                out.append((line[2:], []))
            elif out:
                out[-1][1].append(line.rstrip())
    return out


@pytest.fixture(scope="module")
def scratch(repo_mirror: Callable[[str], Path]) -> Path:
    """The repository root mirrored by symlinks, plus the files both pages define."""
    root = repo_mirror("docs_gnn")
    for doc in DOCS:
        for name, text in files(doc).items():
            (root / name).write_text(text, encoding="utf-8")
    return root


def run(command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    return subprocess.run(["bash", "-o", "pipefail", "-c", command], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)


def matches(expected: list[str], actual: list[str]) -> bool:
    """Whether ``actual`` is ``expected`` with the ``...`` lines standing for any lines."""
    while expected and not expected[-1]:
        expected = expected[:-1]
    while actual and not actual[-1]:
        actual = actual[:-1]
    chunks: list[list[str]] = [[]]
    for line in expected:
        if line == "...":
            chunks.append([])
        else:
            chunks[-1].append(line)
    if len(chunks) == 1:
        return expected == actual
    pos = 0
    for k, chunk in enumerate(chunks):
        if not chunk:
            continue
        last = k == len(chunks) - 1
        starts = [s for s in range(pos, len(actual) - len(chunk) + 1) if actual[s:s + len(chunk)] == chunk]
        if k == 0:
            starts = [s for s in starts if s == 0]
        if last:
            starts = [s for s in starts if s + len(chunk) == len(actual)]
        if not starts:
            return False
        pos = starts[0] + len(chunk)
    return True


def _cases() -> list:
    out = []
    for doc in DOCS:
        for command, expected in commands(doc):
            marks = []
            if "../shared" in command:
                marks.append(pytest.mark.skipif(not SHARED.exists(), reason="../shared is absent"))
            if "--check" in command:
                marks.append(pytest.mark.skipif(not have_compiler(), reason="g++ not available"))
            out.append(pytest.param(command, expected, id=f"{doc.name}:{command[:70]}", marks=marks))
    return out


@pytest.mark.parametrize(("command", "expected"), _cases())
def test_command_prints_what_the_page_shows(scratch: Path, command: str, expected: list[str]) -> None:
    proc = run(command, scratch)
    text = proc.stdout if proc.returncode == 0 else proc.stderr
    actual = [line.rstrip() for line in text.splitlines()]
    assert matches(expected, actual), (
        f"$ {command}\nexit {proc.returncode}; the page shows:\n" + "\n".join(expected)
        + "\n---- the command prints:\n" + text + ("\n---- stderr:\n" + proc.stderr if proc.returncode == 0 else ""))


def test_elision_matching() -> None:
    out = ["a", "b", "c", "d"]
    assert matches(["a", "b", "c", "d", ""], out) and not matches(["a", "b", "d"], out)
    assert matches(["a", "...", "d"], out) and matches(["...", "c", "..."], out)
    assert not matches(["a", "...", "c"], out)  # no "..." at the end: the output ends there
    assert not matches(["b", "..."], out)  # no "..." at the start: the output starts there
    assert not matches(["...", "c", "b", "..."], out)  # in order


def test_pages_define_what_the_commands_use() -> None:
    assert set(files(PATTERNS)) == {"gather_compose.py", "compose.mlir"}
    assert {"message_passing.mlir", "gnn.toml"} <= set(files(GNN))
    cmds = [c for doc in DOCS for c, _ in commands(doc)]
    for needed in ("fmlc examples/gnn_edge_index.onnx --check examples/gnn_edge_index.npz",
                   "fmlc-opt message_passing.mlir -p canonicalize,gather-scatter",
                   "fmlc-opt --load gather_compose.py compose.mlir -p gather-compose",
                   "fmlc-opt --load gather_compose.py compose.mlir -p gather-compose | filecheck compose.mlir"):
        assert needed in cmds


# ----------------------------------------------------------------------------- the tutorial's claims


def test_pattern_composes_the_constant_chain_only(scratch: Path) -> None:
    proc = run("fmlc-opt --load gather_compose.py compose.mlir -p gather-compose", scratch)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    # positive: one gather of x at i[j] = [2, 6], the inner gather and its index erased as dead
    assert re.search(r'(%\d+) = "onnx.Constant"\(\) <\{value = dense<"0x0200000000000000'
                     r'0600000000000000"> : tensor<2xi64>\}>.*\n +%y = "onnx.Gather"\(%x, \1\)', out)
    assert 'loc(fused["even_nodes", "picked"])' in out
    assert "%xe" not in out and '%i = "onnx.Constant"' not in out
    # negative: a runtime inner index leaves both gathers as they were
    assert '%xk = "onnx.Gather"(%x, %k)' in out
    assert '%z = "onnx.Gather"(%xk, %j)' in out
    assert out.count('"onnx.Gather"') == 3


def test_run_line_passes_and_fails_without_the_pass(scratch: Path) -> None:
    """The RUN line of compose.mlir passes; with the pass left out, its CHECK lines fail."""
    text = (scratch / "compose.mlir").read_text(encoding="utf-8")
    lines = [ln.split("// RUN:", 1)[1].strip() for ln in text.splitlines() if ln.startswith("// RUN:")]
    assert lines == ["fmlc-opt --load gather_compose.py %s -p gather-compose | filecheck %s"]
    line = lines[0].replace("%s", shlex.quote("compose.mlir"))
    proc = run(line, scratch)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    proc = run(line.replace("-p gather-compose", "-p cse"), scratch)  # (canonicalize has the pattern too)
    assert proc.returncode != 0


def test_pattern_is_part_of_canonicalize_once_loaded(scratch: Path) -> None:
    """Without the plugin the two constant gathers are two processes."""
    proc = run("fmlc compose.mlir --report", scratch)
    assert proc.returncode == 0, proc.stderr
    rows = [line.split()[0] for line in proc.stdout.splitlines()[2:6]]
    assert rows == ["even_nodes", "picked", "runtime", "kept"]
    assert "critical path: 2 cycles: even_nodes → picked" in proc.stdout


# ----------------------------------------------------------------------------- gnn.md's claims


def test_integer_input_precision_toml_is_a_valid_config(scratch: Path) -> None:
    from fmlc.compiler.printer import format_type
    from fmlc.passes.precision import load_config

    cfg = load_config(str(scratch / "gnn.toml"))
    assert format_type(cfg.integer_input("edge_index")) == "!qt.uint<3>"
    assert format_type(cfg.integer_input("other")) == "!qt.int<16>"  # the default port of an index input
