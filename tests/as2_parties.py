"""AS2 test parties: a self-signed certificate and RSA key each, generated at test time.

Nothing here is committed as a key file: every test makes fresh ones in its temporary folder
(``<name>-TEST-ONLY.key``), so no private key lives in the repository.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

_KEYS: dict[str, rsa.RSAPrivateKey] = {}  # RSA generation is slow: one key per name per run


@dataclass(frozen=True)
class Party:
    as2_id: str
    certificate: Path
    key: Path


def make_party(folder: Path, as2_id: str, *, variant: str = "") -> Party:
    """A party ``as2_id`` with a certificate and key in ``folder``; another ``variant``
    gives the same id a different key (an impostor, or a partner's changed certificate)."""
    name = f"{as2_id}{variant}"
    key = _KEYS.get(name)
    if key is None:
        key = _KEYS[name] = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, as2_id)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    cert_path = folder / f"{name}.pem"
    key_path = folder / f"{name}-TEST-ONLY.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return Party(as2_id, cert_path, key_path)
