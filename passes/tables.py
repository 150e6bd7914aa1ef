"""Lookup tables for activations (sigmoid, tanh, exp, softmax's exp and reciprocal).

A table over the input type T covers raw codes [start, start + N·2^shift): entry i
serves the 2^shift codes of bin i and holds f at the bin's centre, rounded to the
output type; inputs outside the covered range clamp to the first or last entry.  The
index is a shift of the raw code (no multiplier), and for a monotone f the largest
error over a bin is at its edges, so :func:`build_table` returns an exact bound.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import attrs
import numpy as np

from fmlc.dialects import qt
from fmlc.runtime import fixed

Fn = Callable[[np.ndarray], np.ndarray]

FUNCTIONS: dict[str, Fn] = {
    "sigmoid": lambda x: 1.0 / (1.0 + np.exp(-x)),
    "tanh": np.tanh,
    "exp": np.exp,
    "reciprocal": lambda x: 1.0 / x,
}

# default input range covered by the table, and output type, per function
DEFAULT_RANGE = {"sigmoid": (-8.0, 8.0), "tanh": (-4.0, 4.0)}
DEFAULT_OUTPUT = {"sigmoid": qt.fixed(17, 1, False, "rnd_conv", "sat"),
                  "tanh": qt.fixed(18, 2, True, "rnd_conv", "sat")}


@attrs.frozen
class Table:
    start: int
    shift: int
    raw: np.ndarray  # entries, raw codes of ``output``
    output: qt.FixedPointType
    error: float  # max |f(x) - table(x)| over every representable input


def build_table(fn_name: str, input_type: qt.FixedPointType, lo: float, hi: float, size: int,
                output: qt.FixedPointType, below: bool = True, above: bool = True) -> Table:
    """The table of ``fn_name`` over [lo, hi] (clipped to the input type) with at most ``size`` entries.

    The bins end exactly at ``hi``.  The error bound covers every input of the type,
    clamped ones too, except below ``lo`` when ``below`` is False and above ``hi``
    when ``above`` is False (the caller knows inputs never go there).
    """
    if size < 2 or size & (size - 1):
        raise ValueError(f"table size must be a power of two >= 2, got {size}")
    fn = FUNCTIONS[fn_name]
    lsb = input_type.lsb_float
    start = int(np.clip(math.floor(lo / lsb), input_type.min_raw, input_type.max_raw))
    end = int(np.clip(math.ceil(hi / lsb), input_type.min_raw, input_type.max_raw))
    span = max(end - start + 1, 1)
    shift = max(0, math.ceil(math.log2(span / size))) if span > size else 0
    n = -(-span // (1 << shift))
    start = max(end + 1 - n * (1 << shift), input_type.min_raw)  # anchor the bins at hi
    first = start + np.arange(n, dtype=np.float64) * (1 << shift)
    last = np.minimum(first + (1 << shift) - 1, input_type.max_raw)
    centre = (first + last) / 2 * lsb
    conv = output.with_modes("rnd_conv", "sat")
    with np.errstate(all="ignore"):
        raw = fixed.from_float(fn(centre), conv)
    if raw.size > 1 and np.all(raw == raw[0]):
        raise ValueError(f"the {fn_name} table over [{lo}, {hi}] with output {output} would be constant "
                         f"({float(fixed.to_float(raw[:1], conv)[0])}); widen the output type or move the range")
    values = fixed.to_float(raw, conv)
    lo_edge = first * lsb
    hi_edge = last * lsb
    if below:
        lo_edge[0] = input_type.min_float  # everything below clamps to bin 0
    if above:
        hi_edge[-1] = input_type.max_float  # and above to the last bin
    with np.errstate(all="ignore"):
        err = np.maximum(np.abs(fn(lo_edge) - values), np.abs(fn(hi_edge) - values))
    err = np.where(np.isfinite(err), err, np.inf)
    return Table(start, shift, raw, output, float(np.max(err)))
