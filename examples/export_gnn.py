"""Export torch GNN test models to ONNX, with onnxruntime goldens, so that CI never needs torch.

This script is run by hand, in its own virtual environment; CI only reads the files it writes::

    python3 -m venv /tmp/torchvenv
    /tmp/torchvenv/bin/pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu
    /tmp/torchvenv/bin/pip install onnx==1.19.1 onnxruntime==1.31.1 onnxscript numpy
    /tmp/torchvenv/bin/python examples/export_gnn.py --out examples/ --idioms tests/passes/data/gnn_idioms/

It writes two things.

``OUT/gnn_edge_index.{onnx,npz}``
    An interaction network on one graph (no batch dimension): 8 nodes with 3 features each and 16
    directed edges, inputs ``x: float32[8,3]`` and ``edge_index: int64[2,16]`` (a graph input, not a
    constant), output ``edge_prob: float32[16]``.  Two rounds of message passing, each gathering the
    source and destination node features (``x[edge_index[0]]`` and ``x.index_select(0, edge_index[1])``),
    an edge MLP on their concatenation, a sum over the edges arriving at each node (``scatter_add_`` with
    an expanded index in round 1, ``index_add_`` in round 2) and a node MLP on [node, aggregate]; then an
    edge classifier, ``sigmoid``, per edge.  Synthetic task: an edge is positive when its two endpoints'
    feature vectors are closer than ``RADIUS`` (Euclidean).  Node features are uniform in [-1, 1); edges
    are drawn uniformly and independently, so self loops (always positive) and repeated edges occur, and
    some nodes receive no edge.  The golden ``npz`` holds 256 such graphs, a different one per sample:
    ``x`` float32[256,8,3], ``edge_index`` int64[256,2,16], ``y`` float32[256,16] (onnxruntime, one
    sample at a time) and ``label`` float32[256,16] (the task's 0/1 target).

``IDIOMS/<idiom>.{onnx,npz}`` and ``IDIOMS/IDIOMS.md``
    One tiny weightless model per torch gather/scatter idiom that GNN code uses (5 nodes, 3 features,
    7 edges), each with a golden ``npz`` of 8 samples (keys: the graph input names and ``y``, from
    onnxruntime), and ``IDIOMS.md``: the exact ONNX node sequence each idiom exports to.  The idioms'
    float inputs are multiples of 1/8 in [-2, 2), so gathers, sums, maxima and minima of them are exact
    in fixed point.  An idiom that fails to export, or whose output shape depends on the data, is
    listed in ``IDIOMS.md`` with the reason, and has no golden.

Everything is seeded and single-threaded: two runs write byte-identical files (about 30 s on 2 CPU
cores).  Recorded run (torch 2.13.0, onnxruntime 1.31.1): accuracy 0.885 on 1024 new graphs, 0.875 on
the golden graphs, max |onnxruntime - torch| = 1.2e-7; the "gnn_edge_index" section at the end of
``IDIOMS.md`` has the figures of the last run.
"""

from __future__ import annotations

import argparse
import contextlib
import inspect
import io
import logging
import re
import textwrap
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch
import torch.nn.functional as F
from onnx import numpy_helper
from torch import Tensor, nn

OPSET = 18

# ------------------------------------------------------------------------------------------ gnn_edge_index
N_NODES, N_FEATURES, N_EDGES, HIDDEN = 8, 3, 16, 8
RADIUS = 1.2  # an edge is positive when |x[src] - x[dst]| < RADIUS: about half the edges of a random graph
TRAIN_STEPS, TRAIN_GRAPHS, LEARNING_RATE = 200, 128, 0.03  # Adam, learning rate cosine-annealed to 0
N_GOLDEN = 256


class InteractionNetwork(nn.Module):
    """Two rounds of message passing on one graph, then a per-edge classifier.

    ``forward(x: float32[N, F], edge_index: int64[2, E]) -> float32[E]``: edge ``e`` goes from node
    ``edge_index[0, e]`` (source) to node ``edge_index[1, e]`` (destination).  Any N and E work, so
    training runs on a disjoint union of many graphs at once.
    """

    def __init__(self, features: int = N_FEATURES, hidden: int = HIDDEN) -> None:
        super().__init__()
        self.hidden = hidden
        self.edge1 = nn.Linear(2 * features, hidden)
        self.node1 = nn.Linear(features + hidden, hidden)
        self.edge2 = nn.Linear(2 * hidden, hidden)
        self.node2 = nn.Linear(2 * hidden, hidden)
        self.classify_hidden = nn.Linear(2 * hidden, hidden)
        self.classify_out = nn.Linear(hidden, 1)

    def logits(self, x: Tensor, edge_index: Tensor) -> Tensor:
        n, h = x.shape[0], self.hidden
        dst = edge_index[1]
        # Round 1: gather both endpoints, edge MLP, sum into the destinations with scatter_add_.
        msg = F.relu(self.edge1(torch.cat([x[edge_index[0]], x.index_select(0, edge_index[1])], dim=1)))
        agg = torch.zeros(n, h).scatter_add_(0, dst.unsqueeze(1).expand(-1, h), msg)
        node = F.relu(self.node1(torch.cat([x, agg], dim=1)))
        # Round 2: the same with index_add_, and a residual connection.
        msg = F.relu(self.edge2(torch.cat([node[edge_index[0]], node.index_select(0, dst)], dim=1)))
        agg = torch.zeros(n, h).index_add_(0, dst, msg)
        node = node + F.relu(self.node2(torch.cat([node, agg], dim=1)))
        # Edge classifier on [source, destination].
        edge = F.relu(self.classify_hidden(torch.cat([node[edge_index[0]], node.index_select(0, dst)], dim=1)))
        return self.classify_out(edge).squeeze(1)

    def forward(self, x: Tensor, edge_index: Tensor) -> Tensor:
        return torch.sigmoid(self.logits(x, edge_index))


