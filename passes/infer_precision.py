"""``qt-infer-precision``: size every accumulator exactly from the actual constants.

A forward range analysis computes, for every element of every ``qt`` value, the
exact interval [lo, hi] of raw codes it can take for any input the function's
input types allow: a dense or conv sums ``w⁺·x_hi + w⁻·x_lo`` with the real
weights (not the worst case of their type), sums and products take interval
endpoints, monotone ops map endpoints, tables take their reachable entries.
Each accumulator (dense, conv, add, sub, mul, leaky_relu, bipolar_dense) and the
ops that only pass values on (relu, max_pool, reshape, transpose, slice, split)
then get the narrowest type with the same fractional bits that holds the
interval, so no value changes and none can overflow.

The analysis also checks the rest: an op whose exact result can leave a wrapping
result type is reported (a warning naming the op and the range), since that is
where the hardware could overflow.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np

from fmlc.compiler.attributes import FunctionType, TensorType, TypeAttr
from fmlc.compiler.diagnostics import warn
from fmlc.compiler.ir import Operation, Value
from fmlc.compiler.passes import Pass, PassContext, register_pass
from fmlc.dialects import qt
from fmlc.dialects.func import FuncOp
from fmlc.passes.precision import type_for_range
from fmlc.runtime import fixed
from fmlc.runtime.interpreter import Interpreter, TypedArray, rule_for

Range = tuple[np.ndarray, np.ndarray]  # raw codes (lo, hi) in the value's type

ACCUMULATORS = (qt.DenseOp, qt.ConvOp, qt.AddOp, qt.SubOp, qt.MulOp, qt.LeakyReluOp, qt.BipolarDenseOp, qt.ScatterOp)
FOLLOWERS = (qt.ReluOp, qt.MaxPoolOp)  # may narrow to their own range
MOVERS = (qt.ReshapeOp, qt.TransposeOp, qt.SliceOp, qt.SplitOp, qt.GatherOp)  # results keep their input's element type
MONOTONE = (qt.ReluOp, qt.MaxPoolOp, qt.AvgPoolOp, qt.ReshapeOp, qt.TransposeOp, qt.SliceOp, qt.SplitOp,
            qt.ConcatOp, qt.PadOp, qt.AddOp, qt.ClipOp, qt.CastOp, qt.ThresholdOp, qt.DenseOp, qt.ConvOp)
BLOCKERS = (qt.ConcatOp, qt.PadOp)  # need their operands' element types to stay as they are


def _elem(v: Value) -> Any:
    return v.type.element  # type: ignore[attr-defined]


def _full(v: Value) -> Range:
    t = _elem(v)
    shape = v.type.shape  # type: ignore[attr-defined]
    lo = np.full(shape, t.min_raw, dtype=object if t.width > 62 else np.int64)
    hi = np.full(shape, t.max_raw, dtype=object if t.width > 62 else np.int64)
    return lo, hi


def exact_type(op: Operation) -> qt.FixedPointType | None:
    """A type holding the exact (unconverted) result of ``op``, or None when it has none."""
    ins = [_elem(v) for v in op.operands]
    if isinstance(op, (qt.DenseOp, qt.ConvOp)):
        x, w = ins[0], ins[1]
        k = int(np.prod(op.weight.type.shape[:-1]))  # type: ignore[attr-defined]
        acc = x.mul_type(w).sum_type(max(k, 1))
        return acc.add_type(ins[2]) if len(ins) > 2 else acc
    if type(op) is qt.SubOp:  # SubOp and MulOp subclass AddOp: test them first
        return ins[0].sub_type(ins[1])
    if type(op) is qt.MulOp:
        return ins[0].mul_type(ins[1])
    if type(op) is qt.AddOp:
        return ins[0].add_type(ins[1])
    if isinstance(op, qt.LeakyReluOp):
        from fmlc.passes.precision import union_type

        return union_type([ins[0], ins[0].mul_type(ins[1])])
    if isinstance(op, qt.BipolarDenseOp):
        k = op.weight.type.shape[0]  # type: ignore[attr-defined]
        return qt.integer(max(k, 1).bit_length() + 1)
    return None


class _Analysis:
    def __init__(self, warn_overflow: bool) -> None:
        self.ranges: dict[Value, Range] = {}
        self.interp = Interpreter()
        self.warn_overflow = warn_overflow

    def evaluate(self, op: Operation, arrays: list[np.ndarray | None], result_element: Any) -> list[np.ndarray]:
        """Run ``op``'s rule on raw ``arrays`` with its results retyped to ``result_element``."""
        saved = [r.type for r in op.results]
        try:
            for r in op.results:
                r.type = TensorType(r.type.shape, result_element)  # type: ignore[attr-defined]
            args = [TypedArray(a, v.type) for a, v in zip(arrays, op.operands, strict=True)]
            out = rule_for(type(op))(self.interp, op, *args)  # type: ignore[misc]
        finally:
            for r, t in zip(op.results, saved, strict=True):
                r.type = t
        return [np.asarray(o) for o in (out if isinstance(out, (tuple, list)) else [out])]

    def exact_range(self, op: Operation) -> list[Range] | None:
        """Exact result intervals, in the raw codes of :func:`exact_type` (or of the result type)."""
        rs = [self.ranges[v] for v in op.operands]
        if isinstance(op, qt.CastOp):
            return [rs[0]]
        wide = _source_type(op)
        if wide is None:
            return None
        if isinstance(op, (qt.DenseOp, qt.ConvOp)):
            w_lo, w_hi = rs[1]
            pos, neg = np.maximum(w_lo, 0), np.minimum(w_lo, 0)
            if not np.array_equal(w_lo, w_hi):  # not a constant weight: endpoint products per element
                return None
            (x_lo, x_hi) = rs[0]
            bias = [rs[2][0]] if len(rs) > 2 else []
            zero_b = [np.zeros_like(b) for b in bias]
            hi = self.evaluate(op, [x_hi, pos, *bias], wide)[0] + self.evaluate(op, [x_lo, neg, *zero_b], wide)[0]
            lo = self.evaluate(op, [x_lo, pos, *bias], wide)[0] + self.evaluate(op, [x_hi, neg, *zero_b], wide)[0]
            return [(lo, hi)]
        if type(op) is qt.MulOp:
            (a_lo, a_hi), (b_lo, b_hi) = rs
            cands = [self.evaluate(op, [a, b], wide)[0] for a in (a_lo, a_hi) for b in (b_lo, b_hi)]
            return [(_reduce(np.minimum, cands), _reduce(np.maximum, cands))]
        if type(op) is qt.SubOp:
            (a_lo, a_hi), (b_lo, b_hi) = rs
            return [(self.evaluate(op, [a_lo, b_hi], wide)[0], self.evaluate(op, [a_hi, b_lo], wide)[0])]
        if isinstance(op, qt.LeakyReluOp):
            (x_lo, x_hi), (a_lo, _) = rs
            zero = np.clip(np.zeros_like(x_lo), x_lo, x_hi)
            cands = [self.evaluate(op, [x, a_lo], wide)[0] for x in (x_lo, x_hi, zero)]
            return [(_reduce(np.minimum, cands), _reduce(np.maximum, cands))]
        if isinstance(op, qt.BipolarDenseOp):
            k = op.weight.type.shape[0]  # type: ignore[attr-defined]
            shape = op.results[0].type.shape  # type: ignore[attr-defined]
            return [(np.full(shape, -k, np.int64), np.full(shape, k, np.int64))]
        if isinstance(op, qt.LutOp):
            table = np.asarray(op.table.data)  # type: ignore[attr-defined]
            if np.all(np.diff(table.astype(object)) >= 0):
                return [tuple(self.evaluate(op, [b], _elem(op.results[0]))[0] for b in rs[0])]  # type: ignore
            return None
        if isinstance(op, qt.ClipOp):
            return [tuple(self.evaluate(op, [b, rs[1][0], rs[2][1]], wide)[0] for b in rs[0])]  # type: ignore
        if isinstance(op, (qt.GatherOp, qt.ScatterOp)):
            return self._indexed_range(op, rs)
        if isinstance(op, MONOTONE):
            lo = self.evaluate(op, [r[0] for r in rs], wide)
            hi = self.evaluate(op, [r[1] for r in rs], wide)
            return list(zip(lo, hi, strict=True))
        return None

    def _indexed_range(self, op: qt.GatherOp | qt.ScatterOp, rs: list[Range]) -> list[Range] | None:
        """Gather and scatter: monotone in the data for a constant index; for a runtime one, any
        row may land anywhere (a gather may also read zero)."""
        index = qt.const_value(op.indices)
        t = _elem(op.results[0])
        if index is not None:
            if isinstance(op, qt.GatherOp):
                return [tuple(self.evaluate(op, [b, index], t)[0] for b in rs[0])]  # type: ignore[misc]
            if op.reduce.value == "mul":
                return None
            return [tuple(self.evaluate(op, [d, index, u], t)[0] for d, u in zip(rs[0], rs[2], strict=True))]  # type: ignore[misc]
        axis = op.axis.value % len(op.input.type.shape)  # type: ignore[attr-defined]
        if isinstance(op, qt.GatherOp):
            lo = np.minimum(np.min(rs[0][0], axis=axis, keepdims=True), 0)
            hi = np.maximum(np.max(rs[0][1], axis=axis, keepdims=True), 0)
            shape = op.results[0].type.shape  # type: ignore[attr-defined]
            return [(np.broadcast_to(lo, shape) if lo.ndim == len(shape) else _full(op.results[0])[0],
                     np.broadcast_to(hi, shape) if hi.ndim == len(shape) else _full(op.results[0])[1])]
        reduce = op.reduce.value
        if reduce not in ("add", "max", "min") or not op.include_self.value:
            return None
        n, e = op.input.type.shape[axis], op.indices.type.shape[0]  # type: ignore[attr-defined]
        ignored, first = np.full(e, n, np.int64), np.zeros(e, np.int64)

        def dest(d: np.ndarray) -> np.ndarray:  # the destination in result codes
            return self.evaluate(op, [d, ignored, rs[2][0]], t)[0]

        def row0(d: np.ndarray, u: np.ndarray) -> np.ndarray:  # every update reduced into row 0
            out = self.evaluate(op, [d, first, u], t)[0]
            return np.take(out, [0], axis=axis)

        zeros = np.zeros_like(rs[0][0])
        (d_lo, d_hi), (u_lo, u_hi) = rs[0], rs[2]
        if reduce == "add":
            return [(dest(d_lo) + row0(zeros, np.minimum(u_lo, 0)), dest(d_hi) + row0(zeros, np.maximum(u_hi, 0)))]
        if reduce == "max":
            return [(dest(d_lo), np.maximum(dest(d_hi), row0(d_lo, u_hi)))]
        return [(np.minimum(dest(d_lo), row0(d_hi, u_lo)), dest(d_hi))]

    def visit(self, op: Operation, narrow: bool) -> None:
        if isinstance(op, qt.ConstOp):
            raw = fixed.as_raw(op.value.data, op.value.type.element, check=False)  # type: ignore[attr-defined]
            self.ranges[op.result] = (raw, raw)
            return
        if not op.results or not all(isinstance(_elem(r), qt.FixedPointType | qt.BipolarType)
                                     for r in op.results if isinstance(r.type, TensorType)):
            return
        if any(v not in self.ranges for v in op.operands) or any(
                not isinstance(r.type, TensorType) for r in op.results):
            for r in op.results:
                if isinstance(r.type, TensorType):
                    self.ranges[r] = _full(r)
            return
        exact = self.exact_range(op) if not isinstance(op, (qt.SoftmaxOp, qt.FromFloatOp)) else None
        wide = _elem(op.operands[0]) if isinstance(op, qt.CastOp) else _source_type(op)
        for k, r in enumerate(op.results):
            t = _elem(r)
            if exact is None or isinstance(t, qt.BipolarType):
                self.ranges[r] = _full(r)
                continue
            lo, hi = exact[k]
            if narrow and isinstance(op, MOVERS) and t != _elem(op.operands[0]):
                r.type = TensorType(r.type.shape, _elem(op.operands[0]))  # type: ignore[attr-defined]
                t = _elem(r)
            elif narrow and self._can_narrow(op, r, t, wide):
                lo_i, hi_i = _min(lo), _max(hi)
                new = type_for_range(lo_i, hi_i, t.frac_bits, t.quant, t.overflow)
                if new.width < t.width or new.signed != t.signed and new.width <= t.width:
                    r.type = TensorType(r.type.shape, new)  # type: ignore[attr-defined]
                    t = new
            self.ranges[r] = self._converted(op, r, lo, hi, wide, t)

    @staticmethod
    def _can_narrow(op: Operation, r: Value, t: Any, wide: Any) -> bool:
        if not isinstance(t, qt.FixedPointType) or t.is_int and not isinstance(op, qt.BipolarDenseOp):
            return False
        if not isinstance(op, ACCUMULATORS + FOLLOWERS):
            return False
        if isinstance(op, FOLLOWERS) and _elem(op.operands[0]).frac_bits != t.frac_bits:
            return False
        if wide is not None and wide.frac_bits != t.frac_bits:  # the op rounds: keep its type
            return False
        return not _blocked(r)

    def _converted(self, op: Operation, r: Value, lo: np.ndarray, hi: np.ndarray, wide: Any, t: Any) -> Range:
        """The result interval after conversion into ``t``; reports a possible wrap."""
        if isinstance(op, qt.LutOp) or isinstance(wide, qt.BipolarType):
            return (lo, hi) if isinstance(op, qt.LutOp) else _full(r)
        src = wide
        lo_t, hi_t = _min(lo), _max(hi)
        lo_v = _to_frac(lo_t, src.frac_bits, t.frac_bits)
        hi_v = _to_frac(hi_t, src.frac_bits, t.frac_bits)
        if t.overflow == "wrap" and (lo_v < t.min_raw or hi_v > t.max_raw):
            if self.warn_overflow:
                warn(op, f"result type {_show(t)} can overflow (wrap) for inputs in the input types' range: "
                         f"the exact result ranges over [{float(lo_t * src.lsb):g}, {float(hi_t * src.lsb):g}]")
            return _full(r)
        sat = t.with_modes(t.quant, "sat")
        return (fixed.convert(lo, src, sat), fixed.convert(hi, src, sat))


