"""``server.http`` and ``server.loop``: what ``auto`` picks, and a stack that is not installed."""

from __future__ import annotations

import importlib.util

import pytest

from hub.api.server import event_loop, guarded_protocol, http_parser
from hub.config.models import ServerConfig
from hub.errors import HubError


def test_auto_picks_httptools_when_installed_and_h11_is_always_there() -> None:
    assert importlib.util.find_spec("httptools") is not None  # the dev extras install it
    assert http_parser("auto") == "httptools"
    assert http_parser("h11") == "h11"
    assert http_parser("httptools") == "httptools"


def test_each_parser_gets_the_configured_deadline_and_head_cap() -> None:
    server = ServerConfig(http="httptools", header_timeout_seconds=3, max_header_bytes=2048)
    protocol = guarded_protocol(server)
    assert protocol.__name__ == "HubGuardedHttpToolsProtocol"
    assert getattr(protocol, "header_timeout", None) == 3
    assert getattr(protocol, "max_head_bytes", None) == 2048
    h11 = guarded_protocol(ServerConfig(http="h11", header_timeout_seconds=4))
    assert h11.__name__ == "HubGuardedH11Protocol"
    assert getattr(h11, "header_timeout", None) == 4


def test_a_stack_that_is_not_installed_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec

    def without_fast(name: str, *args: object) -> object:
        return None if name in ("httptools", "uvloop") else real(name)

    monkeypatch.setattr(importlib.util, "find_spec", without_fast)
    assert http_parser("auto") == "h11"
    assert event_loop("auto") == "auto"  # uvicorn's auto falls back to asyncio by itself
    with pytest.raises(HubError) as parser:
        http_parser("httptools")
    assert parser.value.where == "server.http"
    assert "switchboard-hub[fast]" in (parser.value.hint or "")
    with pytest.raises(HubError) as loop:
        event_loop("uvloop")
    assert loop.value.where == "server.loop"
