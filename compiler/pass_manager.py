"""Running pipelines: the pass manager and its instruments.

Instruments watch passes run (print IR, dump files, time); the pass manager
verifies the IR after each pass unless ``verify_each`` is off.
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from fmlc.compiler.builtin import ModuleOp
from fmlc.compiler.diagnostics import DiagnosticError, FmlcError
from fmlc.compiler.ir import Operation
from fmlc.compiler.passes import Nested, Pass, PassContext, Pipeline, PipelineError
from fmlc.compiler.printer import print_op
from fmlc.compiler.verifier import verify


class Instrument:
    """Hooks around each pass; ``op`` is the op the pass runs on."""

    def before_pass(self, p: Pass, op: Operation) -> None: ...
    def after_pass(self, p: Pass, op: Operation) -> None: ...
    def after_pipeline(self, module: Operation) -> None: ...


class PrintIR(Instrument):
    """``--print-ir-before/after[-all]`` and ``--print-ir-after-change``."""

    def __init__(self, *, before: Sequence[str] = (), after: Sequence[str] = (), before_all: bool = False,
                 after_all: bool = False, after_change: bool = False, stream: TextIO | None = None,
                 elide_constants: int | None = None, print_locations: bool = True) -> None:
        self.before, self.after = set(before), set(after)
        self.before_all, self.after_all, self.after_change = before_all, after_all, after_change
        self.stream = stream
        self.print_options = {"elide_constants": elide_constants, "print_locations": print_locations}
        self._before_text: str | None = None

    def _dump(self, when: str, p: Pass, op: Operation, text: str | None = None) -> None:
        out = self.stream or sys.stderr
        out.write(f"// -----// IR Dump {when} {p} ({op.name}) //----- //\n")
        out.write(text if text is not None else print_op(op, **self.print_options))
        out.write("\n")

    def before_pass(self, p: Pass, op: Operation) -> None:
        if self.after_change:
            self._before_text = print_op(op, **self.print_options)
        if self.before_all or p.name in self.before:
            self._dump("Before", p, op)

    def after_pass(self, p: Pass, op: Operation) -> None:
        if self.after_all or p.name in self.after:
            self._dump("After", p, op)
        elif self.after_change:
            text = print_op(op, **self.print_options)
            if text != self._before_text:
                self._dump("After", p, op, text)


class DumpDir(Instrument):
    """``--ir-dump-dir DIR``: the IR after each pass as ``NNN_pass.mlir`` (000 is the input)."""

    def __init__(self, directory: str | Path) -> None:
        self.dir = Path(directory)
        self.count = 0
        self._started = False

    def _write(self, label: str, op: Operation) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        safe = re.sub(r"[^A-Za-z0-9_.-]", "_", label)
        (self.dir / f"{self.count:03d}_{safe}.mlir").write_text(print_op(op))
        self.count += 1

    def before_pass(self, p: Pass, op: Operation) -> None:
        if not self._started:
            self._started = True
            self._write("input", _root(op))

    def after_pass(self, p: Pass, op: Operation) -> None:
        self._write(p.name, _root(op))


class TimePasses(Instrument):
    """``--time-passes``: wall time per pass, printed as a table after the pipeline."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream
        self.rows: dict[str, float] = {}
        self._t0 = 0.0
        self._start = time.perf_counter()

    def before_pass(self, p: Pass, op: Operation) -> None:
        self._t0 = time.perf_counter()

    def after_pass(self, p: Pass, op: Operation) -> None:
        self.rows[str(p)] = self.rows.get(str(p), 0.0) + time.perf_counter() - self._t0

    def table(self) -> str:
        total = time.perf_counter() - self._start
        width = max([len(k) for k in self.rows] + [4])
        lines = ["===" + "-" * (width + 24), "  Pass execution timing report", "===" + "-" * (width + 24),
                 f"  {'Wall (s)':>10}  {'%':>6}  Name"]
        for name, secs in self.rows.items():
            lines.append(f"  {secs:10.4f}  {100 * secs / total if total else 0:5.1f}%  {name}")
        lines.append(f"  {total:10.4f}  {100.0:5.1f}%  Total")
        return "\n".join(lines) + "\n"

    def after_pipeline(self, module: Operation) -> None:
        (self.stream or sys.stderr).write(self.table())


def _root(op: Operation) -> Operation:
    while op.parent_op is not None:
        op = op.parent_op
    return op


class PassManager:
    """Runs a pipeline on a module, verifying after every pass when ``verify_each``."""

    def __init__(self, pipeline: Pipeline, *, ctx: PassContext | None = None, verify_each: bool = True,
                 instruments: Sequence[Instrument] = ()) -> None:
        self.pipeline = pipeline
        self.ctx = ctx or PassContext()
        self.verify_each = verify_each
        self.instruments = list(instruments)

    def run(self, module: ModuleOp) -> ModuleOp:
        self._run_items(self.pipeline.items, module)
        for inst in self.instruments:
            inst.after_pipeline(module)
        return module

    def _run_items(self, items: Sequence[Pass | Nested], op: Operation) -> None:
        for item in items:
            if isinstance(item, Nested):
                targets = [o for o in op.walk() if o is not op and o.name == item.anchor]
                for target in targets:
                    self._run_items(item.items, target)
            else:
                self._run_pass(item, op)

    def _run_pass(self, p: Pass, op: Operation) -> None:
        if p.anchor is not None and op.name != p.anchor:
            raise PipelineError(f"error: pass '{p.name}' runs on '{p.anchor}', not on '{op.name}'; "
                                f"nest it as {p.anchor}({p.name})")
        for inst in self.instruments:
            inst.before_pass(p, op)
        p.apply(self.ctx, op)
        for inst in self.instruments:
            inst.after_pass(p, op)
        if self.verify_each:
            try:
                verify(op)
            except DiagnosticError as e:
                raise FmlcError(f"{e}\nnote: the IR is invalid after pass '{p}'") from None
