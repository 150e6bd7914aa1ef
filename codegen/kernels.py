"""C++ emission rules of the ``qt`` ops: specialised kernels with the weights known.

Arithmetic follows the qt interpreter exactly: every sum is accumulated in the exact
type the interpreter uses (so partial sums never round or wrap) and converted once into
the result type with :func:`fmlc.codegen.emit.convert`.  Multiply-accumulate kernels are
loops over the ``static const`` weight tables: HLS unrolls them and propagates the
constants (a zero weight vanishes, a ±2^k weight is a shift), while g++ compiles a few
lines per layer whatever its size.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from fmlc.codegen import cpp as C
from fmlc.codegen.emit import Arr, Ctx, convert, emit_error, emits, literal, result_elem
from fmlc.compiler.ir import Operation
from fmlc.dialects import df, qt
from fmlc.dialects.qt import BipolarType, FixedPointType, integer
from fmlc.passes.hw_cost import nonzero_powers_of_two

I, J, R, C_ = C.Name("i"), C.Name("j"), C.Name("r"), C.Name("c")


def const_value(v: Any) -> np.ndarray | None:
    """Raw codes of a constant operand, or None."""
    raw = qt.const_value(v)
    return None if raw is None else np.asarray(raw)


def _shape(v: Any) -> tuple[int, ...]:
    return tuple(v.type.shape)


def _elem(v: Any) -> Any:
    return v.type.element


def _operand(ctx: Ctx, op: Operation, k: int, arg: Arr, out_shape: tuple[int, ...], i: C.Expr) -> C.Expr:
    """Element of operand ``k`` matching output element ``i`` (numpy broadcasting)."""
    v = op.operands[k]
    raw = const_value(v)
    if raw is not None:
        full = np.broadcast_to(raw, out_shape) if raw.size > 1 else raw.reshape(1)
        if full.size == 1:  # a literal; a fractional one typed (ap_fixed + double is ambiguous)
            lit = literal(int(full.ravel()[0]), _elem(v))
            return lit if isinstance(lit, C.Int) else C.Cast(ctx.t(_elem(v)), lit)
        table = ctx.const(full, _elem(v), "c")
        lanes = out_shape[-1] if out_shape else 1
        return table.at(ctx.row_index(i, lanes))
    if arg.size == 1:
        return arg.at(0)
    if _shape(v) != out_shape and not ctx.beat_rows:
        idx = np.broadcast_to(np.arange(arg.size).reshape(_shape(v)), out_shape).ravel()
        table = ctx.m.constant(idx, integer(32), f"{ctx.prefix}_idx", index=True)
        return arg.at(table.at(i))
    return arg.at(i)


def _elementwise(ctx: Ctx, op: Operation, args: tuple[Arr, ...], f: Any) -> Arr:
    out_t = result_elem(op)
    out_shape = _shape(op.results[0])
    n = args[0].size if ctx.beat_rows else math.prod(out_shape)
    if ctx.beat_rows:
        n = max(a.size for a, v in zip(args, op.operands, strict=False) if const_value(v) is None)
    out = ctx.array(out_t, n)
    elems = [_operand(ctx, op, k, a, out_shape, I) for k, a in enumerate(args)]
    stmts = f(elems, out)
    ctx.emit(ctx.loop("i", n, stmts if isinstance(stmts, list) else [C.Assign(out.at(I), stmts)]))
    return out


# ----------------------------------------------------------------------------- elementwise

@emits(qt.CastOp)
def _cast(ctx: Ctx, op: Operation, x: Arr) -> Arr:
    return _elementwise(ctx, op, (x,), lambda e, out: convert(ctx, e[0], x.elem, out.elem))


def _is_neg(e: C.Expr, t: FixedPointType) -> C.Expr:
    return C.BinOp("<", e, C.Int(0)) if t.is_int else C.Call(C.Member(e, "is_neg"))


@emits(qt.ReluOp)
def _relu(ctx: Ctx, op: Operation, x: Arr) -> Arr:
    t = x.elem
    if isinstance(t, BipolarType):
        raise emit_error(op, "relu of a bipolar tensor has no C++ emission")

    def f(e: list[C.Expr], out: Arr) -> C.Expr:
        if not t.signed:
            return convert(ctx, e[0], t, out.elem)
        return C.Ternary(_is_neg(e[0], t), C.Cast(ctx.t(out.elem), C.Int(0)), convert(ctx, e[0], t, out.elem))

    return _elementwise(ctx, op, (x,), f)


@emits(qt.LeakyReluOp)
def _leaky_relu(ctx: Ctx, op: Operation, x: Arr, alpha: Arr) -> Arr:
    tx, ta = x.elem, _elem(op.operands[1])
    pt = tx.mul_type(ta)
    u = qt.union_type(tx, pt)

    def f(e: list[C.Expr], out: Arr) -> C.Expr:
        neg = C.Cast(ctx.t(u), C.BinOp("*", e[0], e[1]))
        pos = C.Cast(ctx.t(u), e[0])
        chosen = C.Ternary(_is_neg(e[0], tx), neg, pos) if tx.signed else pos
        return convert(ctx, chosen, u, out.elem)

    return _elementwise(ctx, op, (x, alpha), f)


@emits(qt.ClipOp)
def _clip(ctx: Ctx, op: Operation, x: Arr, lo: Arr, hi: Arr) -> Arr:
    u = qt.union_type(x.elem, _elem(op.operands[1]), _elem(op.operands[2]))
    ut = ctx.t(u)

    def f(e: list[C.Expr], out: Arr) -> list[C.Stmt]:
        v = C.Name("cv")
        return [C.VarDecl(ut, "cv", init=C.Cast(ut, e[0])),
                C.If(C.BinOp("<", v, C.Cast(ut, e[1])), [C.Assign(v, C.Cast(ut, e[1]))]),
                C.If(C.BinOp(">", v, C.Cast(ut, e[2])), [C.Assign(v, C.Cast(ut, e[2]))]),
                C.Assign(out.at(I), convert(ctx, v, u, out.elem))]

    return _elementwise(ctx, op, (x, lo, hi), f)


def _binary(ctx: Ctx, op: Operation, a: Arr, b: Arr, sym: str) -> Arr:
    ta, tb = _elem(op.operands[0]), _elem(op.operands[1])
    if isinstance(ta, BipolarType) or isinstance(tb, BipolarType):
        raise emit_error(op, "arithmetic on bipolar tensors has no C++ emission")
    rt = {"+": ta.add_type, "-": ta.sub_type, "*": ta.mul_type}[sym](tb)
    return _elementwise(ctx, op, (a, b), lambda e, out: convert(ctx, C.BinOp(sym, e[0], e[1]), rt, out.elem))


@emits(qt.AddOp)
def _add(ctx: Ctx, op: Operation, a: Arr, b: Arr) -> Arr:
    sym = "-" if isinstance(op, qt.SubOp) else "*" if isinstance(op, qt.MulOp) else "+"
    return _binary(ctx, op, a, b, sym)


emits(qt.SubOp, qt.MulOp)(_add)


def raw_int(ctx: Ctx, e: C.Expr, t: FixedPointType) -> C.Expr:
    """The raw code of ``e`` as a C++ ``long long``."""
    bits = (qt.integer if t.signed else lambda w: qt.integer(w, False))(t.width)
    tmp = C.Cast(ctx.t(bits), C.Call(C.Member(e, "range"), (C.Int(t.width - 1), C.Int(0))))
    return C.Call(C.Member(tmp, "to_int64"))


def _table_index(ctx: Ctx, name: str, raw: C.Expr, start: int, shift: int, size: int) -> list[C.Stmt]:
    idx = C.Name(name)
    return [C.VarDecl(C.CType("long long"), name, init=C.BinOp(">>", C.BinOp("-", raw, C.Int(start, "LL")),
                                                                 C.Int(shift))),
            C.If(C.BinOp("<", idx, C.Int(0)), [C.Assign(idx, C.Int(0))]),
            C.If(C.BinOp(">", idx, C.Int(size - 1)), [C.Assign(idx, C.Int(size - 1))])]


@emits(qt.LutOp)
def _lut(ctx: Ctx, op: Operation, x: Arr) -> Arr:
    table = op.table
    tab = ctx.const(np.asarray(table.data), table.type.element, "table")
    if x.elem.width > 62:
        raise emit_error(op, "a table lookup on a value wider than 62 bits has no C++ emission")

    def f(e: list[C.Expr], out: Arr) -> list[C.Stmt]:
        return [*_table_index(ctx, "t", raw_int(ctx, e[0], x.elem), op.start.value, op.shift.value, tab.size),
                C.Assign(out.at(I), convert(ctx, tab.at(C.Name("t")), table.type.element, out.elem))]

    return _elementwise(ctx, op, (x,), f)


@emits(qt.ThresholdOp)
def _threshold(ctx: Ctx, op: Operation, x: Arr, thr: Arr) -> Arr:
    raw = const_value(op.operands[1])
    if raw is None:
        raise emit_error(op, "thresholds must be constants for C++ emission")
    tt = _elem(op.operands[1])
    u = qt.union_type(x.elem, tt)
    shape = _shape(op.input)
    axis = op.axis.value % len(shape)
    chan, nb = raw.shape
    # per output element, its channel's thresholds
    ch = np.broadcast_to(np.arange(shape[axis]).reshape([-1 if d == axis else 1 for d in range(len(shape))]),
                         shape).ravel() if chan > 1 else np.zeros(math.prod(shape), dtype=np.int64)
    full = raw[ch]  # [numel, nb]
    tab = ctx.const(full, tt, "thr")
    count_t = integer(max(nb.bit_length(), 1) + 1)
    lanes = shape[-1]

    def f(e: list[C.Expr], out: Arr) -> list[C.Stmt]:
        base = C.BinOp("*", ctx.row_index(I, lanes), C.Int(nb))
        cnt = C.Name("cnt")
        body = [C.If(C.BinOp(">=", C.Cast(ctx.t(u), e[0]),
                             C.Cast(ctx.t(u), tab.at(C.BinOp("+", base, C.Name("b"))))),
                     [C.Assign(cnt, C.Int(1), "+=")])]
        return [C.VarDecl(ctx.t(count_t), "cnt", init=C.Int(0)), ctx.loop("b", nb, body),
                C.Assign(out.at(I), convert(ctx, cnt, count_t, out.elem))]

    return _elementwise(ctx, op, (x,), f)


# ----------------------------------------------------------------------------- softmax

@emits(qt.SoftmaxOp)
def _softmax(ctx: Ctx, op: Operation, x: Arr) -> Arr:
    shape = _shape(op.input)
    axis = op.axis.value % len(shape)
    if axis != len(shape) - 1:
        raise emit_error(op, "softmax along a dimension other than the last has no C++ emission yet")
    n = shape[-1]
    rows = x.size // n
    t = x.elem
    dt = qt.softmax_diff_type(t)
    et, it = op.exp_table.type.element, op.inv_table.type.element
    st = qt.softmax_sum_type(et, n)
    if max(dt.width, st.width) > 62:
        raise emit_error(op, "softmax over values wider than 62 bits has no C++ emission")
    etab = ctx.const(np.asarray(op.exp_table.data), et, "exp")
    itab = ctx.const(np.asarray(op.inv_table.data), it, "inv")
    out = ctx.array(result_elem(op), x.size)
    e = ctx.array(et, n, "e")
    r = C.Name("r")

    def at(a: Arr, j: C.Expr) -> C.Expr:
        return a.at(C.BinOp("+", C.BinOp("*", r, C.Int(n)), j))

    m, s = C.Name("mx"), C.Name("sum")
    body: list[C.Stmt] = [
        C.VarDecl(ctx.t(t), "mx", init=at(x, C.Int(0))),
        ctx.loop("i", n, [C.If(C.BinOp(">", at(x, I), m), [C.Assign(m, at(x, I))])]),
        C.VarDecl(ctx.t(st), "sum", init=C.Int(0)),
        ctx.loop("i", n, [
            C.VarDecl(ctx.t(dt), "d", init=C.Cast(ctx.t(dt), C.BinOp("-", at(x, I), m))),
            *_table_index(ctx, "t", raw_int(ctx, C.Name("d"), dt), op.exp_start.value, op.exp_shift.value,
                          etab.size),
            C.Assign(e.at(I), etab.at(C.Name("t"))),
            C.Assign(s, C.Cast(ctx.t(st), C.BinOp("+", s, e.at(I))))]),
        *_table_index(ctx, "u", raw_int(ctx, s, st), op.inv_start.value, op.inv_shift.value, itab.size),
        ctx.loop("i", n, [C.Assign(at(out, I), convert(ctx, C.BinOp("*", e.at(I), itab.at(C.Name("u"))),
                                                        et.mul_type(it), out.elem))]),
    ]
    ctx.emit(ctx.loop("r", rows, body))
    return out


# ----------------------------------------------------------------------------- data movement

def _runs(index: np.ndarray, offsets: np.ndarray) -> list[tuple[int, int, int, int]]:
    """``index`` as maximal runs ``(out_start, length, arg, src_start)`` of consecutive sources
    in one operand (arg −1: fill)."""
    arg = np.where(index < 0, -1, np.searchsorted(offsets, index, side="right") - 1)
    src = np.where(index < 0, 0, index - offsets[np.maximum(arg, 0)])
    breaks = np.flatnonzero((np.diff(arg) != 0) | ((np.diff(src) != 1) & (arg[1:] >= 0))) + 1
    starts = np.concatenate([[0], breaks])
    ends = np.concatenate([breaks, [index.size]])
    return [(int(a), int(b - a), int(arg[a]), int(src[a])) for a, b in zip(starts, ends, strict=True)]


def move(ctx: Ctx, op: Operation, args: tuple[Arr, ...], index: np.ndarray, fill: Any = None) -> Arr:
    """out[i] = source[index[i]] over the operands' elements laid end to end (−1: ``fill``):
    a loop per run of consecutive sources, or, for a scattered permutation of one operand
    (a transpose), one loop through a constant index table."""
    out_t = result_elem(op)
    out = ctx.array(out_t, index.size)
    offsets = np.cumsum([0, *(a.size for a in args)])
    runs = _runs(index, offsets)
    if len(runs) > 16 and len(args) == 1 and fill is None:
        table = ctx.m.constant(index, integer(32), f"{ctx.prefix}_idx", index=True)
        ctx.emit(ctx.loop("i", index.size, [C.Assign(out.at(I), args[0].at(table.at(I)))]))
        return out
    for start, length, k, src in runs:
        if length == 1:
            ctx.emit(C.Assign(out.at(start), fill if k < 0 else args[k].at(src)))
        else:
            value = fill if k < 0 else args[k].at(_offset(src, I))
            ctx.emit(ctx.loop("i", length, [C.Assign(out.at(_offset(start, I)), value)]))
    return out


def _offset(base: int, i: C.Expr) -> C.Expr:
    return C.BinOp("+", C.Int(base), i) if base else i


def _moved_shape(ctx: Ctx, v: Any) -> tuple[int, ...]:
    """The shape a data-movement rule sees: one row when the schedule passes a beat at a time
    (only last-axis concat and split run per beat)."""
    shape = _shape(v)
    return (1,) * (len(shape) - 1) + shape[-1:] if ctx.beat_rows and shape else shape


def _positions(ctx: Ctx, op: Operation, inputs: list[int]) -> np.ndarray:
    """Run the op's data movement on element numbers: the source number of each output element."""
    from_shapes = [_moved_shape(ctx, v) for v in op.operands[:len(inputs)]]
    offsets = np.cumsum([0, *(math.prod(s) for s in from_shapes)])
    arrays = [np.arange(offsets[k], offsets[k + 1]).reshape(s) for k, s in enumerate(from_shapes)]
    if isinstance(op, qt.ReshapeOp):
        return arrays[0].ravel()
    if isinstance(op, qt.TransposeOp):
        return np.transpose(arrays[0], [a.value for a in op.perm]).ravel()
    if isinstance(op, qt.ConcatOp):
        return np.concatenate(arrays, axis=op.axis.value).ravel()
    if isinstance(op, qt.SliceOp):
        ranges = [np.arange(b.value, e.value, s.value) for b, e, s in zip(op.starts, op.ends, op.steps, strict=True)]
        return arrays[0][np.ix_(*ranges)].ravel()
    if isinstance(op, qt.PadOp):
        pads = [a.value for a in op.pads]
        out = np.full(_moved_shape(ctx, op.output), -1, dtype=np.int64)
        out[tuple(slice(pads[i], pads[i] + d) for i, d in enumerate(from_shapes[0]))] = arrays[0]
        return out.ravel()
    raise emit_error(op, "is not a data-movement op")


