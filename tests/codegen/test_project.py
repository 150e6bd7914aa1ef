"""Project folders: legalised files, build.tcl / README / tb input text, atomic writing,
and the testbench compiled with g++ and run on a hand-made firmware."""

from __future__ import annotations

import math
import os
import subprocess
from collections.abc import Sequence
from pathlib import Path

import attrs
import numpy as np
import pytest

from fmlc.codegen import cpp as C
from fmlc.codegen import project as proj
from fmlc.codegen.emit import ctype_of, type_name
from fmlc.codegen.hls import Port, Project
from fmlc.codegen.project import project_files, write_project
from fmlc.compiler.diagnostics import FmlcError
from fmlc.dialects import qt
from fmlc.runtime import aptypes
from fmlc.runtime import fixed as fx
from fmlc.runtime.qt_rules import from_float_raw

QType = qt.FixedPointType | qt.BipolarType


# ----------------------------------------------------------------------------- a hand-made firmware

def hand_project(pairs: Sequence[tuple[QType, QType]], io: str = "parallel", shape: tuple[int, ...] = (2, 3),
                 add: str = "", name: str = "hand", port_names: Sequence[str] | None = None) -> Project:
    """A firmware whose top converts input k into output k (``pairs[k]``: their element
    types), after adding 1 (``add="one"``; bipolar: negating) or the element's flat index
    (``add="index"``); io=stream beats are the last dimension.  Raw names are deliberately
    not legal C++ (legalisation must fix them)."""
    lanes = shape[-1] if io == "stream" else math.prod(shape)
    beats = math.prod(shape) // lanes
    typedefs: dict[QType, C.Typedef] = {}
    structs: dict[QType, C.Struct] = {}

    def ctype(t: QType) -> C.TypeName:
        typedefs.setdefault(t, C.Typedef(ctype_of(t), type_name(t) + " raw"))
        return C.TypeName(typedefs[t].name)

    def beat(t: QType) -> C.TypeName | None:
        if io != "stream":
            return None
        structs.setdefault(t, C.Struct(f"beat<{type_name(t)}>", [C.Field(ctype(t), "data", (lanes,))]))
        return C.TypeName(structs[t].name)

    def port(k: int, t: QType, kind: str) -> Port:
        label = port_names[k] if port_names else f"{kind}:{k}"
        return Port(f'{label} "$[rm]\n', f"{kind}.{k}", shape, t, ctype(t), beat(t), lanes, beats)

    inputs = tuple(port(k, a, "in") for k, (a, _) in enumerate(pairs))
    outputs = tuple(port(k, b, "out") for k, (_, b) in enumerate(pairs))
    size = lanes * beats

    def param(port: Port, is_input: bool) -> C.Param:
        if io == "stream":
            return C.Param(C.CType("hls::stream", (port.beat,)), port.param, ref=True)
        return C.Param(port.ctype, port.param, (size,), const=is_input)

    def value(x: C.Expr, t: QType, index: C.Expr) -> C.Expr:
        if add == "index":
            return C.BinOp("+", x, index)
        if add == "one":
            return C.BinOp("+", x, C.Int(1)) if not isinstance(t, qt.BipolarType) else C.Unary("!", x)
        return x

    params = [param(p, True) for p in inputs] + [param(q, False) for q in outputs]
    body: list[C.Stmt] = []
    i = C.Name("i")
    for p, q in zip(inputs, outputs, strict=True):
        if io == "stream":
            x, y = C.Name("x beat"), C.Name("y beat")
            flat = C.BinOp("+", C.BinOp("*", C.Name("b"), C.Int(lanes)), i)
            converted = C.Cast(q.ctype, value(C.Index(C.Member(x, "data"), i), p.element, flat))
            body.append(C.For("b", C.Int(0), C.Int(beats), [
                C.VarDecl(p.beat, x.id, init=C.Call(C.Member(C.Name(p.param), "read"))),
                C.VarDecl(q.beat, y.id),
                C.For("i", C.Int(0), C.Int(lanes), [C.Assign(C.Index(C.Member(y, "data"), i), converted)]),
                C.ExprStmt(C.Call(C.Member(C.Name(q.param), "write"), [y])),
            ]))
        else:
            converted = C.Cast(q.ctype, value(C.Index(C.Name(p.param), i), p.element, i))
            body.append(C.For("i", C.Int(0), C.Int(size), [C.Assign(C.Index(C.Name(q.param), i), converted)]))
    top = f"{name} top"
    headers = ["ap_fixed.h", "ap_int.h"] + (["hls_stream.h"] if io == "stream" else [])
    defines = [*map(C.Include, headers), *typedefs.values(), *structs.values()]
    units = {
        "firmware/defines.h": C.TranslationUnit([C.Guard("defines", defines)]),
        "firmware/weights.h": C.TranslationUnit([C.Guard("weights", [C.Include("defines.h")])]),
        f"firmware/{name}.h": C.TranslationUnit([C.Guard(f"{name}_h", [
            C.Include("defines.h"), C.Function(C.VOID, top, params, None)])]),
        f"firmware/{name}.cpp": C.TranslationUnit([C.Include(f"{name}.h"), C.Include("weights.h"),
                                                   C.Function(C.VOID, top, params, body)]),
    }
    return Project(name, top, io, inputs, outputs, units, f"firmware/{name}.h", "xcvu13p-flga2577-2-e", 5.0)