def random_graphs(rng: np.random.Generator, count: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``count`` random graphs: x float32[count, N, F], edge_index int64[count, 2, E], label float32[count, E].

    Node features are uniform in [-1, 1).  Both endpoints of every edge are uniform in [0, N), drawn
    independently: self loops and repeated edges are allowed.
    """
    x = rng.uniform(-1.0, 1.0, size=(count, N_NODES, N_FEATURES)).astype(np.float32)
    edge_index = rng.integers(0, N_NODES, size=(count, 2, N_EDGES), dtype=np.int64)
    b = np.arange(count)[:, None]
    dist = np.linalg.norm(x[b, edge_index[:, 0]] - x[b, edge_index[:, 1]], axis=-1)
    return x, edge_index, (dist < RADIUS).astype(np.float32)


def disjoint_union(x: np.ndarray, edge_index: np.ndarray) -> tuple[Tensor, Tensor]:
    """Many graphs as one: nodes stacked, each graph's edge indices offset by its first node."""
    count, n, _ = x.shape
    offset = (np.arange(count) * n)[:, None, None]
    edges = (edge_index + offset).transpose(1, 0, 2).reshape(2, -1)
    return torch.from_numpy(x.reshape(count * n, -1)), torch.from_numpy(edges)


def accuracy(prob: np.ndarray, label: np.ndarray) -> float:
    return float(((prob > 0.5) == (label > 0.5)).mean())


def train(rng: np.random.Generator) -> tuple[InteractionNetwork, float]:
    """Adam on fresh random graphs every step; returns the model and its accuracy on 1024 new graphs."""
    model = InteractionNetwork()
    optimiser = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, TRAIN_STEPS)
    loss_fn = nn.BCEWithLogitsLoss()
    for step in range(TRAIN_STEPS):
        x, edge_index, label = random_graphs(rng, TRAIN_GRAPHS)
        xt, et = disjoint_union(x, edge_index)
        loss = loss_fn(model.logits(xt, et), torch.from_numpy(label.reshape(-1)))
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        schedule.step()
        if step % 50 == 0 or step == TRAIN_STEPS - 1:
            print(f"  step {step:3d}  loss {loss.item():.4f}")
    model.eval()
    x, edge_index, label = random_graphs(rng, 1024)
    with torch.no_grad():
        prob = model(*disjoint_union(x, edge_index)).numpy()
    return model, accuracy(prob, label.reshape(-1))


# ------------------------------------------------------------------------------------------ export helpers
def quiet_export(
    model: nn.Module, args: tuple[Tensor, ...], path: Path, input_names: list[str], output_name: str
) -> None:
    """``torch.onnx.export(..., dynamo=True, opset_version=18)``, its progress chatter captured."""
    chatter = io.StringIO()
    with contextlib.redirect_stdout(chatter), contextlib.redirect_stderr(chatter), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model, args, str(path), dynamo=True, opset_version=OPSET,
            input_names=input_names, output_names=[output_name], external_data=False, verbose=False,
        )


def scrub(path: Path) -> onnx.ModelProto:
    """Drop the ``pkg.torch.onnx.stack_trace`` node metadata (it holds local paths), check, save again."""
    model = onnx.load(str(path))

    def scrub_graph(graph: onnx.GraphProto) -> None:
        for node in graph.node:
            keep = [p for p in node.metadata_props if p.key != "pkg.torch.onnx.stack_trace"]
            del node.metadata_props[:]
            node.metadata_props.extend(keep)
            for attr in node.attribute:
                if attr.type == onnx.AttributeProto.GRAPH:
                    scrub_graph(attr.g)
                for g in attr.graphs:
                    scrub_graph(g)

    scrub_graph(model.graph)
    for function in model.functions:
        for node in function.node:
            keep = [p for p in node.metadata_props if p.key != "pkg.torch.onnx.stack_trace"]
            del node.metadata_props[:]
            node.metadata_props.extend(keep)
    assert not model.functions, f"{path}: model-local functions"
    onnx.checker.check_model(model, full_check=True)
    onnx.save(model, str(path))
    text = path.read_bytes()
    for local in (b"/tmp/", b"/home/", b"/root/", b"/work/", b"File \""):
        assert local not in text, f"{path} still mentions {local!r}"
    return model


def session(path: Path) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def run_each(sess: ort.InferenceSession, inputs: dict[str, np.ndarray]) -> list[np.ndarray]:
    """onnxruntime on one sample at a time (axis 0 of every array)."""
    count = len(next(iter(inputs.values())))
    return [sess.run(None, {k: v[i] for k, v in inputs.items()})[0] for i in range(count)]


