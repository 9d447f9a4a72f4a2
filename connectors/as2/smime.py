"""The S/MIME layers of AS2 (RFC 4130, RFC 5402): MIME entities, signing, encryption,
compression, and the MIC a partner's MDN must echo.

Built on ``cryptography`` (signing, enveloping, decryption) and ``asn1crypto`` (reading a
signature to verify it, CMS compressed data). pyas2lib is not used: its dependency oscrypto
1.3.0 cannot load OpenSSL 3.0.x here ("Error detecting the version of libcrypto").

Entities are built as bytes, never re-serialised by a MIME library, because a signature and a
MIC cover exact bytes: a header folded differently would break both.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
import zlib
from dataclasses import dataclass
from email.message import Message as EmailMessage
from email.parser import BytesHeaderParser
from email.policy import compat32
from types import ModuleType
from typing import Literal

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers import algorithms
from cryptography.hazmat.primitives.serialization import pkcs7

from hub.sdk import HubError

__all__ = [
    "As2Failure",
    "Entity",
    "compress",
    "decompress",
    "decrypt",
    "encrypt",
    "mic",
    "parse_entity",
    "sign",
    "split_multipart",
    "unsign",
]

Cipher = Literal["aes128-cbc", "aes256-cbc"]
_CIPHERS: dict[str, pkcs7.ContentEncryptionAlgorithm] = {
    "aes128-cbc": algorithms.AES128,
    "aes256-cbc": algorithms.AES256,
}
_SIGNING: dict[str, type[hashes.SHA256 | hashes.SHA384 | hashes.SHA512]] = {
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}
_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha1": hashes.SHA1,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}


def asn1() -> ModuleType:
    """``asn1crypto.cms``, imported when first used: the hub loads every connector plugin at
    start, and one without the ``as2`` extra must still start (the sftp connector does the
    same with paramiko)."""
    try:
        from asn1crypto import cms
    except ImportError:
        raise HubError(
            "the as2 connector needs asn1crypto, which is not installed",
            hint="pip install 'switchboard-hub[as2]'",
        ) from None
    module: ModuleType = cms
    return module


class As2Failure(Exception):
    """A message that cannot be unwrapped, named by its RFC 4130 disposition modifier
    (``authentication-failed``, ``decryption-failed``, ...), which the negative MDN carries."""

    def __init__(self, modifier: str, detail: str) -> None:
        super().__init__(f"{modifier}: {detail}")
        self.modifier = modifier
        self.detail = detail


@dataclass(frozen=True)
class Entity:
    """A MIME entity: its header block and body, exactly as received."""

    raw: bytes
    headers: EmailMessage
    body: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get_content_type()

    def param(self, name: str) -> str | None:
        value = self.headers.get_param(name)
        return value if isinstance(value, str) else None

    def decoded_body(self) -> bytes:
        """The body with its Content-Transfer-Encoding (base64, binary) undone."""
        encoding = (self.headers.get("content-transfer-encoding") or "binary").strip().lower()
        if encoding == "base64":
            try:
                return base64.b64decode(self.body, validate=False)
            except ValueError as exc:
                raise As2Failure("unexpected-processing-error", f"bad base64: {exc}") from None
        return self.body


def parse_entity(raw: bytes) -> Entity:
    """Split a MIME entity at its blank line (CRLF, or LF from a careless peer)."""
    cut, gap = raw.find(b"\r\n\r\n"), 4
    bare = raw.find(b"\n\n")
    if cut < 0 or (0 <= bare < cut):
        cut, gap = bare, 2
    if raw.startswith((b"\r\n", b"\n")):  # no headers at all
        cut, gap = 0, 2 if raw.startswith(b"\r\n") else 1
    if cut < 0:
        cut, gap = len(raw), 0
    headers = BytesHeaderParser(policy=compat32).parsebytes(raw[:cut] + b"\r\n\r\n")
    return Entity(raw=raw, headers=headers, body=raw[cut + gap :])


def entity(headers: list[tuple[str, str]], body: bytes) -> bytes:
    head = b"".join(f"{name}: {value}\r\n".encode() for name, value in headers)
    return head + b"\r\n" + body


def split_multipart(body: bytes, boundary: str) -> list[bytes]:
    """The parts of a multipart body, each byte for byte (RFC 2046: the CRLF before a
    delimiter belongs to the delimiter, so a signed part keeps its exact bytes)."""
    for newline in (b"\r\n", b"\n"):
        delimiter = newline + b"--" + boundary.encode()
        pieces = (newline + body).split(delimiter)
        parts: list[bytes] = []
        for piece in pieces[1:]:
            if piece.startswith(b"--"):
                break
            end = piece.find(newline)
            if end < 0:
                break
            parts.append(piece[end + len(newline) :])
        if parts:
            return parts
    return []


def mic(content: bytes, algorithm: str = "sha256") -> str:
    """The Received-Content-MIC value: base64 digest and the algorithm's AS2 name."""
    digest = hashlib.new(algorithm, content).digest()
    return f"{base64.b64encode(digest).decode()}, {algorithm.replace('sha', 'sha-')}"


