"""qt-infer-precision: narrowed accumulators never overflow, on random weights and inputs at the type extremes."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import fmlc.dialects  # noqa: F401
import fmlc.passes  # noqa: F401
import fmlc.runtime.rules  # noqa: F401
from fmlc.compiler.attributes import DenseElementsAttr, TensorType
from fmlc.compiler.builtin import ModuleOp
from fmlc.compiler.verifier import verify
from fmlc.dialects import qt
from fmlc.dialects.func import FuncOp, ReturnOp
from fmlc.passes.infer_precision import analyse
from fmlc.runtime.interpreter import run


def _fixed(draw, max_width: int = 12) -> qt.FixedType:
    w = draw(st.integers(1, max_width))
    return qt.fixed(w, draw(st.integers(-4, w + 4)), draw(st.booleans()) if w > 1 else False)


def _const(t: qt.FixedPointType, raw: np.ndarray):
    tt = TensorType(raw.shape, t)
    return qt.ConstOp.build(value=DenseElementsAttr(tt, raw), output=tt)


@st.composite
def mlps(draw):
    """x -> dense(W1, b1) -> relu -> dense(W2) with random constant weights."""
    tx = _fixed(draw)
    k, n, m = draw(st.integers(1, 6)), draw(st.integers(1, 6)), draw(st.integers(1, 4))
    tw, tb, tw2 = _fixed(draw, 8), _fixed(draw, 16), _fixed(draw, 8)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    w1 = rng.integers(tw.min_raw, tw.max_raw + 1, (k, n))
    b1 = rng.integers(tb.min_raw, tb.max_raw + 1, (n,))
    w2 = rng.integers(tw2.min_raw, tw2.max_raw + 1, (n, m))
    return tx, (tw, w1), (tb, b1), (tw2, w2), k, n, m


def build(tx, w1, b1, w2, k, n, m) -> tuple[ModuleOp, FuncOp]:
    (tw, rw), (tb, rb), (tw2, rw2) = w1, b1, w2
    acc1 = tx.mul_type(tw).sum_type(k).add_type(tb)
    acc2 = acc1.mul_type(tw2).sum_type(n)
    func = FuncOp.create("main", [TensorType((1, k), tx)], [TensorType((1, m), acc2)])
    blk = func.entry
    c1, c2, c3 = _const(tw, rw), _const(tb, rb), _const(tw2, rw2)
    d1 = qt.DenseOp.build(input=blk.args[0], weight=c1.result, bias=c2.result, output=TensorType((1, n), acc1))
    r = qt.ReluOp.build(input=d1.result, output=TensorType((1, n), acc1))
    d2 = qt.DenseOp.build(input=r.result, weight=c3.result, output=TensorType((1, m), acc2))
    for op in (c1, c2, c3, d1, r, d2, ReturnOp.build(values=[d2.result])):
        blk.append(op)
    return ModuleOp.create([func]), func


def exact(tx, w1, b1, w2, x: np.ndarray) -> list[Fraction]:
    (tw, rw), (tb, rb), (tw2, rw2) = w1, b1, w2
    xv = [Fraction(int(v)) * tx.lsb for v in x.ravel()]
    h = [max(sum(xv[i] * int(rw[i, j]) * tw.lsb for i in range(len(xv))) + int(rb[j]) * tb.lsb, 0)
         for j in range(rw.shape[1])]
    return [sum(h[j] * int(rw2[j, c]) * tw2.lsb for j in range(len(h))) for c in range(rw2.shape[1])]


@settings(max_examples=60, deadline=None)
@given(mlps(), st.data())
def test_narrowed_accumulators_hold_every_exact_result(case, data):
    tx, w1, b1, w2, k, n, m = case
    module, func = build(*case)
    before = [op.results[0].type.element for op in func.entry.ops if isinstance(op, qt.DenseOp)]
    analyse(func)
    verify(module)
    after = [op.results[0].type.element for op in func.entry.ops if isinstance(op, qt.DenseOp)]
    assert all(a.width <= b.width and a.frac_bits == b.frac_bits for a, b in zip(after, before, strict=True))
    # inputs at the type extremes (chosen to push each output up or down) and random ones
    rw = w1[1]
    extremes = [np.where(rw[:, j] >= 0, tx.max_raw, tx.min_raw) for j in range(n)]
    extremes += [np.where(rw[:, j] >= 0, tx.min_raw, tx.max_raw) for j in range(n)]
    extremes.append(np.array(data.draw(st.lists(st.integers(tx.min_raw, tx.max_raw), min_size=k, max_size=k))))
    out_t = func.entry.last_op.operands[0].type.element
    for x in extremes:
        x = np.asarray(x, dtype=np.int64).reshape(1, k)
        got = run(module, [x])[0]
        want = exact(tx, w1, b1, w2, x)
        values = [Fraction(int(v)) * out_t.lsb for v in np.asarray(got.data).ravel()]
        assert values == want