def export_gnn(out: Path) -> dict[str, object]:
    """Train, export and write ``gnn_edge_index.{onnx,npz}`` under ``out``; returns what was measured."""
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    print("gnn_edge_index: training")
    model, held_out_acc = train(rng)
    x, edge_index, label = random_graphs(np.random.default_rng(1), N_GOLDEN)

    path = out / "gnn_edge_index.onnx"
    example = (torch.from_numpy(x[0]), torch.from_numpy(edge_index[0]))
    quiet_export(model, example, path, ["x", "edge_index"], "edge_prob")
    onnx_model = scrub(path)
    y = np.stack(run_each(session(path), {"x": x, "edge_index": edge_index})).astype(np.float32)
    with torch.no_grad():
        ref = np.stack([model(torch.from_numpy(a), torch.from_numpy(e)).numpy()
                        for a, e in zip(x, edge_index, strict=True)])
    err = float(np.abs(y - ref).max())
    np.savez_compressed(out / "gnn_edge_index.npz", x=x, edge_index=edge_index, y=y, label=label)
    result = {
        "held_out_accuracy": held_out_acc,
        "golden_accuracy": accuracy(y, label),
        "max_abs_ort_minus_torch": err,
        "model": onnx_model,
    }
    print(f"gnn_edge_index: accuracy {held_out_acc:.3f} (1024 new graphs),"
          f" {result['golden_accuracy']:.3f} (golden set); max |onnxruntime - torch| = {err:.3g}")
    return result


# ------------------------------------------------------------------------------------------ idioms
N, FEAT, E = 5, 3, 7
CONST_INDEX = torch.tensor([1, 0, 4, 1, 2, 4, 4])  # node 3 receives nothing; 1 and 4 receive several
CONST_INDEX_2D = torch.tensor([[1, 0, 4], [0, 0, 2], [4, 1, 1], [3, 2, 0], [2, 4, 3], [1, 1, 1], [0, 3, 4]])

Sampler = Callable[[np.random.Generator], np.ndarray]


def feat(*shape: int) -> Sampler:
    """float32 multiples of 1/8 in [-2, 2): exact in fixed point with 3 fractional bits."""
    return lambda rng: (rng.integers(-16, 16, size=shape) / 8).astype(np.float32)


def real(*shape: int) -> Sampler:
    """float32 standard normal (no ties: for sorting idioms)."""
    return lambda rng: rng.standard_normal(size=shape).astype(np.float32)


def index(high: int, *shape: int) -> Sampler:
    """int64 uniform in [0, high): repeats and gaps."""
    return lambda rng: rng.integers(0, high, size=shape, dtype=np.int64)


def unique_index(high: int, count: int) -> Sampler:
    """int64, ``count`` distinct values in [0, high): for assignments, where a repeat is undefined in ONNX."""
    return lambda rng: rng.permutation(high)[:count].astype(np.int64)


@dataclass
class Idiom:
    name: str
    fn: Callable[..., Tensor]
    inputs: dict[str, Sampler]
    consts: dict[str, Tensor] = field(default_factory=dict)
    note: str = ""


class IdiomModule(nn.Module):
    """Calls ``fn(*graph_inputs, **constant_buffers)``."""

    def __init__(self, fn: Callable[..., Tensor], consts: dict[str, Tensor]) -> None:
        super().__init__()
        self.fn = fn
        self.const_names = list(consts)
        for name, value in consts.items():
            self.register_buffer(name, value)

    def forward(self, *inputs: Tensor) -> Tensor:
        return self.fn(*inputs, **{name: getattr(self, name) for name in self.const_names})


# ---- gathers: rows of x picked by an index
def index_select_const(x: Tensor, *, idx: Tensor) -> Tensor:
    return x.index_select(0, idx)


def index_select_dyn(x: Tensor, idx: Tensor) -> Tensor:
    return x.index_select(0, idx)


def getitem_const(x: Tensor, *, idx: Tensor) -> Tensor:
    return x[idx]


def getitem_idx_dyn(x: Tensor, idx: Tensor) -> Tensor:
    return x[idx]


def getitem_dyn(x: Tensor, edge_index: Tensor) -> Tensor:
    return x[edge_index[0]]


def getitem_2d_dyn(x: Tensor, edge_index: Tensor) -> Tensor:
    return x[edge_index]  # [2, E, F]: both endpoints at once


def gather_elements_const(x: Tensor, *, idx: Tensor) -> Tensor:
    return torch.gather(x, 0, idx)


def gather_elements_dyn(x: Tensor, idx: Tensor) -> Tensor:
    return torch.gather(x, 0, idx)


def gather_expand_dyn(x: Tensor, idx: Tensor) -> Tensor:
    return torch.gather(x, 0, idx.unsqueeze(1).expand(-1, x.shape[1]))


# ---- scatters: rows of src summed / reduced / written into N rows
def scatter_add_const(src: Tensor, *, idx: Tensor) -> Tensor:
    return torch.zeros(N, src.shape[1]).scatter_add_(0, idx.unsqueeze(1).expand(-1, src.shape[1]), src)


def scatter_add_dyn(src: Tensor, idx: Tensor) -> Tensor:
    return torch.zeros(N, src.shape[1]).scatter_add_(0, idx.unsqueeze(1).expand(-1, src.shape[1]), src)


def scatter_add_base_dyn(base: Tensor, src: Tensor, idx: Tensor) -> Tensor:
    return torch.scatter_add(base, 0, idx.unsqueeze(1).expand(-1, src.shape[1]), src)


def scatter_add_pyg(src: Tensor, idx: Tensor) -> Tensor:
    """The form torch_geometric.utils.scatter uses for reduce="sum"."""
    return src.new_zeros(N, src.shape[1]).scatter_add_(0, idx.view(-1, 1).expand_as(src), src)


def index_add_const(src: Tensor, *, idx: Tensor) -> Tensor:
    return torch.zeros(N, src.shape[1]).index_add_(0, idx, src)


def index_add_dyn(src: Tensor, idx: Tensor) -> Tensor:
    return torch.zeros(N, src.shape[1]).index_add_(0, idx, src)


def index_put_accumulate_const(src: Tensor, *, idx: Tensor) -> Tensor:
    return torch.zeros(N, src.shape[1]).index_put_((idx,), src, accumulate=True)


