"""``fmlc``: the compiler's command line.

    fmlc MODEL.onnx --emit=onnx|qt [-o OUT.mlir]          # IR at a level
    fmlc MODEL.onnx --run X.npz --level=onnx|qt -o Y.npz   # run a level on inputs
    fmlc MODEL.onnx --pipeline 'onnx-to-qt,canonicalize'   # an expert pipeline, then print
    fmlc --list-passes

MODEL is an ONNX/QONNX model or an IR file at any level; work continues from
the level the model is at.
"""

from __future__ import annotations

import argparse

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
from fmlc.compiler.models import LEVELS, LOWER, load, lower_to, read_inputs, run_batch, write_outputs
from fmlc.compiler.passes import PassContext, parse_pipeline, pass_help


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="fmlc", description="Compile ML models to bit-exact FPGA firmware.")
    ap.add_argument("model", nargs="?", help="an ONNX/QONNX model (.onnx) or an IR file (.mlir, - for stdin)")
    ap.add_argument("--emit", choices=LEVELS, help="print the IR at this level (default: qt)")
    ap.add_argument("--run", metavar="X.npz", help="run the model on the inputs in X.npz (see --level)")
    ap.add_argument("--level", choices=LEVELS, help="the level --run executes (default: the lowest, qt)")
    ap.add_argument("--trace", metavar="T.npz", help="with --run: save every op's result, keyed by location")
    ap.add_argument("-p", "--pipeline", help="run this pass pipeline instead of the standard lowering")
    ap.add_argument("--print-pipeline", action="store_true", help="print the pipeline that would run and exit")
    ap.add_argument("--list-passes", action="store_true", help="list the registered passes and exit")
    ap.add_argument("-o", "--output", default="-", help="output file (default: standard output)")
    g = ap.add_argument_group("precision")
    g.add_argument("--default-precision", metavar="TYPE",
                   help="type of the float parts of a model (default fixed<16,6>)")
    g.add_argument("--config", metavar="CFG.toml", help="per-layer precision and table settings")
    g.add_argument("--strict", action="store_true",
                   help="make the approximations of quantised parts (non-power-of-two scales, zero-points, "
                        "BatchNormalization, division by constants) errors")
    add_ir_options(ap)
    return ap


def _context(args: argparse.Namespace) -> PassContext:
    from fmlc.passes.precision import load_config

    cfg = load_config(args.config, args.default_precision)
    return PassContext(config={"precision": cfg, "config_file": args.config,
                               "default_precision": args.default_precision},
                       strict=args.strict, model_path=args.model)


def _main(argv: list[str] | None = None) -> int:
    load_all()
    ap = build_parser()
    args = ap.parse_args(argv)
    load_plugins(args.load)
    if args.list_passes:
        print(pass_help())
        return 0
    target = (args.level if args.run else args.emit) or "qt"
    if args.print_pipeline:
        print(parse_pipeline(args.pipeline) if args.pipeline is not None else
              ",".join(LOWER[lv] for lv in LEVELS[1:LEVELS.index(target) + 1]))
        return 0
    if args.model is None:
        ap.error("a model is required")
    if args.trace and not args.run:
        raise FmlcError("error: --trace needs --run")
    ctx = _context(args)
    module = load(args.model, allow_unregistered=args.allow_unregistered_dialect)
    if args.pipeline is not None:
        module = run_pipeline(module, parse_pipeline(args.pipeline), args, ctx)
    else:
        module = lower_to(module, target, args, ctx)
    if args.run:
        if args.output == "-":
            raise FmlcError("error: --run needs -o Y.npz for the outputs")
        from fmlc.runtime.interpreter import Tracer

        tracer = Tracer() if args.trace else None
        outputs = run_batch(module, read_inputs(args.run, module), [tracer] if tracer else [])
        write_outputs(args.output, outputs)
        if tracer is not None:
            tracer.save(args.trace)
        return 0
    write_text_atomic(args.output, format_module(module, args))
    return 0


main = guarded(_main, "fmlc")
