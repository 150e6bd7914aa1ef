"""Runs the ``// RUN:`` lines of every ``.mlir`` file under this directory, lit-style.

A RUN line is a pipeline of commands joined by ``|``; in it ``%s`` is the file itself and
``%testdialect`` the test dialect plugin (``tests/compiler/testdialect.py``, for ``--load``).
``fmlc-opt``, ``fmlc`` and ``filecheck`` are the tools next to this Python; ``not CMD``
inverts CMD's exit status; ``2>&1`` sends a command's stderr into the pipe.  The line
passes when every command in it exits 0 (after ``not``).
"""

from __future__ import annotations

import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

HERE = Path(__file__).parent
BIN = Path(sys.executable).parent
TOOLS = {"fmlc-opt": BIN / "fmlc-opt", "fmlc": BIN / "fmlc", "filecheck": BIN / "filecheck"}
SUBSTITUTIONS = {"%testdialect": str(HERE.parent / "compiler" / "testdialect.py")}


def run_lines(path: Path) -> list[str]:
    prefix = "// RUN:"
    return [line.split(prefix, 1)[1].strip() for line in path.read_text().splitlines() if line.startswith(prefix)]


def cases() -> list:
    out = []
    for path in sorted(HERE.rglob("*.mlir")):
        name = str(path.relative_to(HERE))
        lines = run_lines(path)
        out += [pytest.param(path, line, id=f"{name}:{k}") for k, line in enumerate(lines)]
        if not lines:
            out.append(pytest.param(path, None, id=f"{name}:no-RUN"))
    return out


def run_pipeline(command: str, path: Path) -> list[tuple[str, int, str]]:
    """Run one RUN line; return (command, exit status after ``not``, stderr) per command."""
    for key, value in SUBSTITUTIONS.items():
        command = command.replace(key, value)
    command = command.replace("%s", str(path))
    stages = [shlex.split(part) for part in command.split("|")]
    procs, prev = [], None
    for argv in stages:
        negate = argv[:1] == ["not"]
        argv = argv[1:] if negate else argv
        merge = "2>&1" in argv
        argv = [a for a in argv if a != "2>&1"]
        if argv[0] not in TOOLS:
            raise ValueError(f"unknown tool '{argv[0]}' in RUN line: {command}")
        err = None if merge else tempfile.TemporaryFile("w+")
        proc = subprocess.Popen([str(TOOLS[argv[0]]), *argv[1:]], stdin=prev or subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT if merge else err,
                                cwd=HERE, text=True)
        if prev is not None:
            prev.close()  # the next command owns the pipe now
        procs.append((" ".join(argv), negate, proc, err))
        prev = proc.stdout
    last_out = prev.read() if prev is not None else ""
    results = []
    for name, negate, proc, err in procs:
        rc = proc.wait()
        text = ""
        if err is not None:
            err.seek(0)
            text = err.read()
            err.close()
        results.append((name, int(rc == 0) if negate else rc, text))
    results[-1] = (*results[-1][:2], results[-1][2] + last_out)
    return results

@pytest.mark.parametrize(("path", "line"), cases())
def test_run_line(path, line):
    assert line is not None, f"{path} has no // RUN: line"
    for name, rc, err in run_pipeline(line, path):
        assert rc == 0, f"`{name}` failed (exit {rc}) in RUN: {line}\n{err}"


def test_not_inverts_and_failures_are_reported(tmp_path):
    path = tmp_path / "x.mlir"
    path.write_text("// CHECK: nothing like this\n")
    statuses = {line: [rc for _, rc, _ in run_pipeline(line, path)] for line in
                ["fmlc-opt %s", "not fmlc-opt %s", "not fmlc-opt %s -p nope", "fmlc-opt %s | filecheck %s",
                 "not fmlc-opt %s -p nope 2>&1 | not filecheck %s"]}
    assert list(statuses.values()) == [[0], [1], [0], [0, 1], [0, 0]]
