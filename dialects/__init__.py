"""Dialects: importing this package registers every dialect fmlc ships."""

from fmlc.dialects import func, qt  # noqa: F401
