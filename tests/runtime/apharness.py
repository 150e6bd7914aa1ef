"""Test support: build and run C++ programs against the ap_types headers.

Each test group generates one program (split in a few translation units built in
parallel) that runs many cases and writes raw results, so the cost is a handful of
cached g++ builds (``fmlc.runtime.aptypes``) rather than one per case.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from fmlc.runtime.aptypes import build_executable, find_ap_types

PRELUDE = r"""
#include <ap_fixed.h>
#include <ap_int.h>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

static std::vector<int64_t> OUT;

// raw bit pattern of any ap type (width <= 64), unsigned
template <class T> int64_t bits(const T& x) { return (int64_t)x.range(T::width - 1, 0).to_uint64(); }
template <class T> void set_bits(T& x, unsigned long long b) { x.range(T::width - 1, 0) = b; }
// raw bit pattern of any width as hex text
template <class T> void set_hex(T& x, const char* s) { ap_uint<T::width> u(s, 16); x.range(T::width - 1, 0) = u; }
template <class T> std::string hex(const T& x) {
  ap_uint<T::width> u = x.range(T::width - 1, 0);
  return u.to_string(16, false);
}
// W, I, signed, is_int of an operator's result type
static void info4(int64_t w, int64_t i, int64_t s, int64_t is_int) {
  OUT.push_back(w); OUT.push_back(i); OUT.push_back(s); OUT.push_back(is_int);
}
template <int W, int I, bool S, ap_q_mode Q, ap_o_mode O, int N>
void info(const ap_fixed_base<W, I, S, Q, O, N>&) { info4(W, I, S, 0); }
template <int W, bool S>
void info(const ap_int_base<W, S>&) { info4(W, W, S, 1); }
static void flush() { fwrite(OUT.data(), sizeof(int64_t), OUT.size(), stdout); }
"""


def require_csim() -> None:
    """Skip only when FMLC_SKIP_CSIM=1; missing headers are a failure with a clear message."""
    if os.environ.get("FMLC_SKIP_CSIM") == "1":
        pytest.skip("FMLC_SKIP_CSIM=1")
    find_ap_types()


def build(sources: Sequence[str], name: str, flags: Sequence[str] = ("-O0",)) -> list[Path]:
    """Build each source (after :data:`PRELUDE`) into a cached executable, in parallel.

    -O0 by default: these programs instantiate thousands of templates and run briefly.
    """
    with ThreadPoolExecutor(max_workers=max(1, min(len(sources), os.cpu_count() or 1))) as pool:
        futures = [pool.submit(build_executable, PRELUDE + src, flags=flags, name=f"{name}{i}")
                   for i, src in enumerate(sources)]
        return [f.result() for f in futures]


def run(path: Path, args: Sequence[str] = ()) -> bytes:
    """stdout of the program; a non-zero exit fails the test with its stderr."""
    result = subprocess.run([str(path), *args], capture_output=True, check=False)
    if result.returncode != 0:
        pytest.fail(f"{path.name} exited {result.returncode}: {result.stderr.decode()[-2000:]}")
    return result.stdout


def run_all(sources: Sequence[str], name: str, flags: Sequence[str] = ("-O0",)) -> bytes:
    """Build every source and concatenate their outputs in order."""
    return b"".join(run(p) for p in build(sources, name, flags))


def int64s(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype=np.int64)


def split(items: Sequence[Any], parts: int) -> list[Sequence[Any]]:
    """``items`` in ``parts`` contiguous chunks (fewer when there are few items)."""
    size = max(1, -(-len(items) // parts))
    return [items[i:i + size] for i in range(0, len(items), size)]


def to_signed(u: Any, width: int, signed: bool) -> Any:
    """Unsigned bit patterns (ints or an int64 array) as raw values of a (width, signed) type."""
    if not signed:
        return u
    if isinstance(u, np.ndarray) and u.dtype != object:
        return np.where(u >> (width - 1) & 1, u - (1 << width), u) if width < 64 else u
    return u - (1 << width) if (u >> (width - 1)) & 1 else u


def hex_bits(value: int, width: int) -> str:
    """Two's-complement bit pattern of ``value`` as hex text for ``set_hex``."""
    return format(value & ((1 << width) - 1), "x")


def mismatch_report(label: str, inputs: Any, ours: Any, header: Any, limit: int = 5) -> str:
    """Text naming the first few inputs where fmlc and the header disagree."""
    bad = np.nonzero(np.asarray(ours != header, dtype=bool).reshape(-1))[0]
    flat_in, flat_ours, flat_header = (np.asarray(a).reshape(-1) for a in (inputs, ours, header))
    rows = [f"  input {flat_in[i]!r}: fmlc {flat_ours[i]!r}, header {flat_header[i]!r}" for i in bad[:limit]]
    return f"{label}: {len(bad)} mismatches\n" + "\n".join(rows)
