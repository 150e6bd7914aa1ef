"""The ``qt`` dialect: tensors of fixed-point elements.

Element types (NUMERICS.md §2 has the arithmetic they follow):

``!qt.fixed<W,I[,Q[,O]]>`` / ``!qt.ufixed<W,I[,Q[,O]]>``
    ``ap_fixed`` / ``ap_ufixed``: a W-bit integer V (two's complement when signed)
    standing for V·2^-F, F = W - I.  I may be negative or larger than W; 1 <= W <= 1024.
    Q is the quantisation mode used when a value is converted *into* the type
    (``trn`` default, ``trn_zero``, ``rnd``, ``rnd_zero``, ``rnd_min_inf``, ``rnd_inf``,
    ``rnd_conv``), O the overflow mode (``wrap`` default, ``sat``, ``sat_zero``,
    ``sat_sym``).  Trailing defaults are not printed: ``!qt.fixed<8,1>``,
    ``!qt.fixed<8,1,rnd_conv,sat>``, ``!qt.ufixed<6,0,trn,sat>``.  ``ap_fixed``'s
    ``AP_WRAP`` with saturation bits N and ``AP_WRAP_SM`` are rejected.
``!qt.int<W>`` / ``!qt.uint<W>``
    ``ap_int`` / ``ap_uint``: numerically ``fixed<W,W>`` (trn, wrap), but arithmetic
    between two of them stays integer-typed and conversion *into* them truncates
    toward zero, as ``ap_int``'s constructor does.
``!qt.bipolar``
    ±1 in one bit: raw bit b stands for 2b − 1 (QONNX BipolarQuant); not an ``ap_fixed``.

Every fixed type knows its range, its C++ spelling and the exact result types of
``+ - *`` and negation (the header's full-precision operator types).

The ops on tensors of these types follow the types; docs/qt-dialect.md is their reference.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction
from typing import Any, ClassVar

import attrs

from fmlc.compiler.attributes import (
    ArrayAttr,
    Attribute,
    BoolAttr,
    DenseElementsAttr,
    ElementType,
    IntegerAttr,
    IntegerType,
    ParamError,
    ParametrizedType,
    StringAttr,
    f32,
    f64,
)
from fmlc.compiler.diagnostics import verify_error
from fmlc.compiler.dialect import Dialect, register_dialect
from fmlc.compiler.ir import Operation, Value
from fmlc.compiler.opdef import (
    AnyOf,
    ConstantLike,
    Constraint,
    EqualTo,
    Pure,
    TensorOf,
    op_def,
    operand,
    opt_operand,
    prop,
    result,
    var_operand,
    var_result,
)

# ----------------------------------------------------------------------------- modes

QUANT_MODES: tuple[str, ...] = ("trn", "trn_zero", "rnd", "rnd_zero", "rnd_min_inf", "rnd_inf", "rnd_conv")
OVERFLOW_MODES: tuple[str, ...] = ("wrap", "sat", "sat_zero", "sat_sym")
DEFAULT_QUANT = "trn"
DEFAULT_OVERFLOW = "wrap"
MAX_WIDTH = 1024  # AP_INT_MAX_W of the headers

_UNSUPPORTED_OVERFLOW = {
    "wrap_sm": "sign-magnitude wrap (AP_WRAP_SM) is not supported",
}


def _check_width(kind: str, width: object) -> None:
    if not isinstance(width, int) or isinstance(width, bool) or not 1 <= width <= MAX_WIDTH:
        raise ParamError(f"{kind}: width must be an integer in 1..{MAX_WIDTH}, got {width!r}")


def _check_modes(kind: str, quant: object, overflow: object) -> None:
    if quant not in QUANT_MODES:
        raise ParamError(
            f"{kind}: unknown quantisation mode {quant!r} (expected one of {', '.join(QUANT_MODES)})")
    if overflow in _UNSUPPORTED_OVERFLOW:
        raise ParamError(f"{kind}: {_UNSUPPORTED_OVERFLOW[overflow]}")  # type: ignore[index]
    if overflow not in OVERFLOW_MODES:
        raise ParamError(
            f"{kind}: unknown overflow mode {overflow!r} (expected one of {', '.join(OVERFLOW_MODES)})")


# ----------------------------------------------------------------------------- types


class FixedPointType(ParametrizedType, ElementType):
    """Numerics shared by the fixed and integer types; subclasses provide
    ``width``, ``int_bits``, ``signed``, ``quant`` and ``overflow``."""

    __slots__ = ()
    param_separator: ClassVar[str] = ","
    is_int: ClassVar[bool] = False
    width: int
    int_bits: int
    signed: bool
    quant: str
    overflow: str

    # -- range ---------------------------------------------------------------
    @property
    def frac_bits(self) -> int:
        """F = W − I: value = raw · 2^−F."""
        return self.width - self.int_bits

    @property
    def storage_bits(self) -> int:
        return self.width

    @property
    def storage_signed(self) -> bool:
        return self.signed

    @property
    def min_raw(self) -> int:
        return -(1 << (self.width - 1)) if self.signed else 0

    @property
    def max_raw(self) -> int:
        return (1 << (self.width - self.signed)) - 1

    @property
    def lsb(self) -> Fraction:
        """Value of one raw step, 2^−F (exact)."""
        return Fraction(2) ** -self.frac_bits

    @property
    def min(self) -> Fraction:
        return self.min_raw * self.lsb

    @property
    def max(self) -> Fraction:
        return self.max_raw * self.lsb

    @property
    def lsb_float(self) -> float:
        return math.ldexp(1.0, -self.frac_bits)

    @property
    def min_float(self) -> float:
        return float(self.min)

    @property
    def max_float(self) -> float:
        return float(self.max)

    # -- C++ -----------------------------------------------------------------
    @property
    def cpp(self) -> str:
        """C++ spelling, defaults omitted: ``ap_fixed<8,1,AP_RND_CONV,AP_SAT>``."""
        if self.is_int:
            return f"ap_{'' if self.signed else 'u'}int<{self.width}>"
        args = [str(self.width), str(self.int_bits)]
        if (self.quant, self.overflow) != (DEFAULT_QUANT, DEFAULT_OVERFLOW):
            args.append(f"AP_{self.quant.upper()}")
        if self.overflow != DEFAULT_OVERFLOW:
            args.append(f"AP_{self.overflow.upper()}")
        return f"ap_{'' if self.signed else 'u'}fixed<{','.join(args)}>"

    # -- construction helpers --------------------------------------------------
    def with_modes(self, quant: str = DEFAULT_QUANT, overflow: str = DEFAULT_OVERFLOW) -> FixedPointType:
        """The same format with other modes (an int type becomes ``fixed<W,W>``)."""
        if self.is_int and (quant, overflow) == (DEFAULT_QUANT, DEFAULT_OVERFLOW):
            return self
        return fixed(self.width, self.int_bits, self.signed, quant, overflow)

    def _result(self, other: FixedPointType, width: int, int_bits: int, signed: bool) -> FixedPointType:
        if self.is_int and other.is_int:
            return integer(width, signed)
        return fixed(width, int_bits, signed)

    # -- full-precision operator result types (header RType) -----------------
    def _add_int_bits(self, other: FixedPointType) -> int:
        return max(self.int_bits + (other.signed and not self.signed),
                   other.int_bits + (self.signed and not other.signed)) + 1

    def add_type(self, other: FixedPointType) -> FixedPointType:
        """Type of ``a + b``: I = max(I1 + [S2∧¬S1], I2 + [S1∧¬S2]) + 1, F = max(F1, F2)."""
        i = self._add_int_bits(other)
        return self._result(other, i + max(self.frac_bits, other.frac_bits), i, self.signed or other.signed)

    def sub_type(self, other: FixedPointType) -> FixedPointType:
        """Type of ``a - b``: the width of ``a + b``, always signed."""
        i = self._add_int_bits(other)
        return self._result(other, i + max(self.frac_bits, other.frac_bits), i, True)

    def mul_type(self, other: FixedPointType) -> FixedPointType:
        """Type of ``a * b``: W = W1 + W2, I = I1 + I2, signed if either is."""
        return self._result(other, self.width + other.width, self.int_bits + other.int_bits,
                            self.signed or other.signed)

    def neg_type(self) -> FixedPointType:
        """Type of ``-a``: ``ap_fixed<W+1,I+1>``; for ``ap_int`` it is ``0 - a`` with 0 an ``ap_uint<1>``."""
        if self.is_int:
            return integer(max(1 + self.signed, self.width) + 1, True)
        return fixed(self.width + 1, self.int_bits + 1, True)

    def sum_type(self, count: int) -> FixedPointType:
        """Type holding any sum of ``count`` values: ceil(log2 count) more integer bits.

        That is the type of a balanced tree of ``+`` over same-signed operands, and
        the narrowest type that holds every such sum.
        """
        if count < 1:
            raise ValueError(f"sum of {count} values")
        extra = (count - 1).bit_length()
        return self._result(self, self.width + extra, self.int_bits + extra, self.signed)


def _fixed_from_parameters(cls: type[FixedType], params: Sequence[Any]) -> FixedType:
    if not 2 <= len(params) <= 4:
        if len(params) == 5:
            raise ParamError(f"{cls.name}: saturation bits (AP_WRAP with N) are not supported")
        raise ParamError(f"{cls.name} expects <W,I[,quant[,overflow]]>, got {len(params)} parameters")
    width, int_bits, *modes = params
    if not isinstance(int_bits, int) or isinstance(int_bits, bool):
        raise ParamError(f"{cls.name}: integer bits must be an integer, got {int_bits!r}")
    quant = modes[0] if modes else DEFAULT_QUANT
    overflow = modes[1] if len(modes) > 1 else DEFAULT_OVERFLOW
    return cls(width, int_bits, quant, overflow)


@attrs.frozen
class FixedType(FixedPointType):
    """``!qt.fixed<W,I,Q,O>``: ``ap_fixed<W,I,Q,O>``."""

    name: ClassVar[str] = "qt.fixed"
    signed: ClassVar[bool] = True  # type: ignore[misc]
    width: int
    int_bits: int
    quant: str = DEFAULT_QUANT
    overflow: str = DEFAULT_OVERFLOW

    def __attrs_post_init__(self) -> None:
        _check_width(self.name, self.width)
        if not isinstance(self.int_bits, int) or isinstance(self.int_bits, bool):
            raise ParamError(f"{self.name}: integer bits must be an integer, got {self.int_bits!r}")
        _check_modes(self.name, self.quant, self.overflow)

    def parameters(self) -> tuple[Any, ...]:
        params: tuple[Any, ...] = (self.width, self.int_bits)
        if self.overflow != DEFAULT_OVERFLOW:
            return (*params, self.quant, self.overflow)
        if self.quant != DEFAULT_QUANT:
            return (*params, self.quant)
        return params

    @classmethod
    def from_parameters(cls, params: Sequence[Any]) -> FixedType:
        return _fixed_from_parameters(cls, params)


@attrs.frozen
class UFixedType(FixedType):
    """``!qt.ufixed<W,I,Q,O>``: ``ap_ufixed<W,I,Q,O>``."""

    name: ClassVar[str] = "qt.ufixed"
    signed: ClassVar[bool] = False  # type: ignore[misc]


@attrs.frozen
class IntType(FixedPointType):
    """``!qt.int<W>``: ``ap_int<W>``."""

    name: ClassVar[str] = "qt.int"
    is_int: ClassVar[bool] = True
    signed: ClassVar[bool] = True  # type: ignore[misc]
    quant: ClassVar[str] = DEFAULT_QUANT  # type: ignore[misc]
    overflow: ClassVar[str] = DEFAULT_OVERFLOW  # type: ignore[misc]
    width: int

    def __attrs_post_init__(self) -> None:
        _check_width(self.name, self.width)

    @property
    def int_bits(self) -> int:  # type: ignore[override]
        return self.width

    def parameters(self) -> tuple[Any, ...]:
        return (self.width,)

    @classmethod
    def from_parameters(cls, params: Sequence[Any]) -> IntType:
        if len(params) != 1:
            raise ParamError(f"{cls.name} expects <W>, got {len(params)} parameters")
        return cls(params[0])


@attrs.frozen
class UIntType(IntType):
    """``!qt.uint<W>``: ``ap_uint<W>``."""

    name: ClassVar[str] = "qt.uint"
    signed: ClassVar[bool] = False  # type: ignore[misc]


@attrs.frozen
class BipolarType(ParametrizedType, ElementType):
    """``!qt.bipolar``: one bit b standing for 2b − 1 (so ±1)."""

    name: ClassVar[str] = "qt.bipolar"
    param_separator: ClassVar[str] = ","
    width: ClassVar[int] = 1
    cpp: ClassVar[str] = "ap_uint<1>"
    min_raw: ClassVar[int] = 0
    max_raw: ClassVar[int] = 1

    @property
    def storage_bits(self) -> int:
        return 1

    @property
    def storage_signed(self) -> bool:
        return False

    @property
    def min(self) -> Fraction:
        return Fraction(-1)

    @property
    def max(self) -> Fraction:
        return Fraction(1)

    def parameters(self) -> tuple[Any, ...]:
        return ()

    @classmethod
    def from_parameters(cls, params: Sequence[Any]) -> BipolarType:
        if params:
            raise ParamError(f"{cls.name} takes no parameters, got {len(params)}")
        return cls()


def fixed(width: int, int_bits: int, signed: bool = True, quant: str = DEFAULT_QUANT,
          overflow: str = DEFAULT_OVERFLOW) -> FixedType:
    """``FixedType`` or ``UFixedType`` by ``signed``."""
    return (FixedType if signed else UFixedType)(width, int_bits, quant, overflow)


def integer(width: int, signed: bool = True) -> IntType:
    """``IntType`` or ``UIntType`` by ``signed``."""
    return (IntType if signed else UIntType)(width)


QT_TYPES: tuple[type[ParametrizedType], ...] = (FixedType, UFixedType, IntType, UIntType, BipolarType)

# ----------------------------------------------------------------------------- ops
#
# Every op is Pure and works on static-shape tensors whose fixed-point data are raw
# codes.  Arithmetic ops compute their mathematically exact result and convert it into
# the result element type with that type's quantisation and overflow modes; the result
# types are the producer's choice.  docs/qt-dialect.md is the reference.


def conversion_trips_assert(src: FixedPointType | BipolarType, dst: FixedPointType | BipolarType) -> bool:
    """Whether ``dst y = x;`` (x of type ``src``) aborts C-simulation in the headers.

    ``ap_fixed_base::operator=`` reads bit F_src − F_dst − 1 of the source (``get_bit``
    asserts the index is < W_src) whenever it rounds, i.e. for every quantisation mode
    but AP_TRN, and but AP_TRN_ZERO from an unsigned source.  Verified by running the
    header over a grid of pairs (tests/runtime/test_fixed_exhaustive.py::test_assertion_condition):
    it aborts exactly when that holds and F_src − F_dst > W_src (F_src − F_dst = W_src is
    fine: the bit read is the sign bit).  Sources that are ap_int count as F_src = 0;
    conversions into ap_int or bipolar never round, so never trip it.  Built with -DNDEBUG
    the assertion is gone but the read is still out of range, so avoid these regardless.
    """
    if isinstance(src, BipolarType):
        src = integer(2)
    if isinstance(dst, BipolarType) or dst.is_int:
        return False
    rounds = dst.quant != "trn" and not (dst.quant == "trn_zero" and not src.signed)
    return rounds and src.frac_bits - dst.frac_bits > src.width


def union_type(*types: FixedPointType | BipolarType) -> FixedPointType:
    """A signed type holding every value of each of ``types`` exactly (bipolar as ``!qt.int<2>``)."""
    fts = [integer(2) if isinstance(t, BipolarType) else t for t in types]
    frac = max(t.frac_bits for t in fts)
    ib = max(t.int_bits for t in fts) + 1
    if all(t.is_int for t in fts):
        return integer(ib)
    return fixed(ib + frac, ib, True)


def type_for_range(lo: int, hi: int, frac: int, quant: str = DEFAULT_QUANT,
                   overflow: str = DEFAULT_OVERFLOW) -> FixedType:
    """The narrowest fixed type with ``frac`` fractional bits holding raw codes [lo, hi]
    (unsigned when lo >= 0)."""
    if lo < 0:
        width = max((-lo - 1).bit_length(), hi.bit_length()) + 1
    else:
        width = max(hi.bit_length(), 1)
    return fixed(width, width - frac, lo < 0, quant, overflow)


def range_type(lo: Fraction, hi: Fraction, frac: int) -> FixedPointType:
    """:func:`type_for_range` for the values [lo, hi] (multiples of 2^-frac)."""
    a, b = lo * 2**frac, hi * 2**frac
    if a.denominator != 1 or b.denominator != 1:
        raise ValueError(f"[{lo}, {hi}] is not on the 2^-{frac} grid")
    return type_for_range(int(a), int(b), frac)


def sum_type(terms: Sequence[tuple[FixedPointType | BipolarType, int]]) -> FixedPointType:
    """The exact type of a sum of ``count`` values of each ``type`` in ``terms``."""
    fts = [(integer(2) if isinstance(t, BipolarType) else t, n) for t, n in terms if n > 0]
    if not fts:
        return fixed(1, 1, False)
    frac = max(t.frac_bits for t, _ in fts)
    lo = sum((t.min * n for t, n in fts), Fraction(0))
    hi = sum((t.max * n for t, n in fts), Fraction(0))
    return range_type(lo, hi, frac)


def const_indices(v: Value) -> Any:
    """The integer values of an index tensor a ``qt.const`` defines (int64 array), else None."""
    import numpy as np

    raw = const_value(v)
    if raw is None:
        return None
    return np.asarray(raw, np.int64) << -v.type.element.frac_bits  # type: ignore[attr-defined]


def destination_counts(indices: Any, n: int) -> Any:
    """How many of ``indices`` (normalised: negative from the end, out of range dropped) name
    each of ``n`` destinations."""
    import numpy as np

    i = np.asarray(indices, np.int64).ravel()
    pos = np.where(i < 0, i + n, i)
    return np.bincount(pos[(pos >= 0) & (pos < n)], minlength=n)


def in_degree(indices: Any, n: int) -> int:
    """The most updates one of ``n`` destinations receives."""
    return int(destination_counts(indices, n).max(initial=0))


def product_type(factors: Sequence[FixedPointType]) -> FixedPointType:
    """A type holding exactly the product of one value of each of ``factors`` and every
    partial product of them (1 when there are none)."""
    if not factors:
        return fixed(1, 1, False)
    biggest = Fraction(1)
    for t in factors:
        biggest *= max(abs(t.min), abs(t.max), Fraction(1))
    frac = sum(t.frac_bits for t in factors)
    signed = any(t.signed for t in factors)
    return range_type(-biggest if signed else Fraction(0), biggest, frac)


def const_value(v: Value) -> Any:
    """The raw codes (a numpy array) of ``v`` when a ``qt.const`` defines it, else None."""
    owner = getattr(v, "op", None)
    return owner.value.data if isinstance(owner, ConstOp) else None


def softmax_diff_type(input_elem: FixedPointType) -> FixedPointType:
    """Type of d = x − max(x) in ``qt.softmax``: ``input_elem.sub_type(input_elem)``."""
    return input_elem.sub_type(input_elem)


def softmax_sum_type(exp_elem: FixedPointType, n: int) -> FixedPointType:
    """Type of the sum of ``n`` exp-table entries in ``qt.softmax``: ``exp_elem.sum_type(n)``."""
    return exp_elem.sum_type(n)


def window_output_size(size: int, kernel: int, stride: int, dilation: int, pad_begin: int, pad_end: int) -> int:
    """Output extent of a conv/pool window along one spatial dim:
    floor((S + pb + pe − dil·(K − 1) − 1) / stride) + 1."""
    return (size + pad_begin + pad_end - dilation * (kernel - 1) - 1) // stride + 1


def broadcast_shape(a: Sequence[int], b: Sequence[int]) -> tuple[int, ...] | None:
    """numpy's broadcast of two shapes, or None when they do not broadcast."""
    n = max(len(a), len(b))
    pa, pb = (1,) * (n - len(a)) + tuple(a), (1,) * (n - len(b)) + tuple(b)
    out = []
    for x, y in zip(pa, pb, strict=True):
        if x != y and 1 not in (x, y):
            return None
        out.append(y if x == 1 else x)
    return tuple(out)


