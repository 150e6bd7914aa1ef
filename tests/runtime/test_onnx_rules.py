"""Interpreter rules of the ``onnx`` dialect against onnxruntime and qonnx's reference.

Each case builds a one-node ONNX model, runs it with onnxruntime (standard ops)
or ``qonnx.core.onnx_exec.execute_onnx`` (QONNX ops), and runs the same node as
an ``onnx.<OpType>`` op through fmlc's interpreter.  Exact ops are compared bit
for bit; float64-evaluated ones (transcendentals, float sums) within a few ulps.
"""

from __future__ import annotations

import warnings

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from fmlc.compiler.attributes import (
    DenseElementsAttr,
    IntegerType,
    NoneType,
    TensorType,
    f16,
    f32,
    f64,
    i1,
    i8,
    i32,
    i64,
)
from fmlc.compiler.builtin import ModuleOp
from fmlc.compiler.driver import load_all
from fmlc.dialects.func import FuncOp, ReturnOp
from fmlc.dialects.onnx import OPS, QONNX_DOMAINS, SIGNATURES, NoValueOp
from fmlc.runtime.interpreter import InterpretError, run

ort = pytest.importorskip("onnxruntime")

load_all()

QDOMAIN = QONNX_DOMAINS[0]
RNG = np.random.default_rng(1234)

_ELEM = {np.dtype(np.float32): f32, np.dtype(np.float64): f64, np.dtype(np.float16): f16,
         np.dtype(np.int64): i64, np.dtype(np.int32): i32, np.dtype(np.int8): i8,
         np.dtype(np.uint8): IntegerType(8, "unsigned"), np.dtype(bool): i1}
_ONNX_TYPE = {np.dtype(np.float32): TensorProto.FLOAT, np.dtype(np.float64): TensorProto.DOUBLE,
              np.dtype(np.float16): TensorProto.FLOAT16, np.dtype(np.int64): TensorProto.INT64,
              np.dtype(np.int32): TensorProto.INT32, np.dtype(np.int8): TensorProto.INT8,
              np.dtype(np.uint8): TensorProto.UINT8, np.dtype(bool): TensorProto.BOOL}


def ttype(a: np.ndarray) -> TensorType:
    return TensorType(a.shape, _ELEM[a.dtype])


# ----------------------------------------------------------------------------- runners


def run_fmlc(op_type: str, inputs: list, outputs: list[np.ndarray] | int, **attrs) -> list[np.ndarray]:
    """Run one ``onnx.<op_type>`` op; ``inputs`` are arrays (None: an ``onnx.NoValue``),
    ``outputs`` the reference results (for the result types) or a count (f32 scalars, unchecked)."""
    given = [np.asarray(x) for x in inputs if x is not None]
    func = FuncOp.create("main", [ttype(a) for a in given], [])
    block = func.entry
    args = iter(block.args)
    operands = []
    for x in inputs:
        if x is None:
            nv = NoValueOp.build(output=NoneType())
            block.append(nv)
            operands.append(nv.results[0])
        else:
            operands.append(next(args))
    out_types = ([ttype(np.asarray(o)) for o in outputs] if isinstance(outputs, list)
                 else [TensorType((-1,), f32)] * outputs)
    props = {k: SIGNATURES[op_type].attributes[k].make(v) for k, v in attrs.items() if v is not None}
    op = OPS[op_type].build(inputs=operands, outputs=out_types, **props)
    block.append(op)
    block.append(ReturnOp.build(values=list(op.results)))
    module = ModuleOp.create([func])
    return [r.data for r in run(module, given)]


def _model(op_type: str, inputs: list, n_out: int, domain: str = "", opset: int = 21,
           qonnx_version: int = 1, **attrs) -> tuple[onnx.ModelProto, dict[str, np.ndarray]]:
    names = ["" if x is None else f"in{k}" for k, x in enumerate(inputs)]
    while names and names[-1] == "":
        names.pop()
    outs = [f"out{k}" for k in range(n_out)]
    node = helper.make_node(op_type, names, outs, domain=domain,
                            **{k: v for k, v in attrs.items() if v is not None})
    vis = [helper.make_tensor_value_info(n, _ONNX_TYPE[np.asarray(x).dtype], np.shape(x))
           for n, x in zip(names, inputs, strict=False) if n]
    if domain:  # qonnx needs typed outputs: its ops keep the input's shape
        ovis = [helper.make_tensor_value_info(n, TensorProto.FLOAT, np.shape(inputs[0])) for n in outs]
    else:
        ovis = [onnx.ValueInfoProto(name=n) for n in outs]
    graph = helper.make_graph([node], "g", vis, ovis)
    imports = [helper.make_opsetid("", opset)]
    if domain:
        imports.append(helper.make_opsetid(domain, qonnx_version))
    model = helper.make_model(graph, opset_imports=imports)
    model.ir_version = 10
    feeds = {n: np.asarray(x) for n, x in zip(names, inputs, strict=False) if n}
    return model, feeds


