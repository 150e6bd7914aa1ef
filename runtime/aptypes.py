"""Find the ap_types headers and build C++ against them, cached by content hash.

Headers come from ``$FMLC_AP_TYPES``, else ``$XILINX_HLS/include``, else the copy in
the installed ``hls4ml`` package (``pip install fmlc[csim]``).  Builds land in
``$FMLC_CACHE_DIR`` (default ``~/.cache/fmlc/csim``) under a name derived from the
sources, flags, header folder and compiler version, and are written to a temporary
file first and renamed, so parallel builders of the same program never see a torn file.
Source names may hold folders (``firmware/top.cpp``); they are written with them, and
``include_dirs`` (folders of that tree) join the root of the tree on the include path.

Parsing the ap_types headers is about half of compiling a small generated unit, so when
the sources include them every unit is compiled with ``-include`` of a precompiled header
of them (:func:`precompiled_header`): built once per header-folder content, compiler and
flags under ``$FMLC_CACHE_DIR/pch``, skipped when it cannot be built or ``$FMLC_NO_PCH=1``.
The sources still include the headers themselves (their include guards make that a no-op),
so a build means the same with or without it, and the build key ignores it.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path

from fmlc.compiler.diagnostics import FmlcError

DEFAULT_FLAGS: tuple[str, ...] = ("-O1", "-std=c++14")
_MARKER = "ap_fixed.h"
PCH_HEADERS: tuple[str, ...] = ("ap_fixed.h", "ap_int.h", "hls_stream.h")
PCH_NAME = "fmlc_pch.h"
_INCLUDE = re.compile(r'^[ \t]*#[ \t]*include[ \t]*[<"]([^>"]+)[>"]', re.MULTILINE)
_PCH_LOCK = threading.Lock()
_PCH_FAILED: set[Path] = set()


class ApTypesNotFound(FmlcError):
    """No folder holding ``ap_fixed.h`` was found."""


class CompileError(FmlcError):
    """g++ rejected a program; the message holds its first error lines."""


def _hls4ml_headers() -> Path | None:
    """``templates/vivado/ap_types`` of the installed hls4ml, found without importing it."""
    try:
        spec = importlib.util.find_spec("hls4ml")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for root in spec.submodule_search_locations:
        candidate = Path(root) / "templates" / "vivado" / "ap_types"
        if (candidate / _MARKER).is_file():
            return candidate
    return None


def find_ap_types() -> Path:
    """The folder holding ``ap_fixed.h``; raises :class:`ApTypesNotFound` naming every place tried."""
    env = os.environ.get("FMLC_AP_TYPES")
    if env:
        if (Path(env) / _MARKER).is_file():
            return Path(env)
        raise ApTypesNotFound(f"$FMLC_AP_TYPES={env} does not contain {_MARKER}")
    xilinx = os.environ.get("XILINX_HLS")
    if xilinx and (Path(xilinx) / "include" / _MARKER).is_file():
        return Path(xilinx) / "include"
    found = _hls4ml_headers()
    if found is not None:
        return found
    raise ApTypesNotFound(
        "ap_types headers (ap_fixed.h) not found; looked in $FMLC_AP_TYPES (unset), "
        f"$XILINX_HLS/include ({xilinx + '/include has no ap_fixed.h' if xilinx else 'XILINX_HLS unset'}) "
        "and templates/vivado/ap_types of the installed hls4ml package (not found); "
        "install it with `pip install fmlc[csim]` or point FMLC_AP_TYPES at the folder")


def cache_dir() -> Path:
    """Where builds are cached: ``$FMLC_CACHE_DIR`` or ``~/.cache/fmlc/csim``."""
    env = os.environ.get("FMLC_CACHE_DIR")
    return Path(env) if env else Path.home() / ".cache" / "fmlc" / "csim"


@lru_cache(maxsize=8)
def _compiler_version(cxx: str) -> str:
    out = subprocess.run([cxx, "--version"], capture_output=True, text=True, check=False)
    return out.stdout.splitlines()[0] if out.stdout else cxx


def _normalise(sources: Mapping[str, str] | str) -> dict[str, str]:
    return {"main.cpp": sources} if isinstance(sources, str) else dict(sources)


def _build_key(sources: Mapping[str, str], flags: Sequence[str], include: Path, cxx: str,
               include_dirs: Sequence[str] = ()) -> str:
    h = hashlib.sha256()
    for part in [*(f"{n}\0{s}" for n, s in sorted(sources.items())), *flags, str(include.resolve()),
                 _compiler_version(cxx), *(f"-I\0{d}" for d in include_dirs)]:
        h.update(part.encode())
        h.update(b"\0\0")
    return h.hexdigest()[:32]


@lru_cache(maxsize=16)
def _digest_files(stamp: tuple[tuple[str, int, int], ...], root: str) -> str:
    h = hashlib.sha256()
    for name, _, _ in stamp:
        h.update(os.path.relpath(name, root).encode() + b"\0")
        h.update(Path(name).read_bytes())
        h.update(b"\0\0")
    return h.hexdigest()


def headers_digest(include: Path) -> str:
    """Content hash of every file under ``include``; read again only when a file's name, size
    or modification time changed since the last call of this process."""
    files = sorted(p for p in include.rglob("*") if p.is_file())
    stamp = tuple((str(p), st.st_size, st.st_mtime_ns) for p in files for st in [p.stat()])
    return _digest_files(stamp, str(include))


def _pch_headers(sources: Mapping[str, str]) -> list[str]:
    """All :data:`PCH_HEADERS` when the sources include one of them (so one header serves
    io=parallel and io=stream builds alike); none when a source shadows one of them."""
    if any(Path(n).name in PCH_HEADERS for n in sources):
        return []
    included = {m for text in sources.values() for m in _INCLUDE.findall(text)}
    return list(PCH_HEADERS) if included & set(PCH_HEADERS) else []


def precompiled_header(sources: Mapping[str, str], include: Path, cxx: str, flags: Sequence[str]) -> Path | None:
    """The folder holding ``fmlc_pch.h`` and its ``.gch`` for compiling ``sources`` with
    ``flags`` (built on first use); ``None`` when disabled, not needed or not buildable."""
    headers = [h for h in _pch_headers(sources) if (include / h).is_file()]
    if os.environ.get("FMLC_NO_PCH") == "1" or not headers:
        return None
    h = hashlib.sha256()
    for part in [*headers, str(include.resolve()), headers_digest(include), _compiler_version(cxx), cxx, *flags]:
        h.update(part.encode() + b"\0\0")
    folder = (cache_dir() / "pch" / h.hexdigest()[:32]).resolve()
    gch = folder / f"{PCH_NAME}.gch"
    with _PCH_LOCK:
        if not gch.is_file() and folder not in _PCH_FAILED:
            _make_pch(folder, headers, include, cxx, flags)
            if not gch.is_file():
                _PCH_FAILED.add(folder)  # this process tries no more
    return folder if gch.is_file() else None


def _make_pch(folder: Path, headers: list[str], include: Path, cxx: str, flags: Sequence[str]) -> None:
    """Build the header in a temporary folder beside ``folder`` and rename it into place
    (a rival builder's folder, if it got there first, is kept); a failure leaves no folder."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = folder.parent / f".build-{os.urandom(6).hex()}"
    tmp.mkdir()  # mode 0777 less the umask, unlike mkdtemp's 0700 (a shared cache stays readable)
    try:
        header = tmp / PCH_NAME
        header.write_text("".join(f'#include "{h}"\n' for h in headers))
        result = subprocess.run([cxx, *flags, f"-I{include}", "-x", "c++-header", str(header),
                                 "-o", f"{header}.gch"], capture_output=True, check=False)
        if result.returncode != 0 or not Path(f"{header}.gch").is_file():
            return
        try:
            os.replace(tmp, folder)
        except OSError:
            pass  # another process renamed its complete copy into place first
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _first_errors(stderr: str, lines: int = 12) -> str:
    errors = [ln for ln in stderr.splitlines() if "error" in ln]
    return "\n".join((errors or stderr.splitlines())[:lines])


def _relative(name: str) -> Path:
    """``name`` as a relative path inside the build tree; absolute paths and ``..`` are refused."""
    path = Path(name)
    if not name or path.is_absolute() or ".." in path.parts:
        raise ValueError(f"source name {name!r} is not a relative path inside the build folder")
    return path


def _build(sources: Mapping[str, str] | str, kind: str, flags: Sequence[str], include: Path | None,
           cxx: str, name: str, include_dirs: Sequence[str] = ()) -> Path:
    srcs = _normalise(sources)
    for n in [*srcs, *include_dirs]:
        _relative(n)
    include = include if include is not None else find_ap_types()
    all_flags = [*DEFAULT_FLAGS, *flags, *(["-fPIC", "-shared"] if kind == "shared" else [])]
    key = _build_key(srcs, all_flags, include, cxx, include_dirs)
    out_dir = cache_dir()
    target = out_dir / f"{name}-{key}{'.so' if kind == 'shared' else ''}"
    if target.is_file():
        return target
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out_dir, prefix=".build-") as tmp:
        cpp_files = []
        for fname, text in srcs.items():
            path = Path(tmp) / fname
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            if path.suffix in (".cpp", ".cc", ".cxx"):
                cpp_files.append(path)
        partial = Path(tmp) / "out"
        extra = [f"-I{Path(tmp) / d}" for d in include_dirs]
        compile_flags = [f for f in all_flags if f != "-shared"]
        pch = precompiled_header(srcs, include, cxx, compile_flags)
        pch_flags = ["-include", str(pch / PCH_NAME), "-Winvalid-pch"] if pch is not None else []
        objects = _compile_all(cxx, [*compile_flags, *pch_flags, f"-I{include}", f"-I{tmp}", *extra], cpp_files,
                               name)
        result = subprocess.run([cxx, *all_flags, *map(str, objects), "-o", str(partial)],
                                capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise CompileError(f"{cxx} failed linking {name}:\n{_first_errors(result.stderr)}")
        os.replace(partial, target)
    return target


def _compile_all(cxx: str, flags: list[str], files: list[Path], name: str) -> list[Path]:
    """Compile each file to an object, as many at once as there are cores; returns the objects."""
    objects = [f.with_suffix(".o") for f in files]

    def compile_one(src: Path, obj: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run([cxx, *flags, "-c", str(src), "-o", str(obj)], capture_output=True, text=True,
                              check=False)

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        results = list(pool.map(compile_one, files, objects))
    for src, result in zip(files, results, strict=True):
        if result.returncode != 0:
            raise CompileError(f"{cxx} failed building {name} ({src.name}):\n{_first_errors(result.stderr)}")
    return objects


def build_executable(sources: Mapping[str, str] | str, flags: Sequence[str] = (), include: Path | None = None,
                     cxx: str = "g++", name: str = "prog", include_dirs: Sequence[str] = ()) -> Path:
    """Compile (and link) ``sources`` (text of one ``.cpp``, or relative file path → text)
    into a cached executable; returns its path.  ``include_dirs`` are folders of the
    source tree added to the include path (its root always is)."""
    return _build(sources, "exe", flags, include, cxx, name, include_dirs)


def build_shared(sources: Mapping[str, str] | str, flags: Sequence[str] = (), include: Path | None = None,
                 cxx: str = "g++", name: str = "lib", include_dirs: Sequence[str] = ()) -> Path:
    """Like :func:`build_executable`, for a shared library (``-fPIC -shared``)."""
    return _build(sources, "shared", flags, include, cxx, name, include_dirs)


def have_compiler(cxx: str = "g++") -> bool:
    return shutil.which(cxx) is not None
