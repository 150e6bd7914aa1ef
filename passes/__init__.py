"""Passes: importing this package registers every pass fmlc ships."""

from fmlc.passes import canonicalize, cse  # noqa: F401
