"""Write an interchange tree as EDIFACT: escaping, counts and control references computed."""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable
from typing import Any

from hub.errors import EncodeError
from hub.formats.edifact.syntax import Charset, Separators, charset_for

__all__ = ["write_interchange"]

_FOLD = str.maketrans(
    {
        "ß": "ss",
        "Æ": "AE",
        "æ": "ae",
        "Ø": "O",
        "ø": "o",
        "Œ": "OE",
        "œ": "oe",
        "Ł": "L",
        "ł": "l",
        "Đ": "D",
        "đ": "d",
        "Þ": "Th",
        "þ": "th",
        "\u2019": "'",
        "\u2018": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u2026": "...",
    }
)


def transliterate(text: str, charset: Charset) -> str:
    """Fold only the characters ``charset`` cannot carry: ``Łukasz Wójcik`` -> ``Lukasz
    Wójcik`` in UNOC (ó is Latin-1), accents stripped and ligatures spelled out; level A
    is upper-cased as well."""
    if charset.identifier == "UNOA":
        text = text.upper()
    if _fits(text, charset):
        return text
    out: list[str] = []
    for char in text:
        if _fits(char, charset):
            out.append(char)
            continue
        folded = unicodedata.normalize("NFKD", char.translate(_FOLD))
        folded = "".join(c for c in folded if not unicodedata.combining(c))
        out.append(folded.upper() if charset.identifier == "UNOA" else folded)
    return "".join(out)


def _fits(text: str, charset: Charset) -> bool:
    if charset.allowed is not None and charset.allowed.search(text):
        return False
    try:
        text.encode(charset.codec)
    except UnicodeEncodeError:
        return False
    return True


class _Writer:
    def __init__(
        self, seps: Separators, charset: Charset, fix: Callable[[str], str] | None, version: str
    ) -> None:
        self.seps = seps
        self.charset = charset
        self.fix = fix
        self._special, specials = _specials(seps, version)
        self._release = seps.release
        self._search = self._special.search
        self._element = seps.element
        self._component = seps.component
        #: The special characters a value may hold only escaped, besides the separators and
        #: the terminator the fast path counts.
        self._others = tuple(specials - {seps.element, seps.component, seps.segment})
        #: The fast path writes whole segments when nothing needs folding or escaping;
        #: level A folds to capitals, so with `transliterate` it goes value by value.
        used = (seps.element, seps.component, seps.segment)
        self._fast = all(used) and len(set(used)) == len(used)
        if fix is not None and charset.identifier == "UNOA":
            self._fast = False
        self._fold_check = fix is not None
        self._ascii_fits = charset.allowed is None  # every charset but levels A and B

    def many(self, segments: list[Any]) -> list[str] | None:
        """The texts of many segments in one pass, or None when any value needs escaping,
        folding or an error message (then each goes through :meth:`fast` or :meth:`segment`).

        Values are joined unescaped. The text needs no escaping exactly when it holds as
        many separators and terminators as were put in, and no other special character;
        extra ones can only come from values, so one count over all segments tells.
        """
        if not self._fast:
            return None
        component, element_sep, terminator = self._component, self._element, self.seps.segment
        scalar, good = _SCALAR, _GOOD_TAGS
        lines: list[str] = []
        add_line = lines.append
        elements_put = components_put = 0
        try:
            for segment in segments:
                if type(segment) is not list or not segment:
                    return None
                if segment[0] not in good:
                    tag = segment[0]
                    if type(tag) is not str or not _TAG.fullmatch(tag):
                        return None
                    good.add(tag)
                parts: list[str] = []
                add = parts.append
                for element in segment:
                    kind = type(element)
                    if kind is str:
                        add(element)
                    elif kind is list:
                        if not element:
                            add("")
                            continue
                        try:  # text components (the usual case) join at C speed
                            add(component.join(element))
                        except TypeError:  # numbers or nulls among them
                            add(
                                component.join(
                                    [c if type(c) is str else scalar[type(c)](c) for c in element]
                                )
                            )
                        components_put += len(element) - 1
                    else:
                        add(scalar[kind](element))
                elements_put += len(parts) - 1
                add_line(element_sep.join(parts) + terminator)
        except (KeyError, TypeError):  # a repetition, a bool, an object, an odd tag
            return None
        return (
            lines if self._clean("".join(lines), elements_put, components_put, len(lines)) else None
        )

    def fast(self, segment: Any) -> str | None:
        """One segment as :meth:`many` writes it, or None."""
        lines = self.many([segment])
        return lines[0] if lines else None

    def _clean(self, text: str, elements: int, components: int, segments: int) -> bool:
        """Whether ``text`` holds only the separators put in, and nothing to fold."""
        if (
            text.count(self._element) != elements
            or text.count(self._component) != components
            or text.count(self.seps.segment) != segments
        ):
            return False
        for char in self._others:
            if char in text:
                return False
        return not (
            self._fold_check
            and not (self._ascii_fits and text.isascii())
            and not _fits(text, self.charset)
        )

    def value(self, value: Any) -> str:
        if type(value) is str and self.fix is None and not self._search(value):
            return value  # the common case: nothing to fold, nothing to escape
        if value is None:
            return ""
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise EncodeError(
                f"a data element must be text or a number, not {type(value).__name__}"
            )
        text = value if isinstance(value, str) else str(value)
        if self.fix is not None:
            text = self.fix(text)
        if self._search(text):
            if not self._release:
                raise EncodeError(
                    f"{text!r} holds a separator and this syntax has no release character"
                )
            text = self._special.sub(lambda m: self._release + m.group(0), text)
        return text

    def element(self, element: Any) -> str:
        if type(element) is list:
            return self.seps.component.join([self.value(c) for c in element])
        if isinstance(element, dict) and "repeat" in element:
            return self.seps.repetition.join([self.element(e) for e in element["repeat"]])
        return self.value(element)

    def segment(self, segment: Any, where: str) -> str:
        if not isinstance(segment, list) or not segment or not isinstance(segment[0], str):
            raise EncodeError("a segment must be a list starting with its tag", where=where)
        tag = segment[0]
        if tag not in _GOOD_TAGS:
            if not _TAG.fullmatch(tag):
                raise EncodeError(f"{tag!r} is not a segment tag", where=where)
            _GOOD_TAGS.add(tag)
        try:
            body = self.seps.element.join([tag, *map(self.element, segment[1:])])
        except EncodeError as exc:  # locate it only now: building places up front is slow
            index = next(i for i, e in enumerate(segment[1:], 1) if not self._writes(e))
            raise EncodeError(
                exc.message, where=f"{where}, element {index}", hint=exc.hint
            ) from None
        return body + self.seps.segment

    def _writes(self, element: Any) -> bool:
        try:
            self.element(element)
        except EncodeError:
            return False
        return True


