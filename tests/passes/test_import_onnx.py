"""ONNX import through the ``fmlc`` command line: error paths and the imported module's shape.

Every error must exit 1 with one clear ``error:`` first line and no traceback.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from onnx.external_data_helper import convert_model_to_external_data

from fmlc.compiler.cli import main as cli_main

FMLC = Path(sys.executable).parent / "fmlc"
W = (np.arange(12, dtype=np.float32).reshape(4, 3) - 6) / 8


def fails(p: subprocess.CompletedProcess) -> str:
    """The stderr of a clean failure (exit 1, an ``error:`` first line, no traceback)."""
    assert p.returncode == 1, f"exit {p.returncode}\n{p.stderr}"
    assert "Traceback" not in p.stderr
    assert "internal error" not in p.stderr
    assert p.stderr.startswith("error: "), p.stderr
    return p.stderr


def model(nodes, inputs, outputs, inits=(), opset: int = 18, extra_opsets=()) -> onnx.ModelProto:
    g = helper.make_graph(nodes, "g", inputs, outputs, list(inits))
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", opset), *extra_opsets])


def vi(name: str, shape) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def matmul_model(batch=1, opset: int = 18) -> onnx.ModelProto:
    """y = x @ W with W an initialiser; node 'mm'."""
    return model([helper.make_node("MatMul", ["x", "W"], ["y"], name="mm")],
                 [vi("x", [batch, 4])], [vi("y", [batch, 3])], [numpy_helper.from_array(W, "W")], opset)


def save(m: onnx.ModelProto, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(m, str(path))
    return path


def save_external(folder: Path, location: str | None = None) -> Path:
    """``matmul_model`` with W in external data (``w.bin`` next to the model), the location then set to ``location``."""
    folder.mkdir(parents=True, exist_ok=True)
    m = matmul_model()
    convert_model_to_external_data(m, all_tensors_to_one_file=True, location="w.bin", size_threshold=0)
    path = save(m, folder / "m.onnx")
    assert (folder / "w.bin").is_file()
    if location is not None:
        m = onnx.load(str(path), load_external_data=False)
        for t in m.graph.initializer:
            for e in t.external_data:
                if e.key == "location":
                    e.value = location
        save(m, path)
    return path


# ----------------------------------------------------------------------------- errors
#
# Each error case builds its inputs in a folder of its own and names the command line;
# the module fixture runs every case's ``fmlc`` process at once (they are independent).

CASES: dict[str, Callable[[Path], list]] = {}


def case(fn: Callable[[Path], list]) -> Callable[[Path], list]:
    CASES[fn.__name__] = fn
    return fn


@case
def unsupported(d: Path) -> list:
    nodes = [helper.make_node("Erf", ["x"], ["a"], name="erf_1"),
             helper.make_node("Relu", ["a"], ["b"], name="relu_1"),
             helper.make_node("Frobnicate", ["b"], ["c"], name="frob_1", domain="my.ops"),
             helper.make_node("Floor", ["c"], ["y"])]  # unnamed: labelled by its output
    m = model(nodes, [vi("x", [1, 4])], [vi("y", [1, 4])], extra_opsets=[helper.make_opsetid("my.ops", 1)])
    return [save(m, d / "m.onnx"), "--emit=onnx"]


@case
def opset_12(d: Path) -> list:
    return [save(matmul_model(opset=12), d / "m.onnx"), "--emit=onnx"]


@case
def opset_22(d: Path) -> list:
    return [save(matmul_model(opset=22), d / "m.onnx"), "--emit=onnx"]


@case
def missing_file(d: Path) -> list:
    return [d / "nope.onnx", "--emit=onnx"]


@case
def not_onnx(d: Path) -> list:
    path = d / "junk.onnx"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"this is not a protobuf \xff\xfe\x00" * 20)
    return [path, "--emit=onnx"]


def _outside(d: Path, absolute: bool) -> list:
    secret = d / "secret.bin"
    d.mkdir(parents=True, exist_ok=True)
    secret.write_bytes(W.tobytes())  # a readable file: only the guard may stop the read
    return [save_external(d / "model", str(secret) if absolute else "../secret.bin"), "--emit=onnx"]


@case
def external_parent(d: Path) -> list:
    return _outside(d, absolute=False)


@case
def external_absolute(d: Path) -> list:
    return _outside(d, absolute=True)


@case
def external_missing(d: Path) -> list:
    path = save_external(d)
    (d / "w.bin").unlink()
    return [path, "--emit=onnx"]


@case
def required_attribute(d: Path) -> list:
    m = model([helper.make_node("Concat", ["x", "x"], ["y"], name="cat_1")], [vi("x", [1, 4])], [vi("y", [1, 8])])
    return [save(m, d / "m.onnx"), "--emit=onnx"]


@case
def unknown_attribute(d: Path) -> list:
    m = model([helper.make_node("LeakyRelu", ["x"], ["y"], name="lr_1", alpha=0.5, slope=3)],
              [vi("x", [1, 4])], [vi("y", [1, 4])])
    return [save(m, d / "m.onnx"), "--emit=onnx"]


@case
def output_from_nothing(d: Path) -> list:
    m = model([helper.make_node("Relu", ["x"], ["y"], name="r")], [vi("x", [1, 4])], [vi("z", [1, 4])])
    return [save(m, d / "m.onnx"), "--emit=onnx"]


@case
def input_from_nothing(d: Path) -> list:
    m = model([helper.make_node("Add", ["x", "ghost"], ["y"], name="add_1")], [vi("x", [1, 4])], [vi("y", [1, 4])])
    return [save(m, d / "m.onnx"), "--emit=onnx"]


@case
def run_no_matching_input(d: Path) -> list:
    path = save(matmul_model(), d / "m.onnx")
    np.savez(d / "x.npz", a=np.zeros((1, 4), np.float32), b=np.zeros((1, 4), np.float32))
    return [path, "--run", d / "x.npz", "--level=onnx", "-o", d / "y.npz"]


@case
def run_wrong_shape(d: Path) -> list:
    path = save(matmul_model(), d / "m.onnx")
    np.savez(d / "x.npz", x=np.zeros((2, 5), np.float32))
    return [path, "--run", d / "x.npz", "--level=onnx", "-o", d / "y.npz"]


@case
def trace_without_run(d: Path) -> list:
    return [save(matmul_model(), d / "m.onnx"), "--trace", d / "t.npz"]


@pytest.fixture(scope="module")
def cli(tmp_path_factory) -> dict[str, subprocess.CompletedProcess]:
    """Every error case's ``fmlc`` run, keyed by case name (the processes run concurrently)."""
    root = tmp_path_factory.mktemp("cli_errors")
    argvs = {name: [str(FMLC), *map(str, fn(root / name))] for name, fn in CASES.items()}
    procs = {name: subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for name, argv in argvs.items()}
    out = {}
    for name, p in procs.items():
        stdout, stderr = p.communicate(timeout=120)
        out[name] = subprocess.CompletedProcess(argvs[name], p.returncode, stdout, stderr)
    return out


