"""ONNX / QONNX import: a ModelProto becomes a module of ``onnx`` dialect ops.

One ``func.func @main`` whose arguments are the graph inputs (initialisers are
not inputs) and whose results are the graph outputs; one op per node, located
at the node's name; initialisers and ``Constant`` nodes become ``onnx.Constant``.
Every value gets a static shape: a dynamic dimension (the batch) is fixed to 1,
and shapes are inferred by running each op's interpreter rule on placeholder
values, so the import and the interpreter cannot disagree about a shape.

External data is read only from files inside the model's folder.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import numpy_helper

from fmlc.compiler.attributes import (
    DenseElementsAttr,
    FloatType,
    FunctionType,
    IntegerType,
    NoneType,
    TensorType,
    TypeAttr,
    TypeAttribute,
    f32,
    f64,
    i1,
    i32,
    i64,
)
from fmlc.compiler.builtin import ModuleOp
from fmlc.compiler.diagnostics import DiagnosticError, FmlcError
from fmlc.compiler.ir import Operation, Value
from fmlc.compiler.location import NameLoc
from fmlc.compiler.opdef import verify_op_definition
from fmlc.dialects import onnx as onnx_d
from fmlc.dialects.func import FuncOp, ReturnOp
from fmlc.runtime import rules as _rules  # noqa: F401  (shape inference runs the interpreter rules)
from fmlc.runtime.interpreter import Interpreter, TypedArray

MIN_OPSET, MAX_OPSET = 13, 21


class ImportError_(FmlcError):
    """The model cannot be imported."""


# ----------------------------------------------------------------------------- numpy <-> IR types

_ELEMENTS: dict[Any, TypeAttribute] = {
    np.dtype(np.float32): f32, np.dtype(np.float64): f64, np.dtype(np.int64): i64, np.dtype(np.int32): i32,
    np.dtype(np.bool_): i1, np.dtype(np.int8): IntegerType(8), np.dtype(np.uint8): IntegerType(8, "unsigned"),
    np.dtype(np.int16): IntegerType(16), np.dtype(np.uint16): IntegerType(16, "unsigned"),
    np.dtype(np.float16): FloatType("f16"),
}


def element_of(dtype: Any) -> TypeAttribute:
    try:
        return _ELEMENTS[np.dtype(dtype)]
    except KeyError:
        raise ValueError(f"unsupported element type {np.dtype(dtype)}") from None


def dtype_of(element: TypeAttribute) -> np.dtype:
    for dt, el in _ELEMENTS.items():
        if el == element:
            return dt
    raise ValueError(f"no numpy dtype for {element}")


def tensor_type(arr: np.ndarray) -> TensorType:
    return TensorType(arr.shape, element_of(arr.dtype))


def dense(arr: np.ndarray) -> DenseElementsAttr:
    arr = np.asarray(arr)
    return DenseElementsAttr(tensor_type(arr), arr)


# ----------------------------------------------------------------------------- loading

def load_model(path: str | Path) -> onnx.ModelProto:
    """Read an .onnx file; external data only from inside the model's folder."""
    path = Path(path)
    try:
        model = onnx.load(str(path), load_external_data=False)
    except FileNotFoundError:
        raise ImportError_(f"error: cannot read '{path}': no such file") from None
    except Exception as e:  # protobuf decode errors and the like
        raise ImportError_(f"error: cannot read '{path}': not a valid ONNX model ({type(e).__name__})") from None
    _load_external_data(model, path)
    return model


def _tensors(graph: onnx.GraphProto):
    yield from graph.initializer
    for node in graph.node:
        for a in node.attribute:
            if a.type == onnx.AttributeProto.TENSOR:
                yield a.t
            elif a.type == onnx.AttributeProto.GRAPH:
                yield from _tensors(a.g)


def _load_external_data(model: onnx.ModelProto, path: Path) -> None:
    base = path.resolve().parent
    for t in _tensors(model.graph):
        if t.data_location != onnx.TensorProto.EXTERNAL:
            continue
        info = {e.key: e.value for e in t.external_data}
        loc = info.get("location", "")
        target = (base / loc).resolve()
        if not loc or Path(loc).is_absolute() or not target.is_relative_to(base):
            raise ImportError_(f"error: {path}: initializer '{t.name}': external data path '{loc}' "
                               f"is outside the model's folder {base}")
        offset, length = int(info.get("offset", 0) or 0), info.get("length")
        try:
            with open(target, "rb") as fh:
                fh.seek(offset)
                blob = fh.read(int(length)) if length else fh.read()
        except OSError as e:
            raise ImportError_(f"error: {path}: initializer '{t.name}': cannot read external data "
                               f"'{loc}': {e.strerror or e}") from None
        t.raw_data = blob
        del t.external_data[:]
        t.data_location = onnx.TensorProto.DEFAULT


