"""C++ emission of ``qt.gather`` and ``qt.scatter`` in their two regimes.

Constant indices (a graph fixed at compile time): a gather is wiring, and a
scatter computes each destination element as one balanced tree over exactly the
updates that land there (adds in the exact type the ap_fixed operators produce,
max/min by comparisons in a type holding every operand), converted once into
the result type; a destination no index names keeps the destination operand's
value, and a destination holding the reduction's identity adds no term.

Runtime indices (an ``edge_index`` input): a gather is a multiplexer per output
element, a scatter an accumulate loop over the E updates into an exact
accumulator, both with the bounds check of the qt semantics (−n ≤ i < n, negative
counting from the end; anything else reads zero / is ignored), so the hardware
does what the interpreter does for every index value.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from fractions import Fraction

import numpy as np

from fmlc.codegen import cpp as C
from fmlc.codegen.emit import Arr, Ctx, convert, emit_error, emits, literal, result_elem
from fmlc.codegen.kernels import const_value, move, raw_int
from fmlc.dialects import qt
from fmlc.dialects.qt import FixedPointType
from fmlc.runtime.qt_rules import normalise_indices


def _geometry(shape: tuple[int, ...], axis: int) -> tuple[int, int, int]:
    """(outer, extent, inner) of ``shape`` around ``axis``."""
    return math.prod(shape[:axis]), shape[axis], math.prod(shape[axis + 1:])


def _runtime_index(ctx: Ctx, idx: Arr, e: int, n: int) -> tuple[C.Expr, C.Expr, list[C.Stmt]]:
    """(position, in range, declarations) of runtime index element ``e`` against extent ``n``."""
    t: FixedPointType = idx.elem  # type: ignore[assignment]
    value = raw_int(ctx, idx.at(e), t)
    if t.frac_bits < 0:
        value = C.BinOp("<<", value, C.Int(-t.frac_bits))
    k, pos, ok = ctx.fresh("k"), ctx.fresh("p"), ctx.fresh("ok")
    kk = C.Name(k)
    return C.Name(pos), C.Name(ok), [
        C.VarDecl(C.CType("long long"), k, init=value),
        C.VarDecl(C.CType("bool"), ok, init=C.BinOp("&&", C.BinOp(">=", kk, C.Int(-n, "LL")),
                                                   C.BinOp("<", kk, C.Int(n, "LL")))),
        C.VarDecl(C.CType("long long"), pos, init=C.Ternary(
            C.Name(ok), C.Ternary(C.BinOp("<", kk, C.Int(0, "LL")), C.BinOp("+", kk, C.Int(n, "LL")), kk),
            C.Int(0, "LL"))),
    ]


def _flat(o: int, k: C.Expr | int, r: int, n: int, inner: int) -> C.Expr:
    base = C.BinOp("*", C.BinOp("+", C.Int(o * n), k if isinstance(k, C.Expr) else C.Int(k)), C.Int(inner))
    return C.BinOp("+", base, C.Int(r)) if r else base


# ----------------------------------------------------------------------------- gather

@emits(qt.GatherOp)
def _gather(ctx: Ctx, op: qt.GatherOp, x: Arr, idx: Arr) -> Arr:
    shape = tuple(op.input.type.shape)  # type: ignore[attr-defined]
    axis = op.axis.value % len(shape)
    outer, n, inner = _geometry(shape, axis)
    values = qt.const_indices(op.indices)
    if values is not None:  # wiring
        pos, valid = normalise_indices(values.ravel(), n)
        src = (np.arange(outer)[:, None, None] * n + pos[None, :, None]) * inner + np.arange(inner)[None, None, :]
        src = np.where(valid[None, :, None], src, -1)
        return move(ctx, op, (x,), src.ravel(), literal(0, x.elem))
    e_count = idx.size
    out = ctx.array(result_elem(op), outer * e_count * inner)
    for e in range(e_count):  # one multiplexer per output element
        pos, ok, decls = _runtime_index(ctx, idx, e, n)
        ctx.emit(*decls)
        for o in range(outer):
            for r in range(inner):
                read = x.at(_flat(o, pos, r, n, inner))
                ctx.emit(C.Assign(out.at((o * e_count + e) * inner + r),
                                  C.Ternary(ok, read, C.Cast(ctx.t(x.elem), C.Int(0)))))
    return out


# ----------------------------------------------------------------------------- scatter

def _identity(op: qt.ScatterOp, raw: np.ndarray | None, dt: FixedPointType, ut: FixedPointType) -> bool:
    """Whether a constant destination is the reduction's identity for every update (no term)."""
    reduce = op.reduce.value
    if raw is None or reduce == "none":
        return False
    values = {Fraction(int(v)) * dt.lsb for v in np.unique(raw)}
    if reduce == "add":
        return values == {0}
    if reduce == "mul":
        return values == {1}
    return all(v <= ut.min for v in values) if reduce == "max" else all(v >= ut.max for v in values)


Term = tuple[C.Expr, FixedPointType]


def balanced(terms: list[Term], join: Callable[[Term, Term], Term]) -> Term:
    """A balanced tree of ``join`` over ``terms`` (depth ⌈log2 n⌉)."""
    while len(terms) > 1:
        nxt = [join(terms[i], terms[i + 1]) for i in range(0, len(terms) - 1, 2)]
        terms = nxt + ([terms[-1]] if len(terms) % 2 else [])
    return terms[0]


