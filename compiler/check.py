"""``--check``: run every level (onnx → qt → df → csim) from the one the model is at on the
same inputs and compare (a ``df`` dump runs df and csim only: it cannot be raised to qt).

Levels are compared pairwise by value (``-0.0 == 0.0``): elements, the fraction equal
bit for bit, the largest absolute difference and, for outputs with a class axis, how
often the argmax agrees.  qt, df and csim must agree exactly; onnx vs qt is exact only
where NUMERICS.md says so (power-of-two quantisers), so it is reported, not enforced.
"""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np

from fmlc.compiler.attributes import IntegerType
from fmlc.compiler.builtin import ModuleOp
from fmlc.compiler.diagnostics import FmlcError
from fmlc.compiler.models import as_samples, from_samples, interface_names, main_function

CHECK_SAMPLES = 256
ENFORCED = {("qt", "df"), ("df", "csim"), ("qt", "csim")}


def input_ports(df_module: ModuleOp) -> list[tuple[str, Any, tuple[int, ...], bool]]:
    """(graph input name, port element type, shape, integer host data) of every ``df.from_float``."""
    from fmlc.dialects import df

    func = main_function(df_module)
    names, _ = interface_names(df_module)
    block = func.regions[0].blocks[0]
    ports = []
    for op in block.ops:
        if isinstance(op, df.FromFloatOp):
            ports.append((names[block.args.index(op.input)], op.output.type.element, tuple(op.output.type.shape),
                          isinstance(op.input.type.element, IntegerType)))
    return ports


def _index_extent(df_module: ModuleOp) -> int:
    """The largest extent a gather or scatter indexes (8 when there is none)."""
    from fmlc.dialects import qt

    extents = [o.input.type.shape[o.axis.value % len(o.input.type.shape)] for o in df_module.walk()
               if isinstance(o, (qt.GatherOp, qt.ScatterOp))]
    return max(extents, default=8)


def random_inputs(df_module: ModuleOp, n: int = CHECK_SAMPLES, seed: int = 0) -> dict[str, np.ndarray]:
    """``n`` samples per input, uniform over the raw codes of its port type (so every value
    is exactly representable and within the model's quantiser range); an integer input
    (indices) uniform over −n..n−1 for the largest extent n it may index (negative indices
    included; out-of-range ones are defined in hardware but an error for ONNX)."""
    from fmlc.dialects.qt import BipolarType

    rng = np.random.default_rng(seed)
    out = {}
    for name, elem, shape, integer in input_ports(df_module):
        if integer:
            m = _index_extent(df_module)
            out[name] = rng.integers(-m, m, size=(n, *shape), dtype=np.int64)
            continue
        if isinstance(elem, BipolarType):
            out[name] = rng.choice(np.array([-1.0, 1.0], dtype=np.float32), size=(n, *shape))
            continue
        lo, hi = elem.min_raw, elem.max_raw
        raw = rng.integers(max(lo, -(2**62)), min(hi, 2**62) + 1, size=(n, *shape), dtype=np.int64)
        out[name] = np.ldexp(raw.astype(np.float64), -elem.frac_bits).astype(np.float32)
    return out


def run_csim(df_module: ModuleOp, inputs: dict[str, np.ndarray], name: str = "fmlc_csim") -> dict[str, np.ndarray]:
    """The emitted C++ compiled with g++ and run on ``inputs`` (floats in, floats out)."""
    from fmlc.codegen.hls import build_firmware
    from fmlc.runtime.csim import CsimModel
    from fmlc.runtime.qt_rules import from_float_raw, host_array, to_host

    project = build_firmware(df_module, name)
    func = main_function(df_module)
    block = func.regions[0].blocks[0]
    in_names, out_names = interface_names(df_module)
    by_name = dict(zip(in_names, block.args, strict=True))
    raws, count = [], None
    for port in project.inputs:
        arg = by_name[port.name]
        t = arg.type
        samples = as_samples(host_array(inputs[port.name], t.element), tuple(t.shape), port.name)
        count = len(samples)
        raws.append(from_float_raw(samples.reshape(count, *port.shape), port.element))
    outs = CsimModel(project).run_raw(raws)
    ret_types = [v.type for v in block.last_op.operands]  # type: ignore[union-attr]
    result = {}
    for port, raw, t, oname in zip(project.outputs, outs, ret_types, out_names, strict=True):
        values = to_host(raw, port.element, t.element)
        result[oname] = from_samples(values.reshape(count or 1, *t.shape))
    return result


