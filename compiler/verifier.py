"""IR verification: SSA dominance, op definitions, traits and ``verify_``.

Runs after parsing and after every pass (unless switched off).
"""

from __future__ import annotations

from fmlc.compiler.diagnostics import verify_error
from fmlc.compiler.ir import Block, Operation, UnregisteredOp, Value
from fmlc.compiler.opdef import IsolatedFromAbove, verify_op_definition


def verify(op: Operation) -> None:
    """Verify ``op`` and everything nested in it; raise the first VerifyError."""
    _verify(op, [set()])


def _verify(op: Operation, visible: list[set[Value]]) -> None:
    for k, v in enumerate(op.operands):
        if not any(v in scope for scope in visible):
            raise verify_error(op, f"operand #{k} does not dominate this use "
                                   "(it is defined later, in another region, or not at all)")
    isolated = op.has_trait(IsolatedFromAbove)
    for region in op.regions:
        for block in region.blocks:
            if block.parent is not region:
                raise verify_error(op, "block's parent link is broken")
            inner: list[set[Value]] = [set()] if isolated else [*visible, set()]
            _verify_block(block, inner)
    if not isinstance(op, UnregisteredOp):
        verify_op_definition(op)


def _verify_block(block: Block, visible: list[set[Value]]) -> None:
    scope = visible[-1]
    scope.update(block.args)
    for op in block.ops:
        if op.parent is not block:
            raise verify_error(op, "op's parent link is broken")
        _verify(op, visible)
        scope.update(op.results)
