"""The console at /ui, driven in the distribution's Chromium (headless) against a real hub.

An operator signs in with an API key, finds an order, traces it, opens it, previews the replay of a
dead letter after fixing the mapping (the diff is shown before anything is sent), replays
it and sees it delivered, and discards another with a reason. A key without read:payload
sees no body. A console user signs in by name and password, discards a selection of dead
letters, tries an edit in the mapping preview editor, reads the sinks' state and sees the
counts change without a reload. The pages are also checked for their cookie and CSRF
protections over plain HTTP. Chromium missing is a failure, not a skip: `.ci/run` installs it.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from hub.api import create_app
from hub.runtime import Hub
from tests.configs import EXAMPLE_ORDER, ROOT, demo_config, write_config
from tests.peers import Reply, http_peer, serve_app
from tests.waiting import wait_for_progress

CHROMIUM = Path("/usr/bin/chromium")
#: The screenshots docs/console.md shows: rewritten only when asked, so a test run leaves
#: the checkout as it was (they always go to the test's folder too).
DOC_SHOTS = ROOT / "docs" / "console"
UPDATE_DOC_SHOTS = os.environ.get("HUB_UPDATE_SCREENSHOTS") == "1"
REFUSAL = b'{"error": "field note: longer than the 40 characters the ERP takes"}'
#: How long a page may take to show what is expected: pages answer in milliseconds, but the
#: machine is shared (2 cores, often a load of 8) and Playwright's default is 5 s.
expect.set_options(timeout=20_000)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert CHROMIUM.exists(), "no /usr/bin/chromium: `apt-get install -y chromium` (.ci/run does)"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox"], headless=True
        )
        yield launched
        launched.close()


def _order(number: int) -> dict[str, Any]:
    order: dict[str, Any] = json.loads(EXAMPLE_ORDER.read_text(encoding="utf-8"))
    order["id"], order["number"] = number, str(number)
    return order


def _wait(client: httpx.Client, message_id: str, status: str, key: str) -> dict[str, Any]:
    found: dict[str, Any] = wait_for_progress(
        lambda: client.get(f"/messages/{message_id}", headers={"X-API-Key": key}).json(),
        lambda body: body["status"] == status,
        what=f"message {message_id} to become {status}",
    )
    return found


def _sign_in(page: Page, url: str, key: str) -> None:
    page.goto(f"{url}/ui/login")
    page.get_by_label("API key", exact=True).fill(key)
    page.get_by_label("API key", exact=True).press("Enter")  # the keyboard is enough
    expect(page.get_by_role("heading", name="Messages", exact=True)).to_be_visible()


def _shot(page: Page, folder: Path, name: str, *, full_page: bool = True) -> None:
    for where in (folder, DOC_SHOTS) if UPDATE_DOC_SHOTS else (folder,):
        where.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(where / f"{name}.png"), full_page=full_page)


def test_an_operator_finds_previews_replays_and_discards(tmp_path: Path, browser: Browser) -> None:
    mapping = tmp_path / "mappings" / "woocommerce-order-to-erp.yaml"
    mapping.parent.mkdir()
    shutil.copy(ROOT / "mappings" / "woocommerce-order-to-erp.yaml", mapping)
    with http_peer() as erp:
        # the ERP refuses both orders: their note is too long for it
        erp.replies = [Reply(400, body=REFUSAL), Reply(400, body=REFUSAL)]
        erp.default = Reply(201)
        sinks = [{"name": "erp", "type": "http", "options": {"url": erp.url}}]
        config = demo_config(tmp_path, sinks=sinks, auth={"anonymous": ["ingest"]})
        config["files"]["allowed_roots"].append(str(tmp_path))
        config["routes"]["shop-orders"]["mapping"] = str(mapping)
        config["mappings"] = {"reload_seconds": 0.2}
        hub = Hub.from_file(write_config(tmp_path, config))
        operator = hub.keys.create("dana", ["read", "read:payload", "operate"])[1]
        viewer = hub.keys.create("vic", ["read"])[1]
        with serve_app(create_app(hub)) as url, httpx.Client(base_url=url, timeout=10) as api:
            first = api.post("/ingest/shop-orders", json=_order(727)).json()["id"]
            second = api.post("/ingest/shop-orders", json=_order(728)).json()["id"]
            _wait(api, first, "failed", operator)
            _wait(api, second, "failed", operator)

            page = browser.new_page(viewport={"width": 1280, "height": 900})
            _sign_in(page, url, operator)
            counts = page.locator("table.counts")
            expect(counts.get_by_role("row", name="shop-orders")).to_contain_text("2")
            page.get_by_label("Business key (order number)").fill("727")
            page.get_by_role("button", name="Search").click()
            expect(page.get_by_role("heading", name="Found 1")).to_be_visible()
            _shot(page, tmp_path / "shots", "messages")

            nav = page.get_by_role("navigation")
            nav.get_by_role("link", name="Trace").click()
            page.get_by_label("Business key (order number)").fill("727")
            page.get_by_label("Business key (order number)").press("Enter")
            expect(page.get_by_role("heading", name="1 message(s)")).to_be_visible()
            expect(page.locator("#timeline li").first).to_contain_text("received")
            expect(page.locator("#timeline li").last).to_contain_text("failed")
            _shot(page, tmp_path / "shots", "trace")

            page.get_by_role("link", name="727").click()
            expect(page.get_by_role("heading", name="Message 727 failed")).to_be_visible()
            expect(page.locator("#body")).to_contain_text("Bitte beim Nachbarn abgeben")
            expect(page.locator("#output")).to_contain_text('"note"')
            expect(page.get_by_text("What to do: the sink refused")).to_be_visible()
            expect(page.locator(".history")).to_contain_text("failed")
            _shot(page, tmp_path / "shots", "message")

            # the fix: the ERP gets no note any more; hot reload serves the edited file
            text = mapping.read_text(encoding="utf-8")
            mapping.write_text(text.replace("  note: customer_note\n", ""), encoding="utf-8")
            wait_for_progress(
                lambda: api.get("/mappings", headers={"X-API-Key": operator}).json(),
                lambda body: body["routes"][0]["hash"] == body["routes"][0]["file_hash"],
                what="the edited mapping to serve",
            )

            page.get_by_role("navigation").get_by_role("link", name="Dead letters").click()
            letter = page.locator(f"#dl-{first}")
            expect(letter).to_contain_text("longer than the 40 characters")
            letter.get_by_role("button", name="Preview replay").click()
            diff = page.locator("#diff")
            expect(diff).to_contain_text('-  "note": "Bitte beim Nachbarn')
            expect(diff.locator(".add")).to_have_count(1)  # the "+++" header line only
            assert len(erp.received) == 2  # a preview sends nothing
            _shot(page, tmp_path / "shots", "replay-preview")

            page.get_by_label("Reason (kept in the audit)").fill("ERP takes no notes")
            page.get_by_role("button", name="Replay now").click()
            expect(page.get_by_role("status")).to_contain_text(f"replay {first}")
            _wait(api, first, "delivered", operator)
            page.reload()
            expect(page.get_by_role("heading", name="Message 727 delivered")).to_be_visible()
            expect(page.locator(".history")).to_contain_text("delivered")
            expect(page.get_by_text("dana replay: ERP takes no notes")).to_be_visible()
            assert "note" not in json.loads(erp.received[-1].body)

            page.get_by_role("navigation").get_by_role("link", name="Dead letters").click()
            other = page.locator(f"#dl-{second}")
            other.get_by_label("Reason").fill("order cancelled by phone")
            other.get_by_role("button", name="Discard").click()
            expect(page.get_by_role("status")).to_contain_text(f"discard {second}")
            expect(page.get_by_text("No dead letters.")).to_be_visible()
            trail = api.get(f"/messages/{second}/audit", headers={"X-API-Key": operator}).json()
            assert [(a["actor"], a["action"], a["reason"]) for a in trail] == [
                ("dana", "discard", "order cancelled by phone")
            ]

            page.get_by_role("button", name="Sign out").click()
            expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
            page.goto(f"{url}/ui/messages")
            expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
            page.close()

            # a key without read:payload sees the history, never a body
            page = browser.new_page()
            _sign_in(page, url, viewer)
            page.goto(f"{url}/ui/messages/{first}")
            expect(page.locator("#no-payload")).to_be_visible()
            expect(page.locator("#body")).to_have_count(0)
            assert "Bitte beim Nachbarn" not in page.content()
            page.goto(f"{url}/ui/dead-letters")
            expect(page.get_by_role("button", name="Discard")).to_have_count(0)
            _shot(page, tmp_path / "shots", "no-payload")
            page.close()


def test_a_console_user_acts_on_many_previews_an_edit_and_watches_counts(
    tmp_path: Path, browser: Browser
) -> None:
    """A user signs in by name and password, selects all dead letters but one and discards
    them with a reason, tries an edited mapping in the preview editor (a problem at its line
    and column, then the output), reads the sinks' state, and sees the counts change
    without reloading the Messages page."""
    with http_peer() as erp:
        erp.default = Reply(400, body=REFUSAL)
        sinks = [
            {"name": "archive", "type": "file", "options": {"directory": str(tmp_path / "out")}},
            {"name": "erp", "type": "http", "options": {"url": erp.url}},
        ]
        config = demo_config(tmp_path, sinks=sinks, auth={"anonymous": ["ingest"]})
        hub = Hub.from_file(write_config(tmp_path, config))
        hub.users.create("dana", "correct horse battery staple", ["read", "operate"])
        operator = hub.keys.create("ops", ["read"])[1]
        with serve_app(create_app(hub)) as url, httpx.Client(base_url=url, timeout=10) as api:
            ids = [api.post("/ingest/shop-orders", json=_order(n)).json()["id"] for n in (1, 2, 3)]
            for message_id in ids:
                _wait(api, message_id, "failed", operator)

            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(f"{url}/ui/login")
            expect(page.get_by_label("User name")).to_be_focused()
            _shot(page, tmp_path / "shots", "sign-in")
            page.get_by_label("User name").fill("dana")
            page.get_by_label("Password").fill("correct horse battery staple")
            page.get_by_label("Password").press("Enter")
            expect(page.get_by_role("heading", name="Messages", exact=True)).to_be_visible()
            expect(page.get_by_text("Signed in as dana")).to_be_visible()

            # the counts refresh by themselves: a new dead letter shows without a reload
            page.evaluate("window.notReloaded = true")
            failed = page.locator('td[data-route="shop-orders"][data-status="failed"]')
            expect(failed).to_have_text("3")
            ids.append(api.post("/ingest/shop-orders", json=_order(4)).json()["id"])
            _wait(api, ids[-1], "failed", operator)
            expect(failed).to_have_text("4", timeout=30_000)
            assert page.evaluate("window.notReloaded") is True
            expect(page.locator("#counts-live")).to_contain_text("refresh every 5 s")
            _shot(page, tmp_path / "shots", "live-counts")

            # select all, then all but order 4, and discard them with one reason
            page.get_by_role("navigation").get_by_role("link", name="Dead letters").click()
            select_all = page.get_by_label("Select all 4 on this page")
            select_all.check()
            expect(page.locator("#selected-count")).to_have_text("4")
            page.get_by_label("Select 4", exact=True).uncheck()
            expect(page.locator("#selected-count")).to_have_text("3")
            assert page.evaluate("document.getElementById('select-all').indeterminate") is True
            page.get_by_label("Reason (kept in the audit; a discard needs one)").fill("test orders")
            _shot(page, tmp_path / "shots", "dead-letters-selected", full_page=False)
            page.get_by_role("button", name="Discard selected").click()
            expect(page.get_by_role("status")).to_contain_text("discarded 3 of 3")
            expect(page.locator("article.card")).to_have_count(1)
            for message_id in ids[:3]:
                trail = api.get(
                    f"/messages/{message_id}/audit", headers={"X-API-Key": operator}
                ).json()
                assert [(a["actor"], a["reason"]) for a in trail] == [("dana", "test orders")]

            # the preview editor: a field the ERP does not take, located; then the fix
            page.get_by_role("navigation").get_by_role("link", name="Mappings").click()
            page.get_by_role("link", name="Preview an edit of shop-orders").click()
            text = page.get_by_label("Mapping (YAML) of route shop-orders")
            original = text.input_value()
            sample = page.get_by_label("Sample input")
            expect(sample).to_have_value("")  # dana may not read bodies: none offered
            sample.fill(EXAMPLE_ORDER.read_text(encoding="utf-8"))
            line = original.splitlines().index("  note: customer_note") + 1
            text.fill(original.replace("  note: customer_note", "  notes: customer_note"))
            page.get_by_role("button", name="Run preview").click()
            where = page.get_by_role("link", name=f"line {line}, column 3")
            expect(where).to_be_visible()
            expect(page.get_by_role("alert")).to_contain_text("'notes' is not allowed")
            where.focus()
            page.keyboard.press("Enter")  # the keyboard takes the caret there
            expect(text).to_be_focused()
            caret = text.evaluate("area => area.value.slice(0, area.selectionStart)")
            assert caret.count("\n") == line - 1
            assert caret.endswith("  ")  # column 3
            _shot(page, tmp_path / "shots", "mapping-editor")
            text.fill(original.replace("  note: customer_note\n", ""))
            page.get_by_role("button", name="Run preview").click()
            output = page.locator("#preview-output")
            expect(output).to_contain_text('"order_number": "727"')
            expect(output).not_to_contain_text('"note"')

            # sources and sinks: the archive took every order, the ERP refused them
            page.get_by_role("navigation").get_by_role("link", name="Sources and sinks").click()
            sinks_table = page.locator("#sinks")
            expect(sinks_table.get_by_role("row", name="archive")).to_contain_text("none")
            expect(sinks_table.get_by_role("row", name="erp")).to_contain_text("longer than")
            _shot(page, tmp_path / "shots", "sources-and-sinks")
            page.close()
