"""``cse``: common-subexpression elimination of pure ops without regions."""

from __future__ import annotations

import dataclasses
from collections.abc import Hashable

from fmlc.compiler.ir import Block, Operation
from fmlc.compiler.opdef import IsolatedFromAbove, Pure
from fmlc.compiler.passes import Pass, PassContext, register_pass


def _key(op: Operation) -> Hashable:
    return (
        op.name,
        tuple(id(v) for v in op.operands),
        op.result_types,
        tuple(sorted(op.properties.items())),
        tuple(sorted(op.attributes.items())),
    )


@register_pass
@dataclasses.dataclass(frozen=True)
class CSE(Pass):
    """An op equal to an earlier one that dominates it (same name, operands, types,
    properties and attributes) is replaced by it."""

    name = "cse"
    summary = "eliminate duplicate pure ops"

    def apply(self, ctx: PassContext, op: Operation) -> None:
        for region in op.regions:
            for block in region.blocks:
                self._block(block, [{}])

    def _block(self, block: Block, scopes: list[dict[Hashable, Operation]]) -> None:
        local: dict[Hashable, Operation] = {}
        scopes = [*scopes, local]
        for op in list(block.ops):
            if op.has_trait(Pure) and not op.regions:
                key = _key(op)
                seen = next((s[key] for s in reversed(scopes) if key in s), None)
                if seen is not None:
                    for old, new in zip(op.results, seen.results, strict=True):
                        old.replace_all_uses_with(new)
                    op.erase()
                    continue
                local[key] = op
            inner = [{}] if op.has_trait(IsolatedFromAbove) else scopes
            for region in op.regions:
                for b in region.blocks:
                    self._block(b, inner)