def run_ort(op_type: str, inputs: list, n_out: int = 1, opset: int = 21, **attrs) -> list[np.ndarray]:
    model, feeds = _model(op_type, inputs, n_out, opset=opset, **attrs)
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    sess = ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])
    return sess.run(None, feeds)


def run_qonnx(op_type: str, inputs: list, version: int = 1, **attrs) -> np.ndarray:
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.core.onnx_exec import execute_onnx

    model, feeds = _model(op_type, inputs, 1, domain=QDOMAIN, opset=13, qonnx_version=version, **attrs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = execute_onnx(ModelWrapper(model), feeds)
    return np.asarray(out["out0"])


def same_bits(got: np.ndarray, want: np.ndarray) -> None:
    got, want = np.asarray(got), np.asarray(want)
    assert got.dtype == want.dtype, (got.dtype, want.dtype)
    assert got.shape == want.shape, (got.shape, want.shape)
    if got.dtype.kind == "f":
        bits = {2: np.uint16, 4: np.uint32, 8: np.uint64}[got.dtype.itemsize]
        # NaN payloads may differ; compare NaN positions, bits elsewhere
        nan = np.isnan(want)
        np.testing.assert_array_equal(np.isnan(got), nan)
        mismatch = (got.view(bits) != want.view(bits)) & ~nan
        assert not mismatch.any(), f"{mismatch.sum()} of {got.size} differ: got {got[mismatch][:5]}, " \
                                   f"want {want[mismatch][:5]}"
    else:
        np.testing.assert_array_equal(got, want)


def check(op_type: str, inputs: list, n_out: int = 1, exact: bool = True, rtol: float = 1e-6,
          atol: float = 0.0, opset: int = 21, **attrs) -> list[np.ndarray]:
    """Compare the op on onnxruntime and fmlc; returns fmlc's results."""
    want = run_ort(op_type, inputs, n_out, opset=opset, **attrs)
    got = run_fmlc(op_type, inputs, want, **attrs)
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        if exact:
            same_bits(g, w)
        else:
            assert g.dtype == w.dtype and g.shape == w.shape, (g.dtype, g.shape, w.dtype, w.shape)
            np.testing.assert_allclose(g, w, rtol=rtol, atol=atol)
    return got


def check_qonnx(op_type: str, inputs: list, version: int = 1, **attrs) -> np.ndarray:
    want = run_qonnx(op_type, inputs, version, **attrs)
    (got,) = run_fmlc(op_type, inputs, [want], **attrs)
    same_bits(got, want.astype(np.float32))
    assert want.dtype == np.float32
    return got


def rand(*shape: int) -> np.ndarray:
    return RNG.standard_normal(shape).astype(np.float32)


def small_ints(*shape: int, lo: int = -4, hi: int = 5) -> np.ndarray:
    return RNG.integers(lo, hi, shape).astype(np.float32)


def i64s(*v: int) -> np.ndarray:
    return np.array(v, dtype=np.int64)


# ----------------------------------------------------------------------------- constants and plumbing


@pytest.mark.parametrize("data", [
    np.arange(6, dtype=np.float32).reshape(2, 3) - 2.5,
    np.array([3, -1, 7], dtype=np.int64),
    np.array(1.5, dtype=np.float32),
    np.array([True, False]),
])
def test_constant(data):
    value = DenseElementsAttr(ttype(data), data)
    tensor = helper.make_tensor("v", _ONNX_TYPE[data.dtype], data.shape, data.reshape(-1).tolist())
    (want,) = run_ort("Constant", [], value=tensor)
    (got,) = run_fmlc("Constant", [], [want], value=value)
    same_bits(got, want)


def test_novalue_and_identity():
    x = rand(2, 3)
    check("Identity", [x])
    check("Identity", [np.array([1, 2], dtype=np.int64)])
    nv = NoValueOp.build(output=NoneType())
    func = FuncOp.create("main", [], [])
    func.entry.append(nv)
    func.entry.append(ReturnOp.build(values=[]))
    assert run(ModuleOp.create([func]), []) == []


# ----------------------------------------------------------------------------- elementwise


@pytest.mark.parametrize("op_type", ["Add", "Sub", "Mul", "Div"])
@pytest.mark.parametrize("shapes", [((2, 3), (2, 3)), ((2, 3, 4), (4,)), ((3, 1), (1, 5)), ((), (2, 2))])
def test_binary_float(op_type, shapes):
    a, b = rand(*shapes[0]), rand(*shapes[1])
    check(op_type, [a, b])


@pytest.mark.parametrize("op_type", ["Add", "Sub", "Mul", "Div"])
@pytest.mark.parametrize("dtype", [np.int64, np.int32])
def test_binary_int(op_type, dtype):
    a = RNG.integers(-50, 50, (4, 5)).astype(dtype)
    b = RNG.integers(1, 9, (5,)).astype(dtype) * np.array([1, -1, 1, -1, 1], dtype=dtype)
    check(op_type, [a, b])


def test_div_special_values():
    a = np.array([1, -1, 0, 0, np.inf, 3], dtype=np.float32)
    b = np.array([0, 0, 0, -0.0, np.inf, -0.0], dtype=np.float32)
    check("Div", [a, b])


def test_neg():
    check("Neg", [rand(3, 4)])
    check("Neg", [np.array([3, -7, 0], dtype=np.int64)])


# ----------------------------------------------------------------------------- activations


def test_relu():
    x = np.concatenate([rand(40), np.array([0.0, -0.0, np.inf, -np.inf], dtype=np.float32)])
    check("Relu", [x])


@pytest.mark.parametrize("alpha", [None, 0.1, 3.0])
def test_leaky_relu(alpha):
    check("LeakyRelu", [rand(4, 5)], alpha=alpha)


@pytest.mark.parametrize("slope_shape", [(1,), (5,), (4, 1), (4, 5)])
def test_prelu(slope_shape):
    check("PRelu", [rand(3, 4, 5), rand(*slope_shape)])


@pytest.mark.parametrize("bounds", [(None, None), (-0.5, None), (None, 0.25), (-0.5, 0.5)])
def test_clip(bounds):
    lo, hi = (None if b is None else np.array(b, dtype=np.float32) for b in bounds)
    check("Clip", [rand(3, 7), lo, hi])


def test_clip_int():
    check("Clip", [np.arange(-5, 6, dtype=np.int64), np.array(-2, dtype=np.int64), np.array(3, dtype=np.int64)])


@pytest.mark.parametrize("op_type", ["Sigmoid", "Tanh", "Exp"])
def test_transcendental(op_type):
    x = np.concatenate([rand(200) * 4, np.array([0.0, -0.0, 30, -30, 100, -100], dtype=np.float32)])
    check(op_type, [x], exact=False, rtol=3e-6, atol=1e-7)


@pytest.mark.parametrize("ab", [(None, None), (0.5, 0.25)])
def test_hard_sigmoid(ab):
    x = small_ints(50, lo=-8, hi=8) / 4
    check("HardSigmoid", [x], alpha=ab[0], beta=ab[1])


@pytest.mark.parametrize("axis", [None, 0, 1, -1, -2])
def test_softmax(axis):
    x = rand(3, 4, 5) * 3
    check("Softmax", [x], exact=False, rtol=2e-6, atol=1e-8, axis=axis)


def test_softmax_opset13_is_per_axis():
    x = rand(2, 3, 4)
    check("Softmax", [x], exact=False, rtol=2e-6, atol=1e-8, opset=13, axis=1)


# ----------------------------------------------------------------------------- linear algebra


@pytest.mark.parametrize("transA", [0, 1])
@pytest.mark.parametrize("transB", [0, 1])
@pytest.mark.parametrize("c_shape", [None, (), (6,), (1, 6), (4, 1), (4, 6)])
def test_gemm_exact(transA, transB, c_shape):
    a = small_ints(*((5, 4) if transA else (4, 5)))
    b = small_ints(*((6, 5) if transB else (5, 6)))
    c = None if c_shape is None else small_ints(*c_shape)
    check("Gemm", [a, b, c], transA=transA, transB=transB)


@pytest.mark.parametrize("alpha_beta", [(0.5, 2.0), (0.25, 0.0), (1.0, -1.0)])
def test_gemm_alpha_beta(alpha_beta):
    a, b, c = small_ints(3, 4), small_ints(4, 2), small_ints(2)
    check("Gemm", [a, b, c], alpha=alpha_beta[0], beta=alpha_beta[1])


def test_gemm_float():
    a, b, c = rand(8, 64), rand(64, 16), rand(16)
    check("Gemm", [a, b, c], exact=False, rtol=1e-5, atol=1e-5, transB=0)
    # rounded once: equals the float64 result rounded to float32
    (got,) = run_fmlc("Gemm", [a, b, c], [np.zeros((8, 16), np.float32)])
    same_bits(got, (a.astype(np.float64) @ b.astype(np.float64) + c).astype(np.float32))


@pytest.mark.parametrize("shapes", [((3, 4), (4, 5)), ((2, 3, 4), (4, 5)), ((4,), (4, 2)), ((3, 4), (4,)),
                                    ((2, 1, 3, 4), (5, 4, 2))])
def test_matmul(shapes):
    a, b = small_ints(*shapes[0]), small_ints(*shapes[1])
    check("MatMul", [a, b])
    check("MatMul", [rand(*shapes[0]), rand(*shapes[1])], exact=False, rtol=1e-5, atol=1e-6)


def test_matmul_int():
    check("MatMul", [RNG.integers(-9, 9, (3, 4)), RNG.integers(-9, 9, (4, 2))])


# ----------------------------------------------------------------------------- convolution and pooling

CONV_CASES = {
    # name: (x shape, w shape, attrs)
    "1d": ((2, 3, 11), (4, 3, 3), {}),
    "1d_strided_padded": ((1, 2, 10), (3, 2, 4), {"strides": [2], "pads": [1, 2]}),
    "1d_dilated": ((1, 2, 12), (2, 2, 3), {"dilations": [3]}),
    "2d": ((2, 3, 7, 6), (5, 3, 3, 3), {}),
    "2d_kernel_shape": ((1, 2, 6, 6), (3, 2, 3, 2), {"kernel_shape": [3, 2]}),
    "2d_strided": ((1, 3, 9, 8), (4, 3, 3, 3), {"strides": [2, 3]}),
    "2d_dilated": ((1, 2, 9, 9), (3, 2, 3, 3), {"dilations": [2, 1]}),
    "2d_padded": ((1, 2, 5, 6), (3, 2, 3, 3), {"pads": [1, 0, 2, 1]}),
    "2d_grouped": ((2, 4, 6, 6), (6, 2, 3, 3), {"group": 2}),
    "2d_depthwise": ((1, 4, 6, 5), (4, 1, 3, 3), {"group": 4, "pads": [1, 1, 1, 1]}),
    "2d_depthwise_mult": ((1, 3, 5, 5), (6, 1, 2, 2), {"group": 3}),
    "2d_pointwise": ((1, 5, 4, 4), (7, 5, 1, 1), {}),
    "2d_valid": ((1, 2, 7, 7), (2, 2, 3, 3), {"auto_pad": "VALID", "strides": [2, 2]}),
    "2d_same_upper": ((1, 2, 7, 6), (2, 2, 4, 3), {"auto_pad": "SAME_UPPER", "strides": [2, 1]}),
    "2d_same_lower": ((1, 2, 7, 6), (2, 2, 4, 3), {"auto_pad": "SAME_LOWER", "strides": [2, 2]}),
    "3d": ((1, 2, 4, 5, 4), (3, 2, 2, 3, 2), {"pads": [0, 1, 0, 1, 0, 1]}),
}


@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("case", list(CONV_CASES))
def test_conv_exact(case, bias):
    xs, ws, attrs = CONV_CASES[case]
    x, w = small_ints(*xs), small_ints(*ws, lo=-2, hi=3)
    b = small_ints(ws[0]) if bias else None
    check("Conv", [x, w, b], **attrs)


@pytest.mark.parametrize("case", ["1d", "2d_strided", "2d_grouped", "2d_same_lower"])
def test_conv_float(case):
    xs, ws, attrs = CONV_CASES[case]
    x, w, b = rand(*xs), rand(*ws), rand(ws[0])
    check("Conv", [x, w, b], exact=False, rtol=1e-5, atol=1e-5, **attrs)


@pytest.mark.parametrize("auto_pad,pads", [("SAME_UPPER", [1, 2, 2, 2]), ("SAME_LOWER", [2, 2, 1, 2])])
def test_conv_same_dilated(auto_pad, pads):
    # onnxruntime rejects dilations with auto_pad SAME: compare with the explicit pads
    x, w = small_ints(1, 2, 8, 7), small_ints(3, 2, 2, 3)
    (want,) = run_ort("Conv", [x, w], strides=[1, 2], dilations=[3, 2], pads=pads)
    (got,) = run_fmlc("Conv", [x, w], [want], strides=[1, 2], dilations=[3, 2], auto_pad=auto_pad)
    same_bits(got, want)


def test_conv_bad_group():
    with pytest.raises(InterpretError, match="group"):
        run_fmlc("Conv", [rand(1, 3, 4, 4), rand(2, 3, 1, 1)], 1, group=2)


POOL_CASES = {
    "1d": ((2, 3, 10), {"kernel_shape": [3]}),
    "1d_strided_padded": ((1, 2, 9), {"kernel_shape": [3], "strides": [2], "pads": [1, 1]}),
    "2d": ((2, 3, 6, 7), {"kernel_shape": [2, 2]}),
    "2d_strided": ((1, 2, 7, 8), {"kernel_shape": [2, 2], "strides": [2, 2]}),
    "2d_3x3_s2": ((1, 2, 9, 9), {"kernel_shape": [3, 3], "strides": [2, 2]}),
    "2d_padded": ((1, 2, 5, 5), {"kernel_shape": [3, 3], "pads": [1, 1, 1, 1]}),
    "2d_asym_pad": ((1, 1, 6, 5), {"kernel_shape": [3, 2], "pads": [0, 1, 2, 0], "strides": [2, 1]}),
    "2d_ceil": ((1, 2, 7, 8), {"kernel_shape": [2, 3], "strides": [2, 2], "ceil_mode": 1}),
    "2d_ceil_padded": ((1, 1, 6, 6), {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1],
                                      "ceil_mode": 1}),
    "2d_ceil_drop_last": ((1, 1, 5, 5), {"kernel_shape": [2, 2], "strides": [3, 3], "pads": [0, 0, 1, 1],
                                         "ceil_mode": 1}),
    "2d_dilated": ((1, 2, 8, 8), {"kernel_shape": [2, 2], "dilations": [2, 3]}),
    "2d_valid": ((1, 1, 7, 7), {"kernel_shape": [2, 2], "strides": [2, 2], "auto_pad": "VALID"}),
    "2d_same_upper": ((1, 1, 7, 6), {"kernel_shape": [3, 2], "strides": [2, 2], "auto_pad": "SAME_UPPER"}),
    "2d_same_lower": ((1, 1, 7, 6), {"kernel_shape": [3, 2], "strides": [2, 2], "auto_pad": "SAME_LOWER"}),
    "3d": ((1, 1, 4, 5, 6), {"kernel_shape": [2, 2, 3], "strides": [2, 1, 2]}),
}


