"""fmlc.runtime.fixed against the ap_types headers, every bit pattern of small types.

Each test builds one program (a few translation units, cached) that runs all its
cases through the real headers; the Python side computes the same with
``fmlc.runtime.fixed`` and the two must agree bit for bit.
"""

from __future__ import annotations

import itertools
import random
import struct

import numpy as np
import pytest
from apharness import PRELUDE, build, int64s, mismatch_report, require_csim, run, run_all, split, to_signed

from fmlc.dialects.qt import OVERFLOW_MODES, QUANT_MODES, FixedPointType, fixed, integer
from fmlc.runtime import fixed as fx
from fmlc.runtime.aptypes import build_executable

MODES = list(itertools.product(QUANT_MODES, OVERFLOW_MODES))
PARTS = 4  # translation units per program: builds run in parallel


@pytest.fixture(autouse=True)
def _csim() -> None:
    require_csim()


def _patterns(t: FixedPointType) -> np.ndarray:
    """Raw values of ``t`` in bit-pattern order 0 .. 2^W − 1 (the order the programs use)."""
    return to_signed(np.arange(1 << t.width, dtype=np.int64), t.width, t.signed)


def _random_format(rng: random.Random, wmax: int) -> tuple[int, int, bool]:
    w = rng.randint(1, wmax)
    return w, rng.randint(-3, w + 3), rng.random() < 0.6


# ----------------------------------------------------------------------------- fixed -> fixed

def _conversion_shapes() -> list[tuple[FixedPointType, tuple[int, int, bool]]]:
    """(source type, target format) pairs: hand-picked corners, then seeded random ones."""
    shapes: list[tuple[FixedPointType, tuple[int, int, bool]]] = [
        (fixed(8, 3), (4, 1, True)), (fixed(4, 2), (8, 3, True)), (fixed(8, 4, False), (5, 2, True)),
        (fixed(8, 2), (6, 3, False)), (fixed(1, 1), (1, 0, True)), (fixed(1, 0, False), (1, 1, False)),
        (fixed(1, -2), (3, 0, True)), (fixed(6, -2), (4, -3, True)), (fixed(5, 8), (7, 10, True)),
        (fixed(8, 8), (8, 2, True)), (fixed(4, 0), (3, 3, True)), (fixed(4, 0), (5, 6, False)),
        (fixed(7, 1), (2, 1, True)), (fixed(8, 1, False), (1, 1, True)), (fixed(3, 5, False), (8, 4, False)),
        (integer(8), (5, 2, True)), (integer(3, False), (4, 4, False)), (integer(1), (3, 1, True)),
        (integer(6), (8, 9, True)),
    ]
    rng = random.Random(1101)
    while len(shapes) < 60:
        w, i, s = _random_format(rng, 8)
        src = integer(w, s) if rng.random() < 0.1 else fixed(w, i, s)
        shapes.append((src, _random_format(rng, 8)))
    return shapes


def _conversion_pairs() -> list[tuple[FixedPointType, FixedPointType]]:
    pairs = []
    for src, (w, i, s) in _conversion_shapes():
        for q, o in MODES:
            dst = fixed(w, i, s, q, o)
            if not fx.conversion_trips_assert(src, dst):
                pairs.append((src, dst))
    int_sources = [fixed(8, 3), fixed(6, 0), fixed(5, 0, False), fixed(4, 6), fixed(7, 7, False), fixed(1, 1),
                   integer(8), integer(5, False), fixed(8, 1)]
    for src in int_sources:
        for dst in (integer(3), integer(8), integer(12), integer(1), integer(4, False), integer(9, False)):
            assert fx.conversion_hazard(src, dst) is None
            pairs.append((src, dst))
    return pairs