def sign(
    content: bytes, certificate: x509.Certificate, key: rsa.RSAPrivateKey, algorithm: str
) -> bytes:
    """A ``multipart/signed`` entity around ``content`` (an entity), with a detached CMS
    signature over its exact bytes."""
    signature = (
        pkcs7.PKCS7SignatureBuilder()
        .set_data(content)
        .add_signer(certificate, key, _SIGNING[algorithm]())
        .sign(
            serialization.Encoding.DER,
            [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary],
        )
    )
    boundary = f"----=_as2_{uuid.uuid4().hex}"
    encoded = base64.encodebytes(signature).replace(b"\n", b"\r\n")
    signature_part = entity(
        [
            ("Content-Type", 'application/pkcs7-signature; name="smime.p7s"'),
            ("Content-Transfer-Encoding", "base64"),
            ("Content-Disposition", 'attachment; filename="smime.p7s"'),
        ],
        encoded,
    )
    delimiter = f"--{boundary}".encode()
    body = b"".join(
        (
            delimiter + b"\r\n",
            content + b"\r\n",
            delimiter + b"\r\n",
            signature_part + b"\r\n",
            delimiter + b"--\r\n",
        )
    )
    micalg = algorithm.replace("sha", "sha-")
    content_type = (
        f'multipart/signed; protocol="application/pkcs7-signature"; micalg={micalg}; '
        f'boundary="{boundary}"'
    )
    return entity([("Content-Type", content_type)], body)


def unsign(signed: Entity, certificate: x509.Certificate) -> tuple[Entity, str]:
    """The signed part of a ``multipart/signed`` entity and its MIC, once the signature is
    checked with the partner's ``certificate``."""
    boundary = signed.param("boundary")
    parts = split_multipart(signed.body, boundary) if boundary else []
    if len(parts) != 2:
        raise As2Failure("authentication-failed", "the multipart/signed body is not two parts")
    content, signature_part = parts
    try:
        signature = parse_entity(signature_part).decoded_body()
    except As2Failure as exc:
        raise As2Failure("authentication-failed", f"the signature: {exc.detail}") from None
    algorithm = verify(content, signature, certificate)
    return parse_entity(content), mic(content, algorithm)