@pytest.mark.parametrize("case", list(POOL_CASES))
def test_max_pool(case):
    xs, attrs = POOL_CASES[case]
    check("MaxPool", [rand(*xs)], **attrs)


@pytest.mark.parametrize("include_pad", [0, 1])
@pytest.mark.parametrize("case", [c for c in POOL_CASES if "dilated" not in c])
def test_average_pool(case, include_pad):
    xs, attrs = POOL_CASES[case]
    # integer inputs: the sum is exact, and sum / count rounded once matches onnxruntime bit for bit
    check("AveragePool", [small_ints(*xs)], count_include_pad=include_pad, **attrs)
    check("AveragePool", [rand(*xs)], exact=False, rtol=1e-6, atol=1e-7, count_include_pad=include_pad, **attrs)


def test_average_pool_exact():
    x = small_ints(1, 2, 8, 8)
    check("AveragePool", [x], kernel_shape=[2, 2], strides=[2, 2])


def test_average_pool_dilated():
    x = small_ints(1, 2, 8, 8)
    check("AveragePool", [x], exact=False, opset=19, kernel_shape=[2, 3], dilations=[2, 2], pads=[1, 1, 1, 1],
          count_include_pad=1)


def test_max_pool_int8():
    x = RNG.integers(-128, 127, (1, 2, 5, 5)).astype(np.int8)
    check("MaxPool", [x], kernel_shape=[2, 2], pads=[1, 1, 1, 1])


