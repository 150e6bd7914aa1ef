"""Hypothesis strategies for random types, attributes, locations and whole modules
of the ``test`` dialect (plus ``func`` and unregistered ops)."""

from __future__ import annotations

import math
import re

import numpy as np
import testdialect as td
from hypothesis import strategies as st

from fmlc.compiler.attributes import (
    ArrayAttr,
    BoolAttr,
    DenseElementsAttr,
    DictionaryAttr,
    FloatAttr,
    FloatType,
    FunctionType,
    IndexType,
    IntegerAttr,
    IntegerType,
    KeyParam,
    NoneType,
    OpaqueAttribute,
    OpaqueType,
    QuotedParam,
    ShapedParam,
    StringAttr,
    SymbolRefAttr,
    TensorType,
    TypeAttr,
    UnitAttr,
)
from fmlc.compiler.builtin import ModuleOp
from fmlc.compiler.ir import Block, Operation, Region, Value, unregistered_op
from fmlc.compiler.location import UNKNOWN, FileLineColLoc, FusedLoc, NameLoc
from fmlc.dialects import qt
from fmlc.dialects.func import FuncOp, ReturnOp

# ----------------------------------------------------------------------------- types

int_types = st.builds(IntegerType, st.integers(1, 64), st.sampled_from(["signless", "signed", "unsigned"]))
float_types = st.sampled_from([FloatType(n) for n in ("f16", "bf16", "f32", "f64")])
qt_types = st.one_of(
    st.builds(qt.fixed, st.integers(1, 128), st.integers(-20, 140), st.booleans(),
              st.sampled_from(qt.QUANT_MODES), st.sampled_from(["wrap", "sat", "sat_zero", "sat_sym"])),
    st.builds(qt.integer, st.integers(1, 128), st.booleans()),
    st.just(qt.BipolarType()),
)
element_types = st.one_of(int_types, float_types, st.just(IndexType()), qt_types)
dims = st.lists(st.one_of(st.integers(0, 5), st.just(-1)), max_size=3)
tensor_types = st.builds(TensorType, dims, element_types)
scalar_types = st.one_of(element_types, st.just(NoneType()), tensor_types)

# parameters of unregistered dialects' attributes and types (``#other.attr<1, x, k = "s">``);
# bare identifiers that read back as types are left out, as are non-finite floats
idents = st.from_regex(r"[a-z_][a-z0-9_]{0,5}", fullmatch=True).filter(
    lambda s: not re.fullmatch(r"index|none|tensor|[su]?i[1-9][0-9]*|f16|bf16|f32|f64", s))
opaque_names = st.sampled_from(["other.attr", "o.x", "a.b.c"])


def params(leaf_types):
    leaf = st.one_of(st.integers(-(10**20), 10**20), st.floats(allow_nan=False, allow_infinity=False), idents,
                     st.builds(QuotedParam, st.text(max_size=4)), leaf_types,
                     st.builds(ShapedParam, st.lists(st.one_of(st.integers(0, 5), st.just(-1)), min_size=1,
                                                     max_size=2), element_types))
    nested = st.recursive(leaf, lambda inner: st.builds(OpaqueAttribute, opaque_names, st.lists(inner, max_size=2)),
                          max_leaves=3)
    return st.lists(st.one_of(nested, st.builds(KeyParam, idents, nested)), max_size=3)


types = st.recursive(
    scalar_types,
    lambda inner: st.one_of(
        st.builds(FunctionType, st.lists(inner, max_size=3), st.lists(inner, max_size=2)),
        st.builds(td.VecType, st.integers(1, 64), inner),
        st.builds(OpaqueType, opaque_names, params(inner)),
    ),
    max_leaves=4,
)

# ----------------------------------------------------------------------------- attributes

_TRICKY_TEXT = ["", "a\"b", "back\\slash", "line\nbreak\ttab", "ünïcödé ∑ 😀", "\x00\x7f", "\\0A", "%x", "loc"]
texts = st.one_of(st.sampled_from(_TRICKY_TEXT), st.text(max_size=8))
_KEYWORDS = ["true", "false", "unit", "loc", "dense", "index", "none", "tensor", "i32", "f32", "bf16", "x1x",
             "a.b$c", "_", "fused", "unknown", "dense_resource"]
