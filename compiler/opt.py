"""``fmlc-opt``: IR in, pipeline, IR out — like ``mlir-opt``."""

from __future__ import annotations

import argparse

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
from fmlc.compiler.passes import pass_help


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="fmlc-opt",
        description="Parse an IR file, run a pass pipeline on it, print the result.",
        epilog="pipeline syntax: 'a,b{opt=1 other=x},c' or 'builtin.module(a,func.func(b))'",
    )
    ap.add_argument("input", nargs="?", default="-", help="IR file (.mlir), or - for standard input")
    ap.add_argument("-p", "--pipeline", "--pass-pipeline", default="", help="pass pipeline string")
    ap.add_argument("-o", "--output", default="-", help="output file (default: standard output)")
    ap.add_argument("--list-passes", action="store_true", help="list the registered passes and exit")
    ap.add_argument("--print-pipeline", action="store_true",
                    help="print the pipeline in canonical form and exit")
    add_ir_options(ap)
    return ap


def _main(argv: list[str] | None = None) -> int:
    load_all()
    args = build_parser().parse_args(argv)
    load_plugins(args.load)
    if args.list_passes:
        print(pass_help())
        return 0
    from fmlc.compiler.passes import parse_pipeline

    pipeline = parse_pipeline(args.pipeline)
    if args.print_pipeline:
        print(pipeline)
        return 0
    module = read_ir(args.input, allow_unregistered=args.allow_unregistered_dialect)
    module = run_pipeline(module, pipeline, args)
    write_text_atomic(args.output, format_module(module, args))
    return 0


main = guarded(_main, "fmlc-opt")