def index_put_accumulate_dyn(src: Tensor, idx: Tensor) -> Tensor:
    return torch.zeros(N, src.shape[1]).index_put_((idx,), src, accumulate=True)


def index_put_assign_dyn(base: Tensor, src: Tensor, idx: Tensor) -> Tensor:
    out = base.clone()
    out[idx] = src  # idx distinct
    return out


def scatter_assign_dyn(base: Tensor, src: Tensor, idx: Tensor) -> Tensor:
    return base.scatter(0, idx.unsqueeze(1).expand(-1, src.shape[1]), src)  # idx distinct


def _scatter_reduce(src: Tensor, idx: Tensor, reduce: str, include_self: bool) -> Tensor:
    h = src.shape[1]
    return torch.zeros(N, h).scatter_reduce(0, idx.unsqueeze(1).expand(-1, h), src, reduce, include_self=include_self)


def scatter_reduce_sum(src: Tensor, idx: Tensor) -> Tensor:
    return _scatter_reduce(src, idx, "sum", include_self=True)


def scatter_reduce_amax(src: Tensor, idx: Tensor) -> Tensor:
    return _scatter_reduce(src, idx, "amax", include_self=False)


def scatter_reduce_amax_self(src: Tensor, idx: Tensor) -> Tensor:
    return _scatter_reduce(src, idx, "amax", include_self=True)


def scatter_reduce_amin(src: Tensor, idx: Tensor) -> Tensor:
    return _scatter_reduce(src, idx, "amin", include_self=False)


def scatter_reduce_amin_self(src: Tensor, idx: Tensor) -> Tensor:
    return _scatter_reduce(src, idx, "amin", include_self=True)


def scatter_reduce_prod(src: Tensor, idx: Tensor) -> Tensor:
    return _scatter_reduce(src, idx, "prod", include_self=False)


def scatter_reduce_prod_self(src: Tensor, idx: Tensor) -> Tensor:
    return _scatter_reduce(src, idx, "prod", include_self=True)


def scatter_reduce_mean(src: Tensor, idx: Tensor) -> Tensor:
    return _scatter_reduce(src, idx, "mean", include_self=False)


def scatter_reduce_mean_self(src: Tensor, idx: Tensor) -> Tensor:
    return _scatter_reduce(src, idx, "mean", include_self=True)


def index_reduce_amax(src: Tensor, idx: Tensor) -> Tensor:
    return torch.zeros(N, src.shape[1]).index_reduce_(0, idx, src, "amax", include_self=False)


# ---- GNN helpers built from the above
def degree_scatter_add(idx: Tensor) -> Tensor:
    return torch.zeros(N).scatter_add_(0, idx, torch.ones(idx.shape[0]))


def degree_bincount(idx: Tensor) -> Tensor:
    return torch.bincount(idx, minlength=N).float()


def mean_aggr_clamp(src: Tensor, idx: Tensor) -> Tensor:
    total = torch.zeros(N, src.shape[1]).index_add_(0, idx, src)
    degree = torch.zeros(N).index_add_(0, idx, torch.ones(idx.shape[0]))
    return total / degree.clamp(min=1).unsqueeze(1)


def mean_aggr_where(x: Tensor, src: Tensor, idx: Tensor) -> Tensor:
    total = torch.zeros(N, src.shape[1]).index_add_(0, idx, src)
    degree = torch.zeros(N).index_add_(0, idx, torch.ones(idx.shape[0])).unsqueeze(1)
    return torch.where(degree > 0, total / degree, x)  # nodes without edges keep their own features


def segment_softmax(score: Tensor, idx: Tensor) -> Tensor:
    """GAT-style softmax of edge scores over the edges arriving at each node."""
    peak = torch.zeros(N).scatter_reduce(0, idx, score, "amax", include_self=False)
    e = torch.exp(score - peak[idx])
    return e / torch.zeros(N).index_add_(0, idx, e)[idx]


def add_self_loops_dyn(x: Tensor, edge_index: Tensor) -> Tensor:
    loops = torch.arange(x.shape[0]).unsqueeze(0).expand(2, -1)
    ei = torch.cat([edge_index, loops], dim=1)
    return torch.zeros_like(x).index_add_(0, ei[1], x[ei[0]])


def to_undirected_dyn(x: Tensor, edge_index: Tensor) -> Tensor:
    ei = torch.cat([edge_index, edge_index.flip(0)], dim=1)
    return torch.zeros_like(x).index_add_(0, ei[1], x[ei[0]])


def fully_connected_edges(x: Tensor) -> Tensor:
    n = x.shape[0]
    src = torch.arange(n).repeat_interleave(n)
    dst = torch.arange(n).repeat(n)
    return torch.cat([x[src], x.index_select(0, dst)], dim=1)  # [N*N, 2F]


def knn_edge_features(x: Tensor) -> Tensor:
    """EdgeConv / ParticleNet: the 3 nearest nodes (self included) of every node, as [x_i, x_j - x_i]."""
    dist = ((x.unsqueeze(1) - x.unsqueeze(0)) ** 2).sum(-1)
    nbr = dist.topk(3, dim=1, largest=False).indices  # [N, 3]
    center = x.unsqueeze(1).expand(-1, 3, -1)
    return torch.cat([center, x[nbr] - center], dim=2)  # [N, 3, 2F]


def one_hot_dyn(idx: Tensor) -> Tensor:
    return F.one_hot(idx, N).float()


def getitem_bool_mask(x: Tensor) -> Tensor:
    return x[x[:, 0] > 0]  # data-dependent row count


