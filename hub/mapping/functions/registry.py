"""Mapping functions by name: adding one is a single decorated, documented function.

    @function("upper", doc="upper('abc') -> 'ABC'")
    def upper(text: str) -> str: ...

The number of arguments is read from the signature (defaults make arguments
optional, ``*args`` makes them open-ended), so the compiler can reject a wrong
argument count at load time with file:line:column. A function raises
:class:`FunctionError` for bad values; the mapping turns it into a run-time
MappingError naming the rule, the source path and the value.
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

__all__ = [
    "FUNCTIONS",
    "FunctionContext",
    "FunctionError",
    "FunctionSpec",
    "function",
    "lookup",
]


class FunctionContext(Protocol):
    """What a ``needs_context`` function may ask of the running mapping."""

    def codelist(self, name: str) -> Mapping[str, Any]:
        """The code list ``name`` (mappings/codelists/NAME.yaml|csv); FunctionError if unknown."""
        ...

    def now(self) -> datetime:
        """The time of this mapping run (one value for the whole run), time-zone aware."""
        ...


class FunctionError(ValueError):
    """A function could not work with the values it was given."""


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    call: Callable[..., Any]
    min_args: int
    max_args: int | None  # None: open-ended
    doc: str
    needs_context: bool = False  # called as fn(context, *args): code lists, now()
    pure: bool = True  # the same arguments always give the same value: made once if literal

    def arity(self) -> str:
        if self.max_args is None:
            return f"at least {self.min_args}"
        if self.min_args == self.max_args:
            return str(self.min_args)
        return f"{self.min_args} to {self.max_args}"


FUNCTIONS: dict[str, FunctionSpec] = {}


def function(
    name: str, *, doc: str, needs_context: bool = False, pure: bool = True
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register ``fn`` under ``name``; ``doc`` is one line with an example, shown in errors.

    ``pure=False`` for a function whose value changes between calls (``uuid()``): a pure
    one called with literals only is called once, when the mapping loads.
    """

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        if name in FUNCTIONS:
            raise ValueError(f"mapping function {name!r} is registered twice")
        params = list(inspect.signature(fn).parameters.values())
        if needs_context:
            params = params[1:]
        positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        required = sum(1 for p in positional if p.default is p.empty)
        variadic = any(p.kind is p.VAR_POSITIONAL for p in params)
        FUNCTIONS[name] = FunctionSpec(
            name=name,
            call=fn,
            min_args=required,
            max_args=None if variadic else len(positional),
            doc=doc,
            needs_context=needs_context,
            pure=pure,
        )
        return fn

    return register


def lookup(name: str) -> FunctionSpec | None:
    _load_builtins()
    return FUNCTIONS.get(name)


_loaded = False
_loading = threading.Lock()


def _load_builtins() -> None:
    """Import the modules that register the built-in functions, once.

    Mappings compile on several threads at once (previews, the worker, hot reload): the
    flag is set only when every module is in, and the others wait for it meanwhile.
    """
    global _loaded
    if _loaded:
        return
    with _loading:
        if _loaded:
            return
        import importlib
        import pkgutil

        import hub.mapping.functions as package

        for module in pkgutil.iter_modules(package.__path__):
            if module.name != "registry":
                importlib.import_module(f"{package.__name__}.{module.name}")
        _loaded = True
