"""The ``as2`` connector: the sink against a real AS2 endpoint on loopback (the as2 source
behind an HTTP server, keeping one copy per Message-ID as AS2 receivers do), the source
against messages built by the sink's code, and the S/MIME checks one by one."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from connectors.as2 import As2Inbound, As2InboundOptions, As2Sink, As2SinkOptions
from connectors.as2.keys import load_certificate, load_key
from connectors.as2.mdn import build_mdn, read_mdn
from connectors.as2.message import Keys, build_message, http_entity
from connectors.as2.smime import As2Failure
from connectors.as2.store import MdnBox
from hub.sdk import (
    ConnectorContext,
    Delivery,
    FatalDeliveryError,
    HubError,
    Inbound,
    InboundRejected,
    InboundRequest,
    PushSource,
    Receipt,
    RetriableDeliveryError,
    Sink,
    Stored,
)
from hub.sdk.testing import PushSourceContract, SinkContract, make_delivery
from tests.as2_parties import As2Peer, Party, make_party, running_as2_peer

EDIFACT = (
    b"UNA:+.? 'UNB+UNOC:3+SENDER+RECEIVER+261130:1200+42'UNH+1+ORDERS:D:96A:UN'"
    b"BGM+220+727+9'UNT+3+1'UNZ+1+42'"
)


@pytest.fixture(scope="module")
def parties(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Party]:
    folder = tmp_path_factory.mktemp("as2-parties")
    return {
        "us": make_party(folder, "HUB-A"),
        "partner": make_party(folder, "PARTNER-B"),
        "impostor": make_party(folder, "HUB-A", variant="-impostor"),
    }


def _peer_source(parties: dict[str, Party], **partner_options: Any) -> As2Inbound:
    partner, us = parties["partner"], parties["us"]
    options = As2InboundOptions(
        as2_id=partner.as2_id,
        certificate=partner.certificate,
        key=partner.key,
        partners={us.as2_id: {"certificate": us.certificate, **partner_options}},
    )
    return As2Inbound("as2-in", options)


@pytest.fixture
def as2_peer(parties: dict[str, Party], monkeypatch: pytest.MonkeyPatch) -> Iterator[As2Peer]:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    with running_as2_peer(_peer_source(parties)) as peer:
        yield peer


def _sink_options(parties: dict[str, Party], url: str, **extra: Any) -> dict[str, Any]:
    us, partner = parties["us"], parties["partner"]
    return {
        "url": url,
        "as2_from": us.as2_id,
        "as2_to": partner.as2_id,
        "certificate": str(us.certificate),
        "key": str(us.key),
        "partner_certificate": str(partner.certificate),
        "timeout_seconds": 5,
        **extra,
    }


class TestAs2SinkContract(SinkContract):
    sink_class = As2Sink

    @pytest.fixture
    def options(self, parties: dict[str, Party], as2_peer: As2Peer) -> dict[str, Any]:
        self.peer = as2_peer
        return _sink_options(parties, as2_peer.url, compress=True)

    @pytest.fixture
    def unreachable_options(self, parties: dict[str, Party], closed_port: int) -> dict[str, Any]:
        return _sink_options(parties, f"http://127.0.0.1:{closed_port}/as2/x")

    @pytest.fixture
    def refusing_options(self, parties: dict[str, Party], as2_peer: As2Peer) -> dict[str, Any]:
        """Signed with a key the partner does not know for HUB-A: a negative MDN."""
        impostor = parties["impostor"]
        return _sink_options(
            parties, as2_peer.url, certificate=str(impostor.certificate), key=str(impostor.key)
        )

    def read_back(self, sink: Sink[Any], delivery: Delivery, receipt: Receipt) -> list[bytes]:
        assert isinstance(sink, As2Sink)
        return list(self.peer.kept.get(sink.message_id(delivery), []))


def _sink(parties: dict[str, Party], url: str, tmp_path: Path, **extra: Any) -> As2Sink:
    options = As2SinkOptions(**_sink_options(parties, url, **extra))
    return As2Sink("partner", options, ConnectorContext(tmp_path))


def test_a_negative_mdn_is_fatal_with_the_partners_disposition(
    parties: dict[str, Party], as2_peer: As2Peer, tmp_path: Path
) -> None:
    impostor = parties["impostor"]
    sink = _sink(
        parties,
        as2_peer.url,
        tmp_path,
        certificate=str(impostor.certificate),
        key=str(impostor.key),
    )
    try:
        with pytest.raises(FatalDeliveryError) as caught:
            sink.deliver(make_delivery(EDIFACT))
    finally:
        sink.close()
    assert "processed/error: authentication-failed" in caught.value.message
    assert "not made with the partner's certificate" in caught.value.message
    assert as2_peer.kept == {}
    [refused] = as2_peer.refused
    assert refused.refused is not None
    assert refused.refused.startswith("authentication-failed")


def test_an_mdn_from_someone_else_is_not_a_delivery(
    parties: dict[str, Party], as2_peer: As2Peer, tmp_path: Path
) -> None:
    """The MDN is signed by the partner; a sink expecting another certificate refuses it."""
    sink = _sink(
        parties, as2_peer.url, tmp_path, partner_certificate=str(parties["us"].certificate)
    )
    try:
        with pytest.raises(FatalDeliveryError, match="MDN cannot be trusted"):
            sink.deliver(make_delivery(EDIFACT))
    finally:
        sink.close()


def test_an_mdn_with_another_mic_is_not_a_delivery(
    parties: dict[str, Party], as2_peer: As2Peer, tmp_path: Path
) -> None:
    """A positive, signed MDN for other bytes than we sent: the partner got something else."""
    as2_peer.wrong_mic = True
    sink = _sink(parties, as2_peer.url, tmp_path)
    try:
        with pytest.raises(RetriableDeliveryError, match="MIC"):
            sink.deliver(make_delivery(EDIFACT))
    finally:
        sink.close()


def test_an_unsigned_mdn_is_not_a_delivery(
    parties: dict[str, Party], as2_peer: As2Peer, tmp_path: Path
) -> None:
    as2_peer.unsigned_mdn = True
    sink = _sink(parties, as2_peer.url, tmp_path)
    try:
        with pytest.raises(FatalDeliveryError) as caught:
            sink.deliver(make_delivery(EDIFACT))
    finally:
        sink.close()
    assert "the MDN is not signed" in caught.value.message
    assert "unsigned, it says: automatic-action/MDN-sent-automatically; processed" in (
        caught.value.message
    )


def test_without_the_extra_the_route_names_what_to_install(
    parties: dict[str, Party], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The hub loads every plugin at start: the as2 one must load without asn1crypto, and a
    route that uses it must say what to install."""
    monkeypatch.setitem(sys.modules, "asn1crypto", None)
    monkeypatch.setitem(sys.modules, "asn1crypto.cms", None)
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; sys.modules['asn1crypto'] = None\n"
            "from hub.plugins import available_connectors as a; print(a('sink'), a('source'))",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert loaded.stdout.count("'as2'") == 2, loaded.stdout
    with pytest.raises(HubError, match="asn1crypto") as caught:
        _sink(parties, "http://127.0.0.1:9/as2/x", tmp_path)
    assert caught.value.hint == "pip install 'switchboard-hub[as2]'"


