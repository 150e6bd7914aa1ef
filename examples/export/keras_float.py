"""Train a small float Keras MLP and export it with tf2onnx, with onnxruntime goldens (docs/guide/frameworks.md).

Needs tensorflow (Keras 3), tf2onnx, onnx and onnxruntime (not fmlc)::

    python examples/export/keras_float.py [--out DIR]     # writes DIR/keras_float.onnx and .npz (DIR: .)

A binary trigger decision: 12 inputs → Dense(16, relu) → Dense(8, tanh) → Dense(1, sigmoid), trained for a
few seeded epochs on a synthetic signal/background task.  No quantisers: fmlc gives the float parts the
types of ``--default-precision`` / ``--config``, and the tanh and sigmoid become tables.  The ``.npz`` holds
``x`` (256 held-out samples) and ``y`` (onnxruntime's output).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402  (after the log level)
import numpy as np  # noqa: E402
import onnx  # noqa: E402
import onnxruntime as ort  # noqa: E402
import tensorflow as tf  # noqa: E402
import tf2onnx  # noqa: E402

NAME = "keras_float"
N_IN = 12


def make_model() -> keras.Model:
    inputs = keras.Input((N_IN,), batch_size=1, name="x")
    h = keras.layers.Dense(16, activation="relu", name="fc1")(inputs)
    h = keras.layers.Dense(8, activation="tanh", name="fc2")(h)
    out = keras.layers.Dense(1, activation="sigmoid", name="out")(h)
    return keras.Model(inputs, out)


def make_data(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Signal: a shifted, correlated Gaussian; background: a standard one."""
    label = rng.integers(0, 2, n)
    x = rng.normal(0.0, 1.0, (n, N_IN))
    x[label == 1] += np.linspace(0.2, 1.0, N_IN)
    x[label == 1, 1::2] += 0.5 * x[label == 1, 0::2]
    return x.astype(np.float32), label


def export(model: keras.Model, path: Path) -> None:
    """tf2onnx from a tf.function of the model, opset 18, batch 1."""
    spec = (tf.TensorSpec((1, N_IN), tf.float32, name="x"),)
    fn = tf.function(lambda x: {"y": model(x)})
    model_proto, _ = tf2onnx.convert.from_function(fn, input_signature=spec, opset=18)
    onnx.save(model_proto, str(path))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("."), help="folder for NAME.onnx and NAME.npz")
    args = parser.parse_args()
    keras.utils.set_random_seed(0)
    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    rng = np.random.default_rng(0)
    x_train, y_train = make_data(rng, 4096)
    x_test, y_test = make_data(rng, 256)
    train = make_model()  # trained with batches; the exported model has batch 1 and the same weights
    train.compile(optimizer=keras.optimizers.Adam(0.01), loss="binary_crossentropy")
    train.fit(x_train, y_train, epochs=5, batch_size=64, verbose=0)
    model = make_model()
    model.set_weights(train.get_weights())
    args.out.mkdir(parents=True, exist_ok=True)
    onnx_path, npz_path = args.out / f"{NAME}.onnx", args.out / f"{NAME}.npz"
    export(model, onnx_path)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    y = np.concatenate([session.run(None, {name: row[None]})[0] for row in x_test])
    y_keras = np.concatenate([model(row[None]).numpy() for row in x_test])
    np.savez_compressed(npz_path, x=x_test, y=y)
    accuracy = float(((y[:, 0] > 0.5) == y_test).mean())
    print(f"wrote {onnx_path} and {npz_path}: accuracy {accuracy:.3f}, "
          f"max |onnxruntime - keras| {float(np.abs(y - y_keras).max()):.3g}")


if __name__ == "__main__":
    main()