def _show(t: Any) -> str:
    from fmlc.compiler.printer import format_type

    return format_type(t)


def _source_type(op: Operation) -> Any:
    """The type :meth:`_Analysis.exact_range` returns codes in: the exact type, else the result type saturating."""
    t = exact_type(op)
    if t is not None:
        return t
    r = _elem(op.results[0])
    return r.with_modes(r.quant, "sat") if isinstance(r, qt.FixedPointType) else None


def _to_frac(raw: int, src_frac: int, dst_frac: int) -> int:
    d = dst_frac - src_frac
    return raw << d if d >= 0 else -((-raw) >> -d) if raw < 0 else raw >> -d


def _blocked(v: Value) -> bool:
    """Whether ``v``'s element type must stay: a user needs it, directly or through ops that pass it on."""
    return any(isinstance(u, BLOCKERS) or isinstance(u, MOVERS) and any(_blocked(r) for r in u.results)
               for u in v.users)


def _reduce(fn: Callable, arrays: list[np.ndarray]) -> np.ndarray:
    out = arrays[0]
    for a in arrays[1:]:
        out = fn(out, a)
    return out


def _min(a: np.ndarray) -> int:
    return int(np.min(a)) if np.size(a) else 0


def _max(a: np.ndarray) -> int:
    return int(np.max(a)) if np.size(a) else 0


def analyse(func: FuncOp, narrow: bool = True, warn_overflow: bool = True) -> dict[Value, Range]:
    """Ranges of every fixed-point value of ``func`` (narrowing types when ``narrow``)."""
    a = _Analysis(warn_overflow)
    for op in func.entry.ops:
        a.visit(op, narrow)
    ret = func.entry.last_op
    if narrow and ret is not None:  # returned values may have narrowed
        func.properties["function_type"] = TypeAttr(FunctionType(func.type.inputs, [v.type for v in ret.operands]))
    return a.ranges


@register_pass
@dataclasses.dataclass(frozen=True)
class InferPrecision(Pass):
    """Narrow accumulators to the exact range their constants allow (see the module docstring)."""

    name = "qt-infer-precision"
    summary = "size accumulators exactly from the constant weights; report possible overflows"
    warn_overflow: bool = True

    def apply(self, ctx: PassContext, op: Operation) -> None:
        from fmlc.passes import float32_hazards

        for f in [o for o in op.walk() if isinstance(o, FuncOp)]:
            ranges = analyse(f, narrow=True, warn_overflow=self.warn_overflow)
            float32_hazards.check(f, ranges)
