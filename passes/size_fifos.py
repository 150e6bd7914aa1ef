"""``df-size-fifos``: give every ``!df.stream`` the depth its traffic needs.

Each function holding ``df`` ops runs once in the FIFO simulation
(:mod:`fmlc.runtime.df_rules`) on zero inputs with unbounded FIFOs, every process
writing at most one beat per turn; each stream then gets ``depth = max(peak, 1)``,
its peak occupancy in that run (capped at ``max-depth`` when that is > 0).  Timing
is data-independent -- every process's schedule (:func:`fmlc.dialects.df.process_events`)
is static -- so the run on zeros has the same occupancies as any input would, and
the depths found never deadlock (the run itself is a schedule that stays within them).
A cap below a peak may deadlock; the simulation reports it.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from fmlc.compiler.attributes import FloatType, TensorType
from fmlc.compiler.diagnostics import op_error
from fmlc.compiler.ir import Operation
from fmlc.compiler.passes import Pass, PassContext, register_pass
from fmlc.dialects import df
from fmlc.dialects.func import FuncOp


def zero_inputs(func: Operation) -> list[np.ndarray]:
    """A zero array for each argument of ``func`` (floats for float tensors, raw 0 otherwise)."""
    out = []
    for a in func.regions[0].blocks[0].args:
        t = a.type
        if not isinstance(t, TensorType) or not t.has_static_shape:
            raise op_error(func, "needs statically shaped tensor arguments to size its FIFOs")
        wide = isinstance(t.element, FloatType) and t.element.name == "f64"
        dtype = (np.float64 if wide else np.float32) if isinstance(t.element, FloatType) else np.int64
        out.append(np.zeros(t.shape, dtype=dtype))
    return out


def size_fifos(func: Operation, max_depth: int = 0) -> None:
    """Set the depth of every stream ``func`` produces (see the module docstring)."""
    from fmlc.runtime.df_rules import simulate

    _, flow = simulate(func, zero_inputs(func), unbounded=True)
    peaks = flow.peaks
    for op in func.walk():
        for r in op.results:
            if isinstance(r.type, df.StreamType) and r in peaks:
                depth = max(peaks[r], 1)
                r.type = r.type.with_depth(min(depth, max_depth) if max_depth > 0 else depth)


@register_pass
@dataclasses.dataclass(frozen=True)
class SizeFifos(Pass):
    """Size every FIFO from a simulation (see the module docstring)."""

    name = "df-size-fifos"
    summary = "set every df.stream depth to its peak occupancy in a simulation on zeros"
    max_depth: int = 0

    def __post_init__(self) -> None:
        if self.max_depth < 0:
            raise ValueError("max-depth must be >= 0 (0: no cap)")

    def apply(self, ctx: PassContext, op: Operation) -> None:
        funcs = [op] if isinstance(op, FuncOp) else [o for o in op.walk() if isinstance(o, FuncOp)]
        for f in funcs:
            if any(isinstance(o, df.DF_OPS) for o in f.walk()):
                size_fifos(f, self.max_depth)
