"""docs/guide/ cannot rot: every command of every page runs, and prints what the page shows.

Each page runs in a scratch folder of its own that mirrors the repository root (``repo_mirror``: a
symlink per top-level entry, ``../shared`` next to it), its commands in page order, with the tools next
to this Python (``fmlc``, ``fmlc-opt``) first on PATH and ``python`` being this Python. A ```toml or
```mlir block whose first line names a file (``# pulse.toml``, ``// model.mlir``) is written there
first; a toml block must be a valid precision config.

A command is a ``$ `` line of a ```console block; its expected output is the rest of the block up to
the next ``$ `` line: its standard output when it exits 0, its standard error otherwise, matched as in
test_docs_gnn (``...`` lines elide). A command whose expected output holds ``error:`` must fail, any
other must succeed. The kinds of command (each part of a ``|`` pipeline is checked; any other kind
fails the test, so nothing a page shows goes untested):

* ``fmlc``, ``fmlc-opt``, ``ls``, ``grep``, and ``python`` with ``-c`` or with a script that imports
  fmlc: run as written (``--check`` is skipped without g++).
* ``python SCRIPT`` where SCRIPT does not import fmlc: an export script that needs a training framework.
  ``test_export_script`` runs it in a scratch folder of its own with the first of this Python and the
  interpreters in ``$FMLC_EXPORT_PYTHONS`` (``os.pathsep``-separated) that imports every module the
  script imports, and skips it when none does (CI has none of the frameworks). Its numbers are
  wildcards (another library version trains other weights); the guide's fmlc commands use the files
  the script wrote when the guide was written, committed under ``examples/export/``.
* ``python3 -m venv .venv && .venv/bin/pip install -q -e ".[dev]"``: the install line. It is not run
  again here; it must be the very command ``.ci/run`` executes (and README's).
* ``cd DIR && vitis_hls -f build.tcl``: run when ``vitis_hls`` is on PATH (exit 0, output not
  compared); without Vitis HLS, every file that ``build.tcl`` adds to the project (``add_files``,
  ``add_files -tb``) must exist in DIR.

A ```python block must appear verbatim in a ``.py`` file under ``examples/`` (the guide quotes the
scripts, it does not paraphrase them); ```text and plain blocks must hold no ``$ `` line; any other
block language fails.
"""

from __future__ import annotations

import ast
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from test_docs_gnn import blocks, matches

from fmlc.passes.precision import load_config
from fmlc.runtime.aptypes import have_compiler

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
GUIDE = ROOT / "docs" / "guide"
PAGES = sorted(GUIDE.glob("*.md"))
BIN = Path(sys.executable).parent
INSTALL = 'python3 -m venv .venv && .venv/bin/pip install -q -e ".[dev]"'
VITIS = re.compile(r"^cd (\S+) && vitis_hls -f build\.tcl$")
TOOLS = {"fmlc", "fmlc-opt", "ls", "grep"}
LANGUAGES = {"console", "python", "toml", "mlir", "text", ""}
_NAMED = re.compile(r"^(?://|#)\s*([\w.-]+\.(?:toml|mlir))\b")
_NUMBER = re.compile(r"\d+(?:\.\d+)?(?:e[-+]?\d+)?")


@dataclass
class Command:
    """One ``$ `` line of a page and the output shown under it."""

    page: str
    text: str
    expected: list[str] = field(default_factory=list)

    @property
    def kind(self) -> str:
        """install, vitis, export or run (anything else is an error, raised here)."""
        if self.text == INSTALL:
            return "install"
        if VITIS.match(self.text):
            return "vitis"
        parts = split_pipeline(self.text)
        words = parts[0]
        if len(parts) == 1 and words[0] == "python" and len(words) > 1 and words[1].endswith(".py") \
                and not imports_fmlc(words[1]):
            return "export"
        for part in parts:
            if part[0] not in TOOLS | {"python"}:
                raise AssertionError(f"{self.page}: unknown command kind {part[0]!r} in: {self.text}")
            if part[0] == "python" and not (len(part) > 1 and (part[1] == "-c" or part[1].endswith(".py"))):
                raise AssertionError(f"{self.page}: unknown python command: {shlex.join(part)}")
        return "run"


def split_pipeline(text: str) -> list[list[str]]:
    """The words of each part of a shell pipeline (``|`` outside quotes); a command list is refused."""
    lexer = shlex.shlex(text, posix=True, punctuation_chars="|&;<>")
    lexer.whitespace_split = True
    parts: list[list[str]] = [[]]
    for token in lexer:
        if token == "|":
            parts.append([])
        elif token in ("&&", "||", ";", "&", "|&"):
            raise AssertionError(f"only pipelines are run, not command lists: {text}")
        else:
            parts[-1].append(token)
    return parts