IDIOMS: list[Idiom] = [
    Idiom("index_select_const", index_select_const, {"x": feat(N, FEAT)}, {"idx": CONST_INDEX}),
    Idiom("index_select_dyn", index_select_dyn, {"x": feat(N, FEAT), "idx": index(N, E)},
          note="The Reshape to [-1] is there for any index rank; with a 1-D index it is the identity."),
    Idiom("getitem_const", getitem_const, {"x": feat(N, FEAT)}, {"idx": CONST_INDEX}),
    Idiom("getitem_idx_dyn", getitem_idx_dyn, {"x": feat(N, FEAT), "idx": index(N, E)}),
    Idiom("getitem_dyn", getitem_dyn, {"x": feat(N, FEAT), "edge_index": index(N, 2, E)},
          note="The idiom of the brief: `x[edge_index[0]]`, a row select then a GatherND."),
    Idiom("getitem_2d_dyn", getitem_2d_dyn, {"x": feat(N, FEAT), "edge_index": index(N, 2, E)}),
    Idiom("gather_elements_const", gather_elements_const, {"x": feat(N, FEAT)}, {"idx": CONST_INDEX_2D}),
    Idiom("gather_elements_dyn", gather_elements_dyn, {"x": feat(N, FEAT), "idx": index(N, E, FEAT)}),
    Idiom("gather_expand_dyn", gather_expand_dyn, {"x": feat(N, FEAT), "idx": index(N, E)}),
    Idiom("scatter_add_const", scatter_add_const, {"src": feat(E, FEAT)}, {"idx": CONST_INDEX},
          note="The expanded index is folded into an int64[E,F] initialiser."),
    Idiom("scatter_add_dyn", scatter_add_dyn, {"src": feat(E, FEAT), "idx": index(N, E)}),
    Idiom("scatter_add_base_dyn", scatter_add_base_dyn,
          {"base": feat(N, FEAT), "src": feat(E, FEAT), "idx": index(N, E)}),
    Idiom("scatter_add_pyg", scatter_add_pyg, {"src": feat(E, FEAT), "idx": index(N, E)},
          note="`new_zeros` is not folded: a ConstantOfShape with no `value` attribute (float32 0)."),
    Idiom("index_add_const", index_add_const, {"src": feat(E, FEAT)}, {"idx": CONST_INDEX}),
    Idiom("index_add_dyn", index_add_dyn, {"src": feat(E, FEAT), "idx": index(N, E)}),
    Idiom("index_put_accumulate_const", index_put_accumulate_const, {"src": feat(E, FEAT)}, {"idx": CONST_INDEX}),
    Idiom("index_put_accumulate_dyn", index_put_accumulate_dyn, {"src": feat(E, FEAT), "idx": index(N, E)}),
    Idiom("index_put_assign_dyn", index_put_assign_dyn,
          {"base": feat(N, FEAT), "src": feat(3, FEAT), "idx": unique_index(N, 3)},
          note="Distinct indices: with a repeat, ONNX leaves the result undefined."),
    Idiom("scatter_assign_dyn", scatter_assign_dyn,
          {"base": feat(N, FEAT), "src": feat(3, FEAT), "idx": unique_index(N, 3)}),
    Idiom("scatter_reduce_sum", scatter_reduce_sum, {"src": feat(E, FEAT), "idx": index(N, E)}),
    Idiom("scatter_reduce_amax", scatter_reduce_amax, {"src": feat(E, FEAT), "idx": index(N, E)},
          note="include_self=False: touched positions first set to -FLT_MAX by a min-scatter."),
    Idiom("scatter_reduce_amax_self", scatter_reduce_amax_self, {"src": feat(E, FEAT), "idx": index(N, E)}),
    Idiom("scatter_reduce_amin", scatter_reduce_amin, {"src": feat(E, FEAT), "idx": index(N, E)},
          note="include_self=False: touched positions first set to +FLT_MAX by a max-scatter."),
    Idiom("scatter_reduce_amin_self", scatter_reduce_amin_self, {"src": feat(E, FEAT), "idx": index(N, E)}),
    Idiom("scatter_reduce_prod", scatter_reduce_prod, {"src": feat(E, FEAT), "idx": index(N, E)},
          note="include_self=False: touched positions first set to 1.0 by a plain (reduction none) scatter."),
    Idiom("scatter_reduce_prod_self", scatter_reduce_prod_self, {"src": feat(E, FEAT), "idx": index(N, E)}),
    Idiom("scatter_reduce_mean", scatter_reduce_mean, {"src": feat(E, FEAT), "idx": index(N, E)},
          note="Exported wrong: reduction \"none\", no count, no division (onnxscript maps mean to none)."),
    Idiom("scatter_reduce_mean_self", scatter_reduce_mean_self, {"src": feat(E, FEAT), "idx": index(N, E)},
          note="Exported wrong, as `scatter_reduce_mean`: a single reduction \"none\" scatter."),
    Idiom("index_reduce_amax", index_reduce_amax, {"src": feat(E, FEAT), "idx": index(N, E)}),
    Idiom("degree_scatter_add", degree_scatter_add, {"idx": index(N, E)}),
    Idiom("degree_bincount", degree_bincount, {"idx": index(N, E)},
          note="Output length max(N, max(idx)+1) computed at run time: the ONNX output is float32[u0]."),
    Idiom("mean_aggr_clamp", mean_aggr_clamp, {"src": feat(E, FEAT), "idx": index(N, E)}),
    Idiom("mean_aggr_where", mean_aggr_where, {"x": feat(N, FEAT), "src": feat(E, FEAT), "idx": index(N, E)}),
    Idiom("segment_softmax", segment_softmax, {"score": feat(E), "idx": index(N, E)},
          note="Per-destination softmax (GAT, torch_geometric.utils.softmax): amax scatter, gather, exp, sum scatter."),
    Idiom("add_self_loops_dyn", add_self_loops_dyn, {"x": feat(N, FEAT), "edge_index": index(N, 2, E)}),
    Idiom("to_undirected_dyn", to_undirected_dyn, {"x": feat(N, FEAT), "edge_index": index(N, 2, E)},
          note="`flip(0)` is a Slice with starts -1, ends INT64_MIN, axes 0, steps -1."),
    Idiom("fully_connected_edges", fully_connected_edges, {"x": feat(N, FEAT)}),
    Idiom("knn_edge_features", knn_edge_features, {"x": real(N, FEAT)},
          note="Standard-normal inputs, so that no two distances tie (TopK order on ties is not portable)."),
    Idiom("one_hot_dyn", one_hot_dyn, {"idx": index(N, E)}),
    Idiom("getitem_bool_mask", getitem_bool_mask, {"x": feat(N, FEAT)},
          note="Data-dependent row count: NonZero; no golden."),
]

