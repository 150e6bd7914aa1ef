"""Models at a level: read a model file (ONNX or IR text at any level), lower it to
a requested level, and run a level on ``.npz`` inputs."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

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
    """The standard pipeline from level ``start`` to ``level`` (``df_options``: ``qt-to-df``'s)."""
    steps = [LOWER[nxt] for nxt in LEVELS[LEVELS.index(start) + 1:LEVELS.index(level) + 1]]
    return ",".join(steps).replace("qt-to-df", f"qt-to-df{df_options}" if df_options else "qt-to-df")


def lower_to(module: ModuleOp, level: str, args: Any, ctx: Any = None, df_options: str = "") -> ModuleOp:
    """Lower ``module`` from its level to ``level`` with the standard pipelines."""
    from fmlc.compiler.driver import run_pipeline

    current = level_of(module)
    if LEVELS.index(level) < LEVELS.index(current):
        raise FmlcError(f"error: the model is at the '{current}' level and cannot be raised to '{level}'")
    if level == current:
        return module
    return run_pipeline(module, lowering_pipeline(current, level, df_options), args, ctx)


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
    in one batched pass (``batch``; not at the ``df`` level, whose FIFO simulation is per
    sample, nor with listeners) or one by one; the results are the same."""
    from fmlc.runtime.interpreter import Tracer, TypedArray, run

    func = main_function(module)
    block = func.regions[0].blocks[0]
    in_names, out_names = interface_names(module)
    arrays, count = [], None
    for name, arg in zip(in_names, block.args, strict=True):
        t = arg.type
        x = np.asarray(inputs[name])
        if isinstance(t, TensorType):
            x = x.astype(_dtype(t))
            batched = _split_samples(x, t.shape, name)
            n = len(batched)
            if count is not None and n != count:
                raise FmlcError(f"error: input '{name}' has {n} samples, another input has {count}")
            count = n
            arrays.append(batched)
        else:
            arrays.append(None)
    outs: list[list[np.ndarray]] = [[] for _ in out_names]
    listeners = list(listeners)
    if batch and not listeners and count and level_of(module) != "df":
        stacked = [np.stack(a) if a is not None else None for a in arrays]
        results = run(module, stacked, batch=True)
        return {name: _join(list(np.asarray(r.data))) for name, r in zip(out_names, results, strict=True)}
    tracers = [t for t in listeners if isinstance(t, Tracer)]
    per_sample: list[dict[str, TypedArray]] = []
    for k in range(count or 1):
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


def _split_samples(x: np.ndarray, shape: tuple[int, ...], name: str) -> list[np.ndarray]:
    shape = tuple(shape)
    if x.shape == shape:
        return [x]
    if x.shape[1:] == shape:  # [N, *model shape]
        return list(x)
    if shape and shape[0] == 1 and x.shape[1:] == shape[1:]:  # model batch 1, data batch N
        return [x[i:i + 1] for i in range(x.shape[0])]
    raise FmlcError(f"error: input '{name}' has shape {x.shape}; the model expects {shape} "
                    f"(or a batch of them)")


def _join(vals: list[np.ndarray]) -> np.ndarray:
    if len(vals) == 1:
        return vals[0]
    first = vals[0]
    if first.ndim and first.shape[0] == 1:
        return np.concatenate(vals, axis=0)
    return np.stack(vals)


def write_outputs(path: str, outputs: dict[str, np.ndarray]) -> None:
    target = Path(path)
    tmp = target.with_name(f".{target.name}.tmp.npz")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        np.savez(tmp, **outputs)  # type: ignore[arg-type]
        tmp.replace(target)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise FmlcError(f"error: cannot write '{path}': {e.strerror or e}") from None