@emits(qt.ReshapeOp, qt.TransposeOp, qt.ConcatOp, qt.SliceOp)
def _data_move(ctx: Ctx, op: Operation, *args: Arr) -> Arr:
    return move(ctx, op, args, _positions(ctx, op, [a.size for a in args]))


@emits(qt.PadOp)
def _pad(ctx: Ctx, op: Operation, x: Arr, value: Arr) -> Arr:
    fill = const_value(op.operands[1])
    fill_e = literal(int(fill.ravel()[0]), x.elem) if fill is not None else value.at(0)
    return move(ctx, op, (x,), _positions(ctx, op, [x.size]), fill_e)


@emits(qt.SplitOp)
def _split(ctx: Ctx, op: Operation, x: Arr) -> tuple[Arr, ...]:
    shape = _moved_shape(ctx, op.input)
    numbers = np.arange(math.prod(shape)).reshape(shape)
    sizes = [r.type.shape[op.axis.value] for r in op.outputs]
    parts = np.split(numbers, np.cumsum(sizes)[:-1], axis=op.axis.value)
    return tuple(move(ctx, op, (x,), p.ravel()) for p in parts)


# ----------------------------------------------------------------------------- multiply-accumulate

def _power_of_two(raw: int) -> int | None:
    m = abs(raw)
    return m.bit_length() - 1 if m and m & (m - 1) == 0 else None