def slice_indices(start: int, end: int, step: int) -> range:
    """The indices ``qt.slice`` takes along one dim: Python's ``range(start, end, step)``."""
    return range(start, end, step)


@attrs.frozen
class _Element(Constraint):
    """The value is an element type of one of ``classes`` (``text`` names them)."""

    classes: tuple[type, ...]
    text: str

    def check(self, value: Attribute) -> str | None:
        return None if isinstance(value, self.classes) else f"expected {self.text}, got {_fmt(value)}"

    def __str__(self) -> str:
        return self.text


QT_ELEMENT = _Element((FixedPointType, BipolarType), "a !qt element type")
FIXED_ELEMENT = _Element((FixedPointType,), "a fixed-point type (!qt.fixed, !qt.ufixed, !qt.int or !qt.uint)")
BIPOLAR_ELEMENT = _Element((BipolarType,), "!qt.bipolar")
QTensor = TensorOf(QT_ELEMENT)
FixedTensor = TensorOf(FIXED_ELEMENT)
BipolarTensor = TensorOf(BIPOLAR_ELEMENT)
FloatTensor = TensorOf(AnyOf([EqualTo(f32), EqualTo(f64)]))
HOST_ELEMENT = AnyOf([EqualTo(f32), EqualTo(f64), _Element((IntegerType,), "an integer type")])
HostTensor = TensorOf(HOST_ELEMENT)  # a graph input: float, or integer indices


