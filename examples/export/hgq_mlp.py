"""Export a small HGQ2 model with tf2onnx, to show why fmlc does not compile HGQ models (docs/guide/frameworks.md).

Needs hgq2 (Keras 3 on the TensorFlow back end), tf2onnx and onnx (not fmlc)::

    python examples/export/hgq_mlp.py [--out DIR]     # writes DIR/hgq_mlp.onnx (DIR: .)

HGQ has no QONNX exporter.  tf2onnx writes each of its quantisers as the arithmetic that computes it
(``Floor``, ``Mul``, ``Add``, ``Sub``, ``Div``, ...), not as a ``Quant`` node, and fmlc refuses ``Floor``.
The model is 8-8-3 (``QDense`` with ReLU, then ``QDense``), untrained: the file only shows the ONNX form.
"""

from __future__ import annotations

import argparse
import os
from collections import Counter
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402  (after the environment)
import numpy as np  # noqa: E402
import onnx  # noqa: E402
import tensorflow as tf  # noqa: E402
import tf2onnx  # noqa: E402
from hgq.layers import QDense  # noqa: E402

NAME = "hgq_mlp"
N_IN = 8


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("."), help="folder for NAME.onnx")
    args = parser.parse_args()
    keras.utils.set_random_seed(0)
    x = keras.Input((N_IN,), batch_size=1, name="x")
    h = QDense(8, activation="relu", name="fc1")(x)
    model = keras.Model(x, QDense(3, name="fc2")(h))
    model(np.zeros((1, N_IN), np.float32))  # builds the quantisers
    spec = (tf.TensorSpec((1, N_IN), tf.float32, name="x"),)
    fn = tf.function(lambda x: {"y": model(x, training=False)})
    model_proto, _ = tf2onnx.convert.from_function(fn, input_signature=spec, opset=18)
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"{NAME}.onnx"
    onnx.save(model_proto, str(path))
    ops = Counter(node.op_type for node in model_proto.graph.node)
    print(f"wrote {path}: " + ", ".join(f"{op} x{n}" for op, n in sorted(ops.items())))


if __name__ == "__main__":
    main()
