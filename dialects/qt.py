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
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction
from typing import Any, ClassVar

import attrs

from fmlc.compiler.attributes import ElementType, ParamError, ParametrizedType
from fmlc.compiler.dialect import Dialect, register_dialect

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
# (added by the qt ops module owner)

QT = Dialect("qt", ops=[], attributes=list(QT_TYPES))
register_dialect(QT)
