"""Diagnostics: ``LOCATION: error: 'dialect.op' op MESSAGE`` with optional notes.

Every error a user can cause is an :class:`FmlcError`; the command-line tools print
its text and exit non-zero, never a traceback.  Warnings go through
:func:`warn` to the handlers in :data:`WARNING_HANDLERS` (stderr by default).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import attrs

from fmlc.compiler.location import Location, SourcePos

if TYPE_CHECKING:
    from fmlc.compiler.ir import Operation


class FmlcError(Exception):
    """An error caused by the user's input; its message is what the user reads."""


@attrs.frozen
class Diagnostic:
    severity: str  # "error" | "warning" | "note"
    where: str
    message: str
    notes: tuple[Diagnostic, ...] = ()

    def __str__(self) -> str:
        head = f"{self.where}: {self.severity}: {self.message}" if self.where else f"{self.severity}: {self.message}"
        return "\n".join([head, *(str(n) for n in self.notes)])


class DiagnosticError(FmlcError):
    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(str(diagnostic))
        self.diagnostic = diagnostic


class VerifyError(DiagnosticError):
    """An op failed verification."""


class ParseError(FmlcError):
    """Text could not be parsed; the message holds ``file:line:col``, the line and a caret."""


def where_of(target: Operation | Location | SourcePos | None) -> str:
    """The location prefix for a diagnostic about ``target``."""
    from fmlc.compiler.ir import Operation

    if target is None:
        return ""
    if isinstance(target, Operation):
        return str(target.source) if target.source is not None else target.location.describe()
    if isinstance(target, SourcePos):
        return str(target)
    return target.describe()


def op_diagnostic(op: Operation, message: str, severity: str = "error",
                  notes: Sequence[tuple[Operation | Location | None, str]] = ()) -> Diagnostic:
    return Diagnostic(
        severity,
        where_of(op),
        f"'{op.name}' op {message}",
        tuple(Diagnostic("note", where_of(t), m) for t, m in notes),
    )


def op_error(op: Operation, message: str,
             notes: Sequence[tuple[Operation | Location | None, str]] = ()) -> DiagnosticError:
    """An error about ``op``, ready to raise."""
    return DiagnosticError(op_diagnostic(op, message, notes=notes))


def verify_error(op: Operation, message: str) -> VerifyError:
    return VerifyError(op_diagnostic(op, message))


def _print_stderr(d: Diagnostic) -> None:
    print(str(d), file=sys.stderr)


WARNING_HANDLERS: list[Callable[[Diagnostic], None]] = [_print_stderr]


def warn(target: Operation | Location | None, message: str) -> Diagnostic:
    """Report a warning about an op or location to every handler."""
    from fmlc.compiler.ir import Operation

    d = op_diagnostic(target, message, "warning") if isinstance(target, Operation) \
        else Diagnostic("warning", where_of(target), message)
    for handler in WARNING_HANDLERS:
        handler(d)
    return d


def caret_excerpt(text: str, line: int, col: int) -> str:
    """The source line ``line`` (1-based) with a caret under column ``col``."""
    lines = text.splitlines()
    if not 1 <= line <= len(lines):
        return ""
    src = lines[line - 1].replace("\t", " ")
    if len(src) > 160:  # keep huge lines (hex blobs) readable
        start = max(0, col - 80)
        src, col = src[start:start + 160], col - start
    return f"{src}\n{' ' * (col - 1)}^"
