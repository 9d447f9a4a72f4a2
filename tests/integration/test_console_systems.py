"""The Sources and sinks page over real HTTP, on SQLite and on the real PostgreSQL server:
per sink its backlog, last success and last error; per trading partner the acknowledgements
it still owes, linking to the messages that await them."""

from __future__ import annotations

import html
from contextlib import closing
from pathlib import Path

import httpx

from hub.api import create_app
from hub.runtime import Hub
from hub.sdk import InboundRequest
from hub.store.sinks import sink_health
from tests.configs import EXAMPLE_ORDER, demo_config, write_config
from tests.console import sign_in
from tests.integration.test_partners_edifact import config as edi_config
from tests.partners import drain
from tests.peers import Reply, http_peer, serve_app
from tests.waiting import wait_for_progress


def _row(page: str, table: str, start: str) -> str:
    """The row of ``table`` that starts with ``start``: its cells' contents, joined by |."""
    body = page[page.index(f'id="{table}"') :]
    body = body[: body.index("</table>")]
    for row in body.split("<tr>")[1:]:
        cells = row.replace("<th", "<td").split("<td")[1:]
        joined = " | ".join(html.unescape(c[c.index(">") + 1 :].split("</t")[0]) for c in cells)
        if joined.startswith(start):
            return joined
    raise AssertionError(f"no row {start!r} in table {table}")


def test_sinks_show_backlog_last_success_and_last_error(tmp_path: Path, store_url: str) -> None:
    with http_peer() as peer:
        peer.default = Reply(503, body=b"partner down for maintenance")
        sinks = [
            {"name": "archive", "type": "file", "options": {"directory": str(tmp_path / "out")}},
            {"name": "partner", "type": "http", "options": {"url": peer.url}},
        ]
        retry = {"max_attempts": 1000, "initial_delay_seconds": 0.2, "max_delay_seconds": 0.5}
        config = demo_config(
            tmp_path, store_url=store_url, sinks=sinks, retry=retry, auth={"anonymous": ["ingest"]}
        )
        hub = Hub.from_file(write_config(tmp_path, config))
        reader = hub.keys.create("reader", ["read"])[1]
        with serve_app(create_app(hub)) as url, httpx.Client(base_url=url, timeout=10) as api:
            with closing(sign_in(url, reader)) as ui:
                quiet = ui.get("/ui/sources").text
                assert _row(quiet, "sinks", "shop-orders").endswith("| 0 | none | none")

                order = EXAMPLE_ORDER.read_text(encoding="utf-8")
                headers = {"Content-Type": "application/json"}
                sent = api.post("/ingest/shop-orders", content=order, headers=headers).json()["id"]
                wait_for_progress(
                    lambda: api.get(f"/messages/{sent}", headers={"X-API-Key": reader}).json(),
                    lambda body: body["status"] == "retrying" and body["attempts"] >= 1,
                    what="a retried delivery",
                )
                shown = ui.get("/ui/sources")
                assert shown.status_code == 200
                partner = _row(shown.text, "sinks", "shop-orders | partner")
                archive = _row(shown.text, "sinks", "shop-orders | archive")
                # the HTTP partner: one delivery waiting, no success, its refusal
                assert partner.startswith("shop-orders | partner | http | ")
                assert 'route=shop-orders&status=retrying">1</a>' in html.unescape(partner)
                assert "| none |" in partner
                assert "503" in partner
                # the archive took it: no backlog, a success, no error
                assert archive.startswith("shop-orders | archive | file | 0 | 20")
                assert archive.endswith("| none")

            [health] = sink_health(hub.store, [("shop-orders", "partner")])
            assert health.backlog == 1
            assert health.last_error is not None
            assert "503" in health.last_error
            # outside the window (the newest 0 messages): no success or error to show
            [old] = sink_health(hub.store, [("shop-orders", "archive")], window=0)
            assert (old.backlog, old.last_success, old.last_error) == (0, None, None)


def test_awaited_acknowledgements_per_partner(tmp_path: Path) -> None:
    cfg = edi_config(tmp_path, acknowledgements={"send": "never", "expect_within_hours": 1e-9})
    cfg["partners"]["acme"].pop("sink")
    hub = Hub.from_file(write_config(tmp_path, cfg))
    try:
        reader = hub.keys.create("reader", ["read"])[1]
        order = b'{"type": "ORDERS", "segments": [["BGM", "220", "PO-9", "9"]]}'
        sent = hub.ingestor.ingest(InboundRequest(route="orders-to-acme", body=order))
        drain(hub)
        with serve_app(create_app(hub)) as url, closing(sign_in(url, reader)) as ui:
            page = ui.get("/ui/sources").text
            assert _row(page, "acks", "acme") == (
                'acme | <a href="/ui/messages?awaiting_ack=any">1</a> | '
                '<a href="/ui/messages?awaiting_ack=overdue" class="error">1</a>'
            )
            assert "van" in _row(page, "sinks", "orders-to-acme")
            listed = ui.get("/ui/messages", params={"awaiting_ack": "overdue"}).text
            assert f"/ui/messages/{sent.message_id}" in listed
            assert "Found 1" in listed
            assert ui.get("/ui/messages", params={"awaiting_ack": "soon"}).status_code == 400
    finally:
        hub.close()
