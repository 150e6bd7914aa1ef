"""Importing this module registers the interpreter rules of every fmlc dialect."""

from fmlc.runtime import func_rules, onnx_rules, qt_rules  # noqa: F401