def _fmt(a: Attribute) -> str:
    from fmlc.compiler.printer import format_attribute

    return format_attribute(a)


def _dims(shape: Sequence[int]) -> str:
    return "[" + ", ".join(str(d) for d in shape) + "]"


def _shape(v: Value) -> tuple[int, ...]:
    return v.type.shape  # type: ignore[attr-defined,no-any-return]


def _elem(v: Value) -> Attribute:
    return v.type.element  # type: ignore[attr-defined,no-any-return]


def _ints(op: Operation, name: str, length: int | None = None, minimum: int | None = None) -> list[int]:
    """The integers of array property ``name``, checked for length and lower bound."""
    attr = getattr(op, name)
    if not isinstance(attr, ArrayAttr) or not all(isinstance(a, IntegerAttr) for a in attr):
        raise verify_error(op, f"property '{name}' must be an array of integers")
    values = [a.value for a in attr]  # type: ignore[attr-defined]
    if length is not None and len(values) != length:
        raise verify_error(op, f"property '{name}' must have {length} entries, has {len(values)}")
    if minimum is not None and any(v < minimum for v in values):
        raise verify_error(op, f"property '{name}' entries must be >= {minimum}, got {values}")
    return values


def _int(op: Operation, name: str, minimum: int | None = None, maximum: int | None = None) -> int:
    value: int = getattr(op, name).value
    if minimum is not None and value < minimum or maximum is not None and value > maximum:
        bounds = f"in {minimum}..{maximum}" if maximum is not None else f">= {minimum}"
        raise verify_error(op, f"property '{name}' must be {bounds}, got {value}")
    return value


