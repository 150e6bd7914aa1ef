"""Passes: importing this package registers every pass fmlc ships."""

from fmlc.passes import (  # noqa: F401
    canonicalize,
    cse,
    gather_scatter,
    infer_precision,
    onnx_fold,
    onnx_to_qt,
    qt_to_df,
    size_fifos,
    tree_ensembles,
)
