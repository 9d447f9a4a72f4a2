"""AS2 sink: send each message signed and encrypted, and count it delivered only when the
partner's signed MDN comes back with the MIC we computed.

The Message-ID is derived from the delivery's idempotency key, so a retry is the same AS2
message to the partner (AS2 receivers drop a repeated Message-ID) and an asynchronous MDN
that arrives after the attempt gave up is still found by the next attempt, which then does
not send again.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from pathlib import Path
from typing import Literal

import httpx
from pydantic import Field, SecretStr, model_validator

from connectors.as2.keys import load_certificate, load_key
from connectors.as2.mdn import Mdn, read_mdn, safe_id, same_message_id
from connectors.as2.message import Keys, build_message, http_entity
from connectors.as2.smime import As2Failure, Cipher, asn1
from connectors.as2.store import MdnBox
from hub.sdk import (
    ConnectorContext,
    ConnectorOptions,
    Delivery,
    DeliverySemantics,
    FatalDeliveryError,
    Receipt,
    RetriableDeliveryError,
    Sink,
    redact_url,
)
from hub.sdk.http import LazyClient, send

__all__ = ["As2Sink", "As2SinkOptions"]


class As2SinkOptions(ConnectorOptions):
    url: str = Field(pattern=r"^https?://", description="the partner's AS2 endpoint")
    as2_from: str = Field(min_length=1, max_length=128, description="our AS2 id")
    as2_to: str = Field(min_length=1, max_length=128, description="the partner's AS2 id")
    certificate: Path = Field(description="our certificate (PEM or DER), which signs")
    key: Path = Field(description="our RSA private key (PEM)")
    key_password: SecretStr | None = None
    partner_certificate: Path = Field(description="encrypts to the partner, checks its MDNs")
    sign: bool = True
    encrypt: bool = True
    compress: bool = False
    encryption: Cipher = "aes256-cbc"
    signature: Literal["sha256", "sha384", "sha512"] = "sha256"
    content_type: str | None = Field(
        None,
        description="the payload's MIME type; default the route output's, e.g. application/EDIFACT",
    )
    mdn: Literal["sync", "async"] = "sync"
    async_mdn_url: str | None = Field(
        None, pattern=r"^https?://", description="our /as2/{route} the partner posts MDNs to"
    )
    mdn_directory: Path | None = Field(
        None, description="where our as2 source keeps asynchronous MDNs (the same folder)"
    )
    mdn_timeout_seconds: float = Field(60.0, gt=0, le=3600)
    timeout_seconds: float = Field(30.0, gt=0, le=300)
    subject: str = "AS2 message"
    verify_tls: bool = True

    @model_validator(mode="after")
    def _async_needs_a_url_and_a_folder(self) -> As2SinkOptions:
        if self.mdn == "async" and (self.async_mdn_url is None or self.mdn_directory is None):
            raise ValueError("mdn: async needs async_mdn_url and mdn_directory")
        return self


class As2Sink(Sink[As2SinkOptions]):
    options_model = As2SinkOptions
    # The same Message-ID on every attempt: an AS2 receiver keeps one copy per Message-ID.
    delivery_semantics = DeliverySemantics.PEER_DEDUPLICATES

    def __init__(
        self, name: str, options: As2SinkOptions, context: ConnectorContext | None = None
    ) -> None:
        super().__init__(name, options, context)
        asn1()  # without the as2 extra, fail at start with the pip command, not mid-message
        resolve = self.context.resolve
        self.keys = Keys(
            ours=load_certificate(resolve(options.certificate)),
            key=load_key(resolve(options.key), options.key_password),
            partner=load_certificate(resolve(options.partner_certificate)),
        )
        self.box = (
            MdnBox(resolve(options.mdn_directory)) if options.mdn_directory is not None else None
        )
        self._client = LazyClient(
            lambda: httpx.Client(
                timeout=options.timeout_seconds,
                verify=options.verify_tls,
                follow_redirects=False,
            )
        )

    @property
    def client(self) -> httpx.Client:
        return self._client.get()

    def message_id(self, delivery: Delivery) -> str:
        """Stable per idempotency key: every attempt is the same AS2 message."""
        digest = hashlib.sha256(delivery.idempotency_key.encode()).hexdigest()[:40]
        return f"<{digest}@{safe_id(self.options.as2_from)}>"

    def deliver(self, delivery: Delivery) -> Receipt:
        options = self.options
        message_id = self.message_id(delivery)
        outgoing = build_message(
            delivery.body,
            content_type=options.content_type or delivery.content_type,
            filename=f"{delivery.message_id}.{delivery.extension}",
            message_id=message_id,
            as2_from=options.as2_from,
            as2_to=options.as2_to,
            keys=self.keys,
            signed=options.sign,
            encrypted=options.encrypt,
            compressed=options.compress,
            cipher=options.encryption,
            algorithm=options.signature,
            subject=options.subject,
            mdn_url=options.async_mdn_url if options.mdn == "async" else None,
        )
        if options.mdn == "async":
            assert self.box is not None
            early = self.box.take(message_id)
            if early is not None:  # an earlier attempt's MDN came after it gave up
                return self._judge(self._read(early[0], early[1]), message_id, outgoing.mic)
        response = self._post(delivery, outgoing.headers, outgoing.body)
        if options.mdn == "sync":
            headers = {k.lower(): v for k, v in response.headers.items()}
            return self._judge(self._read(headers, response.content), message_id, outgoing.mic)
        return self._judge(self._await(delivery, message_id), message_id, outgoing.mic)

    def _post(self, delivery: Delivery, headers: dict[str, str], body: bytes) -> httpx.Response:
        return send(
            self.client,
            delivery,
            method="POST",
            url=self.options.url,
            body=body,
            headers=headers,
            timeout=self.options.timeout_seconds,
            refused_hint="the partner's AS2 server refused the request; check ids and certificates",
            honour_retry_after=False,
        )

    def _read(self, headers: dict[str, str], body: bytes) -> Mdn:
        if not body:
            raise FatalDeliveryError(
                f"{redact_url(self.options.url)} answered without an MDN",
                hint="the partner does not send synchronous MDNs: set mdn: async",
            )
        whole = http_entity(headers, body)
        try:
            return read_mdn(whole, self.keys.partner, require_signed=True)
        except As2Failure as exc:
            said = ""
            if exc.modifier == "insufficient-message-security":  # unsigned: say what it says
                with contextlib.suppress(As2Failure):
                    unsigned = read_mdn(whole, self.keys.partner, require_signed=False)
                    said = f"; unsigned, it says: {unsigned.disposition} ({unsigned.text})"
            raise FatalDeliveryError(
                f"the partner's MDN cannot be trusted: {exc}{said}",
                hint="check partner_certificate: it must be the certificate the partner signs "
                "with, and the partner must sign its MDNs",
            ) from None

    def _await(self, delivery: Delivery, message_id: str) -> Mdn:
        """The asynchronous MDN, from the folder our as2 source writes it to."""
        assert self.box is not None
        limit = self.options.mdn_timeout_seconds
        if delivery.timeout is not None:
            limit = min(limit, delivery.timeout)
        deadline = time.monotonic() + limit
        pause = 0.01
        while True:
            found = self.box.take(message_id)
            if found is not None:
                return self._read(found[0], found[1])
            if time.monotonic() >= deadline:
                raise RetriableDeliveryError(
                    f"no MDN for {message_id} within {limit:g}s; the next attempt looks again "
                    "before sending (the partner keeps one copy per Message-ID)"
                )
            time.sleep(pause)
            pause = min(pause * 2, 0.2)

    def _judge(self, mdn: Mdn, message_id: str, expected_mic: str) -> Receipt:
        if mdn.original_message_id and not same_message_id(mdn.original_message_id, message_id):
            raise FatalDeliveryError(
                f"the MDN answers {mdn.original_message_id}, not {message_id}",
                hint="the partner's AS2 server mixed up its receipts",
            )
        if not mdn.positive:
            text = f" ({mdn.text})" if mdn.text else ""
            raise FatalDeliveryError(
                f"the partner refused the message: {mdn.disposition}{text}",
                hint="the partner's disposition says why; fix it, then replay the dead letter",
            )
        if mdn.mic is None or not _same_mic(mdn.mic, expected_mic):
            raise RetriableDeliveryError(
                f"the MDN's MIC {mdn.mic!r} is not ours ({expected_mic}): the partner "
                "received other bytes than we sent"
            )
        return Receipt(f"AS2 {message_id} to {self.options.as2_to}: signed MDN, MIC {mdn.mic}")

    def close(self) -> None:
        self._client.close()


def _same_mic(given: str, expected: str) -> bool:
    """Compare "digest, algorithm" values, ignoring spacing and the algorithm's spelling."""

    def parts(value: str) -> tuple[str, str]:
        digest, _, algorithm = value.partition(",")
        return digest.strip(), algorithm.strip().lower().replace("-", "")

    return parts(given) == parts(expected)
