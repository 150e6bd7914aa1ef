"""Types and attributes: frozen, hashable values of the IR.

Builtin types and attributes print in MLIR's syntax (``i32``, ``tensor<4xf32>``,
``1 : i64``, ``dense<"0x..."> : tensor<2xf32>``).  A dialect defines its own with
:class:`ParametrizedType` / :class:`ParametrizedAttribute`: ``!dialect.name<params>``
and ``#dialect.name<params>``; the printer and parser handle the parameter list
generically and the class converts it from and to Python values.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence
from typing import Any, ClassVar

import attrs
import numpy as np


class Attribute:
    """Base of every attribute (types are attributes too, as in MLIR)."""

    __slots__ = ()


class TypeAttribute(Attribute):
    """Base of every type."""

    __slots__ = ()


class ElementType(TypeAttribute):
    """A type that can be the element of a tensor or of a dense constant.

    ``storage_bits`` and ``storage_signed`` say how raw element values are stored in
    hex blobs; ``is_float`` selects IEEE encoding.
    """

    __slots__ = ()
    is_float: ClassVar[bool] = False

    @property
    def storage_bits(self) -> int:
        raise NotImplementedError

    @property
    def storage_signed(self) -> bool:
        return True


# ----------------------------------------------------------------------------- builtin types

@attrs.frozen
class IntegerType(ElementType):
    """``i8`` (signless), ``si8`` (signed), ``ui8`` (unsigned)."""

    width: int
    signedness: str = "signless"  # "signless" | "signed" | "unsigned"

    @property
    def storage_bits(self) -> int:
        return self.width

    @property
    def storage_signed(self) -> bool:
        return self.signedness != "unsigned" and self.width > 1


@attrs.frozen
class FloatType(ElementType):
    """``f16``, ``bf16``, ``f32``, ``f64``."""

    name: str
    is_float: ClassVar[bool] = True

    @property
    def storage_bits(self) -> int:
        return {"f16": 16, "bf16": 16, "f32": 32, "f64": 64}[self.name]


@attrs.frozen
class IndexType(ElementType):
    @property
    def storage_bits(self) -> int:
        return 64


@attrs.frozen
class NoneType(TypeAttribute):
    pass


@attrs.frozen
class TensorType(TypeAttribute):
    """A ranked tensor; a dimension of -1 is dynamic (``?``)."""

    shape: tuple[int, ...] = attrs.field(converter=tuple)
    element: TypeAttribute

    @property
    def rank(self) -> int:
        return len(self.shape)

    @property
    def num_elements(self) -> int:
        return math.prod(self.shape)

    @property
    def has_static_shape(self) -> bool:
        return all(d >= 0 for d in self.shape)


@attrs.frozen
class FunctionType(TypeAttribute):
    inputs: tuple[TypeAttribute, ...] = attrs.field(converter=tuple)
    results: tuple[TypeAttribute, ...] = attrs.field(converter=tuple)


i1 = IntegerType(1)
i8 = IntegerType(8)
i32 = IntegerType(32)
i64 = IntegerType(64)
f16 = FloatType("f16")
bf16 = FloatType("bf16")
f32 = FloatType("f32")
f64 = FloatType("f64")
index = IndexType()


# ----------------------------------------------------------------------------- builtin attributes

@attrs.frozen
class IntegerAttr(Attribute):
    value: int
    type: TypeAttribute = i64

    def __attrs_post_init__(self) -> None:
        t = self.type
        if isinstance(t, IntegerType):
            lo = 0 if t.signedness == "unsigned" else -(1 << (t.width - 1))
            hi = (1 << (t.width - (t.signedness == "signed"))) - 1
            if not lo <= self.value <= hi:
                raise ValueError(f"integer {self.value} does not fit i{t.width} ({t.signedness})")


@attrs.frozen
class BoolAttr(Attribute):
    value: bool


@attrs.frozen
class FloatAttr(Attribute):
    value: float
    type: FloatType = f64

    def __eq__(self, other: object) -> bool:  # bitwise equality, so NaN == NaN and -0.0 != 0.0
        return (
            isinstance(other, FloatAttr)
            and self.type == other.type
            and struct.pack("<d", self.value) == struct.pack("<d", other.value)
        )

    def __hash__(self) -> int:
        return hash((struct.pack("<d", self.value), self.type))


@attrs.frozen
class StringAttr(Attribute):
    value: str


@attrs.frozen
class UnitAttr(Attribute):
    pass


@attrs.frozen
class SymbolRefAttr(Attribute):
    name: str


@attrs.frozen
class TypeAttr(Attribute):
    """A type used as an attribute value (``function_type = (f32) -> f32``)."""

    type: TypeAttribute


@attrs.frozen
class ArrayAttr(Attribute):
    value: tuple[Attribute, ...] = attrs.field(converter=tuple)

    def __iter__(self):
        return iter(self.value)

    def __len__(self) -> int:
        return len(self.value)


@attrs.frozen
class DictionaryAttr(Attribute):
    value: tuple[tuple[str, Attribute], ...] = attrs.field(converter=lambda d: tuple(sorted(dict(d).items())))

    def as_dict(self) -> dict[str, Attribute]:
        return dict(self.value)


def _freeze_array(a: Any) -> np.ndarray:
    arr = np.array(a, copy=True)
    arr.setflags(write=False)
    return arr


@attrs.frozen(eq=False)
class DenseElementsAttr(Attribute):
    """A constant tensor.  ``data`` holds numbers for float/int elements and raw
    integer codes (int64, or Python ints in an object array when wider) for
    fixed-point elements; it is read-only and compared bit for bit."""

    type: TensorType
    data: np.ndarray = attrs.field(converter=_freeze_array)

    def __attrs_post_init__(self) -> None:
        if tuple(self.data.shape) != tuple(self.type.shape):
            raise ValueError(f"dense data shape {self.data.shape} does not match type shape {self.type.shape}")
        elem = self.type.element
        if isinstance(elem, ElementType) and not elem.is_float and self.data.size:
            bits = elem.storage_bits
            lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if elem.storage_signed else (0, (1 << bits) - 1)
            if int(self.data.min()) < lo or int(self.data.max()) > hi:
                raise ValueError(f"dense values [{int(self.data.min())}, {int(self.data.max())}] do not fit "
                                 f"{bits}-bit {'signed' if elem.storage_signed else 'unsigned'} storage")

    def to_bytes(self) -> bytes:
        return encode_elements(self.data, self.type.element)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DenseElementsAttr) and self.type == other.type and self.to_bytes() == other.to_bytes()

    def __hash__(self) -> int:
        return hash((self.type, self.to_bytes()))


def _storage_bytes(elem: TypeAttribute) -> int:
    if not isinstance(elem, ElementType):
        raise ValueError(f"{elem} cannot be the element type of a dense constant")
    return max(1, (elem.storage_bits + 7) // 8)


_FLOAT_DTYPES = {"f16": np.float16, "f32": np.float32, "f64": np.float64}


def encode_elements(data: np.ndarray, elem: TypeAttribute) -> bytes:
    """Little-endian bytes of ``data``: IEEE for floats, two's complement otherwise."""
    if isinstance(elem, FloatType):
        if elem.name == "bf16":
            bits = np.asarray(data, dtype=np.float32).view(np.uint32) >> 16
            return bits.astype("<u2").tobytes()
        return np.asarray(data, dtype=_FLOAT_DTYPES[elem.name]).astype(
            np.dtype(_FLOAT_DTYPES[elem.name]).newbyteorder("<")).tobytes()
    nbytes = _storage_bytes(elem)
    flat = np.asarray(data).reshape(-1)
    if flat.dtype != object and nbytes in (1, 2, 4, 8):
        return flat.astype(np.int64).astype(f"<i{nbytes}" if nbytes < 8 else "<i8").tobytes()
    mask = (1 << (8 * nbytes)) - 1
    return b"".join((int(v) & mask).to_bytes(nbytes, "little") for v in flat)