def test_every_error_is_clean(cli):
    for name, p in cli.items():
        assert p.returncode == 1, f"{name}: exit {p.returncode}\n{p.stderr}"
        assert "Traceback" not in p.stderr and "internal error" not in p.stderr, f"{name}: {p.stderr}"
        assert p.stderr.startswith("error: "), f"{name}: {p.stderr}"
        assert p.stdout == "", f"{name}: {p.stdout}"


def first_line(cli, name: str) -> str:
    return fails(cli[name]).splitlines()[0]


def test_unsupported_nodes_listed_in_one_error(cli):
    err = fails(cli["unsupported"])
    lines = err.splitlines()
    assert "3 unsupported nodes" in lines[0] and "m.onnx" in lines[0]
    assert "  erf_1: Erf (domain 'ai.onnx')" in lines
    assert "  frob_1: Frobnicate (domain 'my.ops')" in lines
    assert "  y: Floor (domain 'ai.onnx')" in lines
    assert "relu_1" not in err
    supported = [ln for ln in lines if ln.startswith("supported: ")]
    assert len(supported) == 1
    for op in ("Gemm", "Conv", "Relu", "qonnx.custom_op.general:Quant", "qonnx.custom_op.general:MultiThreshold"):
        assert op in supported[0]
    assert err.count("error:") == 1


