"""``--report``: the hardware a ``df`` module asks for, per process, and its critical path.

One row per ``df.process``: the anchor op (``dense 16x64 +relu +cast``), the schedule
(:func:`fmlc.dialects.df.schedule_kind`), the knobs (``reuse``, ``strategy``,
``storage``, ``ii``, ``latency``) and an arithmetic count.  Counting rules:

* Counts are per output row -- one output pixel of a conv (one kernel application),
  one output row of a dense -- the unit a process computes per beat; a layer reuses that
  hardware for every row.
* A weight of 0 costs nothing; a weight of ±2^k (±1 included, and every bipolar weight)
  is a shift or a wire, not a multiplier (:func:`fmlc.passes.hw_cost.weight_stats`).
* A multiplication whose two operand element widths are both >= 10 bits maps to a DSP48
  (its 25x18 multiplier); a narrower one is built from LUTs.
* Adders: per output, (non-zero terms + a non-zero bias) − 1; ``qt.add``/``qt.sub`` one per
  element, ``qt.avg_pool`` window − 1 per element.  ``qt.mul``/``qt.leaky_relu`` multiply
  per element (by a constant: the rules above), ``qt.softmax`` once per element (exp ×
  1/sum).  Comparisons, tables and casts count nothing.
* A MAC process with reuse R uses each multiplier and adder R times per beat, so it
  instantiates ceil(multiplications / R) multipliers and ceil(adders / R) adders.
* ``qt.scatter`` add/mul: with constant indices, (updates landing − 1) adders or
  multipliers per destination element (a balanced tree); with runtime indices one per
  update and element (the accumulate chain).  Gathers are wires or multiplexers: nothing.
* Weight bits: every constant in the process body (weights, biases, tables), stored
  where ``storage`` says; gather/scatter indices and scatter destinations of a constant
  graph are wiring and literals, not stored.

The critical path is the longest path through the graph of ports, forks and processes
with the processes' ``latency`` (ports and forks 0); the interval is the largest
``beats · ii`` of a process (a new input every that many cycles).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import networkx as nx
import numpy as np

from fmlc.compiler.attributes import DenseElementsAttr, TensorType
from fmlc.compiler.ir import Operation, OpResult, Value
from fmlc.dialects import df, qt
from fmlc.passes import hw_cost

DSP_MIN_WIDTH = 10  # both operands at least this wide: a DSP48


@dataclasses.dataclass(frozen=True)
class ProcessRow:
    """One process.  ``multiplications`` is per beat (zeros and shifts removed, before
    reuse); ``dsp``, ``lut`` and ``adders`` are the instantiated units."""

    name: str
    kind: str
    schedule: str
    reuse: int
    strategy: str
    multiplications: int
    dsp: int
    lut: int
    adders: int
    weight_bits: int
    storage: str
    ii: int
    latency: int
    beats: int


@dataclasses.dataclass(frozen=True)
class Report:
    processes: tuple[ProcessRow, ...]
    critical_path: tuple[str, ...]  # process names, in order
    critical_latency: int  # cycles
    interval: int  # cycles between inputs
    bottleneck: str  # the process setting the interval
    approximations: tuple[str, ...] = ()  # what rounds (tables, tree leaves), with its bound

    @property
    def dsp(self) -> int:
        return sum(p.dsp for p in self.processes)

    @property
    def lut(self) -> int:
        return sum(p.lut for p in self.processes)

    @property
    def adders(self) -> int:
        return sum(p.adders for p in self.processes)

    @property
    def weight_bits(self) -> int:
        return sum(p.weight_bits for p in self.processes)


# ----------------------------------------------------------------------------- arithmetic


@dataclasses.dataclass(frozen=True)
class _Arith:
    mults: int = 0  # real multiplications per output row
    dsp: bool = False
    adders: int = 0


def _const(v: Value) -> np.ndarray | None:
    raw = qt.const_value(v)
    return None if raw is None else np.asarray(raw).astype(object)


def _width(v: Value) -> int:
    return int(v.type.element.storage_bits)


def _rows(t: TensorType) -> int:
    return max(math.prod(t.shape[:-1]), 1) if t.shape else 1


def _per_row(total: int, out: TensorType) -> int:
    return math.ceil(total / _rows(out))


def _is_mult(m: Any) -> bool:
    """Whether a constant factor needs a multiplier (not 0, not ±2^k)."""
    m = abs(int(m))
    return m != 0 and m & (m - 1) != 0


def _mac(op: Operation) -> _Arith:
    nonzero, shifts, _ = hw_cost.weight_stats(op)
    w = _const(op.operands[1])
    oc = int(op.operands[1].type.shape[-1])
    if w is None or isinstance(op, qt.BipolarDenseOp):
        terms = [hw_cost.macs_per_beat(op) // oc] * oc
    else:
        terms = [int(np.count_nonzero(col)) for col in w.reshape(-1, oc).T]
    bias = op.operands[2] if len(op.operands) > 2 else None
    b = _const(bias) if bias is not None else None
    has_bias = [0] * oc if bias is None else [1] * oc if b is None else [int(x != 0) for x in b]
    adders = sum(max(t + h - 1, 0) for t, h in zip(terms, has_bias, strict=True))
    dsp = min(_width(op.operands[0]), _width(op.operands[1])) >= DSP_MIN_WIDTH
    return _Arith(nonzero - shifts, dsp, adders)


def _elementwise_mul(op: Operation, a: Value, b: Value) -> _Arith:
    out = op.results[0].type
    total = out.num_elements
    for x in (a, b):
        c = _const(x)
        if c is not None:
            total = sum(map(_is_mult, np.broadcast_to(c, out.shape).ravel()))
    return _Arith(_per_row(total, out), min(_width(a), _width(b)) >= DSP_MIN_WIDTH)


def _arith(op: Operation) -> _Arith:
    out = op.results[0].type if op.results else None
    if isinstance(op, hw_cost.MAC_OPS):
        return _mac(op)
    if isinstance(op, qt.MulOp):
        return _elementwise_mul(op, op.lhs, op.rhs)
    if isinstance(op, qt.LeakyReluOp):
        return _elementwise_mul(op, op.input, op.alpha)
    if isinstance(op, qt.AddOp):  # and qt.sub
        return _Arith(adders=_per_row(out.num_elements, out))
    if isinstance(op, qt.AvgPoolOp):
        k = math.prod(a.value for a in op.kernel)
        return _Arith(mults=_per_row(out.num_elements * _is_mult(k), out),
                      adders=_per_row(out.num_elements * (k - 1), out))
    if isinstance(op, qt.ScatterOp):
        return _scatter(op)
    if isinstance(op, qt.TreeEnsembleOp):
        return _Arith(adders=_per_row(sum(max(n - 1, 0) for n in tree_terms(op)), out))
    if isinstance(op, qt.SoftmaxOp):
        n = op.input.type.shape[op.axis.value]
        wide = min(op.exp_table.type.element.storage_bits, op.inv_table.type.element.storage_bits)
        return _Arith(_per_row(out.num_elements, out), wide >= DSP_MIN_WIDTH,
                      _per_row(out.num_elements // n * (n - 1), out))
    return _Arith()


def tree_terms(op: qt.TreeEnsembleOp) -> list[int]:
    """Per target, the terms of its sum: the trees with a non-zero leaf for it, and a
    non-zero base value (every tree for min/max)."""
    from fmlc.runtime import fixed as fx
    from fmlc.runtime import trees

    ens = trees.of_op(op)
    leaf = np.asarray(fx.as_raw(op.leaf_values.data, op.leaf_values.type.element, check=False))
    base = np.asarray(fx.as_raw(op.base_values.data, op.base_values.type.element, check=False))
    counts = ens.terms(leaf, op.aggregate.value).sum(axis=0)
    return [int(counts[t]) + int(base[t] != 0) for t in range(ens.n_targets)]


def _scatter(op: qt.ScatterOp) -> _Arith:
    """Constant indices: a tree of (terms − 1) adders or multipliers per destination element;
    runtime indices: one per update and element (the accumulate chain)."""
    out = op.output.type
    reduce = op.reduce.value
    if reduce not in ("add", "mul"):
        return _Arith()
    shape = op.input.type.shape
    axis = op.axis.value % len(shape)
    values = qt.const_indices(op.indices)
    per_column = math.prod(shape) // shape[axis]
    if values is None:
        units = op.indices.type.shape[0] * per_column
    else:
        counts = qt.destination_counts(values, shape[axis])
        units = sum(max(int(c) - 1, 0) for c in counts) * per_column
    if reduce == "add":
        return _Arith(adders=_per_row(units, out))
    return _Arith(_per_row(units, out), min(_width(op.input), _width(op.updates)) >= DSP_MIN_WIDTH)


# ----------------------------------------------------------------------------- rows


def _short(op: Operation) -> str:
    return op.name.removeprefix("qt.")


def kind(proc: df.ProcessOp) -> str:
    """``dense 16x64``, ``conv 3x3 1→4``, ``max_pool 2x2``, ``relu``; fused ops as ``+relu``."""
    ops = df.compute_ops(proc)
    if not ops:
        return "copy"
    a = ops[0]
    text = _short(a)
    if isinstance(a, (qt.DenseOp, qt.BipolarDenseOp)):
        text += " " + "x".join(map(str, a.operands[1].type.shape))
    elif isinstance(a, qt.ConvOp):
        w = a.weight.type.shape
        text += f" {'x'.join(map(str, w[:-2]))} {a.input.type.shape[-1]}→{w[-1]}"
        text += f" g{a.groups.value}" if a.groups.value > 1 else ""
    elif isinstance(a, (qt.MaxPoolOp, qt.AvgPoolOp)):
        text += " " + "x".join(str(k.value) for k in a.kernel)
    elif isinstance(a, (qt.GatherOp, qt.ScatterOp)):
        text += _indexed(a)
    elif isinstance(a, qt.TreeEnsembleOp):
        text += _trees(a)
    return " ".join([text, *(f"+{_short(op)}" for op in ops[1:])])


def _indexed(op: qt.GatherOp | qt.ScatterOp) -> str:
    """`` 16←8 wiring`` / `` add 16→8 tree≤4`` / `` add 16→8 loop`` (runtime indices)."""
    n = op.input.type.shape[op.axis.value % len(op.input.type.shape)]
    e = op.indices.type.num_elements
    const = qt.const_indices(op.indices) is not None
    if isinstance(op, qt.GatherOp):
        return f" {e}←{n} {'wiring' if const else 'mux'}"
    how = f"tree≤{hw_cost.scatter_terms(op)}" if const else "loop"
    return f" {op.reduce.value} {e}→{n} {how}"


def _trees(op: qt.TreeEnsembleOp) -> str:
    """`` 30 trees d≤3 84 cmp →3``: trees, deepest path, comparators, targets."""
    from fmlc.runtime import trees

    ens = trees.of_op(op)
    branches = int(np.sum(ens.mode != trees.LEAF))
    return f" {ens.n_trees} trees d≤{ens.depth()} {branches} cmp →{ens.n_targets}"


def process_name(proc: df.ProcessOp) -> str:
    """The process's layer name (its ``layer`` property)."""
    return str(proc.layer.value)


