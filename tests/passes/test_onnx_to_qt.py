"""onnx-to-qt, one conversion pattern at a time.

Each case builds a tiny ONNX/QONNX model with ``onnx.helper``, imports it, lowers it
with the standard pipeline (onnx-to-qt, canonicalize, qt-infer-precision, canonicalize,
cse) and runs both levels on random inputs.  Where the lowering promises exactness
(power-of-two quantisers, quantised weights, exact pools, ...) the ``qt`` level must
equal the ``onnx`` level bit for bit; table-based activations are checked against the
error bound the lowering records on the op.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from fmlc.compiler.cli import _context, build_parser
from fmlc.compiler.diagnostics import FmlcError
from fmlc.compiler.models import lower_to, run_batch
from fmlc.passes.import_onnx import import_model

FMLC = Path(sys.executable).parent / "fmlc"
QDOMAIN = "qonnx.custom_op.general"
N = 64  # samples per case: the models take the whole batch at once
ROUNDING_MODES = ["ROUND", "HALF_EVEN", "FLOOR", "DOWN", "HALF_UP", "HALF_DOWN", "CEIL"]
SIGNED_NARROW = [(1, 0), (1, 1), (0, 0), (0, 1)]


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


# ----------------------------------------------------------------------------- building models

class Graph:
    """A small ONNX graph under construction: nodes and initialisers get fresh names."""

    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []
        self.inputs: list[onnx.ValueInfoProto] = []
        self.k = 0

    def fresh(self, prefix: str) -> str:
        self.k += 1
        return f"{prefix}{self.k}"

    def input(self, name: str, shape) -> str:
        self.inputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, list(shape)))
        return name

    def const(self, value, dtype=np.float32) -> str:
        name = self.fresh("c")
        self.inits.append(numpy_helper.from_array(np.asarray(value, dtype=dtype), name))
        return name

    def node(self, op: str, inputs, n_out: int = 1, domain: str = "", name: str | None = None, **attrs):
        name = name or self.fresh(op.lower() + "_")
        outs = [f"{name}_out{i}" if n_out > 1 else f"{name}_out" for i in range(n_out)]
        self.nodes.append(helper.make_node(op, list(inputs), outs, name=name, domain=domain, **attrs))
        return outs if n_out > 1 else outs[0]

    def quant(self, x: str, scale, bits: int, signed: int = 1, narrow: int = 0, rounding: str = "ROUND",
              zero=0.0, name: str | None = None) -> str:
        return self.node("Quant", [x, self.const(scale), self.const(zero), self.const(float(bits))],
                         domain=QDOMAIN, name=name, signed=signed, narrow=narrow, rounding_mode=rounding)

    def model(self, *outputs: str, opset: int = 18) -> onnx.ModelProto:
        outs = [helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in outputs]
        g = helper.make_graph(self.nodes, "g", self.inputs, outs, self.inits)
        return helper.make_model(g, opset_imports=[helper.make_opsetid("", opset),
                                                   helper.make_opsetid(QDOMAIN, 1)])


def quantised_weights(g: Graph, shape, bits: int = 4, scale: float = 2.0**-3, seed: int = 1,
                      narrow: int = 1) -> str:
    """Float weights through a signed po2 Quant: folded into exact constants by the lowering."""
    w = rng(seed).normal(0, 0.5, size=shape).astype(np.float32)
    return g.quant(g.const(w), scale, bits, signed=1, narrow=narrow)


# ----------------------------------------------------------------------------- running both levels

class Lowered:
    """Both levels of a model: ``run`` gives (onnx outputs, qt outputs)."""

    def __init__(self, model: onnx.ModelProto, *cli_args: str) -> None:
        self.onnx = import_model(model)
        args = build_parser().parse_args(["model.onnx", *cli_args])
        self.qt = lower_to(import_model(model), "qt", args, _context(args))

    def ops(self) -> list[str]:
        return [op.name for op in self.qt.walk()]

    def op(self, name: str):
        found = [op for op in self.qt.walk() if op.name == name]
        assert found, f"no {name} in {self.ops()}"
        return found[0]

    def run(self, **inputs: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        feeds = {k: np.asarray(v, np.float32) for k, v in inputs.items()}
        a = run_batch(self.onnx, feeds)
        b = run_batch(self.qt, feeds)
        return list(a.values()), list(b.values())


def lower(model: onnx.ModelProto, *cli_args: str) -> Lowered:
    lw = Lowered(model, *cli_args)
    assert not [n for n in lw.ops() if n.startswith("onnx.")], lw.ops()
    return lw


def assert_exact(model: onnx.ModelProto, **inputs: np.ndarray) -> Lowered:
    """The qt level equals the onnx level exactly (-0.0 == 0.0) on every output."""
    lw = lower(model)
    ys_onnx, ys_qt = lw.run(**inputs)
    for y_onnx, y_qt in zip(ys_onnx, ys_qt, strict=True):
        assert y_onnx.shape == y_qt.shape
        bad = np.flatnonzero(y_onnx.ravel() != y_qt.ravel())
        assert bad.size == 0, (f"{bad.size} of {y_onnx.size} differ, e.g. onnx {y_onnx.ravel()[bad[:5]]} "
                               f"qt {y_qt.ravel()[bad[:5]]}\n{lw.ops()}")
    return lw


def grid_inputs(shape, step: float, span: float, seed: int = 0) -> np.ndarray:
    """Random values in ±1.25·span (beyond it: saturation): a third continuous, a third exactly
    on the half-step grid (rounding ties), a third one float32 ulp away from a grid point."""
    r = rng(seed)
    cont = r.uniform(-span * 1.25, span * 1.25, size=shape).astype(np.float32)
    ties = (np.round(r.uniform(-span * 1.25, span * 1.25, size=shape) / (step / 2)) * (step / 2)).astype(np.float32)
    grid = (np.round(r.uniform(-span * 1.25, span * 1.25, size=shape) / step) * step).astype(np.float32)
    near = np.nextafter(grid, np.where(r.random(size=shape) < 0.5, -np.inf, np.inf).astype(np.float32))
    pick = r.integers(0, 3, size=shape)
    return np.choose(pick, [cont, ties, near]).astype(np.float32)


# ----------------------------------------------------------------------------- Quant

@pytest.mark.parametrize(("signed", "narrow"), SIGNED_NARROW)
@pytest.mark.parametrize("rounding", ROUNDING_MODES[:-1])  # CEIL: see test_quant_on_graph_input_approximate
def test_quant_per_tensor_on_input(rounding, signed, narrow):
    g = Graph()
    x = g.input("x", [N, 8])
    y = g.quant(x, 2.0**-2, 4, signed, narrow, rounding)
    lw = assert_exact(g.model(y), x=grid_inputs((N, 8), 2.0**-2, 4.0))
    assert "qt.from_float" in lw.ops()


@pytest.mark.parametrize(("signed", "narrow"), SIGNED_NARROW)
@pytest.mark.parametrize("rounding", ROUNDING_MODES)
def test_quant_per_tensor_on_activation(rounding, signed, narrow):
    """A finer 10-bit quantiser first (exact input), then the quantiser under test rounds an activation."""
    g = Graph()
    x = g.input("x", [N, 8])
    a = g.quant(x, 2.0**-5, 10)
    y = g.quant(a, 2.0**-2, 4, signed, narrow, rounding)
    assert_exact(g.model(y), x=grid_inputs((N, 8), 2.0**-2, 4.0, seed=1))


@pytest.mark.parametrize(("scale", "zero", "rounding"), [
    pytest.param(1.0, 0.0, "CEIL", id="ceil"),
    pytest.param([[1.0, 0.5, 1.0, 0.25]], 0.0, "ROUND", id="per-channel"),
    pytest.param(0.125, 16.0, "ROUND", id="zero-point"),
])
def test_quant_on_graph_input_approximate(scale, zero, rounding, capsys):
    """Only a per-tensor, zero-point 0, non-CEIL Quant reads a float graph input exactly (a
    qt.from_float into its type); the others quantise the input as it enters at the default
    precision: a warning naming the node, an error under --strict."""
    g = Graph()
    inp = g.input("x", [N, 4])
    out = g.quant(inp, np.asarray(scale, np.float32), 8, signed=0 if zero else 1, zero=zero, rounding=rounding,
                  name="q_in")
    lw = lower(g.model(out))
    err = capsys.readouterr().err
    assert err.startswith("q_in: warning:") and "graph input" in err
    with pytest.raises(FmlcError, match="--strict"):
        lower(g.model(out), "--strict")
    # inside the default input precision's range the result is still exact
    (y_onnx,), (y_qt,) = lw.run(x=grid_inputs((N, 4), 2.0**-3, 8.0, seed=32).round(3))
    assert np.array_equal(y_qt, y_onnx)


@pytest.mark.parametrize("scale", [2.0**3, 1.0, 2.0**-7])
def test_quant_scales_and_widths(scale):
    g = Graph()
    x = g.input("x", [N, 8])
    y = g.quant(x, scale, 8)
    z = g.quant(y, scale * 4, 3, signed=1, narrow=1, rounding="HALF_UP")
    assert_exact(g.model(y, z), x=grid_inputs((N, 8), scale, 150 * scale, seed=2))


@pytest.mark.parametrize("rounding", ["ROUND", "FLOOR", "CEIL"])
def test_quant_per_channel_on_activation(rounding):
    g = Graph()
    x = g.input("x", [N, 4])
    a = g.quant(x, 2.0**-6, 12)
    scales = np.array([[2.0**-1, 2.0**-2, 1.0, 2.0**-3]], np.float32)
    y = g.quant(a, scales, 4, signed=1, narrow=0, rounding=rounding)
    assert_exact(g.model(y), x=grid_inputs((N, 4), 2.0**-3, 8.0, seed=3))


def test_quant_per_channel_on_conv_output():
    """Per-channel scales [1, C, 1, 1] on a tensor that travels channels-last."""
    g = Graph()
    x = g.input("x", [4, 2, 5, 5])
    a = g.quant(x, 2.0**-4, 8)
    c = g.node("Conv", [a, quantised_weights(g, (3, 2, 3, 3))], pads=[1, 1, 1, 1])
    scales = np.array([2.0**-2, 1.0, 2.0**-4], np.float32).reshape(1, 3, 1, 1)
    y = g.quant(c, scales, 5, signed=1, narrow=1)
    assert_exact(g.model(y), x=grid_inputs((4, 2, 5, 5), 2.0**-4, 4.0, seed=4))


def test_quant_with_integer_zero_point():
    g = Graph()
    x = g.input("x", [N, 8])
    y = g.quant(g.quant(x, 2.0**-6, 14), 2.0**-3, 8, signed=0, zero=16.0)
    assert_exact(g.model(y), x=grid_inputs((N, 8), 2.0**-3, 16.0, seed=5))


def test_quant_on_weights_folded_gemm_float_bias():
    g = Graph()
    x = g.input("x", [N, 16])
    a = g.quant(x, 2.0**-4, 8)
    bias = g.const(rng(6).normal(0, 1, size=8))  # arbitrary float32 values: held exactly
    y = g.node("Gemm", [a, quantised_weights(g, (8, 16), bits=6), bias], transB=1)
    lw = assert_exact(g.model(y), x=grid_inputs((N, 16), 2.0**-4, 8.0, seed=6))
    assert "qt.dense" in lw.ops()
    assert lw.op("qt.const") is not None


@pytest.mark.parametrize("trans_b", [0, 1])
def test_gemm_without_bias(trans_b):
    g = Graph()
    x = g.input("x", [N, 12])
    a = g.quant(x, 2.0**-3, 6)
    shape = (5, 12) if trans_b else (12, 5)
    y = g.node("Gemm", [a, quantised_weights(g, shape, bits=4)], transB=trans_b, alpha=0.5)
    lw = assert_exact(g.model(y), x=grid_inputs((N, 12), 2.0**-3, 4.0, seed=7))
    dense = lw.op("qt.dense")
    assert len(dense.operands) == 2 or dense.operands[2] is None


def test_matmul_then_add_constant():
    g = Graph()
    x = g.input("x", [N, 10])
    a = g.quant(x, 2.0**-4, 8)
    m = g.node("MatMul", [a, quantised_weights(g, (10, 6), bits=5)])
    y = g.node("Add", [m, g.const(rng(8).normal(0, 1, size=6))])
    lw = assert_exact(g.model(y), x=grid_inputs((N, 10), 2.0**-4, 8.0, seed=8))
    assert "qt.dense" in lw.ops()


def test_gemm_chain_relu_requant():
    """The jet-tagging shape: Quant -> Gemm -> Relu -> Quant -> Gemm, outputs of every stage."""
    g = Graph()
    x = g.input("x", [N, 16])
    a = g.quant(x, 2.0**-3, 8)
    h = g.node("Gemm", [a, quantised_weights(g, (16, 12), bits=6), g.const(rng(9).normal(0, 0.5, 12))])
    r = g.node("Relu", [h])
    q = g.quant(r, 2.0**-3, 8, signed=0)
    y = g.node("Gemm", [q, quantised_weights(g, (12, 3), bits=6, seed=2), g.const(rng(10).normal(0, 0.5, 3))])
    assert_exact(g.model(h, q, y), x=grid_inputs((N, 16), 2.0**-3, 8.0, seed=9))


def test_elementwise_with_constants():
    """Add / Sub / Mul / Div (power of two) / Neg with constants on a quantised tensor: exact."""
    g = Graph()
    x = g.input("x", [N, 6])
    a = g.quant(x, 2.0**-4, 8)
    outs = [g.node("Mul", [a, g.const(8.0)]), g.node("Mul", [g.const(rng(30).normal(0, 1, 6)), a]),
            g.node("Div", [a, g.const(4.0)]), g.node("Add", [a, g.const(0.3)]),
            g.node("Sub", [g.const(np.arange(6) / 3), a]), g.node("Neg", [a])]
    assert_exact(g.model(*outs), x=grid_inputs((N, 6), 2.0**-4, 8.0, seed=30))


def test_mul_by_integer_constant():
    """A 12-bit Quant (scale 2^-6, fixed<12,6>) times 3 needs fixed<14,8>: qt-infer-precision must
    size a qt.mul from its product range (it once used the add type: fixed<13,7>, 93 wrapped to -35)."""
    g = Graph()
    x = g.input("x", [1, 2])
    y = g.node("Mul", [g.quant(x, 2.0**-6, 12), g.const(3.0)], name="mul3")
    lw = lower(g.model(y))
    (y_onnx,), (y_qt,) = lw.run(x=np.array([[31.0, -32.0]], np.float32))
    assert y_onnx.tolist() == [[93.0, -96.0]]
    assert y_qt.tolist() == [[93.0, -96.0]]


def test_elementwise_runtime_operands():
    g = Graph()
    x = g.input("x", [N, 6])
    a = g.quant(x, 2.0**-4, 8)
    b = g.quant(x, 2.0**-2, 4, signed=0)
    outs = [g.node("Add", [a, b]), g.node("Sub", [b, a]), g.node("Mul", [a, b])]
    assert_exact(g.model(*outs), x=grid_inputs((N, 6), 2.0**-4, 8.0, seed=31))


# ----------------------------------------------------------------------------- convolution and pooling

def flat_size(model: onnx.ModelProto, **inputs: np.ndarray) -> int:
    """Elements per sample of the model's (only) output, at the onnx level."""
    (y,) = run_batch(import_model(model), inputs).values()
    return int(np.prod(y.shape[1:]))


