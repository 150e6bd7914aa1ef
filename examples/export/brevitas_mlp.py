"""Train a small Brevitas MLP and export it as QONNX, with QONNX-reference goldens (docs/guide/frameworks.md).

Needs torch, brevitas, onnx, onnxscript and qonnx (not fmlc)::

    python examples/export/brevitas_mlp.py [--out DIR]     # writes DIR/brevitas_mlp.onnx and .npz (DIR: .)
    python examples/export/brevitas_mlp.py --float-scales  # brevitas_mlp_float_scales.onnx and .npz

The network is 10-16-8-3 with power-of-two (fixed-point) quantisers: an 8-bit input quantiser, 4-bit
weights, 6-bit unsigned ReLUs and float biases, trained for a few hundred seeded steps on a synthetic
3-class task.  The ``.npz`` holds ``x`` (256 held-out samples) and ``y``, the QONNX reference outputs
(``qonnx.core.onnx_exec``), which ``fmlc --check`` compares with.  ``--float-scales`` trains the same network
with Brevitas' default quantisers (float scales), which fmlc can only approximate.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import logging
import warnings
from pathlib import Path

import numpy as np
import onnx
import torch
from brevitas.export import export_qonnx
from brevitas.nn import QuantIdentity, QuantLinear, QuantReLU
from brevitas.quant import (
    Int8ActPerTensorFixedPoint,
    Int8ActPerTensorFloat,
    Int8WeightPerTensorFixedPoint,
    Int8WeightPerTensorFloat,
    Uint8ActPerTensorFixedPoint,
    Uint8ActPerTensorFloat,
)
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.core.onnx_exec import execute_onnx
from qonnx.util.cleanup import cleanup_model
from torch import nn

NAME = "brevitas_mlp"
N_IN, N_CLASSES = 10, 3


def make_model(float_scales: bool = False) -> nn.Module:
    """10-16-8-3; every quantiser has a power-of-two scale, so fmlc compiles it exactly.

    ``float_scales``: Brevitas' default quantisers instead, whose scales are arbitrary floats.
    """
    inp, weight, act = Int8ActPerTensorFixedPoint, Int8WeightPerTensorFixedPoint, Uint8ActPerTensorFixedPoint
    if float_scales:
        inp, weight, act = Int8ActPerTensorFloat, Int8WeightPerTensorFloat, Uint8ActPerTensorFloat
    return nn.Sequential(
        QuantIdentity(act_quant=inp, bit_width=8, return_quant_tensor=True),
        QuantLinear(N_IN, 16, bias=True, weight_quant=weight, weight_bit_width=4),
        QuantReLU(act_quant=act, bit_width=6, return_quant_tensor=True),
        QuantLinear(16, 8, bias=True, weight_quant=weight, weight_bit_width=4),
        QuantReLU(act_quant=act, bit_width=6, return_quant_tensor=True),
        QuantLinear(8, N_CLASSES, bias=True, weight_quant=weight, weight_bit_width=4),
    )


def make_data(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Three Gaussian blobs in 10 dimensions."""
    centres = np.random.default_rng(1).normal(0.0, 1.0, (N_CLASSES, N_IN))
    label = rng.integers(0, N_CLASSES, n)
    return (centres[label] + rng.normal(0.0, 0.8, (n, N_IN))).astype(np.float32), label


def train(model: nn.Module, x: np.ndarray, label: np.ndarray, steps: int = 300) -> None:
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    xt, yt = torch.from_numpy(x), torch.from_numpy(label)
    model.train()
    for _ in range(steps):
        opt.zero_grad()
        nn.functional.cross_entropy(model(xt), yt).backward()
        opt.step()
    model.eval()


def export(model: nn.Module, path: Path) -> None:
    """Brevitas' QONNX export (torch.export underneath); batch 1, as fmlc compiles one sample per call."""
    chatter = io.StringIO()  # torch.onnx's progress lines
    with contextlib.redirect_stdout(chatter), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        export_qonnx(model, input_t=torch.zeros(1, N_IN), export_path=str(path))
    model_proto = onnx.load(str(path))  # with the weights the exporter may have put in PATH.data
    Path(f"{path}.data").unlink(missing_ok=True)
    for node in model_proto.graph.node:  # the exporter's stack traces hold local file paths
        keep = [p for p in node.metadata_props if p.key != "pkg.torch.onnx.stack_trace"]
        del node.metadata_props[:]
        node.metadata_props.extend(keep)
    onnx.save(model_proto, str(path))


def reference(path: Path, x: np.ndarray) -> np.ndarray:
    """The QONNX reference: qonnx's executor on the cleaned-up model, one sample at a time."""
    wrapper = cleanup_model(ModelWrapper(str(path)))
    name_in, name_out = wrapper.graph.input[0].name, wrapper.graph.output[0].name
    return np.concatenate([execute_onnx(wrapper, {name_in: row[None]})[name_out] for row in x])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("."), help="folder for NAME.onnx and NAME.npz")
    parser.add_argument("--float-scales", action="store_true",
                        help="Brevitas' default float-scale quantisers (NAME: brevitas_mlp_float_scales)")
    args = parser.parse_args()
    name = f"{NAME}_float_scales" if args.float_scales else NAME
    logging.getLogger("torch.onnx").setLevel(logging.ERROR)
    torch.manual_seed(0)
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    x_train, y_train = make_data(rng, 2048)
    x_test, y_test = make_data(rng, 256)
    model = make_model(args.float_scales)
    train(model, x_train, y_train)
    args.out.mkdir(parents=True, exist_ok=True)
    onnx_path, npz_path = args.out / f"{name}.onnx", args.out / f"{name}.npz"
    export(model, onnx_path)
    y = reference(onnx_path, x_test)
    with torch.no_grad():
        y_torch = model(torch.from_numpy(x_test)).numpy()
    np.savez_compressed(npz_path, x=x_test, y=y)
    accuracy = float((y.argmax(1) == y_test).mean())
    print(f"wrote {onnx_path} and {npz_path}: accuracy {accuracy:.3f}, "
          f"max |qonnx - brevitas| {float(np.abs(y - y_torch).max()):.3g}")


if __name__ == "__main__":
    main()