def _acc_type(tx: FixedPointType, tw: FixedPointType, k: int, tb: FixedPointType | None) -> FixedPointType:
    at = tx.mul_type(tw).sum_type(max(k, 1))
    return at.add_type(tb) if tb is not None else at


def _multipliers(wr: np.ndarray, tx: Any) -> int:
    """Multipliers the weights need once HLS has propagated them: zeros vanish and, for a
    fixed-point input, ±2^k weights become shifts."""
    nonzero, pow2 = nonzero_powers_of_two(wr)
    return nonzero - pow2 if isinstance(tx, FixedPointType) else nonzero


def _mac_pragmas(ctx: Ctx, mults: int) -> None:
    if ctx.reuse > 1 and mults:
        ctx.pragmas.append(C.Pragma("ALLOCATION", ("operation", ("instances", "mul"),
                                                   ("limit", max(math.ceil(mults / ctx.reuse), 1)))))


def _accumulators(ctx: Ctx, at: FixedPointType, n: int, bias: Arr | None) -> C.Name:
    """``acc[n]`` of the exact sum type, each starting at its bias (or 0)."""
    name = ctx.fresh("acc")
    ctx_t = ctx.t(at)
    acc = C.Name(name)
    stmts: list[C.Stmt] = [C.VarDecl(ctx_t, name, (n,))]
    if n > 1:
        stmts.append(C.Pragma("ARRAY_PARTITION", (("variable", acc), "complete", ("dim", 1))))
    init: C.Expr = C.Cast(ctx_t, bias.at(J)) if bias is not None else C.Cast(ctx_t, C.Int(0))
    stmts.append(ctx.loop("j", n, [C.Assign(C.Index(acc, J), init)]))
    ctx.emit(*stmts)
    return acc


