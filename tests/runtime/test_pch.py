"""The precompiled ap_types header of C-simulation builds (fmlc.runtime.aptypes): built once
per header content, compiler and flags, actually used by g++, rebuilt when the headers
change, skipped when it cannot be built, and without effect on results."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from fmlc.dialects import qt
from fmlc.runtime import aptypes, csim
from fmlc.runtime import fixed as fx

FAKE_HEADER = "#ifndef FAKE_AP_FIXED_H\n#define FAKE_AP_FIXED_H\n#define FAKE_VALUE {}\n#endif\n"
PROGRAM = '#include "ap_fixed.h"\n// variant {}\nint main() {{ return FAKE_VALUE; }}\n'


def _handmade() -> Any:
    """The hand-made firmware builder of tests/codegen/test_project.py (shared with test_csim)."""
    name = "fmlc_tests_handmade"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).parents[1] / "codegen" / "test_project.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


class Spy:
    """Records every command aptypes runs; compiles of units (``-c``) also get ``-H``, which
    makes g++ list on stderr what it read (``! <file>.gch`` for a precompiled header used)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[tuple[list[str], Any]] = []
        real = subprocess.run

        def run(cmd: list[str], **kwargs: Any) -> Any:
            cmd = [*cmd, "-H"] if "-c" in cmd else list(cmd)
            result = real(cmd, **kwargs)
            self.calls.append((cmd, result))
            return result

        monkeypatch.setattr(aptypes.subprocess, "run", run)

    def pch_builds(self) -> int:
        return sum("c++-header" in cmd for cmd, _ in self.calls)

    def compiles(self) -> list[tuple[list[str], str]]:
        return [(cmd, result.stderr) for cmd, result in self.calls if "-c" in cmd]


