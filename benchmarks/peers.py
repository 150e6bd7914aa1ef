"""The peer side of the benchmarks: hls4ml (neural nets) and conifer (boosted decision trees).

Imported by the harness (``import peers``: :func:`hls4ml_row`, :func:`conifer_row`, :func:`peer_versions`)
and run as a worker script by the timed subprocesses::

    python benchmarks/peers.py hls4ml-write MODEL IO OUTDIR
    python benchmarks/peers.py hls4ml-predict MODEL IO OUTDIR GOLDEN Y_NPZ RESULT_JSON
    python benchmarks/peers.py conifer-write MODEL OUTDIR [--precision P]
    python benchmarks/peers.py conifer-predict MODEL OUTDIR GOLDEN Y_NPZ RESULT_JSON

Per repeat, a row measures (with :func:`measure.measure`) a fresh write process, then the C-simulation build
the tool itself runs (hls4ml: ``bash build_lib.sh``, what ``ModelGraph.compile()`` runs; conifer: the g++
command of ``XilinxHLSModel.compile()``). The throughput of the first build is measured by one more worker
that loads the built library the way the tool's own predict path does, without building it again.
The row functions never raise: a peer that refuses or crashes gives ``status`` = a one-line reason.
"""

from __future__ import annotations

import argparse
import functools
import importlib.metadata
import importlib.util
import json
import os
import shutil
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from measure import Measured, measure  # benchmarks/ is on sys.path: the harness's, or this script's folder

PEERS = Path(__file__).resolve()
ERROR_MARK = "PEER-ERROR: "  # a worker's last line when it fails: the row's status
BUILD_ONCE_S = 30.0  # a first build slower than this is not repeated
MIN_TIMED_S = 0.3  # the timed predict loop runs at least this long

HLS4ML_PRECISION = "fixed<16,6>"  # hls4ml's default, as in zoo/perf/PEER_HLS4ML.md
HLS4ML_BACKEND = "Vitis"
HLS4ML_PROJECT = "myproject"
CONIFER_BACKEND = "xilinxhls"  # C-sim of the HLS firmware with g++ and ap_types: no Vitis needed
CONIFER_PROJECT = "my_prj"
CONIFER_BUILD = "conifer_build.sh"  # written by conifer-write: the g++ command of XilinxHLSModel.compile()


def peer_versions() -> dict[str, str | None]:
    """Installed versions of the peers and of what their flows run on; None where absent."""
    versions: dict[str, str | None] = {}
    for name in ("hls4ml", "conifer", "onnxruntime", "qonnx"):
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return versions


# ---------------------------------------------------------------------------------------------------------
# Rows (harness side)
# ---------------------------------------------------------------------------------------------------------


def _never_raises(tool: str) -> Callable[[Callable[..., dict]], Callable[..., dict]]:
    """A row function that turns any exception (a bug here, a full disk) into a status row."""

    def wrap(fn: Callable[..., dict]) -> Callable[..., dict]:
        @functools.wraps(fn)
        def row(*args: Any, **kwargs: Any) -> dict:
            try:
                return fn(*args, **kwargs)
            except Exception as exc:
                return {"tool": tool, "version": peer_versions().get(tool), "status":
                        f"{tool}: benchmark harness error: {_one_line(exc)}"}

        return row

    return wrap


@_never_raises("hls4ml")
def hls4ml_row(model: Path, golden: Path, io: str, work: Path, repeats: int, timeout_s: float = 900) -> dict:
    """hls4ml 1.x (Vitis backend, ``io``) on an ONNX/QONNX model: write, C-sim build, predict() throughput.

    Procedure of zoo/perf/PEER_HLS4ML.md: qonnx cleanup, channels-last, GemmToMatMul, cleanup;
    ``config_from_onnx_model`` (default precision fixed<16,6>, Latency, RF 1); ``convert_from_onnx_model``.
    ``y`` has the golden ``y``'s shape (a channels-last output is transposed back, said in the notes).
    """
    row: dict[str, Any] = {"tool": "hls4ml", "version": peer_versions()["hls4ml"], "io": io}
    notes = [f"Vitis backend, default precision {HLS4ML_PRECISION}, Latency, RF 1; "
             "qonnx cleanup + ConvertToChannelsLastAndClean + GemmToMatMul + cleanup"]
    if io not in ("io_parallel", "io_stream"):
        return {**row, "status": f"hls4ml: unknown io type {io!r}", "notes": notes[0]}
    if row["version"] is None:
        return {**row, "status": "hls4ml: not installed", "notes": notes[0]}
    model, golden, work = Path(model).resolve(), Path(golden).resolve(), Path(work).resolve()

    def write_cmd(outdir: Path) -> list[str]:
        return [sys.executable, str(PEERS), "hls4ml-write", str(model), io, str(outdir)]

    def predict_cmd(outdir: Path, y_npz: Path, result: Path) -> list[str]:
        return [sys.executable, str(PEERS), "hls4ml-predict", str(model), io, str(outdir), str(golden),
                str(y_npz), str(result)]

    return _row("hls4ml", row, notes, work / f"hls4ml_{model.stem}_{io}", repeats, timeout_s,
                write_cmd, ["bash", "build_lib.sh"], predict_cmd, env=None)


