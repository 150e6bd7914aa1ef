"""The qt element types and the parts of fmlc.runtime.fixed / aptypes that need no compiler."""

from __future__ import annotations

import importlib.util
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from fmlc.compiler.attributes import ParamError
from fmlc.compiler.dialect import REGISTRY
from fmlc.compiler.parser import parse_type
from fmlc.compiler.printer import format_attribute
from fmlc.dialects.qt import (
    BipolarType,
    FixedType,
    IntType,
    UFixedType,
    UIntType,
    fixed,
    integer,
)
from fmlc.runtime import aptypes
from fmlc.runtime import fixed as fx

# ----------------------------------------------------------------------------- qt types

TEXT_FORMS = {
    "!qt.fixed<8,1>": FixedType(8, 1),
    "!qt.fixed<8,1,rnd_conv,sat>": FixedType(8, 1, "rnd_conv", "sat"),
    "!qt.fixed<8,1,rnd>": FixedType(8, 1, "rnd"),
    "!qt.ufixed<6,0,trn,sat_sym>": UFixedType(6, 0, "trn", "sat_sym"),
    "!qt.fixed<4,-3>": FixedType(4, -3),
    "!qt.fixed<4,9>": FixedType(4, 9),
    "!qt.int<8>": IntType(8),
    "!qt.uint<4>": UIntType(4),
    "!qt.bipolar": BipolarType(),
}


@pytest.mark.parametrize("text", TEXT_FORMS)
def test_types_print_minimally_and_parse_back(text):
    t = TEXT_FORMS[text]
    assert format_attribute(t) == text
    assert parse_type(text) == t
    assert REGISTRY.attribute(t.name) is type(t)


def test_trailing_defaults_are_omitted():
    assert format_attribute(parse_type("!qt.ufixed<6,0,trn,wrap>")) == "!qt.ufixed<6,0>"
    assert format_attribute(parse_type("!qt.fixed<6,0,rnd,wrap>")) == "!qt.fixed<6,0,rnd>"


@pytest.mark.parametrize("params, message", [
    ([8], "expects <W,I[,quant[,overflow]]>"),
    ([0, 1], "width must be an integer in 1..1024"),
    ([1025, 1], "width must be an integer in 1..1024"),
    ([8, "x"], "integer bits must be an integer"),
    ([8, 1, "round"], "unknown quantisation mode 'round'"),
    ([8, 1, "trn", "clip"], "unknown overflow mode 'clip'"),
    ([8, 1, "trn", "wrap_sm"], "AP_WRAP_SM) is not supported"),
    ([8, 1, "trn", "wrap", 2], "saturation bits"),
])
def test_bad_parameters_raise_param_error(params, message):
    with pytest.raises(ParamError, match=message.replace("[", r"\[").replace("(", r"\(").replace(")", r"\)")):
        FixedType.from_parameters(params)


def test_int_and_bipolar_parameters():
    with pytest.raises(ParamError, match="expects <W>"):
        IntType.from_parameters([8, 1])
    with pytest.raises(ParamError, match="takes no parameters"):
        BipolarType.from_parameters([1])


def test_ranges_and_cpp():
    t = fixed(8, 1, True, "rnd_conv", "sat")
    assert (t.min, t.max, t.lsb, t.frac_bits) == (-1, Fraction(127, 128), Fraction(1, 128), 7)
    assert (t.min_raw, t.max_raw, t.storage_bits, t.storage_signed) == (-128, 127, 8, True)
    assert t.cpp == "ap_fixed<8,1,AP_RND_CONV,AP_SAT>" and t.lsb_float == 2**-7
    assert fixed(8, 2, False).cpp == "ap_ufixed<8,2>"
    assert fixed(8, 2, True, "trn", "sat").cpp == "ap_fixed<8,2,AP_TRN,AP_SAT>"
    assert fixed(8, 2, True, "rnd").cpp == "ap_fixed<8,2,AP_RND>"
    assert (integer(8).cpp, integer(4, False).cpp, BipolarType().cpp) == ("ap_int<8>", "ap_uint<4>", "ap_uint<1>")
    u = fixed(4, -2, False)
    assert (u.min, u.max, u.min_raw, u.max_raw) == (0, Fraction(15, 64), 0, 15)
    assert (integer(5, False).int_bits, integer(5).frac_bits, integer(5).min) == (5, 0, -16)


def test_result_types():
    a, b = fixed(8, 3), fixed(6, 2, False)
    assert a.add_type(b) == fixed(9, 4) and a.sub_type(b) == fixed(9, 4)
    assert b.add_type(b) == fixed(7, 3, False) and b.sub_type(b) == fixed(7, 3)
    assert a.mul_type(b) == fixed(14, 5) and b.neg_type() == fixed(7, 3)
    assert integer(8).add_type(integer(4, False)) == integer(9)
    assert integer(8).mul_type(fixed(4, 1)) == fixed(12, 9)
    assert integer(1).neg_type() == integer(3) and integer(4, False).neg_type() == integer(5)
    assert a.sum_type(1) == a and a.sum_type(16) == fixed(12, 7) and a.sum_type(17) == fixed(13, 8)
    assert fixed(8, 3, True, "rnd", "sat").add_type(a) == fixed(9, 4)  # results have default modes
    assert integer(6).with_modes("rnd", "sat") == fixed(6, 6, True, "rnd", "sat")
    assert integer(6).with_modes() == integer(6)


# ----------------------------------------------------------------------------- runtime without g++

