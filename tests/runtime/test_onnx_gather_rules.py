"""Indexing, scatter and shape-arithmetic ops of the ``onnx`` dialect against onnxruntime.

Each case builds a small ONNX model (opset 18), imports it with fmlc and runs it on
fmlc's ``onnx``-level interpreter and on onnxruntime (optimisations off), and
compares every output bit for bit, dtype included: Gather, GatherElements,
GatherND, ScatterElements, ScatterND, Expand, Tile, Where, ConstantOfShape,
Range, Size, ReduceProd, Mod, the comparisons and the logical ops, and Cast on
integer tensors.  The scatter reductions are also checked on random indices
(duplicates and negative ones) and special float values with hypothesis.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from onnx import TensorProto, helper, numpy_helper

from fmlc.compiler.driver import load_all
from fmlc.passes.import_onnx import import_model
from fmlc.runtime.interpreter import InterpretError, run

ort = pytest.importorskip("onnxruntime")

load_all()

FMLC = Path(sys.executable).parent / "fmlc"
RNG = np.random.default_rng(2024)

_ONNX_TYPE = {np.dtype(np.float32): TensorProto.FLOAT, np.dtype(np.int64): TensorProto.INT64,
              np.dtype(np.int32): TensorProto.INT32, np.dtype(bool): TensorProto.BOOL}


# ----------------------------------------------------------------------------- harness


class C:
    """A node input held by an initialiser (a constant) rather than a graph input."""

    def __init__(self, value) -> None:
        self.value = np.asarray(value)


def i64(*v: int) -> np.ndarray:
    return np.array(v, dtype=np.int64)


def f32(*v: float) -> np.ndarray:
    return np.array(v, dtype=np.float32)


def make_model(nodes, inputs: dict[str, np.ndarray], outputs: list[str], inits: dict[str, np.ndarray] | None = None,
               opset: int = 18) -> onnx.ModelProto:
    vis = [helper.make_tensor_value_info(n, _ONNX_TYPE[a.dtype], a.shape) for n, a in inputs.items()]
    g = helper.make_graph(nodes, "g", vis, [onnx.ValueInfoProto(name=n) for n in outputs],
                          [numpy_helper.from_array(np.asarray(a), n) for n, a in (inits or {}).items()])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 10
    return m


class Pair:
    """One model on onnxruntime and on fmlc's ``onnx``-level interpreter."""

    def __init__(self, model: onnx.ModelProto) -> None:
        self.names = [vi.name for vi in model.graph.input]
        so = ort.SessionOptions()
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        self.sess = ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])
        self.module = import_model(model)

    def fmlc(self, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        return [np.asarray(r.data) for r in run(self.module, [feeds[n] for n in self.names])]

    def check(self, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        want = self.sess.run(None, feeds)
        got = self.fmlc(feeds)
        assert len(got) == len(want)
        for g, w in zip(got, want, strict=True):
            same_bits(g, w)
        return got


def node_model(op_type: str, args: list, opset: int = 18, **attrs) -> tuple[onnx.ModelProto, dict[str, np.ndarray]]:
    """A one-node model: array args are graph inputs, ``C`` args initialisers, None absent inputs."""
    names, inputs, inits = [], {}, {}
    for k, a in enumerate(args):
        if a is None:
            names.append("")
        elif isinstance(a, C):
            names.append(f"c{k}")
            inits[f"c{k}"] = a.value
        else:
            names.append(f"in{k}")
            inputs[f"in{k}"] = np.asarray(a)
    node = helper.make_node(op_type, names, ["out"], name=f"{op_type.lower()}_1", **attrs)
    return make_model([node], inputs, ["out"], inits, opset), inputs


def check(op_type: str, *args, opset: int = 18, **attrs) -> np.ndarray:
    """Run one node on both; returns fmlc's output."""
    model, feeds = node_model(op_type, list(args), opset, **attrs)
    return Pair(model).check(feeds)[0]


def same_bits(got: np.ndarray, want: np.ndarray) -> None:
    got, want = np.asarray(got), np.asarray(want)
    assert got.dtype == want.dtype, (got.dtype, want.dtype)
    assert got.shape == want.shape, (got.shape, want.shape)
    if got.dtype.kind == "f":  # bits, NaN payloads aside
        nan = np.isnan(want)
        np.testing.assert_array_equal(np.isnan(got), nan)
        bits = {4: np.uint32, 8: np.uint64}[got.dtype.itemsize]
        mismatch = (got.view(bits) != want.view(bits)) & ~nan
        assert not mismatch.any(), f"got {got[mismatch][:5]}, want {want[mismatch][:5]}"
    else:
        np.testing.assert_array_equal(got, want)


def rand(*shape: int) -> np.ndarray:
    return RNG.standard_normal(shape).astype(np.float32)


# ----------------------------------------------------------------------------- Gather family


@pytest.mark.parametrize(("axis", "indices"), [
    (0, i64(2, -1, 0, -4, 2)),                       # negative and repeated indices
    (1, np.array([[0, -3], [2, 1]], dtype=np.int64)),  # 2-D indices
    (-1, np.array([-1, 3, 0], dtype=np.int32)),      # negative axis, int32 indices
    (-2, np.array(-2, dtype=np.int64)),              # a scalar index drops the axis
])
def test_gather(axis, indices):
    out = check("Gather", rand(4, 3, 4), indices, axis=axis)
    assert out.ndim == 3 - 1 + indices.ndim


def test_gather_int64_data():
    """Shape arithmetic: Gather of an int64 shape vector stays int64."""
    assert check("Gather", i64(7, 5, 3), C(np.array(-1, dtype=np.int64))).dtype == np.int64


@pytest.mark.parametrize(("axis", "shape"), [(0, (2, 3)), (1, (3, 5)), (-1, (2, 2)), (-2, (6, 4))])
def test_gather_elements(axis, shape):
    """Indices may be smaller than the data off the axis, and any size along it."""
    data = rand(3, 4)
    dim = data.shape[axis]
    check("GatherElements", data, RNG.integers(-dim, dim, shape).astype(np.int64), axis=axis)


def test_gather_elements_rank3_int64():
    data = np.arange(24, dtype=np.int64).reshape(2, 3, 4)
    check("GatherElements", data, RNG.integers(-3, 3, (2, 5, 4)).astype(np.int64), axis=1)


@pytest.mark.parametrize(("data_shape", "indices", "batch_dims"), [
    ((4, 3), np.array([[1], [-1], [0], [1]], dtype=np.int64), 0),              # last dim 1: rows
    ((4, 3), np.array([[0, 2], [-1, -3], [3, 0]], dtype=np.int64), 0),        # last dim 2: elements
    ((2, 3, 4), np.array([[[0, 1]], [[-1, -1]]], dtype=np.int64), 0),        # 3-D indices, slices out
    ((2, 3, 4), np.array([[[1], [-3]], [[2], [0]]], dtype=np.int64), 1),     # batch_dims 1
    ((2, 3, 4), np.array([[2, -1], [0, 3]], dtype=np.int64), 1),              # batch_dims 1, last dim 2
])
def test_gather_nd(data_shape, indices, batch_dims):
    check("GatherND", rand(*data_shape), indices, batch_dims=batch_dims)


# ----------------------------------------------------------------------------- scatter

REDUCTIONS = ["none", "add", "mul", "max", "min"]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(("axis", "indices"), [
    (0, np.array([[1, 0, 2], [1, -4, 2], [-3, 0, 3]], dtype=np.int64)),  # duplicates, negatives
    (1, np.array([[0, 0, -1, 3], [2, -2, 2, 2]], dtype=np.int64)),
    (-1, np.array([[3, 3], [-1, 0], [1, 1], [0, 0]], dtype=np.int64)),
])
def test_scatter_elements(reduction, axis, indices):
    data = rand(4, 4)
    check("ScatterElements", data, indices, rand(*indices.shape), axis=axis, reduction=reduction)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_scatter_elements_int64_keeps_dtype(reduction):
    data = np.arange(6, dtype=np.int64).reshape(2, 3) - 2
    out = check("ScatterElements", data, np.array([[1, 1, 0], [-1, 1, -3]], dtype=np.int64),
                np.array([[4, -5, 6], [7, 3, -2]], dtype=np.int64), axis=1, reduction=reduction)
    assert out.dtype == np.int64


def test_scatter_elements_duplicates_last_wins():
    """reduction none with duplicate indices: onnxruntime applies the updates in order."""
    out = check("ScatterElements", np.zeros(3, np.float32), i64(0, 2, 0, 0, -1), f32(1, 2, 3, 4, 5))
    assert out.tolist() == [4.0, 0.0, 5.0]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(("data_shape", "indices"), [
    ((5,), np.array([[1], [1], [-1], [4], [1]], dtype=np.int64)),                 # elements, duplicates
    ((4, 3), np.array([[0], [-4], [2], [0]], dtype=np.int64)),                    # rows, duplicates
    ((3, 4), np.array([[0, 1], [-3, -3], [0, 1], [2, 0]], dtype=np.int64)),      # elements, duplicates
    ((2, 3, 2), np.array([[[1, 0], [1, 0]], [[0, -1], [-1, 0]]], dtype=np.int64)),  # 3-D indices, rows
])
def test_scatter_nd(reduction, data_shape, indices):
    k = indices.shape[-1]
    updates = rand(*indices.shape[:-1], *data_shape[k:])
    check("ScatterND", rand(*data_shape), indices, updates, reduction=reduction)


def test_scatter_nd_add_duplicates_in_order():
    out = check("ScatterND", np.zeros((3, 2), np.float32), np.array([[1], [-2], [1]], dtype=np.int64),
                np.array([[1e8, 1], [1, 2], [-1e8, 3]], dtype=np.float32), reduction="add")
    assert out.tolist() == [[0, 0], [0, 6], [0, 0]]  # float32, in order: (1e8 + 1) - 1e8 == 0


# hypothesis: random indices (duplicates and negatives, as the generated ranges are wider
# than the number of targets) and special values (NaN, signed zeros, infinities)

_VALUES = st.one_of(st.sampled_from([0.0, -0.0, 1.0, -1.0, 0.5, 3.0, float("inf"), float("-inf"), float("nan")]),
                    st.floats(width=32, allow_nan=True, allow_infinity=True))
_PAIRS: dict[tuple, Pair] = {}


def _pair(key: tuple, op_type: str, shapes: list[tuple[int, ...]], **attrs) -> Pair:
    """The (cached) Pair of a one-node model with graph inputs data (f32), indices, updates (f32)."""
    if key not in _PAIRS:
        args = [np.zeros(shapes[0], np.float32), np.zeros(shapes[1], np.int64), np.zeros(shapes[2], np.float32)]
        _PAIRS[key] = Pair(node_model(op_type, args, **attrs)[0])
    return _PAIRS[key]


def _floats(data: st.DataObject, shape: tuple[int, ...]) -> np.ndarray:
    n = int(np.prod(shape))
    return np.array(data.draw(st.lists(_VALUES, min_size=n, max_size=n)), dtype=np.float32).reshape(shape)


def _ints(data: st.DataObject, shape: tuple[int, ...], dim: int) -> np.ndarray:
    n = int(np.prod(shape))
    return np.array(data.draw(st.lists(st.integers(-dim, dim - 1), min_size=n, max_size=n)),
                    dtype=np.int64).reshape(shape)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(("axis", "data_shape", "idx_shape"), [(0, (3, 2), (7, 2)), (-1, (2, 3), (2, 6))])
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_scatter_elements_random(reduction, axis, data_shape, idx_shape, data):
    pair = _pair(("SE", reduction, axis), "ScatterElements", [data_shape, idx_shape, idx_shape],
                 axis=axis, reduction=reduction)
    pair.check({"in0": _floats(data, data_shape), "in1": _ints(data, idx_shape, data_shape[axis]),
                "in2": _floats(data, idx_shape)})


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(("data_shape", "idx_shape"), [((4, 2), (6, 1)), ((2, 3), (7, 2))])
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_scatter_nd_random(reduction, data_shape, idx_shape, data):
    k = idx_shape[-1]
    upd_shape = (*idx_shape[:-1], *data_shape[k:])
    pair = _pair(("SND", reduction, data_shape), "ScatterND", [data_shape, idx_shape, upd_shape], reduction=reduction)
    cols = [_ints(data, (*idx_shape[:-1], 1), data_shape[j]) for j in range(k)]
    pair.check({"in0": _floats(data, data_shape), "in1": np.concatenate(cols, axis=-1),
                "in2": _floats(data, upd_shape)})


# ----------------------------------------------------------------------------- broadcasting and data movement


@pytest.mark.parametrize(("shape", "target"), [
    ((3, 1), i64(2, 1, 3, 4)),   # rank growth
    ((3, 4), i64(1, 1)),         # bidirectional: 1 keeps the input's dimension
    ((1, 4), i64(5, 1, 4)),
    ((2,), i64(3, 2)),
])
def test_expand(shape, target):
    check("Expand", rand(*shape), C(target))


def test_expand_int64():
    assert check("Expand", i64(3, -1), C(i64(2, 2))).dtype == np.int64


@pytest.mark.parametrize(("shape", "repeats"), [((2, 3), i64(2, 3)), ((3,), i64(0)), ((1, 2, 2), i64(3, 1, 2))])
def test_tile(shape, repeats):
    check("Tile", rand(*shape), C(repeats))


def test_where_broadcasts_three_inputs():
    cond = RNG.random((3, 1)) < 0.5
    check("Where", cond, rand(1, 4), rand(2, 1, 1))
    assert check("Where", np.array([True, False, True]), i64(1, 2, 3), C(np.array(-1, dtype=np.int64))).dtype \
        == np.int64


# ----------------------------------------------------------------------------- shape arithmetic and predicates


@pytest.mark.parametrize("value", [None, np.array([7], dtype=np.int64), np.array([-2.5], dtype=np.float32)])
@pytest.mark.parametrize("shape", [i64(2, 3), i64(), i64(0, 4)])
def test_constant_of_shape(value, shape):
    attrs = {} if value is None else {"value": numpy_helper.from_array(value)}
    out = check("ConstantOfShape", C(shape), **attrs)
    assert out.dtype == (np.float32 if value is None else value.dtype)


@pytest.mark.parametrize(("start", "limit", "delta"), [
    (i64(5), i64(-3), i64(-2)),                                     # negative delta
    (i64(0), i64(10), i64(3)),
    (i64(3), i64(3), i64(1)),                                       # empty
    (np.array(2, np.int32), np.array(9, np.int32), np.array(2, np.int32)),
    (f32(0.0), f32(1.0), f32(0.1)),                                 # float32 accumulation
    (f32(1.0), f32(-2.0), f32(-0.3)),                               # float, negative delta
    (f32(0.5), f32(0.4), f32(0.25)),                                # float, empty
])
def test_range(start, limit, delta):
    args = [C(v.reshape(())) for v in (start, limit, delta)]
    out = check("Range", *args)
    assert out.dtype == start.dtype


def test_size():
    assert check("Size", rand(2, 3, 5)).dtype == np.int64


@pytest.mark.parametrize("axes", [None, i64(0), i64(-1, 0)])
@pytest.mark.parametrize("keepdims", [0, 1])
def test_reduce_prod(axes, keepdims):
    args = [np.array([[2, -3, 4], [5, 1, -1]], dtype=np.int64)] + ([] if axes is None else [C(axes)])
    check("ReduceProd", *args, keepdims=keepdims)
    args[0] = small = RNG.integers(-3, 4, (2, 3)).astype(np.float32)  # exact in float32
    assert check("ReduceProd", *args, keepdims=keepdims).dtype == small.dtype


@pytest.mark.parametrize("fmod", [0, 1])
def test_mod_int(fmod):
    a = i64(-7, 7, -7, 7, 0, 9, -9)
    b = i64(3, -3, -3, 3, 5, 4, 4)
    check("Mod", a, b, fmod=fmod)


def test_mod_float():
    check("Mod", f32(-7, 7, -7.5, 7.25, -0.0), f32(3, -3, -2, 2, 1), fmod=1)


_SPECIAL = f32(0.0, -0.0, 1.0, float("nan"), float("inf"), -1.0)


@pytest.mark.parametrize("op_type", ["Equal", "Less", "LessOrEqual", "Greater", "GreaterOrEqual"])
def test_compare(op_type):
    out = check(op_type, _SPECIAL.reshape(6, 1), _SPECIAL.reshape(1, 6))
    assert out.dtype == bool
    check(op_type, i64(3, -1, 4), C(np.array(3, dtype=np.int64)))


def test_equal_bool():
    check("Equal", np.array([True, False, True]), np.array([[True], [False]]))


@pytest.mark.parametrize("op_type", ["And", "Or", "Xor"])
def test_logical(op_type):
    check(op_type, np.array([[True], [False]]), np.array([True, False, True]))


def test_not():
    check("Not", np.array([[True, False], [False, False]]))


@pytest.mark.parametrize(("to", "x"), [
    (TensorProto.BOOL, i64(0, 3, -1)),
    (TensorProto.INT64, np.array([True, False])),
    (TensorProto.FLOAT, i64(-5, 2**40 + 1, 0)),
    (TensorProto.INT64, f32(-2.7, -0.5, 2.5, 3.9)),
    (TensorProto.INT32, i64(-3, 2**31 - 1, 0)),
    (TensorProto.FLOAT, np.array([True, False])),
])
def test_cast_integer_tensors(to, x):
    check("Cast", x, to=to)


def test_torch_shape_arithmetic_stays_integer():
    """Shape -> Gather -> Unsqueeze -> Concat -> Reshape, Equal/Where on shapes, Size, ConstantOfShape."""
    x = rand(2, 3, 4)
    nodes = [
        helper.make_node("Shape", ["x"], ["shape"]),
        helper.make_node("Gather", ["shape", "zero"], ["batch"], axis=0),
        helper.make_node("Unsqueeze", ["batch", "axes0"], ["batch1"]),
        helper.make_node("Concat", ["batch1", "minus1"], ["new_shape"], axis=0),
        helper.make_node("Reshape", ["x", "new_shape"], ["flat"]),
        helper.make_node("Equal", ["shape", "three"], ["is3"]),
        helper.make_node("Where", ["is3", "one", "shape"], ["shape2"]),
        helper.make_node("ConstantOfShape", ["shape2"], ["ones"],
                         value=numpy_helper.from_array(np.array([1], dtype=np.int64))),
        helper.make_node("Cast", ["is3"], ["is3_i"], to=TensorProto.INT64),
        helper.make_node("Size", ["x"], ["size"]),
        helper.make_node("Mul", ["batch", "size"], ["prod"]),
    ]
    inits = {"zero": np.array(0, dtype=np.int64), "axes0": i64(0), "minus1": i64(-1),
             "three": np.array(3, dtype=np.int64), "one": np.array(1, dtype=np.int64)}
    outs = ["shape", "batch", "new_shape", "flat", "is3", "shape2", "ones", "is3_i", "prod"]
    got = dict(zip(outs, Pair(make_model(nodes, {"x": x}, outs, inits)).check({"x": x}), strict=True))
    for name in ("shape", "batch", "new_shape", "shape2", "ones", "is3_i", "prod"):
        assert got[name].dtype == np.int64, name
    assert got["is3"].dtype == bool
    assert got["new_shape"].tolist() == [2, -1] and got["ones"].shape == (2, 1, 4)


# ----------------------------------------------------------------------------- errors


@pytest.mark.parametrize(("op_type", "args", "attrs", "bad"), [
    ("Gather", [np.zeros((4, 2), np.float32), i64(0, 4)], {}, "index 4"),
    ("Gather", [np.zeros((4, 2), np.float32), i64(-3, -3)], {"axis": 1}, "index -3"),
    ("GatherElements", [np.zeros((2, 3), np.float32), np.array([[0, -4]], dtype=np.int64)], {"axis": 1}, "index -4"),
    ("GatherND", [np.zeros((2, 3), np.float32), np.array([[1, 3]], dtype=np.int64)], {}, "index 3"),
    ("ScatterElements", [np.zeros((2, 3), np.float32), np.array([[2, 0]], dtype=np.int64),
                         np.ones((1, 2), np.float32)], {"reduction": "add"}, "index 2"),
    ("ScatterND", [np.zeros((2, 3), np.float32), np.array([[-3]], dtype=np.int64), np.ones((1, 3), np.float32)],
     {}, "index -3"),
])
def test_index_out_of_range(op_type, args, attrs, bad):
    """Indices are graph inputs: the import runs on zeros, the run reports the bad index at the op."""
    model, feeds = node_model(op_type, args, **attrs)
    pair = Pair(model)
    with pytest.raises(InterpretError) as e:
        pair.fmlc(feeds)
    msg = str(e.value)
    assert f"onnx.{op_type}" in msg and bad in msg and "out of range" in msg
    with pytest.raises(Exception, match="(?i)out of|bounds|invalid"):  # onnxruntime rejects it too
        pair.sess.run(None, feeds)


def test_out_of_range_index_cli(tmp_path):
    """``fmlc --run --level=onnx``: a one-line error naming the node, no traceback."""
    node = helper.make_node("Gather", ["x", "idx"], ["y"], name="gather_edges", axis=0)
    model = make_model([node], {"x": np.zeros((4, 2), np.float32), "idx": np.zeros(3, np.int64)}, ["y"])
    onnx.save(model, str(tmp_path / "m.onnx"))
    np.savez(tmp_path / "x.npz", x=np.ones((4, 2), np.float32), idx=i64(0, -5, 1))
    p = subprocess.run([str(FMLC), str(tmp_path / "m.onnx"), "--run", str(tmp_path / "x.npz"), "--level=onnx",
                        "-o", str(tmp_path / "y.npz")], capture_output=True, text=True, timeout=120)
    assert p.returncode != 0
    assert "Traceback" not in p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1, p.stderr
    assert "gather_edges" in lines[0] and "onnx.Gather" in lines[0] and "index -5" in lines[0]
    assert not (tmp_path / "y.npz").exists()


def test_unknown_reduction():
    model, feeds = node_model("ScatterND", [np.zeros(3, np.float32), np.zeros((1, 1), np.int64),
                                            np.zeros(1, np.float32)], reduction="sum")
    with pytest.raises(Exception, match="unknown reduction 'sum'"):
        import_model(model)
