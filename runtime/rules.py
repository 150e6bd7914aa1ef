"""Importing this module registers the interpreter rules of every fmlc dialect."""

from fmlc.runtime import df_rules, func_rules, onnx_rules, qt_rules  # noqa: F401