@pytest.mark.parametrize("opset", [12, 22])
def test_opset_out_of_range(cli, opset):
    first = first_line(cli, f"opset_{opset}")
    assert f"opset {opset}" in first and "13" in first and "21" in first


def test_missing_file(cli):
    first = first_line(cli, "missing_file")
    assert "nope.onnx" in first and "no such file" in first


def test_not_an_onnx_file(cli):
    first = first_line(cli, "not_onnx")
    assert "junk.onnx" in first and "not a valid ONNX model" in first


@pytest.mark.parametrize(("name", "location"), [("external_parent", "../secret.bin"),
                                                ("external_absolute", "/secret.bin")])
def test_external_data_outside_folder_rejected(cli, name, location):
    first = first_line(cli, name)
    assert "outside the model's folder" in first and location in first and "'W'" in first


def test_external_data_missing_file(cli):
    first = first_line(cli, "external_missing")
    assert "w.bin" in first and "'W'" in first


def test_missing_required_attribute(cli):
    first = first_line(cli, "required_attribute")
    assert "cat_1 (Concat)" in first and "required attribute 'axis'" in first


def test_unknown_attribute(cli):
    first = first_line(cli, "unknown_attribute")
    assert "lr_1 (LeakyRelu)" in first and "attribute 'slope' is not supported" in first and "alpha" in first


def test_graph_output_produced_by_nothing(cli):
    assert "graph output 'z' is not produced by any node" in first_line(cli, "output_from_nothing")


def test_node_input_produced_by_nothing(cli):
    first = first_line(cli, "input_from_nothing")
    assert "add_1 (Add)" in first and "'ghost'" in first


def test_run_without_matching_input(cli):
    first = first_line(cli, "run_no_matching_input")
    assert "'x'" in first and "x.npz" in first


def test_run_wrong_shape(cli):
    first = first_line(cli, "run_wrong_shape")
    assert "(2, 5)" in first and "(1, 4)" in first


def test_trace_needs_run(cli):
    assert "--trace needs --run" in first_line(cli, "trace_without_run")


# ----------------------------------------------------------------------------- the imported module
#
# Successful runs go through the same entry point in-process (``fmlc.compiler.cli.main``),
# which is much faster than a process per case.

@pytest.fixture
def run_fmlc(capsys) -> Callable[..., subprocess.CompletedProcess]:
    def go(*args: object) -> subprocess.CompletedProcess:
        argv = [str(a) for a in args]
        rc = cli_main(argv)
        out, err = capsys.readouterr()
        return subprocess.CompletedProcess(argv, rc, out, err)

    return go


def ok(p: subprocess.CompletedProcess) -> str:
    assert p.returncode == 0, p.stderr
    return p.stdout


@pytest.mark.parametrize("opset", [13, 21])
def test_opset_bounds_accepted(tmp_path, run_fmlc, opset):
    ok(run_fmlc(save(matmul_model(opset=opset), tmp_path / "m.onnx"), "--emit=onnx"))


def test_external_data_inside_folder_imports(tmp_path, run_fmlc):
    path = save_external(tmp_path / "model")
    assert 'loc("W")' in ok(run_fmlc(path, "--emit=onnx"))
    # the values are read from w.bin
    x = np.linspace(-1, 1, 8, dtype=np.float32).reshape(2, 4)
    np.savez(tmp_path / "x.npz", x=x)
    ok(run_fmlc(path, "--run", tmp_path / "x.npz", "--level=onnx", "-o", tmp_path / "y.npz"))
    np.testing.assert_allclose(np.load(tmp_path / "y.npz")["y"], x @ W, rtol=1e-6)


