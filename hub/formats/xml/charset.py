"""A document that declares a single-byte charset but holds UTF-8: mojibake, caught.

``<?xml version="1.0" encoding="ISO-8859-1"?>`` over UTF-8 bytes parses without an error
and turns every "ä" into "Ã¤". Bytes that are valid UTF-8 *and* hold multi-byte
sequences are almost never intended Latin-1 text (that would need "Ã" followed by a
C1 control or a symbol, over and over), so such a document is refused or logged,
per the ``charset_mismatch`` option, with the line of the first such character.
"""

from __future__ import annotations

import codecs
import logging
import re

from hub.errors import DecodeError

__all__ = ["check_charset"]

log = logging.getLogger("hub.formats.xml")

_DECLARED = re.compile(
    rb"^(?:\xef\xbb\xbf)?<\?xml\s[^>]*?\bencoding\s*=\s*[\"']([A-Za-z0-9._-]{1,40})[\"']"
)
_MULTIBYTE = re.compile(rb"[\xc2-\xf4][\x80-\xbf]+")


def _single_byte(name: str) -> bool:
    try:
        python_name = codecs.lookup(name).name
    except LookupError:
        return False
    return python_name.startswith(("iso8859-", "cp125", "latin"))


def check_charset(data: bytes, *, policy: str, whole: bool) -> None:
    """Refuse (``policy="refuse"``) or log (``"warn"``) UTF-8 bytes under a Latin charset.

    ``whole`` is False when ``data`` is the head of a stream: its last character may be cut.
    """
    if policy == "ignore":
        return
    declared = _DECLARED.match(data[:200])
    if declared is None or not _single_byte(declared.group(1).decode("ascii")):
        return
    found = _MULTIBYTE.search(data)
    if found is None:
        return
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if whole or exc.end < len(data) - 3:
            return  # not UTF-8: the declaration may well be right
    charset = declared.group(1).decode("ascii")
    sample = found.group()[:4]
    shown = sample.decode("utf-8", errors="replace")
    seen = sample.decode(charset, errors="replace")
    line = data.count(b"\n", 0, found.start()) + 1
    message = (
        f"the document declares encoding {charset!r} but holds UTF-8: {shown!r} would read "
        f"as {seen!r}"
    )
    hint = (
        'the sender should declare encoding="UTF-8" (or send Latin-1 bytes); set the xml '
        "option `charset_mismatch: warn` to accept such documents as declared"
    )
    if policy == "refuse":
        raise DecodeError(message, where=f"line {line}", hint=hint)
    log.warning("line %d: %s", line, message)