# ----------------------------------------------------------------------------- checks

def _node_label(node: onnx.NodeProto, index: int) -> str:
    return node.name or (node.output[0] if node.output else f"node #{index}")


def check_supported(model: onnx.ModelProto, path: str) -> None:
    """One error naming every node fmlc cannot import, and what it can."""
    opsets = {o.domain or "": o.version for o in model.opset_import}
    default = opsets.get("", opsets.get("ai.onnx"))
    if default is not None and not MIN_OPSET <= default <= MAX_OPSET:
        raise ImportError_(f"error: {path}: ONNX opset {default} is not supported "
                           f"(fmlc imports opsets {MIN_OPSET} to {MAX_OPSET}; convert the model with "
                           f"onnx.version_converter)")
    bad = [f"  {_node_label(n, k)}: {n.op_type} (domain '{n.domain or 'ai.onnx'}')"
           for k, n in enumerate(model.graph.node) if onnx_d.op_class(n.op_type, n.domain) is None]
    if bad:
        raise ImportError_(
            f"error: {path}: {len(bad)} unsupported node{'s' if len(bad) > 1 else ''}:\n" + "\n".join(bad)
            + "\nsupported: " + ", ".join(onnx_d.supported_ops()))


# ----------------------------------------------------------------------------- import

def _attr_value(a: onnx.AttributeProto) -> Any:
    if a.type == onnx.AttributeProto.TENSOR:
        return dense(numpy_helper.to_array(a.t))
    return onnx.helper.get_attribute_value(a)


def _constant_value(node: onnx.NodeProto, where: str) -> DenseElementsAttr:
    """The value of a Constant node, whichever ``value*`` attribute holds it."""
    if len(node.attribute) != 1:
        raise ImportError_(f"error: {where}: Constant must have exactly one value attribute")
    a = node.attribute[0]
    v = onnx.helper.get_attribute_value(a)
    makers = {
        "value": lambda: numpy_helper.to_array(v),
        "value_float": lambda: np.array(v, dtype=np.float32),
        "value_floats": lambda: np.array(v, dtype=np.float32),
        "value_int": lambda: np.array(v, dtype=np.int64),
        "value_ints": lambda: np.array(v, dtype=np.int64),
    }
    if a.name not in makers:
        raise ImportError_(f"error: {where}: Constant attribute '{a.name}' is not supported")
    return dense(makers[a.name]())


def _input_type(vi: onnx.ValueInfoProto, where: str) -> TensorType:
    tt = vi.type.tensor_type
    if not vi.type.HasField("tensor_type"):
        raise ImportError_(f"error: {where}: graph input '{vi.name}' is not a tensor")
    dtype = onnx.helper.tensor_dtype_to_np_dtype(tt.elem_type)
    shape = [d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else 1 for d in tt.shape.dim]
    return TensorType(shape, element_of(dtype))


