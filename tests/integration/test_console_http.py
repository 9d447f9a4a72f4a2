"""The console's protections over real HTTP: the session cookie's flags, CSRF on every
form, sessions that end with sign-out or with their key, and scopes on every page."""

from __future__ import annotations

import copy
import json
import re
from contextlib import closing
from pathlib import Path

import httpx

from hub.api import create_app
from hub.runtime import Hub
from tests.configs import EXAMPLE_ORDER, demo_config, write_config
from tests.console import csrf_of, refusing_partner, sign_in
from tests.peers import serve_app
from tests.waiting import wait_for_progress

JSON = {"Content-Type": "application/json"}


def test_sign_in_cookie_csrf_scopes_and_sign_out(tmp_path: Path) -> None:
    with refusing_partner(tmp_path) as (_, config):
        hub = Hub.from_file(config)
        operator = hub.keys.create("ops", ["read", "operate"])[1]
        metrics_only = hub.keys.create("prom", ["metrics"])[1]
        with serve_app(create_app(hub)) as url, httpx.Client(base_url=url, timeout=10) as api:
            order = json.loads(EXAMPLE_ORDER.read_text(encoding="utf-8"))
            letter = api.post("/ingest/shop-orders", json=order).json()["id"]
            wait_for_progress(
                lambda: api.get(f"/messages/{letter}", headers={"X-API-Key": operator}).json(),
                lambda body: body["status"] == "failed",
                what="a dead letter",
            )

            # no session: every page sends to the sign-in, which is a labelled form
            assert api.get("/ui/messages").headers["location"] == "/ui/login"
            login = api.get("/ui/login")
            assert '<label for="key">API key</label>' in login.text
            assert "default-src 'none'" in login.headers["content-security-policy"]
            assert api.post("/ui/login", data={"key": "sb_nope"}).status_code == 401
            refused = hub.metrics.registry.get_sample_value(
                "hub_auth_failures_total", {"reason": "malformed"}
            )
            assert refused == 1  # a refused sign-in is counted like the API's refusals
            assert api.post("/ui/login", data={"key": metrics_only}).status_code == 403
            assert "/ui" not in json.dumps(api.get("/openapi.json").json()["paths"])

            signed = api.post("/ui/login", data={"key": operator})
            cookie = signed.headers["set-cookie"]
            assert cookie.startswith("hub_console=")
            for flag in ("HttpOnly", "SameSite=strict", "Path=/ui"):
                assert flag.lower() in cookie.lower(), cookie
            assert "secure" not in cookie.lower()  # plain http here
            # behind a TLS proxy on loopback (uvicorn trusts its X-Forwarded-Proto): Secure
            proxied = api.post(
                "/ui/login", data={"key": operator}, headers={"X-Forwarded-Proto": "https"}
            )
            assert "; secure" in proxied.headers["set-cookie"].lower()
            assert operator not in cookie

            with closing(sign_in(url, operator)) as ops:
                page = ops.get("/ui/dead-letters")
                assert page.status_code == 200
                assert letter in page.text
                assert "no-store" in page.headers["cache-control"]
                token = csrf_of(page.text)
                # no token, a wrong one, or JSON instead of a form: refused, nothing changes
                for data in ({"reason": "x"}, {"reason": "x", "csrf": "forged"}):
                    refused = ops.post(f"/ui/dead-letters/{letter}/discard", data=data)
                    assert refused.status_code == 400, refused.text
                as_json = ops.post(
                    f"/ui/dead-letters/{letter}/discard", json={"reason": "x", "csrf": token}
                )
                assert as_json.status_code == 400
                assert (
                    ops.get(f"/messages/{letter}", headers={"X-API-Key": operator}).json()["status"]
                    == "failed"
                )
                # a blank reason is refused with where and how
                blank = ops.post(
                    f"/ui/dead-letters/{letter}/discard", data={"reason": " ", "csrf": token}
                )
                assert blank.status_code == 400
                assert "needs a reason" in blank.text
                # bodies need read:payload: this key has none, its preview shows no body
                shown = ops.post(f"/ui/dead-letters/{letter}/preview", data={"csrf": token})
                assert shown.status_code == 200
                assert "read:payload" in shown.text
                assert "Bitte beim Nachbarn" not in shown.text
                message = ops.get(f"/ui/messages/{letter}").text
                assert "Bitte beim Nachbarn" not in message
                assert 'id="no-payload"' in message
                assert ops.get("/ui/messages/nope").status_code == 404
                bad = ops.get("/ui/messages", params={"since": "yesterday"})
                assert bad.status_code == 400
                assert "since is not a date" in bad.text

                # sign-out ends the session on the server: the old cookie opens nothing
                old = ops.cookies.get("hub_console")
                assert ops.post("/ui/logout", data={"csrf": token}).status_code == 303
                api.cookies.set("hub_console", old or "", path="/ui")
                assert api.get("/ui/messages").status_code == 303
                api.cookies.clear()

            # revoking the key ends its sessions at once
            with closing(sign_in(url, operator)) as ops:
                assert ops.get("/ui/messages").status_code == 200
                hub.keys.revoke("ops")
                assert ops.get("/ui/messages").headers["location"] == "/ui/login"