def verify(content: bytes, signature: bytes, certificate: x509.Certificate) -> str:
    """Check a detached CMS signature over ``content``; returns the digest algorithm.

    A digest that does not match the content is ``integrity-check-failed``; a signature that
    the partner's key did not make is ``authentication-failed``.
    """
    try:
        info = asn1().ContentInfo.load(signature)
        signer = info["content"]["signer_infos"][0]
        algorithm = str(signer["digest_algorithm"]["algorithm"].native)
        signed_attrs = signer["signed_attrs"]
        signature_value = bytes(signer["signature"].native)
        signature_algo = signer["signature_algorithm"].signature_algo
        claimed: object = None
        has_attrs = signed_attrs.native is not None and len(signed_attrs) > 0
        if has_attrs:
            claimed = next(
                (
                    a["values"][0].native
                    for a in signed_attrs
                    if a["type"].native == "message_digest"
                ),
                None,
            )
            signed = b"\x31" + signed_attrs.dump()[1:]  # signed as a SET OF, sent as [0] IMPLICIT
    except HubError:
        raise
    except Exception as exc:  # damaged ASN.1 fails in many ways; unreadable is unauthenticated
        raise As2Failure("authentication-failed", f"the signature cannot be read: {exc}") from None
    if algorithm not in _HASHES:
        raise As2Failure("authentication-failed", f"unsupported digest algorithm {algorithm}")
    if has_attrs:
        if claimed != hashlib.new(algorithm, content).digest():
            raise As2Failure(
                "integrity-check-failed", "the content does not match its signed digest"
            )
    else:
        signed = content
    public_key = certificate.public_key()
    if not isinstance(public_key, rsa.RSAPublicKey):
        raise As2Failure("authentication-failed", "only RSA partner certificates are supported")
    pad: padding.AsymmetricPadding = (
        padding.PSS(padding.MGF1(_HASHES[algorithm]()), padding.PSS.AUTO)
        if signature_algo == "rsassa_pss"
        else padding.PKCS1v15()
    )
    try:
        public_key.verify(signature_value, signed, pad, _HASHES[algorithm]())
    except InvalidSignature:
        raise As2Failure(
            "authentication-failed", "the signature was not made with the partner's certificate"
        ) from None
    return algorithm


def encrypt(content: bytes, certificate: x509.Certificate, cipher: Cipher) -> bytes:
    """An ``application/pkcs7-mime`` enveloped-data entity for the partner's certificate."""
    der = (
        pkcs7.PKCS7EnvelopeBuilder()
        .set_data(content)
        .add_recipient(certificate)
        .set_content_encryption_algorithm(_CIPHERS[cipher])
        .encrypt(serialization.Encoding.DER, [pkcs7.PKCS7Options.Binary])
    )
    return entity(
        [
            ("Content-Type", 'application/pkcs7-mime; smime-type=enveloped-data; name="smime.p7m"'),
            ("Content-Transfer-Encoding", "binary"),
            ("Content-Disposition", 'attachment; filename="smime.p7m"'),
        ],
        der,
    )


def decrypt(enveloped: Entity, certificate: x509.Certificate, key: rsa.RSAPrivateKey) -> Entity:
    """The entity inside an enveloped-data entity, decrypted with our key."""
    try:
        inner = pkcs7.pkcs7_decrypt_der(enveloped.decoded_body(), certificate, key, [])
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise As2Failure("decryption-failed", f"cannot decrypt with our key: {exc}") from None
    return parse_entity(inner)


def compress(content: bytes) -> bytes:
    """An ``application/pkcs7-mime`` compressed-data entity (RFC 3274, zlib)."""
    cms = asn1()
    der = cms.ContentInfo(
        {
            "content_type": "compressed_data",
            "content": cms.CompressedData(
                {
                    "version": "v0",
                    "compression_algorithm": {"algorithm": "zlib"},
                    "encap_content_info": {
                        "content_type": "data",
                        "content": zlib.compress(content),
                    },
                }
            ),
        }
    ).dump()
    return entity(
        [
            (
                "Content-Type",
                'application/pkcs7-mime; smime-type=compressed-data; name="smime.p7z"',
            ),
            ("Content-Transfer-Encoding", "binary"),
            ("Content-Disposition", 'attachment; filename="smime.p7z"'),
        ],
        der,
    )


def decompress(compressed: Entity) -> Entity:
    try:
        info = asn1().ContentInfo.load(compressed.decoded_body())
        data = info["content"].decompressed
    except HubError:
        raise
    except Exception as exc:  # damaged ASN.1 or zlib data fails in many ways
        raise As2Failure("decompression-failed", f"cannot decompress: {exc}") from None
    return parse_entity(bytes(data))


def smime_type(part: Entity) -> str | None:
    """``enveloped-data``, ``compressed-data`` or ``signed-data`` for pkcs7-mime entities."""
    if part.content_type not in ("application/pkcs7-mime", "application/x-pkcs7-mime"):
        return None
    kind = part.param("smime-type")
    if kind:
        return kind.lower()
    try:
        info = asn1().ContentInfo.load(part.decoded_body())
        return str(info["content_type"].native).replace("_", "-")
    except HubError:
        raise
    except Exception:  # not CMS at all: the caller treats it as an ordinary part
        return None
