"""``onnx-to-qt``: the float/QONNX graph becomes exact fixed-point ``qt`` ops.

The conversion walks the ``onnx`` ops of each function in order and asks the
lowering registered for the op's ONNX type (``@lowering("Gemm")``, in
``lower_quant``, ``lower_layers``, ``lower_shape`` or a user's module) for the
``qt`` ops that compute it.  Each ONNX value becomes one of

* :class:`Const` — a compile-time constant (initialisers, shape arithmetic, a
  quantiser applied to weights: folded with the op's interpreter rule, so exactly
  as qonnx folds them); it becomes a ``qt.const`` where a runtime op needs it;
* :class:`Lowered` — a ``qt`` tensor; ``perm`` says how its axes are permuted
  relative to the ONNX value (convolutions work channels-last, so an NCHW tensor
  travels as NHWC and a Transpose only changes ``perm``); ``exact`` says whether
  it equals the ONNX value exactly.

The function keeps its float interface: inputs enter through ``qt.from_float``
and outputs leave through ``qt.to_float``, so every level runs on the same
``.npz`` inputs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from fractions import Fraction
from typing import Any

import attrs
import numpy as np

from fmlc.compiler.attributes import (
    DenseElementsAttr,
    FloatType,
    FunctionType,
    IntegerType,
    NoneType,
    TensorType,
    TypeAttr,
    TypeAttribute,
    f32,
)
from fmlc.compiler.diagnostics import DiagnosticError, op_error, warn
from fmlc.compiler.ir import Block, Operation, Value
from fmlc.compiler.location import Location, NameLoc
from fmlc.compiler.passes import Pass, PassContext, register_pass
from fmlc.dialects import onnx as onnx_d
from fmlc.dialects import qt
from fmlc.dialects.func import FuncOp, ReturnOp
from fmlc.passes.precision import PrecisionConfig, exact_type, load_config
from fmlc.runtime import fixed
from fmlc.runtime import rules as _rules  # noqa: F401  (constant folding runs the interpreter rules)
from fmlc.runtime.interpreter import Interpreter, TypedArray, rule_for


@attrs.frozen
class Const:
    """A compile-time constant as the ONNX level sees it; ``quantised`` when a quantiser produced it."""

    array: np.ndarray
    quantised: bool = False


@attrs.frozen
class Lowered:
    """A runtime ``qt`` tensor standing for an ONNX value (``qt = transpose(onnx, perm)``)."""

    value: Value
    perm: tuple[int, ...] | None = None
    exact: bool = True

    @property
    def type(self) -> qt.FixedPointType | qt.BipolarType:
        return self.value.type.element  # type: ignore[attr-defined]

    @property
    def shape(self) -> tuple[int, ...]:
        return self.value.type.shape  # type: ignore[attr-defined]


Item = Const | Lowered | None
Lowering = Callable[["Converter", onnx_d.OnnxOp], Sequence[Item] | Item]
LOWERINGS: dict[str, Lowering] = {}


def lowering(*op_types: str) -> Callable[[Lowering], Lowering]:
    """Register ``fn(conv, op)`` as the lowering of the ONNX ``op_types`` (or of ops named so)."""

    def wrap(fn: Lowering) -> Lowering:
        for t in op_types:
            LOWERINGS[t] = fn
        return fn

    return wrap


def lowering_key(op: Operation) -> str:
    """The key an op's lowering is registered under: the ONNX op type, or the op name
    (``qt.gather``) for the non-onnx ops a rewrite pattern put into the graph."""
    return op.op_type if isinstance(op, onnx_d.OnnxOp) else op.name


def inverse(perm: Sequence[int]) -> tuple[int, ...]:
    inv = [0] * len(perm)
    for i, p in enumerate(perm):
        inv[p] = i
    return tuple(inv)


def tensor(shape: Sequence[int], element: TypeAttribute) -> TensorType:
    return TensorType(tuple(int(d) for d in shape), element)


class Converter:
    """State of one function's conversion: the value map, the new block, settings."""

    def __init__(self, ctx: PassContext, func: FuncOp, config: PrecisionConfig) -> None:
        self.ctx = ctx
        self.func = func
        self.config = config
        self.block = Block([a.type for a in func.entry.args])
        self.items: dict[Value, Item] = {}
        self.location: Location | None = None
        self.current: Operation | None = None
        self._interp = Interpreter()
        for old, new in zip(func.entry.args, self.block.args, strict=True):
            new.name_hint = old.name_hint
            self.items[old] = None  # a float graph input: lowered on first use
        self._args = dict(zip(func.entry.args, self.block.args, strict=True))
        self._inputs: dict[tuple[Value, qt.FixedPointType], Lowered] = {}

    # -- diagnostics -----------------------------------------------------------
    def error(self, message: str) -> DiagnosticError:
        return op_error(self.current, message) if self.current is not None else DiagnosticError(message)

    def warn(self, message: str) -> None:
        if self.ctx.strict:
            raise self.error(f"{message} (an error under --strict)")
        warn(self.current, message)

    # -- emitting --------------------------------------------------------------
    def emit(self, cls: type[Operation], **fields: Any) -> Operation:
        op = cls.build(location=self.location, **fields)  # type: ignore[arg-type]
        self.block.append(op)
        return op

    def emit1(self, cls: type[Operation], **fields: Any) -> Value:
        return self.emit(cls, **fields).result

    def const_value(self, raw: np.ndarray, element: qt.FixedPointType | qt.BipolarType) -> Value:
        raw = fixed.as_raw(np.asarray(raw), element)
        t = tensor(raw.shape, element)
        return self.emit1(qt.ConstOp, value=DenseElementsAttr(t, raw), output=t)

    def exact_const(self, array: np.ndarray) -> Value:
        """A ``qt.const`` holding float ``array`` exactly (the narrowest exact type)."""
        found = exact_type(array)
        if found is None:
            raise self.error("a constant needs more than 128 bits to be held exactly")
        t, raw = found
        return self.const_value(raw, t)

    def rounded_const(self, array: np.ndarray, element: qt.FixedPointType) -> tuple[Value, np.ndarray]:
        """A ``qt.const`` of ``array`` rounded to nearest (saturating) in ``element``; also the float values."""
        conv = element.with_modes("rnd_conv", "sat")
        raw = fixed.from_float(np.asarray(array, dtype=np.float64), conv)
        return self.const_value(raw, element), fixed.to_float(raw, conv)

    def with_const(self, cls: type[Operation], x: Lowered, array: np.ndarray, const_first: bool = False
                   ) -> Lowered:
        """``x (+|-|*) array`` (``cls`` is ``qt.AddOp``, ``SubOp`` or ``MulOp``) exactly, the constant
        broadcast in x's layout and typed exactly."""
        x = self.materialise(x)
        arr = np.asarray(array, np.float64)
        rank = max(len(x.shape), arr.ndim)
        if arr.ndim > len(x.shape):
            x = self.onnx_order(x)
        aligned = Converter.layout_array(arr, rank, x.perm)
        found = exact_type(aligned)
        if found is None:
            raise self.error("constant operand needs more than 128 bits to be exact")
        ct, raw = found
        c = self.const_value(raw, ct)
        lhs, rhs = (c, x.value) if const_first else (x.value, c)
        lt, rt = (ct, x.type) if const_first else (x.type, ct)
        t = {qt.AddOp: lt.add_type, qt.SubOp: lt.sub_type, qt.MulOp: lt.mul_type}[cls](rt)  # type: ignore
        shape = np.broadcast_shapes(x.shape, aligned.shape)
        v = self.emit1(cls, lhs=lhs, rhs=rhs, output=tensor(shape, t))
        return Lowered(v, x.perm, x.exact)

    def cast(self, lw: Lowered, element: qt.FixedPointType | qt.BipolarType, exact: bool | None = None) -> Lowered:
        if lw.type == element:
            return lw
        v = self.emit1(qt.CastOp, input=lw.value, output=tensor(lw.shape, element))
        return Lowered(v, lw.perm, lw.exact if exact is None else exact)

    # -- reading operands ------------------------------------------------------
    def item(self, v: Value) -> Item:
        return self.items[v]

    def const(self, v: Value) -> Const | None:
        it = self.items[v]
        return it if isinstance(it, Const) else None

    def const_array(self, v: Value, what: str) -> np.ndarray:
        c = self.const(v)
        if c is None:
            raise self.error(f"{what} must be a constant")
        return c.array

    def runtime(self, v: Value, perm: Sequence[int] | None = None, *, as_type: qt.FixedPointType | None = None
                ) -> Lowered:
        """The ``qt`` tensor of ONNX value ``v`` (optionally in layout ``perm``)."""
        it = self.items.get(v)
        if it is None and v in self._args and isinstance(v.type.element, IntegerType):  # type: ignore[attr-defined]
            it = self.input(v, self.config.integer_input(v.name_hint or ""), exact=True)
        elif it is None and v in self._args:
            it = self.input(v, as_type or self.config.input(v.name_hint or ""), exact=as_type is not None)
        elif isinstance(it, Const):
            it = Lowered(self.exact_const(it.array))
        if not isinstance(it, Lowered):
            raise self.error("operand has no value at the qt level")
        return self.in_layout(it, perm) if perm is not None else it

    def input(self, arg: Value, element: qt.FixedPointType, exact: bool = False) -> Lowered:
        """A graph input converted from float with ``element`` (once per type); ``exact``
        when that conversion is what the ONNX graph computes (a quantiser on the input)."""
        key = (arg, element)
        if key not in self._inputs:
            new = self._args[arg]
            t = tensor(new.type.shape, element)  # type: ignore[attr-defined]
            op = qt.FromFloatOp.build(input=new, output=t, location=NameLoc(arg.name_hint or "input"))
            self.block.append(op)
            v = op.result
            self._inputs[key] = Lowered(v, None, exact)
        return self._inputs[key]

    def is_graph_input(self, v: Value) -> bool:
        return v in self._args

    # -- layouts ---------------------------------------------------------------
    def in_layout(self, lw: Lowered, perm: Sequence[int] | None) -> Lowered:
        """``lw`` with its axes in layout ``perm`` (None: the ONNX order)."""
        rank = len(lw.shape)
        cur = lw.perm or tuple(range(rank))
        want = tuple(perm) if perm is not None else tuple(range(rank))
        if cur == want:
            return lw
        inv = inverse(cur)
        q = tuple(inv[w] for w in want)
        shape = [lw.shape[i] for i in q]
        v = self.emit1(qt.TransposeOp, input=lw.value, perm=_ints(q), output=tensor(shape, lw.type))
        return Lowered(v, None if want == tuple(range(rank)) else want, lw.exact)

    def onnx_order(self, lw: Lowered) -> Lowered:
        return self.in_layout(lw, None)

    @staticmethod
    def layout_array(array: np.ndarray, rank: int, perm: Sequence[int] | None) -> np.ndarray:
        """A constant broadcastable to an ONNX tensor of ``rank``, rearranged for layout ``perm``."""
        a = np.asarray(array)
        a = a.reshape((1,) * (rank - a.ndim) + a.shape)
        return np.transpose(a, perm) if perm is not None else a

    # -- precision helpers -----------------------------------------------------
    def layer(self) -> Any:
        return self.config.layer(self.current.location.describe() if self.current else "")

    def finish_layer(self, lw: Lowered) -> Lowered:
        """An approximate layer result goes to the layer's ``result`` precision (as hls4ml's result_t)."""
        if lw.exact:
            return lw
        return self.cast(lw, self.layer().result, exact=False)

    # -- constant folding --------------------------------------------------------
    def fold(self, op: onnx_d.OnnxOp) -> list[Const] | None:
        """Evaluate ``op`` when every operand is constant."""
        args = []
        for v in op.operands:
            it = self.items.get(v)
            if isinstance(it, Const):
                args.append(TypedArray(it.array, v.type))
            elif isinstance(v.type, NoneType):
                args.append(TypedArray(None, v.type))
            else:
                return None
        rule = rule_for(type(op))
        assert rule is not None
        with np.errstate(all="ignore"):
            out = rule(self._interp, op, *args)
        outs = list(out) if isinstance(out, (tuple, list)) else [out]
        key = lowering_key(op)
        quantised = key in QUANTISERS or (
            key in DATA_MOVEMENT and any(isinstance(self.items.get(v), Const) and self.items[v].quantised
                                                for v in op.operands[:1]))
        return [Const(np.asarray(o.data if isinstance(o, TypedArray) else o), quantised) for o in outs]

    # -- the walk ------------------------------------------------------------------
    def run(self) -> None:
        for op in self.func.entry.ops:
            self.current = op
            self.location = op.location
            if isinstance(op, ReturnOp):
                self._return(op)
            elif isinstance(op, onnx_d.NoValueOp):
                self.items[op.result] = None
            elif isinstance(op, onnx_d.OnnxOp) or op.name in LOWERINGS:
                self._convert(op)
            else:
                raise self.error("is not an onnx-dialect op; onnx-to-qt expects an imported model")
        self.current = None

    def _convert(self, op: onnx_d.OnnxOp) -> None:
        if op.results and all(r in self.items for r in op.results):
            return  # absorbed by an earlier lowering (a MatMul took its Add as the bias)
        folded = self.fold(op)
        if folded is not None:
            for r, c in zip(op.results, folded, strict=False):
                self.items[r] = c
            return
        fn = LOWERINGS.get(lowering_key(op))
        if fn is None:
            raise self.error("has no lowering to the qt dialect")
        out = fn(self, op)
        outs = list(out) if isinstance(out, (list, tuple)) else [out]
        if len(outs) < len(op.results):
            raise self.error(f"lowering produced {len(outs)} values for {len(op.results)} results")
        for r, it in zip(op.results, outs, strict=False):
            self.items[r] = it

    def _return(self, op: ReturnOp) -> None:
        outs = []
        names = self.func.attributes.get("fmlc.outputs")
        for k, v in enumerate(op.operands):
            name = names.value[k].value if names is not None and k < len(names) else None  # type: ignore
            producer = v.op.location if hasattr(v, "op") else op.location
            self.location = NameLoc(name) if name else producer
            it = self.items.get(v)
            if isinstance(it, Const):
                arr = it.array
                outs.append(self._float_const_output(arr, v))
                continue
            lw = self.materialise(self.onnx_order(self.runtime(v)))
            element = v.type.element if isinstance(v.type, TensorType) else f32  # type: ignore[attr-defined]
            integral = isinstance(lw.type, qt.FixedPointType) and lw.type.frac_bits <= 0 and lw.type.width <= 63
            if not (isinstance(element, FloatType) or isinstance(element, IntegerType) and integral):
                raise self.error(f"graph output of type {element} is not supported (float outputs, and integer "
                                 "outputs of integer values)")
            outs.append(self.emit1(qt.ToFloatOp, input=lw.value, output=tensor(lw.shape, element)))
        self.block.append(ReturnOp.build(values=outs, location=op.location))

    def _float_const_output(self, arr: np.ndarray, v: Value) -> Value:
        lw = Lowered(self.exact_const(arr))
        return self.emit1(qt.ToFloatOp, input=lw.value, output=v.type)

    def materialise(self, lw: Lowered) -> Lowered:
        """A fixed-point tensor for ``lw`` (a bipolar tensor becomes ``fixed<2,2>`` ±1)."""
        if isinstance(lw.type, qt.BipolarType):
            return self.cast(lw, qt.fixed(2, 2))
        return lw


