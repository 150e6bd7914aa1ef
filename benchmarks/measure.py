"""Run a command and measure it: wall time and peak memory (the largest resident set of
the process and of every descendant it waited for, as Linux's ``wait4`` reports it: for
``bash build_lib.sh`` that is the biggest ``cc1plus``)."""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import attrs


@attrs.frozen
class Measured:
    wall_s: float
    peak_mib: float
    returncode: int
    output: str  # the last lines of stdout and stderr together

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def error(self) -> str:
        """A one-line reason for a failed run: its last error-looking (else last) output line."""
        lines = [ln.strip() for ln in self.output.splitlines() if ln.strip()]
        errors = [ln for ln in lines if "error" in ln.lower() or "exception" in ln.lower()]
        return ((errors or lines)[-1] if lines else f"exit status {self.returncode}")[:300]


def measure(cmd: Sequence[str], cwd: Path | None = None, env: Mapping[str, str] | None = None,
            timeout_s: float = 900) -> Measured:
    """Run ``cmd`` to completion; killed (with its process group) after ``timeout_s``."""
    full_env = {**os.environ, **(env or {})}
    with tempfile.TemporaryFile(mode="w+") as log:
        start = time.perf_counter()
        proc = subprocess.Popen(list(cmd), cwd=cwd, env=full_env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
        timer = threading.Timer(timeout_s, lambda: os.killpg(proc.pid, signal.SIGKILL))
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        log.seek(0)
        text = log.read()
    if proc.returncode == -signal.SIGKILL and wall >= timeout_s:
        text += f"\ntimed out after {timeout_s:.0f} s"
    return Measured(wall, usage.ru_maxrss / 1024, proc.returncode, "\n".join(text.splitlines()[-40:]))
