"""C++ emission of ``qt.tree_ensemble`` and ``qt.argmax``.

A tree ensemble is emitted as the hardware it stands for, all trees side by side:

1. every branch node is one comparator (``bool c = x[f] <= T``, feature and threshold
   in the input's type, so the comparison is on raw codes exactly as the interpreter
   does it);
2. each tree selects its leaf from its comparators by a multiplexer tree (a nested
   ``?:`` following the tree's shape) — a leaf number;
3. per target, the selected leaves' values (a constant table read at the leaf number)
   and the base value are combined by one balanced tree: adds in the exact types the
   ap_fixed operators produce (sum), or comparisons (min/max), then converted once
   into the result type.

``qt.argmax`` is a balanced tree of (value, index) comparisons that keeps the left
(lower) index on ties, so the first largest element wins as in the interpreter.
"""

from __future__ import annotations

import numpy as np

from fmlc.codegen import cpp as C
from fmlc.codegen.emit import Arr, Ctx, convert, emit_error, emits, literal, result_elem
from fmlc.codegen.gather import Term, balanced, in_work, joiner
from fmlc.dialects import qt
from fmlc.dialects.qt import FixedPointType
from fmlc.runtime import fixed as fx
from fmlc.runtime import trees

_SYMBOL = {"leq": "<=", "lt": "<", "gte": ">=", "gt": ">", "eq": "==", "neq": "!="}


def _select(ens: trees.Ensemble, node: int, cond: dict[int, C.Expr]) -> C.Expr:
    """The leaf number reached from ``node``: nested ``?:`` over the comparators."""
    if ens.mode[node] == trees.LEAF:
        return C.Int(int(ens.true[node]))
    return C.Ternary(cond[node], _select(ens, int(ens.true[node]), cond), _select(ens, int(ens.false[node]), cond))


@emits(qt.TreeEnsembleOp)
def _tree_ensemble(ctx: Ctx, op: qt.TreeEnsembleOp, x: Arr) -> Arr:
    ens = trees.of_op(op)
    n_rows, features = op.input.type.shape  # type: ignore[attr-defined]
    rows = 1 if ctx.beat_rows else n_rows
    targets = ens.n_targets
    xt, out_t = x.elem, result_elem(op)
    lt, bt = op.leaf_values.type.element, op.base_values.type.element
    if not isinstance(xt, FixedPointType):
        raise emit_error(op, "a tree ensemble on a bipolar input has no C++ emission")
    table_raw = np.asarray(fx.as_raw(op.leaf_values.data, lt, check=False))
    table = ctx.const(table_raw, lt, "leaf")
    base = fx.as_raw(op.base_values.data, bt, check=False)
    how = op.aggregate.value
    work = None if how == "sum" else lt
    join = joiner(ctx, "add" if how == "sum" else how, work)
    voters = ens.terms(table_raw, how)

    def constant_of(t: int) -> Term:
        return C.Cast(ctx.t(bt), literal(int(base[t]), bt)), bt

    out = ctx.array(out_t, rows * targets)
    for r in range(rows):
        cond: dict[int, C.Expr] = {}
        for i in np.nonzero(ens.mode != trees.LEAF)[0]:
            name = ctx.fresh("c")
            feature = x.at(r * features + int(ens.feature[i]))
            threshold = C.Cast(ctx.t(xt), literal(int(ens.threshold[i]), xt))
            ctx.emit(C.VarDecl(C.CType("bool"), name,
                               init=C.BinOp(_SYMBOL[trees.MODES[ens.mode[i]]], feature, threshold)))
            cond[int(i)] = C.Name(name)
        picks = []
        for root in ens.roots:
            name = ctx.fresh("leaf")
            ctx.emit(C.VarDecl(C.CType("int"), name, init=_select(ens, int(root), cond)))
            picks.append(C.Name(name))
        for t in range(targets):
            terms: list[Term] = [(table.at(C.BinOp("+", C.BinOp("*", p, C.Int(targets)), C.Int(t))), lt)
                                 for p, k in zip(picks, range(len(picks)), strict=True) if voters[k][t]]
            if not terms:  # no tree gives this target a value: the base alone
                ctx.emit(C.Assign(out.at(r * targets + t), convert(ctx, constant_of(t)[0], bt, out_t)))
                continue
            constant = constant_of(t)
            if how == "sum":
                expr, et = balanced(terms + ([constant] if base[t] else []), join)
            else:  # min/max over the trees, then the base value added
                expr, et = balanced([in_work(ctx, tm, work) for tm in terms], join)
                if base[t]:
                    expr, et = C.BinOp("+", expr, constant[0]), et.add_type(bt)
            ctx.emit(C.Assign(out.at(r * targets + t), convert(ctx, expr, et, out_t)))
    return out


@emits(qt.ArgMaxOp)
def _argmax(ctx: Ctx, op: qt.ArgMaxOp, x: Arr) -> Arr:
    shape = tuple(op.input.type.shape)  # type: ignore[attr-defined]
    axis = op.axis.value
    outer = int(np.prod(shape[:axis])) if not ctx.beat_rows else 1
    n, inner = shape[axis], int(np.prod(shape[axis + 1:]))
    xt, out_t = x.elem, result_elem(op)
    out = ctx.array(out_t, outer * inner)
    for o in range(outer):
        for r in range(inner):
            items = [(x.at((o * n + j) * inner + r), C.Int(j)) for j in range(n)]
            while len(items) > 1:
                nxt = []
                for a, b in zip(items[::2], items[1::2], strict=False):
                    better = C.BinOp(">", b[0], a[0])
                    v, k = ctx.fresh("mv"), ctx.fresh("mi")
                    ctx.emit(C.VarDecl(ctx.t(xt), v, init=C.Ternary(better, b[0], a[0])),
                             C.VarDecl(C.CType("int"), k, init=C.Ternary(better, b[1], a[1])))
                    nxt.append((C.Name(v), C.Name(k)))
                items = nxt + ([items[-1]] if len(items) % 2 else [])
            ctx.emit(C.Assign(out.at(o * inner + r), C.Cast(ctx.t(out_t), items[0][1])))
    return out
