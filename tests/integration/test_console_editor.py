"""The Mappings page's preview editor over real HTTP: an edited mapping runs on a sample as
``POST /preview`` runs it (same answer, same located problems, shown as line and column),
with CSRF and the operate scope, and nothing is saved."""

from __future__ import annotations

import html
import json
from contextlib import closing
from pathlib import Path

import httpx

from hub.api import create_app
from hub.runtime import Hub
from tests.configs import EXAMPLE_ORDER, ROOT, demo_config, write_config
from tests.console import csrf_of, sign_in
from tests.peers import serve_app

ERP = ROOT / "mappings" / "woocommerce-order-to-erp.yaml"


def test_the_editor_runs_what_preview_runs(tmp_path: Path) -> None:
    config = demo_config(tmp_path, auth={"anonymous": ["ingest"]})
    hub = Hub.from_file(write_config(tmp_path, config))
    operator = hub.keys.create("ops", ["read", "read:payload", "operate"])[1]
    reader = hub.keys.create("reader", ["read"])[1]
    erp = ERP.read_text(encoding="utf-8")
    sample = EXAMPLE_ORDER.read_text(encoding="utf-8")
    line = erp.splitlines().index("  note: customer_note") + 1
    with serve_app(create_app(hub)) as url, httpx.Client(base_url=url, timeout=10) as api:
        api.post(
            "/ingest/shop-orders", content=sample, headers={"Content-Type": "application/json"}
        )
        with closing(sign_in(url, operator)) as ops:
            opened = ops.get("/ui/mappings/editor", params={"route": "shop-orders"})
            assert opened.status_code == 200
            shown = html.unescape(opened.text)
            assert erp in shown  # the route's mapping file, to edit
            assert "Bitte beim Nachbarn abgeben" in shown  # the newest body, as a sample
            token = csrf_of(opened.text)
            editor = "/ui/mappings/editor"

            # a field the ERP schema does not have: 422, located at the line and column
            # POST /preview names for the same text
            forbidden = erp.replace("  note: customer_note", "  notes: customer_note")
            asked = {"route": "shop-orders", "mapping_text": forbidden, "input": sample}
            answer = ops.post(editor, data={**asked, "csrf": token})
            assert answer.status_code == 422
            problem = api.post("/preview", json=asked, headers={"X-API-Key": operator}).json()
            where = problem["error"]["problems"][0]["where"]
            assert where == f"mapping_text:{line}:3"
            assert f'data-line="{line}" data-column="3">line {line}, column 3</a>' in answer.text
            assert problem["error"]["problems"][0]["message"] in html.unescape(answer.text)
            assert forbidden in html.unescape(answer.text)  # the edit is kept, to fix it

            # a YAML error in the text: located too
            broken = erp.replace("  note: customer_note", "  note: {path: 'x[y'}")
            answer = ops.post(editor, data={**asked, "mapping_text": broken, "csrf": token})
            assert answer.status_code == 422
            assert f'data-line="{line}"' in answer.text

            # the edit that works: the output the API gives, and the file is unchanged
            fixed = erp.replace("  note: customer_note\n", "")
            answer = ops.post(editor, data={**asked, "mapping_text": fixed, "csrf": token})
            assert answer.status_code == 200, answer.text
            same = api.post(
                "/preview", json={**asked, "mapping_text": fixed}, headers={"X-API-Key": operator}
            ).json()
            pretty = json.dumps(
                json.loads(same["encoded"]), indent=2, sort_keys=True, ensure_ascii=False
            )
            assert pretty in html.unescape(answer.text)
            assert '"note"' not in html.unescape(answer.text.split('id="preview-output"')[1])
            assert "not the version the route serves now" in answer.text
            assert ERP.read_text(encoding="utf-8") == erp

            # no CSRF token: refused
            assert ops.post(editor, data=asked).status_code == 400

        with closing(sign_in(url, reader)) as ui:
            assert ui.get("/ui/mappings/editor").status_code == 403
            token = csrf_of(ui.get("/ui/mappings").text)
            refused = ui.post("/ui/mappings/editor", data={**asked, "csrf": token})
            assert refused.status_code == 403
            assert "/ui/mappings/editor" not in ui.get("/ui/mappings").text
