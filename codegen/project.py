"""The files of an HLS project folder, and writing them atomically.

:func:`project_files` legalises the firmware, the csim bridge and the testbench as one
program (one namespace: a declared name has one spelling in every file), prints them
and adds ``build.tcl``, ``README.md`` and ``tb/tb_input.txt``.  :func:`write_project`
puts a folder in place all at once or not at all.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

import attrs
import numpy as np

from fmlc.codegen import cpp as C
from fmlc.codegen.bridge import ENTRY, TB_MAIN, bridge_unit, testbench_unit
from fmlc.codegen.cpp_print import print_unit
from fmlc.codegen.legalize import legalize
from fmlc.compiler.atomic import atomic_dir
from fmlc.compiler.diagnostics import FmlcError
from fmlc.dialects.qt import BipolarType

if TYPE_CHECKING:
    from fmlc.codegen.hls import Port, Project

BRIDGE = "csim/bridge.cpp"
TB_INPUT = "tb/tb_input.txt"
DEFAULT_TB_SAMPLES = 4
_PART = re.compile(r"[A-Za-z0-9_.\-]+")


def tb_path(project: Project) -> str:
    return f"tb/tb_{project.name}.cpp"


# ----------------------------------------------------------------------------- legalising

_DECLARED = {C.VarDecl: "name", C.Param: "name", C.Function: "name", C.Typedef: "name", C.Struct: "name",
             C.Field: "name", C.Guard: "name", C.TypeName: "name", C.For: "var"}


def _pairs(raw: object, legal: object) -> Iterator[tuple[str, str]]:
    """(raw, legal) spelling of every declared name and reference, walking two trees of the
    same shape (:func:`legalize` only renames)."""
    if isinstance(raw, tuple) and isinstance(legal, tuple):
        for r, g in zip(raw, legal, strict=True):
            yield from _pairs(r, g)
    elif attrs.has(type(raw)) and not isinstance(raw, C.IntTable):
        field = _DECLARED.get(type(raw))
        if field is not None:
            yield getattr(raw, field), getattr(legal, field)
        elif isinstance(raw, C.Name) and not raw.external:
            yield raw.id, legal.id  # type: ignore[attr-defined]
        for a in attrs.fields(type(raw)):
            yield from _pairs(getattr(raw, a.name), getattr(legal, a.name))


@attrs.frozen
class LegalProject:
    """The C++ files of a project after legalisation: ``units`` (path -> AST), ``sources``
    (path -> text) and ``names`` (raw -> legal spelling of every declared name)."""

    project: Project
    units: dict[str, C.TranslationUnit]
    sources: dict[str, str]
    names: dict[str, str]

    def name(self, raw: str) -> str:
        return self.names[raw]

    @property
    def entry(self) -> str:
        """The exported symbol of the csim bridge."""
        return self.names[ENTRY]


def _restore_main(unit: C.TranslationUnit, legal_main: str) -> C.TranslationUnit:
    """``main`` is a reserved library name to :func:`legalize` (renamed ``main_``); the
    testbench's entry point must be spelled ``main`` (no other declaration can be)."""
    items = [attrs.evolve(i, name="main") if isinstance(i, C.Function) and i.name == legal_main else i
             for i in unit.items]
    return C.TranslationUnit(items)


def _declared(unit: object) -> set[str]:
    """The raw names a tree declares."""
    if isinstance(unit, tuple):
        return set().union(*map(_declared, unit))
    if not attrs.has(type(unit)) or isinstance(unit, C.IntTable):
        return set()
    field = _DECLARED.get(type(unit))
    names = {getattr(unit, field)} if field is not None and not isinstance(unit, C.TypeName) else set()
    return names.union(*(_declared(getattr(unit, a.name)) for a in attrs.fields(type(unit))))


def legal_project(project: Project) -> LegalProject:
    """Legalise and print the firmware, ``csim/bridge.cpp`` and the testbench together."""
    drivers = {BRIDGE: bridge_unit(project), tb_path(project): testbench_unit(project)}
    clash = _declared(tuple(project.units.values())) & _declared(tuple(drivers.values()))
    if clash:  # one raw name is one identifier everywhere: the firmware must not use ours
        raise FmlcError(f"error: the firmware declares {', '.join(sorted(map(repr, clash)))}, reserved for "
                        "the csim bridge and the testbench")
    raw = {**project.units, **drivers}
    legal = legalize(raw)
    names: dict[str, str] = {}
    for path in raw:
        names.update(_pairs(raw[path], legal[path]))
    tb = tb_path(project)
    legal[tb] = _restore_main(legal[tb], names[TB_MAIN])
    sources = {path: print_unit(unit) for path, unit in legal.items()}
    return LegalProject(project, legal, sources, names)


# ----------------------------------------------------------------------------- text files

def _clock(project: Project) -> str:
    clock = float(project.clock_ns)
    if not (math.isfinite(clock) and clock > 0):
        raise FmlcError(f"error: clock period {project.clock_ns!r} ns is not a positive number")
    return repr(clock)


def _part(project: Project) -> str:
    if not _PART.fullmatch(project.part):
        raise FmlcError(f"error: FPGA part {project.part!r} is not a plain part name ([A-Za-z0-9_.-])")
    return project.part


