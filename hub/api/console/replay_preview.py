"""Replay preview: what a dead letter would send now, beside what it failed with.

The current mapping of the message's route runs on the stored body through ``/preview``'s
machinery (its pool, limits and schema checks); nothing is stored or sent. The diff is
between the message's last output (none when it failed before translation) and the new one.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass

from hub.api.preview import PreviewRequest, _preview
from hub.api.preview_pool import PreviewBusy, PreviewPool, PreviewStopped
from hub.errors import HubError
from hub.runtime import Hub

__all__ = ["ReplayPreview", "pretty", "preview_replay"]


@dataclass(frozen=True)
class ReplayPreview:
    before: str | None  # the output it failed with / last sent (None: never translated)
    after: str | None  # what the current mapping makes of the body now (None: it fails)
    problem: str | None  # why ``after`` is None, with where and how to fix it
    diff: tuple[str, ...]  # a unified diff, before -> after
    #: False: the mapping file on disk (what ran) is not yet the version the route serves,
    #: so a replay now would still use the serving one (hot reload, or a refused edit)
    same_as_serving: bool | None = None
    mapping: str | None = None  # name and hash of the version that ran


async def preview_replay(hub: Hub, pool: PreviewPool, message_id: str) -> ReplayPreview:
    record = hub.store.get(message_id)
    stored = hub.store.output(message_id)
    before = stored[0].decode("utf-8", errors="replace") if stored is not None else None
    body = record.message.body.decode("utf-8", errors="replace")
    request = PreviewRequest(route=record.message.route, input=body)
    after: str | None = None
    problem: str | None = None
    same: bool | None = None
    mapping: str | None = None
    try:
        ran = await pool.run(lambda cancel: _preview(request, hub, cancel))
        after, same = ran.encoded, ran.mapping.same_as_serving
        mapping = f"{ran.mapping.name} {ran.mapping.hash}"
    except (PreviewBusy, PreviewStopped):
        problem = "every preview slot is busy or the hub is stopping: try again shortly"
    except RecursionError:
        problem = "the body nests too deeply to translate"
    except HubError as exc:
        problem = _explain(exc)
    diff = tuple(
        difflib.unified_diff(
            _lines(before),
            _lines(after),
            fromfile="failed with" if before is not None else "(no output before)",
            tofile="would send now",
            lineterm="",
        )
    )
    return ReplayPreview(
        before=before,
        after=after,
        problem=problem,
        diff=diff,
        same_as_serving=same,
        mapping=mapping,
    )


def _explain(exc: HubError) -> str:
    parts = [exc.message]
    if exc.where:
        parts.append(f"at {exc.where}")
    if exc.hint:
        parts.append(f"({exc.hint})")
    for problem in exc.problems:
        parts.append(f"; {problem}")
    return " ".join(parts)


def _lines(text: str | None) -> list[str]:
    if text is None:
        return []
    return pretty(text).splitlines()


def pretty(text: str) -> str:
    """JSON indented one key a line so the diff shows which field changed; else as it is."""
    try:
        return json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=False)
    except ValueError:
        return text