def _axis(op: Operation, rank: int, name: str = "axis") -> int:
    axis: int = getattr(op, name).value
    if not 0 <= axis < rank:
        raise verify_error(op, f"property '{name}' = {axis} is not a dimension of a rank-{rank} tensor")
    return axis


def _same_shape(op: Operation, what: str, got: Sequence[int], want: Sequence[int]) -> None:
    if tuple(got) != tuple(want):
        raise verify_error(op, f"{what} shape {_dims(got)} should be {_dims(want)}")


def _same_element(op: Operation, what: str, got: Attribute, want: Attribute, of: str) -> None:
    if got != want:
        raise verify_error(op, f"{what} element type {_fmt(got)} differs from {of}'s {_fmt(want)}")


def _table(op: Operation, name: str) -> DenseElementsAttr:
    table: DenseElementsAttr = getattr(op, name)
    if table.type.rank != 1 or table.type.shape[0] < 1:
        raise verify_error(op, f"property '{name}' must be a non-empty rank-1 tensor, got {_fmt(table.type)}")
    if not isinstance(table.type.element, FixedPointType | BipolarType):
        raise verify_error(op, f"property '{name}' must hold a !qt element type, got {_fmt(table.type.element)}")
    return table


def _window_dims(op: Operation, in_shape: Sequence[int], kernel: Sequence[int], check_padding: bool) -> list[int]:
    """Spatial output extents of a conv/pool op over [N, *S, C] (``strides``,
    ``dilations``, ``pads`` properties); ``check_padding`` rejects windows lying
    entirely in the padding."""
    ns = len(kernel)
    strides = _ints(op, "strides", ns, 1)
    dilations = _ints(op, "dilations", ns, 1)
    pads = _ints(op, "pads", 2 * ns, 0)
    out = []
    for i in range(ns):
        size, k, s, d, pb, pe = in_shape[1 + i], kernel[i], strides[i], dilations[i], pads[i], pads[ns + i]
        o = window_output_size(size, k, s, d, pb, pe)
        if o < 1:
            raise verify_error(op, f"spatial dim {i}: a window of {k} (dilation {d}) does not fit size {size} "
                                   f"padded by {pb}+{pe}")
        if check_padding:
            for j in range(o):
                first = j * s - pb
                if not any(0 <= first + t * d < size for t in range(k)):
                    raise verify_error(op, f"spatial dim {i}: output position {j} has a window entirely "
                                           "in the padding")
        out.append(o)
    return out


