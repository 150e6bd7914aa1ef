"""fmlc.runtime.fixed against the ap_types headers on random types and values.

Hypothesis draws a *batch* of cases per example (types up to 64 bits, a fifth of them
65–128 bits, so both the int64 and the exact path run); each batch is one program,
built once and cached (``derandomize`` keeps the batches, hence the builds, stable
between runs).  Shrinking is off: a failure names the exact case that disagrees.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from apharness import hex_bits, require_csim, run_all, split, to_signed
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from fmlc.dialects.qt import OVERFLOW_MODES, QUANT_MODES, FixedPointType, fixed, integer
from fmlc.runtime import fixed as fx


def batches(count: int) -> settings:
    """``count`` random examples (batches), stable between runs, not shrunk.

    Hypothesis first tries the simplest example (every case the same tiny type),
    which costs one cheap build; it comes on top of ``count``.
    """
    return settings(max_examples=count + 1, deadline=None, derandomize=True, database=None,
                    phases=(Phase.explicit, Phase.generate), suppress_health_check=list(HealthCheck))


@pytest.fixture(autouse=True)
def _csim() -> None:
    require_csim()


@st.composite
def fixed_types(draw: st.DrawFn, int_bits: tuple[int, int] | None = None, max_frac: int | None = None,
                ints: bool = True, wide_one_in: int = 5) -> FixedPointType:
    """A random fixed (or, one in ten, ap_int) type: widths 1..64, one in ``wide_one_in`` 65..128."""
    wide = draw(st.integers(1, wide_one_in)) == 1
    width = draw(st.integers(65, 128) if wide else st.integers(1, 64))
    signed = draw(st.booleans())
    if ints and draw(st.integers(0, 9)) == 0:
        return integer(width, signed)
    lo, hi = int_bits if int_bits is not None else (-20, width + 20)
    i = draw(st.integers(lo, hi))
    if max_frac is not None:
        width = min(width, i + max_frac)
        if width < 1:
            width, i = 1, max(i, 1 - max_frac)
    return fixed(width, i, signed, draw(st.sampled_from(QUANT_MODES)), draw(st.sampled_from(OVERFLOW_MODES)))


def raws(t: FixedPointType, n: int) -> st.SearchStrategy[list[int]]:
    return st.lists(st.integers(t.min_raw, t.max_raw), min_size=n, max_size=n)


def _hex_array(name: str, values: list[int], width: int) -> str:
    items = ",".join(f'"{hex_bits(v, width)}"' for v in values)
    return f"static const char* const {name}[] = {{{items}}};"


def _lines(out: bytes) -> list[str]:
    return out.decode().split()


def _program(decls: list[str], calls: list[str], templates: str) -> str:
    return "\n".join([templates, *decls, "int main() {", "  std::ios::sync_with_stdio(false);", *calls,
                      "  return 0;", "}", ""])


def _run_batch(cases: list, emit, parts: int = 2) -> list[str]:
    """Emit (decls, calls) per case, build ``parts`` translation units, return output words."""
    sources = []
    for part_index, part in enumerate(split(cases, parts)):
        decls, calls = [], []
        for k, case in enumerate(part):
            d, c = emit(f"C{part_index}_{k}", *case)
            decls.append(d)
            calls.append(c)
        sources.append(_program(decls, calls, TEMPLATES))
    return _lines(run_all(sources, "prop"))


TEMPLATES = r"""
template <class S, class D> void conv(const char* const* in, int n) {
  for (int i = 0; i < n; ++i) { S x; set_hex(x, in[i]); D y = x; std::cout << hex(y) << "\n"; }
}
template <class A, class B> void arith(const char* const* in_a, const char* const* in_b, int n) {
  A a0 = 0; B b0 = 0;
  info(a0 + b0); info(a0 - b0); info(a0 * b0); info(-a0);
  for (size_t k = 0; k < OUT.size(); ++k) std::cout << OUT[k] << "\n";
  OUT.clear();
  for (int i = 0; i < n; ++i) {
    A a; B b; set_hex(a, in_a[i]); set_hex(b, in_b[i]);
    std::cout << hex(a + b) << "\n" << hex(a - b) << "\n" << hex(a * b) << "\n" << hex(-a) << "\n"
              << ((a == b) | (a != b) << 1 | (a < b) << 2 | (a <= b) << 3 | (a > b) << 4 | (a >= b) << 5) << "\n";
  }
}
template <class A, class B> void cmp(const char* const* in_a, const char* const* in_b, int n) {
  for (int i = 0; i < n; ++i) {
    A a; B b; set_hex(a, in_a[i]); set_hex(b, in_b[i]);
    std::cout << ((a == b) | (a != b) << 1 | (a < b) << 2 | (a <= b) << 3 | (a > b) << 4 | (a >= b) << 5) << "\n";
  }
}
template <class A> void floats(const char* const* in, int n) {
  for (int i = 0; i < n; ++i) {
    A a; set_hex(a, in[i]); double d = a.to_double(); float f = a.to_float(); uint64_t db; uint32_t fb;
    std::memcpy(&db, &d, 8); std::memcpy(&fb, &f, 4);
    std::cout << db << "\n" << fb << "\n";
  }
}
template <class D> void from_double(const uint64_t* in, int n) {
  for (int i = 0; i < n; ++i) { double x; std::memcpy(&x, &in[i], 8); D y = x; std::cout << hex(y) << "\n"; }
}
"""


# ----------------------------------------------------------------------------- conversions

conversion_case = (
    st.tuples(fixed_types(), fixed_types())
    .filter(lambda p: fx.conversion_hazard(p[0], p[1]) is None)
    .flatmap(lambda p: st.tuples(st.just(p[0]), st.just(p[1]), raws(p[0], 8)))
)


@batches(2)
@given(st.lists(conversion_case, min_size=75, max_size=75))
def test_conversion_random(cases):
    def emit(name, src, dst, values):
        return _hex_array(name, values, src.width), f"  conv<{src.cpp}, {dst.cpp} >({name}, {len(values)});"

    words = iter(_run_batch(cases, emit))
    for src, dst, values in cases:
        want = [to_signed(int(next(words), 16), dst.width, dst.signed) for _ in values]
        got = fx.convert(np.array(values, dtype=object), src, dst).tolist()
        assert got == want, (src.cpp, dst.cpp, values, got, want)


# ----------------------------------------------------------------------------- arithmetic

arith_case = st.tuples(fixed_types(wide_one_in=8), fixed_types(wide_one_in=8)).flatmap(
    lambda p: st.tuples(st.just(p[0]), st.just(p[1]), raws(p[0], 6), raws(p[1], 6)))


def _header_flags(a: int, ta: FixedPointType, b: int, tb: FixedPointType) -> int:
    """The header's comparison flags: exact, except ap_private's unsigned compare where
    ``comparison_hazard`` says so (a model of the header, used to verify that claim)."""
    fa, fb = ta.frac_bits, tb.frac_bits
    frac = max(fa, fb)
    x, y = a << (frac - fa), b << (frac - fb)
    if fx.comparison_hazard(ta, tb) is None:
        eq, lt, gt = x == y, x < y, x > y
    else:
        wa, wb = fx.compared_widths(ta, tb)
        m = max(wa, wb) + 1
        lt, gt = x % 2**m < y % 2**m, x % 2**m > y % 2**m
        if wa == wb <= 64:  # one-word ap_private of equal widths: compares the sign-extended 64-bit words
            eq = x % 2**64 == y % 2**64
        else:  # both as unsigned integers of the larger width (at least 32 for a one-word left operand)
            me = max(wa, wb, 32 if wa <= 64 else 0)
            eq = x % 2**me == y % 2**me
    return eq | (not eq) << 1 | lt << 2 | (not gt) << 3 | gt << 4 | (not lt) << 5


@batches(2)
@given(st.lists(arith_case, min_size=30, max_size=30))
def test_arithmetic_random(cases):
    def emit(name, ta, tb, a, b):
        decl = _hex_array(name + "a", a, ta.width) + "\n" + _hex_array(name + "b", b, tb.width)
        return decl, f"  arith<{ta.cpp}, {tb.cpp} >({name}a, {name}b, {len(a)});"

    words = iter(_run_batch(cases, emit))
    for ta, tb, a, b in cases:
        av, bv = np.array(a, dtype=object), np.array(b, dtype=object)
        results = [fx.add(av, ta, bv, tb), fx.sub(av, ta, bv, tb), fx.mul(av, ta, bv, tb), fx.neg(av, ta)]
        info = [int(next(words)) for _ in range(16)]
        assert info == [x for _, t in results for x in (t.width, t.int_bits, int(t.signed), int(t.is_int))], (
            ta.cpp, tb.cpp, info)
        exact = sum(fx.compare(op, av, ta, bv, tb).astype(np.int64) << k
                    for k, op in enumerate(("eq", "ne", "lt", "le", "gt", "ge")))
        for i in range(len(a)):
            for (raw, t), label in zip(results, ("+", "-", "*", "neg"), strict=True):
                assert to_signed(int(next(words), 16), t.width, t.signed) == raw[i], (ta.cpp, label, tb.cpp, a[i], b[i])
            flags = int(next(words))
            assert flags == _header_flags(a[i], ta, b[i], tb), (ta.cpp, tb.cpp, a[i], b[i], "compare")
            assert fx.comparison_hazard(ta, tb) is not None or flags == exact[i]


HAZARD_PAIRS = [  # (left, right, header differs from the exact comparison for some values)
    (fixed(60, 10, False), fixed(8, 8), True), (fixed(8, 8), fixed(60, 10, False), True),
    (integer(40), integer(40, False), True), (integer(41), integer(40, False), False),
    (integer(31, False), integer(20), False), (integer(32, False), integer(20), True),
    (fixed(100, 50, False), fixed(30, 5), True), (fixed(30, 5), fixed(100, 50, False), True),
    (fixed(40, 40, False), integer(8), True), (fixed(20, 3, False), fixed(40, 3), True),
    (fixed(46, 4), fixed(20, 3, False), False),
]


def test_comparison_hazard():
    """``comparison_hazard`` flags exactly the pairs where the header compares mixed signs as unsigned."""
    def values(t: FixedPointType) -> list[int]:
        return [t.min_raw, t.max_raw, 0, 1, -1 if t.signed else 2, t.min_raw // 3, t.max_raw // 5]

    cases = [(ta, tb, a, b) for ta, tb, _ in HAZARD_PAIRS for a in values(ta) for b in values(tb)]

    def emit(name, ta, tb, a, b):
        decl = _hex_array(name + "a", [a], ta.width) + "\n" + _hex_array(name + "b", [b], tb.width)
        return decl, f"  cmp<{ta.cpp}, {tb.cpp} >({name}a, {name}b, 1);"

    words = iter(_run_batch(cases, emit))
    differs: dict[tuple, bool] = {}
    for ta, tb, a, b in cases:
        flags = int(next(words))
        assert flags == _header_flags(a, ta, b, tb), (ta.cpp, tb.cpp, a, b)
        exact = sum(int(fx.compare(op, np.array([a], dtype=object), ta, np.array([b], dtype=object), tb)[0]) << k
                    for k, op in enumerate(("eq", "ne", "lt", "le", "gt", "ge")))
        differs[(ta, tb)] = differs.get((ta, tb), False) or flags != exact
    for ta, tb, expected in HAZARD_PAIRS:
        assert (fx.comparison_hazard(ta, tb) is not None) == expected == differs[(ta, tb)], (ta.cpp, tb.cpp)


# ----------------------------------------------------------------------------- to_float / to_double

# ap_int<W > 64>::to_double() converts the low 64-bit word only (a header bug): not compared
float_case = (fixed_types(int_bits=(-40, 100), max_frac=126).filter(lambda t: not (t.is_int and t.width > 64))
              .flatmap(lambda t: st.tuples(st.just(t), raws(t, 8))))


@batches(2)
@given(st.lists(float_case, min_size=70, max_size=70))
def test_to_float_random(cases):
    """Round to nearest even, for types whose values are normal floats (the header's range)."""
    def emit(name, t, values):
        return _hex_array(name, values, t.width), f"  floats<{t.cpp} >({name}, {len(values)});"

    words = iter(_run_batch(cases, emit))
    for t, values in cases:
        v = np.array(values, dtype=object)
        doubles, singles = fx.to_float(v, t, np.float64), fx.to_float(v, t, np.float32)
        for i in range(len(values)):
            assert int(next(words)) == int(doubles[i:i + 1].view(np.uint64)[0]), (t.cpp, values[i], "double")
            assert int(next(words)) == int(singles[i:i + 1].view(np.uint32)[0]), (t.cpp, values[i], "float")


# ----------------------------------------------------------------------------- from double

def _doubles(t: FixedPointType) -> st.SearchStrategy[float]:
    """Any double, or one within a few LSBs of ``t``'s grid and range (ties included)."""
    near = st.builds(math.ldexp, st.integers(-(2**53) + 1, 2**53 - 1),
                     st.integers(-t.frac_bits - 56, -t.frac_bits + 4))
    return st.one_of(st.floats(width=64), near)


from_double_case = fixed_types(int_bits=(-30, 140), ints=False).flatmap(
    lambda t: st.tuples(st.just(t), st.lists(_doubles(t), min_size=6, max_size=6)))


@batches(3)
@given(st.lists(from_double_case, min_size=60, max_size=60))
def test_from_double_random(cases):
    def emit(name, t, xs):
        bits = ",".join(f"{b}ull" for b in np.array(xs, dtype=np.float64).view(np.uint64).tolist())
        return f"static const uint64_t {name}[] = {{{bits}}};", f"  from_double<{t.cpp} >({name}, {len(xs)});"

    words = iter(_run_batch(cases, emit))
    for t, xs in cases:
        got = fx.from_float(np.array(xs, dtype=np.float64), t).tolist()
        want = [to_signed(int(next(words), 16), t.width, t.signed) for _ in xs]
        assert got == want, (t.cpp, xs, got, want)