def _flat(*terms: tuple[C.Expr, int]) -> C.Expr:
    """``Σ e·k`` as a C++ index expression (terms with k = 0 dropped, k = 1 unscaled)."""
    out: C.Expr | None = None
    for e, k in terms:
        if k == 0:
            continue
        t = e if k == 1 else C.BinOp("*", e, C.Int(k))
        out = t if out is None else C.BinOp("+", out, t)
    return out if out is not None else C.Int(0)


@emits(qt.DenseOp)
def _dense(ctx: Ctx, op: Operation, x: Arr, w: Arr, b: Arr | None = None) -> Arr:
    """``out[r, j] = Σ_i x[r, i]·w[i, j] + b[j]`` as loops over the weight array: HLS unrolls
    them and propagates the constant weights; g++ compiles a few lines per layer."""
    wr = const_value(op.weight)
    if wr is None:
        raise emit_error(op, "dense weights must be constants for C++ emission")
    tx, tw = x.elem, _elem(op.weight)
    kk, n = wr.shape
    tb = _elem(op.bias) if op.bias is not None else None
    out = _matrix_product(ctx, op, x, w, b, _acc_type(tx, tw, kk, tb), lambda xi, wij: C.BinOp("*", xi, wij))
    _mac_pragmas(ctx, _multipliers(wr, tx))
    return out


