"""fmlc's dialects; importing this package registers them."""

from fmlc.dialects import df, func, onnx, qt  # noqa: F401