N_IDIOM_SAMPLES = 8
WRONG_EXPORT_TOL = 1e-5  # beyond this, the ONNX file does not compute what the torch code does


@dataclass
class IdiomResult:
    idiom: Idiom
    status: str  # "ok", "export failed", "no golden", "wrong export"
    detail: str = ""
    model: onnx.ModelProto | None = None
    max_err: float | None = None


def failure_reason(exc: BaseException) -> str:
    """The informative line of a torch.onnx export error."""
    text = str(exc)
    for pattern in (r"<class '[\w.]*DispatchError'>: (.*)", r"<class '[\w.]*'>: (.*)"):
        match = re.search(pattern, text)
        if match:
            return match.group(1).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0] if text else ''}"


def export_idiom(idiom: Idiom, out: Path, seed: int) -> IdiomResult:
    rng = np.random.default_rng(seed)
    samples = [{k: sample(rng) for k, sample in idiom.inputs.items()} for _ in range(N_IDIOM_SAMPLES)]
    inputs = {k: np.stack([s[k] for s in samples]) for k in idiom.inputs}
    module = IdiomModule(idiom.fn, idiom.consts).eval()
    path = out / f"{idiom.name}.onnx"
    path.unlink(missing_ok=True)
    try:
        quiet_export(module, tuple(torch.from_numpy(v) for v in samples[0].values()), path, list(idiom.inputs), "y")
    except Exception as exc:  # the reason goes into IDIOMS.md
        path.unlink(missing_ok=True)
        return IdiomResult(idiom, "export failed", failure_reason(exc))
    model = scrub(path)
    ys = run_each(session(path), inputs)
    with torch.no_grad():
        refs = [module(*(torch.from_numpy(v) for v in s.values())).numpy() for s in samples]
    golden = out / f"{idiom.name}.npz"
    golden.unlink(missing_ok=True)
    if any(y.shape != refs[0].shape for y in ys + refs):
        return IdiomResult(idiom, "no golden", "data-dependent output shape", model)
    err = max(float(np.abs(y - r).max()) if y.size else 0.0 for y, r in zip(ys, refs, strict=True))
    if err > WRONG_EXPORT_TOL:
        return IdiomResult(idiom, "wrong export", "onnxruntime disagrees with torch: no golden", model, err)
    np.savez_compressed(golden, **inputs, y=np.stack(ys))
    symbolic = any(not d.HasField("dim_value") for o in model.graph.output for d in o.type.tensor_type.shape.dim)
    return IdiomResult(idiom, "ok", "symbolic output shape in the ONNX file" if symbolic else "", model, err)


# ------------------------------------------------------------------------------------------ IDIOMS.md
def fmt_type(t: onnx.TypeProto) -> str:
    if not t.HasField("tensor_type"):
        return "?"
    elem = onnx.helper.tensor_dtype_to_np_dtype(t.tensor_type.elem_type).name
    dims = [str(d.dim_value) if d.HasField("dim_value") else (d.dim_param or "?") for d in t.tensor_type.shape.dim]
    return f"{elem}[{','.join(dims)}]"


def fmt_value(a: np.ndarray) -> str:
    """A constant's value, shortened: ``[1, 3]``, ``0.0 (all 15)``, or its first values."""

    def nested(b: np.ndarray) -> str:
        return str(b[()]) if b.ndim == 0 else "[" + ", ".join(nested(row) for row in b) + "]"

    flat = a.reshape(-1)
    if a.size > 1 and (flat == flat[0]).all():
        return f"{flat[0]} (all {a.size})"
    if a.size <= 24:
        return nested(a)
    return "[" + ", ".join(str(v) for v in flat[:6]) + ", ...]"


def fmt_attr(attr: onnx.AttributeProto) -> str:
    value = onnx.helper.get_attribute_value(attr)
    if isinstance(value, bytes):
        return f'{attr.name}="{value.decode()}"'
    if isinstance(value, onnx.TensorProto):
        arr = numpy_helper.to_array(value)
        return f"{attr.name}={arr.dtype.name}{list(arr.shape)} {fmt_value(arr)}"
    if isinstance(value, onnx.GraphProto):
        return f"{attr.name}=<subgraph {value.name}>"
    return f"{attr.name}={value!r}"


