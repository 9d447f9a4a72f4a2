"""Dead letters over HTTP: list with filters, replay, discard, and the audit trail."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from hub.api.auth import Caller, GuardedRoute, get_caller, needs
from hub.api.deps import get_hub
from hub.api.docs import responses
from hub.api.filters import Filters
from hub.api.messages import LISTING_ERRORS, MessageId
from hub.credentials import OPERATE, READ
from hub.errors import HubError
from hub.message import MessageStatus
from hub.runtime import Hub
from hub.store import ReplayMode
from hub.views import SummaryView, summary_view

__all__ = ["router"]

router = APIRouter(tags=["dead letters"], route_class=GuardedRoute)

#: Who asks: the API key's name (or `anonymous`), kept in the audit; never a header the
#: client chose.
Actor = Annotated[Caller, Depends(get_caller)]

#: What a request with a JSON body can be answered besides its answer.
_BODY_ERRORS = (400, 408, 422, 503)
_NOT_UTF8 = "The body is not UTF-8 JSON."
#: ... and one on a dead letter.
_ON_A_DEAD_LETTER = responses(
    404,
    409,
    *_BODY_ERRORS,
    said={400: _NOT_UTF8, 404: "No message with that id.", 409: "The message is not failed."},
)


class Replay(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mode: ReplayMode = Field(
        "current", description="current: translate again with today's mapping; original: resend"
    )
    reason: str = Field("", description="why (kept in the audit)")


class Discard(BaseModel):
    # Python's regular expressions, so "whitespace" is what the store's check calls it
    model_config = ConfigDict(extra="forbid", regex_engine="python-re")

    reason: str = Field(
        pattern=r"\S", description="why it is dropped (kept in the audit): not only spaces"
    )


class Replayed(BaseModel):
    id: str
    status: Literal["received"] = Field(description="the worker takes it up again")
    mode: ReplayMode


class Discarded(BaseModel):
    id: str
    status: Literal["discarded"]


class AuditEntry(BaseModel):
    at: datetime
    actor: str
    action: Literal["replay", "discard"]
    reason: str
    data: dict[str, Any] | None = Field(description="e.g. the replay's mode")


class BulkReplay(Replay):
    ids: list[str] = Field(min_length=1, max_length=1000)


class BulkReplayed(BaseModel):
    results: dict[str, str] = Field(
        description="per id: `replayed`, or why not (`message_not_found: ...`, "
        "`state_conflict: ...`)"
    )


@router.get(
    "/dead-letters",
    response_model=list[SummaryView],
    responses=LISTING_ERRORS,
    operation_id="list_dead_letters",
)
@needs(READ)
async def list_dead_letters(
    hub: Annotated[Hub, Depends(get_hub)], filters: Filters
) -> list[SummaryView]:
    """Failed messages (or other statuses), newest first; `GET /messages` pages through all."""
    where = filters.where(statuses=(MessageStatus.FAILED,))
    found = await run_in_threadpool(hub.dead_letters.find, where)
    return [summary_view(m) for m in found]


@router.post(
    "/messages/{message_id}/replay",
    response_model=Replayed,
    responses=_ON_A_DEAD_LETTER,
    operation_id="replay_message",
)
@needs(OPERATE)
async def replay(
    message_id: MessageId,
    body: Replay,
    hub: Annotated[Hub, Depends(get_hub)],
    caller: Actor,
) -> Replayed:
    """Send a dead letter through again; sinks that already have it are skipped."""
    await run_in_threadpool(
        lambda: hub.dead_letters.replay(
            message_id, actor=caller.name, reason=body.reason, mode=body.mode
        )
    )
    hub.worker.wake()
    return Replayed(id=message_id, status="received", mode=body.mode)


@router.post(
    "/messages/{message_id}/discard",
    response_model=Discarded,
    responses=_ON_A_DEAD_LETTER,
    operation_id="discard_message",
)
@needs(OPERATE)
async def discard(
    message_id: MessageId,
    body: Discard,
    hub: Annotated[Hub, Depends(get_hub)],
    caller: Actor,
) -> Discarded:
    """Drop a dead letter for good, with a reason."""
    await run_in_threadpool(
        lambda: hub.dead_letters.discard(message_id, actor=caller.name, reason=body.reason)
    )
    return Discarded(id=message_id, status="discarded")


@router.get(
    "/messages/{message_id}/audit",
    response_model=list[AuditEntry],
    responses=responses(404, 503, said={404: "No message with that id."}),
    operation_id="get_message_audit",
)
@needs(READ)
async def audit(message_id: MessageId, hub: Annotated[Hub, Depends(get_hub)]) -> list[AuditEntry]:
    """Every replay and discard of the message: who, when, why (empty: none yet)."""
    entries = await run_in_threadpool(hub.dead_letters.audit, message_id)
    return [AuditEntry.model_validate(entry) for entry in entries]


@router.post(
    "/dead-letters/replay",
    response_model=BulkReplayed,
    responses=responses(*_BODY_ERRORS, said={400: _NOT_UTF8}),
    operation_id="replay_dead_letters",
)
@needs(OPERATE)
async def replay_many(
    body: BulkReplay,
    hub: Annotated[Hub, Depends(get_hub)],
    caller: Actor,
) -> BulkReplayed:
    """Replay several dead letters; each succeeds or fails on its own, reported per id."""

    def replay_all() -> dict[str, str]:
        results: dict[str, str] = {}
        for message_id in body.ids:
            try:
                hub.dead_letters.replay(
                    message_id, actor=caller.name, reason=body.reason, mode=body.mode
                )
                results[message_id] = "replayed"
            except HubError as exc:
                results[message_id] = f"{exc.code}: {exc.message}"
        return results

    results = await run_in_threadpool(replay_all)
    hub.worker.wake()
    return BulkReplayed(results=results)
