"""One stored event for a run of steps that a reader still sees one by one.

A translation makes an event per stage (decoded, validated, mapped, encoded). Each was a
row of its own: more rows per message than the history needs. :func:`steps_event` packs
such a run into one ``translated`` event; :func:`unpacked` gives the steps back when the
history is read, so ``GET /messages/{id}`` shows exactly what it showed before.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from hub.message import Event

__all__ = ["PACKED", "steps_event", "unpacked"]

#: The kind of a packed run of steps.
PACKED = "translated"


def steps_event(steps: Sequence[Event]) -> Event:
    """``steps`` (in order) as one event, stamped with the last step's time."""
    ms = sum(float((step.data or {}).get("ms", 0)) for step in steps)
    return Event(
        PACKED,
        f"{len(steps)} step(s) in {ms:.1f} ms",
        data={
            "steps": [
                {
                    "kind": step.kind,
                    "detail": step.detail,
                    "sink": step.sink,
                    "data": dict(step.data) if step.data is not None else None,
                    "at": step.at.isoformat(),
                }
                for step in steps
            ]
        },
        at=steps[-1].at,
    )


def unpacked(events: Iterable[Event]) -> list[Event]:
    """The history as its reader knows it: every packed run back as its steps."""
    history: list[Event] = []
    for event in events:
        steps = _steps(event)
        if steps is None:
            history.append(event)
        else:
            history.extend(steps)
    return history


def _steps(event: Event) -> list[Event] | None:
    if event.kind != PACKED or not isinstance(event.data, dict):
        return None
    steps: Any = event.data.get("steps")
    if not isinstance(steps, list):
        return None
    try:
        return [
            Event(
                kind=str(step["kind"]),
                detail=str(step.get("detail") or ""),
                sink=step.get("sink"),
                data=step.get("data"),
                at=datetime.fromisoformat(step["at"]),
            )
            for step in steps
        ]
    except (KeyError, TypeError, ValueError, AttributeError):
        return None  # not one of ours: shown as stored
