"""The driver layer: loads every dialect and pass, reads inputs, runs pipelines,
and turns errors into one clean message and an exit code for the CLIs."""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import traceback
from collections.abc import Callable
from pathlib import Path

from fmlc.compiler.atomic import atomic_file
from fmlc.compiler.builtin import ModuleOp
from fmlc.compiler.diagnostics import FmlcError
from fmlc.compiler.parser import parse_module
from fmlc.compiler.pass_manager import DumpDir, Instrument, PassManager, PrintIR, TimePasses
from fmlc.compiler.passes import PassContext, Pipeline, parse_pipeline
from fmlc.compiler.printer import print_op
from fmlc.compiler.verifier import verify


def load_all() -> None:
    """Register fmlc's dialects, passes and interpreter rules (the layers above the core)."""
    import fmlc.dialects  # noqa: F401
    import fmlc.passes  # noqa: F401
    import fmlc.runtime.rules  # noqa: F401


def load_plugins(paths: list[str]) -> None:
    """Import the user's Python files that register dialects, passes or rules."""
    for i, path in enumerate(paths):
        file = Path(path)
        if not file.is_file():
            raise FmlcError(f"error: cannot load plugin '{path}': no such file")
        spec = importlib.util.spec_from_file_location(f"fmlc_plugin_{i}_{file.stem}", file)
        module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
        sys.modules[spec.name] = module  # type: ignore[union-attr]
        try:
            spec.loader.exec_module(module)  # type: ignore[union-attr]
        except FmlcError:
            raise
        except Exception as e:
            raise FmlcError(f"error: plugin '{path}' failed to load: {type(e).__name__}: {e}") from None


def read_ir(path: str, *, allow_unregistered: bool = False, verify_ir: bool = True) -> ModuleOp:
    """Parse (and verify) an IR file; ``-`` reads standard input."""
    if path == "-":
        text, name = sys.stdin.read(), "<stdin>"
    else:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise FmlcError(f"error: cannot read '{path}': {getattr(e, 'strerror', None) or e}") from None
        name = path
    module = parse_module(text, name, allow_unregistered=allow_unregistered)
    if verify_ir:
        verify(module)
    return module


def write_text_atomic(path: str, text: str) -> None:
    """Write ``text`` to ``path`` whole or not at all (``-`` is standard output)."""
    if path == "-":
        sys.stdout.write(text)
        return
    try:
        with atomic_file(path) as f:
            f.write(text)
    except OSError as e:
        raise FmlcError(f"error: cannot write '{path}': {e.strerror or e}") from None


def add_ir_options(ap: argparse.ArgumentParser) -> None:
    """Options shared by ``fmlc`` and ``fmlc-opt``: instruments, verification, printing."""
    ap.add_argument("--load", action="append", default=[], metavar="FILE.py",
                    help="import a Python file that registers dialects, passes or rules (repeatable)")
    g = ap.add_argument_group("IR inspection")
    g.add_argument("--print-ir-after-all", action="store_true", help="print the IR after every pass")
    g.add_argument("--print-ir-before-all", action="store_true", help="print the IR before every pass")
    g.add_argument("--print-ir-before", action="append", default=[], metavar="PASS",
                   help="print the IR before PASS (repeatable, or comma-separated)")
    g.add_argument("--print-ir-after", action="append", default=[], metavar="PASS",
                   help="print the IR after PASS (repeatable, or comma-separated)")
    g.add_argument("--print-ir-after-change", action="store_true",
                   help="print the IR after each pass that changed it")
    g.add_argument("--ir-dump-dir", metavar="DIR", help="write NNN_pass.mlir after every pass into DIR")
    g.add_argument("--time-passes", action="store_true", help="print a table of time spent per pass")
    g.add_argument("--no-verify-each", dest="verify_each", action="store_false",
                   help="do not verify the IR after each pass (debugging)")
    g.add_argument("--elide-constants", nargs="?", const=16, type=int, metavar="N",
                   help="print dense constants of more than N (default 16) elements as elided")
    g.add_argument("--no-locations", dest="locations", action="store_false", help="print IR without loc(...)")
    g.add_argument("--allow-unregistered-dialect", action="store_true",
                   help="accept ops and types of dialects fmlc does not know")


def _split(values: list[str]) -> list[str]:
    return [p.strip() for v in values for p in v.split(",") if p.strip()]


def instruments_from(args: argparse.Namespace) -> list[Instrument]:
    out: list[Instrument] = []
    before, after = _split(args.print_ir_before), _split(args.print_ir_after)
    if before or after or args.print_ir_after_all or args.print_ir_before_all or args.print_ir_after_change:
        out.append(PrintIR(before=before, after=after, before_all=args.print_ir_before_all,
                           after_all=args.print_ir_after_all, after_change=args.print_ir_after_change,
                           elide_constants=args.elide_constants, print_locations=args.locations))
    if args.ir_dump_dir:
        out.append(DumpDir(args.ir_dump_dir))
    if args.time_passes:
        out.append(TimePasses())
    return out


def run_pipeline(module: ModuleOp, pipeline: Pipeline | str, args: argparse.Namespace | None,
                 ctx: PassContext | None = None) -> ModuleOp:
    """Run ``pipeline`` on ``module``; ``args`` (None: defaults) carries the CLI's IR options."""
    if isinstance(pipeline, str):
        pipeline = parse_pipeline(pipeline)
    verify = args.verify_each if args is not None else True
    pm = PassManager(pipeline, ctx=ctx, verify_each=verify, instruments=instruments_from(args) if args else [])
    return pm.run(module)


def format_module(module: ModuleOp, args: argparse.Namespace) -> str:
    return print_op(module, elide_constants=args.elide_constants, print_locations=args.locations)


def guarded(main: Callable[[list[str] | None], int], prog: str) -> Callable[[list[str] | None], int]:
    """Wrap a CLI entry point: user errors print one message (exit 1), no traceback."""

    def run(argv: list[str] | None = None) -> int:
        try:
            return main(argv)
        except FmlcError as e:
            print(str(e), file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            print(f"{prog}: interrupted", file=sys.stderr)
            return 130
        except BrokenPipeError:
            return 0
        except Exception as e:  # an fmlc bug: say so in one line, details on request
            if os.environ.get("FMLC_TRACEBACK"):
                traceback.print_exc()
            print(f"{prog}: internal error: {type(e).__name__}: {e} "
                  "(please report it; set FMLC_TRACEBACK=1 for details)", file=sys.stderr)
            return 2

    return run
