"""Throughput of fmlc.runtime.fixed: elements per second on the int64 and the exact path.

    python benchmarks/bench_numerics.py [--size N] [--repeat R] [--json FILE]

Prints a markdown table (best of R runs); ``--json`` also writes the rows.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from fmlc.dialects.qt import FixedPointType, fixed
from fmlc.runtime import fixed as fx

# (path, input type, conversion target): the int64 path, and widths that force Python ints
PATHS: dict[str, tuple[FixedPointType, FixedPointType]] = {
    "int64": (fixed(16, 6, True, "rnd_conv", "sat"), fixed(8, 3, True, "rnd", "sat")),
    "wide": (fixed(80, 20, True, "rnd_conv", "sat"), fixed(70, 10, True, "rnd", "sat")),
}


def _best(fn: Callable[[], Any], repeat: int) -> float:
    fn()  # warm up
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def _cases(path: str, size: int) -> dict[str, tuple[Callable[[], Any], int]]:
    """name → (call, elements processed) for one path."""
    t, target = PATHS[path]
    x = np.random.default_rng(0).standard_normal(size) * 4
    raw = fx.from_float(x, t)
    k = 1000
    rows = max(size // k, 1)
    mat, vec = raw[: rows * k].reshape(rows, k), raw[:k].reshape(k, 1)
    return {
        "from_float": (lambda: fx.from_float(x, t), size),
        "convert": (lambda: fx.convert(raw, t, target), size),
        "to_float": (lambda: fx.to_float(raw, t), size),
        f"multiply-accumulate (dense {rows}x{k} @ {k}x1)": (lambda: fx.dense(mat, t, vec, t), rows * k),
        "sum": (lambda: fx.sum(raw, t), size),
    }


def run(size: int, repeat: int) -> list[dict[str, Any]]:
    rows = []
    for path in PATHS:
        for name, (fn, elements) in _cases(path, size).items():
            seconds = _best(fn, repeat)
            rows.append({"path": path, "type": PATHS[path][0].cpp, "op": name, "elements": elements,
                         "seconds": seconds, "elements_per_s": elements / seconds})
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    lines = ["| path | type | operation | elements | Melem/s |", "|---|---|---|---:|---:|"]
    lines += [f"| {r['path']} | `{r['type']}` | {r['op']} | {r['elements']:,} | {r['elements_per_s'] / 1e6:.2f} |"
              for r in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=10**6, help="elements per operation (default 10^6)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per operation; the best counts")
    parser.add_argument("--json", metavar="FILE", help="also write the rows as JSON")
    args = parser.parse_args()
    rows = run(args.size, args.repeat)
    print(f"numpy {np.__version__}, Python {platform.python_version()}, {platform.machine()}\n")
    print(table(rows))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"numpy": np.__version__, "python": platform.python_version(), "rows": rows}, f, indent=2)


if __name__ == "__main__":
    main()
