"""The functions mappings can call. Each module registers its own with ``@function``."""

from hub.mapping.functions.registry import FUNCTIONS, FunctionError, FunctionSpec, function, lookup

__all__ = ["FUNCTIONS", "FunctionError", "FunctionSpec", "function", "lookup"]
