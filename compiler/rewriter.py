"""Pattern rewriting: patterns, the rewriter every mutation goes through, and two
drivers (a greedy worklist to a fixpoint, and a single walk for lowerings).

    class FoldDoubleNeg(OpRewritePattern):
        op_type = NegOp
        def match_and_rewrite(self, op, rewriter):
            inner = defining_op(op.input)
            if isinstance(inner, NegOp):
                rewriter.replace_op(op, [inner.input])
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import ClassVar

from fmlc.compiler.diagnostics import FmlcError
from fmlc.compiler.ir import Block, Operation, OpResult, Value
from fmlc.compiler.location import UnknownLoc, fuse
from fmlc.compiler.opdef import HasCanonicalizer, Pure


class RewriteListener:
    """Told about every change a rewriter makes (drivers and tracing use it)."""

    def op_inserted(self, op: Operation) -> None: ...
    def op_erased(self, op: Operation) -> None: ...
    def op_modified(self, op: Operation) -> None: ...
    def op_replaced(self, op: Operation, new_values: Sequence[Value]) -> None: ...


class PatternRewriter:
    """Applies a pattern's changes; new ops go before ``current`` unless said otherwise."""

    def __init__(self, current: Operation, listener: RewriteListener | None = None) -> None:
        self.current = current
        self.listener = listener or RewriteListener()
        self.changed = False

    # -- creation
    def insert_op(self, ops: Operation | Sequence[Operation], *, before: Operation | None = None,
                  after: Operation | None = None, at_end: Block | None = None) -> None:
        ops = [ops] if isinstance(ops, Operation) else list(ops)
        for op in ops:
            if isinstance(op.location, UnknownLoc):
                op.location = self.current.location
            if at_end is not None:
                at_end.append(op)
            elif after is not None:
                after.parent.insert_after(after, op)  # type: ignore[union-attr]
                after = op
            else:
                anchor = before or self.current
                anchor.parent.insert_before(anchor, op)  # type: ignore[union-attr]
            self.changed = True
            self.listener.op_inserted(op)

    # -- replacement and erasure
    def replace_all_uses_with(self, old: Value, new: Value) -> None:
        for user in old.users:
            self.listener.op_modified(user)
        if old.uses:
            self.changed = True
        old.replace_all_uses_with(new)

    def replace_op(self, op: Operation, new: Sequence[Operation | Value] | Operation | Value) -> None:
        """Insert the new ops before ``op``, route ``op``'s results to the new values, erase ``op``.

        ``new`` is either values (one per result of ``op``) or ops, inserted in order,
        whose last op's results replace ``op``'s; new ops without a location take ``op``'s.
        """
        items = [new] if isinstance(new, (Operation, Value)) else list(new)
        if all(isinstance(x, Value) for x in items):
            values: list[Value] = items  # type: ignore[assignment]
        elif all(isinstance(x, Operation) for x in items):
            for x in items:
                if isinstance(x.location, UnknownLoc):  # type: ignore[union-attr]
                    x.location = op.location  # type: ignore[union-attr]
            self.insert_op(items, before=op)  # type: ignore[arg-type]
            values = list(items[-1].results) if items else []  # type: ignore[union-attr]
        else:
            raise TypeError("replace_op takes values or ops, not a mix")
        if len(values) != len(op.results):
            raise ValueError(f"replacing '{op.name}' ({len(op.results)} results) with {len(values)} values")
        self.listener.op_replaced(op, values)
        for old, v in zip(op.results, values, strict=True):
            if v.name_hint is None:
                v.name_hint = old.name_hint
            self.replace_all_uses_with(old, v)
        self.erase_op(op)

    def erase_op(self, op: Operation) -> None:
        for inner in op.walk():
            self.listener.op_erased(inner)
        op.erase()
        self.changed = True

    def set_operand(self, op: Operation, index: int, value: Value) -> None:
        op.set_operand(index, value)
        self.notify_modified(op)

    def notify_modified(self, op: Operation) -> None:
        """Call after changing an op in place (properties, attributes, operands)."""
        self.changed = True
        self.listener.op_modified(op)

    @staticmethod
    def fused_location(*ops: Operation):
        return fuse(*(o.location for o in ops))


class RewritePattern:
    """Subclasses implement ``match_and_rewrite``; doing nothing means no match."""

    benefit: ClassVar[int] = 1

    def match_and_rewrite(self, op: Operation, rewriter: PatternRewriter) -> None:
        raise NotImplementedError

    def matches_type(self, op: Operation) -> bool:
        return True

    @property
    def label(self) -> str:
        return type(self).__name__


class OpRewritePattern(RewritePattern):
    """A pattern tried only on ops of ``op_type``."""

    op_type: ClassVar[type[Operation] | tuple[type[Operation], ...]] = ()

    def matches_type(self, op: Operation) -> bool:
        return isinstance(op, self.op_type)


class NonConvergenceError(FmlcError):
    pass


def is_trivially_dead(op: Operation) -> bool:
    return op.has_trait(Pure) and not op.regions and all(not r.uses for r in op.results)


def defining_op(v: Value) -> Operation | None:
    return v.op if isinstance(v, OpResult) else None