def _verify_matmul(op: Operation) -> int:
    """Checks input [..., K], weight [K, N] and output [..., N]; returns N."""
    x, w = _shape(op.input), _shape(op.weight)  # type: ignore[attr-defined]
    if len(x) < 1:
        raise verify_error(op, "input must have rank >= 1")
    if len(w) != 2:
        raise verify_error(op, f"weight must have rank 2, got shape {_dims(w)}")
    if w[0] != x[-1]:
        raise verify_error(op, f"weight shape {_dims(w)} does not match the input's last dim {x[-1]}")
    _same_shape(op, "result", _shape(op.output), (*x[:-1], w[1]))  # type: ignore[attr-defined]
    return w[1]


class _Unary(Operation):
    """Checks that ``output`` has ``input``'s shape."""

    def verify_(self) -> None:
        _same_shape(self, "result", _shape(self.output), _shape(self.input))  # type: ignore[attr-defined]


@op_def("qt.const")
class ConstOp(Operation):
    """A constant tensor of raw codes."""

    value = prop(DenseElementsAttr)
    output = result(QTensor)
    traits = (Pure(), ConstantLike())

    def verify_(self) -> None:
        if self.output.type != self.value.type:
            raise verify_error(self, f"result type {_fmt(self.output.type)} differs from the value's type "
                                     f"{_fmt(self.value.type)}")


@op_def("qt.from_float")
class FromFloatOp(_Unary):
    """Float (or integer) → qt: the exact host value converted into the result type."""

    input = operand(HostTensor)
    output = result(QTensor)
    traits = (Pure(),)


@op_def("qt.to_float")
class ToFloatOp(_Unary):
    """qt → float, rounded to nearest even (or, for an integer-valued input, → an integer host type)."""

    input = operand(QTensor)
    output = result(HostTensor)
    traits = (Pure(),)


@op_def("qt.cast")
class CastOp(_Unary):
    """qt → qt conversion."""

    input = operand(QTensor)
    output = result(QTensor)
    traits = (Pure(),)


@op_def("qt.dense")
class DenseOp(Operation):
    """``input @ weight + bias``: [..., K] × [K, N] (+ [N]) → [..., N]."""

    input = operand(FixedTensor)
    weight = operand(FixedTensor)
    bias = opt_operand(FixedTensor)
    output = result(QTensor)
    traits = (Pure(),)

    def verify_(self) -> None:
        n = _verify_matmul(self)
        if self.bias is not None:
            _same_shape(self, "bias", _shape(self.bias), (n,))


class _WindowOp(Operation):
    """Conv and pool: channels-last [N, *S, C] inputs."""

    def _spatial(self, min_dims: int, max_dims: int | None) -> tuple[int, ...]:
        shape = _shape(self.input)  # type: ignore[attr-defined]
        ns = len(shape) - 2
        if ns < min_dims or max_dims is not None and ns > max_dims:
            want = f"{min_dims} or {max_dims}" if max_dims is not None else f"at least {min_dims}"
            raise verify_error(self, f"input must be [N, *spatial, C] with {want} spatial dims, got shape "
                                     f"{_dims(shape)}")
        return shape


@op_def("qt.conv")
class ConvOp(_WindowOp):
    """Channels-last grouped convolution with zero padding."""

    input = operand(FixedTensor)
    weight = operand(FixedTensor)
    bias = opt_operand(FixedTensor)
    output = result(QTensor)
    strides = prop(ArrayAttr)
    dilations = prop(ArrayAttr)
    pads = prop(ArrayAttr)
    groups = prop(IntegerAttr, default=IntegerAttr(1))
    traits = (Pure(),)

    def verify_(self) -> None:
        x = self._spatial(1, 2)
        ns = len(x) - 2
        w = _shape(self.weight)
        if len(w) != ns + 2:
            raise verify_error(self, f"weight must be [*kernel, C/groups, OC] of rank {ns + 2}, got shape {_dims(w)}")
        groups = _int(self, "groups", 1)
        c, oc = x[-1], w[-1]
        if c % groups or oc % groups:
            raise verify_error(self, f"groups = {groups} must divide the input channels {c} and the output "
                                     f"channels {oc}")
        if w[-2] != c // groups:
            raise verify_error(self, f"weight shape {_dims(w)}: dim {ns} must be C/groups = {c // groups}")
        if min(w[:ns]) < 1:
            raise verify_error(self, f"weight shape {_dims(w)}: kernel dims must be >= 1")
        spatial = _window_dims(self, x, w[:ns], check_padding=False)
        if self.bias is not None:
            _same_shape(self, "bias", _shape(self.bias), (oc,))
        _same_shape(self, "result", _shape(self.output), (x[0], *spatial, oc))


@op_def("qt.add")
class AddOp(Operation):
    """Elementwise exact ``lhs + rhs`` (numpy broadcasting)."""

    lhs = operand(QTensor)
    rhs = operand(QTensor)
    output = result(QTensor)
    traits = (Pure(),)

    def verify_(self) -> None:
        a, b = _shape(self.lhs), _shape(self.rhs)
        shape = broadcast_shape(a, b)
        if shape is None:
            raise verify_error(self, f"operand shapes {_dims(a)} and {_dims(b)} do not broadcast")
        _same_shape(self, "result", _shape(self.output), shape)


@op_def("qt.sub")
class SubOp(AddOp):
    """Elementwise exact ``lhs - rhs`` (numpy broadcasting)."""


@op_def("qt.mul")
class MulOp(AddOp):
    """Elementwise exact ``lhs * rhs`` (numpy broadcasting)."""


@op_def("qt.relu")
class ReluOp(_Unary):
    """max(x, 0)."""

    input = operand(QTensor)
    output = result(QTensor)
    traits = (Pure(),)


@op_def("qt.leaky_relu")
class LeakyReluOp(_Unary):
    """x if x >= 0 else alpha·x (alpha broadcast to the input: ONNX LeakyRelu, PRelu)."""

    input = operand(QTensor)
    alpha = operand(QTensor)
    output = result(QTensor)
    traits = (Pure(),)

    def verify_(self) -> None:
        super().verify_()
        x, a = _shape(self.input), _shape(self.alpha)
        if broadcast_shape(x, a) != tuple(x):
            raise verify_error(self, f"alpha shape {_dims(a)} does not broadcast to the input shape {_dims(x)}")


@op_def("qt.clip")
class ClipOp(_Unary):
    """min(max(x, min), max) with 0-d bounds."""

    input = operand(QTensor)
    min = operand(TensorOf(QT_ELEMENT, rank=0))
    max = operand(TensorOf(QT_ELEMENT, rank=0))
    output = result(QTensor)
    traits = (Pure(),)


