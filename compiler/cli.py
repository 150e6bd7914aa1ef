"""``fmlc``: the compiler's command line.

    fmlc MODEL.mlir --pipeline 'canonicalize,cse' [-o OUT.mlir]
    fmlc --list-passes

Reads a model (IR text for now), runs the pipeline (default: the compiler's
standard pipeline) and writes the IR.
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
    read_ir,
    run_pipeline,
    write_text_atomic,
)
from fmlc.compiler.passes import parse_pipeline, pass_help

DEFAULT_PIPELINE = "canonicalize,cse"


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="fmlc", description="Compile ML models to bit-exact FPGA firmware.")
    ap.add_argument("model", nargs="?", help="the model: an IR file (.mlir), or - for standard input")
    ap.add_argument("-p", "--pipeline", help=f"pass pipeline (default: '{DEFAULT_PIPELINE}')")
    ap.add_argument("--print-pipeline", action="store_true", help="print the pipeline that would run and exit")
    ap.add_argument("--list-passes", action="store_true", help="list the registered passes and exit")
    ap.add_argument("-o", "--output", default="-", help="output file (default: standard output)")
    add_ir_options(ap)
    return ap


def _main(argv: list[str] | None = None) -> int:
    load_all()
    ap = build_parser()
    args = ap.parse_args(argv)
    load_plugins(args.load)
    if args.list_passes:
        print(pass_help())
        return 0
    pipeline = parse_pipeline(args.pipeline if args.pipeline is not None else DEFAULT_PIPELINE)
    if args.print_pipeline:
        print(pipeline)
        return 0
    if args.model is None:
        ap.error("a model is required")
    if not (args.model == "-" or args.model.endswith(".mlir")):
        raise FmlcError(f"error: cannot read '{args.model}': expected an IR file (.mlir)")
    module = read_ir(args.model, allow_unregistered=args.allow_unregistered_dialect)
    module = run_pipeline(module, pipeline, args)
    write_text_atomic(args.output, format_module(module, args))
    return 0


main = guarded(_main, "fmlc")
