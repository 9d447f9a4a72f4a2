"""Credentials never leave the hub in what it prints or stores.

A URL may carry a user and password (``https://user:secret@erp.example.com/orders``, often
written ``https://user:${ERP_PASSWORD}@...`` in the config). Every text the hub shows a
person or keeps (delivery errors and receipts, the event history, log lines, config
problems) passes through :func:`redact`, which keeps the user and replaces the password
with ``***`` (a lone userinfo, often a token, is replaced whole).
"""

from __future__ import annotations

import re

__all__ = ["HIDDEN", "redact", "redact_url"]

#: What a password becomes.
HIDDEN = "***"

# scheme://userinfo@ : the userinfo runs to the last "@" before the host's path, query,
# fragment or whitespace, so a password with an unescaped "@" is hidden whole.
_CREDENTIALS = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)(?P<userinfo>[^/?#\s]*)@")


# A password written as a reference to the environment (as the config file has it) says
# where the secret is, not what it is: it may be shown. A default after ":-" may not.
_REFERENCE = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*\}")


def _hide(match: re.Match[str]) -> str:
    userinfo = match.group("userinfo")
    user, colon, password = userinfo.partition(":")
    if colon and _REFERENCE.fullmatch(password):
        return match.group(0)
    shown = f"{user}:{HIDDEN}" if colon else HIDDEN
    return f"{match.group('scheme')}{shown}@"


def redact(text: str) -> str:
    """``text`` with the password of every URL in it replaced by ``***``."""
    if "@" not in text:  # the common case, cheaply
        return text
    return _CREDENTIALS.sub(_hide, text)


def redact_url(url: str) -> str:
    """One URL as it may be shown: ``https://user:***@host/path``."""
    return redact(url)