def node_listing(model: onnx.ModelProto) -> list[str]:
    """One line per graph input, initialiser, node and output, with types and constant values."""
    inferred = onnx.shape_inference.infer_shapes(model)
    g = inferred.graph
    types = {vi.name: fmt_type(vi.type) for vi in [*g.input, *g.value_info, *g.output]}
    inits = {t.name: numpy_helper.to_array(t) for t in g.initializer}
    for name, arr in inits.items():
        types.setdefault(name, f"{arr.dtype.name}[{','.join(map(str, arr.shape))}]")

    def operand(name: str) -> str:
        if not name:
            return "<none>"
        if name in inits and inits[name].size <= 8:
            return f"{name}={fmt_value(inits[name])}"
        return name

    lines = [f"input  {i.name}: {types[i.name]}" for i in g.input]
    lines += [f"init   {name}: {types[name]} = {fmt_value(arr)}" for name, arr in inits.items()]
    for node in g.node:
        attrs = f"<{', '.join(fmt_attr(a) for a in node.attribute)}>" if node.attribute else ""
        outs = ", ".join(f"{o}: {types.get(o, '?')}" for o in node.output)
        lines.append(f"{outs} = {node.op_type}{attrs}({', '.join(operand(i) for i in node.input)})")
    lines += [f"output {o.name}: {types[o.name]}" for o in g.output]
    return lines


def op_sequence(model: onnx.ModelProto) -> str:
    return " → ".join(n.op_type for n in model.graph.node)


def inputs_signature(idiom: Idiom) -> str:
    examples = {k: sample(np.random.default_rng(0)) for k, sample in idiom.inputs.items()}
    parts = [f"`{k}: {a.dtype.name}{list(a.shape)}`" for k, a in examples.items()]
    parts += [f"`{k}` constant buffer {v.dtype}{list(v.shape)}" for k, v in idiom.consts.items()]
    return ", ".join(parts)


MD_HEADER = """\
# torch gather/scatter idioms, as exported to ONNX

Written by `examples/export_gnn.py` (torch {torch}, onnx {onnx}, onnxruntime {ort}, opset {opset}) with
`torch.onnx.export(module, args, path, dynamo=True, opset_version={opset})`, the default onnxscript
optimiser on; do not edit by hand.  Every idiom is a weightless module on one graph: N={n} nodes,
F={f} features, E={e} edges; float inputs are multiples of 1/8 in [-2, 2) (`knn_edge_features`: standard
normal), index inputs uniform in [0, N) with repeats and gaps (`*_assign_*`: distinct).  `*_const`: the
index is a constant buffer (an initialiser in ONNX); `*_dyn` and the rest: the index is a graph input.
`IDIOM.onnx` + `IDIOM.npz` (keys: the graph inputs, stacked over 8 samples, and `y`, onnxruntime's output
one sample at a time).

Listing conventions: `input`, `init` (initialiser) and `output` lines, then one line per node in file order,
`results: types = Op<attributes>(operands)`.  An initialiser of at most 8 elements is written
`name=value` where it is used; `0.0 (all 15)` is a constant tensor of 15 zeros.  Only the attributes
stored in the file are listed: an absent one has its ONNX default (ScatterND/ScatterElements without
`reduction`: "none"; Gather/GatherElements without `axis`: 0).  Types come from ONNX shape inference;
`u0`/`unk__0` are symbolic dimensions.  Every graph input, initialiser and node of the file is listed:
there are no Constant nodes and no functions unless listed.

"""


def write_idioms_md(path: Path, results: list[IdiomResult], gnn: dict[str, object] | None, notes: str) -> None:
    lines = [MD_HEADER.format(torch=torch.__version__, onnx=onnx.__version__, ort=ort.__version__, opset=OPSET,
                              n=N, f=FEAT, e=E)]
    if notes:
        lines += ["## Observations", "", notes.strip(), ""]
    lines += ["## Summary", "", "| idiom | status | ONNX nodes, in order | max \\|ort − torch\\| |",
              "|---|---|---|---|"]
    for r in results:
        ops = op_sequence(r.model) if r.model is not None else "—"
        err = f"{r.max_err:.3g}" if r.max_err is not None else "—"
        status = r.status + (f": {r.detail}" if r.detail else "")
        lines.append(f"| `{r.idiom.name}` | {status.replace('|', '/')} | {ops} | {err} |")
    lines.append("")
    for r in results:
        lines += [f"## `{r.idiom.name}`", ""]
        if r.idiom.note:
            lines += [r.idiom.note, ""]
        status = f"Status: **{r.status}**" + (f": {r.detail}" if r.detail else ".")
        lines += [f"Inputs: {inputs_signature(r.idiom)}.  {status}",
                  "", "```python", textwrap.dedent(inspect.getsource(r.idiom.fn)).rstrip()]
        if "_scatter_reduce(" in inspect.getsource(r.idiom.fn):
            lines += ["", inspect.getsource(_scatter_reduce).rstrip()]
        lines += ["```", ""]
        if r.model is not None:
            lines += ["```", *node_listing(r.model), "```", ""]
    if gnn is not None:
        model = gnn["model"]
        assert isinstance(model, onnx.ModelProto)
        counts: dict[str, int] = {}
        for node in model.graph.node:
            counts[node.op_type] = counts.get(node.op_type, 0) + 1
        lines += [
            "## `gnn_edge_index` (examples/gnn_edge_index.onnx)", "",
            f"Trained {TRAIN_STEPS} Adam steps on {TRAIN_GRAPHS} random graphs each; accuracy "
            f"{gnn['held_out_accuracy']:.3f} on 1024 new graphs, {gnn['golden_accuracy']:.3f} on the 256 golden "
            f"graphs; max |onnxruntime − torch| over the golden set: {gnn['max_abs_ort_minus_torch']:.3g}.", "",
            "Node counts: " + ", ".join(f"{op} ×{c}" for op, c in sorted(counts.items())) + ".", "",
            "```", *node_listing(model), "```", "",
        ]
    path.write_text("\n".join(lines))