def test_a_partner_that_is_down_is_retriable(
    parties: dict[str, Party], closed_port: int, tmp_path: Path
) -> None:
    sink = _sink(parties, f"http://127.0.0.1:{closed_port}/as2/x", tmp_path)
    try:
        with pytest.raises(RetriableDeliveryError, match="cannot reach"):
            sink.deliver(make_delivery(EDIFACT))
    finally:
        sink.close()


@pytest.mark.parametrize(
    ("sign", "encrypt", "compress"),
    [(True, True, False), (True, True, True), (True, False, False), (False, True, True)],
)
def test_every_layer_combination_round_trips(
    parties: dict[str, Party],
    as2_peer: As2Peer,
    tmp_path: Path,
    sign: bool,
    encrypt: bool,
    compress: bool,
) -> None:
    as2_peer.source = _peer_source(parties, require_signed=sign, require_encrypted=encrypt)
    sink = _sink(parties, as2_peer.url, tmp_path, sign=sign, encrypt=encrypt, compress=compress)
    try:
        delivery = make_delivery(EDIFACT)
        receipt = sink.deliver(delivery)
    finally:
        sink.close()
    assert "signed MDN" in receipt.detail
    assert as2_peer.kept[sink.message_id(delivery)] == [EDIFACT]


def test_the_asynchronous_mdn_is_awaited_and_found_by_a_later_attempt(
    parties: dict[str, Party], as2_peer: As2Peer, tmp_path: Path
) -> None:
    """The partner posts its MDN to our as2 source, which puts it where the sink waits."""
    box = tmp_path / "mdns"
    ours = parties["us"]
    partner = parties["partner"]
    our_source = As2Inbound(
        "mdn-in",
        As2InboundOptions(
            as2_id=ours.as2_id,
            certificate=ours.certificate,
            key=ours.key,
            partners={partner.as2_id: {"certificate": partner.certificate}},
            mdn_directory=box,
        ),
    )
    with running_as2_peer(our_source) as ours_server:
        _deliver_with_async_mdn(parties, as2_peer, ours_server, box, tmp_path)