def _conversion_program(pairs) -> str:
    calls = "\n".join(f"  conv<{s.cpp}, {d.cpp} >();" for s, d in pairs)
    return f"""
template <class S, class D> void conv() {{
  for (unsigned long long b = 0; b < (1ull << S::width); ++b) {{
    S x; set_bits(x, b); D y = x; OUT.push_back(bits(y));
  }}
}}
int main() {{
{calls}
  flush();
  return 0;
}}
"""


def test_fixed_to_fixed_all_patterns():
    """Every bit pattern of ~1700 (source, target) pairs: 60 shapes × 28 modes, plus to ap_int."""
    pairs = _conversion_pairs()
    out = int64s(run_all([_conversion_program(p) for p in split(pairs, PARTS)], "conv"))
    pos, compared = 0, 0
    for src, dst in pairs:
        raw = _patterns(src)
        got = to_signed(out[pos:pos + raw.size], dst.width, dst.signed)
        pos += raw.size
        want = fx.convert(raw, src, dst)
        assert np.array_equal(got, want), mismatch_report(f"{src.cpp} -> {dst.cpp}", raw, want, got)
        compared += raw.size
    assert pos == out.size and len(pairs) > 1600 and compared > 80_000


# ----------------------------------------------------------------------------- float -> fixed

def _float_inputs() -> np.ndarray:
    """Doubles covering ties for F <= 11, the overflow region of every tested type, and specials."""
    vals = [k / 2**12 for k in range(-(2**12), 2**12 + 1)]
    vals += [k / 16 for k in range(-512, 513)] + [float(k) for k in range(-1100, 1101)]
    for j in list(range(-1074, -1000, 7)) + list(range(-40, 64)) + list(range(1000, 1024, 5)):
        p = 2.0**j
        vals += [p, -p, np.nextafter(p, 0), -np.nextafter(p, 0), np.nextafter(p, np.inf), -np.nextafter(p, np.inf)]
    for tie in [k + 0.5 for k in range(-8, 8)] + [k / 8 + 1 / 16 for k in range(-16, 16)]:
        vals += [np.nextafter(tie, np.inf), np.nextafter(tie, -np.inf)]
    vals += [0.0, -0.0, np.inf, -np.inf, np.nan, -np.nan, 5e-324, -5e-324, 2.2e-308, 1.7976931348623157e308,
             0.1, -0.1, 1 / 3, -2 / 3]
    rng = np.random.default_rng(7)
    vals += list(rng.standard_normal(300) * 10.0 ** rng.integers(-4, 5, 300))
    return np.array(vals, dtype=np.float64)


FLOAT_SHAPES = [  # (W, I, signed): I < 0, 0, < W, = W, > W for W = 1, 3, 8, both signs
    (1, 1, True), (1, 0, False), (3, -2, True), (3, 0, False), (3, 3, True), (3, 6, False),
    (8, -2, False), (8, 0, True), (8, 3, True), (8, 8, False), (8, 11, True), (8, 4, False),
]


def _float_types() -> list[FixedPointType]:
    return [fixed(w, i, s, q, o) for w, i, s in FLOAT_SHAPES for q, o in MODES]


def _bits_literal(x: np.ndarray) -> str:
    return ",".join(f"{b}ull" for b in x.view(np.uint64).tolist())


def _float_program(types, inputs: np.ndarray, float32: bool) -> str:
    calls = "\n".join(f"  conv<{t.cpp} >();" for t in types)
    if float32:
        data = ",".join(f"{b}u" for b in inputs.astype(np.float32).view(np.uint32).tolist())
        load = "uint32_t r = IN[i]; float x; std::memcpy(&x, &r, 4);"
        decl = f"static const uint32_t IN[] = {{{data}}};"
    else:
        load = "uint64_t r = IN[i]; double x; std::memcpy(&x, &r, 8);"
        decl = f"static const uint64_t IN[] = {{{_bits_literal(inputs)}}};"
    return f"""
{decl}
template <class D> void conv() {{
  for (size_t i = 0; i < sizeof(IN) / sizeof(IN[0]); ++i) {{ {load} D y = x; OUT.push_back(bits(y)); }}
}}
int main() {{
{calls}
  flush();
  return 0;
}}
"""