@_never_raises("conifer")
def conifer_row(model: Path, golden: Path, work: Path, repeats: int, timeout_s: float = 900,
                precision: str | None = None) -> dict:
    """conifer on an ONNX-ML tree ensemble: its ONNX converter and the ``xilinxhls`` backend's C simulation
    (row ``io`` = "xilinxhls"; ap_types from hls4ml's copy unless XILINX_AP_INCLUDE / a Xilinx install is set).

    ``precision`` None keeps conifer's default (``auto_config()``, ap_fixed<18,8>). ``y_score`` holds the
    raw ``decision_function`` scores, ``y`` the ONNX post_transform of them (softmax / logistic, in float,
    in Python) and ``y_label`` the predicted class.
    """
    row: dict[str, Any] = {"tool": "conifer", "version": peer_versions()["conifer"], "io": CONIFER_BACKEND}
    notes = [f"{CONIFER_BACKEND} backend C simulation (g++ of the HLS firmware + pybind11 bridge)"]
    if row["version"] is None:
        return {**row, "status": "conifer: not installed", "notes": notes[0]}
    model, golden, work = Path(model).resolve(), Path(golden).resolve(), Path(work).resolve()

    def write_cmd(outdir: Path) -> list[str]:
        cmd = [sys.executable, str(PEERS), "conifer-write", str(model), str(outdir)]
        return cmd + (["--precision", precision] if precision else [])

    def predict_cmd(outdir: Path, y_npz: Path, result: Path) -> list[str]:
        return [sys.executable, str(PEERS), "conifer-predict", str(model), str(outdir), str(golden),
                str(y_npz), str(result)]

    return _row("conifer", row, notes, work / f"conifer_{model.stem}", repeats, timeout_s,
                write_cmd, ["bash", CONIFER_BUILD], predict_cmd, env=_conifer_env())


def _row(tool: str, row: dict[str, Any], notes: list[str], base: Path, repeats: int, timeout_s: float,
         write_cmd: Callable[[Path], list[str]], build_cmd: list[str],
         predict_cmd: Callable[[Path, Path, Path], list[str]], env: dict[str, str] | None) -> dict:
    """The repeat loop shared by the rows: fills and returns ``row``."""
    row.update(status="ok", write_s=[], build_s=[], csim_sps=[])
    write_peaks: list[float] = []
    build_peaks: list[float] = []
    base.mkdir(parents=True, exist_ok=True)
    build_once = False
    for r in range(max(repeats, 1)):
        outdir = base / f"r{r}"
        shutil.rmtree(outdir, ignore_errors=True)
        w = measure(write_cmd(outdir), env=env, timeout_s=timeout_s)
        if not w.ok:
            row["status"] = _why(tool, "write", w)
            break
        row["write_s"].append(round(w.wall_s, 3))
        write_peaks.append(w.peak_mib)
        if build_once:
            continue  # keep repeating the (cheap) write, not the slow build
        b = measure(build_cmd, cwd=outdir, env=env, timeout_s=timeout_s)
        if not b.ok:
            row["status"] = _why(tool, "C-sim build", b)
            break
        row["build_s"].append(round(b.wall_s, 3))
        build_peaks.append(b.peak_mib)
        if r == 0:
            if not _predict(tool, row, notes, base, outdir, predict_cmd, env, timeout_s):
                break
            if b.wall_s > BUILD_ONCE_S and repeats > 1:
                build_once = True
                notes.append(f"build measured once ({b.wall_s:.1f} s)")
    if write_peaks:
        row["write_peak_mib"] = round(max(write_peaks), 1)
    if build_peaks:
        row["build_peak_mib"] = round(max(build_peaks), 1)
    for key in ("write_s", "build_s", "csim_sps"):
        if not row[key]:
            del row[key]  # not measured: absent
    row["notes"] = "; ".join(notes)
    return row