QUANTISERS = {"Quant", "IntQuant", "BipolarQuant", "Trunc", "MultiThreshold"}
DATA_MOVEMENT = {"Reshape", "Transpose", "Flatten", "Squeeze", "Unsqueeze", "Identity", "Slice", "Concat", "Split",
                 "Pad"}


def _ints(values: Sequence[int]) -> Any:
    from fmlc.compiler.attributes import ArrayAttr, IntegerAttr

    return ArrayAttr(IntegerAttr(int(x)) for x in values)


def log2_exact(x: float | Fraction) -> int | None:
    """k with x == 2^k, else None."""
    fr = Fraction(x)
    if fr <= 0:
        return None
    n, d = fr.numerator, fr.denominator
    if n & (n - 1) or d & (d - 1):
        return None
    return n.bit_length() - d.bit_length()


def convert_function(ctx: PassContext, func: FuncOp, config: PrecisionConfig) -> None:
    conv = Converter(ctx, func, config)
    conv.run()
    ret = conv.block.last_op
    results = [v.type for v in ret.operands]  # type: ignore[union-attr]
    body = func.regions[0]
    old = body.blocks[0]
    body.blocks.clear()
    old.parent = None
    for o in list(old.ops)[::-1]:
        o.erase(safe=False)
    body.add_block(conv.block)
    func.properties["function_type"] = TypeAttr(FunctionType([a.type for a in conv.block.args], results))


@register_pass
@dataclasses.dataclass(frozen=True)
class OnnxToQt(Pass):
    """Lower ``onnx`` ops to exact fixed-point ``qt`` ops (see the module docstring)."""

    name = "onnx-to-qt"
    summary = "lower onnx-dialect ops to exact fixed-point qt ops (quantisers become types)"
    default_precision: str = ""

    def apply(self, ctx: PassContext, op: Operation) -> None:
        cfg = ctx.config.get("precision")
        if not isinstance(cfg, PrecisionConfig) or self.default_precision:
            cfg = load_config(ctx.config.get("config_file"), self.default_precision or
                              ctx.config.get("default_precision"))
        from fmlc.passes import (  # noqa: F401  (lowerings)
            lower_gather,
            lower_layers,
            lower_quant,
            lower_shape,
            lower_trees,
        )

        names: set[str] = set()
        for f in [o for o in op.walk() if isinstance(o, FuncOp)]:
            names |= {o.location.describe() for o in f.entry.ops}
            convert_function(ctx, f, cfg)
        unknown = sorted(set(cfg.layers) - names)
        if unknown:
            warn(None, f"config: no node named {', '.join(unknown)} in the model ([layer.NAME] takes ONNX node "
                       "names)")