TB_TYPES: list[tuple[QType, QType]] = [
    (qt.fixed(8, 3), qt.fixed(8, 3)),
    (qt.fixed(6, 2, True, "rnd_conv", "sat"), qt.fixed(10, 4)),
    (qt.fixed(5, 0, False), qt.fixed(7, 2, False)),
    (qt.integer(6), qt.integer(6)),
    (qt.integer(4, False), qt.integer(4, False)),
    (qt.BipolarType(), qt.BipolarType()),
]


def require_cxx() -> None:
    if os.environ.get("FMLC_SKIP_CSIM") == "1":
        pytest.skip("FMLC_SKIP_CSIM=1")
    if not aptypes.have_compiler():
        pytest.skip("g++ not found")
    try:
        aptypes.find_ap_types()
    except aptypes.ApTypesNotFound as e:
        pytest.skip(str(e))


# ----------------------------------------------------------------------------- files

@pytest.mark.parametrize("io", ["parallel", "stream"])
def test_files_are_legal_and_complete(io: str) -> None:
    p = hand_project(TB_TYPES[:2], io)
    files = project_files(p)
    assert set(files) == {*p.units, "csim/bridge.cpp", "tb/tb_hand.cpp", "tb/tb_input.txt", "build.tcl", "README.md"}
    for path, text in files.items():
        assert "\n\n\n" not in text, path
        assert "$[rm]" not in text and "in.0" not in text and "hand top" not in text, path  # raw names never leak
    assert "int main()" in files["tb/tb_hand.cpp"]
    assert 'extern "C" {' in files["csim/bridge.cpp"] and "int fmlc_csim_run(" in files["csim/bridge.cpp"]
    assert "set_top hand_top\n" in files["build.tcl"]
    assert "add_files firmware/hand.cpp" in files["build.tcl"] and "add_files -tb tb/tb_hand.cpp" in files["build.tcl"]
    assert "set_part {xcvu13p-flga2577-2-e}" in files["build.tcl"] and "create_clock -period 5.0" in files["build.tcl"]
    readme = files["README.md"]
    assert f"io={io}" in readme and "xcvu13p-flga2577-2-e" in readme and "5.0 ns" in readme
    assert "ap_fixed<6,2,AP_RND_CONV,AP_SAT>" in readme and ("hls::stream<" in readme) == (io == "stream")
    assert files["tb/tb_input.txt"] == "0.0 0.0 0.0 0.0 0.0 0.0 0.0 0.0 0.0 0.0 0.0 0.0\n" * proj.DEFAULT_TB_SAMPLES