def _wiring(op: Operation) -> bool:
    """A constant that only gather/scatter indices and scatter destinations use: wires and literals."""
    if not op.results:
        return False
    v = op.results[0]
    return all(v is u.indices or isinstance(u, qt.ScatterOp) and v is u.input
               if isinstance(u, (qt.GatherOp, qt.ScatterOp)) else False for u in v.users)


def _weight_bits(proc: df.ProcessOp) -> int:
    return sum(attr.type.num_elements * attr.type.element.storage_bits
               for op in proc.block.ops if not _wiring(op)
               for attr in op.properties.values() if isinstance(attr, DenseElementsAttr))


def process_row(proc: df.ProcessOp) -> ProcessRow:
    reuse = proc.reuse.value
    mults = dsp = lut = adders = 0
    for op in df.compute_ops(proc):
        a = _arith(op)
        r = reuse if isinstance(op, hw_cost.MAC_OPS) else 1
        mults += a.mults
        units = math.ceil(a.mults / r)
        dsp, lut = (dsp + units, lut) if a.dsp else (dsp, lut + units)
        adders += math.ceil(a.adders / r)
    beats = max((s.type.beats for s in [*proc.inputs, *proc.outputs]), default=1)
    return ProcessRow(process_name(proc), kind(proc), df.schedule_kind(proc), reuse, proc.strategy.value, mults,
                      dsp, lut, adders, _weight_bits(proc), proc.storage.value, proc.ii.value,
                      proc.latency.value, beats)


