"""Interpreter rules of the ``func`` dialect."""

from __future__ import annotations

from fmlc.dialects.func import ReturnOp
from fmlc.runtime.interpreter import Interpreter, TypedArray, impl


@impl(ReturnOp)
def _return(interp: Interpreter, op: ReturnOp, *values: TypedArray) -> tuple[TypedArray, ...]:
    return values
