"""Passes: importing this package registers every pass fmlc ships."""

from fmlc.passes import canonicalize, cse, infer_precision, onnx_to_qt, qt_to_df, size_fifos  # noqa: F401