@emits(qt.BipolarDenseOp)
def _bipolar_dense(ctx: Ctx, op: Operation, x: Arr, w: Arr) -> Arr:
    """XNOR-popcount: ``out[r, j] = Σ_i (x[r, i] == w[i, j] ? 1 : -1)``."""
    wr = const_value(op.weight)
    if wr is None:
        raise emit_error(op, "bipolar weights must be constants for C++ emission")
    at = integer(max(2, wr.shape[0].bit_length() + 1))
    return _matrix_product(ctx, op, x, w, None, at,
                           lambda xi, wij: C.Ternary(C.BinOp("==", xi, wij), C.Int(1), C.Int(-1)))


def _matrix_product(ctx: Ctx, op: Operation, x: Arr, w: Arr, bias: Arr | None, at: Any, term: Any) -> Arr:
    """``out[r, j] = convert(bias[j] + Σ_i term(x[r, i], w[i, j]))`` for weights [K, N]: loops
    over i and j inside a loop over the rows r of ``x`` (a scope when there is one row)."""
    kk, n = _shape(op.weight)
    rows = x.size // kk
    out_t = result_elem(op)
    out = ctx.array(out_t, rows * n)
    outer, ctx.stmts = ctx.stmts, []
    acc = _accumulators(ctx, at, n, bias)
    xi = x.at(_flat((R, kk), (I, 1)) if rows > 1 else I)
    mac = C.Assign(C.Index(acc, J), term(xi, w.at(_flat((I, n), (J, 1)))), "+=")
    ctx.emit(ctx.loop("i", kk, [ctx.loop("j", n, [mac])]),
             ctx.loop("j", n, [C.Assign(out.at(_flat((R, n), (J, 1)) if rows > 1 else J),
                                        convert(ctx, C.Index(acc, J), at, out_t))]))
    body, ctx.stmts = ctx.stmts, outer
    ctx.emit(ctx.loop("r", rows, body) if rows > 1 else C.Scope(body))
    return out