keys = st.one_of(st.sampled_from(_KEYWORDS), st.from_regex(r"[A-Za-z_][\w$.]{0,6}", fullmatch=True), texts)


def int_range(t: IntegerType | IndexType | qt.FixedPointType | qt.BipolarType) -> tuple[int, int]:
    """The values an element of ``t`` can hold (as stored in a dense blob)."""
    bits = t.storage_bits
    if not t.storage_signed:
        return 0, (1 << bits) - 1
    return -(1 << (bits - 1)), (1 << (bits - 1)) - 1


def to_float_type(x: float, t: FloatType) -> float:
    """``x`` rounded to a value of ``t`` (bf16 truncates, keeping NaN payload bits in the top half)."""
    if t.name == "f64":
        return x
    if t.name == "f16":
        with np.errstate(over="ignore"):
            return float(np.float16(x))
    with np.errstate(over="ignore"):
        f = np.float32(x)
    if t.name == "bf16":
        bits = int(np.array(f).view(np.uint32)) & 0xFFFF0000
        return float(np.array(bits, dtype=np.uint32).view(np.float32))
    return float(f)


_SPECIAL_FLOATS = [0.0, -0.0, math.inf, -math.inf, math.nan, -math.nan, 5e-324, 1.4e-45, 6e-08, 1e-40, 1e300,
                   float(np.finfo(np.float32).max)]
raw_floats = st.one_of(st.sampled_from(_SPECIAL_FLOATS), st.floats(allow_nan=True, allow_infinity=True))


@st.composite
def float_attrs(draw) -> FloatAttr:
    t = draw(float_types)
    return FloatAttr(to_float_type(draw(raw_floats), t), t)


@st.composite
def int_attrs(draw) -> IntegerAttr:
    t = draw(st.one_of(int_types, st.just(IndexType())))
    lo, hi = int_range(t)
    if isinstance(t, IntegerType):  # an integer attribute's range follows its signedness
        lo = 0 if t.signedness == "unsigned" else -(1 << (t.width - 1))
        hi = (1 << (t.width - (t.signedness == "signed"))) - 1
    return IntegerAttr(draw(st.one_of(st.integers(lo, hi), st.sampled_from([lo, hi]))), t)


@st.composite
def dense_attrs(draw) -> DenseElementsAttr:
    elem = draw(element_types)
    shape = tuple(draw(st.lists(st.integers(0, 4), max_size=3)))
    n = math.prod(shape)
    if isinstance(elem, FloatType):
        values = st.builds(to_float_type, raw_floats, st.just(elem))
    else:
        values = st.integers(*int_range(elem))
    flat = [draw(values)] * n if draw(st.booleans()) else draw(st.lists(values, min_size=n, max_size=n))
    if isinstance(elem, FloatType):
        data = np.array(flat, dtype=np.float64)
    else:
        data = np.array(flat, dtype=object if any(not -(1 << 63) <= v < 1 << 63 for v in flat) else np.int64)
    return DenseElementsAttr(TensorType(shape, elem), data.reshape(shape))


locations = st.recursive(
    st.one_of(st.just(UNKNOWN), st.builds(NameLoc, texts),
              st.builds(FileLineColLoc, texts, st.integers(0, 10**6), st.integers(0, 999))),
    lambda inner: st.one_of(st.builds(NameLoc, texts, inner), st.builds(FusedLoc, st.lists(inner, min_size=1,
                                                                                           max_size=3))),
    max_leaves=4,
)

leaf_attrs = st.one_of(
    int_attrs(), float_attrs(), st.builds(BoolAttr, st.booleans()), st.builds(StringAttr, texts),
    st.just(UnitAttr()), st.builds(SymbolRefAttr, st.one_of(keys, texts)), st.builds(TypeAttr, types),
    dense_attrs(), locations, st.builds(OpaqueAttribute, opaque_names, params(types)),
)
attributes = st.recursive(
    leaf_attrs,
    lambda inner: st.one_of(st.builds(ArrayAttr, st.lists(inner, max_size=3)),
                            st.builds(DictionaryAttr, st.dictionaries(keys, inner, max_size=3))),
    max_leaves=6,
)
attr_dicts = st.dictionaries(keys, attributes, max_size=3)

