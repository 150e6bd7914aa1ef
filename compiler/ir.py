"""SSA values, operations, blocks and regions.

An :class:`Operation` has operands (values), results, properties (inherent
attributes, ``<{...}>`` in text), discardable attributes (``{...}``), regions and
a location.  Registered ops are subclasses declared with
:func:`fmlc.compiler.opdef.op_def`; an op of an unregistered dialect is an
instance of a class made on the fly by :func:`unregistered_op`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from fmlc.compiler.attributes import Attribute, TypeAttribute
from fmlc.compiler.location import UNKNOWN, Location, SourcePos

if TYPE_CHECKING:
    from fmlc.compiler.opdef import OpSpec, Trait


class Use:
    __slots__ = ("op", "index")

    def __init__(self, op: Operation, index: int) -> None:
        self.op = op
        self.index = index


class Value:
    """An SSA value: an op result or a block argument."""

    __slots__ = ("type", "uses", "name_hint")

    def __init__(self, type_: TypeAttribute, name_hint: str | None = None) -> None:
        self.type = type_
        self.uses: list[Use] = []
        self.name_hint = name_hint

    @property
    def users(self) -> list[Operation]:
        seen: dict[int, Operation] = {}
        for use in self.uses:
            seen.setdefault(id(use.op), use.op)
        return list(seen.values())

    def has_uses(self) -> bool:
        return bool(self.uses)

    def replace_all_uses_with(self, new: Value) -> None:
        for use in list(self.uses):
            use.op.set_operand(use.index, new)

    def owner_block(self) -> Block | None:
        raise NotImplementedError


class OpResult(Value):
    __slots__ = ("op", "index")

    def __init__(self, type_: TypeAttribute, op: Operation, index: int) -> None:
        super().__init__(type_)
        self.op = op
        self.index = index

    def owner_block(self) -> Block | None:
        return self.op.parent

    def __repr__(self) -> str:
        return f"<OpResult #{self.index} of {self.op.name}: {self.type}>"


class BlockArgument(Value):
    __slots__ = ("block", "index")

    def __init__(self, type_: TypeAttribute, block: Block, index: int) -> None:
        super().__init__(type_)
        self.block = block
        self.index = index

    def owner_block(self) -> Block | None:
        return self.block

    def __repr__(self) -> str:
        return f"<BlockArgument #{self.index}: {self.type}>"


class Operation:
    """Base of every op.  ``name`` is the class's ``dialect.op`` name."""

    name: ClassVar[str] = ""
    spec: ClassVar[OpSpec | None] = None
    traits: ClassVar[tuple[Trait, ...]] = ()

    def __init__(
        self,
        operands: Sequence[Value] = (),
        result_types: Sequence[TypeAttribute] = (),
        properties: dict[str, Attribute] | None = None,
        attributes: dict[str, Attribute] | None = None,
        regions: Sequence[Region] = (),
        location: Location = UNKNOWN,
    ) -> None:
        self._operands: list[Value] = []
        self.results = [OpResult(t, self, i) for i, t in enumerate(result_types)]
        self.properties: dict[str, Attribute] = dict(properties or {})
        self.attributes: dict[str, Attribute] = dict(attributes or {})
        self.regions: list[Region] = []
        self.location = location
        self.source: SourcePos | None = None
        self.parent: Block | None = None
        for v in operands:
            self._add_operand(v)
        for r in regions:
            self.add_region(r)

    @classmethod
    def build(cls, **fields: Any) -> Operation:
        """Create a declared op from its field names (see :func:`fmlc.compiler.opdef.build`)."""
        from fmlc.compiler.opdef import build

        return build(cls, **fields)

    # -- operands
    @property
    def operands(self) -> tuple[Value, ...]:
        return tuple(self._operands)

    def _add_operand(self, v: Value) -> None:
        if not isinstance(v, Value):
            raise TypeError(f"operand of '{self.name}' must be a Value, got {type(v).__name__}")
        v.uses.append(Use(self, len(self._operands)))
        self._operands.append(v)

    def set_operand(self, index: int, new: Value) -> None:
        old = self._operands[index]
        for k, use in enumerate(old.uses):
            if use.op is self and use.index == index:
                del old.uses[k]
                break
        self._operands[index] = new
        new.uses.append(Use(self, index))

    def set_operands(self, values: Sequence[Value]) -> None:
        self.drop_operands()
        for v in values:
            self._add_operand(v)

    def drop_operands(self) -> None:
        for i, v in enumerate(self._operands):
            v.uses[:] = [u for u in v.uses if not (u.op is self and u.index == i)]
        self._operands = []

    # -- results, regions
    @property
    def result(self) -> OpResult:
        if len(self.results) != 1:
            raise ValueError(f"'{self.name}' has {len(self.results)} results, not one")
        return self.results[0]

    @property
    def result_types(self) -> tuple[TypeAttribute, ...]:
        return tuple(r.type for r in self.results)

    def add_region(self, region: Region) -> Region:
        if region.parent is not None:
            raise ValueError("region already belongs to an op")
        region.parent = self
        self.regions.append(region)
        return region

    # -- structure
    @classmethod
    def has_trait(cls, trait_type: type) -> bool:
        return any(isinstance(t, trait_type) for t in cls.traits)

    @classmethod
    def get_trait(cls, trait_type: type) -> Any:
        return next((t for t in cls.traits if isinstance(t, trait_type)), None)

    @property
    def parent_op(self) -> Operation | None:
        block = self.parent
        region = block.parent if block else None
        return region.parent if region else None

    def walk(self, reverse: bool = False) -> Iterator[Operation]:
        """This op and every op nested in it, pre-order (post-order reversed)."""
        if not reverse:
            yield self
        regions = reversed(self.regions) if reverse else self.regions
        for region in regions:
            for block in (reversed(region.blocks) if reverse else region.blocks):
                for op in (reversed(list(block.ops)) if reverse else list(block.ops)):
                    yield from op.walk(reverse)
        if reverse:
            yield self

    def is_ancestor_of(self, other: Operation) -> bool:
        cur: Operation | None = other
        while cur is not None:
            if cur is self:
                return True
            cur = cur.parent_op
        return False

    def detach(self) -> Operation:
        if self.parent is not None:
            self.parent.detach_op(self)
        return self

    def erase(self, safe: bool = True) -> None:
        """Detach and drop all references; with ``safe`` the results must be unused."""
        if safe:
            for r in self.results:
                outside = [u for u in r.uses if not self.is_ancestor_of(u.op)]
                if outside:
                    raise ValueError(f"cannot erase '{self.name}': result #{r.index} still has uses")
        self.detach()
        for op in self.walk(reverse=True):
            op.drop_operands()

    def clone(self, value_map: dict[Value, Value] | None = None) -> Operation:
        """Deep copy; operands defined outside are looked up in ``value_map``."""
        vmap = value_map if value_map is not None else {}
        new = type(self)(
            operands=[vmap.get(v, v) for v in self._operands],
            result_types=self.result_types,
            properties=self.properties,
            attributes=self.attributes,
            location=self.location,
        )
        new.source = self.source
        for old_r, new_r in zip(self.results, new.results, strict=True):
            new_r.name_hint = old_r.name_hint
            vmap[old_r] = new_r
        for region in self.regions:
            new.add_region(region.clone(vmap))
        return new

    def __repr__(self) -> str:
        return f"<{self.name} at {self.location.describe()}>"


