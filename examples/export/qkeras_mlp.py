"""Train a small QKeras MLP and convert it to QONNX with qonnx's converter, with goldens (docs/guide/frameworks.md).

Needs QKeras and qonnx 0.4 with its ``qkeras`` extra (TensorFlow <= 2.14, Keras 2, tf2onnx), not fmlc::

    python examples/export/qkeras_mlp.py [--out DIR]     # writes DIR/qkeras_mlp.onnx and .npz (DIR: .)

The network is 16-32-5 with fixed-point quantisers (``alpha=1``: power-of-two scales): an 8-bit input
quantiser, 6-bit weights and 8-bit biases, a 6-bit ReLU, trained for a few seeded epochs on a synthetic
5-class task.  ``qonnx.converters.from_keras`` writes each quantiser as a QONNX ``Quant`` node, except the
input's ``QActivation``, which it leaves out: this script puts it back as a ``Quant`` node (without it the
compiler would have to approximate a float input).  The ``.npz`` holds ``x`` (256 held-out samples) and
``y``, the QONNX reference outputs (``qonnx.core.onnx_exec``).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402  (after the log level)
import onnx  # noqa: E402
import tensorflow as tf  # noqa: E402
import tf2onnx.tfonnx  # noqa: E402
from onnx import helper, numpy_helper  # noqa: E402
from qkeras import QActivation, QDense, quantized_bits, quantized_relu  # noqa: E402
from qonnx.converters import from_keras  # noqa: E402
from qonnx.converters.qkeras.quantizers import get_quant_params  # noqa: E402
from qonnx.core.modelwrapper import ModelWrapper  # noqa: E402
from qonnx.core.onnx_exec import execute_onnx  # noqa: E402
from qonnx.util.cleanup import cleanup_model  # noqa: E402

NAME = "qkeras_mlp"
N_IN, N_CLASSES = 16, 5
INPUT_QUANTIZER = "quantized_bits(8,3,0,alpha=1)"  # 3 integer bits and a sign: fixed<8,4>


def make_model() -> tf.keras.Model:
    """16-32-5; ``alpha=1`` keeps every scale a power of two, so fmlc compiles it exactly."""
    x = tf.keras.Input((N_IN,), name="x")
    h = QActivation(INPUT_QUANTIZER, name="q_in")(x)  # the converter leaves it out: add_input_quant
    h = QDense(32, kernel_quantizer=quantized_bits(6, 0, alpha=1), bias_quantizer=quantized_bits(8, 3, alpha=1),
               name="fc1")(h)
    h = QActivation(quantized_relu(6, 3), name="relu1")(h)
    y = QDense(N_CLASSES, kernel_quantizer=quantized_bits(6, 0, alpha=1),
               bias_quantizer=quantized_bits(8, 3, alpha=1), name="fc2")(h)
    return tf.keras.Model(x, y)


def make_data(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Five Gaussian blobs in 16 dimensions."""
    centres = np.random.default_rng(1).normal(0.0, 1.0, (N_CLASSES, N_IN))
    label = rng.integers(0, N_CLASSES, n)
    return (centres[label] + rng.normal(0.0, 0.7, (n, N_IN))).astype(np.float32), label


def export(model: tf.keras.Model, path: Path) -> None:
    """qonnx's converter (tf2onnx underneath, the QKeras quantisers become Quant nodes), batch 1.

    tf2onnx's Gemm rewriter merges MatMul and BiasAdd before qonnx's handlers see them, and the Dense
    layers' quantisers are then silently left out (qonnx 0.4.0, tf2onnx 1.16.1): it is switched off.
    """
    tf2onnx.tfonnx.rewrite_gemm = lambda g, ops: ops
    spec = (tf.TensorSpec((1, N_IN), tf.float32, name="x"),)
    model_proto, _ = from_keras(model, name=NAME, input_signature=spec, opset=13)
    add_input_quant(model_proto, INPUT_QUANTIZER)
    onnx.save(model_proto, str(path))


def add_input_quant(model: onnx.ModelProto, quantizer: str) -> None:
    """The graph input's QActivation as a Quant node, written as qonnx's converter writes the others."""
    graph, params = model.graph, get_quant_params(None, quantizer)
    domain = next(n.domain for n in graph.node if n.op_type == "Quant")
    x, xq = graph.input[0].name, f"{graph.input[0].name}_quant"
    names = [f"input_quant_{key}" for key in params["inputs"]]
    for name, value in zip(names, params["inputs"].values(), strict=True):
        graph.initializer.append(numpy_helper.from_array(np.asarray(value, np.float32), name))
    for node in graph.node:
        node.input[:] = [xq if name == x else name for name in node.input]
    graph.node.insert(0, helper.make_node("Quant", [x, *names], [xq], name="input_quant", domain=domain,
                                          **params["attributes"]))


def reference(path: Path, x: np.ndarray) -> np.ndarray:
    """The QONNX reference: qonnx's executor on the cleaned-up model, one sample at a time."""
    wrapper = cleanup_model(ModelWrapper(str(path)))
    name_in, name_out = wrapper.graph.input[0].name, wrapper.graph.output[0].name
    return np.concatenate([execute_onnx(wrapper, {name_in: row[None]})[name_out] for row in x])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("."), help="folder for NAME.onnx and NAME.npz")
    args = parser.parse_args()
    tf.keras.utils.set_random_seed(0)
    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    rng = np.random.default_rng(0)
    x_train, y_train = make_data(rng, 4096)
    x_test, y_test = make_data(rng, 256)
    model = make_model()
    model.compile(optimizer=tf.keras.optimizers.Adam(0.01),
                  loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x_train, y_train, epochs=5, batch_size=64, verbose=0)
    args.out.mkdir(parents=True, exist_ok=True)
    onnx_path, npz_path = args.out / f"{NAME}.onnx", args.out / f"{NAME}.npz"
    export(model, onnx_path)
    y = reference(onnx_path, x_test)
    y_keras = model.predict(x_test, verbose=0)
    np.savez_compressed(npz_path, x=x_test, y=y)
    accuracy = float((y.argmax(1) == y_test).mean())
    print(f"wrote {onnx_path} and {npz_path}: accuracy {accuracy:.3f}, "
          f"max |qonnx - qkeras| {float(np.abs(y - y_keras).max()):.3g}")


if __name__ == "__main__":
    main()