class _PoolOp(_WindowOp):
    def _verify_pool(self) -> None:
        x = self._spatial(1, None)
        ns = len(x) - 2
        kernel = _ints(self, "kernel", ns, 1)
        spatial = _window_dims(self, x, kernel, check_padding=True)
        _same_shape(self, "result", _shape(self.output), (x[0], *spatial, x[-1]))  # type: ignore[attr-defined]


@op_def("qt.max_pool")
class MaxPoolOp(_PoolOp):
    """Windowed maximum over [N, *S, C]; padded positions never win."""

    input = operand(QTensor)
    output = result(QTensor)
    kernel = prop(ArrayAttr)
    strides = prop(ArrayAttr)
    dilations = prop(ArrayAttr)
    pads = prop(ArrayAttr)
    traits = (Pure(),)

    def verify_(self) -> None:
        self._verify_pool()


@op_def("qt.avg_pool")
class AvgPoolOp(_PoolOp):
    """Windowed exact mean over [N, *S, C]."""

    input = operand(FixedTensor)
    output = result(QTensor)
    kernel = prop(ArrayAttr)
    strides = prop(ArrayAttr)
    dilations = prop(ArrayAttr)
    pads = prop(ArrayAttr)
    count_include_pad = prop(IntegerAttr, default=IntegerAttr(0))
    traits = (Pure(),)

    def verify_(self) -> None:
        self._verify_pool()
        _int(self, "count_include_pad", 0, 1)


@op_def("qt.reshape")
class ReshapeOp(Operation):
    """Same elements in row-major order, another shape."""

    input = operand(QTensor)
    output = result(QTensor)
    traits = (Pure(),)

    def verify_(self) -> None:
        _same_element(self, "result", _elem(self.output), _elem(self.input), "the input")
        if self.output.type.num_elements != self.input.type.num_elements:
            raise verify_error(self, f"cannot reshape {_dims(_shape(self.input))} into {_dims(_shape(self.output))}")


@op_def("qt.transpose")
class TransposeOp(Operation):
    """output[i_perm[0], ..., i_perm[r-1]] = input[i_0, ..., i_{r-1}] (numpy ``transpose``)."""

    input = operand(QTensor)
    output = result(QTensor)
    perm = prop(ArrayAttr)
    traits = (Pure(),)

    def verify_(self) -> None:
        x = _shape(self.input)
        perm = _ints(self, "perm", len(x))
        if sorted(perm) != list(range(len(x))):
            raise verify_error(self, f"property 'perm' {perm} is not a permutation of 0..{len(x) - 1}")
        _same_element(self, "result", _elem(self.output), _elem(self.input), "the input")
        _same_shape(self, "result", _shape(self.output), [x[p] for p in perm])


def _verify_pieces(op: Operation, whole: Value, pieces: Sequence[Value], piece: str, whole_name: str) -> None:
    """``pieces`` concatenated along ``axis`` make ``whole`` (concat's inputs, split's results)."""
    if not pieces:
        raise verify_error(op, f"needs at least one {piece}")
    out = _shape(whole)
    axis = _axis(op, len(out))
    total = 0
    for k, v in enumerate(pieces):
        _same_element(op, f"{piece} #{k}", _elem(v), _elem(whole), f"the {whole_name}")
        s = _shape(v)
        if len(s) != len(out) or any(a != b for i, (a, b) in enumerate(zip(s, out, strict=False)) if i != axis):
            raise verify_error(op, f"{piece} #{k} shape {_dims(s)} does not fit the {whole_name} {_dims(out)} "
                                   f"along axis {axis}")
        total += s[axis]
    if total != out[axis]:
        raise verify_error(op, f"{piece}s sum to {total} along axis {axis}, the {whole_name} has {out[axis]}")


@op_def("qt.concat")
class ConcatOp(Operation):
    """Concatenation along ``axis``."""

    inputs = var_operand(QTensor)
    output = result(QTensor)
    axis = prop(IntegerAttr)
    traits = (Pure(),)

    def verify_(self) -> None:
        _verify_pieces(self, self.output, self.inputs, "input", "result")


@op_def("qt.split")
class SplitOp(Operation):
    """Consecutive pieces along ``axis``, sized by the result shapes."""

    input = operand(QTensor)
    outputs = var_result(QTensor)
    axis = prop(IntegerAttr)
    traits = (Pure(),)

    def verify_(self) -> None:
        _verify_pieces(self, self.input, self.outputs, "result", "input")


@op_def("qt.slice")
class SliceOp(Operation):
    """Strided slice: along dim i the indices ``range(starts[i], ends[i], steps[i])``."""

    input = operand(QTensor)
    output = result(QTensor)
    starts = prop(ArrayAttr)
    ends = prop(ArrayAttr)
    steps = prop(ArrayAttr)
    traits = (Pure(),)

    def verify_(self) -> None:
        x = _shape(self.input)
        starts = _ints(self, "starts", len(x), 0)
        ends = _ints(self, "ends", len(x), -1)
        steps = _ints(self, "steps", len(x))
        want = []
        for i, (d, b, e, s) in enumerate(zip(x, starts, ends, steps, strict=True)):
            if s == 0:
                raise verify_error(self, f"dim {i}: step must not be 0")
            r = slice_indices(b, e, s)
            if len(r) and not (0 <= min(r[0], r[-1]) and max(r[0], r[-1]) < d):
                raise verify_error(self, f"dim {i}: range({b}, {e}, {s}) leaves 0..{d - 1}")
            want.append(len(r))
        _same_element(self, "result", _elem(self.output), _elem(self.input), "the input")
        _same_shape(self, "result", _shape(self.output), want)


@op_def("qt.pad")
class PadOp(Operation):
    """Constant padding: ``pads`` = begins then ends, one per dim."""

    input = operand(QTensor)
    value = operand(TensorOf(QT_ELEMENT, rank=0))
    output = result(QTensor)
    pads = prop(ArrayAttr)
    traits = (Pure(),)

    def verify_(self) -> None:
        x = _shape(self.input)
        pads = _ints(self, "pads", 2 * len(x), 0)
        _same_element(self, "value", _elem(self.value), _elem(self.input), "the input")
        _same_element(self, "result", _elem(self.output), _elem(self.input), "the input")
        r = len(x)
        _same_shape(self, "result", _shape(self.output), [d + pads[i] + pads[r + i] for i, d in enumerate(x)])