@functools.lru_cache(maxsize=64)
def _specials(seps: Separators, version: str) -> tuple[re.Pattern[str], frozenset[str]]:
    """The characters a value may hold only escaped, and a pattern that finds them (worked
    out once per set of separators, not once per interchange)."""
    specials = {seps.release, seps.element, seps.component, seps.segment}
    if version == "4" and seps.repetition.strip():
        specials.add(seps.repetition)
    specials.discard("")
    return re.compile("|".join(re.escape(c) for c in sorted(specials))), frozenset(specials)


_TAG = re.compile(r"[A-Z][A-Z0-9]{2}")
#: Tags seen to be well formed (at most 26 * 36 * 36 of them).
_GOOD_TAGS: set[str] = set()
#: How the fast path writes a value that is not text, as :meth:`_Writer.value` does.
_SCALAR: dict[type, Callable[[Any], str]] = {int: str, float: str, type(None): lambda _: ""}


def write_interchange(
    tree: Any,
    *,
    charset: str | None = None,
    separators: Separators | None = None,
    newline: str | None = None,
    una: str = "auto",
    transliterate_text: bool = False,
) -> bytes:
    """Tree -> bytes. UNT, UNE and UNZ counts and references are computed, not trusted.

    A tree of several interchanges (``{"interchanges": [...]}``) writes them one after
    the other; ``bom`` writes the UTF-8 byte order mark first.
    """
    if not isinstance(tree, dict):
        raise EncodeError("an EDIFACT tree is an object with `header` and `messages`")
    bom = b"\xef\xbb\xbf" if tree.get("bom") else b""
    if "interchanges" in tree:
        items = tree["interchanges"]
        if not isinstance(items, list) or not items:
            raise EncodeError("`interchanges` is a list of interchanges", where="/interchanges")
        parts = []
        for n, one in enumerate(items):
            try:
                parts.append(
                    write_interchange(
                        one,
                        charset=charset,
                        separators=separators,
                        newline=newline,
                        una=una,
                        transliterate_text=transliterate_text,
                    )
                )
            except EncodeError as exc:
                raise EncodeError(
                    exc.message, where=f"/interchanges/{n} {exc.where or ''}".strip(), hint=exc.hint
                ) from None
        return bom + b"".join(parts)
    header = list(tree.get("header") or [])
    syntax = tree.get("syntax") or {}
    identifier = charset or syntax.get("identifier") or _first(header) or "UNOC"
    version = str(syntax.get("version") or "3")
    try:
        if separators is not None:
            seps = separators
        elif tree.get("separators") is None and version == "4":
            seps = Separators.version_4_defaults()
        else:
            seps = Separators.from_tree(tree.get("separators"))
    except (TypeError, ValueError) as exc:
        raise EncodeError(f"bad `separators`: {exc}", where="/separators") from None
    cs = charset_for(str(identifier))
    if header:
        first = header[0]
        header[0] = (
            [cs.identifier, *first[1:]] if isinstance(first, list) else [cs.identifier, version]
        )
    fix = (lambda text: transliterate(text, cs)) if transliterate_text else None
    w = _Writer(seps, cs, fix, version)
    lines: list[str] = []
    places = _Places()

    def emit(segment: Any, where: str) -> None:
        places.one(len(lines), where)
        lines.append(w.fast(segment) or w.segment(segment, where))

    # without UNA a reader assumes the defaults: level A's, or level B's under UNOB
    defaults = Separators.version_4_defaults() if version == "4" else Separators()
    implied = seps == defaults or (
        cs.identifier == "UNOB" and seps == Separators.level_b_defaults()
    )
    if una == "always" or (una == "auto" and (tree.get("una") or not implied)):
        lines.append(seps.una())
    first = len(lines)
    emit(["UNB", *header], "UNB")
    reference = _text(header[4]) if len(header) > 4 else ""
    units = 0
    if "groups" in tree:
        for g, group in enumerate(tree.get("groups") or []):
            ung = list(group.get("header") or [])
            emit(["UNG", *ung], f"/groups/{g} UNG")
            n = _messages(
                w, emit, lines, places, group.get("messages") or [], f"/groups/{g}/messages"
            )
            emit(["UNE", str(n), _text(ung[4]) if len(ung) > 4 else ""], f"/groups/{g} UNE")
            units += 1
    else:
        units = _messages(w, emit, lines, places, tree.get("messages") or [], "/messages")
    emit(["UNZ", str(units), reference], "UNZ")
    sep = newline if newline is not None else (tree.get("newline") or "")
    final = sep if newline is not None else str(tree.get("final_newline", sep) or "")
    text = sep.join(lines) + final
    if lines[0].startswith("UNA") and sep and tree.get("una_newline") is False:
        text = text.replace(lines[0] + sep, lines[0], 1)
    return bom + _encode(text, cs, seps, lines[first:], lambda n: places.where(first + n))


