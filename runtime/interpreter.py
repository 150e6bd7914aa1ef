"""The interpreter core: runs a function of any level on numpy inputs.

Each dialect contributes a rule table: ``@impl(SomeOp)`` registers a function
``rule(interp, op, *operands) -> result or tuple of results``.  Operands and
results are :class:`TypedArray` (a numpy array plus its IR type, so a fixed-point
tensor is raw integers plus its ``!qt.fixed`` element type).  A rule may return a
bare array; the interpreter attaches the op's result type and checks the shape.
Listeners see every op before and after it runs (tracing, counting).

Batches: ``Interpreter(batch=True)`` runs many samples in one pass.  Inputs carry a
leading sample axis (``TypedArray.batched``) that no IR type mentions.  A rule declares
how it meets that axis with ``@impl(Op, batch=...)``: ``"leading"`` (it only works on
trailing axes, so extra leading ones pass through: elementwise ops, dense), ``"fold"``
(axis 0 of its operands is already a batch of independent rows, so the sample axis is
folded into it: conv, pooling, tree ensembles) or ``"index"`` (a pure rearrangement of
elements, run once on element numbers: reshape, transpose, slice, concat, pad).  Any
other rule runs once per sample.  Results are identical to running sample by sample.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import attrs
import numpy as np

from fmlc.compiler.attributes import TensorType, TypeAttribute
from fmlc.compiler.builtin import ModuleOp
from fmlc.compiler.diagnostics import DiagnosticError, op_diagnostic
from fmlc.compiler.ir import Block, Operation, Region, Value
from fmlc.compiler.location import UnknownLoc
from fmlc.compiler.opdef import IsTerminator
from fmlc.runtime import batching


@attrs.frozen(eq=False)
class TypedArray:
    """A runtime value: ``data`` in the representation of ``type`` (floats for float
    tensors, raw integer codes for fixed-point ones)."""

    data: Any
    type: TypeAttribute
    batched: bool = False  # ``data`` has a leading sample axis in front of ``type``'s shape

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(np.shape(self.data))


Rule = Callable[..., Any]
RULES: dict[str, dict[type[Operation], Rule]] = {}
BATCH_MODES: dict[type[Operation], str] = {}
_MODES = ("leading", "fold", "index")


def impl(*op_types: type[Operation], batch: str | None = None) -> Callable[[Rule], Rule]:
    """Register ``rule`` as the interpreter rule of ``op_types`` (in their dialect's table);
    ``batch`` says how it runs on batches (module docstring; None: once per sample)."""
    if batch is not None and batch not in _MODES:
        raise ValueError(f"unknown batch mode {batch!r}; expected one of {_MODES}")

    def wrap(rule: Rule) -> Rule:
        for op_type in op_types:
            RULES.setdefault(op_type.name.split(".", 1)[0], {})[op_type] = rule
            if batch is not None:
                BATCH_MODES[op_type] = batch
            else:
                BATCH_MODES.pop(op_type, None)
        return rule

    return wrap


def rule_for(op_type: type[Operation]) -> Rule | None:
    return RULES.get(op_type.name.split(".", 1)[0], {}).get(op_type)


class InterpretError(DiagnosticError):
    """An op could not be run (no rule, bad inputs, a rule's failure)."""


def interpret_error(op: Operation, message: str) -> InterpretError:
    return InterpretError(op_diagnostic(op, message))


class Listener:
    """Sees each op with its operand values before, and its results after, it runs."""

    def before_op(self, op: Operation, operands: Sequence[TypedArray]) -> None: ...
    def after_op(self, op: Operation, results: Sequence[TypedArray]) -> None: ...


class Interpreter:
    def __init__(self, listeners: Iterable[Listener] = (), batch: bool = False) -> None:
        self.listeners = list(listeners)
        self.batch = batch  # inputs carry a leading sample axis
        self._env: list[dict[Value, TypedArray]] = [{}]

    # -- environment
    def get(self, v: Value) -> TypedArray:
        for scope in reversed(self._env):
            if v in scope:
                return scope[v]
        raise KeyError(v)

    def _bind(self, v: Value, value: TypedArray) -> None:
        self._env[-1][v] = value

    # -- running
    def call(self, func: Operation, inputs: Sequence[Any]) -> list[TypedArray]:
        """Run a function-like op (one region, entry block arguments = inputs)."""
        block = func.regions[0].blocks[0]
        if len(inputs) != len(block.args):
            raise interpret_error(func, f"expects {len(block.args)} inputs, got {len(inputs)}")
        try:
            args = [self._typed(a, x, self.batch) for a, x in zip(block.args, inputs, strict=True)]
        except ValueError as e:
            raise interpret_error(func, f"bad input: {e}") from None
        return self.run_region(func.regions[0], args)

    def run_region(self, region: Region, args: Sequence[TypedArray]) -> list[TypedArray]:
        """Run the region's (single) block in a new scope; returns what its terminator yields."""
        self._env.append({})
        try:
            return self.run_block(region.blocks[0], args)
        finally:
            self._env.pop()

    def run_block(self, block: Block, args: Sequence[TypedArray]) -> list[TypedArray]:
        for a, v in zip(block.args, args, strict=True):
            self._bind(a, v)
        yielded: list[TypedArray] = []
        for op in block.ops:
            out = self.run_op(op)
            if op.has_trait(IsTerminator):
                yielded = out
        return yielded

    def run_op(self, op: Operation) -> list[TypedArray]:
        rule = rule_for(type(op))
        if rule is None:
            raise interpret_error(op, "has no interpreter rule (register one with @impl)")
        operands = [self.get(v) for v in op.operands]
        for listener in self.listeners:
            listener.before_op(op, operands)
        batched = not op.has_trait(IsTerminator) and any(o.batched for o in operands)
        try:
            raw = batching.run(self, rule, op, operands) if batched else rule(self, op, *operands)
        except DiagnosticError:
            raise
        except Exception as e:  # a rule's failure is reported at the op it ran
            raise interpret_error(op, f"failed to run: {type(e).__name__}: {e}") from e
        if op.has_trait(IsTerminator):
            results = list(raw or ())
        else:
            values = raw if isinstance(raw, (tuple, list)) else (raw,) if op.results else ()
            if len(values) != len(op.results):
                raise interpret_error(op, f"rule returned {len(values)} values for {len(op.results)} results")
            results = [self._typed(r, v, batched) for r, v in zip(op.results, values, strict=True)]
            for r, v in zip(op.results, results, strict=True):
                self._bind(r, v)
        for listener in self.listeners:
            listener.after_op(op, results)
        return results

    @staticmethod
    def _typed(value: Value, x: Any, batched: bool = False) -> TypedArray:
        t = value.type
        if isinstance(x, TypedArray):
            if x.type != t:
                from fmlc.compiler.printer import format_type

                raise ValueError(f"value of type {format_type(x.type)} where {format_type(t)} is expected")
            if x.batched == batched:
                return x
            x = x.data
        shape = tuple(np.shape(x))[1:] if batched else tuple(np.shape(x))
        if isinstance(t, TensorType) and t.has_static_shape and shape != t.shape:
            raise ValueError(f"value of shape {shape} where shape {t.shape} is expected"
                             + (" (after the sample axis)" if batched else ""))
        return TypedArray(x, t, batched)


def entry_function(module: ModuleOp, name: str | None = None) -> Operation:
    """The function named ``name``, or the module's only / ``main`` function."""
    funcs = [op for op in module.ops if op.name == "func.func"]
    if name is not None:
        found = [f for f in funcs if f.properties["sym_name"].value == name]  # type: ignore[attr-defined]
        if not found:
            raise DiagnosticError(op_diagnostic(module, f"has no function '{name}'"))
        return found[0]
    if len(funcs) == 1:
        return funcs[0]
    mains = [f for f in funcs if f.properties["sym_name"].value == "main"]  # type: ignore[attr-defined]
    if not mains:
        raise DiagnosticError(op_diagnostic(module, f"has {len(funcs)} functions and none is named 'main'"))
    return mains[0]


def run(module: ModuleOp, inputs: Sequence[Any], *, entry: str | None = None,
        listeners: Iterable[Listener] = (), batch: bool = False) -> list[TypedArray]:
    """Run the module's entry function on ``inputs`` (``batch``: each with a leading sample axis)."""
    return Interpreter(listeners, batch).call(entry_function(module, entry), inputs)


# ----------------------------------------------------------------------------- listeners


class OpCounter(Listener):
    """Counts how many times each op kind ran."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}

    def after_op(self, op: Operation, results: Sequence[TypedArray]) -> None:
        self.counts[op.name] = self.counts.get(op.name, 0) + 1


class Tracer(Listener):
    """Records every op result keyed by the op's location, for ``--trace`` dumps.

    Keys are ``LOCATION`` (``LOCATION#k`` for result k > 0); repeated keys get a
    ``~N`` suffix.  ``save`` writes an ``.npz``; fixed-point values are stored raw,
    with their type's text under ``LOCATION.type``.
    """

    def __init__(self) -> None:
        self.values: dict[str, TypedArray] = {}

    def after_op(self, op: Operation, results: Sequence[TypedArray]) -> None:
        if op.has_trait(IsTerminator):
            return
        where = str(op.source) if isinstance(op.location, UnknownLoc) and op.source else op.location.describe()
        base = re.sub(r"\s+", "_", where)
        for k, r in enumerate(results):
            key = base if k == 0 else f"{base}#{k}"
            n, unique = 1, key
            while unique in self.values:
                n += 1
                unique = f"{key}~{n}"
            self.values[unique] = r

    def save(self, path: str | Path) -> None:
        from fmlc.compiler.printer import format_type

        arrays: dict[str, np.ndarray] = {}
        for key, v in self.values.items():
            data = np.asarray(v.data)
            arrays[key] = data.astype(str) if data.dtype == object else data
            arrays[f"{key}.type"] = np.array(format_type(v.type))
        np.savez(path, **arrays)  # type: ignore[arg-type]
