"""Atomic outputs: a file or folder that fmlc writes appears whole or not at all.

Each output is built under a hidden sibling name and renamed into place.  The sibling is
created the way ``open()`` and ``mkdir`` create anything (mode 0666 or 0777 less the umask),
so the output gets the permissions of any other new file or folder there, not the private
0600 / 0700 of ``tempfile``'s, which would survive the rename.
"""

from __future__ import annotations

import errno
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any


def sibling(target: Path, tag: str) -> Path:
    """A fresh hidden name next to ``target``: ``.NAME.TAG-RANDOM``."""
    return target.with_name(f".{target.name}.{tag}-{os.urandom(6).hex()}")


@contextmanager
def atomic_file(path: str | Path, binary: bool = False) -> Iterator[IO[Any]]:
    """A new file to write (UTF-8 text, or bytes when ``binary``) that replaces ``path`` when
    the block ends; if the block raises, it is removed and ``path`` is untouched.  Anything
    at ``path`` but a regular file (``/dev/null``, a pipe) is written to, never replaced."""
    target = Path(path)
    if target.exists() and not target.is_file():
        with open(target, "wb") if binary else open(target, "w", encoding="utf-8") as f:
            yield f
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = sibling(target, "tmp")
    f = open(tmp, "xb") if binary else open(tmp, "x", encoding="utf-8")
    try:
        with f:
            yield f
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@contextmanager
def atomic_dir(path: str | Path) -> Iterator[Path]:
    """A new empty folder to fill that takes the place of ``path`` (whatever was there is
    removed) when the block ends; if the block or the swap fails, it is removed and ``path``
    is as it was."""
    out = Path(path).absolute()
    if out.exists() and not (out.is_dir() or out.is_file()):  # never move /dev/null away
        raise FileExistsError(errno.EEXIST, "it exists and is neither a folder nor a file", str(out))
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = sibling(out, "tmp")
    tmp.mkdir()
    old = None
    try:
        yield tmp
        if out.exists() or out.is_symlink():
            old = sibling(out, "old")
            os.rename(out, old)
        try:
            os.rename(tmp, out)
        except BaseException:
            if old is not None:
                os.rename(old, out)
            raise
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if old is not None:
        _remove(old)


def _remove(path: Path) -> None:
    """Delete a folder, or whatever else is at ``path``."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