def _check_float_block(out: np.ndarray, types, inputs: np.ndarray) -> int:
    n = inputs.size
    assert out.size == n * len(types)
    for k, t in enumerate(types):
        got = to_signed(out[k * n:(k + 1) * n], t.width, t.signed)
        want = fx.from_float(inputs, t)
        assert np.array_equal(got, want), mismatch_report(f"{inputs.dtype} -> {t.cpp}", inputs, want, got)
        # the finite, normal, moderate values alone take from_float's float64 path
        with np.errstate(invalid="ignore"):
            mag = np.abs(inputs)
            mask = np.isfinite(inputs) & ((mag >= 2.0 ** -1000) | (inputs == 0)) & (mag < 2.0 ** 40)
        sub = inputs[mask]
        if t.width <= 52 and not t.is_int:
            assert fx._from_float_short(sub.astype(np.float64), t) is not None
        want = fx.from_float(sub, t)
        assert np.array_equal(got[mask], want), mismatch_report(f"{inputs.dtype} -> {t.cpp}", sub, want, got[mask])
    return n * len(types)


def test_float_to_fixed():
    """~12k doubles (ties, overflow, subnormal, inf, NaN) into 336 types (12 formats × 28 modes); float32, ap_int."""
    inputs = _float_inputs()
    fixed_types = _float_types()
    int_types = [integer(w, s) for w in (1, 3, 8, 16, 33) for s in (True, False)]
    f32_types = [t for t in fixed_types if t.width == 8 and t.int_bits in (0, 4)] + int_types
    with np.errstate(over="ignore"):
        f32_inputs = np.concatenate([inputs.astype(np.float32), np.array(
            [1e-45, -1e-45, 1.1754942e-38, -3e-39, 3.4028235e38, -0.3, -0.7], dtype=np.float32)])
    sources = [_float_program(p, inputs, False) for p in split(fixed_types + int_types, PARTS)]
    sources.append(_float_program(f32_types, f32_inputs, True))
    paths = build(sources, "float", flags=("-O1",))
    out64 = int64s(b"".join(run(p) for p in paths[:-1]))
    compared = _check_float_block(out64, fixed_types + int_types, inputs)
    compared += _check_float_block(int64s(run(paths[-1])), f32_types, f32_inputs)
    assert compared > 4_000_000


# ----------------------------------------------------------------------------- arithmetic

def _arith_pairs() -> list[tuple[FixedPointType, FixedPointType]]:
    pairs: list[tuple[FixedPointType, FixedPointType]] = [
        (fixed(4, 2), fixed(3, 1)), (fixed(4, 2, False), fixed(3, 1)), (fixed(5, -2), fixed(4, 6, False)),
        (fixed(1, 1), fixed(1, 1)), (fixed(1, 0, False), fixed(1, 1)), (integer(4), integer(3, False)),
        (integer(1), integer(1)), (integer(1, False), integer(5)), (integer(4), fixed(3, 1)),
        (fixed(5, 2, False), integer(3, False)), (fixed(4, 2, True, "rnd_conv", "sat"), fixed(3, 0, False, "rnd")),
    ]
    rng = random.Random(2202)
    while len(pairs) < 120:
        a, b = _random_format(rng, 5), _random_format(rng, 5)
        ta = integer(a[0], a[2]) if rng.random() < 0.15 else fixed(*a)
        tb = integer(b[0], b[2]) if rng.random() < 0.15 else fixed(*b)
        pairs.append((ta, tb))
    return pairs


