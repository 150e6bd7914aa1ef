"""The example in docs/numerics.md runs and prints exactly what the page shows."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "numerics.md"


def _example() -> tuple[str, str]:
    text = DOC.read_text()
    after = text.split("<!-- numerics-example", 1)[1]
    code, shown = re.findall(r"```(?:python)?\n(.*?)```", after, flags=re.S)[:2]
    return code, shown


def test_numerics_doc_example_prints_what_the_doc_shows():
    code, shown = _example()
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == shown
