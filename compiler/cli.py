"""``fmlc``: the compiler's command line.

    fmlc MODEL.onnx --emit=hls -o OUT/                     # the main job: a Vitis HLS project
    fmlc MODEL.onnx --emit=onnx|qt|df|cpp [-o FILE]        # IR (or the firmware C++) at a level
    fmlc MODEL.onnx --run X.npz --level=onnx|qt|df|csim -o Y.npz
    fmlc MODEL.onnx --check [X.npz]                        # every level on the inputs, one table
    fmlc MODEL.onnx --report [--report-json R.json]        # resources and latency per process
    fmlc --list-passes

MODEL is an ONNX/QONNX model or an IR file at any level; work continues from
the level the model is at.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from fmlc.compiler.diagnostics import FmlcError
from fmlc.compiler.driver import (
    add_ir_options,
    format_module,
    guarded,
    load_all,
    load_plugins,
    run_pipeline,
    write_text_atomic,
)
from fmlc.compiler.models import (
    LEVELS,
    level_of,
    load,
    lower_to,
    lowering_pipeline,
    read_inputs,
    run_batch,
    write_outputs,
)
from fmlc.compiler.passes import PassContext, Pipeline, parse_pipeline, pass_help

EMITS = (*LEVELS, "cpp", "hls")
RUN_LEVELS = (*LEVELS, "csim")


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="fmlc", description="Compile ML models to bit-exact FPGA firmware.")
    ap.add_argument("model", nargs="?", help="an ONNX/QONNX model (.onnx) or an IR file (.mlir, - for stdin)")
    ap.add_argument("--emit", choices=EMITS,
                    help="print the IR at this level, the firmware C++ (cpp), or write the HLS project (hls)")
    ap.add_argument("--run", metavar="X.npz", help="run the model on the inputs in X.npz (see --level)")
    ap.add_argument("--level", choices=RUN_LEVELS, help="the level --run executes (default: qt)")
    ap.add_argument("--trace", metavar="T.npz", help="with --run: save every op's result, keyed by location")
    ap.add_argument("--check", nargs="?", const="", metavar="X.npz",
                    help="run every level from the model's own (onnx, qt, df) and the C simulation on X.npz "
                         "(default: 256 random inputs) and compare; exit 1 if qt, df and csim differ")
    ap.add_argument("--report", action="store_true", help="print resources and latency per process")
    ap.add_argument("--report-json", metavar="R.json", help="write the report as JSON")
    ap.add_argument("-p", "--pipeline", help="run this pass pipeline instead of the standard lowering")
    ap.add_argument("--print-pipeline", action="store_true", help="print the pipeline that would run and exit")
    ap.add_argument("--list-passes", action="store_true", help="list the registered passes and exit")
    ap.add_argument("-o", "--output", default="-", help="output file or folder (default: standard output)")
    g = ap.add_argument_group("precision")
    g.add_argument("--default-precision", metavar="TYPE",
                   help="type of the float parts of a model (default fixed<16,6>)")
    g.add_argument("--config", metavar="CFG.toml", help="per-layer precision, table, reuse and strategy settings")
    g.add_argument("--strict", action="store_true",
                   help="make the approximations of quantised parts (non-power-of-two scales, zero-points, "
                        "BatchNormalization, division by constants) errors")
    h = ap.add_argument_group("hardware")
    h.add_argument("--io", choices=("parallel", "stream"), help="io mode of the whole graph (default: parallel)")
    h.add_argument("--reuse-factor", type=int, metavar="N", help="default reuse factor of dense/conv layers")
    h.add_argument("--strategy", choices=("latency", "resource"), help="default strategy of dense/conv layers")
    h.add_argument("--part", default="xcvu13p-flga2577-2-e", help="FPGA part for build.tcl")
    h.add_argument("--clock-ns", type=float, default=5.0, help="clock period in ns for build.tcl")
    h.add_argument("--force", action="store_true", help="replace an existing --emit=hls output folder")
    h.add_argument("--tb-data", metavar="X.npz", help="testbench inputs for --emit=hls (default: random)")
    add_ir_options(ap)
    return ap


def _context(args: argparse.Namespace) -> PassContext:
    from fmlc.passes.precision import load_config

    cfg = load_config(args.config, args.default_precision)
    return PassContext(config={"precision": cfg, "config_file": args.config,
                               "default_precision": args.default_precision},
                       strict=args.strict, model_path=args.model)


def _df_options(args: argparse.Namespace) -> str:
    parts = [f"io={args.io}"] if args.io else []
    if args.reuse_factor is not None:
        if args.reuse_factor < 1:
            raise FmlcError(f"error: --reuse-factor must be >= 1, got {args.reuse_factor}")
        parts.append(f"reuse-factor={args.reuse_factor}")
    if args.strategy:
        parts.append(f"strategy={args.strategy}")
    return "{" + " ".join(parts) + "}" if parts else ""


def _target(args: argparse.Namespace) -> str:
    if args.check is not None or args.report or args.report_json or args.emit in ("cpp", "hls"):
        return "df"
    if args.run:
        return "df" if args.level in ("df", "csim") else (args.level or "qt")
    return args.emit or "qt"


def _pipeline(args: argparse.Namespace, start: str) -> Pipeline:
    """The pipeline the command runs on a model at level ``start`` (and ``--print-pipeline``
    prints): ``-p``'s, else the standard lowering from ``start`` to the level the command needs
    (``--check``, which lowers level by level, runs these same passes)."""
    if args.pipeline is not None and args.check is None:
        return parse_pipeline(args.pipeline)
    return parse_pipeline(lowering_pipeline(start, _target(args), _df_options(args)))


def _project_name(args: argparse.Namespace) -> str:
    from fmlc.codegen.legalize import legal_identifier

    base = Path(args.output).name if args.output not in ("-", "") else Path(args.model or "model").stem
    return legal_identifier(base or "fmlc_project", set())


def _main(argv: list[str] | None = None) -> int:
    load_all()
    ap = build_parser()
    args = ap.parse_args(argv)
    load_plugins(args.load)
    if args.list_passes:
        print(pass_help())
        return 0
    if args.print_pipeline and args.model is None:  # what an ONNX model would go through
        print(_pipeline(args, "onnx"))
        return 0
    if args.model is None:
        ap.error("a model is required")
    if args.trace and not args.run:
        raise FmlcError("error: --trace needs --run")
    source = load(args.model, allow_unregistered=args.allow_unregistered_dialect)
    pipeline = _pipeline(args, level_of(source))
    if args.print_pipeline:
        print(pipeline)
        return 0
    ctx = _context(args)
    if args.check is not None:
        return _check(args, source, ctx)
    module = run_pipeline(source, pipeline, args, ctx)
    if args.report or args.report_json:
        return _report(args, module)
    if args.run:
        return _run(args, module)
    if args.emit == "hls":
        return _emit_hls(args, module)
    if args.emit == "cpp":
        write_text_atomic(args.output, _cpp_text(args, module))
        return 0
    write_text_atomic(args.output, format_module(module, args))
    return 0


def _run(args: argparse.Namespace, module) -> int:  # type: ignore[no-untyped-def]
    if args.output == "-":
        raise FmlcError("error: --run needs -o Y.npz for the outputs")
    inputs = read_inputs(args.run, module)
    if args.level == "csim":
        if args.trace:
            raise FmlcError("error: --trace is not available for --level=csim")
        from fmlc.compiler.check import run_csim

        write_outputs(args.output, run_csim(module, inputs, _project_name(args)))
        return 0
    from fmlc.runtime.interpreter import Tracer

    tracer = Tracer() if args.trace else None
    outputs = run_batch(module, inputs, [tracer] if tracer else [])
    write_outputs(args.output, outputs)
    if tracer is not None:
        tracer.save(args.trace)
    return 0


def _firmware(args: argparse.Namespace, module):  # type: ignore[no-untyped-def]
    from fmlc.codegen.hls import build_firmware

    return build_firmware(module, _project_name(args), part=args.part, clock_ns=args.clock_ns)


def _cpp_text(args: argparse.Namespace, module) -> str:  # type: ignore[no-untyped-def]
    from fmlc.codegen.project import legal_project

    legal = legal_project(_firmware(args, module))
    return "".join(f"// ---- {path}\n{text}" for path, text in legal.sources.items() if path.startswith("firmware/"))


def _emit_hls(args: argparse.Namespace, module) -> int:  # type: ignore[no-untyped-def]
    from fmlc.codegen.project import project_files, write_project
    from fmlc.compiler.check import random_inputs

    if args.output in ("-", ""):
        raise FmlcError("error: --emit=hls needs -o OUT_DIR")
    project = _firmware(args, module)
    data = read_inputs(args.tb_data, module) if args.tb_data else random_inputs(module, 16)
    import numpy as np

    rows = [np.asarray(data[p.name]).reshape(len(next(iter(data.values()))), -1) for p in project.inputs]
    try:
        write_project(project_files(project, np.concatenate(rows, axis=1)), args.output, force=args.force)
    except OSError as e:
        raise FmlcError(f"error: cannot write '{args.output}': {e.strerror or e}") from None
    print(f"wrote {args.output} (top function {project.top}, io={project.io}; "
          f"build with: cd {args.output} && vitis_hls -f build.tcl)")
    return 0


def _report(args: argparse.Namespace, module) -> int:  # type: ignore[no-untyped-def]
    from fmlc.passes.report import format_report, report, report_json

    r = report(module)
    if args.report_json:
        write_text_atomic(args.report_json, json.dumps(report_json(r), indent=2) + "\n")
    if args.report:
        print(format_report(r).rstrip("\n"))
    return 0


def _check(args: argparse.Namespace, source, ctx: PassContext) -> int:  # type: ignore[no-untyped-def]
    from fmlc.compiler import check

    results = {}
    modules = {}
    start = level_of(source)
    module = source
    for lv in LEVELS[LEVELS.index(start):]:
        module = lower_to(module.clone(), lv, args, ctx, _df_options(args))  # each level keeps its own IR
        modules[lv] = module
    df_module = modules["df"]
    from fmlc.compiler.models import interface_names

    _, out_names = interface_names(df_module)
    if args.check:
        inputs = read_inputs(args.check, df_module)
        golden = check.output_golden(args.check, out_names, check.integer_outputs(df_module))
    else:
        inputs, golden = check.random_inputs(df_module), None
    for lv, m in modules.items():
        results[lv] = run_batch(m, inputs)
    results["csim"] = check.run_csim(df_module, inputs, _project_name(args))
    rows = check.check_rows(results, golden)
    print(f"{args.model}: {check.sample_count(inputs)} samples, levels {', '.join(results)}")
    print(check.format_rows(rows))
    print(check.verdict(list(results), rows))
    return 1 if check.failures(rows) else 0


main = guarded(_main, "fmlc")
