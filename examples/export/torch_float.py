"""Train a small float PyTorch 1-D CNN, export it with torch.onnx, with onnxruntime goldens (docs/guide/frameworks.md).

Needs torch, onnx, onnxscript and onnxruntime (not fmlc)::

    python examples/export/torch_float.py [--out DIR]     # writes DIR/torch_float.onnx and .npz (DIR: .)

A pulse-shape classifier: 32 samples of a waveform (one channel) → Conv1d(1→4, k=5) → ReLU → MaxPool1d(2)
→ Flatten → Linear(56→3) → Softmax, trained for a few hundred seeded steps on synthetic pulses of three
shapes.  No quantisers: fmlc gives the float parts the types of ``--default-precision`` / ``--config``.
The ``.npz`` holds ``x`` (256 held-out waveforms, [256, 1, 32]) and ``y`` (onnxruntime's probabilities).
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
import onnxruntime as ort
import torch
from torch import nn

NAME = "torch_float"
N_SAMPLES, N_CLASSES = 32, 3


class PulseNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv1d(1, 4, kernel_size=5)
        self.pool = nn.MaxPool1d(2)
        self.fc = nn.Linear(4 * 14, N_CLASSES)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.pool(torch.relu(self.conv(x)))
        return torch.softmax(self.fc(torch.flatten(h, 1)), dim=1)


def make_data(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Pulses with a fast, slow or double rise at a random time, amplitude 1-3, plus noise."""
    t = np.arange(N_SAMPLES, dtype=np.float64)
    label = rng.integers(0, N_CLASSES, n)
    t0 = rng.uniform(4, 12, n)[:, None]
    amp = rng.uniform(1, 3, n)[:, None]
    dt = np.clip(t - t0, 0, None)
    fast, slow = dt * np.exp(1 - dt), (dt / 4) * np.exp(1 - dt / 4)
    double = 0.6 * fast + 0.6 * np.clip(t - t0 - 8, 0, None) * np.exp(1 - np.clip(t - t0 - 8, 0, None))
    pulse = np.choose(label[:, None], [fast, slow, double])
    x = amp * pulse + rng.normal(0, 0.05, (n, N_SAMPLES))
    return x[:, None, :].astype(np.float32), label


def train(model: nn.Module, x: np.ndarray, label: np.ndarray, steps: int = 300) -> None:
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    xt, yt = torch.from_numpy(x), torch.from_numpy(label)
    for _ in range(steps):
        opt.zero_grad()
        nn.functional.nll_loss(torch.log(model(xt) + 1e-9), yt).backward()
        opt.step()
    model.eval()


def export(model: nn.Module, path: Path) -> None:
    """torch.onnx.export with the dynamo exporter, opset 18, batch 1."""
    chatter = io.StringIO()  # torch.onnx's progress lines
    with contextlib.redirect_stdout(chatter), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (torch.zeros(1, 1, N_SAMPLES),), str(path), dynamo=True, opset_version=18,
                          input_names=["x"], output_names=["probs"], external_data=False)
    model_proto = onnx.load(str(path))
    for node in model_proto.graph.node:  # the exporter's stack traces hold local file paths
        keep = [p for p in node.metadata_props if p.key != "pkg.torch.onnx.stack_trace"]
        del node.metadata_props[:]
        node.metadata_props.extend(keep)
    onnx.save(model_proto, str(path))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("."), help="folder for NAME.onnx and NAME.npz")
    args = parser.parse_args()
    logging.getLogger("torch.onnx").setLevel(logging.ERROR)
    torch.manual_seed(0)
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    x_train, y_train = make_data(rng, 2048)
    x_test, y_test = make_data(rng, 256)
    model = PulseNet()
    train(model, x_train, y_train)
    args.out.mkdir(parents=True, exist_ok=True)
    onnx_path, npz_path = args.out / f"{NAME}.onnx", args.out / f"{NAME}.npz"
    export(model, onnx_path)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])
    y = np.concatenate([session.run(None, {"x": row[None]})[0] for row in x_test])
    with torch.no_grad():
        y_torch = model(torch.from_numpy(x_test)).numpy()
    np.savez_compressed(npz_path, x=x_test, y=y)
    accuracy = float((y.argmax(1) == y_test).mean())
    print(f"wrote {onnx_path} and {npz_path}: accuracy {accuracy:.3f}, "
          f"max |onnxruntime - torch| {float(np.abs(y - y_torch).max()):.3g}")


if __name__ == "__main__":
    main()