def _arith_program(pairs) -> str:
    calls = "\n".join(f"  arith<{a.cpp}, {b.cpp} >();" for a, b in pairs)
    return f"""
template <class A, class B> void arith() {{
  A a0 = 0; B b0 = 0;
  info(a0 + b0); info(a0 - b0); info(a0 * b0); info(-a0);
  for (unsigned i = 0; i < (1u << A::width); ++i) {{
    A a; set_bits(a, i);
    OUT.push_back(bits(-a));
    for (unsigned j = 0; j < (1u << B::width); ++j) {{
      B b; set_bits(b, j);
      OUT.push_back(bits(a + b)); OUT.push_back(bits(a - b)); OUT.push_back(bits(a * b));
      OUT.push_back((a == b) | (a != b) << 1 | (a < b) << 2 | (a <= b) << 3 | (a > b) << 4 | (a >= b) << 5);
    }}
  }}
}}
int main() {{
{calls}
  flush();
  return 0;
}}
"""


def _type_info(t: FixedPointType) -> list[int]:
    return [t.width, t.int_bits, int(t.signed), int(t.is_int)]


def test_arithmetic_all_patterns():
    """+ − × negation and the six comparisons: result types and every pair of values, 120 type pairs."""
    pairs = _arith_pairs()
    out = int64s(run_all([_arith_program(p) for p in split(pairs, PARTS)], "arith"))
    pos, compared = 0, 0
    for ta, tb in pairs:
        info = out[pos:pos + 16].tolist()
        pos += 16
        ra, rb = _patterns(ta), _patterns(tb)
        a, b = np.meshgrid(ra, rb, indexing="ij")
        results = [fx.add(a, ta, b, tb), fx.sub(a, ta, b, tb), fx.mul(a, ta, b, tb)]
        negated, neg_type = fx.neg(ra, ta)
        assert info == sum((_type_info(t) for _, t in results), []) + _type_info(neg_type), (ta, tb, info)
        block = out[pos:pos + ra.size * (1 + 4 * rb.size)].reshape(ra.size, 1 + 4 * rb.size)
        pos += block.size
        assert np.array_equal(to_signed(block[:, 0], neg_type.width, True), negated), (ta, "neg")
        values = block[:, 1:].reshape(ra.size, rb.size, 4)
        for k, (want, t) in enumerate(results):
            got = to_signed(values[..., k], t.width, t.signed)
            assert np.array_equal(got, want), mismatch_report(f"{ta.cpp} op{k} {tb.cpp}", a, want, got)
        flags = sum(fx.compare(op, a, ta, b, tb).astype(np.int64) << k
                    for k, op in enumerate(("eq", "ne", "lt", "le", "gt", "ge")))
        assert np.array_equal(values[..., 3], flags), (ta, tb, "compare")
        compared += a.size
    assert pos == out.size and compared > 20_000


# ----------------------------------------------------------------------------- unary

def _unary_types() -> list[FixedPointType]:
    types = [fixed(w, i, s) for w in (1, 2, 5, 8) for i in (-3, 0, 1, w - 1, w, w + 4) for s in (True, False)]
    return types + [integer(w, s) for w in (1, 5, 8) for s in (True, False)]


def _unary_program(types) -> str:
    calls = "\n".join(f"  unary<{t.cpp} >();" for t in types)
    return f"""
template <class A> void unary() {{
  for (unsigned i = 0; i < (1u << A::width); ++i) {{
    A a; set_bits(a, i);
    for (int n = 0; n < A::width; ++n) {{ OUT.push_back(bits(A(a << n))); OUT.push_back(bits(A(a >> n))); }}
    double d = a.to_double(); float f = a.to_float(); int64_t db; uint32_t fb;
    std::memcpy(&db, &d, 8); std::memcpy(&fb, &f, 4);
    OUT.push_back(db); OUT.push_back(fb);
  }}
}}
int main() {{
{calls}
  flush();
  return 0;
}}
"""


