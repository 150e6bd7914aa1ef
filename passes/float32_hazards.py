"""Where the float32 reference can round differently from exact fixed point.

The QONNX reference evaluates a layer with a float32 bias in float32: the sum is
rounded to 24 significant bits before the next quantiser rounds it again.  fmlc
keeps the exact sum, so the two differ exactly when that float32 rounding lands a
value on a boundary of the quantiser (a tie for rounding modes, a grid point for
truncation) that the exact value was not on.

With products on the grid 2^-Fp, a bias b and boundaries on 2^-B, an exact sum
minus a boundary lies in b + 2^-G·Z with G = max(Fp, B), so the closest an exact sum
gets to a boundary without touching it is d = the distance from b to 2^-G·Z.  Float32
rounding can close that gap only when d is at most half an ulp of the largest
reachable boundary.  :func:`check` proves d is larger for every channel, or warns
at the quantiser naming the channels where it is not.
"""

from __future__ import annotations

import math

import numpy as np

from fmlc.compiler.diagnostics import warn
from fmlc.compiler.ir import Operation, Value
from fmlc.dialects import qt
from fmlc.dialects.func import FuncOp
from fmlc.runtime import fixed


def _producer(v: Value) -> Operation | None:
    op = getattr(v, "op", None)
    while isinstance(op, (qt.ReluOp, qt.MaxPoolOp)):
        op = getattr(op.operands[0], "op", None)
    return op


def hazardous_channels(layer: Operation, cast: qt.CastOp, magnitude: float) -> list[int]:
    """Output channels of ``layer`` whose reference float32 rounding can change ``cast``'s result."""
    bias = getattr(layer, "bias", None)
    const = getattr(bias, "op", None) if bias is not None else None
    if not isinstance(const, qt.ConstOp) or magnitude <= 0:
        return []
    x_t, w_t, b_t = (layer.operands[i].type.element for i in range(3))  # type: ignore[attr-defined]
    dst = cast.output.type.element  # type: ignore[attr-defined]
    if not all(isinstance(t, qt.FixedPointType) for t in (x_t, w_t, b_t, dst)):
        return []
    boundary = dst.frac_bits + (0 if dst.quant in ("trn", "trn_zero") else 1)
    grid = max(x_t.frac_bits + w_t.frac_bits, boundary)  # exact sum − boundary lies in b + 2^-grid·Z
    fb = b_t.frac_bits
    if fb <= grid:  # the bias is on that grid: exact sums sit on boundaries or a whole step away
        return []
    step = 1 << (fb - grid)
    raw = np.asarray(fixed.as_raw(const.value.data, b_t, check=False)).ravel()  # type: ignore[attr-defined]
    r = np.asarray([int(v) % step for v in raw], dtype=object)
    gap = np.asarray([min(int(x), step - int(x)) for x in r], dtype=object)
    half_ulp_raw = math.ldexp(1.0, math.floor(math.log2(magnitude)) - 24 + fb)
    return [j for j, g in enumerate(gap) if 0 < g <= half_ulp_raw]


def check(func: FuncOp, ranges: dict) -> int:
    """Warn at every quantiser a float32-rounding difference can reach; returns how many warned."""
    warned = 0
    for op in func.entry.ops:
        if not isinstance(op, qt.CastOp):
            continue
        layer = _producer(op.input)  # type: ignore[attr-defined]
        if not isinstance(layer, (qt.DenseOp, qt.ConvOp)) or layer.results[0] not in ranges:
            continue
        lo, hi = ranges[layer.results[0]]
        t = layer.results[0].type.element  # type: ignore[attr-defined]
        magnitude = max(abs(int(np.min(lo))), abs(int(np.max(hi)))) * float(t.lsb)
        channels = hazardous_channels(layer, op, magnitude)
        if channels:
            warned += 1
            shown = ", ".join(str(c) for c in channels[:8]) + (", ..." if len(channels) > 8 else "")
            warn(op, f"the float32 reference rounds the sum of '{layer.location.describe()}' before this "
                     f"quantiser; on output channel(s) {shown} its float32 bias can make that rounding land on "
                     "a rounding boundary, where the reference and fmlc's exact result differ by one step")
    return warned
