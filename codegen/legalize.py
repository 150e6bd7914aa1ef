"""Legal, unique, readable C++ identifiers for the names a project declares.

Names come from models (``/layer/Gemm_output_0``, ``x.185``, anything at all); C++ wants
``[A-Za-z_][A-Za-z0-9_]*`` minus keywords and reserved spellings.  :func:`legalize` maps
every declared name of every file of a project through one table and rewrites every
reference through the same table.

The table is keyed by the *raw* name: every declaration of the same raw name (a loop
variable ``i`` in two functions, a parameter and the global it is bound to) maps to the
same identifier, which is sound because the raw program already used that one spelling
in those scopes.  Distinct raw names always get distinct identifiers.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import attrs

from fmlc.codegen import cpp
from fmlc.codegen.cpp_print import CPP_KEYWORDS, CodegenError

MAX_LENGTH = 60

LIBRARY_NAMES = frozenset(
    """
    ap_fixed ap_ufixed ap_int ap_uint hls std main stream read write data size_t ptrdiff_t
    int8_t int16_t int32_t int64_t uint8_t uint16_t uint32_t uint64_t printf FILE NULL assert
    stdin stdout stderr errno EOF exit abort malloc free memcpy memset restrict
    """.split()
)
"""Names the generated code may take from libraries (and a few C macros); a declared name
spelled like one gets a ``_`` suffix."""

_ILLEGAL_RUN = re.compile(r"[^A-Za-z0-9_]+")
_UNDERSCORES = re.compile(r"_{2,}")
_IDENT = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


def is_usable(name: str) -> bool:
    """``name`` is a fine declared identifier: legal, no keyword or library name, no
    reserved spelling (leading ``_`` or ``__``), at most :data:`MAX_LENGTH` long."""
    return (
        _IDENT.fullmatch(name) is not None
        and "__" not in name
        and len(name) <= MAX_LENGTH
        and name not in CPP_KEYWORDS
        and name not in LIBRARY_NAMES
    )


def _clean(raw: str) -> str:
    """Each run of characters outside ``[A-Za-z0-9_]`` (and each run of ``_``) becomes one
    ``_``; outer ``_`` go; empty -> ``v``; a leading digit gets ``v_``; at most
    :data:`MAX_LENGTH` long; a keyword or library name gets a ``_`` suffix."""
    s = _UNDERSCORES.sub("_", _ILLEGAL_RUN.sub("_", raw)).strip("_") or "v"
    if s[0].isdigit():
        s = "v_" + s
    s = s[:MAX_LENGTH].rstrip("_")
    return s + "_" if s in CPP_KEYWORDS or s in LIBRARY_NAMES else s


def legal_identifier(raw: str, taken: set[str]) -> str:
    """A usable identifier for ``raw`` that is not in ``taken``, and add it to ``taken``.

    ``raw`` is cleaned (see :func:`_clean`: ``x.185`` -> ``x_185``, ``int`` -> ``int_``,
    ``123abc`` -> ``v_123abc``); if that is taken, ``_2``, ``_3``, ... is appended (the
    stem shortened so the result stays within :data:`MAX_LENGTH`)."""
    if not isinstance(raw, str):
        raise CodegenError(f"name {raw!r} is not a str")
    base = _clean(raw)
    name, k = base, 2
    while name in taken or not is_usable(name):
        suffix = f"_{k}"
        name = base.rstrip("_")[: MAX_LENGTH - len(suffix)].rstrip("_") + suffix
        k += 1
    taken.add(name)
    return name


# ----------------------------------------------------------------------------- tree walking

_DECLARED: dict[type, tuple[str, ...]] = {
    cpp.VarDecl: ("name",),
    cpp.Param: ("name",),
    cpp.Function: ("name",),
    cpp.For: ("var", "label"),
    cpp.Typedef: ("name",),
    cpp.Struct: ("name",),
    cpp.Field: ("name",),
    cpp.Guard: ("name",),  # a macro: it must not collide with any other name either
}
"""The declared-name fields of each node type."""


def _nodes(value: object) -> Iterator[object]:
    """Every attrs node under ``value``, parents first, in program order."""
    if isinstance(value, tuple):
        for v in value:
            yield from _nodes(v)
    elif attrs.has(type(value)):
        yield value
        if isinstance(value, cpp.IntTable):
            return
        for a in attrs.fields(type(value)):
            yield from _nodes(getattr(value, a.name))


def _rebuild(value: object, f: Callable[[object], object]) -> object:
    """``value`` with ``f`` applied to every attrs node, children first."""
    if isinstance(value, tuple):
        return tuple(_rebuild(v, f) for v in value)
    if not attrs.has(type(value)) or isinstance(value, cpp.IntTable):
        return value
    changes = {a.name: _rebuild(getattr(value, a.name), f) for a in attrs.fields(type(value))}
    return f(attrs.evolve(value, **changes))  # type: ignore[misc]


def _library_names(node: object) -> set[str]:
    """Leading components of library spellings a node uses (external names, type names and
    identifier template arguments): declared names must not shadow them."""
    if isinstance(node, cpp.Name) and node.external and isinstance(node.id, str):
        return {node.id.split("::")[0]}
    if isinstance(node, cpp.CType):
        spellings = [node.name, *(a for a in node.args if isinstance(a, str))]
        return {s.split("::")[0] for s in spellings if isinstance(s, str)}
    return set()


def legalize(units: dict[str, cpp.TranslationUnit]) -> dict[str, cpp.TranslationUnit]:
    """Rewrite the files of one project (``path -> unit``) so every declared name is a
    usable identifier, unique across the project, and every reference follows it.

    Names that are already usable (and do not shadow a library name the project uses)
    keep their spelling; the others are mapped with :func:`legal_identifier` in order of
    first declaration.  A non-external :class:`~fmlc.codegen.cpp.Name` or
    :class:`~fmlc.codegen.cpp.TypeName` naming nothing declared raises
    :class:`CodegenError`.  A :class:`~fmlc.codegen.cpp.Member` field spelled like a
    declared struct field follows that field's mapping; other member names are library
    members and stay as they are."""
    declared: dict[str, None] = {}  # ordered set of raw names
    fields: set[str] = set()
    guards: set[str] = set()
    others: set[str] = set()
    taken: set[str] = set()
    for node in _nodes(tuple(units.values())):
        for attr in _DECLARED.get(type(node), ()):
            raw = getattr(node, attr)
            if raw is None and attr == "label":
                continue
            if not isinstance(raw, str):
                raise CodegenError(f"declared name {raw!r} is not a str")
            declared.setdefault(raw)
            (guards if isinstance(node, cpp.Guard) else others).add(raw)
            if isinstance(node, cpp.Field):
                fields.add(raw)
        taken |= _library_names(node)
    if guards & others:  # the macro would erase every use of the name
        raise CodegenError(f"include guard {sorted(guards & others)[0]!r} is also declared as a name")

    mapping: dict[str, str] = {}
    for raw in declared:  # usable names keep their spelling, whatever comes first
        if is_usable(raw) and raw not in taken:
            mapping[raw] = raw
            taken.add(raw)
    for raw in declared:
        if raw not in mapping:
            mapping[raw] = legal_identifier(raw, taken)

    def lookup(raw: str, what: str) -> str:
        if raw not in mapping:
            raise CodegenError(f"{what} {raw!r} refers to nothing declared in the project")
        return mapping[raw]

    def rename(node: object) -> object:
        attrs_ = _DECLARED.get(type(node))
        if attrs_:
            return attrs.evolve(node, **{a: mapping.get(getattr(node, a)) for a in attrs_})  # type: ignore[misc]
        if isinstance(node, cpp.Name) and not node.external:
            return attrs.evolve(node, id=lookup(node.id, "name"))
        if isinstance(node, cpp.TypeName):
            return attrs.evolve(node, name=lookup(node.name, "type name"))
        if isinstance(node, cpp.Member) and isinstance(node.field, str) and node.field in fields:
            return attrs.evolve(node, field=mapping[node.field])
        return node

    out = {}
    for path, unit in units.items():
        if not isinstance(unit, cpp.TranslationUnit):
            raise CodegenError(f"{path}: {unit!r} is not a translation unit")
        out[path] = _rebuild(unit, rename)
    return out  # type: ignore[return-value]