def _predict(tool: str, row: dict[str, Any], notes: list[str], base: Path, outdir: Path,
             predict_cmd: Callable[[Path, Path, Path], list[str]], env: dict[str, str] | None,
             timeout_s: float) -> bool:
    """Run the throughput worker on ``outdir``'s build; fill ``row``; False when it failed."""
    y_npz, result = base / "y.npz", base / "predict.json"
    y_npz.unlink(missing_ok=True)
    result.unlink(missing_ok=True)
    p = measure(predict_cmd(outdir, y_npz, result), env=env, timeout_s=timeout_s)
    if not p.ok or not result.exists():
        row["status"] = _why(tool, "predict", p)
        return False
    res = json.loads(result.read_text())
    row["csim_sps"].append(round(res["sps"], 1))
    row["first_call_s"] = round(res["first_call_s"], 4)
    row["y"] = str(y_npz)
    notes.extend(res["notes"])
    return True


def _why(tool: str, step: str, m: Measured) -> str:
    """One line: why a worker or a build failed."""
    lines = [ln.strip() for ln in m.output.splitlines() if ln.strip()]
    if lines and lines[-1].startswith("timed out after"):
        return f"{tool}: {step} {lines[-1]}"
    marked = [ln for ln in lines if ln.startswith(ERROR_MARK)]
    if marked:  # the worker's own words; a write failure is the peer refusing the model
        return f"{tool}: {'' if step == 'write' else step + ': '}{marked[-1][len(ERROR_MARK):]}"
    return f"{tool}: {step} failed (exit {m.returncode}): {m.error()}"


class PeerError(Exception):
    """A failure already worded for the row's status."""


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or "(no message)"
    return (text if type(exc) in (Exception, PeerError) else f"{type(exc).__name__}: {text}")[:300]


def _conifer_env() -> dict[str, str]:
    """conifer's wheel ships no ap_types: point XILINX_AP_INCLUDE at hls4ml's copy unless a Xilinx tool is set."""
    if any(os.environ.get(v) for v in ("XILINX_AP_INCLUDE", "XILINX_HLS", "XILINX_VIVADO")):
        return {}
    spec = importlib.util.find_spec("hls4ml")
    if spec is None or not spec.submodule_search_locations:
        return {}
    ap_types = Path(list(spec.submodule_search_locations)[0]) / "templates" / "vivado" / "ap_types"
    return {"XILINX_AP_INCLUDE": str(ap_types)} if ap_types.is_dir() else {}


# ---------------------------------------------------------------------------------------------------------
# Workers (subprocess side)
# ---------------------------------------------------------------------------------------------------------


def _hls4ml_model(model: Path, io: str, outdir: Path) -> Any:
    """The hls4ml ModelGraph of ``model``, converted as zoo/perf/PEER_HLS4ML.md does (nothing written)."""
    import hls4ml
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.transformation.channels_last import ConvertToChannelsLastAndClean
    from qonnx.transformation.gemm_to_matmul import GemmToMatMul
    from qonnx.util.cleanup import cleanup_model

    qonnx_model = cleanup_model(ModelWrapper(str(model)))
    qonnx_model = qonnx_model.transform(ConvertToChannelsLastAndClean())
    qonnx_model = qonnx_model.transform(GemmToMatMul())
    qonnx_model = cleanup_model(qonnx_model)
    config = hls4ml.utils.config.config_from_onnx_model(
        qonnx_model, granularity="name", backend=HLS4ML_BACKEND, default_precision=HLS4ML_PRECISION)
    return hls4ml.converters.convert_from_onnx_model(
        qonnx_model, output_dir=str(outdir), project_name=HLS4ML_PROJECT, backend=HLS4ML_BACKEND,
        io_type=io, hls_config=config)


def _hls4ml_write(args: argparse.Namespace) -> None:
    _hls4ml_model(Path(args.model), args.io, Path(args.outdir)).write()