def test_tb_input_rows_and_shape_check() -> None:
    p = hand_project(TB_TYPES[:1], shape=(3,))
    assert project_files(p, np.array([[0.1, -2.0, 1e-30]]))["tb/tb_input.txt"] == "0.1 -2.0 1e-30\n"
    assert proj.tb_input_text(p, np.zeros((2, 1, 3), np.float32)) == "0.0 0.0 0.0\n" * 2
    with pytest.raises(FmlcError, match="4 values per sample.*take 3"):
        project_files(p, np.zeros((2, 4)))


def test_bad_part_and_clock_are_refused() -> None:
    p = hand_project(TB_TYPES[:1])
    with pytest.raises(FmlcError, match="not a plain part name"):
        project_files(attrs.evolve(p, part="xc7}\nexec rm"))
    with pytest.raises(FmlcError, match="clock period"):
        project_files(attrs.evolve(p, clock_ns=float("nan")))


def test_firmware_names_must_not_clash_with_the_drivers() -> None:
    p = hand_project(TB_TYPES[:1])
    extra = C.TranslationUnit([C.Function(C.VOID, "fmlc_step", [], None)])  # the testbench's own function
    p = attrs.evolve(p, units={**p.units, "firmware/extra.h": extra})
    with pytest.raises(FmlcError, match="declares 'fmlc_step', reserved"):
        project_files(p)


def test_wide_ports_are_refused_by_name() -> None:
    p = hand_project([(qt.fixed(65, 3), qt.fixed(8, 3))], port_names=["wide input"])
    with pytest.raises(FmlcError, match=r"port 'wide input.*65-bit"):
        project_files(p)


# ----------------------------------------------------------------------------- writing

FILES = {"a.txt": "a\n", "sub/dir/b.cpp": "int x;\n"}


def _tree(root: Path) -> dict[str, str]:
    return {str(f.relative_to(root)): f.read_text() for f in root.rglob("*") if f.is_file()}


def test_write_new_folder(tmp_path: Path) -> None:
    write_project(FILES, tmp_path / "new" / "out")
    assert _tree(tmp_path / "new" / "out") == FILES
    assert os.listdir(tmp_path / "new") == ["out"]


def test_existing_folder_needs_force(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.txt").write_text("keep")
    with pytest.raises(FmlcError, match=r"error: .*out exists; use --force to replace it"):
        write_project(FILES, out)
    assert _tree(out) == {"old.txt": "keep"} and os.listdir(tmp_path) == ["out"]
    write_project(FILES, out, force=True)
    assert _tree(out) == FILES and os.listdir(tmp_path) == ["out"]
    (tmp_path / "file").write_text("x")  # a file in the way is replaced too
    write_project(FILES, tmp_path / "file", force=True)
    assert _tree(tmp_path / "file") == FILES


@pytest.mark.parametrize("existing", [False, True])
def test_failure_midway_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, existing: bool) -> None:
    out = tmp_path / "out"
    if existing:
        out.mkdir()
        (out / "old.txt").write_text("keep")
    real = Path.write_text
    calls = []

    def flaky(self: Path, *args: object, **kwargs: object) -> int:
        calls.append(self)
        if len(calls) == 2:
            raise OSError("disk full")
        return real(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "write_text", flaky)
    with pytest.raises(OSError, match="disk full"):
        write_project(FILES, out, force=True)
    assert os.listdir(tmp_path) == (["out"] if existing else [])
    if existing:
        assert _tree(out) == {"old.txt": "keep"}


def test_failed_rename_restores_the_old_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.txt").write_text("keep")
    real = os.rename

    def rename(src: object, dst: object) -> None:
        if Path(str(src)).name.startswith(".out.tmp-"):
            raise OSError("no")
        real(src, dst)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "rename", rename)
    with pytest.raises(OSError, match="no"):
        write_project(FILES, out, force=True)
    assert os.listdir(tmp_path) == ["out"] and _tree(out) == {"old.txt": "keep"}


@pytest.mark.parametrize("key", ["../x", "a/../../x", "/abs", "", ".", "a\\b", "sub/.."])
def test_bad_keys_are_refused(tmp_path: Path, key: str) -> None:
    with pytest.raises(FmlcError, match="not a relative path"):
        write_project({"ok.txt": "", key: "x"}, tmp_path / "out")
    assert os.listdir(tmp_path) == []