class _WorklistListener(RewriteListener):
    def __init__(self, driver: GreedyRewriteDriver) -> None:
        self.d = driver

    def op_inserted(self, op: Operation) -> None:
        for inner in op.walk():
            self.d.push(inner)

    def op_erased(self, op: Operation) -> None:
        self.d.erased.add(op)

    def op_modified(self, op: Operation) -> None:
        self.d.push(op)

    def op_replaced(self, op: Operation, new_values: Sequence[Value]) -> None:
        for r in op.results:
            for user in r.users:
                self.d.push(user)
        for v in op.operands:  # producers may become dead
            producer = defining_op(v)
            if producer is not None:
                self.d.push(producer)


class GreedyRewriteDriver:
    """Applies patterns until nothing changes, sweeping at most ``max_iterations`` times.

    Also erases trivially dead pure ops when ``erase_dead``.  Failing to reach a
    fixpoint is an error naming the patterns that kept firing.
    """

    def __init__(self, patterns: Iterable[RewritePattern], *, max_iterations: int = 10,
                 erase_dead: bool = True, listener: RewriteListener | None = None) -> None:
        self.patterns = sorted(patterns, key=lambda p: -p.benefit)
        self.max_iterations = max_iterations
        self.erase_dead = erase_dead
        self.outer_listener = listener
        self.worklist: list[Operation] = []
        self.queued: set[Operation] = set()  # ops hash by identity; holding them keeps ids unique
        self.erased: set[Operation] = set()

    def push(self, op: Operation) -> None:
        if op not in self.queued:
            self.queued.add(op)
            self.worklist.append(op)

    def apply(self, root: Operation) -> bool:
        changed_any = False
        fired: dict[str, int] = {}
        for _ in range(self.max_iterations):
            fired.clear()
            self.worklist, self.queued, self.erased = [], set(), set()
            for op in root.walk(reverse=True):
                if op is not root:
                    self.push(op)
            self.worklist.reverse()  # pop() from the end visits producers first
            changed = self._drain(root, fired)
            changed_any |= changed
            if not changed:
                return changed_any
        names = ", ".join(f"{k} ({v}x)" for k, v in sorted(fired.items(), key=lambda kv: -kv[1])[:5])
        raise NonConvergenceError(
            f"error: pattern rewriting did not converge after {self.max_iterations} iterations; "
            f"patterns still firing: {names or 'dead-op erasure'}")

    def _drain(self, root: Operation, fired: dict[str, int]) -> bool:
        changed = False
        listener = _WorklistListener(self)
        # a pattern that keeps re-queueing its op would loop here forever: end the sweep
        # after this many rewrites, so that the iteration bound in apply() can report it
        budget = 10 * len(self.worklist) + 100
        while self.worklist:
            op = self.worklist.pop()
            self.queued.discard(op)
            if op in self.erased or op.parent is None:
                continue
            if self.erase_dead and is_trivially_dead(op):
                rewriter = PatternRewriter(op, listener)
                for v in op.operands:
                    producer = defining_op(v)
                    if producer is not None:
                        self.push(producer)
                rewriter.erase_op(op)
                changed = True
                continue
            for pattern in self.patterns:
                if not pattern.matches_type(op):
                    continue
                rewriter = PatternRewriter(op, listener)
                pattern.match_and_rewrite(op, rewriter)
                if rewriter.changed:
                    changed = True
                    fired[pattern.label] = fired.get(pattern.label, 0) + 1
                    if self.outer_listener is not None:
                        self.outer_listener.op_modified(op)
                    budget -= 1
                    if budget <= 0:
                        return True
                    break
        return changed


def walk_and_rewrite(root: Operation, patterns: Iterable[RewritePattern]) -> bool:
    """One pre-order walk: each op gets the first pattern that changes it, once."""
    patterns = sorted(patterns, key=lambda p: -p.benefit)
    changed = False
    for op in list(root.walk()):
        if op is root or op.parent is None:
            continue
        for pattern in patterns:
            if pattern.matches_type(op):
                rewriter = PatternRewriter(op)
                pattern.match_and_rewrite(op, rewriter)
                if rewriter.changed:
                    changed = True
                    break
    return changed


# ----------------------------------------------------------------------------- canonicalisation

_CANONICAL: dict[type[Operation], list[RewritePattern]] = {}


def canonicalization_pattern(*op_types: type[Operation]) -> Callable[[type[RewritePattern]], type[RewritePattern]]:
    """Class decorator attaching a pattern to ops that declare ``HasCanonicalizer``."""

    def wrap(pattern_cls: type[RewritePattern]) -> type[RewritePattern]:
        for op_type in op_types:
            if not op_type.has_trait(HasCanonicalizer):
                raise TypeError(f"'{op_type.name}' does not declare the HasCanonicalizer trait")
            patterns = _CANONICAL.setdefault(op_type, [])
            # a module imported twice re-defines its classes: keep one pattern per qualified name
            patterns[:] = [p for p in patterns if type(p).__qualname__ != pattern_cls.__qualname__
                           or type(p).__module__ != pattern_cls.__module__]
            patterns.append(pattern_cls())
        return pattern_cls

    return wrap


def canonicalization_patterns() -> list[RewritePattern]:
    """Every registered canonicalisation pattern, each once."""
    seen: dict[int, RewritePattern] = {}
    for patterns in _CANONICAL.values():
        for p in patterns:
            seen.setdefault(id(p), p)
    return list(seen.values())