def joiner(ctx: Ctx, reduce: str, work: FixedPointType | None) -> Callable[[Term, Term], Term]:
    if reduce == "add":
        return lambda a, b: (C.BinOp("+", a[0], b[0]), a[1].add_type(b[1]))
    if reduce == "mul":
        return lambda a, b: (C.BinOp("*", a[0], b[0]), a[1].mul_type(b[1]))
    if reduce == "none":  # one term: the last update, or the destination
        return lambda a, b: b
    assert work is not None
    sym = ">" if reduce == "max" else "<"

    def pick(a: Term, b: Term) -> Term:  # a named temporary, so a tree of selects stays linear in size
        name = ctx.fresh("m")
        ctx.emit(C.VarDecl(ctx.t(work), name, init=C.Ternary(C.BinOp(sym, a[0], b[0]), a[0], b[0])))
        return C.Name(name), work

    return pick


def in_work(ctx: Ctx, term: Term, work: FixedPointType | None) -> Term:
    if work is None or term[1] == work:
        return term
    return C.Cast(ctx.t(work), term[0]), work


@emits(qt.ScatterOp)
def _scatter(ctx: Ctx, op: qt.ScatterOp, dest: Arr, idx: Arr, upd: Arr) -> Arr:
    shape = tuple(op.input.type.shape)  # type: ignore[attr-defined]
    axis = op.axis.value % len(shape)
    outer, n, inner = _geometry(shape, axis)
    reduce, out_t = op.reduce.value, result_elem(op)
    dt, ut = dest.elem, upd.elem
    if not isinstance(dt, FixedPointType) or not isinstance(ut, FixedPointType):
        raise emit_error(op, "scatter of bipolar tensors has no C++ emission")
    dest_raw = const_value(op.input)
    skip_dest = _identity(op, dest_raw, dt, ut)
    values = qt.const_indices(op.indices)
    e_count = idx.size
    if values is None:
        return _accumulate(ctx, op, dest, idx, upd, (outer, n, inner))
    pos, valid = normalise_indices(values.ravel(), n)
    work = qt.union_type(dt, ut) if reduce in ("max", "min") else None
    join = joiner(ctx, reduce, work)
    out = ctx.array(out_t, dest.size)
    for j in range(n):
        landing = [e for e in range(e_count) if valid[e] and pos[e] == j]
        if reduce == "none":
            landing = landing[-1:]
        for o in range(outer):
            for r in range(inner):
                at = (o * n + j) * inner + r
                alone = landing and (skip_dest or reduce == "none" or not op.include_self.value)
                terms: list[Term] = [] if alone else [(dest.at(at), dt)]
                terms += [(upd.at((o * e_count + e) * inner + r), ut) for e in landing]
                expr, t = balanced([in_work(ctx, tm, work) for tm in terms], join)
                ctx.emit(C.Assign(out.at(at), convert(ctx, expr, t, out_t)))
    return out


def _accumulate(ctx: Ctx, op: qt.ScatterOp, dest: Arr, idx: Arr, upd: Arr, geo: tuple[int, int, int]) -> Arr:
    """Runtime indices: acc = dest; for each update e, a bounds check and acc[idx[e]] ⊕= upd[e]."""
    outer, n, inner = geo
    reduce, out_t = op.reduce.value, result_elem(op)
    dt, ut = dest.elem, upd.elem
    e_count = idx.size
    if reduce == "add":
        work = qt.sum_type([(dt, 1), (ut, e_count)])
    elif reduce == "mul":
        work = qt.product_type([dt] + [ut] * e_count)
    else:
        work = qt.union_type(dt, ut)
    if work.width > qt.MAX_WIDTH:
        raise emit_error(op, f"the accumulator of a runtime-indexed {reduce} scatter needs {work.width} bits")
    acc = ctx.array(work, dest.size, "acc")
    ctx.emit(ctx.loop("i", dest.size, [C.Assign(acc.at(C.Name("i")), convert(ctx, dest.at(C.Name("i")), dt, work))]))
    hit = None
    if not op.include_self.value and reduce != "none":  # the first update replaces the destination
        hit = C.Name(ctx.fresh("hit"))
        ctx.emit(C.VarDecl(C.CType("bool"), hit.id, (n,), C.InitList([C.Name("false", True)] * n)))
    for e in range(e_count):
        pos, ok, decls = _runtime_index(ctx, idx, e, n)
        first: list[C.Stmt] = []
        body: list[C.Stmt] = []
        for o in range(outer):
            for r in range(inner):
                a = acc.at(_flat(o, pos, r, n, inner))
                u = upd.at((o * e_count + e) * inner + r)
                body.append(_accumulate_one(ctx, reduce, a, u, ut, work))
                first.append(C.Assign(a, convert(ctx, u, ut, work)))
        if hit is not None:
            seen = C.Index(hit, pos)
            body = [C.If(seen, body, first), C.Assign(seen, C.Name("true", True))]
        ctx.emit(*decls, C.If(ok, body))
    out = ctx.array(out_t, dest.size)
    ctx.emit(ctx.loop("i", dest.size, [C.Assign(out.at(C.Name("i")), convert(ctx, acc.at(C.Name("i")), work, out_t))]))
    return out


def _accumulate_one(ctx: Ctx, reduce: str, a: C.Expr, u: C.Expr, ut: FixedPointType,
                    work: FixedPointType) -> C.Stmt:
    uw = convert(ctx, u, ut, work)
    if reduce == "add":
        return C.Assign(a, uw, "+=")
    if reduce == "mul":
        return C.Assign(a, C.Cast(ctx.t(work), C.BinOp("*", a, u)))
    if reduce == "none":
        return C.Assign(a, uw)
    return C.If(C.BinOp(">" if reduce == "max" else "<", uw, a), [C.Assign(a, uw)])
