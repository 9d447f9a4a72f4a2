"""Message Disposition Notifications (RFC 3798 as AS2 uses them, RFC 4130 section 7).

An MDN is a ``multipart/report`` with a human-readable part and a
``message/disposition-notification`` part, signed by its sender. Its disposition says
``processed`` or ``processed/error: <modifier>``; its ``Received-Content-MIC`` is the digest
the receiver computed over what it got, which the sender compares with its own.
"""

from __future__ import annotations

import email.utils
import uuid
from dataclasses import dataclass
from email.parser import BytesHeaderParser
from email.policy import compat32

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from connectors.as2.smime import (
    As2Failure,
    Entity,
    entity,
    parse_entity,
    sign,
    split_multipart,
    unsign,
)

__all__ = ["Mdn", "build_mdn", "read_mdn"]

AS2_VERSION = "1.2"


@dataclass(frozen=True)
class Mdn:
    """What a partner's MDN says about one of our messages."""

    original_message_id: str
    disposition: str  # e.g. "automatic-action/MDN-sent-automatically; processed"
    mic: str | None  # "base64, sha-256" as the partner computed it
    text: str  # the human-readable part
    signed: bool

    @property
    def modifier(self) -> str | None:
        """``error: decryption-failed`` and the like; None for a plain ``processed``."""
        _, _, kind = self.disposition.partition(";")
        _, slash, modifier = kind.strip().partition("/")
        return modifier.strip() if slash else None

    @property
    def positive(self) -> bool:
        _, _, kind = self.disposition.partition(";")
        head = kind.strip().split("/", 1)[0].strip().lower()
        modifier = (self.modifier or "").lower()
        return head == "processed" and not modifier.startswith(("error", "failure", "failed"))


def build_mdn(
    *,
    original_message_id: str,
    reporter: str,
    recipient: str,
    mic: str | None,
    failure: As2Failure | None,
    signer: tuple[x509.Certificate, rsa.RSAPrivateKey] | None,
    algorithm: str = "sha256",
) -> tuple[dict[str, str], bytes]:
    """The HTTP headers and body of an MDN from ``reporter`` (us) to ``recipient``."""
    if failure is None:
        disposition = "processed"
        text = f"The AS2 message {original_message_id} was received and stored."
    else:
        disposition = f"processed/error: {failure.modifier}"
        text = f"The AS2 message {original_message_id} was refused: {failure.detail}"
    fields = [
        ("Reporting-UA", "Switchboard"),
        ("Original-Recipient", f"rfc822; {reporter}"),
        ("Final-Recipient", f"rfc822; {reporter}"),
        ("Original-Message-ID", original_message_id),
    ]
    if mic is not None and failure is None:
        fields.append(("Received-Content-MIC", mic))
    fields.append(("Disposition", f"automatic-action/MDN-sent-automatically; {disposition}"))
    notification = "".join(f"{name}: {value}\r\n" for name, value in fields).encode()
    boundary = f"----=_mdn_{uuid.uuid4().hex}"
    delimiter = f"--{boundary}".encode()
    body = b"".join(
        (
            delimiter + b"\r\n",
            entity(
                [("Content-Type", "text/plain; charset=utf-8")],
                " ".join(text.split()).encode() + b"\r\n",
            )
            + b"\r\n",
            delimiter + b"\r\n",
            entity([("Content-Type", "message/disposition-notification")], notification) + b"\r\n",
            delimiter + b"--\r\n",
        )
    )
    report = entity(
        [
            (
                "Content-Type",
                f'multipart/report; report-type=disposition-notification; boundary="{boundary}"',
            )
        ],
        body,
    )
    whole = parse_entity(sign(report, *signer, algorithm) if signer is not None else report)
    headers = {
        "AS2-Version": AS2_VERSION,
        "AS2-From": quote_id(reporter),
        "AS2-To": quote_id(recipient),
        "Message-ID": new_message_id(reporter),
        "Date": email.utils.formatdate(usegmt=True),
        "MIME-Version": "1.0",
        "Content-Type": " ".join(str(whole.headers["content-type"]).split()),
    }
    return headers, whole.body


def read_mdn(whole: Entity, partner: x509.Certificate, *, require_signed: bool) -> Mdn:
    """Read an MDN (``whole`` is its entity), checking its signature against ``partner``.

    Raises :class:`As2Failure` when it is not signed (and must be), or the signature does
    not verify, or it is not an MDN at all.
    """
    signed = whole.content_type == "multipart/signed"
    report = whole
    if signed:
        report, _ = unsign(whole, partner)
    elif require_signed:
        raise As2Failure("insufficient-message-security", "the MDN is not signed")
    if report.content_type != "multipart/report":
        raise As2Failure(
            "unexpected-processing-error",
            f"an MDN is a multipart/report, not {report.content_type}",
        )
    boundary = report.param("boundary") or ""
    text = ""
    fields = None
    for raw in split_multipart(report.body, boundary):
        part = parse_entity(raw)
        if part.content_type == "message/disposition-notification":
            fields = BytesHeaderParser(policy=compat32).parsebytes(part.decoded_body())
        elif part.content_type.startswith("text/") and not text:
            text = part.decoded_body().decode("utf-8", "replace").strip()
    if fields is None:
        raise As2Failure(
            "unexpected-processing-error", "the MDN has no message/disposition-notification part"
        )
    return Mdn(
        original_message_id=str(fields.get("original-message-id", "")).strip(),
        disposition=" ".join(str(fields.get("disposition", "")).split()),
        mic=_clean(fields.get("received-content-mic")),
        text=text,
        signed=signed,
    )


def _clean(value: object) -> str | None:
    return " ".join(str(value).split()) if value is not None else None


def new_message_id(sender: str) -> str:
    return f"<{uuid.uuid4().hex}@{safe_id(sender)}>"


def safe_id(as2_id: str) -> str:
    """An AS2 id usable as the right side of a Message-ID."""
    return "".join(c if c.isalnum() or c in "-._" else "_" for c in as2_id) or "as2"


def quote_id(as2_id: str) -> str:
    """AS2-From/To: quoted when it has spaces (RFC 4130 section 6.2)."""
    return f'"{as2_id}"' if any(c in as2_id for c in ' "\\') else as2_id


def unquote_id(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return value


def same_message_id(a: str, b: str) -> bool:
    return a.strip().strip("<>") == b.strip().strip("<>")
