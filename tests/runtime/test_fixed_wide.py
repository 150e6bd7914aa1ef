"""Accumulations past 64 bits: the exact path against g++ and against its own int64 path."""

from __future__ import annotations

import numpy as np
import pytest
from apharness import hex_bits, require_csim, run_all, to_signed

from fmlc.dialects.qt import FixedPointType, fixed
from fmlc.runtime import fixed as fx


def _extremes(t: FixedPointType, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """Random raw values of ``t`` with every other row at the extremes (largest sums)."""
    values = [int(v) for v in rng.integers(-(2**62), 2**62, size=int(np.prod(shape)))]
    values = [t.min_raw + v % (t.max_raw - t.min_raw + 1) for v in values]
    out = np.array(values, dtype=object).reshape(shape)
    out[::2] = t.min_raw
    return out


def _cpp_array(name: str, t: FixedPointType, values: np.ndarray) -> str:
    items = ",".join(f'"{hex_bits(int(v), t.width)}"' for v in values.reshape(-1))
    return f"static const char* const {name}[] = {{{items}}};"


def test_dense_100_bit_accumulation_matches_header():
    """x @ w with fixed<50,10> × fixed<48,2> over K = 16: a 102-bit accumulator, as ``acc += x*w`` in C++."""
    require_csim()
    tx, tw, k = fixed(50, 10), fixed(48, 2), 16
    rng = np.random.default_rng(5)
    x, w = _extremes(tx, (3, k), rng), _extremes(tw, (k, 4), rng)
    raw, rt = fx.dense(x, tx, w, tw)
    assert rt == fixed(102, 16) and raw.dtype == object
    source = f"""
{_cpp_array("X", tx, x)}
{_cpp_array("W", tw, w)}
int main() {{
  for (int b = 0; b < 3; ++b)
    for (int n = 0; n < 4; ++n) {{
      {rt.cpp} acc = 0;
      for (int i = 0; i < {k}; ++i) {{
        {tx.cpp} xv; {tw.cpp} wv; set_hex(xv, X[b * {k} + i]); set_hex(wv, W[i * 4 + n]);
        acc += xv * wv;
      }}
      ap_fixed<200, 100> wide = 0;  // the same sum with room to spare: acc must not have wrapped
      for (int i = 0; i < {k}; ++i) {{
        {tx.cpp} xv; {tw.cpp} wv; set_hex(xv, X[b * {k} + i]); set_hex(wv, W[i * 4 + n]);
        wide += xv * wv;
      }}
      std::cout << hex(acc) << " " << ({rt.cpp}(wide) == acc) << "\\n";
    }}
  return 0;
}}
"""
    words = run_all([source], "dense100").decode().split()
    header = np.array([to_signed(int(h, 16), rt.width, True) for h in words[::2]], dtype=object).reshape(3, 4)
    assert words[1::2] == ["1"] * 12
    assert (raw == header).all()
    assert max(abs(int(v)) for v in raw.reshape(-1)) > 2**64  # really past the int64 range
    wrapped = (x.astype(np.int64) @ w.astype(np.int64)).astype(object)  # what a silent int64 path would give
    assert (wrapped != header).any()


def test_sum_past_64_bits_matches_header():
    """The sum of 70 fixed<60,20> values needs 67 bits; ``sum`` gives the header's ``acc += v``."""
    require_csim()
    t, n = fixed(60, 20), 70
    v = _extremes(t, (n,), np.random.default_rng(9))
    raw, rt = fx.sum(v, t)
    assert rt == fixed(67, 27)
    source = f"""
{_cpp_array("V", t, v)}
int main() {{
  {rt.cpp} acc = 0;
  for (int i = 0; i < {n}; ++i) {{ {t.cpp} x; set_hex(x, V[i]); acc += x; }}
  std::cout << hex(acc) << "\\n";
  return 0;
}}
"""
    header = to_signed(int(run_all([source], "sum67").decode().split()[0], 16), rt.width, True)
    assert int(raw) == header and abs(header) > 2**63


@pytest.mark.parametrize("k", [3, 40, 1 << 13])
def test_limb_matmul_equals_object_matmul(k):
    """The wide path multiplies 24-bit limbs in int64; the result equals Python-int arithmetic."""
    rng = np.random.default_rng(k)
    tx, tw = fixed(70, 3), fixed(45, 45, False)
    x = _extremes(tx, (2, k), rng)
    w = np.array([int(v) % (tw.max_raw + 1) for v in rng.integers(0, 2**62, size=k * 3)], dtype=object).reshape(k, 3)
    raw, _ = fx.dense(x, tx, w, tw)
    want = np.array([[sum(int(a) * int(b) for a, b in zip(x[i], w[:, j], strict=True)) for j in range(3)]
                     for i in range(2)], dtype=object)
    assert (raw == want).all()


def test_int64_and_exact_paths_agree():
    """The same conversion and arithmetic through int64 inputs and through Python-int inputs."""
    rng = np.random.default_rng(3)
    src, dst = fixed(40, 12), fixed(20, 4, True, "rnd_conv", "sat_sym")
    v = rng.integers(src.min_raw, src.max_raw + 1, size=5000)
    assert np.array_equal(fx.convert(v, src, dst), fx.convert(v.astype(object), src, dst))
    wide_dst = fixed(90, 30, True, "rnd", "sat")  # forces the exact path on the same values
    assert (fx.convert(v, src, wide_dst) == v.astype(object) << 32).all()
    x = rng.standard_normal(5000) * 100
    assert np.array_equal(fx.from_float(x, dst), fx.convert(fx.from_float(x, fixed(63, 12)), fixed(63, 12), dst))


@pytest.mark.parametrize("wx, ww, k", [(8, 8, 255), (8, 8, 256), (8, 8, 257), (12, 12, 512), (20, 26, 128),
                                       (20, 26, 129), (26, 26, 4), (4, 3, 9)])
def test_dense_float_gemm_paths_are_exact(wx, ww, k):
    """dense's float32 (sum below 2^24) and float64 (below 2^53) GEMMs, with the bias joined in
    int64, equal Python-int arithmetic at the extremes, where every partial sum is largest."""
    rng = np.random.default_rng(k + wx)
    tx, tw, tb = fixed(wx, 2), fixed(ww, 1), fixed(30, 12)
    x = _extremes(tx, (6, k), rng).astype(np.int64)
    w = _extremes(tw, (k, 5), rng).astype(np.int64)
    w[:, ::2] = tw.min_raw  # min × min: the largest positive products
    b = _extremes(tb, (5,), rng).astype(np.int64)
    rt = fx.dense_type(tx, tw, k)
    expect_float = np.float32 if rt.width <= 24 else (np.float64 if rt.width <= 53 else None)
    assert fx.gemm_dtype(tx, tw, k, tb) is expect_float
    raw, out_t = fx.dense(x, tx, w, tw, b, tb)
    assert out_t == fx.dense_type(tx, tw, k, tb)
    shift_acc, shift_b = out_t.frac_bits - rt.frac_bits, out_t.frac_bits - tb.frac_bits
    want = [[(sum(int(x[i, j]) * int(w[j, n]) for j in range(k)) << shift_acc) + (int(b[n]) << shift_b)
             for n in range(5)] for i in range(6)]
    assert raw.tolist() == want