def test_shifts_and_to_float_all_patterns():
    """``<<`` / ``>>`` by every n < W, to_double and to_float of every value of 54 types."""
    types = _unary_types()
    out = int64s(run_all([_unary_program(split(types, 2)[k]) for k in range(2)], "unary"))
    pos = 0
    for t in types:
        raw = _patterns(t)
        per = 2 * t.width + 2
        block = out[pos:pos + raw.size * per].reshape(raw.size, per)
        pos += block.size
        for n in range(t.width):
            assert np.array_equal(to_signed(block[:, 2 * n], t.width, t.signed), fx.shl(raw, t, n)), (t, n)
            assert np.array_equal(to_signed(block[:, 2 * n + 1], t.width, t.signed), fx.shr(raw, t, n)), (t, n)
        assert np.array_equal(block[:, -2], fx.to_float(raw, t, np.float64).view(np.int64)), t
        assert np.array_equal(block[:, -1], fx.to_float(raw, t, np.float32).view(np.uint32)), t
    assert pos == out.size


# ----------------------------------------------------------------------------- the assertion

def _assert_cases() -> list[tuple[FixedPointType, FixedPointType]]:
    cases = []
    for src in (fixed(1, 1), fixed(3, 2), fixed(6, 2), fixed(1, 0, False), fixed(3, 1, False), fixed(6, 4, False),
                integer(4), integer(2, False)):
        for diff in (-1, 0, src.width - 1, src.width, src.width + 1, src.width + 3):
            dst_frac = src.frac_bits - diff
            for q in QUANT_MODES:
                cases.append((src, fixed(4, 4 - dst_frac, True, q, "sat" if diff % 2 else "wrap")))
    return cases


def test_assertion_condition():
    """The header aborts exactly where ``conversion_trips_assert`` says (each case runs in a forked child)."""
    cases = _assert_cases()
    calls = "\n".join(f"  case_<{s.cpp}, {d.cpp} >();" for s, d in cases)
    source = f"""
#include <csignal>
#include <sys/wait.h>
#include <unistd.h>
template <class S, class D> void case_() {{
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {{
    for (unsigned long long b = 0; b < (1ull << S::width); ++b) {{ S x; set_bits(x, b); D y = x; (void)y; }}
    _exit(0);
  }}
  int status = 0; waitpid(pid, &status, 0);
  printf("%d\\n", WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT ? 1 : WIFEXITED(status) ? 0 : 2);
}}
int main() {{
{calls}
  return 0;
}}
"""
    path = build_executable(PRELUDE + source, flags=("-O0",), name="assert")
    aborted = [int(x) for x in run(path).split()]
    predicted = [int(fx.conversion_trips_assert(s, d)) for s, d in cases]
    wrong = [(s.cpp, d.cpp, a) for (s, d), a, p in zip(cases, aborted, predicted, strict=True) if a != p]
    assert not wrong, wrong
    assert 0 < sum(aborted) < len(cases)


def test_bipolar_float_rules():
    """BipolarQuant: x >= 0 (−0.0 too) → +1, else and NaN → −1; XNOR product."""
    from fmlc.dialects.qt import BipolarType

    t = BipolarType()
    x = np.array([1.5, 0.0, -0.0, -1e-30, np.nan, -np.inf, np.inf])
    raw = fx.from_float(x, t)
    assert raw.tolist() == [1, 1, 1, 0, 0, 0, 1]
    assert fx.to_float(raw, t).tolist() == [1.0, 1.0, 1.0, -1.0, -1.0, -1.0, 1.0]
    a, b = np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1])
    prod, pt = fx.mul(a, t, b, t)
    assert pt == t and (2 * prod - 1).tolist() == [1, -1, -1, 1]
    v, vt = fx.mul(np.array([1, 0]), t, np.array([5, 5]), fixed(4, 2))
    assert vt == fixed(5, 3) and v.tolist() == [5, -5]
    assert struct.pack("<d", fx.to_float(np.array([0]), t)[0]) == struct.pack("<d", -1.0)
