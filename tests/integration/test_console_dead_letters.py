"""The Dead letters page's selection over real HTTP: replay or discard many at once, with a
reason, CSRF and the operate scope; each message succeeds or fails on its own. And the
live counts the Messages page polls, which follow."""

from __future__ import annotations

from contextlib import closing
from pathlib import Path

import httpx

from hub.api import create_app
from hub.runtime import Hub
from tests.console import csrf_of, order, refusing_partner, sign_in
from tests.peers import Reply, serve_app
from tests.waiting import wait_for_progress


def _status(api: httpx.Client, key: str, message_id: str) -> str:
    found: str = api.get(f"/messages/{message_id}", headers={"X-API-Key": key}).json()["status"]
    return found


def test_replay_and_discard_a_selection(tmp_path: Path) -> None:
    with refusing_partner(tmp_path) as (peer, config):
        hub = Hub.from_file(config)
        operator = hub.keys.create("ops", ["read", "operate"])[1]
        reader = hub.keys.create("reader", ["read"])[1]
        with serve_app(create_app(hub)) as url, httpx.Client(base_url=url, timeout=10) as api:
            ids = [api.post("/ingest/shop-orders", json=order(n)).json()["id"] for n in range(5)]
            wait_for_progress(
                lambda: [_status(api, operator, i) for i in ids],
                lambda found: set(found) == {"failed"},
                what="five dead letters",
            )
            with closing(sign_in(url, operator)) as ops:
                listed = ops.get("/ui/dead-letters").text
                token = csrf_of(listed)
                for message_id in ids:
                    assert f'name="ids" value="{message_id}" form="bulk"' in listed
                assert 'id="select-all"' in listed
                live = ops.get("/ui/live/counts")
                assert live.status_code == 200
                assert live.headers["cache-control"] == "no-store"
                assert live.json()["counts"]["shop-orders"]["failed"] == 5
                assert live.json()["counts"]["shop-orders"]["discarded"] == 0
                assert api.get("/ui/live/counts").status_code == 401  # no session, no counts
                selection = "/ui/dead-letters/selection"

                # without the CSRF token, without a reason for a discard, or with nothing
                # ticked: refused, nothing changes
                forged = {"ids": ids[:2], "action": "discard", "reason": "x"}
                assert ops.post(selection, data=forged).status_code == 400
                blank = {"ids": ids[:2], "action": "discard", "reason": " ", "csrf": token}
                answer = ops.post(selection, data=blank)
                assert answer.status_code == 400
                assert "a discard needs a reason" in answer.text
                none = ops.post(selection, data={"action": "replay", "csrf": token})
                assert none.status_code == 400
                assert "no dead letter selected" in none.text
                assert {_status(api, operator, i) for i in ids} == {"failed"}

                # discard two with one reason: each audited with the key's name
                discard = {"ids": ids[:2], "action": "discard", "reason": "test orders"}
                done = ops.post(selection, data={**discard, "csrf": token})
                assert done.status_code == 303
                shown = ops.get(done.headers["location"]).text
                assert "discarded 2 of 2" in shown
                for message_id in ids[:2]:
                    assert _status(api, operator, message_id) == "discarded"
                    trail = api.get(
                        f"/messages/{message_id}/audit", headers={"X-API-Key": operator}
                    ).json()
                    assert [(a["actor"], a["action"], a["reason"]) for a in trail] == [
                        ("ops", "discard", "test orders")
                    ]
                counted = ops.get("/ui/live/counts").json()["counts"]["shop-orders"]
                assert (counted["failed"], counted["discarded"]) == (3, 2)

                # replay three, one of them already discarded: reported, the rest go on
                peer.default = Reply(201)
                again = {"ids": ids[1:], "action": "replay", "reason": "partner fixed"}
                done = ops.post(selection, data={**again, "csrf": token})
                shown = ops.get(done.headers["location"]).text
                assert "replayed 3 of 4" in shown
                assert f"not: {ids[1]}: " in shown
                wait_for_progress(
                    lambda: [_status(api, operator, i) for i in ids[2:]],
                    lambda found: set(found) == {"delivered"},
                    what="the replayed three delivered",
                )
                assert "No dead letters." in ops.get("/ui/dead-letters").text

            # a reader sees no selection and may not post one
            with closing(sign_in(url, reader)) as ui:
                listed = ui.get("/ui/dead-letters", params={"route": "shop-orders"}).text
                assert 'id="bulk"' not in listed
                token = csrf_of(listed)  # the sign-out form's
                refused = ui.post(
                    "/ui/dead-letters/selection",
                    data={"ids": ids[:1], "action": "replay", "csrf": token},
                )
                assert refused.status_code == 403
