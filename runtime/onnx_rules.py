"""Interpreter rules of the ``onnx`` dialect: the float32 reference semantics of
ONNX (opsets 13-21) and of the QONNX quantisers.

Float tensors are float32 numpy arrays in and out; shapes and indices are int64,
predicates bool.  Each op is evaluated exactly (or in float64) and rounded once
to float32: Gemm, MatMul, Conv, the pooling sums, BatchNormalization, Softmax and
the transcendental activations compute in float64 and convert the final value to
float32, so a result with a float32-representable exact value (small-integer
inputs, power-of-two scales) is bit-exact, and any other differs from
onnxruntime's float32 accumulation by a few ulps at most.  The elementwise
arithmetic ops (Add, Sub, Mul, Div, Neg, Relu, LeakyRelu, PRelu, Clip) are single
IEEE float32 operations, hence exact too; HardSigmoid is ``alpha * x + beta`` in
two rounded float32 steps, as onnxruntime and the ONNX reference compute it.

The indexing ops (Gather, GatherElements, GatherND, ScatterElements, ScatterND,
Expand, Tile, Where) only move values, so they are exact; negative indices count
from the end and an index outside [-n, n-1] is an interpreter error at the op.
The scatter reductions apply the updates one after the other in the order of the
updates, in the element type, as onnxruntime does (duplicates with reduction
``none``: the last update wins; ``max`` / ``min`` keep onnxruntime's handling of
NaN and signed zeros).  Range accumulates ``start + delta + ...`` in the element
type as onnxruntime does; ReduceProd of floats is a float64 product rounded once.
Integer and bool tensors (shapes, indices, predicates) keep their element type.

The QONNX ops (Quant / IntQuant, BipolarQuant, Trunc v1 and v2, MultiThreshold)
follow qonnx's numpy float32 code step for step (``x / s + z`` in float32, clip,
round, ``(y - z) * s`` in float32), so their results are bit-identical to
``qonnx.core.onnx_exec``.  Trunc's version is its input count: 5 inputs is v1,
6 is v2 (see docs NUMERICS.md section 1).

Rules compute result shapes from the operand data only (never from the result
types), so the importer can run them on dummy inputs for shape inference.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from fmlc.compiler.attributes import FloatType, IndexType, IntegerType
from fmlc.dialects.onnx import OPS, NoValueOp
from fmlc.runtime.interpreter import Interpreter, TypedArray, impl, interpret_error

INT64_MAX = np.iinfo(np.int64).max

# ----------------------------------------------------------------------------- helpers


def _present(v: TypedArray | None) -> bool:
    """Whether an optional input is given (not absent, not ``onnx.NoValue``)."""
    return v is not None and v.data is not None


def _arr(v: TypedArray) -> np.ndarray:
    return np.asarray(v.data)


def _f32(x: Any) -> np.ndarray:
    return np.asarray(x, dtype=np.float32)


def _ints(v: TypedArray) -> list[int]:
    """An int64 tensor operand (shape, axes, pads...) as a list of Python ints."""
    return [int(x) for x in np.asarray(v.data).reshape(-1)]


def _is_float(a: np.ndarray) -> bool:
    return np.issubdtype(a.dtype, np.floating)


def _like(x: np.ndarray, like: np.ndarray) -> np.ndarray:
    """``x`` (computed exactly or in float64) rounded once to the dtype of ``like``."""
    return np.asarray(x).astype(like.dtype)


def _axis(op, axis: int, rank: int) -> int:
    if not -rank <= axis < max(rank, 1):
        raise interpret_error(op, f"axis {axis} is out of range for rank {rank}")
    return axis + rank if axis < 0 else axis


def element_dtype(elem: Any) -> np.dtype:
    """The numpy dtype holding values of an IR element type."""
    if isinstance(elem, FloatType):
        return np.dtype({"f16": np.float16, "f32": np.float32, "f64": np.float64}.get(elem.name, np.float32))
    if isinstance(elem, IndexType):
        return np.dtype(np.int64)
    if isinstance(elem, IntegerType):
        if elem.width == 1:
            return np.dtype(bool)
        unsigned = elem.signedness == "unsigned"
        for w in (8, 16, 32, 64):
            if elem.width <= w:
                return np.dtype(f"{'u' if unsigned else ''}int{w}")
    return np.dtype(np.int64)


def _rule(*op_types: str) -> Callable[[Callable], Callable]:
    """Register a rule for ``onnx.<op_type>``; numpy scalars it returns become 0-d arrays."""

    def wrap(fn: Callable) -> Callable:
        def rule(interp: Interpreter, op, *operands: TypedArray) -> Any:
            out = fn(interp, op, *operands)
            if isinstance(out, tuple):
                return tuple(np.asarray(o) if isinstance(o, np.generic) else o for o in out)
            return np.asarray(out) if isinstance(out, np.generic) else out

        rule.__name__ = rule.__qualname__ = fn.__name__
        rule.__doc__ = fn.__doc__
        impl(*(OPS[t] for t in op_types))(rule)
        return fn

    return wrap


# ----------------------------------------------------------------------------- constants


@impl(NoValueOp)
def _novalue(interp: Interpreter, op) -> None:
    return None


@_rule("Constant")
def _constant(interp: Interpreter, op) -> np.ndarray:
    value = op.attr("value")
    return np.array(value.data, dtype=element_dtype(value.type.element))


@_rule("Identity")
def _identity(interp: Interpreter, op, x: TypedArray) -> np.ndarray:
    return _arr(x)


# ----------------------------------------------------------------------------- elementwise arithmetic


def _binary(fn: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> Callable:
    def rule(interp: Interpreter, op, a: TypedArray, b: TypedArray) -> np.ndarray:
        x, y = _arr(a), _arr(b)
        if x.dtype != y.dtype:
            raise interpret_error(op, f"operands have different element types ({x.dtype} and {y.dtype})")
        with np.errstate(all="ignore"):
            return np.asarray(fn(x, y)).astype(x.dtype, copy=False)

    return rule


def _div(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    if _is_float(x):
        return x / y
    # integer division truncates toward zero (C semantics)
    q = np.abs(x) // np.where(y == 0, 1, np.abs(y))
    return np.where((x < 0) != (y < 0), -q, q)


_rule("Add")(_binary(np.add))
_rule("Sub")(_binary(np.subtract))
_rule("Mul")(_binary(np.multiply))
_rule("Div")(_binary(_div))


@_rule("Neg")
def _neg(interp: Interpreter, op, x: TypedArray) -> np.ndarray:
    a = _arr(x)
    return np.negative(a)


# ----------------------------------------------------------------------------- activations


@_rule("Relu")
def _relu(interp: Interpreter, op, x: TypedArray) -> np.ndarray:
    a = _arr(x)
    return np.where(a < 0, np.zeros((), a.dtype), a)


@_rule("LeakyRelu")
def _leaky_relu(interp: Interpreter, op, x: TypedArray) -> np.ndarray:
    a = _arr(x)
    alpha = np.asarray(op.attr("alpha"), dtype=a.dtype)
    return np.where(a < 0, a * alpha, a).astype(a.dtype, copy=False)


@_rule("PRelu")
def _prelu(interp: Interpreter, op, x: TypedArray, slope: TypedArray) -> np.ndarray:
    a, s = _arr(x), _arr(slope)
    return np.where(a < 0, a * s, a).astype(a.dtype, copy=False)


@_rule("Clip")
def _clip(interp: Interpreter, op, x: TypedArray, lo: TypedArray | None = None,
          hi: TypedArray | None = None) -> np.ndarray:
    a = _arr(x)
    if _present(lo):
        a = np.maximum(a, _arr(lo).astype(a.dtype))
    if _present(hi):
        a = np.minimum(a, _arr(hi).astype(a.dtype))
    return np.array(a, dtype=_arr(x).dtype)


def _float64_unary(fn: Callable[[np.ndarray], np.ndarray]) -> Callable:
    def rule(interp: Interpreter, op, x: TypedArray) -> np.ndarray:
        a = _arr(x)
        with np.errstate(all="ignore"):
            return _like(fn(a.astype(np.float64)), a)

    return rule


def _sigmoid(x: np.ndarray) -> np.ndarray:
    # split by sign so that exp never overflows
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


_rule("Sigmoid")(_float64_unary(_sigmoid))
_rule("Tanh")(_float64_unary(np.tanh))
_rule("Exp")(_float64_unary(np.exp))


@_rule("HardSigmoid")
def _hard_sigmoid(interp: Interpreter, op, x: TypedArray) -> np.ndarray:
    a = _arr(x)
    # as onnxruntime and the ONNX reference: alpha * x and + beta are two rounded float32 steps
    alpha, beta = np.asarray(op.attr("alpha"), a.dtype), np.asarray(op.attr("beta"), a.dtype)
    y = a * alpha + beta
    return np.maximum(np.minimum(y, np.ones((), a.dtype)), np.zeros((), a.dtype))


@_rule("Softmax")
def _softmax(interp: Interpreter, op, x: TypedArray) -> np.ndarray:
    a = _arr(x)
    axis = _axis(op, op.attr("axis"), a.ndim)
    d = a.astype(np.float64)
    with np.errstate(all="ignore"):
        e = np.exp(d - np.max(d, axis=axis, keepdims=True))
        return _like(e / np.sum(e, axis=axis, keepdims=True), a)


# ----------------------------------------------------------------------------- linear algebra


@_rule("MatMul")
def _matmul(interp: Interpreter, op, a: TypedArray, b: TypedArray) -> np.ndarray:
    x, y = _arr(a), _arr(b)
    if _is_float(x):
        return _like(np.matmul(x.astype(np.float64), y.astype(np.float64)), x)
    return _like(np.matmul(x.astype(np.int64), y.astype(np.int64)), x)


@_rule("Gemm")
def _gemm(interp: Interpreter, op, a: TypedArray, b: TypedArray, c: TypedArray | None = None) -> np.ndarray:
    x, y = _arr(a), _arr(b)
    if x.ndim != 2 or y.ndim != 2:
        raise interpret_error(op, f"expects 2-D A and B, got shapes {x.shape} and {y.shape}")
    wide = np.float64 if _is_float(x) else np.int64
    xa = x.astype(wide).T if op.attr("transA") else x.astype(wide)
    yb = y.astype(wide).T if op.attr("transB") else y.astype(wide)
    if xa.shape[1] != yb.shape[0]:
        raise interpret_error(op, f"inner dimensions differ: A' is {xa.shape}, B' is {yb.shape}")
    alpha, beta = float(op.attr("alpha")), float(op.attr("beta"))
    out = xa @ yb
    if alpha != 1.0:
        out = alpha * out
    if _present(c):
        out = out + (beta * _arr(c).astype(wide) if beta != 1.0 else _arr(c).astype(wide))
    return _like(np.broadcast_to(out, (xa.shape[0], yb.shape[1])), x)


# ----------------------------------------------------------------------------- convolution and pooling


def _spatial_attrs(op, x: np.ndarray, kernel: Sequence[int]) -> tuple[list[int], list[int], list[int], list[int]]:
    """(strides, dilations, pads_begin, pads_end) of a Conv or pool on input ``x``."""
    nsp = x.ndim - 2
    if len(kernel) != nsp:
        raise interpret_error(op, f"kernel of rank {len(kernel)} for an input with {nsp} spatial dimensions")
    strides = op.attr("strides") or [1] * nsp
    dilations = op.attr("dilations") or [1] * nsp
    if len(strides) != nsp or len(dilations) != nsp:
        raise interpret_error(op, f"strides {strides} / dilations {dilations} do not have {nsp} entries")
    if min(strides) < 1 or min(dilations) < 1:
        raise interpret_error(op, "strides and dilations must be positive")
    auto_pad = op.attr("auto_pad") or "NOTSET"
    if auto_pad == "NOTSET":
        pads = op.attr("pads") or [0] * (2 * nsp)
        if len(pads) != 2 * nsp:
            raise interpret_error(op, f"pads {pads} do not have {2 * nsp} entries")
        if min(pads) < 0:
            raise interpret_error(op, f"negative pads {pads} are not supported")
        return strides, dilations, list(pads[:nsp]), list(pads[nsp:])
    if auto_pad == "VALID":
        return strides, dilations, [0] * nsp, [0] * nsp
    if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        begin, end = [], []
        for size, k, s, d in zip(x.shape[2:], kernel, strides, dilations, strict=True):
            out = -(-size // s)
            total = max(0, (out - 1) * s + (k - 1) * d + 1 - size)
            small = total // 2
            b = small if auto_pad == "SAME_UPPER" else total - small
            begin.append(b)
            end.append(total - b)
        return strides, dilations, begin, end
    raise interpret_error(op, f"auto_pad '{auto_pad}' is not supported")


def _windows(xp: np.ndarray, kernel: Sequence[int], strides: Sequence[int], dilations: Sequence[int],
             out: Sequence[int]) -> np.ndarray:
    """A read-only view (N, C, *out, *kernel) of the sliding windows of padded ``xp``."""
    sp = xp.strides[2:]
    shape = (*xp.shape[:2], *out, *kernel)
    strides = (*xp.strides[:2], *(a * s for a, s in zip(sp, strides, strict=True)),
               *(a * d for a, d in zip(sp, dilations, strict=True)))
    return np.lib.stride_tricks.as_strided(xp, shape=shape, strides=strides, writeable=False)


def _conv_out(op, size: int, k: int, s: int, d: int) -> int:
    n = (size - (k - 1) * d - 1) // s + 1
    if n < 1:
        raise interpret_error(op, "the kernel does not fit the (padded) input")
    return n


@_rule("Conv")
def _conv(interp: Interpreter, op, x: TypedArray, w: TypedArray, b: TypedArray | None = None) -> np.ndarray:
    xa, wa = _arr(x), _arr(w)
    if xa.ndim < 3 or wa.ndim != xa.ndim:
        raise interpret_error(op, f"expects X of rank >= 3 and W of the same rank, got {xa.shape} and {wa.shape}")
    kernel = op.attr("kernel_shape") or list(wa.shape[2:])
    if list(kernel) != list(wa.shape[2:]):
        raise interpret_error(op, f"kernel_shape {kernel} does not match the weight shape {wa.shape}")
    group = op.attr("group")
    n, c = xa.shape[:2]
    m = wa.shape[0]
    if group < 1 or c % group or m % group or wa.shape[1] != c // group:
        raise interpret_error(op, f"group {group} does not fit X channels {c} and W shape {wa.shape}")
    strides, dilations, pb, pe = _spatial_attrs(op, xa, kernel)
    xp = np.pad(xa.astype(np.float64), [(0, 0), (0, 0), *zip(pb, pe, strict=True)])
    out = [_conv_out(op, size, k, s, d)
           for size, k, s, d in zip(xp.shape[2:], kernel, strides, dilations, strict=True)]
    nsp = len(kernel)
    win = _windows(xp, kernel, strides, dilations, out)  # N, C, *out, *k
    win = win.reshape(n, group, c // group, *out, *kernel)
    wg = wa.astype(np.float64).reshape(group, m // group, c // group, *kernel)
    letters = "abcdefghijklmnopqrstuvwxyz"
    o, k = letters[:nsp], letters[nsp:2 * nsp]
    y = np.einsum(f"NGC{o}{k},GMC{k}->NGM{o}", win, wg, optimize=True).reshape(n, m, *out)
    if _present(b):
        y = y + _arr(b).astype(np.float64).reshape(m, *([1] * nsp))
    return _like(y, xa)


def _pool_geometry(op, xa: np.ndarray) -> tuple[list[int], ...]:
    """(kernel, strides, dilations, pads_begin, pads_end, extra, out) of a MaxPool / AveragePool:
    ``extra`` is the padding past ``pads_end`` that the last ceil_mode windows reach into."""
    kernel = list(op.attr("kernel_shape"))
    strides, dilations, pb, pe = _spatial_attrs(op, xa, kernel)
    ceil = bool(op.attr("ceil_mode"))
    outs, extra = [], []
    for size, k, s, d, b, e in zip(xa.shape[2:], kernel, strides, dilations, pb, pe, strict=True):
        span = size + b + e - ((k - 1) * d + 1)
        if span < 0:
            raise interpret_error(op, "the kernel does not fit the (padded) input")
        o = (-(-span // s) if ceil else span // s) + 1
        if ceil and (o - 1) * s >= size + b:  # the last window would start in the right padding
            o -= 1
        outs.append(o)
        extra.append(max(0, (o - 1) * s + (k - 1) * d + 1 - (size + b + e)))
    return kernel, strides, dilations, pb, pe, extra, outs


@_rule("MaxPool")
def _max_pool(interp: Interpreter, op, x: TypedArray) -> np.ndarray:
    if len(op.results) > 1:
        raise interpret_error(op, "the Indices output of MaxPool is not supported")
    xa = _arr(x)
    if xa.ndim < 3:
        raise interpret_error(op, f"expects an input of rank >= 3, got shape {xa.shape}")
    kernel, strides, dilations, pb, pe, extra, out = _pool_geometry(op, xa)
    pe = [e + x for e, x in zip(pe, extra, strict=True)]
    fill = -np.inf if _is_float(xa) else np.iinfo(xa.dtype).min
    xp = np.pad(xa, [(0, 0), (0, 0), *zip(pb, pe, strict=True)], constant_values=fill)
    win = _windows(xp, kernel, strides, dilations, out)
    return np.max(win, axis=tuple(range(xa.ndim, win.ndim))).astype(xa.dtype, copy=False)


@_rule("AveragePool")
def _average_pool(interp: Interpreter, op, x: TypedArray) -> np.ndarray:
    xa = _arr(x)
    if xa.ndim < 3:
        raise interpret_error(op, f"expects an input of rank >= 3, got shape {xa.shape}")
    kernel, strides, dilations, pb, pe, extra, out = _pool_geometry(op, xa)
    nsp = len(kernel)
    full = [(0, 0), (0, 0), *((b, e + x) for b, e, x in zip(pb, pe, extra, strict=True))]
    kaxes = tuple(range(xa.ndim, xa.ndim + nsp))
    total = np.sum(_windows(np.pad(xa.astype(np.float64), full), kernel, strides, dilations, out), axis=kaxes)
    # divisor: the window positions inside the input, or inside input + explicit pads (never the
    # extra ceil_mode padding)
    ones = np.ones((1, 1, *xa.shape[2:]))
    if op.attr("count_include_pad"):
        mask = np.pad(ones, [(0, 0), (0, 0), *zip(pb, pe, strict=True)], constant_values=1.0)
        mask = np.pad(mask, [(0, 0), (0, 0), *((0, x) for x in extra)])
    else:
        mask = np.pad(ones, full)
    count = np.sum(_windows(mask, kernel, strides, dilations, out), axis=kaxes)
    return _like(total / count, xa)


@_rule("GlobalAveragePool")
def _global_average_pool(interp: Interpreter, op, x: TypedArray) -> np.ndarray:
    xa = _arr(x)
    axes = tuple(range(2, xa.ndim))
    return _like(np.mean(xa.astype(np.float64), axis=axes, keepdims=True), xa)


@_rule("GlobalMaxPool")
def _global_max_pool(interp: Interpreter, op, x: TypedArray) -> np.ndarray:
    xa = _arr(x)
    return np.max(xa, axis=tuple(range(2, xa.ndim)), keepdims=True)


@_rule("BatchNormalization")
def _batch_norm(interp: Interpreter, op, x: TypedArray, scale: TypedArray, bias: TypedArray,
                mean: TypedArray, var: TypedArray) -> np.ndarray:
    if len(op.results) > 1 or op.attr("training_mode"):
        raise interpret_error(op, "only the inference form of BatchNormalization (one output, "
                                  "training_mode = 0) is supported")
    xa = _arr(x)
    shape = (-1, *([1] * (xa.ndim - 2)))

    def p(v: TypedArray) -> np.ndarray:
        return _arr(v).astype(np.float64).reshape(shape)

    eps = float(op.attr("epsilon"))
    y = (xa.astype(np.float64) - p(mean)) / np.sqrt(p(var) + eps) * p(scale) + p(bias)
    return _like(y, xa)


# ----------------------------------------------------------------------------- shape and data movement


@_rule("Flatten")
def _flatten(interp: Interpreter, op, x: TypedArray) -> np.ndarray:
    a = _arr(x)
    axis = op.attr("axis")
    if not -a.ndim <= axis <= a.ndim:
        raise interpret_error(op, f"axis {axis} is out of range for rank {a.ndim}")
    axis = axis + a.ndim if axis < 0 else axis
    return a.reshape(math.prod(a.shape[:axis]), math.prod(a.shape[axis:]))


@_rule("Reshape")
def _reshape(interp: Interpreter, op, x: TypedArray, shape: TypedArray) -> np.ndarray:
    a = _arr(x)
    dims = _ints(shape)
    if not op.attr("allowzero"):
        for k, d in enumerate(dims):
            if d == 0:
                if k >= a.ndim:
                    raise interpret_error(op, f"shape {dims}: dimension {k} copies a dimension the input lacks")
                dims[k] = a.shape[k]
    if dims.count(-1) > 1:
        raise interpret_error(op, f"shape {dims} has more than one -1")
    if -1 in dims:
        known = math.prod(d for d in dims if d != -1)
        if known == 0 or a.size % known:
            raise interpret_error(op, f"cannot reshape {a.shape} to {dims}")
        dims[dims.index(-1)] = a.size // known
    if math.prod(dims) != a.size or min(dims, default=0) < 0:
        raise interpret_error(op, f"cannot reshape {a.shape} to {dims}")
    return a.reshape(dims)


@_rule("Transpose")
def _transpose(interp: Interpreter, op, x: TypedArray) -> np.ndarray:
    a = _arr(x)
    perm = op.attr("perm")
    perm = list(range(a.ndim))[::-1] if perm is None else perm
    if sorted(perm) != list(range(a.ndim)):
        raise interpret_error(op, f"perm {perm} is not a permutation of the {a.ndim} axes")
    return np.transpose(a, perm)


@_rule("Squeeze")
def _squeeze(interp: Interpreter, op, x: TypedArray, axes: TypedArray | None = None) -> np.ndarray:
    a = _arr(x)
    if not _present(axes):
        return a.reshape([d for d in a.shape if d != 1])
    ax = sorted({_axis(op, k, a.ndim) for k in _ints(axes)})
    if any(a.shape[k] != 1 for k in ax):
        raise interpret_error(op, f"cannot squeeze axes {ax} of shape {a.shape}: not all of size 1")
    return a.reshape([d for k, d in enumerate(a.shape) if k not in ax])


@_rule("Unsqueeze")
def _unsqueeze(interp: Interpreter, op, x: TypedArray, axes: TypedArray) -> np.ndarray:
    a = _arr(x)
    rank = a.ndim + len(_ints(axes))
    ax = sorted(_axis(op, k, rank) for k in _ints(axes))
    if len(set(ax)) != len(ax):
        raise interpret_error(op, f"axes {_ints(axes)} repeat an axis")
    shape, it = [], iter(a.shape)
    for k in range(rank):
        shape.append(1 if k in ax else next(it))
    return a.reshape(shape)


@_rule("Concat")
def _concat(interp: Interpreter, op, *xs: TypedArray) -> np.ndarray:
    arrays = [_arr(v) for v in xs]
    axis = _axis(op, op.attr("axis"), arrays[0].ndim)
    return np.concatenate(arrays, axis=axis)


@_rule("Split")
def _split(interp: Interpreter, op, x: TypedArray, split: TypedArray | None = None) -> tuple[np.ndarray, ...]:
    a = _arr(x)
    axis = _axis(op, op.attr("axis"), a.ndim)
    dim, n_out = a.shape[axis], len(op.results)
    if _present(split):
        sizes = _ints(split)
    elif op.attr("num_outputs") is not None:
        n = op.attr("num_outputs")
        chunk = -(-dim // n)
        sizes = [min(chunk, max(0, dim - k * chunk)) for k in range(n)]
    else:
        if dim % n_out:
            raise interpret_error(op, f"dimension {dim} cannot be split equally into {n_out} outputs")
        sizes = [dim // n_out] * n_out
    if len(sizes) != n_out or sum(sizes) != dim or min(sizes) < 0:
        raise interpret_error(op, f"split sizes {sizes} do not divide dimension {dim} into {n_out} outputs")
    return tuple(np.split(a, np.cumsum(sizes)[:-1], axis=axis))


@_rule("Slice")
def _slice(interp: Interpreter, op, x: TypedArray, starts: TypedArray, ends: TypedArray,
           axes: TypedArray | None = None, steps: TypedArray | None = None) -> np.ndarray:
    a = _arr(x)
    st, en = _ints(starts), _ints(ends)
    ax = _ints(axes) if _present(axes) else list(range(len(st)))
    sp = _ints(steps) if _present(steps) else [1] * len(st)
    if not len(st) == len(en) == len(ax) == len(sp):
        raise interpret_error(op, "starts, ends, axes and steps must have the same length")
    index: list[slice] = [slice(None)] * a.ndim
    for s, e, k, step in zip(st, en, ax, sp, strict=True):
        k = _axis(op, k, a.ndim)
        dim = a.shape[k]
        if step == 0:
            raise interpret_error(op, "a step of 0 is not allowed")
        s = s + dim if s < 0 else s
        e = e + dim if e < 0 else e
        if step > 0:
            s, e = min(max(s, 0), dim), min(max(e, 0), dim)
            index[k] = slice(s, e, step)
        else:
            s, e = min(max(s, 0), dim - 1), min(max(e, -1), dim - 1)
            index[k] = slice(s, e if e >= 0 else None, step)
    return a[tuple(index)]


@_rule("Pad")
def _pad(interp: Interpreter, op, x: TypedArray, pads: TypedArray, value: TypedArray | None = None,
         axes: TypedArray | None = None) -> np.ndarray:
    a = _arr(x)
    mode = op.attr("mode")
    if mode not in ("constant", "reflect", "edge"):
        raise interpret_error(op, f"Pad mode '{mode}' is not supported (constant, reflect, edge are)")
    p = _ints(pads)
    ax = [_axis(op, k, a.ndim) for k in _ints(axes)] if _present(axes) else list(range(a.ndim))
    if len(p) != 2 * len(ax):
        raise interpret_error(op, f"pads {p} do not have {2 * len(ax)} entries")
    begin, end = [0] * a.ndim, [0] * a.ndim
    for j, k in enumerate(ax):
        begin[k], end[k] = p[j], p[j + len(ax)]
    # negative pads crop
    a = a[tuple(slice(max(0, -b), a.shape[k] - max(0, -e)) for k, (b, e) in enumerate(zip(begin, end, strict=True)))]
    width = [(max(0, b), max(0, e)) for b, e in zip(begin, end, strict=True)]
    if mode == "constant":
        c = _arr(value).reshape(-1)[0] if _present(value) and _arr(value).size else 0
        return np.pad(a, width, mode="constant", constant_values=np.asarray(c, dtype=a.dtype))
    if mode == "reflect" and any(w != (0, 0) and d < 2 for w, d in zip(width, a.shape, strict=True)):
        raise interpret_error(op, "reflect padding needs at least 2 elements along each padded axis")
    if any(w != (0, 0) and d == 0 for w, d in zip(width, a.shape, strict=True)):
        raise interpret_error(op, f"cannot {mode}-pad an empty axis")
    return np.pad(a, width, mode=mode)


@_rule("Shape")
def _shape(interp: Interpreter, op, x: TypedArray) -> np.ndarray:
    shape = np.shape(x.data)
    rank = len(shape)
    start, end = op.attr("start"), op.attr("end")
    end = rank if end is None else end
    start = min(max(start + rank if start < 0 else start, 0), rank)
    end = min(max(end + rank if end < 0 else end, 0), rank)
    return np.array(shape[start:end], dtype=np.int64)


# ONNX TensorProto.DataType -> numpy dtype
CAST_TYPES: dict[int, np.dtype] = {
    1: np.dtype(np.float32), 2: np.dtype(np.uint8), 3: np.dtype(np.int8), 4: np.dtype(np.uint16),
    5: np.dtype(np.int16), 6: np.dtype(np.int32), 7: np.dtype(np.int64), 9: np.dtype(bool),
    10: np.dtype(np.float16), 11: np.dtype(np.float64), 12: np.dtype(np.uint32), 13: np.dtype(np.uint64),
}


@_rule("Cast")
def _cast(interp: Interpreter, op, x: TypedArray) -> np.ndarray:
    to = op.attr("to")
    dtype = CAST_TYPES.get(to)
    if dtype is None:
        raise interpret_error(op, f"Cast to ONNX data type {to} is not supported")
    a = _arr(x)
    if dtype == np.bool_:
        return a != 0
    if _is_float(a) and not np.issubdtype(dtype, np.floating):
        a = np.trunc(a)  # float -> int truncates toward zero
    with np.errstate(all="ignore"):
        return a.astype(dtype)


# ----------------------------------------------------------------------------- indexing and scatter
#
# Indices are int32 or int64; a negative index counts from the end of its axis, so the valid
# range along an axis of size n is [-n, n-1] and anything else is an interpreter error at the
# op (the importer's placeholder indices are zeros, always in range for a non-empty axis).


def _indices(op, idx: np.ndarray, dim: int, what: str = "index") -> np.ndarray:
    """Integer indices into an axis of size ``dim``, negative ones wrapped, as int64."""
    if not np.issubdtype(idx.dtype, np.integer):
        raise interpret_error(op, f"indices must be integers, got {idx.dtype}")
    idx = idx.astype(np.int64)
    bad = (idx < -dim) | (idx >= dim)
    if bad.any():
        pos = tuple(int(k) for k in np.argwhere(bad)[0])
        where = f" at position {list(pos)}" if pos else ""
        raise interpret_error(op, f"{what} {int(idx[pos])}{where} is out of range for an axis of size {dim} "
                                  f"(valid: {-dim} to {dim - 1})" if dim else
                              f"{what} {int(idx[pos])}{where} indexes an empty axis")
    return np.where(idx < 0, idx + dim, idx)


def _rank_at_least_1(op, a: np.ndarray, what: str = "data") -> None:
    if a.ndim < 1:
        raise interpret_error(op, f"{what} must have rank >= 1, got a scalar")


@_rule("Gather")
def _gather(interp: Interpreter, op, x: TypedArray, indices: TypedArray) -> np.ndarray:
    a = _arr(x)
    _rank_at_least_1(op, a)
    axis = _axis(op, op.attr("axis"), a.ndim)
    return np.take(a, _indices(op, _arr(indices), a.shape[axis]), axis=axis)


@_rule("GatherElements")
def _gather_elements(interp: Interpreter, op, x: TypedArray, indices: TypedArray) -> np.ndarray:
    a, idx = _arr(x), _arr(indices)
    _rank_at_least_1(op, a)
    axis = _axis(op, op.attr("axis"), a.ndim)
    if idx.ndim != a.ndim or any(i > d for k, (i, d) in enumerate(zip(idx.shape, a.shape, strict=True))
                                 if k != axis):
        raise interpret_error(op, f"indices of shape {idx.shape} do not fit data of shape {a.shape} "
                                  f"(same rank, no larger off axis {axis})")
    grid: list[np.ndarray] = list(np.indices(idx.shape, sparse=True))
    grid[axis] = _indices(op, idx, a.shape[axis])
    return a[tuple(grid)]


@_rule("GatherND")
def _gather_nd(interp: Interpreter, op, x: TypedArray, indices: TypedArray) -> np.ndarray:
    a, idx = _arr(x), _arr(indices)
    b = op.attr("batch_dims")
    if idx.ndim < 1 or not 0 <= b < min(a.ndim, idx.ndim):
        raise interpret_error(op, f"batch_dims {b} does not fit data of rank {a.ndim} and indices of rank {idx.ndim}")
    if a.shape[:b] != idx.shape[:b]:
        raise interpret_error(op, f"the batch dimensions differ: data {a.shape[:b]}, indices {idx.shape[:b]}")
    k = idx.shape[-1]
    if not 1 <= k <= a.ndim - b:
        raise interpret_error(op, f"the last dimension of the indices ({k}) must be 1 to {a.ndim - b}")
    nb, m = math.prod(a.shape[:b]), math.prod(idx.shape[b:-1])
    data = a.reshape(nb, *a.shape[b:])
    ix = idx.reshape(nb, m, k)
    cols = [_indices(op, ix[..., j], a.shape[b + j]) for j in range(k)]
    out = data[(np.arange(nb)[:, None], *cols)]  # (nb, m, *rest)
    return out.reshape(*idx.shape[:-1], *a.shape[b + k:])


_REDUCTIONS = ("none", "add", "mul", "max", "min")


def _scatter_into(op, out: np.ndarray, targets: np.ndarray, updates: np.ndarray) -> None:
    """``out[targets[j]] (op)= updates[j]`` for j in order: rows of ``out`` (N, *rest) get the
    rows of ``updates`` (M, *rest) as onnxruntime applies them, one update after the other."""
    reduction = op.attr("reduction")
    if reduction == "none":  # duplicates: the last update wins
        uniq, first = np.unique(targets[::-1], return_index=True)
        out[uniq] = updates[len(targets) - 1 - first]
    elif reduction in ("add", "mul"):  # sequential, in the element type
        with np.errstate(all="ignore"):
            (np.add if reduction == "add" else np.multiply).at(out, targets, updates)
    elif reduction in ("max", "min"):
        # onnxruntime keeps the accumulator a only when b < a (max) / a < b (min), else takes the
        # update b: a NaN update replaces, a NaN accumulator is replaced, ties go to the update
        # (max(-0, +0) is +0).  No numpy ufunc does that, so apply the k-th update of every
        # target in round k (within a round each target appears once).
        order = np.argsort(targets, kind="stable")
        st = targets[order]
        starts = np.flatnonzero(np.r_[True, st[1:] != st[:-1]]) if len(st) else np.zeros(0, np.int64)
        rank = np.empty(len(targets), np.int64)
        rank[order] = np.arange(len(st)) - np.repeat(starts, np.diff(np.r_[starts, len(st)]))
        for r in range(int(rank.max()) + 1 if len(rank) else 0):
            sel = np.flatnonzero(rank == r)
            t = targets[sel]
            acc, new = out[t], updates[sel]
            keep = new < acc if reduction == "max" else acc < new
            out[t] = np.where(keep, acc, new)
    else:
        raise interpret_error(op, f"unknown reduction '{reduction}' (one of {', '.join(_REDUCTIONS)})")


def _same_type(op, a: np.ndarray, u: np.ndarray) -> None:
    if a.dtype != u.dtype:
        raise interpret_error(op, f"data and updates have different element types ({a.dtype} and {u.dtype})")


@_rule("ScatterElements")
def _scatter_elements(interp: Interpreter, op, x: TypedArray, indices: TypedArray,
                      updates: TypedArray) -> np.ndarray:
    a, idx, upd = _arr(x), _arr(indices), _arr(updates)
    _rank_at_least_1(op, a)
    _same_type(op, a, upd)
    axis = _axis(op, op.attr("axis"), a.ndim)
    if idx.shape != upd.shape or idx.ndim != a.ndim or any(
            i > d for k, (i, d) in enumerate(zip(idx.shape, a.shape, strict=True)) if k != axis):
        raise interpret_error(op, f"indices {idx.shape} and updates {upd.shape} do not fit data of shape "
                                  f"{a.shape} (same shape, same rank as data, no larger off axis {axis})")
    grid = [np.broadcast_to(g, idx.shape) for g in np.indices(idx.shape, sparse=True)]
    grid[axis] = _indices(op, idx, a.shape[axis])
    targets = np.ravel_multi_index(tuple(grid), a.shape).reshape(-1)
    out = a.copy().reshape(-1)
    _scatter_into(op, out, targets, upd.reshape(-1))
    return out.reshape(a.shape)


@_rule("ScatterND")
def _scatter_nd(interp: Interpreter, op, x: TypedArray, indices: TypedArray, updates: TypedArray) -> np.ndarray:
    a, idx, upd = _arr(x), _arr(indices), _arr(updates)
    _rank_at_least_1(op, a)
    _same_type(op, a, upd)
    k = idx.shape[-1] if idx.ndim else 0
    if not 1 <= k <= a.ndim:
        raise interpret_error(op, f"the last dimension of the indices ({k}) must be 1 to {a.ndim}")
    want = (*idx.shape[:-1], *a.shape[k:])
    if upd.shape != want:
        raise interpret_error(op, f"updates have shape {upd.shape}, expected {want}")
    cols = [_indices(op, idx[..., j], a.shape[j]) for j in range(k)]
    targets = np.ravel_multi_index(tuple(cols), a.shape[:k]).reshape(-1)
    out = a.copy().reshape(math.prod(a.shape[:k]), *a.shape[k:])
    _scatter_into(op, out, targets, upd.reshape(len(targets), *a.shape[k:]))
    return out.reshape(a.shape)


def _broadcast_shape(op, *shapes: Sequence[int]) -> tuple[int, ...]:
    try:
        return tuple(np.broadcast_shapes(*(tuple(s) for s in shapes)))
    except ValueError:
        raise interpret_error(op, "shapes " + ", ".join(str(tuple(s)) for s in shapes)
                              + " do not broadcast") from None


@_rule("Expand")
def _expand(interp: Interpreter, op, x: TypedArray, shape: TypedArray) -> np.ndarray:
    a, dims = _arr(x), _ints(shape)
    if min(dims, default=0) < 0:
        raise interpret_error(op, f"shape {dims} has a negative dimension")
    return np.array(np.broadcast_to(a, _broadcast_shape(op, a.shape, dims)))


@_rule("Tile")
def _tile(interp: Interpreter, op, x: TypedArray, repeats: TypedArray) -> np.ndarray:
    a, reps = _arr(x), _ints(repeats)
    if len(reps) != a.ndim or min(reps, default=0) < 0:
        raise interpret_error(op, f"repeats {reps} must be {a.ndim} non-negative counts")
    return np.tile(a, reps)


@_rule("Where")
def _where(interp: Interpreter, op, cond: TypedArray, x: TypedArray, y: TypedArray) -> np.ndarray:
    c, a, b = _arr(cond), _arr(x), _arr(y)
    if c.dtype != np.bool_:
        raise interpret_error(op, f"the condition must be bool, got {c.dtype}")
    if a.dtype != b.dtype:
        raise interpret_error(op, f"X and Y have different element types ({a.dtype} and {b.dtype})")
    _broadcast_shape(op, c.shape, a.shape, b.shape)
    return np.where(c, a, b)


# ----------------------------------------------------------------------------- shape arithmetic and predicates


@_rule("ConstantOfShape")
def _constant_of_shape(interp: Interpreter, op, shape: TypedArray) -> np.ndarray:
    dims = _ints(shape)
    if min(dims, default=0) < 0:
        raise interpret_error(op, f"shape {dims} has a negative dimension")
    value = op.attr("value")
    if value is None:
        return np.zeros(dims, dtype=np.float32)
    v = np.array(value.data, dtype=element_dtype(value.type.element)).reshape(-1)
    if v.size != 1:
        raise interpret_error(op, f"value must hold one element, it holds {v.size}")
    return np.full(dims, v[0], dtype=v.dtype)


def _scalar(op, v: TypedArray, name: str) -> np.ndarray:
    a = _arr(v)
    if a.size != 1:
        raise interpret_error(op, f"{name} must be a scalar, got shape {a.shape}")
    return a.reshape(())


@_rule("Range")
def _range(interp: Interpreter, op, start: TypedArray, limit: TypedArray, delta: TypedArray) -> np.ndarray:
    s, lim, d = (_scalar(op, v, n) for v, n in ((start, "start"), (limit, "limit"), (delta, "delta")))
    if not s.dtype == lim.dtype == d.dtype:
        raise interpret_error(op, f"start, limit and delta have different element types "
                                  f"({s.dtype}, {lim.dtype}, {d.dtype})")
    if d == 0:
        raise interpret_error(op, "delta must not be zero")
    # as onnxruntime: n = ceil((limit - start) / delta), the difference in the element type and
    # the quotient in double; the values accumulate in the element type (start, start + delta, ...)
    with np.errstate(all="ignore"):
        q = float(lim - s) / float(d)
    if not math.isfinite(q):
        raise interpret_error(op, f"cannot count the elements of Range({s}, {lim}, {d})")
    n = max(math.ceil(q), 0)
    if not _is_float(s):
        return (s.astype(np.int64) + np.arange(n, dtype=np.int64) * d.astype(np.int64)).astype(s.dtype)
    out = np.full(n, d, dtype=s.dtype)
    if n:
        out[0] = s
    return np.add.accumulate(out, dtype=s.dtype)


@_rule("Size")
def _size(interp: Interpreter, op, x: TypedArray) -> np.ndarray:
    return np.array(np.size(x.data), dtype=np.int64)


@_rule("ReduceProd")
def _reduce_prod(interp: Interpreter, op, x: TypedArray, axes: TypedArray | None = None) -> np.ndarray:
    a = _arr(x)
    ax = _ints(axes) if _present(axes) else (op.attr("axes") or [])
    if not ax and op.attr("noop_with_empty_axes"):
        return a
    dims = tuple(sorted({_axis(op, k, a.ndim) for k in ax})) if ax else tuple(range(a.ndim))
    keep = bool(op.attr("keepdims"))
    if _is_float(a):  # the product in float64, rounded once
        return _like(np.prod(a.astype(np.float64), axis=dims, keepdims=keep), a)
    return np.prod(a, axis=dims, keepdims=keep).astype(a.dtype)


@_rule("Mod")
def _mod(interp: Interpreter, op, a: TypedArray, b: TypedArray) -> np.ndarray:
    x, y = _arr(a), _arr(b)
    if x.dtype != y.dtype:
        raise interpret_error(op, f"operands have different element types ({x.dtype} and {y.dtype})")
    fmod = bool(op.attr("fmod"))
    if _is_float(x) and not fmod:
        raise interpret_error(op, "Mod of floating-point tensors needs fmod = 1")
    # fmod = 1: the C fmod (sign of the dividend); 0: the sign of the divisor.  An integer
    # division by zero gives 0 (the importer's placeholders are zeros).
    with np.errstate(all="ignore"):
        return (np.fmod if fmod else np.mod)(x, y).astype(x.dtype, copy=False)


def _compare(fn: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> Callable:
    def rule(interp: Interpreter, op, a: TypedArray, b: TypedArray) -> np.ndarray:
        x, y = _arr(a), _arr(b)
        if x.dtype != y.dtype:
            raise interpret_error(op, f"operands have different element types ({x.dtype} and {y.dtype})")
        _broadcast_shape(op, x.shape, y.shape)
        return np.asarray(fn(x, y), dtype=bool)

    return rule


def _logical(fn: Callable[..., np.ndarray]) -> Callable:
    def rule(interp: Interpreter, op, *operands: TypedArray) -> np.ndarray:
        xs = [_arr(v) for v in operands]
        if any(x.dtype != np.bool_ for x in xs):
            raise interpret_error(op, f"operands must be bool, got {', '.join(str(x.dtype) for x in xs)}")
        _broadcast_shape(op, *(x.shape for x in xs))
        return np.asarray(fn(*xs), dtype=bool)

    return rule


_rule("Equal")(_compare(np.equal))
_rule("Less")(_compare(np.less))
_rule("LessOrEqual")(_compare(np.less_equal))
_rule("Greater")(_compare(np.greater))
_rule("GreaterOrEqual")(_compare(np.greater_equal))
_rule("Not")(_logical(np.logical_not))
_rule("And")(_logical(np.logical_and))
_rule("Or")(_logical(np.logical_or))
_rule("Xor")(_logical(np.logical_xor))


# ----------------------------------------------------------------------------- QONNX quantisers


def _round_fn(op, mode: str) -> Callable[[np.ndarray], np.ndarray]:
    """qonnx's ``resolve_rounding_mode``."""
    m = mode.upper()
    if m in ("ROUND", "HALF_EVEN"):
        return np.round
    if m == "CEIL":
        return np.ceil
    if m == "FLOOR":
        return np.floor
    if m == "UP":
        return lambda y: np.sign(y) * np.ceil(np.abs(y))
    if m == "DOWN":
        return np.fix
    if m == "HALF_UP":
        return lambda y: np.sign(y) * np.floor(np.abs(y) + 0.5)
    if m == "HALF_DOWN":
        return lambda y: np.sign(y) * np.ceil(np.abs(y) - 0.5)
    raise interpret_error(op, f"unknown rounding_mode '{mode}'")


