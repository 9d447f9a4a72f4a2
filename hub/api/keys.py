"""``GET /keys``: the API keys of the store, for an admin: names, scopes, states, never tokens.

Keys are made and revoked with ``hub keys`` on the command line, where the token can be
shown once to the person who asked for it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from hub.api.auth import GuardedRoute, needs
from hub.api.deps import get_hub
from hub.api.docs import responses
from hub.credentials import ADMIN
from hub.runtime import Hub

__all__ = ["router"]

router = APIRouter(tags=["keys"], route_class=GuardedRoute)


class KeyView(BaseModel):
    name: str = Field(description="the name the audit trail records for the key's actions")
    key_id: str = Field(description="the public part of the token: `hub_<key_id>_...`")
    scopes: list[str]
    state: Literal["active", "expired", "revoked"]
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None


@router.get(
    "/keys",
    response_model=list[KeyView],
    responses=responses(503, said={503: "The store is unavailable (with Retry-After)."}),
    operation_id="list_keys",
)
@needs(ADMIN)
async def list_keys(hub: Annotated[Hub, Depends(get_hub)]) -> list[KeyView]:
    """Every key, oldest first (`hub keys create|revoke` change them)."""
    keys = await run_in_threadpool(hub.keys.list)
    return [
        KeyView(
            name=k.name,
            key_id=k.key_id,
            scopes=list(k.scopes),
            state=k.state().value,
            created_at=k.created_at,
            expires_at=k.expires_at,
            revoked_at=k.revoked_at,
        )
        for k in keys
    ]