def _hls4ml_predict(args: argparse.Namespace) -> None:
    """Load the built library into the ModelGraph as ``ModelGraph._compile`` does, then time predict()."""
    import ctypes

    outdir = Path(args.outdir)
    hls_model = _hls4ml_model(Path(args.model), args.io, outdir)
    libs = sorted((outdir / "firmware").glob(f"{HLS4ML_PROJECT}-*.so"))
    if len(libs) != 1:
        raise PeerError(f"expected one built firmware/{HLS4ML_PROJECT}-*.so in {outdir}, found {len(libs)}")
    hls_model._top_function_lib = ctypes.cdll.LoadLibrary(str(libs[0]))

    golden = np.load(args.golden)
    x = np.ascontiguousarray(golden["x"])
    first_s, sps, y = _time_predict(hls_model.predict, x)
    notes: list[str] = []
    if isinstance(y, list):
        notes.append(f"model has {len(y)} outputs: y is the first")
        y = y[0]
    y_ref = golden["y"]
    y = np.asarray(y, dtype=np.float32).reshape(len(x), -1)
    out_shape = tuple(int(d) for d in hls_model.get_output_variables()[0].shape)
    want = tuple(y_ref.shape[1:])
    if y.shape[1] != int(np.prod(want)):
        notes.append(f"output size {y.shape[1]} differs from the golden y's {want}: y left flat")
    elif len(want) >= 2 and out_shape == (*want[1:], want[0]) and out_shape != want:
        y = np.moveaxis(y.reshape(len(x), *out_shape), -1, 1)
        notes.append(f"output is channels-last {out_shape}: transposed to the golden's {want}")
    else:
        y = y.reshape(len(x), *want)
    np.savez(args.y_npz, y=y)
    _write_result(args.result, first_s, sps, notes)


def _conifer_write(args: argparse.Namespace) -> None:
    """Convert with conifer's ONNX converter, write the xilinxhls project and its compile() command."""
    import conifer
    import onnx
    from conifer.utils import _ap_include, _gcc_opts, _py_executable

    onnx_model = onnx.load(args.model)
    config = conifer.backends.xilinxhls.auto_config()
    config.update(OutputDir=args.outdir, ProjectName=CONIFER_PROJECT)
    if args.precision:
        config["Precision"] = args.precision
    try:
        model = conifer.converters.convert_from_onnx(onnx_model, config)
    except Exception as exc:
        raise PeerError(f"ONNX converter failed: {_one_line(exc)}; {_tree_graph(onnx_model)}") from exc
    model.write()
    # the command of conifer 1.11's XilinxHLSModel.compile(), which would also write() and import the .so
    ap_include = _ap_include()
    cmd = (f"g++ -O3 -shared -std=c++14 -fPIC $({_py_executable()} -m pybind11 --includes) {ap_include} "
           f"{_gcc_opts()} bridge.cpp firmware/BDT.cpp firmware/{CONIFER_PROJECT}.cpp "
           f"-o conifer_bridge_{model._stamp}.so")
    (Path(args.outdir) / CONIFER_BUILD).write_text(f"#!/bin/bash\nset -e\n{cmd}\n")


def _tree_graph(onnx_model: Any) -> str:
    """The graph's ops, and which of the ONNX converter's assumptions (conifer 1.11) it breaks."""
    nodes = list(onnx_model.graph.node)
    said = f"graph {'/'.join(n.op_type for n in nodes)}"
    if not nodes or nodes[0].op_type != "TreeEnsembleClassifier":
        return f"{said}: conifer's ONNX converter reads only classifiers (a first node TreeEnsembleClassifier)"
    if not any(n.name == "ZipMap" for n in nodes[1:3]):
        return f"{said}: conifer's ONNX converter needs a node named 'ZipMap' second or third"
    return said


def _conifer_predict(args: argparse.Namespace) -> None:
    """Load the model's JSON and the built bridge as ``XilinxHLSModel.compile()`` does; time decision_function."""
    import conifer
    import onnx

    outdir = Path(args.outdir)
    model = conifer.model.load_model(str(outdir / f"{CONIFER_PROJECT}.json"))
    libs = sorted(outdir.glob("conifer_bridge_*.so"))
    if len(libs) != 1:
        raise PeerError(f"expected one built conifer_bridge_*.so in {outdir}, found {len(libs)}")
    spec = importlib.util.spec_from_file_location(libs[0].name.split(".")[0], libs[0])
    assert spec is not None and spec.loader is not None
    model.bridge = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(model.bridge)

    golden = np.load(args.golden)
    x = np.ascontiguousarray(golden["x"])
    first_s, sps, scores = _time_predict(model.decision_function, x)
    scores = np.asarray(scores, dtype=np.float64).reshape(len(x), -1)
    attrs = _tree_attributes(onnx.load(args.model))
    out, notes = _tree_outputs(scores, attrs, golden)
    notes.insert(0, _conifer_precision(model.config, conifer.backends.xilinxhls.auto_config()["Precision"]))
    np.savez(args.y_npz, **out)
    _write_result(args.result, first_s, sps, notes)