def _deliver_with_async_mdn(
    parties: dict[str, Party], as2_peer: As2Peer, ours: As2Peer, box: Path, tmp_path: Path
) -> None:
    sink = _sink(
        parties,
        as2_peer.url,
        tmp_path,
        mdn="async",
        async_mdn_url=ours.url,
        mdn_directory=str(box),
    )
    try:
        delivery = make_delivery(EDIFACT)
        receipt = sink.deliver(delivery)
        assert "signed MDN" in receipt.detail
        assert as2_peer.kept[sink.message_id(delivery)] == [EDIFACT]
        sent = len(as2_peer.kept)
        # a later attempt (the first gave up waiting) finds the MDN and sends nothing
        again = sink.deliver(make_delivery(EDIFACT, attempt=2))
        assert again.detail == receipt.detail
        assert len(as2_peer.kept) == sent
    finally:
        sink.close()
        as2_peer.source.close()


def test_no_asynchronous_mdn_in_time_is_retriable(
    parties: dict[str, Party], as2_peer: As2Peer, tmp_path: Path, closed_port: int
) -> None:
    sink = _sink(
        parties,
        as2_peer.url,
        tmp_path,
        mdn="async",
        async_mdn_url=f"http://127.0.0.1:{closed_port}/as2/mdn-in",  # it never arrives
        mdn_directory=str(tmp_path / "mdns"),
        mdn_timeout_seconds=0.3,
    )
    try:
        with pytest.raises(RetriableDeliveryError, match="no MDN"):
            sink.deliver(make_delivery(EDIFACT))
    finally:
        sink.close()
        as2_peer.source.close()


# -- the inbound side ------------------------------------------------------------------


def _request(parties: dict[str, Party], payload: bytes = EDIFACT, **options: Any) -> InboundRequest:
    us, partner = parties["us"], parties["partner"]

    keys = Keys(
        load_certificate(us.certificate),
        load_key(us.key, None),
        load_certificate(partner.certificate),
    )
    outgoing = build_message(
        payload,
        content_type="application/EDIFACT",
        filename="order.edi",
        message_id="<test-1@HUB-A>",
        as2_from=us.as2_id,
        as2_to=partner.as2_id,
        keys=keys,
        **options,
    )
    headers = {name.lower(): value for name, value in outgoing.headers.items()}
    return InboundRequest(route="as2-in", body=outgoing.body, headers=headers)


class TestAs2InboundContract(PushSourceContract):
    source_class = As2Inbound

    @pytest.fixture
    def options(self, parties: dict[str, Party]) -> dict[str, Any]:
        partner, us = parties["partner"], parties["us"]
        return {
            "as2_id": partner.as2_id,
            "certificate": str(partner.certificate),
            "key": str(partner.key),
            "partners": {us.as2_id: {"certificate": str(us.certificate)}},
        }

    @pytest.fixture
    def good_request(self, parties: dict[str, Party]) -> InboundRequest:
        return _request(parties)

    @pytest.fixture
    def bad_request(self, parties: dict[str, Party]) -> InboundRequest:
        """From a partner this route does not know."""
        request = _request(parties)
        return InboundRequest(
            route=request.route,
            body=request.body,
            headers={**request.headers, "as2-from": "STRANGER"},
        )

    def test_accepted_body_is_kept_byte_for_byte(
        self, source: PushSource[Any], good_request: InboundRequest
    ) -> None:
        """AS2: the request is the encrypted envelope; what is kept is the payload inside,
        byte for byte."""
        inbound = source.accept(good_request)
        assert isinstance(inbound, Inbound)
        assert inbound.body == EDIFACT
        assert inbound.key == "<test-1@HUB-A>"
        assert inbound.refused is None


@pytest.fixture
def source(parties: dict[str, Party]) -> Iterator[As2Inbound]:
    source = _peer_source(parties)
    yield source
    source.close()


def _tampered(request: InboundRequest, old: bytes, new: bytes) -> InboundRequest:
    assert old in request.body
    return InboundRequest(
        route=request.route, body=request.body.replace(old, new, 1), headers=request.headers
    )


def test_a_changed_payload_is_refused_with_a_negative_mdn(parties: dict[str, Party]) -> None:
    source = _peer_source(parties, require_encrypted=False)  # signed only: the payload shows
    request = _tampered(_request(parties, encrypted=False), b"BGM+220+727", b"BGM+220+728")
    inbound = source.accept(request)
    assert inbound is not None
    assert inbound.refused is not None
    assert inbound.refused.startswith("integrity-check-failed")
    assert inbound.body == request.body  # what came, kept for the dead letter
    reply = source.reply(request, inbound, Stored(("x",), refused=True))
    assert reply is not None
    mdn = read_mdn(
        http_entity({k.lower(): v for k, v in reply.headers.items()}, reply.body),
        source.certificate,
        require_signed=True,
    )
    assert not mdn.positive
    assert mdn.modifier == "error: integrity-check-failed"
    assert mdn.mic is None