@attrs.frozen
class Row:
    pair: tuple[str, str]
    output: str
    elements: int
    exact: float
    max_diff: float
    argmax: float | None

    @property
    def ok(self) -> bool:
        return self.exact == 1.0


def compare(a: np.ndarray, b: np.ndarray, pair: tuple[str, str], output: str) -> Row:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        if a.size != b.size:
            raise FmlcError(f"error: --check: '{output}' has shape {a.shape} at {pair[0]} and {b.shape} at {pair[1]}")
        b = b.reshape(a.shape)
    n = a.size
    equal = (a == b) | (np.isnan(a) & np.isnan(b))
    diff = float(np.max(np.abs(a - b), initial=0.0)) if n else 0.0
    argmax = None
    if a.ndim >= 1 and a.shape[-1] > 1:
        rows = a.reshape(-1, a.shape[-1]), b.reshape(-1, b.shape[-1])
        argmax = float(np.mean(np.argmax(rows[0], axis=1) == np.argmax(rows[1], axis=1)))
    return Row(pair, output, n, float(np.mean(equal)) if n else 1.0, diff, argmax)


def check_rows(results: dict[str, dict[str, np.ndarray]], golden: dict[str, np.ndarray] | None) -> list[Row]:
    levels = [lv for lv in ("onnx", "qt", "df", "csim") if lv in results]
    rows = []
    for a, b in zip(levels, levels[1:], strict=False):
        for out in results[a]:
            rows.append(compare(results[a][out], results[b][out], (a, b), out))
    if golden:
        for lv in (levels[0], levels[-1]) if len(levels) > 1 else levels:
            for out, y in golden.items():
                if out in results[lv]:
                    rows.append(compare(y, results[lv][out], ("y", lv), out))
    return rows


def format_rows(rows: list[Row]) -> str:
    head = ("levels", "output", "elements", "bit-exact", "max |diff|", "argmax")
    body = [(f"{r.pair[0]} vs {r.pair[1]}", r.output, str(r.elements), f"{100 * r.exact:.2f}%",
             f"{r.max_diff:.6g}", "-" if r.argmax is None else f"{100 * r.argmax:.2f}%") for r in rows]
    widths = [max(len(x) for x in col) for col in zip(head, *body, strict=True)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join([fmt.format(*head), fmt.format(*("-" * w for w in widths)), *(fmt.format(*b) for b in body)])


def failures(rows: list[Row]) -> list[Row]:
    return [r for r in rows if r.pair in ENFORCED and not r.ok]


def verdict(levels: list[str], rows: list[Row]) -> str:
    """The last line of ``--check``: the enforced pairs that differ, or that the enforced levels
    which ran agree, naming the reference (the first of them) when it is not qt."""
    bad = failures(rows)
    if bad:
        return f"FAIL: {', '.join(sorted({f'{r.pair[0]} vs {r.pair[1]} ({r.output})' for r in bad}))} differ"
    ran = [lv for lv in ("qt", "df", "csim") if lv in levels]
    names = ", ".join(ran[:-1]) + f" and {ran[-1]}"
    if ran[0] == "qt":
        return f"OK: {names} agree bit for bit"
    return f"OK: {names} agree bit for bit (reference: {ran[0]}, the level the model is at; qt did not run)"


def integer_outputs(module: ModuleOp) -> list[bool]:
    """Whether each graph output is an integer tensor (a label)."""
    ret = main_function(module).regions[0].blocks[0].last_op
    return [isinstance(v.type.element, IntegerType) for v in ret.operands]  # type: ignore[union-attr]


def sample_count(inputs: dict[str, np.ndarray]) -> int:
    first = next(iter(inputs.values()), None)
    return int(first.shape[0]) if first is not None and first.ndim else 1


def output_golden(path: str | None, out_names: list[str], integer: list[bool] | None = None
                  ) -> dict[str, np.ndarray] | None:
    """The expected outputs in an ``.npz``: ``y`` for the lone (float) output and ``y_label``
    for the lone integer one (a classifier's label), as the model zoo writes them; without
    a ``y``, by output name."""
    if not path:
        return None
    with np.load(path, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    found = {} if "y" in arrays else {n: arrays[n] for n in out_names if n in arrays}
    if not found:
        flags = integer or [False] * len(out_names)
        floats = [n for n, i in zip(out_names, flags, strict=True) if not i]
        ints = [n for n, i in zip(out_names, flags, strict=True) if i]
        for key, names in (("y", floats if integer else out_names), ("y_label", ints)):
            if len(names) == 1 and key in arrays:
                found[names[0]] = arrays[key]
    return found or None