# ----------------------------------------------------------------------------- the testbench

def _expected_text(p: Project, x: np.ndarray) -> list[list[float]]:
    """What the identity testbench must print: qt.from_float then to_float of every input."""
    rows = []
    offset = 0
    cols = []
    for port in p.inputs:
        n = port.lanes * port.beats
        raw = from_float_raw(x[:, offset:offset + n], port.element)
        cols.append(fx.to_float(raw, port.element) if not isinstance(port.element, qt.BipolarType)
                    else 2.0 * raw - 1)
        offset += n
    rows = np.concatenate(cols, axis=1)
    return rows.tolist()


@pytest.mark.parametrize("io", ["parallel", "stream"])
def test_testbench_runs(io: str, tmp_path: Path) -> None:
    require_cxx()
    pairs = [(a, a) for a, _ in TB_TYPES]
    p = hand_project(pairs, io)
    rng = np.random.default_rng(1)
    x = rng.normal(0, 6, (7, 6 * len(pairs)))
    x[0] = 0.0
    x[1] = [-0.3, 0.3, -0.7, 100.5, -100.5, 2.5] * len(pairs)  # truncation toward zero, wrap, ties
    files = project_files(p, x)
    exe = aptypes.build_executable({k: v for k, v in files.items() if k.startswith("firmware/") or k.startswith("tb/")
                                    and k.endswith(".cpp")}, name="tb-hand", include_dirs=("firmware",))
    for where in ("tb", "."):  # from the project folder (tb/...) and from Vitis' csim folder
        run_dir = tmp_path / where.replace(".", "cwd")
        (run_dir / where).mkdir(parents=True, exist_ok=True)
        (run_dir / where / "tb_input.txt").write_text(files["tb/tb_input.txt"])
        result = subprocess.run([str(exe)], cwd=run_dir, capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stderr
        text = (run_dir / where / "tb_output.txt").read_text()
        got = [[float(v) for v in line.split()] for line in text.splitlines()]
        assert got == _expected_text(p, x)
    result = subprocess.run([str(exe)], cwd=tmp_path / "tb", capture_output=True, text=True, check=False)
    assert result.returncode == 0  # tb_input.txt here
    empty = tmp_path / "empty"
    empty.mkdir()
    result = subprocess.run([str(exe)], cwd=empty, capture_output=True, text=True, check=False)
    assert result.returncode == 1 and "cannot open" in result.stderr and os.listdir(empty) == []


def test_testbench_adds_one_in_every_type(tmp_path: Path) -> None:
    """The top really runs: +1 in the output type (bipolar: negated)."""
    require_cxx()
    p = hand_project(TB_TYPES, "parallel", shape=(2,), add="one")
    x = np.array([[0.5, -1.25] * len(TB_TYPES)])
    files = project_files(p, x)
    exe = aptypes.build_executable({k: v for k, v in files.items() if k.startswith("firmware/") or k.startswith("tb/")
                                    and k.endswith(".cpp")}, name="tb-hand-add", include_dirs=("firmware",))
    (tmp_path / "tb").mkdir()
    (tmp_path / "tb" / "tb_input.txt").write_text(files["tb/tb_input.txt"])
    subprocess.run([str(exe)], cwd=tmp_path, check=True)
    got = [float(v) for v in (tmp_path / "tb" / "tb_output.txt").read_text().split()]
    assert got == [1.5, -0.25,          # fixed<8,3>
                   1.5, -0.25,          # fixed<6,2,rnd_conv,sat> -> fixed<10,4>
                   1.5, 1.75,           # ufixed<5,0>: -1.25 wraps to 0.75 -> ufixed<7,2>
                   1.0, 0.0,            # int<6>: 0.5 -> 0, -1.25 -> -1
                   1.0, 0.0,            # uint<4>: 0 + 1, (-1 wraps to 15) + 1 wraps to 0
                   -1.0, 1.0]           # bipolar: +1 -> -1, -1 -> +1