def test_max_pool_indices_unsupported():
    with pytest.raises(InterpretError, match="Indices"):
        run_fmlc("MaxPool", [rand(1, 1, 4, 4)], 2, kernel_shape=[2, 2])


@pytest.mark.parametrize("shape", [(2, 3, 5), (1, 4, 3, 5), (2, 2, 2, 3, 2)])
def test_global_pools(shape):
    check("GlobalMaxPool", [rand(*shape)])
    check("GlobalAveragePool", [rand(*shape)], exact=False, rtol=1e-6, atol=1e-7)
    check("GlobalAveragePool", [small_ints(1, 3, 4, 4)])


@pytest.mark.parametrize("shape", [(2, 3), (2, 3, 5), (1, 3, 4, 4)])
@pytest.mark.parametrize("epsilon", [None, 1e-3])
def test_batch_norm(shape, epsilon):
    c = shape[1]
    x, scale, bias, mean = rand(*shape), rand(c), rand(c), rand(c)
    var = np.abs(rand(c)) + 0.1
    check("BatchNormalization", [x, scale, bias, mean, var], exact=False, rtol=1e-5, atol=1e-6, epsilon=epsilon)


def test_batch_norm_training_unsupported():
    c = 3
    inputs = [rand(1, c, 2, 2), rand(c), rand(c), rand(c), np.ones(c, np.float32)]
    with pytest.raises(InterpretError, match="inference"):
        run_fmlc("BatchNormalization", inputs, 3)


