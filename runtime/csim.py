"""C simulation of generated firmware: compile it with g++ against the ap_types headers and
run it on raw codes through ctypes.

The shared library holds the printed firmware ``.cpp`` files and ``csim/bridge.cpp``
(:func:`fmlc.codegen.bridge.bridge_unit`), built by :func:`fmlc.runtime.aptypes.build_shared`
and so cached by content hash.  Raw arrays follow :func:`fmlc.runtime.fixed.as_raw`:
``int64`` for elements of at most 63 bits, object arrays of Python ints for 64.

Optimisation level: ``-O1``, measured on examples/jet_tagger.onnx (a 16-64-32-32-5 dense
network, io=parallel, 256 samples, g++ 12, cold cache, 2 cores): ``-O1`` builds in 31-34 s
and runs in 36 ms, ``-O2`` builds in 39-40 s and runs in 36 ms (``-O0``: 36 s and 920 ms).
The build dominates, so ``-O1``; io=stream gives the same order (25 s vs 29 s).
"""

from __future__ import annotations

import ctypes
import math
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from fmlc.codegen.project import BRIDGE, LegalProject, legal_project
from fmlc.compiler.diagnostics import FmlcError
from fmlc.runtime import aptypes
from fmlc.runtime import fixed as fx

if TYPE_CHECKING:
    from fmlc.codegen.hls import Port, Project

OPT_FLAG = "-O1"

_I64P = ctypes.POINTER(ctypes.c_int64)


class CsimError(FmlcError):
    """C simulation cannot run (no compiler, bad inputs)."""


def _sources(legal: LegalProject) -> dict[str, str]:
    """The files the library is built from: the firmware folder and the bridge."""
    return {k: v for k, v in legal.sources.items() if k.startswith("firmware/") or k == BRIDGE}


def build_library(project: Project, cxx: str = "g++") -> tuple[Path, str]:
    """(path of the cached shared library of ``project``, its exported entry symbol)."""
    if not aptypes.have_compiler(cxx):
        raise CsimError(f"error: C simulation needs the C++ compiler {cxx!r}, which is not on PATH")
    include = aptypes.find_ap_types()
    legal = legal_project(project)
    path = aptypes.build_shared(_sources(legal), flags=(OPT_FLAG,), include=include, cxx=cxx,
                                name=f"csim-{project.name}", include_dirs=("firmware",))
    return path, legal.entry


@lru_cache(maxsize=32)
def _load(path: Path, entry: str, n_ports: int) -> Any:
    fn = getattr(ctypes.CDLL(str(path)), entry)
    fn.argtypes = [_I64P] * n_ports + [ctypes.c_int]
    fn.restype = ctypes.c_int
    return fn


def _size(port: Port) -> int:
    return port.lanes * port.beats


def _to_bits(raw: Any, port: Port) -> np.ndarray:
    """Raw codes (range-checked) as int64 bit patterns."""
    try:
        arr = fx.as_raw(raw, port.element)
    except (TypeError, ValueError) as e:
        raise CsimError(f"error: input {port.name!r}: {e}") from None
    if arr.dtype == object:
        arr = np.array([(int(v) + 2**63) % 2**64 - 2**63 for v in arr.reshape(-1)], dtype=np.int64).reshape(arr.shape)
    return np.ascontiguousarray(arr, dtype=np.int64)


def _from_bits(bits: np.ndarray, port: Port) -> np.ndarray:
    """int64 bit patterns as canonical raw arrays (64-bit elements: Python ints)."""
    if port.element.width <= 63:
        return bits
    signed = getattr(port.element, "signed", False)
    flat = [int(v) if signed else int(v) % 2**64 for v in bits.reshape(-1)]
    return np.array(flat, dtype=object).reshape(bits.shape)


class CsimModel:
    """A project compiled for C simulation; :meth:`run_raw` calls its top function."""

    def __init__(self, project: Project, cxx: str = "g++") -> None:
        self.project = project
        self.path, self.entry = build_library(project, cxx)
        self._fn = _load(self.path, self.entry, len(project.inputs) + len(project.outputs))

    def run_raw(self, inputs: Sequence[Any]) -> list[np.ndarray]:
        """Raw outputs ``[n, *shape]`` (one array per output port) for raw inputs ``[n, *shape]``."""
        ports = self.project.inputs
        if len(inputs) != len(ports):
            raise CsimError(f"error: {self.project.name} takes {len(ports)} inputs, got {len(inputs)}")
        arrays = [np.asarray(x) for x in inputs]
        n = len(arrays[0]) if arrays and arrays[0].ndim else 1
        bits = []
        for x, port in zip(arrays, ports, strict=True):
            if x.ndim == 0 or len(x) != n or math.prod(x.shape[1:]) != _size(port):
                raise CsimError(f"error: input {port.name!r} has shape {x.shape}; expected "
                                f"[{n}, {', '.join(map(str, port.shape))}]")
            bits.append(_to_bits(x.reshape(n, _size(port)), port))
        outs = [np.zeros((n, _size(port)), dtype=np.int64) for port in self.project.outputs]
        if n:
            if n >= 2**31:
                raise CsimError(f"error: {n} samples do not fit one call")
            self._fn(*(a.ctypes.data_as(_I64P) for a in bits + outs), n)
        return [_from_bits(o, port).reshape(n, *port.shape) for o, port in zip(outs, self.project.outputs,
                                                                                strict=True)]


def run_raw(project: Project, inputs: Sequence[Any], cxx: str = "g++") -> list[np.ndarray]:
    """Build (cached) and run ``project`` once: see :meth:`CsimModel.run_raw`."""
    return CsimModel(project, cxx).run_raw(inputs)