def decode_elements(blob: bytes, type_: TensorType) -> np.ndarray:
    """Inverse of :func:`encode_elements`; a blob of one element is a splat."""
    elem = type_.element
    count = type_.num_elements
    if isinstance(elem, FloatType):
        if elem.name == "bf16":
            bits = np.frombuffer(blob, dtype="<u2").astype(np.uint32) << 16
            flat = bits.view(np.float32)
        else:
            flat = np.frombuffer(blob, dtype=np.dtype(_FLOAT_DTYPES[elem.name]).newbyteorder("<")).astype(
                _FLOAT_DTYPES[elem.name])
        esize = elem.storage_bits // 8
    else:
        esize = _storage_bytes(elem)
        signed = elem.storage_signed  # type: ignore[union-attr]
        bits = elem.storage_bits  # type: ignore[union-attr]
        flat = _decode_ints(blob, esize, bits, signed)
    if len(blob) != count * esize:
        if len(blob) == esize and count != 1:
            flat = np.repeat(flat, count) if flat.dtype != object else _int_array(list(flat) * count)
        else:
            raise ValueError(f"hex blob of {len(blob)} bytes does not hold {count} elements of {esize} bytes")
    return flat.reshape(type_.shape)


def _decode_ints(blob: bytes, esize: int, bits: int, signed: bool) -> np.ndarray:
    usable = len(blob) - len(blob) % esize
    if esize in (1, 2, 4, 8) and bits <= 62:  # 1 << 63 does not fit the int64 arithmetic below
        raw = np.frombuffer(blob[:usable], dtype=f"<u{esize}").astype(np.uint64)
        raw &= np.uint64((1 << bits) - 1)
        vals = raw.astype(np.int64)
        if signed:
            vals = np.where(vals >> (bits - 1) & 1, vals - (1 << bits), vals)
        return vals.astype(np.int64)
    values = []
    for k in range(usable // esize):
        v = int.from_bytes(blob[k * esize:(k + 1) * esize], "little") & ((1 << bits) - 1)
        if signed and v >> (bits - 1):
            v -= 1 << bits
        values.append(v)
    return _int_array(values)


def _int_array(values: Sequence[int]) -> np.ndarray:
    if all(-(1 << 63) <= v < (1 << 63) for v in values):
        return np.array(values, dtype=np.int64)
    arr = np.empty(len(values), dtype=object)
    arr[:] = values
    return arr


# ----------------------------------------------------------------------------- dialect-defined

@attrs.frozen
class KeyParam:
    """A ``key = value`` item inside a dialect type's parameter list."""

    key: str
    value: Any


@attrs.frozen
class ShapedParam:
    """A ``16x4x<type>`` item inside a dialect type's parameter list."""

    shape: tuple[int, ...] = attrs.field(converter=tuple)
    element: TypeAttribute


class ParamError(ValueError):
    """Raised by ``from_parameters`` for a parameter list the class cannot accept."""


class ParametrizedAttribute(Attribute):
    """A dialect attribute printed ``#dialect.name<p1,p2,...>``.

    Subclasses (frozen attrs classes) set ``name`` and implement ``parameters`` and
    ``from_parameters``.  Parameters are ints, floats, bare identifiers (str),
    quoted strings (:class:`QuotedParam`), attributes/types, :class:`ShapedParam`
    and :class:`KeyParam`.
    """

    __slots__ = ()
    name: ClassVar[str] = ""
    param_separator: ClassVar[str] = ", "

    def parameters(self) -> Sequence[Any]:
        raise NotImplementedError

    @classmethod
    def from_parameters(cls, params: Sequence[Any]) -> ParametrizedAttribute:
        raise NotImplementedError


class ParametrizedType(ParametrizedAttribute, TypeAttribute):
    """A dialect type printed ``!dialect.name<p1,p2,...>``."""

    __slots__ = ()


@attrs.frozen
class QuotedParam:
    value: str


@attrs.frozen
class OpaqueAttribute(Attribute):
    """An attribute or type of an unregistered dialect, kept as parsed parameters."""

    name: str
    params: tuple[Any, ...] = attrs.field(converter=tuple)
    is_type: bool = False


@attrs.frozen
class OpaqueType(OpaqueAttribute, TypeAttribute):
    is_type: bool = True