@op_def("qt.lut")
class LutOp(_Unary):
    """Table lookup: table[clamp((raw(x) − start) >> shift, 0, T − 1)]."""

    input = operand(FixedTensor)
    output = result(QTensor)
    start = prop(IntegerAttr)
    shift = prop(IntegerAttr)
    table = prop(DenseElementsAttr)
    function = prop(StringAttr, optional=True)
    traits = (Pure(),)

    def verify_(self) -> None:
        super().verify_()
        _int(self, "shift", 0)
        table = _table(self, "table")
        _same_element(self, "table", table.type.element, _elem(self.output), "the result")


@op_def("qt.softmax")
class SoftmaxOp(_Unary):
    """Table-based softmax along ``axis`` (exp table, sum, reciprocal table, product)."""

    input = operand(FixedTensor)
    output = result(QTensor)
    axis = prop(IntegerAttr)
    exp_start = prop(IntegerAttr)
    exp_shift = prop(IntegerAttr)
    exp_table = prop(DenseElementsAttr)
    inv_start = prop(IntegerAttr)
    inv_shift = prop(IntegerAttr)
    inv_table = prop(DenseElementsAttr)
    traits = (Pure(),)

    def verify_(self) -> None:
        super().verify_()
        _axis(self, len(_shape(self.input)))
        for name in ("exp", "inv"):
            _int(self, f"{name}_shift", 0)
            table = _table(self, f"{name}_table")
            if not isinstance(table.type.element, FixedPointType):
                raise verify_error(self, f"property '{name}_table' must hold a fixed-point type, got "
                                         f"{_fmt(table.type.element)}")


@op_def("qt.bipolar_dense")
class BipolarDenseOp(Operation):
    """Σ_k (2x−1)(2w−1) over bipolar [..., K] × [K, N] → [..., N]."""

    input = operand(BipolarTensor)
    weight = operand(BipolarTensor)
    output = result(QTensor)
    traits = (Pure(),)

    def verify_(self) -> None:
        _verify_matmul(self)


@op_def("qt.threshold")
class ThresholdOp(_Unary):
    """Multi-threshold: the number of thresholds of x's channel that x reaches."""

    input = operand(FixedTensor)
    thresholds = operand(TensorOf(FIXED_ELEMENT, rank=2))
    output = result(QTensor)
    axis = prop(IntegerAttr)
    traits = (Pure(),)

    def verify_(self) -> None:
        super().verify_()
        x, t = _shape(self.input), _shape(self.thresholds)
        axis = _axis(self, len(x))
        if t[0] not in (1, x[axis]):
            raise verify_error(self, f"thresholds shape {_dims(t)}: dim 0 must be 1 or the {x[axis]} channels "
                                     f"of input dim {axis}")


class _IndexElement(Constraint):
    """An integer element type: a builtin integer, or a fixed type without fractional bits."""

    def check(self, value: Attribute) -> str | None:
        if isinstance(value, IntegerType) or isinstance(value, FixedPointType) and value.frac_bits <= 0:
            return None
        return f"expected an integer type (i64, !qt.int<W>, !qt.fixed<W,I> with I >= W), got {_fmt(value)}"

    def __str__(self) -> str:
        return "an integer type"


IndexTensor = TensorOf(_IndexElement())
DataTensor = TensorOf(AnyOf([QT_ELEMENT, HOST_ELEMENT]))  # gather/scatter data: qt, or float/int before onnx-to-qt
SCATTER_REDUCTIONS = ("none", "add", "mul", "max", "min")


def _index_count(op: Operation) -> tuple[tuple[int, ...], int]:
    """The data shape along ``axis`` and the checked axis."""
    x = _shape(op.input)  # type: ignore[attr-defined]
    if not x:
        raise verify_error(op, "input must have rank >= 1")
    return x, _axis(op, len(x))


@op_def("qt.gather")
class GatherOp(Operation):
    """``input`` indexed along ``axis`` by ``indices`` (ONNX Gather / torch index_select).

    Result shape: ``input.shape[:axis] + indices.shape + input.shape[axis+1:]``.  An
    index i with −n ≤ i < 0 counts from the end (n = ``input.shape[axis]``); any other
    index outside 0..n−1 selects zeros.  The data may be fixed-point or, before
    ``onnx-to-qt``, float.
    """

    input = operand(DataTensor)
    indices = operand(IndexTensor)
    output = result(DataTensor)
    axis = prop(IntegerAttr)
    traits = (Pure(),)

    def verify_(self) -> None:
        x, axis = _index_count(self)
        _same_element(self, "result", _elem(self.output), _elem(self.input), "the input")
        _same_shape(self, "result", _shape(self.output), (*x[:axis], *_shape(self.indices), *x[axis + 1:]))


@op_def("qt.scatter")
class ScatterOp(Operation):
    """``input`` with ``updates`` reduced into it along ``axis`` at ``indices`` (ONNX
    ScatterElements with an index constant across the other axes / torch scatter_add_,
    index_add_, scatter_reduce).

    ``indices`` is 1-D [E]; ``updates`` has ``input``'s shape with E along ``axis``.
    Destination j receives ``reduce`` (add, mul, max, min) of ``input[j]`` and every
    update e with ``indices[e]`` = j, computed exactly and converted once into the
    result type; ``none`` takes the last such update.  A destination no index names
    keeps ``input[j]`` (converted); indices count from the end when negative and an
    index outside −n..n−1 is ignored.  ``include_self = false`` (torch's
    ``scatter_reduce(..., include_self=False)``): a destination that receives an update
    leaves ``input[j]`` out of its reduction.
    """

    input = operand(DataTensor)
    indices = operand(TensorOf(_IndexElement(), rank=1))
    updates = operand(DataTensor)
    output = result(DataTensor)
    axis = prop(IntegerAttr)
    reduce = prop(StringAttr, default=StringAttr("add"))
    include_self = prop(BoolAttr, default=BoolAttr(True))
    traits = (Pure(),)

    def verify_(self) -> None:
        x, axis = _index_count(self)
        if self.reduce.value not in SCATTER_REDUCTIONS:
            raise verify_error(self, f"reduce = '{self.reduce.value}' is not one of "
                                     f"{', '.join(SCATTER_REDUCTIONS)}")
        e = _shape(self.indices)[0]
        _same_shape(self, "updates", _shape(self.updates), (*x[:axis], e, *x[axis + 1:]))
        _same_shape(self, "result", _shape(self.output), x)
        host = [not isinstance(_elem(v), (FixedPointType, BipolarType))
                for v in (self.input, self.updates, self.output)]
        if any(host) and not all(host):
            raise verify_error(self, "input, updates and result must all be qt types or all float/integer")