# ----------------------------------------------------------------------------- shape and data movement


@pytest.mark.parametrize("axis", [None, 0, 1, 2, 3, -1, -3])
def test_flatten(axis):
    check("Flatten", [rand(2, 3, 4)], axis=axis) if axis != 3 else check("Flatten", [rand(2, 3, 4)], axis=3)


@pytest.mark.parametrize("shape,allowzero", [
    ((6, 4), 0), ((-1,), 0), ((0, -1), 0), ((0, 0, 2, 2), 0), ((4, -1, 3), 0), ((1, 1, 24), 0), ((2, 3, 4), 1),
])
def test_reshape(shape, allowzero):
    check("Reshape", [rand(2, 3, 4), i64s(*shape)], allowzero=allowzero)


def test_reshape_allowzero_empty():
    check("Reshape", [np.zeros((0, 3), np.float32), i64s(3, 0)], allowzero=1)


def test_reshape_bad():
    with pytest.raises(InterpretError, match="reshape"):
        run_fmlc("Reshape", [rand(2, 3), i64s(4, -1)], 1)


@pytest.mark.parametrize("perm", [None, [0, 2, 1, 3], [3, 1, 0, 2]])
def test_transpose(perm):
    check("Transpose", [rand(2, 3, 4, 5)], perm=perm)