def test_raw_canonical_forms():
    assert fx.as_raw([1, -2], fixed(8, 1)).dtype == np.int64
    assert fx.as_raw([1, -2], fixed(64, 1)).dtype == object
    with pytest.raises(ValueError, match="out of range"):
        fx.as_raw([128], fixed(8, 1))
    with pytest.raises(TypeError):
        fx.as_raw([1.5], fixed(8, 1))


def test_int_conversion_quirks():
    """to ap_int truncates toward zero; a signed I = 0 source gives −1 for negatives, as the header does."""
    assert fx.convert(np.array([-7, 7, -8]), fixed(4, 2), integer(8)).tolist() == [-1, 1, -2]
    assert fx.convert(np.array([-1, 1]), fixed(4, 0), integer(8)).tolist() == [-1, 0]
    assert fx.to_int(np.array([-7, 300]), fixed(9, 7)).tolist() == [-1, 75]
    assert fx.from_float(np.array([-0.25, -0.75, 2.9, -2.9]), integer(8)).tolist() == [1, 0, 2, -2]
    assert fx.conversion_hazard(fixed(4, -1), integer(8)) is not None


def test_conversion_trips_assert_rule():
    src = fixed(4, 0)  # F = 4: a target with F <= -1 drops more than W_src bits
    assert fx.conversion_trips_assert(src, fixed(4, 5, True, "rnd"))
    assert not fx.conversion_trips_assert(src, fixed(4, 4, True, "rnd"))  # F_src - F_dst == W_src
    assert not fx.conversion_trips_assert(src, fixed(4, 5))  # AP_TRN never rounds
    assert not fx.conversion_trips_assert(fixed(4, 0, False), fixed(4, 5, True, "trn_zero"))
    assert fx.conversion_trips_assert(fixed(4, 0), fixed(4, 5, True, "trn_zero"))
    assert "trips an assertion" in fx.conversion_hazard(src, fixed(4, 5, True, "rnd"))


def test_to_float_rounds_to_nearest_even_exactly():
    t = fixed(64, 64, False)  # 2^53 + 1 and 2^53 + 3 are ties between doubles
    v = np.array([2**53 + 1, 2**53 + 3, 2**64 - 1], dtype=object)
    assert fx.to_float(v, t).tolist() == [2.0**53, 2.0**53 + 4, 2.0**64]
    t63 = fixed(63, 63, False)
    assert fx.to_float(np.array([2**53 + 1, 2**62 + 2**9]), t63).tolist() == [2.0**53, 2.0**62]
    assert fx.to_float(np.array([2**24 + 1]), t63, np.float32).tolist() == [2.0**24]
    assert fx.to_float(np.array([1]), fixed(8, -1100)).tolist() == [0.0]  # below the subnormals
    assert fx.to_float(np.array([3]), fixed(8, -1067)).tolist() == [2.0**-1073]  # subnormal, tie to even
    assert fx.to_float(np.array([1]), fixed(2, 140), np.float32).tolist() == [np.inf]


def test_shifts_and_comparisons():
    t = fixed(4, 2)
    assert fx.shl(np.array([3, -3]), t, 2).tolist() == [-4, 4]
    assert fx.shr(np.array([3, -3]), t, 1).tolist() == [1, -2]
    assert fx.compare("lt", np.array([1]), fixed(4, 2), np.array([1]), fixed(4, 0)).tolist() == [False]
    assert fx.comparison_hazard(fixed(40, 40, False), integer(8)) is not None
    assert fx.comparison_hazard(fixed(8, 8, False), integer(8)) is None


# ----------------------------------------------------------------------------- aptypes

def test_find_ap_types_names_every_place(monkeypatch):
    monkeypatch.delenv("FMLC_AP_TYPES", raising=False)
    monkeypatch.delenv("XILINX_HLS", raising=False)
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None)
    with pytest.raises(aptypes.ApTypesNotFound) as err:
        aptypes.find_ap_types()
    message = str(err.value)
    for place in ("$FMLC_AP_TYPES", "$XILINX_HLS/include", "hls4ml", "pip install fmlc[csim]"):
        assert place in message


def test_find_ap_types_order(monkeypatch, tmp_path):
    vitis = tmp_path / "vitis"
    (vitis / "include").mkdir(parents=True)
    (vitis / "include" / "ap_fixed.h").write_text("")
    monkeypatch.delenv("FMLC_AP_TYPES", raising=False)
    monkeypatch.setenv("XILINX_HLS", str(vitis))
    assert aptypes.find_ap_types() == vitis / "include"
    monkeypatch.setenv("FMLC_AP_TYPES", str(tmp_path))
    with pytest.raises(aptypes.ApTypesNotFound, match="FMLC_AP_TYPES"):
        aptypes.find_ap_types()
    monkeypatch.setenv("FMLC_AP_TYPES", str(vitis / "include"))
    assert aptypes.find_ap_types() == vitis / "include"


def test_build_caches_and_reports_errors(monkeypatch, tmp_path):
    monkeypatch.setenv("FMLC_CACHE_DIR", str(tmp_path / "cache"))
    include = tmp_path  # no headers needed for these programs
    first = aptypes.build_executable("int main() { return 0; }", include=include, name="ok")
    again = aptypes.build_executable("int main() { return 0; }", include=include, name="ok")
    assert first == again and first.parent == tmp_path / "cache" and first.is_file()
    lib = aptypes.build_shared('extern "C" int f() { return 1; }', include=include)
    assert lib.suffix == ".so"
    with pytest.raises(aptypes.CompileError, match="error") as err:
        aptypes.build_executable("int main() { return undefined_name; }", include=include)
    assert "undefined_name" in str(err.value)
    assert not [p for p in Path(tmp_path / "cache").iterdir() if p.name.startswith(".build-")]
