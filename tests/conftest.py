"""Fixtures shared by the whole suite."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


@pytest.fixture(scope="session")
def repo_mirror(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """``make(name)``: a fresh folder mirroring the repository by symlinks (no .git, no build/),
    next to a ``shared`` link when ../shared exists, so documented commands run as written."""

    def make(name: str) -> Path:
        base = tmp_path_factory.mktemp(name)
        root = base / "repo"
        root.mkdir()
        for entry in ROOT.iterdir():
            if entry.name not in (".git", "build"):
                (root / entry.name).symlink_to(entry, target_is_directory=entry.is_dir())
        if SHARED.is_dir():
            (base / "shared").symlink_to(SHARED, target_is_directory=True)
        return root

    return make
