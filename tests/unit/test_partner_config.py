"""Partner profiles are checked before anything runs, each problem at its file:line."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from hub.config import load_config
from hub.errors import ConfigError
from hub.pipeline.build import compile_routes

Write = Callable[[str, str], Path]

ROUTES = """\
routes:
  edi:
    inbox: true
    input: {format: edifact}
    sinks: [{name: archive, type: file, options: {directory: archive}}]
  acme-orders:
    input: {format: edifact}
    sinks: [{name: erp, type: file, options: {directory: erp}}]
  to-acme:
    input: {format: json}
    output: {format: x12}
    partner: acme
    sinks: [{name: van, type: file, options: {directory: van}}]
  to-nobody:
    input: {format: json}
    output: {format: edifact}
    partner: nobody
    sinks: [{name: van, type: file, options: {directory: van}}]
"""

PARTNERS = """\
partners:
  acme:
    standard: edifact
    their_id: {id: "5412345000013", qualifier: "14"}
    our_id: {id: "4012345000009", qualifier: "14"}
    routes: {ORDERS: acme-orders, INVOIC: missing-route, DESADV: edi}
    sink: {name: van, type: file, options: {directory: acks}}
"""


def build_error(path: Path) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        compile_routes(load_config(path, environ={}))
    return caught.value


def test_routes_and_profiles_that_name_each_other_wrongly_are_located(write: Write) -> None:
    path = write("hub.yaml", ROUTES + PARTNERS)
    problems = {p.message: p.where for p in build_error(path).problems}
    assert problems == {
        "route 'to-acme' writes x12, and partner 'acme' speaks edifact": f"{path}:11",
        "route 'to-nobody' sends to partner 'nobody', which is not under `partners:`": (
            f"{path}:17"
        ),
        "partner 'acme' routes INVOIC to 'missing-route', which is not a route": f"{path}:24",
        "partner 'acme' routes DESADV to the inbox 'edi'": f"{path}:24",
    }


def test_an_x12_profile_needs_isa_sized_identifiers_and_a_sink_for_its_acks(
    write: Write,
) -> None:
    path = write(
        "hub.yaml",
        """\
        partners:
          shop:
            standard: x12
            their_id: {id: "A-NAME-LONGER-THAN-15", qualifier: ZZ}
            our_id: {id: ME, qualifier: ZZ}
          other:
            standard: x12
            their_id: {id: THEM, qualifier: Z}
            our_id: {id: ME, qualifier: ZZ}
            acknowledgements: {send: never}
            x12: {ta1: never}
          third:
            standard: x12
            their_id: {id: THEM, qualifier: ZZ}
            our_id: {id: ME, qualifier: ZZ}
            unknown_key: 1
        """,
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})
    text = str(caught.value)
    assert f"{path}:2: partners.shop: Value error, their_id.id is longer than" in text
    assert f"{path}:6: partners.other: Value error, their_id.qualifier must be 2" in text
    assert "unknown key 'partners.third.unknown_key'" in text


def test_a_partner_without_a_sink_may_not_be_sent_acknowledgements(write: Write) -> None:
    path = write(
        "hub.yaml",
        """\
        partners:
          acme:
            standard: edifact
            their_id: {id: A}
            our_id: {id: B}
        """,
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})
    assert "acknowledgements are sent to this partner but it has no `sink`" in str(caught.value)


def test_a_partners_sink_is_checked_like_a_routes(write: Write) -> None:
    path = write(
        "hub.yaml",
        """\
        partners:
          acme:
            standard: edifact
            their_id: {id: A}
            our_id: {id: B}
            sink:
              name: van
              type: file
              options: {directry: acks}
        """,
    )
    problems = [str(p) for p in build_error(path).problems]
    assert any(p.startswith(f"{path}:9:") and "directry" in p for p in problems), problems


def test_the_example_in_docs_partners_is_a_valid_config(tmp_path: Path) -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "partners.md").read_text()
    example = doc.split("```yaml\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "hub.yaml"
    path.write_text(example, encoding="utf-8")
    loaded = load_config(path, environ={})
    assert loaded.config.partners["acme"].routes == {"ORDERS": "acme-orders"}
    assert loaded.config.routes["edi"].inbox
