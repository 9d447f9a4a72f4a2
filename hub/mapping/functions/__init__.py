"""The functions mappings can call. Each module registers its own with ``@function``."""

from hub.mapping.functions.registry import (
    FUNCTIONS,
    FunctionContext,
    FunctionError,
    FunctionSpec,
    function,
    lookup,
)

__all__ = ["FUNCTIONS", "FunctionContext", "FunctionError", "FunctionSpec", "function", "lookup"]
