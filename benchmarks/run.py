"""fmlc side by side with hls4ml and conifer on the model zoo and the size ladder.

    python benchmarks/run.py [--out benchmarks/results] [--repeats 3] [--models NAME ...] [--no-peers]

Every model of ``../shared/zoo/public`` and ``../shared/zoo/perf`` (``--zoo`` points
elsewhere) is compiled by fmlc in io=parallel and io=stream and, where they take it, by
hls4ml (Vitis backend, io_parallel and io_stream) and conifer (tree ensembles).  Writes
``RESULTS.md`` (the tables), ``results.json`` (every figure and the machine) and
``scaling.png`` (fmlc's cost along the size ladder, with hls4ml's) into ``--out``.
Figures are medians over ``--repeats`` runs (see the notes the report prints).
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path
from statistics import median
from typing import Any

import numpy as np
import onnx

sys.path.insert(0, str(Path(__file__).resolve().parent))

import peers  # noqa: E402
from fmlc_side import fmlc_row, precompile_headers  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TREE_OPS = {"TreeEnsembleClassifier", "TreeEnsembleRegressor", "TreeEnsemble"}
IOS = ("io_parallel", "io_stream")
HEADERS_MODEL = "mlp_1k"  # built first: fmlc's precompiled headers, reused by every build
GOALS = {"write": 0.5, "build": 0.5, "build_cnn32_parallel": 0.1, "qt_vs_peer_csim": 10.0}


# ----------------------------------------------------------------------------- models

def models(zoo: Path, names: list[str] | None) -> list[dict[str, Any]]:
    """Every ``.onnx`` with its golden ``.npz`` under ``zoo/public`` and ``zoo/perf``."""
    found = []
    for group in ("public", "perf"):
        for path in sorted((zoo / group).glob("*.onnx")):
            if names and path.stem not in names:
                continue
            golden = path.with_suffix(".npz")
            if not golden.is_file():
                continue
            graph = onnx.load(str(path), load_external_data=False).graph
            trees = [n for n in graph.node if n.op_type in TREE_OPS]
            params = sum(int(np.prod(t.dims)) for t in graph.initializer if len(t.dims) >= 1)
            params += sum(len(a.ints) for n in trees for a in n.attribute if a.name == "nodes_nodeids")
            found.append({"name": path.stem, "group": group, "path": path, "golden": golden, "params": params,
                          "trees": bool(trees)})
    return found


# ----------------------------------------------------------------------------- accuracy

def accuracy(row: dict[str, Any], golden: Path) -> None:
    """Bit-exact fraction, max |error| and argmax agreement of the row's float output
    against the golden ``y`` (the label output against ``y_label`` where there is one)."""
    path = row.get("y")
    if not path or not Path(path).is_file():
        return
    with np.load(golden) as g, np.load(path) as got:
        want = g["y"].astype(np.float64)
        floats = [k for k in got.files if got[k].dtype.kind == "f" and got[k].size == want.size]
        if not floats:
            row["accuracy_note"] = f"no output shaped like y {want.shape} in {sorted(got.files)}"
            return
        y = got[floats[0]].astype(np.float64).reshape(want.shape)
        row["exact"] = float(np.mean(y == want))
        row["max_err"] = float(np.max(np.abs(y - want)))
        if want.ndim >= 2 and want.shape[-1] > 1:
            row["argmax"] = float(np.mean(np.argmax(y, -1) == np.argmax(want, -1)))
        if "y_label" in g.files:
            labels = [k for k in got.files if got[k].dtype.kind in "iu" and got[k].size == g["y_label"].size]
            if labels:
                row["label_agree"] = float(np.mean(got[labels[0]].ravel() == g["y_label"].ravel()))


# ----------------------------------------------------------------------------- machine

def machine() -> dict[str, Any]:
    cpu = platform.processor()
    try:
        cpu = next(ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                   if ln.startswith("model name"))
    except (OSError, StopIteration):
        pass
    mem = None
    try:
        mem = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (ValueError, OSError):
        pass
    gxx = subprocess.run(["g++", "--version"], capture_output=True, text=True, check=False).stdout.splitlines()
    versions = {}
    for pkg in ("fmlc", "numpy", "onnx", "qonnx", "onnxruntime", "hls4ml", "conifer"):
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            versions[pkg] = None
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gib": mem, "os": platform.platform(),
            "python": platform.python_version(), "gxx": gxx[0] if gxx else None, "versions": versions,
            "date": time.strftime("%Y-%m-%d %H:%M")}


# ----------------------------------------------------------------------------- running

PACKAGE_DIRS = ("compiler", "dialects", "passes", "codegen", "runtime")


def compile_bytecode() -> None:
    """Compile fmlc's modules to bytecode once, as pip does when it installs a wheel (the
    peers' modules are installed that way); the README's editable install otherwise
    compiles them on first import, or on every run where PYTHONDONTWRITEBYTECODE is set."""
    compileall.compile_file(str(ROOT / "__init__.py"), quiet=1)
    for d in PACKAGE_DIRS:
        compileall.compile_dir(str(ROOT / d), quiet=1)


def run(zoo: Path, out: Path, repeats: int, names: list[str] | None, with_peers: bool) -> dict[str, Any]:
    start = time.perf_counter()
    compile_bytecode()
    rows = []
    with tempfile.TemporaryDirectory(prefix="fmlc-bench-") as tmp:
        seed = Path(tmp) / "seed-cache"
        seed.mkdir()
        warm = next(m for m in models(zoo, None) if m["name"] == HEADERS_MODEL)
        precompile = precompile_headers(warm["path"], warm["golden"], seed)
        for m in models(zoo, names):
            for io in IOS:
                work = Path(tmp) / f"{m['name']}-{io}"
                work.mkdir()
                entry: dict[str, Any] = {"model": m["name"], "group": m["group"], "params": m["params"], "io": io}
                print(f"[{time.perf_counter() - start:6.0f} s] {m['name']} {io}: fmlc", flush=True)
                entry["fmlc"] = fmlc_row(m["path"], m["golden"], io, work, repeats, headers=seed / "pch")
                entry["peer"] = None
                if with_peers:
                    if m["trees"] and io == "io_parallel":
                        print(f"[{time.perf_counter() - start:6.0f} s] {m['name']} {io}: conifer", flush=True)
                        entry["peer"] = peers.conifer_row(m["path"], m["golden"], work, repeats)
                    elif not m["trees"]:
                        print(f"[{time.perf_counter() - start:6.0f} s] {m['name']} {io}: hls4ml", flush=True)
                        entry["peer"] = peers.hls4ml_row(m["path"], m["golden"], io, work, repeats)
                for row in (entry["fmlc"], entry["peer"]):
                    if row:
                        accuracy(row, m["golden"])
                        row.pop("y", None)
                rows.append(entry)
    result = {"machine": machine(), "repeats": repeats, "wall_s": time.perf_counter() - start, "rows": rows,
              "goals": GOALS, "precompile_s": precompile}
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(result, indent=1, default=str))
    (out / "RESULTS.md").write_text(report(result))
    plot(result, out / "scaling.png")
    return result


# ----------------------------------------------------------------------------- report

def _med(row: dict[str, Any] | None, key: str) -> float | None:
    if not row or row.get("status") != "ok":
        return None
    v = row.get(key)
    if isinstance(v, list):
        return median(v) if v else None
    return v


def _fmt(v: Any, digits: int = 3) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        if v != v:
            return "–"
        if abs(v) >= 1000:
            return f"{v:,.0f}"
        return f"{v:.{digits}g}"
    return str(v)


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def ratios(e: dict[str, Any]) -> dict[str, float | None]:
    f, p = e["fmlc"], e["peer"]
    return {"write": _ratio(_med(f, "write_s"), _med(p, "write_s")),
            "build": _ratio(_med(f, "build_s"), _med(p, "build_s")),
            "qt_vs_peer_csim": _ratio(_med(f, "qt_sps"), _med(p, "csim_sps"))}


def report(result: dict[str, Any]) -> str:
    mach = result["machine"]
    lines = ["# fmlc vs hls4ml / conifer", "",
             f"Machine: {mach['cpu']}, {mach['cores']} cores, {mach['memory_gib']} GiB, {mach['os']}; "
             f"Python {mach['python']}, {mach['gxx']}.  Versions: "
             + ", ".join(f"{k} {v}" for k, v in mach["versions"].items() if v) + f".  {mach['date']}.", "",
             f"Medians of {result['repeats']} runs (a C-simulation build over 30 s is measured once).  "
             f"Whole benchmark: {result['wall_s'] / 60:.1f} min.", "",
             "- **write s / MiB**: one fresh process writing the HLS project (`fmlc MODEL --emit=hls`; "
             "hls4ml: imports, QONNX clean-up, convert, write()), wall time and peak RSS.  fmlc's modules are "
             "compiled to bytecode first, as pip does for the peers' installed wheels.",
             "- **build s / MiB**: the C-simulation build from an empty cache (fmlc: its g++ build of the "
             "firmware and bridge; hls4ml: `build_lib.sh`; conifer: its g++ compile), wall and peak RSS of g++.  "
             "fmlc's cache keeps only its precompiled ap_types headers, made once per machine and compiler "
             f"by the first C simulation (here mlp_1k's: {result.get('precompile_s', 0):.1f} s, header included).",
             "- **csim sps**: C-simulation samples/s on the golden inputs (tiled), host conversions included.",
             "- **qt / df sps**: fmlc's interpreter at the qt and df levels, samples/s (qt batched; df's FIFO "
             "simulation runs sample by sample).",
             "- **exact / max err / argmax**: the C-simulation outputs against the golden outputs (QONNX or "
             "onnxruntime reference): fraction bit-identical, max |difference|, argmax agreement.  "
             "**levels**: fmlc's qt, df and csim outputs identical bit for bit.", ""]
    head = ("| model | params | io | tool | write s | write MiB | build s | build MiB | csim sps | qt sps | df sps "
            "| exact | max err | argmax | levels | status |")
    lines += [head, "|" + "---|" * (head.count("|") - 1)]
    for e in result["rows"]:
        for row in (e["fmlc"], e["peer"]):
            if row is None:
                continue
            ok = row.get("status") == "ok"
            cells = [e["model"], f"{e['params']:,}", e["io"].removeprefix("io_"),
                     f"{row['tool']} {row.get('version', '')}".strip(),
                     _fmt(_med(row, "write_s")), _fmt(row.get("write_peak_mib") if ok else None, 4),
                     _fmt(_med(row, "build_s")), _fmt(row.get("build_peak_mib") if ok else None, 4),
                     _fmt(_med(row, "csim_sps")), _fmt(_med(row, "qt_sps")), _fmt(_med(row, "df_sps")),
                     _fmt(row.get("exact")), _fmt(row.get("max_err")),
                     _fmt(row.get("argmax", row.get("label_agree"))),
                     {True: "yes", False: "NO"}.get(row.get("levels_agree"), ""),
                     (row.get("status") or "")[:160].replace("|", "/")
                     + (f" ({row['notes']})" if row.get("notes") else "")]
            lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "## Ratios (fmlc / peer, same model and io)", "",
              f"Goals: write ≤ {GOALS['write']}×, C-simulation build ≤ {GOALS['build']}× (≤ "
              f"{GOALS['build_cnn32_parallel']}× on cnn32 io_parallel), fmlc qt interpreter ≥ "
              f"{GOALS['qt_vs_peer_csim']:g}× the peer's C-simulation throughput.", "",
              "| model | io | peer | write | build | qt sps / peer csim sps |", "|---|---|---|---|---|---|"]
    for e in result["rows"]:
        if not e["peer"]:
            continue
        r = ratios(e)
        build_goal = GOALS["build_cnn32_parallel"] if (e["model"], e["io"]) == ("cnn32", "io_parallel") \
            else GOALS["build"]
        marks = [_goal(r["write"], GOALS["write"], below=True), _goal(r["build"], build_goal, below=True),
                 _goal(r["qt_vs_peer_csim"], GOALS["qt_vs_peer_csim"], below=False)]
        lines.append(f"| {e['model']} | {e['io'].removeprefix('io_')} | {e['peer']['tool']} | " + " | ".join(marks)
                     + " |")
    lines.append("")
    return "\n".join(lines)


def _goal(v: float | None, goal: float, below: bool) -> str:
    if v is None:
        return "–"
    met = v <= goal if below else v >= goal
    return f"{v:.2f}×" + ("" if met else " (goal missed)")


# ----------------------------------------------------------------------------- plot

def plot(result: dict[str, Any], path: Path) -> None:
    """Write time, build time and peak memory against parameters on the size ladder."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed (pip install -e '.[bench]'): no scaling plot", file=sys.stderr)
        return
    ladder = [e for e in result["rows"] if e["group"] == "perf" and e["model"].startswith("mlp")]
    fig, axes = plt.subplots(1, 3, figsize=(14, 4))
    panels = [("write_s", "write the project (s)"), ("build_s", "C-simulation build (s)"),
              ("peak", "peak memory, write / build (MiB)")]
    for ax, (key, title) in zip(axes, panels, strict=True):
        for tool, style in (("fmlc", "-o"), ("hls4ml", "--s")):
            for io, color in zip(IOS, ("tab:blue", "tab:orange"), strict=True):
                pts = []
                for e in ladder:
                    row = e["fmlc"] if tool == "fmlc" else e["peer"]
                    if e["io"] != io or not row or row.get("status") != "ok":
                        continue
                    v = max(row.get("write_peak_mib", 0), row.get("build_peak_mib", 0)) if key == "peak" \
                        else _med(row, key)
                    if v is not None:
                        pts.append((e["params"], v))
                if pts:
                    xs, ys = zip(*sorted(pts), strict=True)
                    ax.plot(xs, ys, style, color=color, label=f"{tool} {io}")
        ax.set_xscale("log")
        ax.set_xlabel("parameters (MLP size ladder)")
        ax.set_title(title)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--zoo", type=Path, default=ROOT.parent / "shared" / "zoo")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--models", nargs="*", help="only these (file stems)")
    ap.add_argument("--no-peers", action="store_true", help="fmlc only")
    a = ap.parse_args(argv)
    if not (a.zoo / "public").is_dir():
        print(f"error: no model zoo at {a.zoo} (pass --zoo)", file=sys.stderr)
        return 1
    if shutil.which("g++") is None:
        print("error: the benchmark needs g++ on PATH", file=sys.stderr)
        return 1
    result = run(a.zoo, a.out, max(a.repeats, 1), a.models, not a.no_peers)
    print((a.out / "RESULTS.md").read_text())
    print(f"wrote {a.out}/RESULTS.md, results.json, scaling.png in {result['wall_s'] / 60:.1f} min")
    return 0


if __name__ == "__main__":
    sys.exit(main())