def script_modules(path: Path) -> set[str]:
    """The top-level modules a script imports, the standard library left out."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
             for alias in node.names}
    names |= {node.module.split(".")[0] for node in ast.walk(tree)
              if isinstance(node, ast.ImportFrom) and node.module and node.level == 0}
    return names - set(sys.stdlib_module_names) - {"__future__"}


def imports_fmlc(script: str) -> bool:
    return "fmlc" in script_modules(ROOT / script)


def commands(page: Path) -> list[Command]:
    """Every ``$ `` command of the ```console blocks of ``page``, in order."""
    out: list[Command] = []
    for lang, body in blocks(page):
        if lang != "console":
            continue
        block: list[Command] = []
        for line in body.splitlines():
            if line.startswith("$ "):
                block.append(Command(page.name, line[2:]))
            elif block:
                block[-1].expected.append(line.rstrip())
            else:
                raise AssertionError(f"{page.name}: a console block must start with a $ line:\n{body}")
        out += block
    return out


def files(page: Path) -> dict[str, str]:
    """The files ``page`` defines: its named ```toml and ```mlir blocks."""
    return {m.group(1): body for lang, body in blocks(page)
            if lang in ("toml", "mlir") and (m := _NAMED.match(body))}


def run(command: str, cwd: Path, python: str = sys.executable, timeout: int = 300) -> subprocess.CompletedProcess:
    """``command`` under ``bash -o pipefail`` in ``cwd``, ``python`` being ``python``."""
    shims = cwd.parent / "bin"
    shims.mkdir(exist_ok=True)
    shim = shims / "python"
    shim.write_text(f'#!/bin/sh\nexec {shlex.quote(python)} "$@"\n', encoding="utf-8")
    shim.chmod(0o755)
    env = dict(os.environ, PATH=os.pathsep.join([str(shims), str(BIN), os.environ.get("PATH", "")]))
    return subprocess.run(["bash", "-o", "pipefail", "-c", command], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)


def check_output(command: Command, proc: subprocess.CompletedProcess, numbers_free: bool = False) -> str | None:
    """Why ``proc`` does not print what the page shows, or None."""
    failing = any("error:" in line for line in command.expected)
    if (proc.returncode != 0) != failing:
        return f"exit {proc.returncode}, but the page shows {'an error' if failing else 'success'}\n{proc.stderr}"
    text = proc.stderr if failing else proc.stdout
    expected, actual = command.expected, [line.rstrip() for line in text.splitlines()]
    if numbers_free:
        expected = [_NUMBER.sub("N", line) for line in expected]
        actual = [_NUMBER.sub("N", line) for line in actual]
    if matches(expected, actual):
        return None
    return "the page shows:\n" + "\n".join(command.expected) + "\n---- the command prints:\n" + text


def check_vitis(command: Command, cwd: Path) -> str | None:
    """Run Vitis HLS on the project, or without it check that build.tcl's files are there."""
    m = VITIS.match(command.text)
    assert m
    if shutil.which("vitis_hls"):
        proc = run(command.text, cwd, timeout=3600)
        return None if proc.returncode == 0 else f"vitis_hls failed:\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}"
    project = cwd / m.group(1)
    tcl = (project / "build.tcl").read_text(encoding="utf-8")
    added = re.findall(r"^add_files(?: -tb)? (\S+)", tcl, flags=re.M)
    if not added:
        return "build.tcl adds no files"
    missing = [name for name in added if not (project / name).is_file()]
    return f"build.tcl adds files the project lacks: {missing}" if missing else None


def _page_params() -> list:
    return [pytest.param(page, id=page.name) for page in PAGES]


def _export_params() -> list:
    out = []
    for page in PAGES:
        for command in commands(page):
            if command.kind == "export":
                out.append(pytest.param(command, id=f"{page.name}:{command.text[:60]}"))
    return out


# ----------------------------------------------------------------------------------------------- the pages


def test_guide_has_its_pages() -> None:
    names = {page.name for page in PAGES}
    assert {"README.md", "getting-started.md", "frameworks.md", "tuning.md", "experts.md"} <= names
    kinds = {command.kind for page in PAGES for command in commands(page)}
    assert kinds == {"install", "vitis", "export", "run"}


@pytest.mark.parametrize("page", _page_params())
def test_blocks_are_commands_quotes_or_files(page: Path, tmp_path: Path) -> None:
    code = {p: p.read_text(encoding="utf-8") for p in (ROOT / "examples").rglob("*.py")}
    for lang, body in blocks(page):
        assert lang in LANGUAGES, f"{page.name}: a ```{lang} block: nothing checks it"
        if lang == "python":
            assert any(body in text for text in code.values()), \
                f"{page.name}: this python block is in no file under examples/:\n{body}"
        if lang in ("text", ""):
            assert not any(line.startswith("$ ") for line in body.splitlines()), \
                f"{page.name}: commands belong in ```console blocks:\n{body}"
        if lang == "toml":
            path = tmp_path / "cfg.toml"
            path.write_text(body, encoding="utf-8")
            cfg = load_config(str(path))
            for name in cfg.layers:
                cfg.layer(name)
            for name in cfg.inputs:
                cfg.input(name)
    for command in commands(page):
        assert command.kind  # raises for an unknown kind