# ----------------------------------------------------------------------------- the graph

_NODES = (df.ProcessOp, df.ForkOp, df.FromFloatOp, df.ToFloatOp)


def graph(module: Operation) -> nx.DiGraph:
    """Ports, forks and processes (nodes keyed by ``id(op)``, with ``op`` and ``latency``);
    an edge per stream."""
    g = nx.DiGraph()
    ops = [op for op in module.walk() if isinstance(op, _NODES)]
    for op in ops:
        g.add_node(id(op), op=op, latency=op.latency.value if isinstance(op, df.ProcessOp) else 0)
    for op in ops:
        for v in op.operands:
            if isinstance(v, OpResult) and id(v.op) in g:
                g.add_edge(id(v.op), id(op))
    return g


def critical_path(g: nx.DiGraph) -> tuple[list[Operation], int]:
    """The nodes of the path with the largest latency sum, and that sum."""
    h = nx.DiGraph()
    source = object()
    h.add_node(source)
    for n, d in g.nodes(data=True):
        h.add_node(n)
        if g.in_degree(n) == 0:
            h.add_edge(source, n, w=d["latency"])
    h.add_edges_from((u, v, {"w": g.nodes[v]["latency"]}) for u, v in g.edges)
    path = nx.dag_longest_path(h, weight="w", default_weight=0)
    length = sum(g.nodes[n]["latency"] for n in path[1:])
    return [g.nodes[n]["op"] for n in path[1:]], length