def export_idioms(out: Path, gnn: dict[str, object] | None) -> list[IdiomResult]:
    results = []
    for seed, idiom in enumerate(IDIOMS):
        r = export_idiom(idiom, out, seed)
        err = f"{r.max_err:.3g}" if r.max_err is not None else "-"
        print(f"  {idiom.name:28s} {r.status:14s} err {err:8s} {r.detail[:100]}")
        results.append(r)
    write_idioms_md(out / "IDIOMS.md", results, gnn, OBSERVATIONS)
    return results


OBSERVATIONS = """
- **Gathers: the ONNX op follows the torch spelling, not the meaning.**  `x.index_select(0, i)` →
  `Gather<axis=0>` (a dynamic `i` goes through `Reshape(i, [-1])` first, a no-op on 1-D indices);
  `x[i]` → `GatherND<batch_dims=0>(x, Unsqueeze(i, [-1]))` (indices [E,1]; `x[edge_index]`: [2,E,1]);
  `torch.gather` → `GatherElements<axis=0>`; `edge_index[0]` → `Gather<axis=0>` with a rank-0 int64
  initialiser index (drops the axis).  Constant indices become int64 initialisers, with the
  Unsqueeze/Reshape/Expand folded in.
- **Scatters.**  `scatter_add_` / `scatter_reduce` / `scatter` → `ScatterElements<axis=0, reduction=...>`
  whose index is `Expand(Unsqueeze(i, [1]), [1,F])` (the Expand shape is [1,F], broadcasting, not [E,F]);
  `idx.view(-1, 1).expand_as(src)` (torch_geometric) → `Expand(Reshape<allowzero=1>(i, [-1,1]), [E,F])`.
  `index_add_` and `index_put_(accumulate=True)` → `ScatterND<reduction="add">(data, Unsqueeze(i, [-1]), src)`;
  `out[i] = src` → `ScatterND` with no `reduction` ("none").  The data operand is a zeros initialiser
  (`torch.zeros` folded), except `new_zeros`, which stays a `ConstantOfShape` with no `value` (float 0).
- **`include_self=False`** adds one ScatterElements before the reduction that resets every touched
  position to the reduction's identity, from a `ConstantOfShape` [E,F]: amax: `reduction="min"` with
  -3.4028235e+38 (-FLT_MAX); amin: `"max"` with +FLT_MAX; prod: `"none"` with 1.0 (repeats harmless: one
  value).  Untouched positions keep the base (0).  In fixed point the ±FLT_MAX constants only work if
  they saturate to the type's extreme codes.  `include_self=True` is the single ScatterElements.
- **`scatter_reduce(..., "mean")` exports silently wrong** (both include_self values): onnxscript's
  torch_lib maps "mean" to `reduction="none"` (ONNX has no mean; microsoft/onnxscript#582, onnx/onnx#5100)
  with no count and no division, so onnxruntime returns the last update written.  The files are kept,
  without goldens; the correct spelling is a sum and a count (`mean_aggr_clamp`, `mean_aggr_where`).
- **Export failures:** `index_reduce_` (no ONNX function for aten.index_reduce).
- **Data-dependent shapes:** `torch.bincount(i, minlength=N)` exports, with output length
  max(N, max(i)+1) computed at run time (Concat/ReduceMax/Unsqueeze/Add/Mul/Max/Expand), the output
  typed `float32[u0]`; its golden exists (here always length 5).  `x[mask]` → NonZero/Transpose/Squeeze/
  Max/Shape/Expand/GatherND with a `[u0,3]` output: no golden.  Use `scatter_add_` of ones for degrees.
- **Shape arithmetic is folded.**  With static shapes no Shape, Size, Range, Tile, Where-on-shapes or
  Equal-on-shapes survives the exporter's optimiser: `arange`, `repeat`, `repeat_interleave`, `expand`
  of constants become initialisers (`fully_connected_edges`, `add_self_loops_dyn`).  The remaining
  non-gather/scatter ops: Unsqueeze, Reshape, Expand, Concat, Slice (`flip(0)`: steps -1, end INT64_MIN),
  ConstantOfShape, Cast (`one_hot`: Equal against an arange initialiser, then bool→int64→float32 Casts),
  Where/Greater (masks), TopK/Pow/ReduceSum/Sub (kNN), Exp/Div/Max (softmax, mean).
- No Constant nodes and no model-local functions anywhere; opset 18 only, IR version 10.
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("examples"), help="where gnn_edge_index.{onnx,npz} go")
    parser.add_argument("--idioms", type=Path, default=Path("tests/passes/data/gnn_idioms"),
                        help="where the idiom models, goldens and IDIOMS.md go")
    parser.add_argument("--only", choices=["gnn", "idioms"],
                        help="export only one of the two (idioms alone: IDIOMS.md has no gnn_edge_index section)")
    args = parser.parse_args()
    logging.getLogger("torch.onnx").setLevel(logging.ERROR)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    gnn = None
    if args.only != "idioms":
        args.out.mkdir(parents=True, exist_ok=True)
        gnn = export_gnn(args.out)
    if args.only != "gnn":
        args.idioms.mkdir(parents=True, exist_ok=True)
        print("idioms:")
        export_idioms(args.idioms, gnn)


if __name__ == "__main__":
    main()