TREE_MODES = ("leq", "lt", "gte", "gt", "eq", "neq", "leaf")
TREE_AGGREGATES = ("sum", "min", "max")


@op_def("qt.tree_ensemble")
class TreeEnsembleOp(Operation):
    """Decision trees over the rows of ``input`` [N, F] → per-target scores [N, T].

    Nodes are numbered globally (``nodes_*`` arrays, one entry per node).  A branch
    node compares feature ``nodes_feature[i]`` with ``nodes_threshold[i]`` by
    ``nodes_mode[i]`` (leq, lt, gte, gt, eq, neq: "feature mode threshold") and goes to
    node ``nodes_true[i]`` or ``nodes_false[i]``; a ``leaf`` node's true/false entry is
    its row of ``leaf_values`` [L, T].  Each tree starts at a node of ``tree_roots``.
    Target t's score is ``base_values[t]`` plus the ``aggregate`` (sum, min or max)
    over the trees of the reached leaves' values, exact, converted once into the
    result type.  With a fixed-point input the thresholds have the input's element
    type and compare raw codes; before ``onnx-to-qt`` the input is float, the
    thresholds and values f64, and ``nodes_missing_true`` sends a NaN feature to the
    true branch.
    """

    input = operand(DataTensor)
    output = result(DataTensor)
    tree_roots = prop(ArrayAttr)
    nodes_feature = prop(ArrayAttr)
    nodes_mode = prop(ArrayAttr)
    nodes_threshold = prop(DenseElementsAttr)
    nodes_true = prop(ArrayAttr)
    nodes_false = prop(ArrayAttr)
    nodes_missing_true = prop(ArrayAttr, optional=True)
    leaf_values = prop(DenseElementsAttr)
    base_values = prop(DenseElementsAttr)
    aggregate = prop(StringAttr, default=StringAttr("sum"))
    traits = (Pure(),)

    def verify_(self) -> None:
        x, out = _shape(self.input), _shape(self.output)
        if len(x) != 2:
            raise verify_error(self, f"input must be [N, features], got shape {_dims(x)}")
        leaves = self.leaf_values.type.shape
        if len(leaves) != 2:
            raise verify_error(self, f"leaf_values must be [leaves, targets], got shape {_dims(leaves)}")
        _same_shape(self, "result", out, (x[0], leaves[1]))
        _same_shape(self, "base_values", self.base_values.type.shape, (leaves[1],))
        modes = [a.value for a in self.nodes_mode]
        m = len(modes)
        for name in ("nodes_feature", "nodes_true", "nodes_false"):
            _ints(self, name, m)
        if self.nodes_missing_true is not None:
            _ints(self, "nodes_missing_true", m)
        _same_shape(self, "nodes_threshold", self.nodes_threshold.type.shape, (m,))
        if self.aggregate.value not in TREE_AGGREGATES:
            raise verify_error(self, f"aggregate = '{self.aggregate.value}' is not one of "
                                     f"{', '.join(TREE_AGGREGATES)}")
        fixed_in = isinstance(_elem(self.input), FixedPointType)
        if fixed_in and self.nodes_threshold.type.element != _elem(self.input):
            raise verify_error(self, f"nodes_threshold element type {_fmt(self.nodes_threshold.type.element)} "
                                     f"differs from the input's {_fmt(_elem(self.input))}")
        for name in ("nodes_threshold", "leaf_values", "base_values"):
            elem = getattr(self, name).type.element
            if fixed_in and not isinstance(elem, FixedPointType) or not fixed_in and elem != f64:
                want = "a fixed-point type" if fixed_in else "f64 (a float input)"
                raise verify_error(self, f"{name} element type {_fmt(elem)} must be {want}")
        self._verify_trees(modes, x[1], leaves[0])

    def _verify_trees(self, modes: list[str], features: int, leaves: int) -> None:
        feature = [a.value for a in self.nodes_feature]
        true, false = [a.value for a in self.nodes_true], [a.value for a in self.nodes_false]
        m = len(modes)
        for i, md in enumerate(modes):
            if md not in TREE_MODES:
                raise verify_error(self, f"node {i}: mode '{md}' is not one of {', '.join(TREE_MODES)}")
            if md == "leaf":
                if not 0 <= true[i] < leaves or false[i] != true[i]:
                    raise verify_error(self, f"leaf node {i} must name one row of leaf_values (0..{leaves - 1})")
            elif not 0 <= feature[i] < features:
                raise verify_error(self, f"node {i} reads feature {feature[i]} of {features}")
            elif not (0 <= true[i] < m and 0 <= false[i] < m):
                raise verify_error(self, f"node {i} points outside the {m} nodes")
        for k, root in enumerate(a.value for a in self.tree_roots):
            if not 0 <= root < m:
                raise verify_error(self, f"tree {k}: root {root} is not a node")
            seen, stack = set(), [root]
            while stack:
                i = stack.pop()
                if i in seen:
                    raise verify_error(self, f"tree {k} is not a tree: node {i} is reached twice")
                seen.add(i)
                if modes[i] != "leaf":  # both branches may lead to one node (a decided comparison)
                    stack += [true[i]] if true[i] == false[i] else [true[i], false[i]]


@op_def("qt.argmax")
class ArgMaxOp(Operation):
    """The index of the largest element along ``axis`` (the first one on ties), the axis removed."""

    input = operand(FixedTensor)
    output = result(FixedTensor)
    axis = prop(IntegerAttr)
    traits = (Pure(),)

    def verify_(self) -> None:
        x = _shape(self.input)
        axis = _axis(self, len(x))
        _same_shape(self, "result", _shape(self.output), (*x[:axis], *x[axis + 1:]))
        t = _elem(self.output)
        if not isinstance(t, FixedPointType) or t.frac_bits > 0 or t.max_raw < x[axis] - 1:
            raise verify_error(self, f"result element type {_fmt(t)} must be an integer type holding "
                                     f"0..{x[axis] - 1}")


QT_OPS: tuple[type[Operation], ...] = (
    ConstOp, FromFloatOp, ToFloatOp, CastOp, DenseOp, ConvOp, AddOp, SubOp, MulOp, ReluOp, LeakyReluOp,
    ClipOp, MaxPoolOp, AvgPoolOp, ReshapeOp, TransposeOp, ConcatOp, SplitOp, SliceOp, PadOp, LutOp,
    SoftmaxOp, BipolarDenseOp, ThresholdOp, GatherOp, ScatterOp, TreeEnsembleOp, ArgMaxOp,
)

QT = Dialect("qt", ops=list(QT_OPS), attributes=list(QT_TYPES))
register_dialect(QT)