def test_external_data_in_subfolder_imports(tmp_path, run_fmlc):
    folder = tmp_path / "model"
    path = save_external(folder, "data/w.bin")
    (folder / "data").mkdir()
    (folder / "w.bin").rename(folder / "data" / "w.bin")
    ok(run_fmlc(path, "--emit=onnx"))


def test_dynamic_batch_becomes_one(tmp_path, run_fmlc):
    out = ok(run_fmlc(save(matmul_model(batch="N"), tmp_path / "m.onnx"), "--emit=onnx"))
    assert "function_type = (tensor<1x4xf32>) -> tensor<1x3xf32>" in out


def test_dynamic_batch_runs_any_batch(tmp_path, run_fmlc):
    path = save(matmul_model(batch="N"), tmp_path / "m.onnx")
    x = np.arange(20, dtype=np.float32).reshape(5, 4) / 4
    np.savez(tmp_path / "x.npz", x=x)
    for level in ("onnx", "qt"):
        ok(run_fmlc(path, "--run", tmp_path / "x.npz", f"--level={level}", "-o", tmp_path / f"y_{level}.npz"))
        assert np.array_equal(np.load(tmp_path / f"y_{level}.npz")["y"], x @ W)


def test_initialisers_listed_as_inputs_are_not_arguments(tmp_path, run_fmlc):
    m = matmul_model()
    m.graph.input.append(vi("W", [4, 3]))  # IR < 4 style: initialisers also listed as graph inputs
    out = ok(run_fmlc(save(m, tmp_path / "m.onnx"), "--emit=onnx"))
    assert "function_type = (tensor<1x4xf32>) -> tensor<1x3xf32>" in out
    assert "^bb0(%x: tensor<1x4xf32>):" in out
    assert 'fmlc.inputs = ["x"]' in out
    assert '"onnx.Constant"' in out and 'loc("W")' in out


def test_node_names_become_locations(tmp_path, run_fmlc):
    nodes = [helper.make_node("MatMul", ["x", "W"], ["h"], name="layer1/matmul"),
             helper.make_node("Relu", ["h"], ["y"], name="layer1/relu")]
    m = model(nodes, [vi("x", [1, 4])], [vi("y", [1, 3])], [numpy_helper.from_array(W, "W")])
    out = ok(run_fmlc(save(m, tmp_path / "m.onnx"), "--emit=onnx"))
    assert '"onnx.MatMul"(%x, %W)' in out and 'loc("layer1/matmul")' in out
    assert '"onnx.Relu"(%h)' in out and 'loc("layer1/relu")' in out
    # the locations survive the lowering to qt
    out = ok(run_fmlc(tmp_path / "m.onnx", "--emit=qt"))
    relu = [ln for ln in out.splitlines() if '"qt.relu"' in ln]
    assert len(relu) == 1 and relu[0].endswith('loc("layer1/relu")')
    dense = [ln for ln in out.splitlines() if '"qt.dense"' in ln]
    assert len(dense) == 1 and dense[0].endswith('loc("layer1/matmul")')


def test_constant_nodes(tmp_path, run_fmlc):
    nodes = [helper.make_node("Constant", [], ["c"], name="k", value_float=0.25),
             helper.make_node("Mul", ["x", "c"], ["m"], name="mul"),
             helper.make_node("LeakyRelu", ["m"], ["y"], name="lr")]
    m = model(nodes, [vi("x", [1, 4])], [vi("y", [1, 4])])
    out = ok(run_fmlc(save(m, tmp_path / "m.onnx"), "--emit=onnx"))
    const = [ln for ln in out.splitlines() if '"onnx.Constant"' in ln]
    assert len(const) == 1 and "tensor<f32>" in const[0] and const[0].endswith('loc("k")')
    assert '"onnx.Mul"(%x, %c)' in out and '"onnx.LeakyRelu"(%m)' in out