def _min_int(signed: bool, narrow: bool, bw: np.ndarray) -> np.ndarray:
    if signed and narrow:
        return -(2 ** (bw - 1)) + 1
    if signed:
        return -(2 ** (bw - 1))
    return 0 * bw


def _max_int(signed: bool, narrow: bool, bw: np.ndarray) -> np.ndarray:
    if not signed and not narrow:
        return (2**bw) - 1
    if not signed:
        return (2**bw) - 2
    return (2 ** (bw - 1)) - 1


def _clamp(y: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    y = np.where(y > hi, np.asarray(hi).astype(y.dtype), y)
    return np.where(y < lo, np.asarray(lo).astype(y.dtype), y)


@_rule("Quant", "IntQuant")
def _quant(interp: Interpreter, op, x: TypedArray, scale: TypedArray, zeropt: TypedArray,
           bitwidth: TypedArray) -> np.ndarray:
    xa, s, z, bw = _f32(x.data), _f32(scale.data), _f32(zeropt.data), _f32(bitwidth.data)
    if bw.size != 1:
        raise interpret_error(op, f"the bit width must be a scalar, got shape {bw.shape}")
    signed, narrow = bool(op.attr("signed")), bool(op.attr("narrow"))
    y = xa / s
    y = y + z
    if bw == 1 and signed:
        ones = np.ones(y.shape, dtype=y.dtype)
        y = np.where(y >= 0.0, ones, -ones)
    else:
        y = _clamp(y, _min_int(signed, narrow, bw), _max_int(signed, narrow, bw))
        y = _round_fn(op, op.attr("rounding_mode"))(y)
    out = y - z
    out = out * s
    return _f32(out)


@_rule("BipolarQuant")
def _bipolar_quant(interp: Interpreter, op, x: TypedArray, scale: TypedArray) -> np.ndarray:
    xa, s = _f32(x.data), _f32(scale.data)
    ones = np.ones(xa.shape, dtype=xa.dtype)
    return _f32(np.where(xa >= 0.0, ones, -ones) * s)


@_rule("Trunc")
def _trunc(interp: Interpreter, op, *operands: TypedArray) -> np.ndarray:
    vals = [_f32(v.data) for v in operands]
    rnd = _round_fn(op, op.attr("rounding_mode"))
    if len(vals) == 5:  # Trunc v1: x, scale, zeropt, in_bw, out_bw
        xa, s, z, in_bw, out_bw = vals
        y = np.round(xa / s + z)
        y = y / (2.0 ** (in_bw - out_bw))
        y = rnd(y)
        return _f32((y - z) * s)
    xa, s, z, _in_bw, out_scale, out_bw = vals  # Trunc v2
    signed, narrow = bool(op.attr("signed")), bool(op.attr("narrow"))
    y = xa / s
    y = y + z
    y = np.round(y)
    trunc_scale = 2 ** np.round(np.log2(out_scale / s))
    y = y / trunc_scale
    y = _clamp(y, _min_int(signed, narrow, out_bw), _max_int(signed, narrow, out_bw))
    y = rnd(y)
    y = y - z / trunc_scale
    return _f32(y * out_scale)


@_rule("MultiThreshold")
def _multithreshold(interp: Interpreter, op, x: TypedArray, thresholds: TypedArray) -> np.ndarray:
    v, t = _f32(x.data), _f32(thresholds.data)
    layout = op.attr("data_layout")
    if not layout and v.ndim < 5:
        layout = {0: None, 1: None, 2: "NC", 3: "NWC", 4: "NCHW"}[v.ndim]
    cdim = layout.index("C") if layout and "C" in layout else 1
    if v.ndim < 2 or t.ndim != 2:
        raise interpret_error(op, f"expects an input of rank >= 2 and 2-D thresholds, got {v.shape} and {t.shape}")
    vm = np.moveaxis(v, cdim, -1)
    if t.shape[0] not in (1, vm.shape[-1]):
        raise interpret_error(op, f"thresholds of shape {t.shape} for {vm.shape[-1]} channels")
    count = np.count_nonzero(vm[..., None] >= t, axis=-1).astype(np.float32)
    out = np.float32(op.attr("out_scale")) * count + np.float32(op.attr("out_bias"))
    return _f32(np.moveaxis(out, -1, cdim))


# ----------------------------------------------------------------------------- ONNX-ML tree ensembles

def tree_attributes(op) -> dict[str, Any]:
    """The op's attributes as plain Python / numpy values (tensors as arrays)."""
    out: dict[str, Any] = {}
    for name in op.signature.attributes:
        v = op.attr(name)
        out[name] = np.asarray(v.data) if hasattr(v, "data") else v
    return out


def _tree_input(op, x: TypedArray) -> np.ndarray:
    a = _arr(x)
    if a.ndim != 2:
        raise interpret_error(op, f"input must be [N, features], got shape {list(a.shape)}")
    return a.astype(np.float64) if np.issubdtype(a.dtype, np.integer) else a


def _checked(op, fn: Callable[[], Any]) -> Any:
    from fmlc.runtime.trees import TreeError

    try:
        return fn()
    except TreeError as e:
        raise interpret_error(op, str(e)) from None


@_rule("TreeEnsembleClassifier")
def _tree_classifier(interp: Interpreter, op, x: TypedArray) -> tuple[np.ndarray, np.ndarray]:
    from fmlc.runtime import trees

    a = tree_attributes(op)
    ens, base, double = _checked(op, lambda: trees.from_v3(a, classifier=True))
    xs = _tree_input(op, x)
    _check_features(op, ens, xs)
    return _checked(op, lambda: trees.run_classifier(ens, base, list(a["classlabels_int64s"]), a["post_transform"],
                                                     xs, np.float64 if double else np.float32))


@_rule("TreeEnsembleRegressor")
def _tree_regressor(interp: Interpreter, op, x: TypedArray) -> np.ndarray:
    from fmlc.runtime import trees

    a = tree_attributes(op)
    ens, base, double = _checked(op, lambda: trees.from_v3(a, classifier=False))
    how = a["aggregate_function"]
    if how not in trees.AGGREGATES:
        raise interpret_error(op, f"aggregate_function {how!r} is not one of {', '.join(trees.AGGREGATES)}")
    xs = _tree_input(op, x)
    _check_features(op, ens, xs)
    return trees.run_regressor(ens, base, how, a["post_transform"], xs, np.float64 if double else np.float32)


@_rule("TreeEnsemble")
def _tree_ensemble_v5(interp: Interpreter, op, x: TypedArray) -> np.ndarray:
    from fmlc.runtime import trees

    a = tree_attributes(op)
    for need in ("nodes_modes", "nodes_splits", "leaf_weights"):
        if a.get(need) is None:
            raise interpret_error(op, f"attribute '{need}' is required")
    ens = _checked(op, lambda: trees.from_v5(a))
    how, post = _enum(op, a, "aggregate_function", ("AVERAGE", "SUM", "MIN", "MAX")), \
        _enum(op, a, "post_transform", trees.POST_TRANSFORMS)
    xs = _tree_input(op, x)
    _check_features(op, ens, xs)
    dtype = np.float64 if _arr_dtype(a["nodes_splits"]) == np.float64 else np.float32
    return trees.run_regressor(ens, np.zeros(0), how, post, xs, dtype)


def _arr_dtype(a: Any) -> np.dtype:
    return np.asarray(a).dtype


def _enum(op, a: dict[str, Any], name: str, names: Sequence[str]) -> str:
    k = int(a[name])
    if not 0 <= k < len(names):
        raise interpret_error(op, f"{name} = {k} is not one of 0..{len(names) - 1}")
    return names[k]


def _check_features(op, ens: Any, x: np.ndarray) -> None:
    used = ens.feature[ens.feature >= 0]
    if used.size and int(used.max()) >= x.shape[1]:
        raise interpret_error(op, f"a node reads feature {int(used.max())} of an input with {x.shape[1]}")


@_rule("ZipMap")
def _zip_map(interp: Interpreter, op, x: TypedArray) -> np.ndarray:
    """fmlc keeps the class scores a plain [N, classes] tensor (in class order)."""
    return _arr(x)


@_rule("ArgMax")
def _arg_max(interp: Interpreter, op, x: TypedArray) -> np.ndarray:
    a = _arr(x)
    axis = _axis(op, int(op.attr("axis")), a.ndim)
    if op.attr("select_last_index"):
        idx = a.shape[axis] - 1 - np.argmax(np.flip(a, axis=axis), axis=axis)
    else:
        idx = np.argmax(a, axis=axis)
    idx = idx.astype(np.int64)
    return np.expand_dims(idx, axis) if op.attr("keepdims") else idx
