"""Source locations carried by every operation (MLIR's ``loc(...)``)."""

from __future__ import annotations

import attrs

from fmlc.compiler.attributes import Attribute


class Location(Attribute):
    __slots__ = ()

    def describe(self) -> str:
        """The short form used in diagnostics."""
        raise NotImplementedError


@attrs.frozen
class UnknownLoc(Location):
    def describe(self) -> str:
        return "<unknown>"


@attrs.frozen
class FileLineColLoc(Location):
    file: str
    line: int
    col: int

    def describe(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


@attrs.frozen
class NameLoc(Location):
    """A named place, e.g. the ONNX node an op was imported from."""

    name: str
    child: Location | None = None

    def describe(self) -> str:
        return self.name


@attrs.frozen
class FusedLoc(Location):
    """Several locations merged by a rewrite that combined ops."""

    locations: tuple[Location, ...] = attrs.field(converter=tuple)

    def describe(self) -> str:
        return "+".join(loc.describe() for loc in self.locations)


UNKNOWN = UnknownLoc()


def fuse(*locations: Location) -> Location:
    """Fuse locations, flattening nested fusions and dropping unknowns and duplicates."""
    flat: list[Location] = []
    for loc in locations:
        for part in loc.locations if isinstance(loc, FusedLoc) else (loc,):
            if not isinstance(part, UnknownLoc) and part not in flat:
                flat.append(part)
    if not flat:
        return UNKNOWN
    return flat[0] if len(flat) == 1 else FusedLoc(tuple(flat))


@attrs.frozen
class SourcePos:
    """Where an op was parsed from (used by diagnostics; not part of the IR)."""

    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"