# ----------------------------------------------------------------------------- windows

class WholeWindow:
    """Window access into a whole channels-last input array (io=parallel or a 'whole' process)."""

    def __init__(self, x: Arr, spatial: list[int], channels: int) -> None:
        self.x, self.spatial, self.channels = x, spatial, channels

    def load(self, pos: list[C.Expr], c: C.Expr | int) -> C.Expr:
        flat: C.Expr = pos[0]
        for p, size in zip(pos[1:], self.spatial[1:], strict=True):
            flat = C.BinOp("+", C.BinOp("*", flat, C.Int(size)), p)
        return self.x.at(C.BinOp("+", C.BinOp("*", flat, C.Int(self.channels)), C.Int(c) if isinstance(c, int) else c))


def _window_loops(ctx: Ctx, op: Operation, x: Arr, pixel: Any) -> Arr:
    """Emit ``pixel(source, out_positions, out_arr, out_base)`` for every output pixel (whole
    mode: loops over the output), or once for the process's current pixel (window mode)."""
    spatial, out_sp, *_ = df.window_geometry(op)
    oc = _shape(op.results[0])[-1]
    out_t = result_elem(op)
    if ctx.window is not None:  # streaming: one output pixel, positions from the process wrapper
        out = ctx.array(out_t, oc)
        ctx.emit(C.Scope(pixel(ctx.window, ctx.window.out_pos, out, C.Int(0))))
        return out
    source = WholeWindow(x, spatial, _shape(op.operands[0])[-1])
    out = ctx.array(out_t, math.prod(out_sp) * oc)
    names = [f"o{d}" for d in range(len(out_sp))]
    pos = [C.Name(n) for n in names]
    flat: C.Expr = pos[0]
    for p, size in zip(pos[1:], out_sp[1:], strict=True):
        flat = C.BinOp("+", C.BinOp("*", flat, C.Int(size)), p)
    body: list[C.Stmt] = pixel(source, pos, out, C.BinOp("*", flat, C.Int(oc)))
    for name, size in reversed(list(zip(names, out_sp, strict=True))):
        body = [ctx.loop(name, size, body)]
    ctx.emit(*body)
    return out


