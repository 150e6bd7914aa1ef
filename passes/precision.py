"""Precision choices: the config file, type strings, and exact types for constants.

The config (``--config cfg.toml``) sets precisions for float parts of a model::

    [default]
    precision = "fixed<16,6>"        # inputs, weights, biases and layer results of float layers
    table_size = 1024                # activation tables (sigmoid, tanh, exp, softmax)

    [layer.node_linear]              # an ONNX node name
    weight = "fixed<8,2>"
    bias = "fixed<12,4>"
    result = "fixed<16,6,rnd,sat>"
    table_size = 4096
    table_range = [-8.0, 8.0]

    [input.x]                        # a graph input
    precision = "fixed<12,4,rnd,sat>"

Quantised parts take their types from the quantisers and ignore these settings.
"""

from __future__ import annotations

import math
import re
import tomllib
from pathlib import Path
from typing import Any

import attrs
import numpy as np

from fmlc.compiler.diagnostics import FmlcError
from fmlc.dialects.qt import FixedPointType, FixedType, fixed, integer, type_for_range

DEFAULT_PRECISION = "fixed<16,6>"
DEFAULT_TABLE_SIZE = 1024
MAX_EXACT_BITS = 128  # widest exact type given to a float constant
INTEGER_INPUT = integer(16)  # port type of an integer graph input (edge_index) unless configured

_LAYER_KEYS = {"precision", "weight", "bias", "result", "table_size", "table_range", "reuse_factor", "strategy",
               "io"}
_TOP_KEYS = {"default", "layer", "input"}


class ConfigError(FmlcError):
    pass


_SIMPLE_PRECISION = re.compile(r"(?:!qt\.)?(?:(u?fixed)<\s*(\d+)\s*,\s*(-?\d+)\s*>|(u?int)<\s*(\d+)\s*>)")


def _simple_precision(text: str) -> FixedPointType | None:
    """``fixed<W,I>``, ``ufixed<W,I>``, ``int<W>``, ``uint<W>`` read without the IR parser
    (which loads lark, a fifth of a small model's compile time), or None."""
    m = _SIMPLE_PRECISION.fullmatch(text)
    if not m:
        return None
    try:
        if m.group(1):
            return fixed(int(m.group(2)), int(m.group(3)), not m.group(1).startswith("u"))
        return integer(int(m.group(5)), not m.group(4).startswith("u"))
    except ValueError:
        return None  # the IR parser reports it


def parse_precision(text: str, where: str = "precision") -> FixedPointType:
    """``fixed<16,6>``, ``ufixed<8,0,rnd,sat>``, ``int<8>``, ``uint<4>`` (``!qt.`` optional)."""
    simple = _simple_precision(text.strip())
    if simple is not None:
        return simple
    from fmlc.compiler.parser import parse_type

    t = text.strip()
    if not t.startswith("!"):
        t = "!qt." + t
    try:
        ty = parse_type(t)
    except FmlcError as e:
        msg = str(e).splitlines()[0]
        raise ConfigError(f"error: {where}: cannot read precision '{text}': {msg}") from None
    if not isinstance(ty, FixedPointType):
        raise ConfigError(f"error: {where}: '{text}' is not a fixed-point or integer type")
    return ty


@attrs.frozen
class LayerConfig:
    """Settings for one layer (node), defaults filled in."""

    weight: FixedPointType
    bias: FixedPointType
    result: FixedPointType
    table_size: int
    table_range: tuple[float, float] | None


@attrs.define
class PrecisionConfig:
    default: FixedPointType = attrs.Factory(lambda: parse_precision(DEFAULT_PRECISION))
    table_size: int = DEFAULT_TABLE_SIZE
    defaults: dict[str, Any] = attrs.Factory(dict)  # the [default] section
    layers: dict[str, dict[str, Any]] = attrs.Factory(dict)
    inputs: dict[str, dict[str, Any]] = attrs.Factory(dict)

    def layer(self, name: str) -> LayerConfig:
        raw = {**{k: v for k, v in self.defaults.items() if k != "precision"}, **self.layers.get(name, {})}
        base = self._type(raw, "precision", self.default, f"layer.{name}")
        rng = raw.get("table_range")
        return LayerConfig(
            weight=self._type(raw, "weight", base, f"layer.{name}"),
            bias=self._type(raw, "bias", base, f"layer.{name}"),
            result=self._type(raw, "result", base, f"layer.{name}"),
            table_size=int(raw.get("table_size", self.table_size)),
            table_range=(float(rng[0]), float(rng[1])) if rng is not None else None,
        )

    def input(self, name: str) -> FixedPointType:
        return self._type(self.inputs.get(name, {}), "precision", self.default, f"input.{name}")

    def integer_input(self, name: str) -> FixedPointType:
        """The port type of an integer graph input (indices): ``[input.NAME] precision`` or
        ``!qt.int<16>``."""
        return self._type(self.inputs.get(name, {}), "precision", INTEGER_INPUT, f"input.{name}")

    @staticmethod
    def _type(raw: dict[str, Any], key: str, default: FixedPointType, where: str) -> FixedPointType:
        return parse_precision(raw[key], f"{where}.{key}") if key in raw else default


