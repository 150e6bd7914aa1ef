"""Models at a level: read a model file (ONNX or IR text at any level), lower it to
a requested level, and run a level on ``.npz`` inputs."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from fmlc.compiler.atomic import atomic_file
from fmlc.compiler.attributes import ArrayAttr, StringAttr, TensorType
from fmlc.compiler.builtin import ModuleOp
from fmlc.compiler.diagnostics import FmlcError
from fmlc.compiler.ir import Operation

LEVELS = ("onnx", "qt", "df")
# the passes that take a module from one level to the next
LOWER = {"qt": "canonicalize,tree-ensembles,gather-scatter,onnx-to-qt,canonicalize,qt-infer-precision,canonicalize,cse",
         "df": "qt-to-df,df-size-fifos"}
INPUT_NAMES, OUTPUT_NAMES = "fmlc.inputs", "fmlc.outputs"


def level_of(module: ModuleOp) -> str:
    """The level ``module`` is at: ``onnx`` while any onnx op is left (gather-scatter puts qt ops
    among them), else ``df`` when it has processes (they hold qt ops), else ``qt``."""
    dialects = {op.name.split(".", 1)[0] for op in module.walk()}
    if "onnx" in dialects:
        return "onnx"
    for level in reversed(LEVELS):
        if level in dialects:
            return level
    return "onnx"


def load(path: str, *, allow_unregistered: bool = False) -> ModuleOp:
    """An ONNX model (imported) or an IR file (parsed and verified)."""
    from fmlc.compiler.driver import read_ir

    if path.endswith(".onnx"):
        from fmlc.passes.import_onnx import import_file

        module = import_file(path)
        _name_interface(module, path)
        return module
    if path == "-" or path.endswith(".mlir"):
        return read_ir(path, allow_unregistered=allow_unregistered)
    raise FmlcError(f"error: cannot read '{path}': expected an ONNX model (.onnx) or an IR file (.mlir)")


def _name_interface(module: ModuleOp, path: str) -> None:
    import onnx

    model = onnx.load(path, load_external_data=False)
    inits = {t.name for t in model.graph.initializer}
    func = main_function(module)
    func.attributes[INPUT_NAMES] = ArrayAttr(StringAttr(i.name) for i in model.graph.input if i.name not in inits)
    func.attributes[OUTPUT_NAMES] = ArrayAttr(StringAttr(o.name) for o in model.graph.output)


def main_function(module: ModuleOp) -> Operation:
    from fmlc.runtime.interpreter import entry_function

    return entry_function(module)


def interface_names(module: ModuleOp) -> tuple[list[str], list[str]]:
    """Graph input and output names (from the import, else ``input0``… / ``output0``…)."""
    func = main_function(module)
    block = func.regions[0].blocks[0]
    n_out = len(block.last_op.operands) if block.last_op is not None else 0
    ins = func.attributes.get(INPUT_NAMES)
    outs = func.attributes.get(OUTPUT_NAMES)
    in_names = [a.value for a in ins] if isinstance(ins, ArrayAttr) else [
        a.name_hint or f"input{i}" for i, a in enumerate(block.args)]
    out_names = [a.value for a in outs] if isinstance(outs, ArrayAttr) else [f"output{i}" for i in range(n_out)]
    return in_names, out_names


def lowering_pipeline(start: str, level: str, df_options: str = "") -> str:
    """The standard pipeline from level ``start`` to ``level``, empty when they are the same
    (``df_options``: ``qt-to-df``'s); a ``level`` below ``start`` is an error."""
    if LEVELS.index(level) < LEVELS.index(start):
        raise FmlcError(f"error: the model is at the '{start}' level and cannot be raised to '{level}'")
    steps = [LOWER[nxt] for nxt in LEVELS[LEVELS.index(start) + 1:LEVELS.index(level) + 1]]
    return ",".join(steps).replace("qt-to-df", f"qt-to-df{df_options}" if df_options else "qt-to-df")


def lower_to(module: ModuleOp, level: str, args: Any, ctx: Any = None, df_options: str = "") -> ModuleOp:
    """Lower ``module`` from its level to ``level`` with the standard pipeline."""
    from fmlc.compiler.driver import run_pipeline

    pipeline = lowering_pipeline(level_of(module), level, df_options)
    return run_pipeline(module, pipeline, args, ctx) if pipeline else module


# ----------------------------------------------------------------------------- running

def read_inputs(path: str, module: ModuleOp) -> dict[str, np.ndarray]:
    """Arrays for the graph inputs from an ``.npz`` (by name; a lone array for a lone input)."""
    names, _ = interface_names(module)
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except (OSError, ValueError) as e:
        raise FmlcError(f"error: cannot read inputs '{path}': {e}") from None
    if all(n in arrays for n in names):
        return {n: arrays[n] for n in names}
    if len(names) == 1 and "x" in arrays:
        return {names[0]: arrays["x"]}
    if len(names) == 1 and len(arrays) == 1:
        return {names[0]: next(iter(arrays.values()))}
    missing = [n for n in names if n not in arrays]
    raise FmlcError(f"error: {path}: no array for graph input(s) {missing} (arrays: {sorted(arrays)})")


def run_batch(module: ModuleOp, inputs: dict[str, np.ndarray], listeners: Iterable[Any] = (),
              batch: bool = True) -> dict[str, np.ndarray]:
    """Run the module on every sample: when an input array has one more leading
    dimension than the model input (or the model's batch is 1), the samples run together
    in batched passes of :func:`chunk_size` samples (``batch``; not at the ``df`` level,
    whose FIFO simulation is per sample, nor with listeners) or one by one; the results
    are the same."""
    func = main_function(module)
    block = func.regions[0].blocks[0]
    in_names, out_names = interface_names(module)
    arrays: list[np.ndarray | None] = []
    count = None
    for name, arg in zip(in_names, block.args, strict=True):
        t = arg.type
        if not isinstance(t, TensorType):
            arrays.append(None)
            continue
        x = as_samples(np.asarray(inputs[name]).astype(_dtype(t)), t.shape, name)
        if count is not None and len(x) != count:
            raise FmlcError(f"error: input '{name}' has {len(x)} samples, another input has {count}")
        count = len(x)
        arrays.append(x)
    listeners = list(listeners)
    if batch and not listeners and count and level_of(module) != "df":
        return _run_chunks(module, arrays, out_names, count)
    return _run_samples(module, arrays, out_names, count or 1, listeners)


# Samples per batched pass: about this many elements in the largest intermediate value
# (16 MiB of int64), so dense layers get GEMMs of thousands of rows, and an eighth of that
# in the windows a convolution or pooling gathers, so those stay near the cache (measured
# on cnn32, cnn_w4a4, jet_mlp_w6a8 and the MLP ladder: 2^18 elements halve mlp_100k's
# throughput; windows of 2^21 elements cost cnn_w4a4 a third of its throughput).
CHUNK_ELEMENTS = 1 << 21
WINDOW_ELEMENTS = 1 << 18


def chunk_size(module: ModuleOp) -> int:
    """Samples per batched pass of ``module``: :data:`CHUNK_ELEMENTS` over the elements one
    sample needs in its largest op result, :data:`WINDOW_ELEMENTS` over those of its
    largest window array, whichever is fewer."""
    ops = list(main_function(module).walk())
    largest = max((_elements(op) for op in ops), default=1)
    windows = max((_window_elements(op) for op in ops), default=1)
    return max(1, min(CHUNK_ELEMENTS // largest, WINDOW_ELEMENTS // windows))


def _elements(op: Operation) -> int:
    """Elements of ``op``'s largest result per sample (one for constants)."""
    sizes = [math.prod(r.type.shape) for r in op.results if isinstance(r.type, TensorType) and r.type.has_static_shape]
    return max(sizes) if sizes and op.operands else 1


def _window_elements(op: Operation) -> int:
    """Elements of the windows a pooling or convolution rule gathers for one sample."""
    kernel = getattr(op, "kernel", None)
    if kernel is not None:
        return _elements(op) * math.prod(a.value for a in kernel)
    if op.name.endswith(".conv") and len(op.operands) > 1:
        w, out = op.operands[1].type, op.results[0].type
        if isinstance(w, TensorType) and w.has_static_shape and isinstance(out, TensorType):
            return math.prod(out.shape[:-1]) * math.prod(w.shape[:-1])  # positions × (kernel × in channels)
    return 1


def _run_chunks(module: ModuleOp, arrays: list[np.ndarray | None], out_names: list[str],
                count: int) -> dict[str, np.ndarray]:
    from fmlc.runtime.interpreter import run

    step = chunk_size(module)
    parts: list[list[np.ndarray]] = [[] for _ in out_names]
    for start in range(0, count, step):
        chunk = [a[start:start + step] if a is not None else None for a in arrays]
        for i, r in enumerate(run(module, chunk, batch=True)):
            parts[i].append(np.asarray(r.data))
    return {name: from_samples(np.concatenate(p) if len(p) > 1 else p[0])
            for name, p in zip(out_names, parts, strict=True)}


def _run_samples(module: ModuleOp, arrays: list[np.ndarray | None], out_names: list[str], count: int,
                 listeners: list[Any]) -> dict[str, np.ndarray]:
    from fmlc.runtime.interpreter import Tracer, TypedArray, run

    outs: list[list[np.ndarray]] = [[] for _ in out_names]
    tracers = [t for t in listeners if isinstance(t, Tracer)]
    per_sample: list[dict[str, TypedArray]] = []
    for k in range(count):
        sample = [a[k] if a is not None else None for a in arrays]
        fresh = [Tracer() for _ in tracers]
        others = [x for x in listeners if not isinstance(x, Tracer)]
        results = run(module, sample, listeners=[*others, *fresh])
        per_sample.extend(t.values for t in fresh[:1])
        for i, r in enumerate(results):
            outs[i].append(np.asarray(r.data))
    for t in tracers:  # one entry per op, samples along the first axis
        t.values = {key: TypedArray(_join([s[key].data for s in per_sample]), v.type)
                    for key, v in per_sample[0].items()} if per_sample else {}
    return {name: _join(vals) for name, vals in zip(out_names, outs, strict=True)}


def _dtype(t: TensorType) -> np.dtype:
    from fmlc.passes.import_onnx import dtype_of

    try:
        return dtype_of(t.element)
    except ValueError:
        return np.dtype(np.float32)


def as_samples(x: np.ndarray, shape: tuple[int, ...], name: str) -> np.ndarray:
    """``x`` as samples of the model's input ``shape``: [N, *shape]."""
    shape = tuple(shape)
    if x.shape == shape:
        return x[None]
    if x.shape[1:] == shape:  # [N, *model shape]
        return x
    if shape and shape[0] == 1 and x.shape[1:] == shape[1:]:  # model batch 1, data batch N
        return x[:, None]
    raise FmlcError(f"error: input '{name}' has shape {x.shape}; the model expects {shape} "
                    f"(or a batch of them)")


def from_samples(y: np.ndarray) -> np.ndarray:
    """Outputs [N, *shape] of N samples as the caller gave them: one sample without the
    sample axis, a model batch of 1 merged into the sample axis."""
    if len(y) == 1:
        return y[0]
    if y.ndim > 1 and y.shape[1] == 1:
        return y.reshape(len(y), *y.shape[2:])
    return y


def _join(vals: list[np.ndarray]) -> np.ndarray:
    return from_samples(np.stack(vals))


def write_outputs(path: str, outputs: dict[str, np.ndarray]) -> None:
    try:
        with atomic_file(path, binary=True) as f:
            np.savez(f, **outputs)  # type: ignore[arg-type]
    except OSError as e:
        raise FmlcError(f"error: cannot write '{path}': {e.strerror or e}") from None