@pytest.mark.parametrize("axes", [None, [0], [-1], [0, 2]])
def test_squeeze(axes):
    check("Squeeze", [rand(1, 3, 1, 1), None if axes is None else i64s(*axes)])


@pytest.mark.parametrize("axes", [[0], [-1], [1, 3], [0, 4], [-1, -2]])
def test_unsqueeze(axes):
    check("Unsqueeze", [rand(2, 3, 4), i64s(*axes)])


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_concat(axis):
    shapes = [[2, 3, 4], [2, 3, 4], [2, 3, 4]]
    for s, n in zip(shapes, (1, 3, 2), strict=True):
        s[axis] = n
    check("Concat", [rand(*s) for s in shapes], axis=axis)
    check("Concat", [i64s(1, 2), i64s(3)], axis=0)


@pytest.mark.parametrize("case", [
    ({"axis": -1}, [1, 3, 3], 3), ({"axis": 0}, [2, 0, 4], 3),
    ({"axis": 2, "num_outputs": 4}, None, 4), ({"axis": 1, "num_outputs": 2}, None, 2),
    ({"axis": 2, "num_outputs": 3}, None, 3),
])
def test_split(case):
    attrs, split, n = case
    x = rand(6, 6, 7)
    check("Split", [x, None if split is None else i64s(*split)], n_out=n, opset=18, **attrs)


@pytest.mark.parametrize("axis,n", [(0, 2), (1, 3), (-1, 1)])
def test_split_equal_by_outputs(axis, n):
    check("Split", [rand(6, 6, 5)], n_out=n, opset=13, axis=axis)


@pytest.mark.parametrize("case", [
    ([1], [3], None, None),
    ([0, 1], [2, -1], None, None),
    ([-3], [100], [1], None),
    ([1, 0], [INT_MAX := 2**63 - 1, 4], [2, 0], [2, 3]),
    ([-1], [-INT_MAX - 1], [2], [-1]),
    ([10, 5], [-10, -100], [1, 2], [-2, -3]),
    ([4], [1], [0], [-2]),
    ([2], [2], [1], [1]),
    ([-100], [100], [-1], [3]),
])
def test_slice(case):
    starts, ends, axes, steps = case
    x = rand(5, 6, 7)
    check("Slice", [x, i64s(*starts), i64s(*ends), None if axes is None else i64s(*axes),
                    None if steps is None else i64s(*steps)])


@pytest.mark.parametrize("mode", ["constant", "reflect", "edge"])
@pytest.mark.parametrize("pads,axes", [
    ([0, 0, 1, 2, 0, 0, 2, 1], None), ([0, 1, 0, 2, 0, 1, 0, 0], None), ([1, 2, 2, 1], [2, 3]),
    ([1, 1], [-1]), ([0, 0, -1, 1, 0, 0, 1, -1], None),
])
def test_pad(mode, pads, axes):
    x = rand(1, 2, 4, 5)
    value = np.array(1.5, np.float32) if mode == "constant" else None
    check("Pad", [x, i64s(*pads), value, None if axes is None else i64s(*axes)], mode=mode)


