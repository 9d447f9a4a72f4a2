"""The series a PromQL expression names, and the dashboard's expressions made concrete.

Not a PromQL parser: Prometheus (promtool, or the server's query API) parses the expressions
in the tests; this only lists the metric names they select, to compare with what the hub
exports. Label matchers, quoted strings, ranges and grouping clauses are removed first; what
is left that is not a function, keyword or number is a metric name.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'')
_BRACES = re.compile(r"\{[^{}]*\}")
_RANGE = re.compile(r"\[[^\]]*\]")
_CLAUSE = re.compile(
    r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", re.IGNORECASE
)
_NAME = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")
_KEYWORDS = {"and", "or", "unless", "bool", "offset", "inf", "nan", "atan2"}

#: Grafana's variables, as the dashboard's queries would be sent with "All" routes.
GRAFANA_VARIABLES = {
    "${datasource}": "prometheus",
    "$__rate_interval": "1m",
    "$__interval": "15s",
    "$__range": "1h",
    "$route": ".*",
}


def metric_names(expr: str) -> set[str]:
    """The metric names an expression selects (``hub_x{...}``, ``rate(hub_y[5m])``)."""
    text = _STRING.sub('""', expr)
    text = _BRACES.sub(" ", text)
    text = _RANGE.sub(" ", text)
    text = _CLAUSE.sub(" ", text)
    names: set[str] = set()
    for match in _NAME.finditer(text):
        rest = text[match.end() :].lstrip()
        word = match.group(0)
        if rest.startswith("(") or word.lower() in _KEYWORDS:
            continue  # a function or an aggregation, not a series
        names.add(word)
    return names


def concrete(expr: str) -> str:
    """The expression with Grafana's variables replaced by values Prometheus accepts."""
    for variable, value in GRAFANA_VARIABLES.items():
        expr = expr.replace(variable, value)
    return expr


def dashboard_expressions(dashboard: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(where, expression) for every query of every panel, rows' panels included."""

    def panels(items: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        for item in items:
            yield item
            yield from panels(item.get("panels", []))

    for panel in panels(dashboard["panels"]):
        for target in panel.get("targets", []):
            yield f"panel {panel['title']!r} query {target['refId']}", target["expr"]


def exported_names(exposition: str) -> set[str]:
    """The series names a Prometheus text exposition declares or shows.

    A labelled counter shows no sample until it first counts, so its ``# TYPE`` line is
    what says it is exported; a histogram declares ``_bucket``, ``_sum`` and ``_count``.
    """
    names: set[str] = set()
    for line in exposition.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            suffixes = ("_bucket", "_sum", "_count") if kind in ("histogram",) else ("",)
            names.update(name + suffix for suffix in suffixes)
        elif line and not line.startswith("#"):
            names.add(re.split(r"[{\s]", line, maxsplit=1)[0])
    return names
