"""Importing this module registers the interpreter rules of every fmlc dialect."""

from fmlc.runtime import func_rules  # noqa: F401