def build_tcl(legal: LegalProject) -> str:
    """``build.tcl``: ``vitis_hls -f build.tcl`` in the project folder runs C simulation and synthesis."""
    p = legal.project
    firmware = sorted(k for k in legal.sources if k.startswith("firmware/") and k.endswith(".cpp"))
    lines = [
        f"# Vitis HLS project {p.name}: run `vitis_hls -f build.tcl` in this folder.",
        "set root [file dirname [file normalize [info script]]]",
        "cd $root",
        f"open_project -reset {p.name}_prj",
        f"set_top {legal.name(p.top)}",
        *(f'add_files {f} -cflags "-std=c++14"' for f in firmware),
        f'add_files -tb {tb_path(p)} -cflags "-std=c++14 -I$root/firmware"',
        f"add_files -tb {TB_INPUT}",
        "open_solution -reset solution1",
        f"set_part {{{_part(p)}}}",
        f"create_clock -period {_clock(p)} -name default",
        "csim_design",
        "csynth_design",
        "exit",
    ]
    return "\n".join(lines) + "\n"


def _port_row(legal: LegalProject, port: Port, direction: str, stream: bool) -> str:
    elem = port.element
    ctype = legal.name(port.ctype.name)
    spelling = elem.cpp + (" (bit b stands for 2b - 1)" if isinstance(elem, BipolarType) else "")
    shape = "x".join(map(str, port.shape)) or "scalar"
    if stream:
        assert port.beat is not None
        arg = f"`hls::stream<{legal.name(port.beat.name)}>& {legal.name(port.param)}`"
        layout = f"{port.beats} beats of `{ctype} data[{port.lanes}]`"
    else:
        const = "const " if direction == "in" else ""
        arg = f"`{const}{ctype} {legal.name(port.param)}[{port.lanes * port.beats}]`"
        layout = "flat, row-major"
    return f"| {direction} | {arg} | `{ctype}` = `{spelling}` | {shape} | {layout} |"


def readme(legal: LegalProject) -> str:
    """``README.md``: what the folder holds and how to run it."""
    p = legal.project
    stream = p.io == "stream"
    rows = [_port_row(legal, port, "in", stream) for port in p.inputs]
    rows += [_port_row(legal, port, "out", stream) for port in p.outputs]
    return "\n".join([
        f"# {p.name}",
        "",
        "Vitis HLS project generated by fmlc.",
        "",
        f"- `firmware/`: the firmware; top function `{legal.name(p.top)}` (io={p.io}) declared in "
        f"`{p.header}`, types in `firmware/defines.h`, constants in `firmware/weights.h`.",
        f"- `{tb_path(p)}`: testbench reading `{TB_INPUT}` (floats, one sample per line, "
        "all inputs in port order) and writing `tb/tb_output.txt` (one line per sample, `%.17g`).",
        f"- `{BRIDGE}`: the raw-code entry point fmlc uses for C simulation from Python.",
        "- `build.tcl`: C simulation and synthesis.",
        "",
        f"Part `{_part(p)}`, clock {_clock(p)} ns.",
        "",
        "## Run",
        "",
        "```sh",
        "vitis_hls -f build.tcl    # C simulation, then synthesis",
        f"g++ -std=c++14 -I$AP_TYPES -Ifirmware firmware/*.cpp {tb_path(p)} -o tb_run && ./tb_run",
        "```",
        "",
        "Run from this folder (the second line, `AP_TYPES` being the folder holding `ap_fixed.h`),",
        "the testbench reads and writes `tb/`; under `csim_design` it uses the copy of",
        f"`tb_input.txt` in Vitis' simulation folder (`{p.name}_prj/solution1/csim/build`) and writes there.",
        "",
        "## Ports",
        "",
        "| dir | C++ parameter | element type | shape | layout |",
        "| --- | --- | --- | --- | --- |",
        *rows,
        "",
    ])


def tb_input_text(project: Project, tb_inputs: np.ndarray | None) -> str:
    """Float rows of every input concatenated in port order (repr: exact round trip);
    ``None`` gives :data:`DEFAULT_TB_SAMPLES` rows of zeros."""
    width = sum(port.lanes * port.beats for port in project.inputs)
    if tb_inputs is None:
        data = np.zeros((DEFAULT_TB_SAMPLES, width))
    else:
        data = np.asarray(tb_inputs, dtype=np.float64)
        data = data.reshape(len(data), -1) if data.ndim > 1 else data.reshape(1, -1)
        if data.shape[1] != width:
            raise FmlcError(f"error: testbench inputs have {data.shape[1]} values per sample, "
                            f"the inputs of {project.name} take {width}")
    return "".join(" ".join(repr(float(v)) for v in row) + "\n" for row in data)


def project_files(project: Project, tb_inputs: np.ndarray | None = None) -> dict[str, str]:
    """Every file of the project folder: path (relative, ``/``-separated) -> text."""
    legal = legal_project(project)
    return {
        **legal.sources,
        TB_INPUT: tb_input_text(project, tb_inputs),
        "build.tcl": build_tcl(legal),
        "README.md": readme(legal),
    }


# ----------------------------------------------------------------------------- writing

def _checked(key: str) -> PurePosixPath:
    path = PurePosixPath(key)
    if not key or "\\" in key or "\0" in key or path.is_absolute() or ".." in path.parts or path.name in ("", "."):
        raise FmlcError(f"error: project file name {key!r} is not a relative path inside the folder")
    return path


def write_project(files: Mapping[str, str], out_dir: str | Path, force: bool = False) -> None:
    """Write ``files`` into ``out_dir`` atomically (:func:`~fmlc.compiler.atomic.atomic_dir`).
    An existing ``out_dir`` is an error unless ``force`` (then it is replaced); on any failure
    nothing is left behind and an existing folder is untouched."""
    paths = {_checked(key): text for key, text in files.items()}
    out = Path(out_dir)
    if (out.exists() or out.is_symlink()) and not force:
        raise FmlcError(f"error: {out_dir} exists; use --force to replace it")
    with atomic_dir(out) as tmp:
        for rel, text in paths.items():
            target = tmp.joinpath(*rel.parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8", newline="\n")