def test_install_line_is_what_ci_runs() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert any(line.startswith(INSTALL + " && ") or line == INSTALL for line in ci)
    assert INSTALL in (ROOT / "README.md").read_text(encoding="utf-8")
    shown = [c for page in PAGES for c in commands(page) if c.kind == "install"]
    assert len(shown) == 1 and shown[0].page == "getting-started.md"


@pytest.mark.parametrize("page", _page_params())
def test_page_commands(page: Path, repo_mirror: Callable[[str], Path]) -> None:
    """Every command of the page but the export scripts, in order, in one scratch folder."""
    cwd = repo_mirror(f"guide_{page.stem}")
    for name, text in files(page).items():
        (cwd / name).write_text(text, encoding="utf-8")
    failures, ran = [], 0
    for command in commands(page):
        kind = command.kind
        if kind in ("install", "export"):
            continue  # test_install_line_is_what_ci_runs, test_export_script
        if "../shared" in command.text and not SHARED.is_dir():
            continue
        if "--check" in command.text and not have_compiler():
            continue
        ran += 1
        if kind == "vitis":
            why = check_vitis(command, cwd)
        else:
            why = check_output(command, run(command.text, cwd))
        if why:
            failures.append(f"$ {command.text}\n{why}")
    assert not failures, f"{page.name}: {len(failures)} of {ran} commands differ from the page\n\n" + \
        "\n\n".join(failures)


# ----------------------------------------------------------------------------------------------- export scripts


def interpreters() -> list[str]:
    extra = [p for p in os.environ.get("FMLC_EXPORT_PYTHONS", "").split(os.pathsep) if p]
    return [sys.executable, *extra]


def interpreter_for(modules: set[str]) -> str | None:
    """The first interpreter that imports every module of ``modules``."""
    probe = "import importlib.util, sys; sys.exit(any(importlib.util.find_spec(m) is None for m in sys.argv[1:]))"
    for python in interpreters():
        if subprocess.run([python, "-c", probe, *sorted(modules)], capture_output=True).returncode == 0:
            return python
    return None


@pytest.mark.parametrize("command", _export_params())
def test_export_script(command: Command, repo_mirror: Callable[[str], Path]) -> None:
    script = shlex.split(command.text)[1]
    modules = script_modules(ROOT / script)
    python = interpreter_for(modules)
    if python is None:
        pytest.skip(f"no interpreter imports {', '.join(sorted(modules))} (set FMLC_EXPORT_PYTHONS)")
    cwd = repo_mirror("guide_export")
    why = check_output(command, run(command.text, cwd, python=python, timeout=600), numbers_free=True)
    assert why is None, f"$ {command.text}  [{python}]\n{why}"


def test_export_scripts_have_committed_outputs() -> None:
    """Each export script under examples/export/ has its ONNX output committed next to it."""
    scripts = sorted((ROOT / "examples" / "export").glob("*.py"))
    assert scripts
    for script in scripts:
        assert script.with_suffix(".onnx").is_file(), script.name
    shown = {shlex.split(c.text)[1] for page in PAGES for c in commands(page) if c.kind == "export"}
    assert {f"examples/export/{s.name}" for s in scripts} <= shown


def test_vitis_check_without_vitis(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without vitis_hls, a project missing a file that build.tcl adds is reported."""
    monkeypatch.setattr(shutil, "which", lambda name: None)
    project = tmp_path / "p"
    (project / "firmware").mkdir(parents=True)
    (project / "build.tcl").write_text('add_files firmware/p.cpp -cflags "-std=c++14"\n'
                                       "add_files -tb tb/tb_p.cpp\n", encoding="utf-8")
    (project / "firmware" / "p.cpp").write_text("", encoding="utf-8")
    command = Command("p.md", "cd p && vitis_hls -f build.tcl")
    assert check_vitis(command, tmp_path) == "build.tcl adds files the project lacks: ['tb/tb_p.cpp']"
    (project / "tb").mkdir()
    (project / "tb" / "tb_p.cpp").write_text("", encoding="utf-8")
    assert check_vitis(command, tmp_path) is None


def test_pipeline_parts() -> None:
    assert split_pipeline("fmlc a.onnx --emit=qt 2>&1 | grep 'x | y' | head -3") == [
        ["fmlc", "a.onnx", "--emit=qt", "2", ">&", "1"], ["grep", "x | y"], ["head", "-3"]]
    with pytest.raises(AssertionError):
        split_pipeline("fmlc a.onnx; rm -rf x")
    with pytest.raises(AssertionError, match="unknown command kind 'rm'"):
        _ = Command("p.md", "rm -rf build").kind
    with pytest.raises(AssertionError, match="unknown command kind 'sh'"):
        _ = Command("p.md", "fmlc a.onnx | sh").kind
    assert Command("p.md", "cd build/x && vitis_hls -f build.tcl").kind == "vitis"
    assert Command("p.md", INSTALL).kind == "install"