def _taps(op: Operation, pos: list[C.Expr]) -> list[tuple[tuple[int, ...], list[C.Expr], C.Expr | None]]:
    """Per kernel offset: its index tuple, input position expressions, and the in-bounds
    condition (None when padding can never put it outside)."""
    spatial, out_sp, kernel, strides, dilations, pads = df.window_geometry(op)
    ns = len(spatial)
    taps = []
    for kpos in np.ndindex(*kernel):
        exprs, conds = [], []
        for d in range(ns):
            off = kpos[d] * dilations[d] - pads[d]
            e = C.BinOp("+", C.BinOp("*", pos[d], C.Int(strides[d])), C.Int(off))
            lo = off
            hi = (out_sp[d] - 1) * strides[d] + off
            exprs.append(e)
            if lo < 0:
                conds.append(C.BinOp(">=", e, C.Int(0)))
            if hi > spatial[d] - 1:
                conds.append(C.BinOp("<", e, C.Int(spatial[d])))
        cond = None
        for c in conds:
            cond = c if cond is None else C.BinOp("&&", cond, c)
        taps.append((tuple(kpos), exprs, cond))
    return taps


def _guard(cond: C.Expr | None, stmts: list[C.Stmt]) -> list[C.Stmt]:
    if not stmts:
        return []
    return stmts if cond is None else [C.If(cond, stmts)]


@emits(qt.ConvOp)
def _conv(ctx: Ctx, op: Operation, x: Arr, w: Arr, b: Arr | None = None) -> Arr:
    """Per output pixel and kernel tap (taps unrolled here, each under its padding guard):
    ``acc[j] += x[tap, g(j)·cg + c]·w[tap, c, j]`` as loops over ``c`` and ``j``."""
    wr = const_value(op.weight)
    if wr is None:
        raise emit_error(op, "conv weights must be constants for C++ emission")
    tx, tw = x.elem, _elem(op.weight)
    groups = op.groups.value
    ns = wr.ndim - 2
    cg, oc = wr.shape[-2], wr.shape[-1]
    ocg = oc // groups
    kernel = wr.shape[:ns]
    tb = _elem(op.bias) if op.bias is not None else None
    at = _acc_type(tx, tw, math.prod(kernel) * cg, tb)
    out_t = result_elem(op)
    channel = C_ if groups == 1 else _flat((C.BinOp("/", J, C.Int(ocg)), cg), (C_, 1))

    def pixel(src: Any, pos: list[C.Expr], out: Arr, base: C.Expr) -> list[C.Stmt]:
        outer, ctx.stmts = ctx.stmts, []
        acc = _accumulators(ctx, at, oc, b)
        for kpos, exprs, cond in _taps(op, pos):
            tap = int(np.ravel_multi_index(kpos, kernel)) * cg * oc
            widx = _flat((C_, oc), (J, 1))
            widx = C.BinOp("+", C.Int(tap), widx) if tap else widx
            mac = C.Assign(C.Index(acc, J), C.BinOp("*", src.load(exprs, channel), w.at(widx)), "+=")
            ctx.emit(*_guard(cond, [ctx.loop("c", cg, [ctx.loop("j", oc, [mac])])]))
        ctx.emit(ctx.loop("j", oc, [C.Assign(out.at(C.BinOp("+", base, J)),
                                             convert(ctx, C.Index(acc, J), at, out_t))]))
        stmts, ctx.stmts = ctx.stmts, outer
        return stmts

    out = _window_loops(ctx, op, x, pixel)
    _mac_pragmas(ctx, _multipliers(wr, tx))
    return out