def test_trace_mappings_and_sources_pages(tmp_path: Path) -> None:
    """One order arrives by webhook and from a polled folder: the trace shows both routes in
    time order; the Mappings and Sources pages show what GET /mappings and /sources say."""
    config = demo_config(tmp_path, auth={"anonymous": ["ingest"]})
    polled = copy.deepcopy(config["routes"]["shop-orders"])
    polled["source"] = {
        "type": "directory",
        "schedule": {"interval_seconds": 0.2, "batch": 5, "lease_seconds": 5},
        "options": {"path": str(tmp_path / "inbox"), "pattern": "*.json", "settle_seconds": 0},
    }
    config["routes"]["polled-orders"] = polled
    (tmp_path / "inbox").mkdir()
    hub = Hub.from_file(write_config(tmp_path, config))
    reader = hub.keys.create("reader", ["read"])[1]
    with serve_app(create_app(hub)) as url, httpx.Client(base_url=url, timeout=10) as api:
        order = EXAMPLE_ORDER.read_text(encoding="utf-8")
        hooked = api.post("/ingest/shop-orders", content=order, headers=JSON).json()["id"]
        (tmp_path / "inbox" / "727.json").write_text(order, encoding="utf-8")
        listed = wait_for_progress(
            lambda: api.get(
                "/messages", params={"correlation_key": "727"}, headers={"X-API-Key": reader}
            ).json()["messages"],
            lambda found: len(found) == 2 and {m["status"] for m in found} == {"delivered"},
            what="order 727 delivered on both routes",
        )
        with closing(sign_in(url, reader)) as ui:
            page = ui.get("/ui/trace", params={"key": "727"})
            assert page.status_code == 200
            assert "2 message(s)" in page.text
            timeline = page.text[page.text.index('id="timeline"') :]
            routes = re.findall(r'<span class="route">([^<]+)</span> <strong>received', timeline)
            first_in = min(listed, key=lambda m: m["received_at"])["route"]
            assert routes[0] == first_in
            assert sorted(routes) == ["polled-orders", "shop-orders"]
            times = re.findall(r"<time>([^<]+)</time>", timeline)
            assert times == sorted(times)  # time order across both routes
            assert hooked in page.text
            assert "No message has this key." in ui.get("/ui/trace?key=nope").text

            mappings = ui.get("/ui/mappings").text
            served = api.get("/mappings", headers={"X-API-Key": reader}).json()["routes"]
            assert len(served) == 2
            for route in served:
                assert f"<code>{route['hash']}</code>" in mappings
            assert "the same" in mappings

            page = ui.get("/ui/sources").text
            sources = page[page.index('id="sources"') : page.index('id="sinks"')]
            assert "polled-orders" in sources
            assert "directory" in sources
            assert "every 0.2s" in sources
            assert "shop-orders</td>" not in sources  # an HTTP route is no poll source