class _Importer:
    def __init__(self, model: onnx.ModelProto, path: str) -> None:
        self.model = model
        self.path = path
        self.values: dict[str, Value] = {}
        self.data: dict[Value, TypedArray] = {}  # placeholder values for shape inference
        self.interp = Interpreter()
        self.ops: list[Operation] = []
        self.no_value: Value | None = None

    def where(self, node: onnx.NodeProto, index: int) -> str:
        return f"{self.path}: {_node_label(node, index)} ({node.op_type})"

    def run(self) -> ModuleOp:
        g = self.model.graph
        inits = {t.name: t for t in g.initializer}
        inputs = [vi for vi in g.input if vi.name not in inits]
        in_types = [_input_type(vi, self.path) for vi in inputs]
        func = FuncOp.create("main", in_types, [])
        block = func.entry
        for vi, arg, t in zip(inputs, block.args, in_types, strict=True):
            arg.name_hint = vi.name
            self.values[vi.name] = arg
            self.data[arg] = TypedArray(np.zeros(t.shape, dtype_of(t.element)), t)
        for t in g.initializer:
            arr = numpy_helper.to_array(t)
            op = onnx_d.constant(dense(arr), location=NameLoc(t.name))
            self._add(op, [t.name], [arr])
        for k, node in enumerate(self._sorted_nodes()):
            self._import_node(node, k)
        outs = []
        for vi in g.output:
            if vi.name not in self.values:
                raise ImportError_(f"error: {self.path}: graph output '{vi.name}' is not produced by any node")
            outs.append(self.values[vi.name])
        for op in self.ops:
            block.append(op)
        block.append(ReturnOp.build(values=outs))
        func.properties["function_type"] = TypeAttr(FunctionType(in_types, [v.type for v in outs]))
        return ModuleOp.create([func])

    def _sorted_nodes(self) -> list[onnx.NodeProto]:
        """Nodes in an order where producers come first (ONNX requires it; tolerate exporters that do not)."""
        g = self.model.graph
        known = {vi.name for vi in g.input} | {t.name for t in g.initializer} | {""}
        pending, out = list(g.node), []
        while pending:
            ready = [n for n in pending if all(i in known for i in n.input)]
            if not ready:
                n = pending[0]
                missing = [i for i in n.input if i not in known]
                raise ImportError_(f"error: {self.where(n, 0)}: input '{missing[0]}' is not produced by any "
                                   "node, initializer or graph input (or the graph has a cycle)")
            for n in ready:
                known.update(n.output)
                out.append(n)
            ids = {id(n) for n in ready}
            pending = [n for n in pending if id(n) not in ids]
        return out

    def _operand(self, name: str) -> Value:
        if name == "":
            if self.no_value is None:
                op = onnx_d.NoValueOp.build(output=NoneType())
                self.ops.insert(0, op)
                self.no_value = op.result
                self.data[op.result] = TypedArray(None, NoneType())
            return self.no_value
        return self.values[name]

    def _import_node(self, node: onnx.NodeProto, index: int) -> None:
        where = self.where(node, index)
        cls = onnx_d.op_class(node.op_type, node.domain)
        assert cls is not None  # check_supported ran first
        sg = cls.signature  # type: ignore[attr-defined]
        props = {}
        if node.op_type == "Constant":
            props["value"] = _constant_value(node, where)
        else:
            for a in node.attribute:
                kind = sg.attributes.get(a.name)
                if kind is None:
                    raise ImportError_(f"error: {where}: attribute '{a.name}' is not supported "
                                       f"(known: {', '.join(sg.attributes) or 'none'})")
                try:
                    props[a.name] = kind.make(_attr_value(a))
                except (TypeError, ValueError) as e:
                    raise ImportError_(f"error: {where}: attribute '{a.name}': {e}") from None
        for name, kind in sg.attributes.items():
            if kind.required and name not in props:
                raise ImportError_(f"error: {where}: required attribute '{name}' is missing")
        inputs = list(node.input)
        while inputs and inputs[-1] == "":  # trailing absent optional inputs
            inputs.pop()
        operands = [self._operand(n) for n in inputs]
        outputs = [o for o in node.output]
        op = cls.build(inputs=operands, outputs=[NoneType()] * len(outputs), location=NameLoc(
            _node_label(node, index)), **props)
        try:
            verify_op_definition(op)
            results = self.interp_rule(op, operands)
        except DiagnosticError as e:
            raise ImportError_(f"error: {where}: {e.diagnostic.message}") from None
        if len(results) < len(outputs):
            raise ImportError_(f"error: {where}: produces {len(results)} outputs, the node names {len(outputs)}")
        self._add(op, outputs, results[:len(outputs)])

    def interp_rule(self, op: Operation, operands: Sequence[Value]) -> list[Any]:
        from fmlc.runtime.interpreter import interpret_error, rule_for

        rule = rule_for(type(op))
        if rule is None:
            raise interpret_error(op, "has no interpreter rule")
        with np.errstate(all="ignore"):
            try:
                out = rule(self.interp, op, *[self.data[v] for v in operands])
            except DiagnosticError:
                raise
            except Exception as e:
                raise interpret_error(op, f"cannot infer the output shape: {type(e).__name__}: {e}") from None
        out = list(out) if isinstance(out, (tuple, list)) else [out]
        return [o.data if isinstance(o, TypedArray) else np.asarray(o) for o in out]

    def _add(self, op: Operation, names: Sequence[str], arrays: Sequence[np.ndarray]) -> None:
        for r, name, arr in zip(op.results, names, arrays, strict=True):
            arr = np.asarray(arr)
            r.type = tensor_type(arr)
            r.name_hint = name
            self.data[r] = TypedArray(arr, r.type)
            if name:
                self.values[name] = r
        self.ops.append(op)


def import_model(model: onnx.ModelProto, path: str = "<model>") -> ModuleOp:
    """The ``onnx``-level module of ``model``."""
    check_supported(model, path)
    return _Importer(model, path).run()


def import_file(path: str | Path) -> ModuleOp:
    return import_model(load_model(path), str(path))