@pytest.fixture
def cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("FMLC_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("FMLC_NO_PCH", raising=False)
    return tmp_path / "cache"


@pytest.fixture
def fake_headers(tmp_path: Path) -> Path:
    """A header folder whose ap_fixed.h only defines FAKE_VALUE (cheap to precompile)."""
    folder = tmp_path / "ap_types"
    folder.mkdir()
    (folder / "ap_fixed.h").write_text(FAKE_HEADER.format(3))
    return folder


def _pch_folders(cache: Path) -> list[Path]:
    return sorted((cache / "pch").iterdir()) if (cache / "pch").is_dir() else []


def _exit_code(exe: Path) -> int:
    return subprocess.run([str(exe)], check=False).returncode


def _assert_used(spy: Spy, cache: Path) -> None:
    [folder] = _pch_folders(cache)
    compiles = spy.compiles()
    assert compiles
    for cmd, stderr in compiles:
        assert str(folder / aptypes.PCH_NAME) in cmd
        assert f"! {folder / aptypes.PCH_NAME}.gch" in stderr.splitlines(), stderr[:2000]


def test_pch_built_once_used_and_rebuilt_for_new_header_content(cache: Path, fake_headers: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    _handmade().require_cxx()
    spy = Spy(monkeypatch)
    first = aptypes.build_executable(PROGRAM.format(1), include=fake_headers)
    second = aptypes.build_executable(PROGRAM.format(2), include=fake_headers)
    assert spy.pch_builds() == 1 and _exit_code(first) == _exit_code(second) == 3
    _assert_used(spy, cache)
    assert [p.name for p in (cache / "pch").iterdir()] == [_pch_folders(cache)[0].name]  # no temporary left
    aptypes._digest_files.cache_clear()  # as a new process would: the PCH on disk is found again
    aptypes.build_executable(PROGRAM.format(3), include=fake_headers)
    assert spy.pch_builds() == 1
    (fake_headers / "ap_fixed.h").write_text(FAKE_HEADER.format(5))
    changed = aptypes.build_executable(PROGRAM.format(4), include=fake_headers)
    assert spy.pch_builds() == 2 and len(_pch_folders(cache)) == 2
    assert _exit_code(changed) == 5  # a stale header would still say 3


def test_pch_depends_on_flags(cache: Path, fake_headers: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _handmade().require_cxx()
    spy = Spy(monkeypatch)
    aptypes.build_executable(PROGRAM.format(1), include=fake_headers)
    aptypes.build_executable(PROGRAM.format(1), flags=("-DOTHER=1",), include=fake_headers)
    assert spy.pch_builds() == 2 and len(_pch_folders(cache)) == 2


def test_fallback_without_pch(cache: Path, fake_headers: Path, tmp_path: Path,
                              monkeypatch: pytest.MonkeyPatch) -> None:
    """A compiler that cannot precompile headers, or FMLC_NO_PCH=1: a plain build."""
    _handmade().require_cxx()
    no_pch = tmp_path / "no-pch-g++"
    no_pch.write_text(f'#!/bin/sh\ncase " $* " in *" c++-header "*) exit 1;; esac\nexec {shutil.which("g++")} "$@"\n')
    no_pch.chmod(0o755)
    spy = Spy(monkeypatch)
    exe = aptypes.build_executable(PROGRAM.format(1), include=fake_headers, cxx=str(no_pch))
    aptypes.build_executable(PROGRAM.format(2), include=fake_headers, cxx=str(no_pch))
    assert _exit_code(exe) == 3
    assert spy.pch_builds() == 1  # tried once in this process, then no more
    assert not _pch_folders(cache)
    assert all("-include" not in cmd and ".gch" not in stderr for cmd, stderr in spy.compiles())
    monkeypatch.setenv("FMLC_NO_PCH", "1")
    aptypes.build_executable(PROGRAM.format(3), include=fake_headers)
    assert spy.pch_builds() == 1 and not _pch_folders(cache)


def test_pch_headers_follow_the_sources() -> None:
    every = ["ap_fixed.h", "ap_int.h", "hls_stream.h"]  # one header for io=parallel and io=stream builds
    assert aptypes._pch_headers({"a.cpp": '#include <ap_int.h>\n  #  include "hls_stream.h"\n'}) == every
    assert aptypes._pch_headers({"a.cpp": '#include "ap_fixed.h"\n'}) == every
    assert aptypes._pch_headers({"a.cpp": "int main() { return 0; }"}) == []
    shadowing = {"a.cpp": '#include "ap_fixed.h"\n', "lib/ap_fixed.h": "#define OWN 1\n"}
    assert aptypes._pch_headers(shadowing) == []


def test_csim_with_and_without_pch_agree(cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The real headers, through the csim bridge (io=stream: hls_stream.h is precompiled too)."""
    handmade = _handmade()
    handmade.require_cxx()
    pairs = [(qt.fixed(12, 5), qt.fixed(9, 3, True, "rnd", "sat")), (qt.integer(40), qt.integer(33, False))]
    project = handmade.hand_project(pairs, "stream", (3, 4), add="index", name="pch_cmp")
    rng = np.random.default_rng(7)
    xs = [fx.as_raw(rng.integers(t.min_raw, t.max_raw + 1, (9, 3, 4)), t) for t, _ in pairs]
    spy = Spy(monkeypatch)
    with_pch = csim.CsimModel(project)
    assert spy.pch_builds() == 1
    _assert_used(spy, cache)
    monkeypatch.setenv("FMLC_CACHE_DIR", str(tmp_path / "plain"))
    monkeypatch.setenv("FMLC_NO_PCH", "1")
    plain = csim.CsimModel(project)
    assert plain.path != with_pch.path and not (tmp_path / "plain" / "pch").exists()
    for a, b in zip(with_pch.run_raw(xs), plain.run_raw(xs), strict=True):
        assert a.dtype == b.dtype and np.array_equal(a, b)


def test_a_rival_builders_folder_is_kept(cache: Path, fake_headers: Path) -> None:
    """Two processes building the same header: the second rename fails and its copy is dropped."""
    _handmade().require_cxx()
    folder = cache / "pch" / "k"
    folder.mkdir(parents=True)
    (folder / "rival").write_text("")
    aptypes._make_pch(folder, ["ap_fixed.h"], fake_headers, "g++", list(aptypes.DEFAULT_FLAGS))
    assert [p.name for p in (cache / "pch").iterdir()] == ["k"] and [p.name for p in folder.iterdir()] == ["rival"]
