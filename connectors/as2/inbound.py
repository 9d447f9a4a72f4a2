"""AS2 inbound on ``POST /as2/{route}``: decrypt, verify, decompress, and answer with a signed
MDN only after the hub committed the message.

A message that fails a check (it cannot be decrypted, its signature is not the partner's, its
content does not match the signed digest) is not refused with a bare 4xx: the partner's AS2
software expects a negative MDN naming the failure, and the operator a record. The source
marks it ``refused``; the hub stores it as a dead letter, and :meth:`As2Inbound.reply` sends
the negative MDN. A request that names no partner we know is refused with 403 (there is no
certificate to check it with, and no one to sign an MDN for).

An asynchronous MDN a partner posts for one of our own messages (our as2 sink asked for it)
arrives here too: its signature is checked and it is put where the sink awaits it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

import httpx
from cryptography import x509
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from connectors.as2.keys import load_certificate, load_key
from connectors.as2.mdn import build_mdn, read_mdn, unquote_id
from connectors.as2.message import Keys, http_entity, open_message
from connectors.as2.smime import As2Failure, Entity, asn1, parse_entity, split_multipart
from connectors.as2.store import MdnBox
from hub.sdk import (
    ConnectorContext,
    ConnectorOptions,
    Inbound,
    InboundRejected,
    InboundRequest,
    PushSource,
    Reply,
    Stored,
)

__all__ = ["MIC_HEADER", "As2Inbound", "As2InboundOptions", "PartnerOptions"]

log = logging.getLogger("connectors.as2")

# what the hub keeps with a message: who sent it, and what its MDN said
MIC_HEADER = "as2-received-content-mic"


class PartnerOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    certificate: Path = Field(description="the partner's certificate: checks its signatures")
    require_signed: bool = True
    require_encrypted: bool = True


class As2InboundOptions(ConnectorOptions):
    as2_id: str = Field(min_length=1, max_length=128, description="our AS2 id (AS2-To)")
    certificate: Path = Field(description="our certificate: decrypts, signs MDNs")
    key: Path = Field(description="our RSA private key (PEM)")
    key_password: SecretStr | None = None
    partners: dict[str, PartnerOptions] = Field(
        min_length=1, description="each partner's AS2 id (AS2-From) and certificate"
    )
    mdn_directory: Path | None = Field(
        None, description="where asynchronous MDNs for our as2 sinks are put (the same folder)"
    )
    mdn_signature: Literal["sha256", "sha384", "sha512"] = "sha256"
    async_mdn_timeout_seconds: float = Field(30.0, gt=0, le=300)


class As2Inbound(PushSource[As2InboundOptions]):
    options_model = As2InboundOptions
    path = "as2"

    def __init__(
        self, name: str, options: As2InboundOptions, context: ConnectorContext | None = None
    ) -> None:
        super().__init__(name, options, context)
        asn1()  # without the as2 extra, fail at start with the pip command, not mid-message
        resolve = self.context.resolve
        self.certificate = load_certificate(resolve(options.certificate))
        self.key = load_key(resolve(options.key), options.key_password)
        self.partners = {
            as2_id: (load_certificate(resolve(p.certificate)), p)
            for as2_id, p in options.partners.items()
        }
        self.box = (
            MdnBox(resolve(options.mdn_directory)) if options.mdn_directory is not None else None
        )
        self._senders: set[threading.Thread] = set()
        self._lock = threading.Lock()

    def accept(self, request: InboundRequest) -> Inbound | None:
        headers = request.headers
        sender = unquote_id(headers.get("as2-from", ""))
        recipient = unquote_id(headers.get("as2-to", ""))
        message_id = headers.get("message-id", "").strip()
        if not sender or not recipient or not message_id:
            raise InboundRejected(
                "an AS2 message needs AS2-From, AS2-To and Message-ID headers",
                status=400,
                reason="malformed",
                hint="send with an AS2 client (RFC 4130)",
            )
        if recipient != self.options.as2_id:
            raise InboundRejected(
                f"AS2-To is {recipient!r}; this route is {self.options.as2_id!r}",
                status=403,
                reason="unknown_partner",
                hint="the partner must address our AS2 id",
            )
        known = self.partners.get(sender)
        if known is None:
            raise InboundRejected(
                f"no partner {sender!r} on this route",
                status=403,
                reason="unknown_partner",
                hint="add the partner's AS2 id and certificate under options.partners",
            )
        certificate, partner = known
        whole = http_entity(headers, request.body)
        if whole.content_type == "multipart/report" or _signed_report(whole):
            self._take_mdn(request, certificate)
            return None
        kept = {
            name: headers[name]
            for name in ("as2-from", "as2-to", "message-id", "subject", "content-type")
            if name in headers
        }
        try:
            opened = open_message(
                whole,
                Keys(self.certificate, self.key, certificate),
                require_signed=partner.require_signed,
                require_encrypted=partner.require_encrypted,
            )
        except As2Failure as failure:
            log.warning("AS2 %s from %s refused: %s", message_id, sender, failure)
            return Inbound(
                body=request.body,
                headers={**kept, "as2-disposition-modifier": failure.modifier},
                content_type=headers.get("content-type"),
                key=message_id,
                refused=str(failure),
            )
        if opened.report:
            self._take_mdn(request, certificate)
            return None
        return Inbound(
            body=opened.payload,
            headers={
                **kept,
                "content-type": opened.content_type,
                MIC_HEADER: opened.mic,
                **({"as2-filename": opened.filename} if opened.filename else {}),
            },
            content_type=opened.content_type,
            key=message_id,
        )

    def _take_mdn(self, request: InboundRequest, certificate: x509.Certificate) -> None:
        """An asynchronous MDN for one of our messages: checked, then put for the sink."""
        if self.box is None:
            raise InboundRejected(
                "this route takes no MDNs: it has no mdn_directory",
                status=400,
                reason="unexpected_mdn",
                hint="set mdn_directory on this route and on the as2 sink that asked for MDNs",
            )
        try:
            mdn = read_mdn(
                http_entity(request.headers, request.body), certificate, require_signed=True
            )
        except As2Failure as exc:
            raise InboundRejected(
                f"the MDN cannot be trusted: {exc}", status=401, reason="unauthorized"
            ) from None
        if not mdn.original_message_id:
            raise InboundRejected(
                "the MDN names no Original-Message-ID", status=400, reason="malformed"
            )
        self.box.put(mdn.original_message_id, _mdn_headers(request.headers), request.body)

    def reply(
        self, request: InboundRequest, inbound: Inbound | None, stored: Stored | None
    ) -> Reply | None:
        if inbound is None:  # an MDN we took, or nothing to answer
            return Reply(200, b"", {"Content-Type": "text/plain"})
        headers = request.headers
        sender = unquote_id(headers.get("as2-from", ""))
        failure = None
        if inbound.refused is not None:
            modifier = inbound.headers.get(
                "as2-disposition-modifier", "unexpected-processing-error"
            )
            detail = inbound.refused.removeprefix(f"{modifier}: ")
            failure = As2Failure(modifier, detail)
        if "disposition-notification-to" not in headers:
            return Reply(200, b"", {"Content-Type": "text/plain"})  # the partner asked no MDN
        mdn_headers, mdn_body = build_mdn(
            original_message_id=headers.get("message-id", "").strip(),
            reporter=self.options.as2_id,
            recipient=sender,
            mic=inbound.headers.get(MIC_HEADER),
            failure=failure,
            signer=(self.certificate, self.key),
            algorithm=self.options.mdn_signature,
        )
        url = headers.get("receipt-delivery-option", "").strip()
        if url:
            self._send_later(url, mdn_headers, mdn_body)
            return Reply(200, b"", {"Content-Type": "text/plain"})
        return Reply(200, mdn_body, mdn_headers)

    def _send_later(self, url: str, headers: dict[str, str], body: bytes) -> None:
        """Post the asynchronous MDN once this answer is out, retried a few times."""
        if not url.startswith(("http://", "https://")):
            log.warning("cannot send an asynchronous MDN to %r: not an HTTP URL", url)
            return
        deadline = self.options.async_mdn_timeout_seconds

        def send() -> None:
            try:
                for attempt in range(3):
                    try:
                        answer = httpx.post(url, content=body, headers=headers, timeout=deadline)
                        if answer.status_code < 300:
                            return
                        log.warning("asynchronous MDN to %s: HTTP %s", url, answer.status_code)
                    except httpx.HTTPError as exc:
                        log.warning("asynchronous MDN to %s: %s", url, exc)
                    threading.Event().wait(0.5 * (attempt + 1))
            finally:
                with self._lock:
                    self._senders.discard(threading.current_thread())

        thread = threading.Thread(target=send, name="as2-async-mdn", daemon=True)
        with self._lock:
            self._senders.add(thread)
        thread.start()

    def close(self) -> None:
        with self._lock:
            senders = list(self._senders)
        for thread in senders:
            thread.join(timeout=self.options.async_mdn_timeout_seconds)


def _signed_report(whole: Entity) -> bool:
    """A signed MDN: multipart/signed around a multipart/report (told by its first part)."""
    if whole.content_type != "multipart/signed":
        return False
    parts = split_multipart(whole.body, whole.param("boundary") or "")
    return bool(parts) and parse_entity(parts[0]).content_type == "multipart/report"


def _mdn_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {
        name: headers[name]
        for name in ("content-type", "content-transfer-encoding", "as2-from", "as2-to")
        if name in headers
    }
