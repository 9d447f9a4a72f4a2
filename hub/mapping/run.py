"""One run of a mapping: its budget and context, and the helpers its loops share.

:class:`Run` is the ``run`` of every :class:`~hub.mapping.expr.Scope` of one run: the
:class:`~hub.mapping.limits.Budget` the expressions and loops charge, and the
:class:`~hub.mapping.functions.registry.FunctionContext` functions ask for code lists and
the run's time.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hub.errors import HubError, MappingError
from hub.mapping.expr import MAX_ITEMS, EvalError, Scope
from hub.mapping.functions.registry import FunctionError
from hub.mapping.limits import Budget, Cancel, LimitExceeded, MappingLimits
from hub.mapping.paths import MISSING
from hub.paths import FileRoots

__all__ = [
    "CHUNK",
    "CLOCK_MASK",
    "Rule",
    "Run",
    "as_items",
    "check_output_size",
    "located",
    "output_size",
    "output_too_large",
    "ticking",
    "weight",
]

#: A rule: fills its key of the output object from the scope.
Rule = Callable[[Scope, dict[str, Any]], None]
#: A list of rules longer than this counts its work (and may read the clock) every so many.
CHUNK = 64
#: A loop reads the clock (and the cancel flag) once every so many items (a power of 2).
CLOCK_MASK = 1023


class Run(Budget):
    """One run: its budget, and the :class:`FunctionContext` (code lists, one clock)."""

    __slots__ = ("_dirs", "_now", "_roots", "slots")

    def __init__(
        self,
        dirs: list[Path],
        limits: MappingLimits,
        cancel: Cancel | None = None,
        roots: FileRoots | None = None,
        slots: int = 0,
    ) -> None:
        Budget.__init__(self, limits, cancel)
        #: The values of parameters (of inline functions and the mapping's functions).
        self.slots: list[Any] = [None] * slots
        self._dirs = dirs
        self._roots = roots
        self._now: datetime | None = None

    def codelist(self, name: str) -> Mapping[str, Any]:
        try:
            from hub.mapping import codelists
        except ImportError:  # pragma: no cover - the module ships with the hub
            raise FunctionError("code lists are not available") from None
        try:
            return codelists.load(self._dirs, name, roots=self._roots)
        except HubError as exc:
            raise FunctionError(exc.message) from None

    def now(self) -> datetime:
        if self._now is None:
            self._now = datetime.now(UTC)
        return self._now


def located(message: str, exc: EvalError, where: str) -> MappingError:
    """The MappingError of a rule; a limit's error says which setting to raise."""
    hint = exc.hint if isinstance(exc, LimitExceeded) else None
    return MappingError(message, where=where, hint=hint)


def ticking(rules: list[Rule]) -> list[Rule]:
    """A long list of rules with a budget tick every :data:`CHUNK` rules."""
    if len(rules) <= CHUNK:
        return rules

    def tick(scope: Scope, out: dict[str, Any]) -> None:
        scope.run.tick(CHUNK)

    ticked: list[Rule] = []
    for start in range(0, len(rules), CHUNK):
        ticked += rules[start : start + CHUNK]
        ticked.append(tick)
    return ticked


def weight(fields: Any) -> int:
    """Fields the rules in ``fields`` may write into one object (nested objects included)."""
    if not isinstance(fields, dict):
        return 0
    total = 0
    for spec in fields.values():
        total += 1
        if isinstance(spec, dict) and "each" not in spec:
            total += weight(spec.get("fields"))
    return total


def as_items(items: Any, rule_name: str, text: str, where: str) -> list[Any]:
    if items is MISSING or items is None:
        return []
    if not isinstance(items, list):
        raise MappingError(
            f"rule {rule_name!r} loops over {text!r}, which is a "
            f"{type(items).__name__}, not a list",
            where=where,
        )
    if len(items) > MAX_ITEMS:
        raise MappingError(
            f"rule {rule_name!r} loops over {len(items)} items of {text!r}; "
            f"the limit is {MAX_ITEMS}",
            where=where,
            hint="split the input into smaller documents",
        )
    return items


def check_output_size(tree: Any, limit: int) -> None:
    """Refuse an output of more than ``limit`` values, counting a shared part every time.

    The budget counts each list a run makes once, but an output may hold the same list
    many times (``reduce(range(60), (t, x) -> array($t, $t), 0)``, or one big variable in
    every item of an ``each``): written out, it would be exponentially large. The walk stops
    as soon as the count passes ``limit``, so it costs at most that many steps.
    """
    if output_size(tree, limit) > limit:
        raise output_too_large(limit)


def output_size(tree: Any, limit: int) -> int:
    """The values in ``tree`` (0 for a single value), a shared part counted every time;
    the walk stops once the count passes ``limit`` (the count is then above ``limit``)."""
    kind = type(tree)
    if kind is not dict and kind is not list:
        return 0
    stack = [tree]
    pop, push = stack.pop, stack.append
    count = 0
    while stack:
        node = pop()
        values = node.values() if type(node) is dict else node
        count += len(values)
        if count > limit:
            return count
        for value in values:
            kind = type(value)
            if kind is dict or kind is list:
                push(value)
    return count


def output_too_large(limit: int) -> LimitExceeded:
    """The error of an output past ``limit`` values (see :func:`check_output_size`)."""
    return LimitExceeded(
        f"the output holds more than {limit:,} values (a part of it repeated many "
        "times counts every time; limit mappings.limits.max_values)",
        "raise mappings.limits.max_values in the config if the input is legitimate",
    )
