"""Shared fixtures of the ONNX import / onnx-to-qt tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from fmlc.compiler.driver import load_all

load_all()


@pytest.fixture(scope="session")
def zoo() -> Path:
    """The public model zoo (``../shared/zoo/public`` next to the repository); skips when absent."""
    path = (Path(__file__).parents[2] / ".." / "shared" / "zoo" / "public").resolve()
    if not path.is_dir():
        pytest.skip(f"model zoo not found at {path}")
    return path