class Block:
    """An ordered list of ops with typed arguments."""

    def __init__(self, arg_types: Iterable[TypeAttribute] = (), ops: Iterable[Operation] = ()) -> None:
        self.args = [BlockArgument(t, self, i) for i, t in enumerate(arg_types)]
        self._ops: list[Operation] = []
        self.parent: Region | None = None
        for op in ops:
            self.append(op)

    @property
    def ops(self) -> tuple[Operation, ...]:
        return tuple(self._ops)

    @property
    def first_op(self) -> Operation | None:
        return self._ops[0] if self._ops else None

    @property
    def last_op(self) -> Operation | None:
        return self._ops[-1] if self._ops else None

    def add_arg(self, type_: TypeAttribute) -> BlockArgument:
        arg = BlockArgument(type_, self, len(self.args))
        self.args.append(arg)
        return arg

    def index_of(self, op: Operation) -> int:
        for i, o in enumerate(self._ops):
            if o is op:
                return i
        raise ValueError(f"{op!r} is not in this block")

    def insert(self, index: int, op: Operation) -> None:
        if op.parent is not None:
            raise ValueError(f"{op!r} already belongs to a block")
        op.parent = self
        self._ops.insert(index, op)

    def append(self, op: Operation) -> None:
        self.insert(len(self._ops), op)

    def insert_before(self, anchor: Operation, op: Operation) -> None:
        self.insert(self.index_of(anchor), op)

    def insert_after(self, anchor: Operation, op: Operation) -> None:
        self.insert(self.index_of(anchor) + 1, op)

    def detach_op(self, op: Operation) -> None:
        del self._ops[self.index_of(op)]
        op.parent = None

    def clone(self, vmap: dict[Value, Value]) -> Block:
        new = Block([a.type for a in self.args])
        for old_a, new_a in zip(self.args, new.args, strict=True):
            new_a.name_hint = old_a.name_hint
            vmap[old_a] = new_a
        for op in self._ops:
            new.append(op.clone(vmap))
        return new


class Region:
    """A list of blocks owned by an op."""

    def __init__(self, blocks: Iterable[Block] = ()) -> None:
        self.blocks: list[Block] = []
        self.parent: Operation | None = None
        for b in blocks:
            self.add_block(b)

    def add_block(self, block: Block) -> Block:
        if block.parent is not None:
            raise ValueError("block already belongs to a region")
        block.parent = self
        self.blocks.append(block)
        return block

    @property
    def block(self) -> Block:
        """The only block (creating it when the region is empty)."""
        if not self.blocks:
            self.add_block(Block())
        if len(self.blocks) != 1:
            raise ValueError("region has more than one block")
        return self.blocks[0]

    def clone(self, vmap: dict[Value, Value]) -> Region:
        return Region(b.clone(vmap) for b in self.blocks)


_UNREGISTERED: dict[str, type[Operation]] = {}


class UnregisteredOp(Operation):
    """An op whose dialect is not registered (kept as parsed, verified generically)."""


def unregistered_op(name: str) -> type[Operation]:
    cls = _UNREGISTERED.get(name)
    if cls is None:
        cls = type("UnregisteredOp", (UnregisteredOp,), {"name": name})
        _UNREGISTERED[name] = cls
    return cls