# ----------------------------------------------------------------------------- modules

hints = st.one_of(st.none(), st.sampled_from(["x", "x_1", "arg0", "arg1", "a.b", "$v", "_", "y-z", "0", "x1"]))


class ModuleGen:
    """Builds one random module with ``draw``; every op only uses values it may see."""

    def __init__(self, draw, max_ops: int = 14) -> None:
        self.draw = draw
        self.ops_left = max_ops

    def module(self) -> ModuleOp:
        module = ModuleOp.create()
        self.fill(module.body.block, [], depth=0)
        return module

    def values(self, visible: list[Value], max_size: int = 3) -> list[Value]:
        if not visible:
            return []
        return self.draw(st.lists(st.sampled_from(visible), max_size=max_size))

    def named(self, values: list[Value]) -> None:
        for v in values:
            v.name_hint = self.draw(hints)

    def fill(self, block: Block, outer: list[Value], depth: int, terminator: bool = False) -> None:
        """Append random ops to ``block``; ``outer`` are the values visible from enclosing blocks."""
        self.named(block.args)
        local = list(block.args)
        kinds = ["pure", "effect", "groups", "unregistered"] + (["region", "isolated", "func"] if depth < 3 else [])
        for _ in range(self.draw(st.integers(0, 4))):
            if self.ops_left <= 0:
                break
            self.ops_left -= 1
            op = self.op(self.draw(st.sampled_from(kinds)), outer + local, depth)
            op.location = self.draw(locations)
            block.append(op)
            self.named(op.results)
            local.extend(op.results)
        if terminator and self.draw(st.booleans()):
            block.append(td.YieldOp.build(values=self.values(outer + local)))

    def op(self, kind: str, visible: list[Value], depth: int) -> Operation:
        draw = self.draw
        result_types = draw(st.lists(types, max_size=3))
        if kind == "pure":
            return td.PureOp.build(ins=self.values(visible), outs=result_types, value=draw(st.none() | attributes),
                                   attributes=draw(attr_dicts))
        if kind == "effect":
            return td.EffectOp.build(ins=self.values(visible), outs=result_types, attributes=draw(attr_dicts))
        if kind == "unregistered":
            cls = unregistered_op(draw(st.sampled_from(["other.op", "other.thing", "x.y.z"])))
            return cls(self.values(visible), result_types, draw(attr_dicts), draw(attr_dicts))
        if kind == "groups" and visible:
            maybe = draw(st.none() | st.sampled_from(visible))
            return td.GroupsOp.build(first=draw(st.sampled_from(visible)), maybe=maybe, rest=self.values(visible),
                                     out=draw(types), more=result_types,
                                     count=draw(st.none() | int_attrs()),
                                     label=draw(st.none() | st.builds(StringAttr, texts)))
        if kind == "region":
            regions = [self.region(visible, depth) for _ in range(draw(st.integers(0, 2)))]
            return td.RegionOp.build(ins=self.values(visible), outs=result_types, bodies=regions)
        if kind == "isolated":
            return td.IsolatedOp.build(body=self.region([], depth))
        if kind == "func":
            return self.func(depth)
        return td.EffectOp.build(ins=[], outs=result_types)

    def region(self, outer: list[Value], depth: int) -> Region:
        region = Region()
        for _ in range(self.draw(st.integers(0, 3))):
            block = region.add_block(Block(self.draw(st.lists(types, max_size=2))))
            self.fill(block, outer, depth + 1, terminator=True)
        return region

    def func(self, depth: int) -> FuncOp:
        func = FuncOp.create(self.draw(texts), self.draw(st.lists(types, max_size=3)), [])
        self.fill(func.entry, [], depth + 1)
        available = list(func.entry.args) + [r for op in func.entry.ops for r in op.results]
        returned = self.values(available)
        func.entry.append(ReturnOp.build(values=returned))
        func.properties["function_type"] = TypeAttr(FunctionType(func.type.inputs, [v.type for v in returned]))
        return func


@st.composite
def modules(draw) -> ModuleOp:
    return ModuleGen(draw).module()