def report(module: Operation) -> Report:
    """The report of every ``df.process`` under ``module`` (a df-level module or function)."""
    procs = [op for op in module.walk() if isinstance(op, df.ProcessOp)]
    rows = tuple(process_row(p) for p in procs)
    path, length = critical_path(graph(module))
    slowest = max(rows, key=lambda r: r.beats * r.ii, default=None)
    return Report(rows, tuple(process_name(op) for op in path if isinstance(op, df.ProcessOp)), length,
                  slowest.beats * slowest.ii if slowest else 0, slowest.name if slowest else "",
                  tuple(note for p in procs for op in df.compute_ops(p) if (note := approximation(p, op))))


def approximation(proc: df.ProcessOp, op: Operation) -> str:
    """What ``op`` rounds and by how much at most (its ``error_bound``), or ""."""
    bound = op.attributes.get("error_bound")
    if bound is None:
        return ""
    name = process_name(proc)
    if isinstance(op, qt.TreeEnsembleOp):
        lt = op.leaf_values.type.element
        leaf = op.attributes.get("leaf_error")
        return (f"{name}: leaf values rounded to {lt.cpp} (each within {leaf.value:.3g}); "  # type: ignore
                f"a score within {bound.value:.3g} of the float trees; every comparison exact")  # type: ignore
    what = op.function.value if isinstance(op, qt.LutOp) and op.function is not None else _short(op)
    return f"{name}: {what} table, output within {bound.value:.3g}"  # type: ignore[attr-defined]


# ----------------------------------------------------------------------------- output

_COLUMNS = (("process", "name"), ("kind", "kind"), ("schedule", "schedule"), ("reuse", "reuse"),
            ("strategy", "strategy"), ("mult/beat", "multiplications"), ("DSP", "dsp"), ("LUT mult", "lut"),
            ("adders", "adders"), ("weight bits", "weight_bits"), ("storage", "storage"), ("II", "ii"),
            ("latency", "latency"))


def format_report(r: Report) -> str:
    """An aligned table (one row per process, then totals), the interval and the critical path."""
    rows = [[str(getattr(p, key)) for _, key in _COLUMNS] for p in r.processes]
    total = {"name": "total", "dsp": r.dsp, "lut": r.lut, "adders": r.adders, "weight_bits": r.weight_bits,
             "multiplications": sum(p.multiplications for p in r.processes)}
    table = [[h for h, _ in _COLUMNS], *rows, [str(total.get(key, "")) for _, key in _COLUMNS]]
    widths = [max(len(row[i]) for row in table) for i in range(len(_COLUMNS))]
    numeric = [isinstance(getattr(r.processes[0], key), int) if r.processes else False for _, key in _COLUMNS]

    def line(cells: list[str]) -> str:
        return "  ".join(c.rjust(w) if num else c.ljust(w)
                         for c, w, num in zip(cells, widths, numeric, strict=True)).rstrip()

    rule = "-" * len(line(table[0]))
    out = [line(table[0]), rule, *map(line, table[1:-1]), rule, line(table[-1]), ""]
    out.append(f"interval: {_cycles(r.interval)} ({r.bottleneck})" if r.bottleneck else "interval: -")
    out.append(f"critical path: {_cycles(r.critical_latency)}: {' → '.join(r.critical_path) or '-'}")
    if r.approximations:
        out += ["approximations:", *(f"  {a}" for a in r.approximations)]
    return "\n".join(out) + "\n"


def _cycles(n: int) -> str:
    return f"{n} cycle{'' if n == 1 else 's'}"


def report_json(r: Report) -> dict[str, Any]:
    """The report as JSON-serialisable data."""
    return {
        "processes": [dataclasses.asdict(p) for p in r.processes],
        "totals": {"dsp": r.dsp, "lut": r.lut, "adders": r.adders, "weight_bits": r.weight_bits},
        "interval": {"cycles": r.interval, "process": r.bottleneck},
        "critical_path": {"latency": r.critical_latency, "processes": list(r.critical_path)},
        "approximations": list(r.approximations),
    }