@emits(qt.MaxPoolOp)
def _max_pool(ctx: Ctx, op: Operation, x: Arr) -> Arr:
    t = x.elem
    c_count = _shape(op.input)[-1]
    out_t = result_elem(op)

    def pixel(src: Any, pos: list[C.Expr], out: Arr, base: C.Expr) -> list[C.Stmt]:
        stmts: list[C.Stmt] = []
        taps = _taps(op, pos)
        for c in range(c_count):
            m = C.Name(f"m{c}")
            stmts.append(C.VarDecl(ctx.t(t), f"m{c}", init=literal(t.min_raw, t)))
            for _, exprs, cond in taps:
                v = src.load(exprs, c)
                stmts.extend(_guard(cond, [C.If(C.BinOp(">", v, m), [C.Assign(m, v)])]))
            stmts.append(C.Assign(out.at(C.BinOp("+", base, C.Int(c))), convert(ctx, m, t, out_t)))
        return stmts

    return _window_loops(ctx, op, x, pixel)


@emits(qt.AvgPoolOp)
def _avg_pool(ctx: Ctx, op: Operation, x: Arr) -> Arr:
    t = x.elem
    c_count = _shape(op.input)[-1]
    kernel = [a.value for a in op.kernel]
    st = t.sum_type(max(math.prod(kernel), 1))
    out_t = result_elem(op)
    counts = {math.prod(kernel)}
    if not op.count_include_pad.value:
        spatial, out_sp, _, strides, dilations, pads = df.window_geometry(op)
        counts = {sum(1 for k in np.ndindex(*kernel)
                      if all(0 <= p[d] * strides[d] + k[d] * dilations[d] - pads[d] < spatial[d]
                             for d in range(len(spatial))))
                  for p in np.ndindex(*out_sp)}
    if len(counts) != 1 or _power_of_two(next(iter(counts))) is None:
        raise emit_error(op, f"average pooling with window counts {sorted(counts)} has no C++ emission "
                             "(every count must be the same power of two)")
    shift = _power_of_two(next(iter(counts)))
    qtype = qt.fixed(st.width, st.int_bits - shift, st.signed) if shift else st  # type: ignore[operator]

    def pixel(src: Any, pos: list[C.Expr], out: Arr, base: C.Expr) -> list[C.Stmt]:
        stmts: list[C.Stmt] = []
        taps = _taps(op, pos)
        for c in range(c_count):
            s = C.Name(f"s{c}")
            stmts.append(C.VarDecl(ctx.t(st), f"s{c}", init=C.Int(0)))
            for _, exprs, cond in taps:
                stmts.extend(_guard(cond, [C.Assign(s, C.Cast(ctx.t(st), C.BinOp("+", s, src.load(exprs, c))))]))
            q = C.Name(f"q{c}")
            stmts.append(C.VarDecl(ctx.t(qtype), f"q{c}"))
            stmts.append(C.Assign(C.Call(C.Member(q, "range"), (C.Int(st.width - 1), C.Int(0))),
                                  C.Call(C.Member(s, "range"), (C.Int(st.width - 1), C.Int(0)))))
            stmts.append(C.Assign(out.at(C.BinOp("+", base, C.Int(c))), convert(ctx, q, qtype, out_t)))
        return stmts

    return _window_loops(ctx, op, x, pixel)
