"""The ``onnx`` dialect: one op per ONNX node, float32 semantics.

Each op is named ``onnx.<OpType>`` and holds the node's inputs as operands, its
outputs as results and its attributes as properties (ONNX defaults filled in, so
``op.alpha`` of a Gemm is always there).  A missing optional input is the result
of ``onnx.NoValue`` (type ``none``).  Initialisers and ``Constant`` nodes become
``onnx.Constant`` ops holding a dense ``value``.  The QONNX custom ops (domains
``qonnx.custom_op.general``, ``onnx.brevitas``, ``finn.custom_op.general``) live
here too: ``onnx.Quant``, ``onnx.IntQuant``, ``onnx.BipolarQuant``, ``onnx.Trunc``,
``onnx.MultiThreshold``.

The ops are declared from :data:`SIGNATURES`: input and output counts and the
attribute kinds with their ONNX defaults.  The interpreter rules
(``fmlc.runtime.onnx_rules``) define what each computes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs

from fmlc.compiler.attributes import (
    ArrayAttr,
    Attribute,
    DenseElementsAttr,
    FloatAttr,
    IntegerAttr,
    NoneType,
    StringAttr,
    f32,
)
from fmlc.compiler.diagnostics import verify_error
from fmlc.compiler.dialect import Dialect, register_dialect
from fmlc.compiler.ir import Operation
from fmlc.compiler.opdef import ConstantLike, HasCanonicalizer, Pure, op_def, prop, result, var_operand, var_result

QONNX_DOMAINS = ("qonnx.custom_op.general", "onnx.brevitas", "finn.custom_op.general")


# ----------------------------------------------------------------------------- attribute kinds

@attrs.frozen
class AttrKind:
    """An ONNX attribute kind: the IR attribute class, a converter from Python, a default."""

    name: str
    attr_class: type
    default: Any = None  # a Python value; None: no default (optional or required)
    required: bool = False

    def make(self, value: Any) -> Attribute:
        return _CONVERT[self.name](value)


def _int(v: Any) -> IntegerAttr:
    return IntegerAttr(int(v))


def _float(v: Any) -> FloatAttr:
    import numpy as np

    return FloatAttr(float(np.float32(v)), f32)


def _str(v: Any) -> StringAttr:
    return StringAttr(v.decode() if isinstance(v, bytes) else str(v))


_CONVERT: dict[str, Callable[[Any], Attribute]] = {
    "int": _int,
    "float": _float,
    "string": _str,
    "ints": lambda v: ArrayAttr(_int(x) for x in v),
    "strings": lambda v: ArrayAttr(_str(x) for x in v),
    "floats": lambda v: ArrayAttr(_float(x) for x in v),
    "tensor": lambda v: v,  # already a DenseElementsAttr
}


def i(default: int | None = None, required: bool = False) -> AttrKind:
    return AttrKind("int", IntegerAttr, default, required)


def f(default: float | None = None) -> AttrKind:
    return AttrKind("float", FloatAttr, default)


def s(default: str | None = None, required: bool = False) -> AttrKind:
    return AttrKind("string", StringAttr, default, required)


def ints(required: bool = False) -> AttrKind:
    return AttrKind("ints", ArrayAttr, None, required)


def floats() -> AttrKind:
    return AttrKind("floats", ArrayAttr, None)


def strings() -> AttrKind:
    return AttrKind("strings", ArrayAttr, None)


def tensor(required: bool = False) -> AttrKind:
    return AttrKind("tensor", DenseElementsAttr, None, required)


@attrs.frozen
class Signature:
    """Inputs (min, max; max None = unbounded), outputs (min, max), attributes."""

    inputs: tuple[int, int | None]
    outputs: tuple[int, int | None] = (1, 1)
    attributes: dict[str, AttrKind] = attrs.Factory(dict)
    domain: str = ""


def sig(inputs: int | tuple[int, int | None], outputs: int | tuple[int, int | None] = 1,
        domain: str = "", **attributes: AttrKind) -> Signature:
    ins = (inputs, inputs) if isinstance(inputs, int) else inputs
    outs = (outputs, outputs) if isinstance(outputs, int) else outputs
    return Signature(ins, outs, attributes, domain)


_POOL = {"auto_pad": s("NOTSET"), "ceil_mode": i(0), "dilations": ints(), "kernel_shape": ints(required=True),
         "pads": ints(), "strides": ints()}
_Q = QONNX_DOMAINS[0]
ML = "ai.onnx.ml"
_TREE_NODES = {"nodes_falsenodeids": ints(), "nodes_featureids": ints(), "nodes_hitrates": floats(),
               "nodes_hitrates_as_tensor": tensor(), "nodes_missing_value_tracks_true": ints(),
               "nodes_modes": strings(), "nodes_nodeids": ints(), "nodes_treeids": ints(),
               "nodes_truenodeids": ints(), "nodes_values": floats(), "nodes_values_as_tensor": tensor(),
               "base_values": floats(), "base_values_as_tensor": tensor(), "post_transform": s("NONE")}

SIGNATURES: dict[str, Signature] = {
    # linear algebra and elementwise arithmetic
    "Gemm": sig((2, 3), alpha=f(1.0), beta=f(1.0), transA=i(0), transB=i(0)),
    "MatMul": sig(2),
    "Add": sig(2), "Sub": sig(2), "Mul": sig(2), "Div": sig(2),
    "Neg": sig(1),
    # activations
    "Relu": sig(1),
    "LeakyRelu": sig(1, alpha=f(0.01)),
    "PRelu": sig(2),
    "Clip": sig((1, 3)),
    "Sigmoid": sig(1),
    "HardSigmoid": sig(1, alpha=f(0.2), beta=f(0.5)),
    "Tanh": sig(1),
    "Exp": sig(1),
    "Softmax": sig(1, axis=i(-1)),
    # convolution and pooling
    "Conv": sig((2, 3), auto_pad=s("NOTSET"), dilations=ints(), group=i(1), kernel_shape=ints(), pads=ints(),
                strides=ints()),
    "MaxPool": sig(1, (1, 2), storage_order=i(0), **_POOL),
    "AveragePool": sig(1, count_include_pad=i(0), **_POOL),
    "GlobalAveragePool": sig(1),
    "GlobalMaxPool": sig(1),
    "BatchNormalization": sig(5, (1, 3), epsilon=f(1e-5), momentum=f(0.9), training_mode=i(0)),
    # shape and data movement
    "Flatten": sig(1, axis=i(1)),
    "Reshape": sig(2, allowzero=i(0)),
    "Transpose": sig(1, perm=ints()),
    "Squeeze": sig((1, 2)),
    "Unsqueeze": sig(2),
    "Concat": sig((1, None), axis=i(required=True)),
    "Split": sig((1, 2), (1, None), axis=i(0), num_outputs=i()),
    "Slice": sig((3, 5)),
    "Pad": sig((2, 4), mode=s("constant")),
    "Identity": sig(1),
    "Constant": sig(0, value=tensor(required=True)),
    "Shape": sig(1, start=i(0), end=i()),
    "Cast": sig(1, to=i(required=True), saturate=i(1)),
    # indexing and scatter (graph networks)
    "Gather": sig(2, axis=i(0)),
    "GatherElements": sig(2, axis=i(0)),
    "GatherND": sig(2, batch_dims=i(0)),
    "ScatterElements": sig(3, axis=i(0), reduction=s("none")),
    "ScatterND": sig(3, reduction=s("none")),
    "Expand": sig(2),
    "Tile": sig(2),
    "Where": sig(3),
    # shape arithmetic and predicates (torch exports)
    "ConstantOfShape": sig(1, value=tensor()),
    "Range": sig(3),
    "Size": sig(1),
    "ReduceProd": sig((1, 2), axes=ints(), keepdims=i(1), noop_with_empty_axes=i(0)),
    "Mod": sig(2, fmod=i(0)),
    "Equal": sig(2), "Less": sig(2), "LessOrEqual": sig(2), "Greater": sig(2), "GreaterOrEqual": sig(2),
    "Not": sig(1), "And": sig(2), "Or": sig(2), "Xor": sig(2),
    "ArgMax": sig(1, axis=i(0), keepdims=i(1), select_last_index=i(0)),
    # ONNX-ML tree ensembles (fmlc.passes.tree_ensembles)
    "TreeEnsembleClassifier": sig(1, 2, domain=ML, class_ids=ints(), class_nodeids=ints(), class_treeids=ints(),
                                  class_weights=floats(), class_weights_as_tensor=tensor(),
                                  classlabels_int64s=ints(), classlabels_strings=strings(), **_TREE_NODES),
    "TreeEnsembleRegressor": sig(1, domain=ML, aggregate_function=s("SUM"), n_targets=i(), target_ids=ints(),
                                 target_nodeids=ints(), target_treeids=ints(), target_weights=floats(),
                                 target_weights_as_tensor=tensor(), **_TREE_NODES),
    "TreeEnsemble": sig(1, domain=ML, aggregate_function=i(1), leaf_targetids=ints(), leaf_weights=tensor(),
                        membership_values=tensor(), n_targets=i(), nodes_falseleafs=ints(),
                        nodes_falsenodeids=ints(), nodes_featureids=ints(), nodes_hitrates=tensor(),
                        nodes_missing_value_tracks_true=ints(), nodes_modes=tensor(), nodes_splits=tensor(),
                        nodes_trueleafs=ints(), nodes_truenodeids=ints(), post_transform=i(0), tree_roots=ints()),
    "ZipMap": sig(1, domain=ML, classlabels_int64s=ints(), classlabels_strings=strings()),
    # QONNX quantisers
    "Quant": sig(4, domain=_Q, signed=i(required=True), narrow=i(required=True), rounding_mode=s("ROUND")),
    "IntQuant": sig(4, domain=_Q, signed=i(required=True), narrow=i(required=True), rounding_mode=s("ROUND")),
    "BipolarQuant": sig(2, domain=_Q),
    "Trunc": sig((5, 6), domain=_Q, rounding_mode=s("FLOOR"), signed=i(1), narrow=i(0)),
    "MultiThreshold": sig(2, domain=_Q, out_scale=f(1.0), out_bias=f(0.0), out_dtype=s(""), data_layout=s()),
}


# ----------------------------------------------------------------------------- op classes

class OnnxOp(Operation):
    """Base of the ops made from :data:`SIGNATURES`."""

    signature: Signature
    op_type: str
    traits = (Pure(), HasCanonicalizer())  # constant folding: fmlc.passes.onnx_fold

    def verify_(self) -> None:
        sg = self.signature
        for what, n, (lo, hi) in (("inputs", len(self.operands), sg.inputs),
                                  ("outputs", len(self.results), sg.outputs)):
            if n < lo or (hi is not None and n > hi):
                want = f"{lo}" if lo == hi else f"{lo} to {hi}" if hi is not None else f"at least {lo}"
                raise verify_error(self, f"expects {want} {what}, got {n}")

    def attr(self, name: str) -> Any:
        """The Python value of attribute ``name`` (its ONNX default, or None when absent)."""
        a = self.properties.get(name)
        kind = self.signature.attributes[name]
        if a is None:  # the default, as its attribute would hold it (float32 for floats)
            return kind.make(kind.default).value if kind.name == "float" and kind.default is not None \
                else kind.default
        if isinstance(a, ArrayAttr):
            return [x.value for x in a]
        if isinstance(a, DenseElementsAttr):
            return a
        return a.value


def _make_op(op_type: str, sg: Signature) -> type[Operation]:
    fields: dict[str, Any] = {
        "__doc__": f"ONNX ``{op_type}``{f' ({sg.domain})' if sg.domain else ''}.",
        "signature": sg,
        "op_type": op_type,
        "inputs": var_operand(),
        "outputs": var_result(),
    }
    for name, kind in sg.attributes.items():
        default = kind.make(kind.default) if kind.default is not None else None
        fields[name] = prop(kind.attr_class, default=default, optional=not kind.required)
    if op_type == "Constant":
        fields["traits"] = (Pure(), ConstantLike(), HasCanonicalizer())
    cls = type(f"{op_type}Op", (OnnxOp,), fields)
    return op_def(f"onnx.{op_type}")(cls)


OPS: dict[str, type[Operation]] = {name: _make_op(name, sg) for name, sg in SIGNATURES.items()}


@op_def("onnx.NoValue")
class NoValueOp(Operation):
    """The value of an absent optional input."""

    output = result(NoneType)
    traits = (Pure(), ConstantLike())


def op_class(op_type: str, domain: str) -> type[Operation] | None:
    """The op class of an ONNX node, or None when fmlc does not support it."""
    domain = domain or ""
    if domain in ("", "ai.onnx"):
        domain = ""
    elif domain in QONNX_DOMAINS:
        domain = _Q
    elif domain != ML:
        return None
    sg = SIGNATURES.get(op_type)
    if sg is None or sg.domain != domain:
        return None
    return OPS[op_type]


def supported_ops() -> list[str]:
    """``OpType`` (or ``domain:OpType``) of every supported node kind."""
    return [f"{sg.domain}:{name}" if sg.domain else name for name, sg in SIGNATURES.items()]


def constant(value: DenseElementsAttr, **kw: Any) -> Operation:
    """An ``onnx.Constant`` holding ``value``."""
    return OPS["Constant"].build(outputs=[value.type], value=value, **kw)


ONNX = register_dialect(Dialect("onnx", ops=[*OPS.values(), NoValueOp]))
