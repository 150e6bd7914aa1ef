"""Declarative op definitions: an op class lists its operands, results,
properties and regions as fields; :func:`op_def` turns them into accessors, a
keyword builder (``Op.build(...)``) and the generic verification, and
``verify_()`` adds the op's own checks.

    @op_def("toy.scale")
    class ScaleOp(Operation):
        input = operand(TensorType)
        factor = prop(IntegerAttr)
        output = result(TensorType)
        traits = (Pure(),)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import attrs

from fmlc.compiler.attributes import (
    ArrayAttr,
    Attribute,
    IntegerAttr,
    TensorType,
    TypeAttribute,
    i32,
)
from fmlc.compiler.diagnostics import verify_error
from fmlc.compiler.ir import Operation, Region, Value
from fmlc.compiler.location import UNKNOWN, Location

# ----------------------------------------------------------------------------- constraints


class Constraint:
    """A check on an attribute or type; ``check`` returns an error text or None."""

    def check(self, value: Attribute) -> str | None:
        raise NotImplementedError


@attrs.frozen
class AnyAttr(Constraint):
    def check(self, value: Attribute) -> str | None:
        return None

    def __str__(self) -> str:
        return "any"


@attrs.frozen
class IsA(Constraint):
    """The value is an instance of one of ``classes``."""

    classes: tuple[type, ...] = attrs.field(converter=tuple)

    def check(self, value: Attribute) -> str | None:
        return None if isinstance(value, self.classes) else f"expected {self}, got {_show(value)}"

    def __str__(self) -> str:
        return " or ".join(getattr(c, "name", "") or c.__name__ for c in self.classes)


@attrs.frozen
class TensorOf(Constraint):
    """A tensor whose element type satisfies ``element`` (and of rank ``rank`` if given)."""

    element: Constraint = attrs.field(converter=lambda c: to_constraint(c))
    rank: int | None = None

    def check(self, value: Attribute) -> str | None:
        if not isinstance(value, TensorType):
            return f"expected {self}, got {_show(value)}"
        if self.rank is not None and value.rank != self.rank:
            return f"expected a rank-{self.rank} tensor, got {_show(value)}"
        err = self.element.check(value.element)
        return f"tensor element: {err}" if err else None

    def __str__(self) -> str:
        return f"tensor of {self.element}"


@attrs.frozen
class AnyOf(Constraint):
    options: tuple[Constraint, ...] = attrs.field(converter=lambda cs: tuple(to_constraint(c) for c in cs))

    def check(self, value: Attribute) -> str | None:
        if any(c.check(value) is None for c in self.options):
            return None
        return f"expected {self}, got {_show(value)}"

    def __str__(self) -> str:
        return " or ".join(str(c) for c in self.options)


@attrs.frozen
class EqualTo(Constraint):
    value: Attribute

    def check(self, value: Attribute) -> str | None:
        return None if value == self.value else f"expected {_show(self.value)}, got {_show(value)}"

    def __str__(self) -> str:
        return _show(self.value)


def _show(a: Attribute) -> str:
    from fmlc.compiler.printer import format_attribute

    return format_attribute(a)


def to_constraint(c: Constraint | type | tuple[type, ...] | None) -> Constraint:
    if c is None:
        return AnyAttr()
    if isinstance(c, Constraint):
        return c
    if isinstance(c, type):
        return IsA((c,))
    if isinstance(c, tuple):
        return IsA(c)
    raise TypeError(f"not a constraint: {c!r}")


# ----------------------------------------------------------------------------- field definitions

SINGLE, OPTIONAL, VARIADIC = "single", "optional", "variadic"


@attrs.frozen
class OperandDef:
    constraint: Constraint
    kind: str = SINGLE


@attrs.frozen
class ResultDef:
    constraint: Constraint
    kind: str = SINGLE


@attrs.frozen
class PropDef:
    constraint: Constraint
    optional: bool = False
    default: Attribute | None = None


@attrs.frozen
class RegionDef:
    kind: str = SINGLE


def operand(c: Any = None) -> Any:
    return OperandDef(to_constraint(c))


def opt_operand(c: Any = None) -> Any:
    return OperandDef(to_constraint(c), OPTIONAL)


def var_operand(c: Any = None) -> Any:
    return OperandDef(to_constraint(c), VARIADIC)


def result(c: Any = None) -> Any:
    return ResultDef(to_constraint(c))


def var_result(c: Any = None) -> Any:
    return ResultDef(to_constraint(c), VARIADIC)


def prop(c: Any = None, *, default: Attribute | None = None, optional: bool = False) -> Any:
    """A property (inherent attribute).  With ``default`` it may be omitted."""
    return PropDef(to_constraint(c), optional or default is not None, default)


def region(kind: str = SINGLE) -> Any:
    return RegionDef(kind)


# ----------------------------------------------------------------------------- traits


class Trait:
    """A property of an op class; ``verify`` may add checks."""

    def verify(self, op: Operation) -> None:
        return None


@attrs.frozen
class Pure(Trait):
    """No side effects: unused results make the op dead, equal ops are duplicates."""


@attrs.frozen
class ConstantLike(Trait):
    """The op produces a compile-time constant from its properties alone."""


@attrs.frozen
class IsTerminator(Trait):
    def verify(self, op: Operation) -> None:
        if op.parent is not None and op.parent.last_op is not op:
            raise verify_error(op, "must be the last operation in its block")


@attrs.frozen
class IsolatedFromAbove(Trait):
    """Regions may not use values defined outside the op."""


@attrs.frozen
class SingleBlock(Trait):
    def verify(self, op: Operation) -> None:
        for i, r in enumerate(op.regions):
            if len(r.blocks) != 1:
                raise verify_error(op, f"region #{i} must have exactly one block, has {len(r.blocks)}")


@attrs.frozen
class HasParent(Trait):
    parents: tuple[str, ...] = attrs.field(converter=tuple)

    def verify(self, op: Operation) -> None:
        parent = op.parent_op
        if parent is None or parent.name not in self.parents:
            want = " or ".join(f"'{p}'" for p in self.parents)
            raise verify_error(op, f"expects parent op {want}")


@attrs.frozen
class SameOperandsAndResultType(Trait):
    def verify(self, op: Operation) -> None:
        types = {v.type for v in (*op.operands, *op.results)}
        if len(types) > 1:
            raise verify_error(op, "requires the same type for all operands and results")


@attrs.frozen
class HasCanonicalizer(Trait):
    """Canonicalisation patterns for this op are registered with
    :func:`fmlc.compiler.rewriter.canonicalization_pattern` and run by ``canonicalize``."""


# ----------------------------------------------------------------------------- op spec


SEGMENT_PROPS = {"operands": "operandSegmentSizes", "results": "resultSegmentSizes"}


@attrs.frozen
class OpSpec:
    operands: tuple[tuple[str, OperandDef], ...]
    results: tuple[tuple[str, ResultDef], ...]
    props: tuple[tuple[str, PropDef], ...]
    regions: tuple[tuple[str, RegionDef], ...]

    def needs_segments(self, which: str) -> bool:
        defs = self.operands if which == "operands" else self.results
        return sum(d.kind != SINGLE for _, d in defs) > 1

    def segments(self, op: Operation, which: str) -> list[tuple[int, int]] | str:
        """(start, length) per declared group, or an error text."""
        defs = self.operands if which == "operands" else self.results
        total = len(op.operands if which == "operands" else op.results)
        if self.needs_segments(which):
            sizes_attr = op.properties.get(SEGMENT_PROPS[which])
            if not isinstance(sizes_attr, ArrayAttr) or not all(isinstance(a, IntegerAttr) for a in sizes_attr):
                return f"requires property '{SEGMENT_PROPS[which]}' (an array of {len(defs)} integers)"
            sizes = [a.value for a in sizes_attr]  # type: ignore[attr-defined]
            if len(sizes) != len(defs) or sum(sizes) != total or min(sizes, default=0) < 0:
                return f"'{SEGMENT_PROPS[which]}' {sizes} does not fit {total} {which}"
        else:
            fixed = sum(d.kind == SINGLE for _, d in defs)
            rest = total - fixed
            has_var = any(d.kind != SINGLE for _, d in defs)
            if rest < 0 or (rest and not has_var):
                n = f"at least {fixed}" if has_var else f"{fixed}"
                return f"expects {n} {which[:-1]}{'s' if fixed != 1 or has_var else ''}, got {total}"
            sizes = [1 if d.kind == SINGLE else rest for _, d in defs]
        out, start = [], 0
        for (group, d), n in zip(defs, sizes, strict=True):
            if d.kind == SINGLE and n != 1 or d.kind == OPTIONAL and n > 1:
                return f"group '{group}' of kind {d.kind} cannot hold {n} {which}"
            out.append((start, n))
            start += n
        return out

    def verify(self, op: Operation) -> None:
        for which in ("operands", "results"):
            segs = self.segments(op, which)
            if isinstance(segs, str):
                raise verify_error(op, segs)
            defs = self.operands if which == "operands" else self.results
            values = op.operands if which == "operands" else op.results
            for (name, d), (start, n) in zip(defs, segs, strict=True):
                for k in range(start, start + n):
                    err = d.constraint.check(values[k].type)
                    if err:
                        raise verify_error(op, f"{which[:-1]} #{k} ('{name}'): {err}")
        declared = {name for name, _ in self.props} | {
            SEGMENT_PROPS[w] for w in ("operands", "results") if self.needs_segments(w)}
        for key in op.properties:
            if key not in declared:
                raise verify_error(op, f"has unknown property '{key}'")
        for name, d in self.props:
            value = op.properties.get(name)
            if value is None:
                if not d.optional:
                    raise verify_error(op, f"requires property '{name}'")
                continue
            err = d.constraint.check(value)
            if err:
                raise verify_error(op, f"property '{name}': {err}")
        single = [n for n, d in self.regions if d.kind == SINGLE]
        if any(d.kind != SINGLE for _, d in self.regions):
            if len(op.regions) < len(single):
                raise verify_error(op, f"expects at least {len(single)} regions, got {len(op.regions)}")
        elif len(op.regions) != len(self.regions):
            raise verify_error(op, f"expects {len(self.regions)} regions, got {len(op.regions)}")


class _Accessor:
    """Reads one declared field of an op instance."""

    def __init__(self, getter: Callable[[Operation], Any], doc: str) -> None:
        self.getter = getter
        self.__doc__ = doc

    def __get__(self, op: Operation | None, owner: type) -> Any:
        return self if op is None else self.getter(op)


def _group_getter(which: str, index: int, kind: str) -> Callable[[Operation], Any]:
    def get(op: Operation) -> Any:
        segs = op.spec.segments(op, which)  # type: ignore[union-attr]
        if isinstance(segs, str):
            raise ValueError(f"'{op.name}': {segs}")
        start, n = segs[index]
        values = (op.operands if which == "operands" else tuple(op.results))[start:start + n]
        if kind == SINGLE:
            return values[0]
        if kind == OPTIONAL:
            return values[0] if values else None
        return values
    return get


def _prop_getter(name: str, d: PropDef) -> Callable[[Operation], Any]:
    return lambda op: op.properties.get(name, d.default)


def _region_getter(index: int, kind: str) -> Callable[[Operation], Any]:
    if kind == SINGLE:
        return lambda op: op.regions[index]
    return lambda op: tuple(op.regions[index:])


def op_def(name: str) -> Callable[[type[Operation]], type[Operation]]:
    """Class decorator turning declared fields into an op definition named ``name``."""

    def wrap(cls: type[Operation]) -> type[Operation]:
        fields: dict[str, list[tuple[str, Any]]] = {"operands": [], "results": [], "props": [], "regions": []}
        for base in reversed(cls.__mro__[1:]):  # inherit declarations from op base classes
            if getattr(base, "spec", None) is not None:
                for key in fields:
                    fields[key].extend(getattr(base.spec, key))
        for attr_name, value in list(vars(cls).items()):
            for key, kind in (("operands", OperandDef), ("results", ResultDef),
                              ("props", PropDef), ("regions", RegionDef)):
                if isinstance(value, kind):
                    fields[key].append((attr_name, value))
        spec = OpSpec(*(tuple(fields[k]) for k in ("operands", "results", "props", "regions")))
        for i, (n, d) in enumerate(spec.operands):
            setattr(cls, n, _Accessor(_group_getter("operands", i, d.kind), f"operand group '{n}'"))
        for i, (n, d) in enumerate(spec.results):
            setattr(cls, n, _Accessor(_group_getter("results", i, d.kind), f"result group '{n}'"))
        for n, d in spec.props:
            setattr(cls, n, _Accessor(_prop_getter(n, d), f"property '{n}'"))
        for i, (n, d) in enumerate(spec.regions):
            setattr(cls, n, _Accessor(_region_getter(i, d.kind), f"region '{n}'"))
        cls.name = name
        cls.spec = spec
        return cls

    return wrap


def build(cls: type[Operation], *, location: Location = UNKNOWN,
          attributes: dict[str, Attribute] | None = None, **fields: Any) -> Operation:
    """Create an op of a declared class from its field names.

    Operand groups take a Value (a sequence for variadic, None for absent
    optional), result groups a type (a sequence for variadic), properties an
    Attribute (omitted: the default), regions a Region (omitted: a new empty one).
    """
    spec = cls.spec
    if spec is None:
        raise TypeError(f"{cls.__name__} is not a declared op")
    operands: list[Value] = []
    operand_sizes: list[int] = []
    for n, d in spec.operands:
        vals = _as_list(fields.pop(n, None), d.kind)
        operands.extend(vals)
        operand_sizes.append(len(vals))
    result_types: list[TypeAttribute] = []
    result_sizes: list[int] = []
    for n, d in spec.results:
        if n not in fields:
            raise TypeError(f"{cls.name}: missing result type '{n}'")
        types = _as_list(fields.pop(n), d.kind)
        result_types.extend(types)
        result_sizes.append(len(types))
    props: dict[str, Attribute] = {}
    for n, d in spec.props:
        v = fields.pop(n, None)
        if v is not None:
            props[n] = v
        elif not d.optional:
            raise TypeError(f"{cls.name}: missing property '{n}'")
    for which, sizes in (("operands", operand_sizes), ("results", result_sizes)):
        if spec.needs_segments(which):
            props[SEGMENT_PROPS[which]] = ArrayAttr(IntegerAttr(s, i32) for s in sizes)
    regions = []
    for n, d in spec.regions:
        r = fields.pop(n, None)
        regions.extend(([r] if isinstance(r, Region) else list(r)) if r is not None
                       else ([Region()] if d.kind == SINGLE else []))
    if fields:
        raise TypeError(f"{cls.name}: unknown fields {sorted(fields)}")
    return cls(operands, result_types, props, attributes, regions, location)


def _as_list(v: Any, kind: str) -> list[Any]:
    if kind == SINGLE:
        if v is None:
            raise TypeError("missing a required operand or result")
        return [v]
    if kind == OPTIONAL:
        return [] if v is None else [v]
    return list(v or ())


def verify_op_definition(op: Operation) -> None:
    """The generic checks of a declared op, its traits, then its ``verify_``."""
    if op.spec is not None:
        op.spec.verify(op)
    for trait in op.traits:
        trait.verify(op)
    verify_ = getattr(op, "verify_", None)
    if verify_ is not None:
        verify_()


def declared_operands(op: Operation) -> Sequence[tuple[str, Any]]:
    """(name, value or values) for each declared operand group of ``op``."""
    if op.spec is None:
        return [(f"operand{i}", v) for i, v in enumerate(op.operands)]
    return [(n, getattr(op, n)) for n, _ in op.spec.operands]
