"""Stored payloads (a received body, a translated output) served so a browser cannot run them.

A body is whatever a sender posted: served back with its own type on the hub's origin, an
HTML or SVG body would run its script with the hub's origin (stored XSS). So a payload is
always an attachment (a browser downloads it, it does not render it), its type is one of a
few a browser does not execute, every other type is served as ``application/octet-stream``,
``nosniff`` stops the browser from guessing, and the content security policy forbids
everything (no script, no resource, no frame) and sandboxes the document should a browser
render it anyway.
"""

from __future__ import annotations

import re

from fastapi import Response

__all__ = ["PAYLOAD_CSP", "SAFE_TYPES", "payload_response", "served_type"]

#: Stored type -> (type served, file extension). Not here: text/html, image/svg+xml,
#: application/xhtml+xml, application/javascript, ... -- served as application/octet-stream.
#: XML can carry script when a browser renders it as a document (the XHTML namespace, an
#: XSLT stylesheet), which is why the answer is an attachment with a sandboxing policy; it is
#: kept because it is one of the hub's own formats. text/xml is the same thing as
#: application/xml, served as the latter.
SAFE_TYPES: dict[str, tuple[str, str]] = {
    "application/json": ("application/json", "json"),
    "application/xml": ("application/xml", "xml"),
    "text/xml": ("application/xml", "xml"),
    "text/csv": ("text/csv", "csv"),
    "text/plain": ("text/plain", "txt"),
    "application/edifact": ("application/EDIFACT", "edi"),
    "application/edi-x12": ("application/EDI-X12", "x12"),
    "application/octet-stream": ("application/octet-stream", "bin"),
}
_FALLBACK = ("application/octet-stream", "bin")

#: No script, style, image, frame or form; a unique origin if rendered at all.
PAYLOAD_CSP = "default-src 'none'; sandbox"

_CHARSET = re.compile(r"charset\s*=\s*\"?([A-Za-z0-9._:-]{1,40})\"?", re.IGNORECASE)


def served_type(stored: str | None) -> tuple[str, str]:
    """(Content-Type to send, file extension) for a stored content type."""
    if not stored:
        return _FALLBACK
    essence, _, params = stored.partition(";")
    served, extension = SAFE_TYPES.get(essence.strip().lower(), _FALLBACK)
    charset = _CHARSET.search(params)
    if charset and served != "application/octet-stream":
        served = f"{served}; charset={charset.group(1)}"
    return served, extension


def payload_response(body: bytes, stored_type: str | None, name: str) -> Response:
    """``body`` as a download named ``<name>.<extension>`` that no browser will execute."""
    media_type, extension = served_type(stored_type)
    return Response(
        body,
        media_type=media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{name}.{extension}"',
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": PAYLOAD_CSP,
            "Cache-Control": "no-store",
        },
    )