def test_pad_default_value_and_int():
    check("Pad", [rand(2, 3), i64s(1, 0, 0, 2)])
    check("Pad", [i64s(1, 2, 3), i64s(2, 1), np.array(-7, np.int64)])


def test_pad_wrap_unsupported():
    with pytest.raises(InterpretError, match="wrap"):
        run_fmlc("Pad", [rand(2, 3), i64s(1, 0, 0, 2)], 1, mode="wrap")


@pytest.mark.parametrize("start,end", [(None, None), (1, None), (-2, None), (0, -1), (1, 3), (-10, 10), (3, 1)])
def test_shape(start, end):
    check("Shape", [rand(2, 3, 4, 5)], start=start, end=end)


@pytest.mark.parametrize("to", [TensorProto.FLOAT, TensorProto.DOUBLE, TensorProto.INT32, TensorProto.INT64,
                                TensorProto.BOOL, TensorProto.INT8, TensorProto.UINT8, TensorProto.FLOAT16])
@pytest.mark.parametrize("src", ["float", "int64", "bool"])
def test_cast(to, src):
    x = {"float": np.array([0.0, -0.0, 1.5, -1.5, 2.7, -2.7, 100.25, 0.1], np.float32),
         "int64": np.array([0, 1, -1, 100, -100, 7], np.int64),
         "bool": np.array([True, False, True])}[src]
    check("Cast", [x], to=to)


def test_cast_unsupported():
    with pytest.raises(InterpretError, match="Cast"):
        run_fmlc("Cast", [rand(3)], 1, to=TensorProto.STRING)


# ----------------------------------------------------------------------------- QONNX quantisers

ROUNDING_MODES = ["ROUND", "HALF_EVEN", "FLOOR", "CEIL", "UP", "DOWN", "HALF_UP", "HALF_DOWN", "round"]


def quant_input(*shape: int) -> np.ndarray:
    """Random values plus ties and out-of-range values for a scale around 0.25."""
    ties = np.array([0.125, -0.125, 0.375, -0.375, 0.0, -0.0, 100.0, -100.0, 1.875, -1.875], np.float32)
    x = np.concatenate([rand(max(1, int(np.prod(shape)) - ties.size)) * 2, ties])[: int(np.prod(shape))]
    return x.reshape(shape)


@pytest.mark.parametrize("op_type", ["Quant", "IntQuant"])
@pytest.mark.parametrize("mode", ROUNDING_MODES)
@pytest.mark.parametrize("signed,narrow", [(1, 0), (1, 1), (0, 0), (0, 1)])
def test_quant_modes(op_type, mode, signed, narrow):
    x = quant_input(4, 8)
    args = [x, np.array(0.25, np.float32), np.array(0.0, np.float32), np.array(4.0, np.float32)]
    check_qonnx(op_type, args, signed=signed, narrow=narrow, rounding_mode=mode)


@pytest.mark.parametrize("case", [
    # (x shape, scale, zero point, bit width)
    ((3, 4), 0.1, 0.0, 8.0),                                  # non-power-of-two scale
    ((3, 4), 0.25, 3.0, 4.0),                                 # integer zero point
    ((3, 4), 0.3, 1.5, 5.0),                                  # fractional zero point
    ((3, 4), "per_row", 0.0, 3.0),                            # per-channel [OC, 1]
    ((2, 3, 2, 2), "per_conv_channel", 0.0, 6.0),             # conv weight [OC, 1, 1, 1]
    ((3, 4), 0.5, 0.0, 1.0),                                  # signed 1 bit: bipolar
    ((3, 4), 2.0, 0.0, 16.0),
    ((3, 4), 1.0, 0.0, 32.0),
])
@pytest.mark.parametrize("signed", [0, 1])
def test_quant_params(case, signed):
    shape, scale, zp, bw = case
    x = quant_input(*shape) * 3
    if scale == "per_row":
        s = np.array([[0.125], [0.3], [2.0]], np.float32)
    elif scale == "per_conv_channel":
        s = np.array([0.5, 0.0625, 0.7], np.float32).reshape(1, 3, 1, 1)
    else:
        s = np.array(scale, np.float32)
    args = [x, s, np.array(zp, np.float32), np.array(bw, np.float32)]
    for mode in ("ROUND", "FLOOR", "HALF_UP"):
        check_qonnx("Quant", args, signed=signed, narrow=0, rounding_mode=mode)


