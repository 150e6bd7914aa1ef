"""Hardware cost model of ``qt`` ops inside ``df`` processes: multiplications, valid reuse
factors, and the cycle estimates ``qt-to-df`` records (``ii``, ``latency``) and
``--report`` prints.

The estimates follow how the emitted C++ is structured (docs/hls-project.md): a
multiply-accumulate process issues ``macs / reuse`` multiplications per cycle, each
output an adder tree of depth ceil(log2 terms); everything else is one pipelined step.
"""

from __future__ import annotations

import math

import numpy as np

from fmlc.compiler.ir import Operation, Value
from fmlc.dialects import qt

MAC_OPS: tuple[type[Operation], ...] = (qt.DenseOp, qt.ConvOp, qt.BipolarDenseOp)


def macs_per_beat(op: Operation) -> int:
    """Multiplications one output row (dense) or output pixel (conv) needs, zeros included."""
    w = op.operands[1].type.shape
    if isinstance(op, qt.ConvOp):
        return math.prod(w)  # kernel · C/groups · OC
    return int(w[0]) * int(w[1])


def valid_reuse(op: Operation) -> list[int]:
    """Reuse factors a MAC op accepts: the divisors of its multiplications per beat, so that
    every one of the ``macs / reuse`` multipliers is used exactly ``reuse`` times."""
    n = macs_per_beat(op)
    small = [d for d in range(1, math.isqrt(n) + 1) if n % d == 0]
    return sorted({*small, *(n // d for d in small)})


def nearest(values: list[int], want: int, count: int = 2) -> list[int]:
    return sorted(sorted(values, key=lambda v: (abs(v - want), v))[:count])


def weight_stats(op: Operation) -> tuple[int, int, int]:
    """(non-zero weights, of which powers of two, weight bits) of a MAC op's constant weight."""
    w = _const(op.operands[1])
    if w is None:
        return macs_per_beat(op), 0, 0
    if isinstance(op, qt.BipolarDenseOp):
        return w.size, w.size, w.size
    nonzero, pow2 = nonzero_powers_of_two(w)
    return nonzero, pow2, w.size * op.operands[1].type.element.width


def nonzero_powers_of_two(raw: np.ndarray) -> tuple[int, int]:
    """(non-zero raw codes, of which ±2^k) in ``raw``."""
    if raw.dtype == object:
        mags = [abs(int(v)) for v in np.ravel(raw) if v]
        return len(mags), sum(1 for m in mags if m & (m - 1) == 0)
    m = np.abs(raw.astype(np.int64)).ravel()
    m = m[m != 0]
    return int(m.size), int(np.count_nonzero(m & (m - 1) == 0))


def _const(v: Value) -> np.ndarray | None:
    raw = qt.const_value(v)
    return None if raw is None else np.asarray(raw)


def step_latency(op: Operation, reuse: int) -> int:
    """Clock cycles from a beat's operands to its result for one op."""
    if isinstance(op, MAC_OPS):
        terms = macs_per_beat(op) // max(int(op.results[0].type.shape[-1]), 1) + 1
        return reuse + max(math.ceil(math.log2(terms)), 1) + 1
    if isinstance(op, qt.SoftmaxOp):
        n = op.input.type.shape[op.axis.value]
        return 4 + max(math.ceil(math.log2(max(n, 2))), 1)
    if isinstance(op, qt.TreeEnsembleOp):  # comparators, leaf multiplexers, then the adder tree
        return 2 + max(math.ceil(math.log2(len(op.tree_roots) + 1)), 1)
    if isinstance(op, qt.ArgMaxOp):
        return max(math.ceil(math.log2(max(op.input.type.shape[op.axis.value], 2))), 1)
    if isinstance(op, (qt.MaxPoolOp, qt.AvgPoolOp)):
        k = math.prod(a.value for a in op.kernel)
        return max(math.ceil(math.log2(max(k, 2))), 1) + 1
    if isinstance(op, (qt.ReshapeOp, qt.TransposeOp, qt.ConcatOp, qt.SplitOp, qt.SliceOp, qt.PadOp)):
        return 0
    if isinstance(op, qt.GatherOp):  # wiring, or one multiplexer
        return 0 if qt.const_value(op.indices) is not None else 1
    if isinstance(op, qt.ScatterOp):  # a balanced tree per destination, or a chain of E updates
        terms = scatter_terms(op)
        if terms is None:
            return op.indices.type.shape[0] + 1  # type: ignore[attr-defined]
        return max(math.ceil(math.log2(max(terms, 1))), 0) + 1 if op.reduce.value != "none" else 0
    return 1


def scatter_terms(op: qt.ScatterOp) -> int | None:
    """The most updates one destination receives (constant indices), else None."""
    values = qt.const_indices(op.indices)
    shape = op.input.type.shape  # type: ignore[attr-defined]
    return None if values is None else qt.in_degree(values, shape[op.axis.value % len(shape)])
