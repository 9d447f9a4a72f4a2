"""Certificates and private keys, read from the files the config names."""

from __future__ import annotations

from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import SecretStr

from hub.sdk import HubError

__all__ = ["load_certificate", "load_key"]


def load_certificate(path: Path) -> x509.Certificate:
    """A certificate in PEM or DER; a missing or unreadable file names itself."""
    data = _read(path, "certificate")
    try:
        if b"-----BEGIN" in data:
            return x509.load_pem_x509_certificate(data)
        return x509.load_der_x509_certificate(data)
    except ValueError as exc:
        raise HubError(
            f"{path} is not an X.509 certificate: {exc}",
            hint="give a PEM (-----BEGIN CERTIFICATE-----) or DER file",
        ) from None


def load_key(path: Path, password: SecretStr | None) -> rsa.RSAPrivateKey:
    """An RSA private key in PEM (PKCS#1 or PKCS#8), decrypted with ``password`` if set."""
    data = _read(path, "private key")
    secret = password.get_secret_value().encode() if password is not None else None
    try:
        key = serialization.load_pem_private_key(data, password=secret)
    except (ValueError, TypeError) as exc:
        raise HubError(
            f"cannot read the private key {path}: {exc}",
            hint="a PEM RSA key; set key_password when it is encrypted",
        ) from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise HubError(f"{path} is not an RSA key", hint="AS2 partners expect RSA keys")
    return key


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise HubError(
            f"cannot read the {what} {path}: {exc.strerror or exc}",
            hint="the path is relative to the config file's folder",
        ) from None