def test_quant_bad_rounding_mode():
    args = [rand(3), np.array(1.0, np.float32), np.array(0.0, np.float32), np.array(4.0, np.float32)]
    with pytest.raises(InterpretError, match="rounding_mode"):
        run_fmlc("Quant", args, 1, signed=1, narrow=0, rounding_mode="NEAREST")


@pytest.mark.parametrize("scale", [np.array(1.0, np.float32), np.array(0.375, np.float32),
                                   np.array([[0.5], [2.0], [0.1]], np.float32)])
def test_bipolar_quant(scale):
    x = np.concatenate([rand(10), np.array([0.0, -0.0], np.float32)]).reshape(3, 4)
    check_qonnx("BipolarQuant", [x, scale])


@pytest.mark.parametrize("mode", ["FLOOR", "ROUND", "CEIL", "HALF_UP", "DOWN"])
@pytest.mark.parametrize("case", [
    # (scale, zero point, in bw, out bw)
    (0.125, 0.0, 8.0, 4.0), (0.25, 0.0, 10.0, 10.0), (0.3, 0.0, 6.0, 3.0), (0.125, 2.0, 8.0, 5.0),
])
def test_trunc_v1(mode, case):
    s, z, ib, ob = case
    x = (small_ints(5, 6, lo=-130, hi=130) * np.float32(s)).astype(np.float32)
    args = [x, np.array(s, np.float32), np.array(z, np.float32), np.array(ib, np.float32), np.array(ob, np.float32)]
    check_qonnx("Trunc", args, version=1, rounding_mode=mode)


@pytest.mark.parametrize("mode", ["FLOOR", "ROUND", "CEIL", "HALF_UP", "DOWN"])
@pytest.mark.parametrize("signed,narrow", [(1, 0), (1, 1), (0, 0)])
@pytest.mark.parametrize("case", [
    # (scale, zero point, in bw, out scale, out bw)
    (0.125, 0.0, 8.0, 1.0, 4.0), (0.25, 0.0, 10.0, 0.25, 10.0), (0.3, 0.0, 8.0, 1.2, 4.0),
    (0.125, 2.0, 8.0, 0.5, 5.0), ("per_channel", 0.0, 8.0, 2.0, 3.0),
])
def test_trunc_v2(mode, signed, narrow, case):
    s, z, ib, os_, ob = case
    s = np.array([[0.125], [0.25], [0.5], [0.0625], [1.0]], np.float32) if s == "per_channel" else np.float32(s)
    x = (small_ints(5, 6, lo=-130, hi=130) * s).astype(np.float32)
    args = [x, np.asarray(s, np.float32), np.array(z, np.float32), np.array(ib, np.float32),
            np.array(os_, np.float32), np.array(ob, np.float32)]
    check_qonnx("Trunc", args, version=2, rounding_mode=mode, signed=signed, narrow=narrow)


@pytest.mark.parametrize("case", [
    # (x shape, thresholds shape, attrs)
    ((2, 3), (3, 4), {}),
    ((2, 3), (1, 4), {}),
    ((2, 5, 3), (3, 2), {}),                                           # 3-D: NWC
    ((1, 3, 4, 4), (3, 7), {}),                                        # 4-D: NCHW
    ((1, 4, 4, 3), (3, 7), {"data_layout": "NHWC"}),
    ((1, 3, 4, 4), (3, 3), {"out_scale": 0.5, "out_bias": -1.5}),
    ((1, 3, 4, 4), (3, 3), {"out_scale": 0.1, "out_bias": 0.3}),
])
def test_multithreshold(case):
    xs, ts, attrs = case
    x = small_ints(*xs) / 2
    t = np.sort(small_ints(*ts) / 2 + 0.25 * (RNG.random(ts) < 0.5), axis=1).astype(np.float32)
    check_qonnx("MultiThreshold", [x, t], out_dtype="UINT4", **attrs)


# ----------------------------------------------------------------------------- scalars and coverage


def test_scalar_results_are_arrays():
    a, b = np.array(1.5, np.float32), np.array(2.0, np.float32)
    for op_type in ("Add", "Div", "Sigmoid"):
        got = run_fmlc(op_type, [a, b][: 1 if op_type == "Sigmoid" else 2], [np.zeros((), np.float32)])[0]
        assert isinstance(got, np.ndarray) and got.shape == () and got.dtype == np.float32


def test_every_op_has_a_rule():
    from fmlc.runtime.interpreter import rule_for

    missing = [name for name, cls in OPS.items() if rule_for(cls) is None]
    assert not missing and rule_for(NoValueOp) is not None