def test_python_api_imports_without_the_cli(tmp_path):
    """A fresh interpreter: the import API must work on its own."""
    path = save(matmul_model(), tmp_path / "m.onnx")
    code = ("import sys; from fmlc.passes.import_onnx import import_file; "
            "m = import_file(sys.argv[1]); print(sum(1 for _ in m.walk()))")
    p = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr.splitlines()[-1]


# ----------------------------------------------------------------------------- --run and --trace

@pytest.fixture
def mm_path(tmp_path) -> Path:
    return save(matmul_model(), tmp_path / "m.onnx")


@pytest.mark.parametrize("level", ["onnx", "qt"])
@pytest.mark.parametrize("keyed", ["by_name", "lone_array"])
def test_run_npz_inputs(tmp_path, run_fmlc, mm_path, level, keyed):
    x = (np.arange(20, dtype=np.float32).reshape(5, 4) - 10) / 4  # exact in fixed<16,6>
    if keyed == "by_name":
        np.savez(tmp_path / "x.npz", x=x, unrelated=np.zeros(3))
    else:
        np.savez(tmp_path / "x.npz", x)  # stored as arr_0
    ok(run_fmlc(mm_path, "--run", tmp_path / "x.npz", f"--level={level}", "-o", tmp_path / "y.npz"))
    with np.load(tmp_path / "y.npz") as y:
        assert y.files == ["y"]
        assert np.array_equal(y["y"], x @ W)


def _trace(path: Path) -> dict[str, np.ndarray]:
    with np.load(path) as t:
        return {k: t[k] for k in t.files}


@pytest.mark.parametrize("level", ["onnx", "qt"])
def test_trace_one_entry_per_op(tmp_path, run_fmlc, mm_path, level):
    x = np.ones((1, 4), np.float32)
    np.savez(tmp_path / "x.npz", x=x)
    ok(run_fmlc(mm_path, "--run", tmp_path / "x.npz", f"--level={level}", "-o", tmp_path / "y.npz",
                "--trace", tmp_path / "t.npz"))
    trace = _trace(tmp_path / "t.npz")
    values = [k for k in trace if not k.endswith(".type")]
    assert sorted(trace) == sorted([*values, *(f"{k}.type" for k in values)])
    if level == "onnx":  # the initialiser W and the MatMul mm
        assert sorted(values) == ["W", "mm"]
        assert np.array_equal(trace["mm"], x @ W)
        assert str(trace["mm.type"]) == "tensor<1x3xf32>"
    else:  # one entry per qt op, the return excluded
        emitted = ok(run_fmlc(mm_path, "--emit=qt"))
        assert len(values) == emitted.count('= "qt.')
        assert any("!qt." in str(trace[f"{k}.type"]) for k in values)


def test_trace_keys_have_known_locations(tmp_path, run_fmlc, mm_path):
    np.savez(tmp_path / "x.npz", x=np.ones((1, 4), np.float32))
    ok(run_fmlc(mm_path, "--run", tmp_path / "x.npz", "--level=qt", "-o", tmp_path / "y.npz",
                "--trace", tmp_path / "t.npz"))
    assert not [k for k in _trace(tmp_path / "t.npz") if "<unknown>" in k]


def test_trace_of_a_batch_has_one_entry_per_op(tmp_path, run_fmlc, mm_path):
    keys = {}
    for n in (1, 3):
        np.savez(tmp_path / f"x{n}.npz", x=np.ones((n, 4), np.float32))
        ok(run_fmlc(mm_path, "--run", tmp_path / f"x{n}.npz", "--level=onnx", "-o", tmp_path / "y.npz",
                    "--trace", tmp_path / f"t{n}.npz"))
        keys[n] = sorted(_trace(tmp_path / f"t{n}.npz"))
    assert keys[3] == keys[1]