CONV_2D = [
    pytest.param(dict(), id="plain"),
    pytest.param(dict(pads=[1, 1, 1, 1]), id="pads"),
    pytest.param(dict(pads=[0, 1, 2, 1], strides=[2, 2]), id="asym-pads-strides"),
    pytest.param(dict(dilations=[2, 2], pads=[2, 2, 2, 2]), id="dilations"),
    pytest.param(dict(group=2), id="groups"),
    pytest.param(dict(group=4, pads=[1, 1, 1, 1]), id="depthwise"),
    pytest.param(dict(auto_pad="SAME_UPPER", strides=[2, 1]), id="same-upper"),
]


@pytest.mark.parametrize("attrs", CONV_2D)
def test_conv2d_maxpool_flatten_gemm(attrs):
    c_in, c_out = 4, 4 if attrs.get("group", 1) == 4 else 6
    g = Graph()
    x = g.input("x", [4, c_in, 8, 8])
    a = g.quant(x, 2.0**-4, 8)
    w = quantised_weights(g, (c_out, c_in // attrs.get("group", 1), 3, 3))
    c = g.node("Conv", [a, w, g.const(rng(11).normal(0, 0.5, c_out))], **attrs)
    r = g.quant(g.node("Relu", [c]), 2.0**-2, 4, signed=0)
    p = g.node("MaxPool", [r], kernel_shape=[2, 2], strides=[2, 2])
    f = g.node("Flatten", [p])
    k = flat_size(g.model(f), x=np.zeros((4, c_in, 8, 8), np.float32))  # decides the Gemm's weight shape
    y = g.node("Gemm", [f, quantised_weights(g, (k, 5), seed=3), g.const(rng(12).normal(0, 0.5, 5))])
    lw = assert_exact(g.model(c, p, y), x=grid_inputs((4, c_in, 8, 8), 2.0**-4, 6.0, seed=11))
    for name in ("qt.conv", "qt.max_pool", "qt.dense", "qt.reshape"):
        assert name in lw.ops()


@pytest.mark.parametrize("attrs", [
    pytest.param(dict(), id="plain"),
    pytest.param(dict(pads=[2, 1], strides=[2]), id="pads-strides"),
    pytest.param(dict(dilations=[3]), id="dilations"),
    pytest.param(dict(group=3, pads=[1, 1]), id="depthwise"),
])
def test_conv1d_maxpool_flatten_gemm(attrs):
    c_out = 3 if attrs.get("group") == 3 else 4
    g = Graph()
    x = g.input("x", [N, 3, 16])
    a = g.quant(x, 2.0**-4, 8)
    w = quantised_weights(g, (c_out, 3 // attrs.get("group", 1), 3))
    c = g.node("Conv", [a, w, g.const(rng(13).normal(0, 0.5, c_out))], **attrs)
    p = g.node("MaxPool", [c], kernel_shape=[2], strides=[2])
    # requantise: the onnx level rounds the float-bias sums to float32, the qt level does not
    f = g.node("Flatten", [g.quant(p, 2.0**-3, 8)])
    k = flat_size(g.model(f), x=np.zeros((N, 3, 16), np.float32))
    y = g.node("Gemm", [f, quantised_weights(g, (k, 4), seed=4)])
    lw = assert_exact(g.model(c, y), x=grid_inputs((N, 3, 16), 2.0**-4, 6.0, seed=13))
    assert "qt.conv" in lw.ops()


def test_average_pool_2x2_exact():
    g = Graph()
    x = g.input("x", [8, 3, 6, 6])
    a = g.quant(x, 2.0**-3, 6)
    y = g.node("AveragePool", [a], kernel_shape=[2, 2], strides=[2, 2])
    lw = assert_exact(g.model(y), x=grid_inputs((8, 3, 6, 6), 2.0**-3, 4.0, seed=14))
    assert "qt.avg_pool" in lw.ops()


def test_global_average_pool_4x4_exact():
    g = Graph()
    x = g.input("x", [8, 5, 4, 4])
    a = g.quant(x, 2.0**-3, 6)
    y = g.node("GlobalAveragePool", [a])
    lw = assert_exact(g.model(y), x=grid_inputs((8, 5, 4, 4), 2.0**-3, 4.0, seed=15))
    pool = lw.op("qt.avg_pool")
    assert [a.value for a in pool.kernel] == [4, 4]


@pytest.mark.parametrize("global_", [False, True])
def test_average_pool_3x3_approximate(global_):
    g = Graph()
    x = g.input("x", [8, 3, 3, 3])
    a = g.quant(x, 2.0**-3, 6)
    y = g.node("GlobalAveragePool", [a]) if global_ else g.node("AveragePool", [a], kernel_shape=[3, 3])
    lw = lower(g.model(y))
    (y_onnx,), (y_qt,) = lw.run(x=grid_inputs((8, 3, 3, 3), 2.0**-3, 4.0, seed=15))
    np.testing.assert_allclose(y_qt, y_onnx, rtol=0, atol=2.0**-8)  # the layer result is fixed<16,6>


def test_float_conv_then_flatten():
    """Quant (4-bit) -> Conv with float weights -> Flatten: qt-infer-precision must not narrow the
    transpose after the (not narrowed) result cast, or the IR fails to verify."""
    g = Graph()
    x = g.input("x", [1, 2, 4, 4])
    c = g.node("Conv", [g.quant(x, 2.0**-3, 4), g.const(rng(1).normal(0, 0.3, (3, 2, 3, 3)))])
    y = g.node("Flatten", [c])
    lw = lower(g.model(y))
    (y_onnx,), (y_qt,) = lw.run(x=grid_inputs((1, 2, 4, 4), 2.0**-3, 1.0))
    np.testing.assert_allclose(y_qt, y_onnx, rtol=0, atol=0.05)


def test_global_max_pool():
    g = Graph()
    x = g.input("x", [8, 5, 3, 3])
    y = g.node("GlobalMaxPool", [g.quant(x, 2.0**-3, 6)])
    assert_exact(g.model(y), x=grid_inputs((8, 5, 3, 3), 2.0**-3, 4.0, seed=16))


# ----------------------------------------------------------------------------- activations

def test_relu_clip_leaky_relu():
    g = Graph()
    x = g.input("x", [N, 8])
    a = g.quant(x, 2.0**-4, 8)
    r = g.node("Relu", [a])
    c = g.node("Clip", [a, g.const(-1.5), g.const(2.25)])
    c1 = g.node("Clip", [a, "", g.const(0.75)])  # max only
    lr = g.node("LeakyRelu", [a], alpha=0.125)
    lw = assert_exact(g.model(r, c, c1, lr), x=grid_inputs((N, 8), 2.0**-4, 8.0, seed=17))
    for name in ("qt.relu", "qt.clip", "qt.leaky_relu"):
        assert name in lw.ops()


def test_clip_bounds_off_the_input_grid():
    """Clamped values equal the bounds, which need not lie on the input's grid."""
    g = Graph()
    x = g.input("x", [1, 6])
    y = g.node("Clip", [g.quant(x, 2.0**-3, 8), g.const(-0.3), g.const(0.77)])
    lw = lower(g.model(y))
    (y_onnx,), (y_qt,) = lw.run(x=np.array([[-1.0, -0.25, 0.0, 0.125, 0.75, 2.0]], np.float32))
    assert np.array_equal(y_onnx, np.float32([[-0.3, -0.25, 0.0, 0.125, 0.75, 0.77]]))
    assert np.array_equal(y_qt, y_onnx), f"qt {y_qt.tolist()}"


def test_non_po2_constants_held_exactly(capsys):
    """A bipolar scale or MultiThreshold out_scale / out_bias that is not a power of two is an
    exact float32 constant: exact, no warning, fine under --strict."""
    g = Graph()
    x = g.input("x", [N, 4])
    a = g.quant(x, 2.0**-3, 8)
    b = g.node("BipolarQuant", [a, g.const(0.3)], domain=QDOMAIN)
    th = np.sort(rng(33).uniform(-3, 3, (4, 3)), axis=1)
    t = g.node("MultiThreshold", [a, g.const(th)], domain=QDOMAIN, out_scale=0.3, out_bias=0.1)
    assert_exact(g.model(b, t), x=grid_inputs((N, 4), 2.0**-3, 4.0, seed=33))
    lower(g.model(b, t), "--strict")
    assert "warning" not in capsys.readouterr().err


def test_bipolar_quant_matmul_pm1_weights():
    g = Graph()
    x = g.input("x", [N, 16])
    b = g.node("BipolarQuant", [x, g.const(1.0)], domain=QDOMAIN)
    w = np.where(rng(18).random((16, 6)) < 0.5, -1.0, 1.0)
    y = g.node("MatMul", [b, g.const(w)])
    xs = rng(18).normal(0, 1, (N, 16)).astype(np.float32)
    xs[0, :4] = [0.0, -0.0, 1e-30, -1e-30]  # the sign boundary: x >= 0 is +1
    lw = assert_exact(g.model(y), x=xs)
    assert "qt.bipolar_dense" in lw.ops() and "qt.dense" not in lw.ops()


def test_bipolar_quant_matmul_scaled_weights():
    """±c weights with c a power of two: XNOR-popcount, then the scale."""
    g = Graph()
    x = g.input("x", [N, 8])
    a = g.quant(x, 2.0**-4, 8)
    b = g.node("BipolarQuant", [a, g.const(1.0)], domain=QDOMAIN)
    w = np.where(rng(19).random((8, 4)) < 0.5, -0.25, 0.25)
    y = g.node("MatMul", [b, g.const(w)])
    lw = assert_exact(g.model(y), x=grid_inputs((N, 8), 2.0**-4, 4.0, seed=19))
    assert "qt.bipolar_dense" in lw.ops()


@pytest.mark.parametrize(("shape", "layout"), [((N, 4), None), ((4, 3, 2, 2), None), ((N, 5, 3), None),
                                               ((4, 2, 2, 3), "NHWC")])
def test_multithreshold(shape, layout):
    g = Graph()
    x = g.input("x", shape)
    a = g.quant(x, 2.0**-3, 8)
    c = shape[-1] if layout == "NHWC" or len(shape) == 3 else shape[1]
    th = np.sort(rng(20).uniform(-6, 6, size=(c, 7)), axis=1)
    th[0, :3] = [-2.0, -1.125, 0.0]  # thresholds on the input grid: x >= T must hold at equality
    attrs = {"out_scale": 0.5, "out_bias": -1.5}
    if layout:
        attrs["data_layout"] = layout
    y = g.node("MultiThreshold", [a, g.const(th)], domain=QDOMAIN, **attrs)
    lw = assert_exact(g.model(y), x=grid_inputs(shape, 2.0**-3, 8.0, seed=20))
    assert "qt.threshold" in lw.ops()


def test_multithreshold_after_conv():
    """Thresholds per channel of a channels-last (conv output) tensor."""
    g = Graph()
    x = g.input("x", [4, 2, 5, 5])
    a = g.quant(x, 2.0**-3, 6)
    c = g.node("Conv", [a, quantised_weights(g, (3, 2, 3, 3))])
    th = np.sort(rng(21).uniform(-3, 3, size=(3, 4)), axis=1)
    y = g.node("MultiThreshold", [c, g.const(th)], domain=QDOMAIN)
    assert_exact(g.model(y), x=grid_inputs((4, 2, 5, 5), 2.0**-3, 4.0, seed=21))


@pytest.mark.parametrize("rounding", ["FLOOR", "ROUND", "HALF_UP"])
@pytest.mark.parametrize(("signed", "narrow"), [(1, 0), (1, 1), (0, 0)])
def test_trunc_v2(rounding, signed, narrow):
    g = Graph()
    x = g.input("x", [N, 8])
    a = g.quant(x, 2.0**-4, 10)
    y = g.node("Trunc", [a, g.const(2.0**-4), g.const(0.0), g.const(10.0), g.const(2.0**-2), g.const(6.0)],
               domain=QDOMAIN, rounding_mode=rounding, signed=signed, narrow=narrow)
    assert_exact(g.model(y), x=grid_inputs((N, 8), 2.0**-2, 12.0, seed=22))


# ----------------------------------------------------------------------------- shape and data movement

def test_shape_ops_on_quantised_tensors():
    g = Graph()
    x = g.input("x", [8, 4, 6])
    a = g.quant(x, 2.0**-3, 6)
    b = g.quant(x, 2.0**-1, 4)
    cat = g.node("Concat", [a, b], axis=1)  # mixed types: the union type
    s0, s1 = g.node("Split", [cat, g.const([3, 5], np.int64)], n_out=2, axis=1)
    sl = g.node("Slice", [s1, g.const([1, 5], np.int64), g.const([5, 0], np.int64), g.const([1, 2], np.int64),
                          g.const([1, -2], np.int64)])
    pd = g.node("Pad", [s0, g.const([0, 1, 0, 0, 0, 2], np.int64), g.const(0.625)])
    tr = g.node("Transpose", [pd], perm=[2, 0, 1])
    rs = g.node("Reshape", [tr, g.const([0, -1], np.int64)])
    lw = assert_exact(g.model(cat, s0, s1, sl, pd, tr, rs), x=grid_inputs((8, 4, 6), 2.0**-3, 4.0, seed=23))
    for name in ("qt.concat", "qt.split", "qt.slice", "qt.pad", "qt.reshape"):
        assert name in lw.ops()


def test_shape_ops_on_channels_last_tensors():
    """Concat / Split / Slice / Pad / Transpose / Reshape on conv outputs (which travel NHWC)."""
    g = Graph()
    x = g.input("x", [2, 2, 6, 6])
    a = g.quant(x, 2.0**-3, 6)
    c = g.node("Conv", [a, quantised_weights(g, (4, 2, 3, 3))], pads=[1, 1, 1, 1])
    q = g.quant(c, 2.0**-2, 6)
    cat = g.node("Concat", [q, a], axis=1)
    s0, s1 = g.node("Split", [cat, g.const([2, 4], np.int64)], n_out=2, axis=1)
    sl = g.node("Slice", [s1, g.const([1, 0], np.int64), g.const([6, 6], np.int64), g.const([2, 3], np.int64),
                          g.const([2, 2], np.int64)])
    pd = g.node("Pad", [s0, g.const([0, 0, 1, 0, 0, 0, 0, 1], np.int64)])
    tr = g.node("Transpose", [pd, ], perm=[0, 2, 3, 1])
    rs = g.node("Reshape", [tr, g.const([2, -1], np.int64)])
    assert_exact(g.model(cat, s0, sl, pd, tr, rs), x=grid_inputs((2, 2, 6, 6), 2.0**-3, 4.0, seed=24))


def test_squeeze_unsqueeze_identity():
    g = Graph()
    x = g.input("x", [N, 1, 6])
    a = g.quant(x, 2.0**-3, 6)
    s = g.node("Squeeze", [a, g.const([1], np.int64)])
    i = g.node("Identity", [s])
    u = g.node("Unsqueeze", [i, g.const([2], np.int64)])
    assert_exact(g.model(s, u), x=grid_inputs((N, 1, 6), 2.0**-3, 4.0, seed=25))


# ----------------------------------------------------------------------------- approximations

def non_po2_model() -> onnx.ModelProto:
    g = Graph()
    x = g.input("x", [N, 4])
    y = g.quant(g.quant(x, 2.0**-4, 10), 0.1, 8, name="odd_scale_quant")
    return g.model(y)


def test_non_po2_scale_warns(capsys):
    lower(non_po2_model())
    err = capsys.readouterr().err
    warnings = [ln for ln in err.splitlines() if "warning" in ln]
    assert len(warnings) == 1
    assert "odd_scale_quant" in warnings[0] and "not a power of two" in warnings[0] and "error" in warnings[0]


def test_non_po2_scale_within_stated_error():
    lw = lower(non_po2_model())
    x = rng(26).normal(0, 5, (N, 4)).astype(np.float32).round(4)
    (y_onnx,), (y_qt,) = lw.run(x=x)
    # one quantisation step plus the rescale error at most
    assert np.max(np.abs(y_qt - y_onnx)) <= 0.1 + 1e-3


def test_non_po2_scale_cli_warning_and_strict(tmp_path):
    path = tmp_path / "m.onnx"
    onnx.save(non_po2_model(), str(path))
    p = subprocess.run([str(FMLC), str(path), "--emit=qt"], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert "warning" in p.stderr and "odd_scale_quant" in p.stderr and "not a power of two" in p.stderr
    p = subprocess.run([str(FMLC), str(path), "--emit=qt", "--strict"], capture_output=True, text=True)
    assert p.returncode == 1, p.stderr
    assert "Traceback" not in p.stderr and p.stdout == ""
    first = p.stderr.splitlines()[0]
    assert "error" in first and "odd_scale_quant" in first and "--strict" in first


def test_non_po2_scale_strict_in_process():
    with pytest.raises(FmlcError, match="odd_scale_quant"):
        lower(non_po2_model(), "--strict")


def error_bound(lw: Lowered, name: str = "qt.lut") -> float:
    op = lw.op(name)
    attr = op.attributes.get("error_bound")
    assert attr is not None, f"{name} has no error_bound attribute"
    return float(attr.value)


@pytest.mark.parametrize("fn", ["Sigmoid", "Tanh"])
def test_float_sigmoid_tanh_within_error_bound(fn):
    g = Graph()
    x = g.input("x", [N, 16])
    y = g.node(fn, [x])
    lw = lower(g.model(y))
    bound = error_bound(lw)
    xs = rng(27).normal(0, 3, (N, 16)).astype(np.float32)
    (y_onnx,), (y_qt,) = lw.run(x=xs)
    # the float input is first converted to the default fixed<16,6> (truncating, lsb 2^-10):
    # the slope (<= 1/4 for sigmoid, <= 1 for tanh) times one lsb adds to the table's bound
    margin = 2.0**-10 * (0.25 if fn == "Sigmoid" else 1.0) + 1e-6
    err = float(np.max(np.abs(y_qt - y_onnx)))
    assert err <= bound + margin, f"error {err} > bound {bound}"
    assert bound < 0.01


@pytest.mark.parametrize("fn", ["Sigmoid", "Tanh"])
def test_quantised_sigmoid_tanh_within_error_bound(fn):
    """With an exactly quantised input the table's bound is the whole error."""
    g = Graph()
    x = g.input("x", [N, 16])
    y = g.node(fn, [g.quant(x, 2.0**-5, 10)])
    lw = lower(g.model(y))
    bound = error_bound(lw)
    (y_onnx,), (y_qt,) = lw.run(x=grid_inputs((N, 16), 2.0**-5, 12.0, seed=28))
    err = float(np.max(np.abs(y_qt - y_onnx)))
    assert err <= bound + 1e-6, f"error {err} > bound {bound}"


def test_softmax_argmax_agreement():
    g = Graph()
    x = g.input("x", [N * 4, 10])
    y = g.node("Softmax", [x], axis=-1)
    lw = lower(g.model(y))
    assert "qt.softmax" in lw.ops()
    logits = rng(29).normal(0, 2, (N * 4, 10)).astype(np.float32)
    (y_onnx,), (y_qt,) = lw.run(x=logits)
    agree = float(np.mean(np.argmax(y_qt, axis=-1) == np.argmax(y_onnx, axis=-1)))
    assert agree >= 0.99
    assert float(np.max(np.abs(y_qt - y_onnx))) <= error_bound(lw, "qt.softmax") + 1e-6


# ----------------------------------------------------------------------------- conversion errors

def _w(g: Graph, shape) -> str:
    return quantised_weights(g, shape)


CONVERSION_ERRORS = [
    ("gemm-B", [4, 4], lambda g, a: g.node("Gemm", [a, a], name="bad"), "Gemm with a non-constant B"),
    ("gemm-per-row-C", [4, 4], lambda g, a: g.node("Gemm", [a, _w(g, (4, 2)), g.const(np.arange(4.0).reshape(4, 1))],
                                                    name="bad"), "per-row C"),
    ("matmul-B", [4, 4], lambda g, a: g.node("MatMul", [a, a], name="bad"), "constant 2-D right operand"),
    ("div-runtime", [4, 4], lambda g, a: g.node("Div", [a, a], name="bad"), "Div by a non-constant"),
    ("conv-W", [3, 3, 3, 3], lambda g, a: g.node("Conv", [a, a], name="bad"), "non-constant weights"),
    ("conv-3d", [1, 3, 2, 2, 2], lambda g, a: g.node("Conv", [a, _w(g, (2, 3, 1, 1, 1))], name="bad"),
     "3-D convolution is not supported"),
    ("quant-scale", [4, 4], lambda g, a: g.node("Quant", [a, a, g.const(0.0), g.const(4.0)], domain=QDOMAIN,
                                                name="bad", signed=1, narrow=0), "the scale must be a constant"),
    ("quant-bits", [4, 4], lambda g, a: g.quant(a, 0.25, 4.5, name="bad"), "bit width must be a scalar integer"),
    ("quant-zero", [4, 4], lambda g, a: g.quant(a, 0.25, 4, zero=0.5, name="bad"), "non-integer zero-point"),
    ("pad-mode", [1, 3, 4, 4], lambda g, a: g.node("Pad", [a, g.const([0, 0, 1, 1, 0, 0, 1, 1], np.int64)],
                                                    mode="reflect", name="bad"), "Pad mode 'reflect'"),
    ("avgpool-dilations", [1, 3, 4, 4], lambda g, a: g.node("AveragePool", [a], kernel_shape=[2, 2],
                                                             dilations=[2, 2], name="bad"), "dilations"),
    ("trunc-per-channel", [1, 3, 2, 2],
     lambda g, a: g.node("Trunc", [a, g.const(np.full((1, 3, 1, 1), 0.125)), g.const(0.0), g.const(8.0),
                                   g.const(0.5), g.const(4.0)], domain=QDOMAIN, name="bad"), "scalar power-of-two"),
    ("cast-int", [4, 4], lambda g, a: g.node("Cast", [a], to=TensorProto.INT32, name="bad"), "non-float type"),
]


@pytest.mark.parametrize(("shape", "build", "message"), [pytest.param(*c[1:], id=c[0]) for c in CONVERSION_ERRORS])
def test_conversion_errors(shape, build, message):
    g = Graph()
    x = g.input("x", shape)
    y = build(g, g.quant(x, 2.0**-3, 6))
    with pytest.raises(FmlcError, match=message) as e:
        lower(g.model(y))
    assert str(e.value).startswith("bad: error:")


@pytest.mark.parametrize(("build", "what"), [
    pytest.param(lambda g, a: g.node("Div", [a, g.const(3.0)], name="bad"), "division", id="div"),
    pytest.param(lambda g, a: g.node("BatchNormalization", [a, *(g.const(np.full(4, v)) for v in (1.5, 0.1, 0.2, 3.0))],
                                     name="bad"), "BatchNormalization", id="batchnorm"),
])
def test_approximations_warn_and_fail_under_strict(build, what, capsys):
    g = Graph()
    x = g.input("x", [2, 4])
    y = build(g, g.quant(x, 2.0**-3, 6))
    lower(g.model(y))
    err = capsys.readouterr().err
    assert err.startswith("bad: warning:") and what in err
    with pytest.raises(FmlcError, match="--strict") as e:
        lower(g.model(y), "--strict")
    assert str(e.value).startswith("bad: error:") and what in str(e.value)