class _Places:
    """Where in the tree each written segment came from, worked out only for an error."""

    def __init__(self) -> None:
        self._runs: list[tuple[int, str, bool]] = []  # (first line, place, a run of segments)

    def one(self, line: int, where: str) -> None:
        self._runs.append((line, where, False))

    def run(self, line: int, prefix: str) -> None:
        """Segments from ``line`` on are ``prefix/0``, ``prefix/1`` ... until the next."""
        self._runs.append((line, prefix, True))

    def where(self, line: int) -> str:
        found = ""
        for first, place, run in self._runs:
            if first > line:
                break
            found = f"{place}/{line - first}" if run else place
        return found


def _messages(
    w: _Writer,
    emit: Callable[[Any, str], None],
    lines: list[str],
    places: _Places,
    messages: list[Any],
    path: str,
) -> int:
    for m, message in enumerate(messages):
        if not isinstance(message, dict):
            raise EncodeError("a message must be an object", where=f"{path}/{m}")
        segments = list(message.get("segments") or [])
        reference = str(message.get("reference") or (m + 1))
        if not segments or not (isinstance(segments[0], list) and segments[0][:1] == ["UNH"]):
            ident = [message.get(k) or "" for k in ("type", "version", "release", "agency")]
            segments.insert(0, ["UNH", reference, ident])
        else:
            reference = _text(segments[0][1]) if len(segments[0]) > 1 else reference
        if isinstance(segments[-1], list) and segments[-1][:1] == ["UNT"]:
            segments.pop()
        places.run(len(lines), f"{path}/{m}/segments")
        written = w.many(segments)
        if written is not None:
            lines += written
        else:  # something to escape or fold somewhere: segment by segment
            for s, segment in enumerate(segments):
                text = w.fast(segment)
                if text is None:
                    text = w.segment(segment, f"{path}/{m}/segments/{s}")
                lines.append(text)
        emit(["UNT", str(len(segments) + 1), reference], f"{path}/{m} UNT")
    return len(messages)


def _encode(
    text: str, cs: Charset, seps: Separators, segments: list[str], where: Callable[[int], str]
) -> bytes:
    bad = cs.first_disallowed(text, seps)
    if bad is None:
        try:
            return text.encode(cs.codec)
        except UnicodeEncodeError as exc:
            bad = exc.start
    char = text[bad]
    # the first segment holding it, counted as in decoding (UNB = 1; UNA and released
    # terminators are not segments)
    n = next((i for i, line in enumerate(segments) if char in line), len(segments) - 1)
    raise EncodeError(
        f"character {char!r} (U+{ord(char):04X}) cannot be written in {cs.identifier}",
        where=f"segment {n + 1} ({segments[n][:3]}) at {where(n)}",
        hint="set the route's output option `transliterate: true`, or a wider charset (UNOC, UNOW)",
    )


def _first(header: list[Any]) -> str | None:
    return _text(header[0]) if header else None


def _text(value: Any) -> str:
    if isinstance(value, list):
        return str(value[0]) if value else ""
    return "" if value is None else str(value)