def test_a_damaged_envelope_is_decryption_failed(
    parties: dict[str, Party], source: As2Inbound
) -> None:
    request = _request(parties)
    body = bytearray(request.body)
    body[len(body) // 2] ^= 0xFF
    damaged = InboundRequest(route=request.route, body=bytes(body), headers=request.headers)
    inbound = source.accept(damaged)
    assert inbound is not None
    assert inbound.refused is not None
    # where the changed byte lands decides which check catches it; one of them must
    failed = inbound.refused.split(":")[0]
    assert failed in ("decryption-failed", "authentication-failed", "integrity-check-failed")


@pytest.mark.parametrize("encrypted", [True, False])
def test_no_changed_byte_gets_another_payload_accepted(
    parties: dict[str, Party], encrypted: bool
) -> None:
    """Change one byte anywhere (every 23rd position): the message is refused with one of
    the AS2 failures, or, where the byte carries nothing signed (the closing boundary, the
    signature part's trailer), accepted with the exact payload sent."""
    source = _peer_source(parties, require_encrypted=encrypted)
    request = _request(parties, encrypted=encrypted)
    refused = accepted = 0
    for position in range(0, len(request.body), 23):
        body = bytearray(request.body)
        body[position] ^= 0x55
        inbound = source.accept(
            InboundRequest(route=request.route, body=bytes(body), headers=request.headers)
        )
        assert inbound is not None
        if inbound.refused is None:
            assert inbound.body == EDIFACT, f"byte {position}: another payload was accepted"
            accepted += 1
        else:
            modifier = inbound.refused.split(":")[0]
            assert modifier in (
                "decryption-failed",
                "authentication-failed",
                "integrity-check-failed",
                "insufficient-message-security",  # the envelope no longer reads as one
            ), f"byte {position}: {inbound.refused}"
            refused += 1
    assert refused > accepted


def test_an_unencrypted_message_is_refused_when_encryption_is_required(
    parties: dict[str, Party], source: As2Inbound
) -> None:
    inbound = source.accept(_request(parties, encrypted=False))
    assert inbound is not None
    assert inbound.refused is not None
    assert inbound.refused.startswith("insufficient-message-security")


def test_the_mdn_comes_with_the_mic_of_what_was_signed(
    parties: dict[str, Party], source: As2Inbound
) -> None:
    request = _request(parties, compressed=True)
    inbound = source.accept(request)
    assert inbound is not None
    assert inbound.refused is None
    assert inbound.body == EDIFACT
    reply = source.reply(request, inbound, Stored(("x",)))
    assert reply is not None
    assert reply.status == 200
    mdn = read_mdn(
        http_entity({k.lower(): v for k, v in reply.headers.items()}, reply.body),
        source.certificate,
        require_signed=True,
    )
    assert mdn.positive
    assert mdn.original_message_id == "<test-1@HUB-A>"
    assert mdn.mic == inbound.headers["as2-received-content-mic"]


def test_a_forged_asynchronous_mdn_is_refused(parties: dict[str, Party], tmp_path: Path) -> None:
    """Only the partner's signed MDN is put where the sink waits: a forged one could
    otherwise dead-letter our messages."""
    ours, partner, impostor = parties["us"], parties["partner"], parties["impostor"]
    source = As2Inbound(
        "mdn-in",
        As2InboundOptions(
            as2_id=ours.as2_id,
            certificate=ours.certificate,
            key=ours.key,
            partners={partner.as2_id: {"certificate": partner.certificate}},
            mdn_directory=tmp_path / "mdns",
        ),
    )

    headers, body = build_mdn(
        original_message_id="<m-1@HUB-A>",
        reporter=partner.as2_id,
        recipient=ours.as2_id,
        mic="abc, sha-256",
        failure=As2Failure("decryption-failed", "forged"),
        signer=(load_certificate(impostor.certificate), load_key(impostor.key, None)),
    )
    request = InboundRequest(
        route="mdn-in", body=body, headers={k.lower(): v for k, v in headers.items()}
    )

    with pytest.raises(InboundRejected) as caught:
        source.accept(request)
    assert caught.value.status == 401
    assert MdnBox(tmp_path / "mdns").take("<m-1@HUB-A>") is None
