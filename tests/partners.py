"""What the trading-partner tests share: the partners, their interchanges, a hub config
trading with one, and the steps of driving a hub in the test's own process."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hub.runtime import Hub
from hub.sdk import InboundRequest
from tests.configs import LOOPBACK_DEMO_AUTH, write_config

#: ACME's and the hub's EDIFACT identities (GLN, qualifier 14).
ACME = ("5412345000013", "14")
HUB = ("4012345000009", "14")


@dataclass(frozen=True)
class Partner:
    """A partner profile's names: its identities, the message type it sends us and the
    routes that take it in and send to it."""

    name: str
    standard: str
    their_id: tuple[str, str]
    our_id: tuple[str, str]
    message_type: str
    incoming: str
    outgoing: str


ACME_EDIFACT = Partner("acme", "edifact", ACME, HUB, "ORDERS", "acme-orders", "orders-to-acme")
SHOP_X12 = Partner(
    "shop",
    "x12",
    ("SHOPBUYER", "ZZ"),
    ("ACMESUPPLY", "ZZ"),
    "850",
    "shop-orders",
    "invoices-to-shop",
)


def party(identity: tuple[str, str]) -> dict[str, str]:
    return {"id": identity[0], "qualifier": identity[1]}


def file_sink(name: str, directory: str) -> dict[str, Any]:
    return {"name": name, "type": "file", "options": {"directory": directory}}


def edifact_interchange(ref: str, *, sender: tuple[str, str] = ACME, kind: str = "ORDERS") -> bytes:
    """An interchange of two ``kind`` messages from ``sender`` to the hub."""
    messages = "".join(
        f"UNH+{n}+{kind}:D:96A:UN'\n"
        f"BGM+220+PO-{ref}-{n}+9'\n"
        "DTM+137:20261120:102'\n"
        "UNS+S'\n"
        f"UNT+5+{n}'\n"
        for n in (1, 2)
    )
    return (
        f"UNB+UNOC:3+{sender[0]}:{sender[1]}+{HUB[0]}:{HUB[1]}+261120:1405+{ref}'\n"
        f"{messages}UNZ+2+{ref}'\n"
    ).encode("latin-1")


def partner_config(
    store_url: str,
    partner: Partner = ACME_EDIFACT,
    *,
    worker: dict[str, Any] | None = None,
    auth: bool = True,
    inbox: bool = True,
    inbox_source: dict[str, Any] | None = None,
    incoming_output: str | None = None,
    outgoing: dict[str, Any] | None = None,
    **profile: Any,
) -> dict[str, Any]:
    """A hub trading with ``partner``: the route ``partner.outgoing`` (JSON in, enveloped out
    to ``van/``), and with ``inbox`` the inbox route ``edi`` (``inbox_source``: polled) and
    ``partner.incoming`` (to ``erp/``, as ``incoming_output``), answering with every
    acknowledgement into ``acks/``. ``outgoing`` adds to the outgoing route; ``profile``
    overrides the partner's profile (a key given None is left out)."""
    routes: dict[str, Any] = {}
    fields: dict[str, Any] = {
        "standard": partner.standard,
        "their_id": party(partner.their_id),
        "our_id": party(partner.our_id),
        "acknowledgements": {"send": "never", "expect_within_hours": 24},
    }
    if inbox:
        source = {"source": inbox_source} if inbox_source is not None else {}
        output = {"output": {"format": incoming_output}} if incoming_output else {}
        routes["edi"] = {
            "inbox": True,
            "input": {"format": partner.standard},
            **source,
            "sinks": [file_sink("archive", "archive")],
        }
        routes[partner.incoming] = {
            "input": {"format": partner.standard},
            **output,
            "sinks": [file_sink("erp", "erp")],
        }
        fields["routes"] = {partner.message_type: partner.incoming}
        fields["sink"] = file_sink(f"{partner.name}-van", "acks")
        fields["acknowledgements"] = {"send": "always", "expect_within_hours": 24}
    routes[partner.outgoing] = {
        "input": {"format": "json"},
        "output": {"format": partner.standard},
        "partner": partner.name,
        **(outgoing or {}),
        "sinks": [file_sink("van", "van")],
    }
    fields.update(profile)
    return {
        **({"auth": LOOPBACK_DEMO_AUTH} if auth else {}),
        "store": {"url": store_url},
        "worker": worker if worker is not None else {"enabled": False},
        "routes": routes,
        "partners": {partner.name: {k: v for k, v in fields.items() if v is not None}},
    }


def sqlite_url(tmp: Path) -> str:
    return f"sqlite:///{tmp / 'hub.db'}"


@contextmanager
def running(tmp: Path, config: dict[str, Any]) -> Iterator[Hub]:
    """A hub of ``config`` (written to ``tmp``) in this process, closed after."""
    hub = Hub.from_file(write_config(tmp, config))
    try:
        yield hub
    finally:
        hub.close()


def drain(hub: Hub) -> None:
    """Run the hub's worker until it finds nothing to do."""
    while hub.worker.run_once():
        pass


def receive(hub: Hub, body: bytes, route: str = "edi") -> Any:
    return hub.ingestor.ingest(InboundRequest(route=route, body=body))