def _conifer_precision(cfg: Any, default: str) -> str:
    """The precisions the project was built with (older conifers have fewer kinds)."""
    kinds = {k: getattr(cfg, f"{k}_precision", None) for k in ("input", "threshold", "weight", "score")}
    kinds = {k: v for k, v in kinds.items() if v is not None}
    if len(set(kinds.values())) != 1:
        return "precision " + ", ".join(f"{k} {v}" for k, v in kinds.items())
    precision = next(iter(kinds.values()))
    return f"precision {precision}" + (" (conifer's default)" if precision == default else "")


def _tree_attributes(onnx_model: Any) -> dict[str, Any]:
    import onnx

    for node in onnx_model.graph.node:
        if node.op_type.startswith("TreeEnsemble"):
            return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute} | {"op": node.op_type}
    return {}


def _tree_outputs(scores: np.ndarray, attrs: dict[str, Any], golden: Any) -> tuple[dict[str, np.ndarray], list[str]]:
    """conifer's raw scores → y_score, and y / y_label comparable with onnxruntime's outputs."""
    transform = attrs.get("post_transform", b"NONE")
    transform = transform.decode() if isinstance(transform, bytes) else str(transform)
    out: dict[str, np.ndarray] = {"y_score": scores.astype(np.float32)}
    y_ref = golden["y"]
    if "y_label" not in golden:  # a regressor: the scores are the outputs
        out["y"] = scores.astype(np.float32).reshape(y_ref.shape)
        return out, ["y = decision_function scores"]
    if scores.shape[1] == 1:  # binary: one score, for the second class
        p = 1 / (1 + np.exp(-scores[:, 0])) if transform == "LOGISTIC" else scores[:, 0]
        probs = np.stack([1 - p, p], axis=1)
    elif transform == "SOFTMAX":
        e = np.exp(scores - scores.max(axis=1, keepdims=True))
        probs = e / e.sum(axis=1, keepdims=True)
    else:
        probs = scores
    labels = np.asarray(attrs.get("classlabels_int64s") or range(probs.shape[1]), dtype=np.int64)
    out["y"] = probs.astype(np.float32).reshape(y_ref.shape)
    out["y_label"] = labels[probs.argmax(axis=1)]
    rule = {"SOFTMAX": "the softmax of", "LOGISTIC": "the logistic of"}.get(transform, "")
    binary = " ([1 - p, p] from the single binary score)" if scores.shape[1] == 1 else ""
    return out, [f"y_score = raw decision_function scores; y = {rule} them{binary} (ONNX post_transform "
                 f"{transform}, float64 in Python); y_label = argmax of y"]


def _time_predict(fn: Callable[[np.ndarray], Any], x: np.ndarray) -> tuple[float, float, Any]:
    """(1-sample warm-up s, samples/s over ≥ MIN_TIMED_S of whole-batch calls, the last outputs)."""
    start = time.perf_counter()
    fn(x[:1])
    first_s = time.perf_counter() - start
    n, start = 0, time.perf_counter()
    while True:
        y = fn(x)
        n += len(x)
        elapsed = time.perf_counter() - start
        if elapsed >= MIN_TIMED_S:
            return first_s, n / elapsed, y


def _write_result(path: str, first_s: float, sps: float, notes: list[str]) -> None:
    Path(path).write_text(json.dumps({"first_call_s": first_s, "sps": sps, "notes": notes}))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("hls4ml-write")
    p.add_argument("model")
    p.add_argument("io")
    p.add_argument("outdir")
    p.set_defaults(fn=_hls4ml_write, tool="hls4ml")
    p = sub.add_parser("hls4ml-predict")
    for name in ("model", "io", "outdir", "golden", "y_npz", "result"):
        p.add_argument(name)
    p.set_defaults(fn=_hls4ml_predict, tool="hls4ml")
    p = sub.add_parser("conifer-write")
    p.add_argument("model")
    p.add_argument("outdir")
    p.add_argument("--precision")
    p.set_defaults(fn=_conifer_write, tool="conifer")
    p = sub.add_parser("conifer-predict")
    for name in ("model", "outdir", "golden", "y_npz", "result"):
        p.add_argument(name)
    p.set_defaults(fn=_conifer_predict, tool="conifer")
    args = parser.parse_args(argv)
    try:
        args.fn(args)
    except Exception as exc:  # reported as the row's status
        traceback.print_exc()
        sys.stdout.flush()
        print(f"{ERROR_MARK}{_one_line(exc)}", file=sys.stderr, flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
