"""``canonicalize``: every op's canonicalisation patterns to a fixpoint, and dead-op erasure."""

from __future__ import annotations

import dataclasses

from fmlc.compiler.ir import Operation
from fmlc.compiler.passes import Pass, PassContext, register_pass
from fmlc.compiler.rewriter import GreedyRewriteDriver, canonicalization_patterns


@register_pass
@dataclasses.dataclass(frozen=True)
class Canonicalize(Pass):
    """Apply the patterns ops attach through ``HasCanonicalizer`` and erase unused pure ops."""

    name = "canonicalize"
    summary = "simplify with each op's canonicalisation patterns; erase dead pure ops"
    max_iterations: int = 10

    def __post_init__(self) -> None:
        if self.max_iterations < 1:
            raise ValueError("max-iterations must be at least 1")

    def apply(self, ctx: PassContext, op: Operation) -> None:
        GreedyRewriteDriver(canonicalization_patterns(), max_iterations=self.max_iterations).apply(op)