def load_config(path: str | None, default_precision: str | None = None) -> PrecisionConfig:
    """Read a config file (None: defaults only); ``default_precision`` overrides ``[default]``."""
    data: dict[str, Any] = {}
    if path:
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except OSError as e:
            raise ConfigError(f"error: cannot read config '{path}': {e.strerror or e}") from None
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(f"error: {path}: {e}") from None
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise ConfigError(f"error: {path}: unknown section(s) {sorted(unknown)} (known: {sorted(_TOP_KEYS)})")
    for section in ("layer", "input"):
        for name, table in data.get(section, {}).items():
            if not isinstance(table, dict):
                raise ConfigError(f"error: {path}: [{section}.{name}] must be a table")
            bad = set(table) - _LAYER_KEYS
            if bad:
                raise ConfigError(f"error: {path}: [{section}.{name}]: unknown key(s) {sorted(bad)} "
                                  f"(known: {sorted(_LAYER_KEYS)})")
    d = data.get("default", {})
    bad = set(d) - _LAYER_KEYS
    if bad:
        raise ConfigError(f"error: {path}: [default]: unknown key(s) {sorted(bad)}")
    cfg = PrecisionConfig(layers=data.get("layer", {}), inputs=data.get("input", {}), defaults=dict(d))
    if "precision" in d:
        cfg.default = parse_precision(d["precision"], "default.precision")
    if default_precision:
        cfg.default = parse_precision(default_precision, "--default-precision")
    if "table_size" in d:
        cfg.table_size = int(d["table_size"])
    return cfg


# ----------------------------------------------------------------------------- exact constants

def frac_bits_needed(values: np.ndarray) -> int | None:
    """Smallest F (possibly negative) with every value · 2^F an integer; None for all zeros.

    Raises ValueError for non-finite values.
    """
    v = np.asarray(values, dtype=np.float64).ravel()
    if not np.all(np.isfinite(v)):
        raise ValueError("constant holds inf or NaN")
    v = v[v != 0]
    if v.size == 0:
        return None
    mant, exp = np.frexp(v)  # v = mant * 2^exp, 0.5 <= |mant| < 1
    m = np.abs(mant * 2.0**53).astype(np.int64)
    tz = _trailing_zeros(m)
    return int(np.max(53 - exp - tz))


def _trailing_zeros(m: np.ndarray) -> np.ndarray:
    low = m & -m
    return np.log2(low.astype(np.float64)).astype(np.int64)


def exact_type(values: np.ndarray, max_bits: int = MAX_EXACT_BITS) -> tuple[FixedType, np.ndarray] | None:
    """The narrowest fixed type holding every value exactly, with the raw codes; None if wider than ``max_bits``."""
    v = np.asarray(values, dtype=np.float64)
    f = frac_bits_needed(v)
    if f is None:
        return fixed(1, 1, signed=False), np.zeros(v.shape, dtype=np.int64)
    raw = _scaled_ints(v, f)
    lo, hi = (int(raw.min()), int(raw.max())) if raw.size else (0, 0)
    t = type_for_range(lo, hi, f)
    if t.width > max_bits:
        return None
    return t, (raw.astype(np.int64) if t.width <= 63 else raw)


def _scaled_ints(v: np.ndarray, f: int) -> np.ndarray:
    """v · 2^f (integers: f is :func:`frac_bits_needed`) exactly: ``int64`` while every one is
    below 2^53 in magnitude, else Python ints (object array)."""
    scaled = np.ldexp(v, f)
    if not scaled.size or np.max(np.abs(scaled)) < 2.0**53:
        return scaled.astype(np.int64)
    out = np.empty(v.shape, dtype=object)
    for idx, x in np.ndenumerate(v):
        n, d = float(x).as_integer_ratio()  # d is a power of two
        out[idx] = (n << f) // d if f >= 0 else n // (d << -f)
    return out


def union_type(types: list[FixedPointType]) -> FixedType:
    """The narrowest fixed type holding every value of every type in ``types`` exactly."""
    frac = max(t.frac_bits for t in types)
    lo = min(t.min_raw << (frac - t.frac_bits) for t in types)
    hi = max(t.max_raw << (frac - t.frac_bits) for t in types)
    return type_for_range(lo, hi, frac)


def is_power_of_two(x: float) -> bool:
    if not math.isfinite(x) or x <= 0:
        return False
    m, _ = math.frexp(x)
    return m == 0.5
