"""One AS2 message over HTTP: built by the sink, opened by the inbound side.

The layers, outside in: encryption (enveloped-data), signature (multipart/signed),
compression (compressed-data, RFC 5402 compress-before-sign), the payload entity. The
outermost entity's Content-Type travels as an HTTP header and its body as the HTTP body.
"""

from __future__ import annotations

import email.utils
from collections.abc import Mapping
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from connectors.as2.mdn import AS2_VERSION, quote_id
from connectors.as2.smime import (
    As2Failure,
    Cipher,
    Entity,
    compress,
    decompress,
    decrypt,
    encrypt,
    entity,
    mic,
    parse_entity,
    sign,
    smime_type,
    unsign,
)

__all__ = ["Opened", "Outgoing", "build_message", "http_entity", "open_message"]


@dataclass(frozen=True)
class Outgoing:
    headers: dict[str, str]
    body: bytes
    mic: str  # what the partner's MDN must echo in Received-Content-MIC


@dataclass(frozen=True)
class Opened:
    """What an inbound AS2 message carried, once every layer is checked and removed."""

    payload: bytes
    content_type: str
    filename: str | None
    mic: str
    signed: bool
    encrypted: bool
    report: bool  # a multipart/report: an (asynchronous) MDN, not a business message


@dataclass(frozen=True)
class Keys:
    """Our certificate and key, and the partner's certificate."""

    ours: x509.Certificate
    key: rsa.RSAPrivateKey
    partner: x509.Certificate


def build_message(
    payload: bytes,
    *,
    content_type: str,
    filename: str,
    message_id: str,
    as2_from: str,
    as2_to: str,
    keys: Keys,
    signed: bool = True,
    encrypted: bool = True,
    compressed: bool = False,
    cipher: Cipher = "aes256-cbc",
    algorithm: str = "sha256",
    subject: str = "AS2 message",
    mdn_url: str | None = None,
) -> Outgoing:
    """The HTTP headers and body of one AS2 message asking for a signed MDN."""
    part = entity(
        [
            ("Content-Type", content_type),
            ("Content-Transfer-Encoding", "binary"),
            ("Content-Disposition", f'attachment; filename="{filename}"'),
        ],
        payload,
    )
    if compressed:
        part = compress(part)
    digest = mic(part, algorithm)  # over the entity that is signed, headers included
    if signed:
        part = sign(part, keys.ours, keys.key, algorithm)
    if encrypted:
        part = encrypt(part, keys.partner, cipher)
    outer = parse_entity(part)
    micalg = algorithm.replace("sha", "sha-")
    headers = {
        "AS2-Version": AS2_VERSION,
        "AS2-From": quote_id(as2_from),
        "AS2-To": quote_id(as2_to),
        "Message-ID": message_id,
        "Subject": subject,
        "Date": email.utils.formatdate(usegmt=True),
        "MIME-Version": "1.0",
        "Content-Type": " ".join(str(outer.headers["content-type"]).split()),
        "Disposition-Notification-To": as2_from,
        "Disposition-Notification-Options": (
            "signed-receipt-protocol=optional, pkcs7-signature; "
            f"signed-receipt-micalg=optional, {micalg}"
        ),
    }
    encoding = outer.headers.get("content-transfer-encoding")
    if encoding:
        headers["Content-Transfer-Encoding"] = str(encoding)
    if mdn_url is not None:
        headers["Receipt-Delivery-Option"] = mdn_url
    return Outgoing(headers=headers, body=outer.body, mic=digest)


def http_entity(headers: Mapping[str, str], body: bytes) -> Entity:
    """The outermost MIME entity of an HTTP request or answer (header names lower-cased)."""
    fields = [("Content-Type", headers.get("content-type", "application/octet-stream"))]
    if "content-transfer-encoding" in headers:
        fields.append(("Content-Transfer-Encoding", headers["content-transfer-encoding"]))
    return parse_entity(entity(fields, body))


def open_message(
    whole: Entity,
    keys: Keys,
    *,
    require_signed: bool,
    require_encrypted: bool,
    algorithm: str = "sha256",
) -> Opened:
    """Decrypt, verify and decompress; raises :class:`As2Failure` naming what failed."""
    part = whole
    encrypted = signed = False
    if smime_type(part) == "enveloped-data":
        part = decrypt(part, keys.ours, keys.key)
        encrypted = True
    elif require_encrypted:
        raise As2Failure("insufficient-message-security", "the message is not encrypted")
    digest = mic(part.raw, algorithm)  # unsigned: over what the sender would have signed
    if smime_type(part) == "compressed-data":  # signed, then compressed (RFC 5402 allows it)
        inner = decompress(part)
        if inner.content_type == "multipart/signed":
            part = inner
    if part.content_type == "multipart/signed":
        part, digest = unsign(part, keys.partner)
        signed = True
    elif require_signed:
        raise As2Failure("insufficient-message-security", "the message is not signed")
    if smime_type(part) == "compressed-data":
        part = decompress(part)
    filename = part.headers.get_filename()
    return Opened(
        payload=part.decoded_body(),
        content_type=str(part.headers.get("content-type") or "application/octet-stream"),
        filename=filename if isinstance(filename, str) else None,
        mic=digest,
        signed=signed,
        encrypted=encrypted,
        report=part.content_type == "multipart/report",
    )
