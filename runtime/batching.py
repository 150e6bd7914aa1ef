"""Running one op on a batch of samples (a leading sample axis no IR type mentions).

:func:`run` picks by the rule's declared mode (``@impl(Op, batch=...)``, see
:mod:`fmlc.runtime.interpreter`): ``leading`` calls the rule once with the operands
aligned to the result's rank, ``fold`` merges the sample axis into the operands' axis 0,
``index`` runs the rule once on element numbers and gathers, and anything else runs the
rule once per sample and stacks the results.  Each mode gives exactly what the
per-sample runs give; a mode that does not apply to an op falls back to the loop.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from fmlc.compiler.attributes import TensorType
from fmlc.compiler.ir import Operation

if TYPE_CHECKING:
    from fmlc.runtime.interpreter import Interpreter, Rule, TypedArray


def run(interp: Interpreter, rule: Rule, op: Operation, operands: Sequence[TypedArray]) -> Any:
    """The rule's results on batched ``operands``, each with the leading sample axis."""
    from fmlc.runtime.interpreter import BATCH_MODES

    mode = BATCH_MODES.get(type(op))
    ranks = _ranks(op)
    if ranks is not None:
        if mode == "leading":
            return rule(interp, op, *_aligned(operands, max(ranks)))
        if mode == "fold" and _foldable(op, operands):
            return _fold(interp, rule, op, operands)
        if mode == "index" and _indexable(operands):
            return _index(interp, rule, op, operands)
    return _per_sample(interp, rule, op, operands)


def _ranks(op: Operation) -> list[int] | None:
    """Result ranks, or None when a result is not a ranked tensor."""
    types = [r.type for r in op.results]
    if not types or not all(isinstance(t, TensorType) and t.has_static_shape for t in types):
        return None
    return [len(t.shape) for t in types]  # type: ignore[union-attr]


def _samples(operands: Sequence[TypedArray]) -> int:
    return next(len(o.data) for o in operands if o.batched)


def _with(o: TypedArray, data: Any) -> TypedArray:
    from fmlc.runtime.interpreter import TypedArray

    return TypedArray(data, o.type)


def _aligned(operands: Sequence[TypedArray], rank: int) -> list[TypedArray]:
    """Batched operands as [S, 1.., *shape] of ``rank`` + 1 axes, so numpy broadcasting
    against the unbatched ones (right-aligned) keeps the sample axis in front."""
    out = []
    for o in operands:
        data = np.asarray(o.data)
        if o.batched and data.ndim - 1 < rank:
            data = data.reshape(data.shape[0], *(1,) * (rank - data.ndim + 1), *data.shape[1:])
        out.append(_with(o, data) if o.batched else o)
    return out


def _foldable(op: Operation, operands: Sequence[TypedArray]) -> bool:
    """Every batched operand has an axis 0 of rows and the op does not reduce over it
    (``axis`` names a dimension of the first operand: an argmax's result lacks it)."""
    axis = getattr(op, "axis", None)
    rank = len(getattr(op.operands[0].type, "shape", ())) if op.operands else 0
    if axis is not None and int(axis.value) % max(rank, 1) == 0:
        return False
    return all(np.ndim(o.data) >= 3 for o in operands if o.batched)


def _fold(interp: Interpreter, rule: Rule, op: Operation, operands: Sequence[TypedArray]) -> Any:
    s = _samples(operands)
    folded = [_with(o, np.asarray(o.data).reshape(-1, *np.shape(o.data)[2:])) if o.batched else o for o in operands]
    out = rule(interp, op, *folded)
    return _map_results(out, lambda v: np.asarray(v).reshape(s, -1, *np.shape(v)[1:]))


def _indexable(operands: Sequence[TypedArray]) -> bool:
    """Unbatched operands (a pad's fill) must be single values."""
    return all(o.batched or np.size(o.data) == 1 for o in operands)


def _index(interp: Interpreter, rule: Rule, op: Operation, operands: Sequence[TypedArray]) -> Any:
    """Run the rearrangement on element numbers of the batched operands laid end to end
    (−1 − k for unbatched operand k), then gather every sample's elements at once."""
    s = _samples(operands)
    numbered, sources, fills, start = [], [], [], 0
    for o in operands:
        shape = np.shape(o.data)[1:] if o.batched else np.shape(o.data)
        if o.batched:
            size = int(np.prod(shape, dtype=np.int64))
            numbered.append(_with(o, np.arange(start, start + size, dtype=np.int64).reshape(shape)))
            sources.append(np.asarray(o.data).reshape(s, size))
            start += size
        else:
            numbered.append(_with(o, np.full(shape, -1 - len(fills), dtype=np.int64)))
            fills.append(np.asarray(o.data).reshape(()))
    flat = np.concatenate(sources, axis=1) if len(sources) > 1 else sources[0]
    if fills:
        flat = np.concatenate([flat, np.broadcast_to(np.stack(fills[::-1]).astype(flat.dtype), (s, len(fills)))],
                              axis=1)

    def gather(idx: Any) -> np.ndarray:
        idx = np.asarray(idx).astype(np.int64)
        where = np.where(idx < 0, flat.shape[1] + idx, idx)  # −1 − k → fill k, stored last-first
        return flat[:, where.ravel()].reshape(s, *idx.shape)

    return _map_results(rule(interp, op, *numbered), gather)


def _per_sample(interp: Interpreter, rule: Rule, op: Operation, operands: Sequence[TypedArray]) -> Any:
    runs = []
    for k in range(_samples(operands)):
        runs.append(rule(interp, op, *(_with(o, o.data[k]) if o.batched else o for o in operands)))
    if isinstance(runs[0], (tuple, list)):
        return tuple(_stack([r[i] for r in runs]) for i in range(len(runs[0])))
    return _stack(runs)


def _stack(values: list[Any]) -> np.ndarray:
    return np.stack([np.asarray(getattr(v, "data", v)) for v in values])


def _map_results(out: Any, f: Any) -> Any:
    if isinstance(out, (tuple, list)):
        return tuple(f(getattr(v, "data", v)) for v in out)
    return f(getattr(out, "data", out))
