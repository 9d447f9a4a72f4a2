"""EDIFACT service characters (UNA) and the character sets of UNB (UNOA ... UNOY)."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

from hub.errors import DecodeError

__all__ = ["CHARSETS", "Charset", "Separators", "charset_for"]


@dataclass(frozen=True)
class Separators:
    """The six service characters; the defaults are ISO 9735's for levels A and C."""

    component: str = ":"
    element: str = "+"
    decimal: str = "."
    release: str = "?"
    repetition: str = " "  # reserved (a space) before syntax version 4, then usually '*'
    segment: str = "'"

    @classmethod
    def from_una(cls, una: str) -> Separators:
        """``UNA:+.? '`` -> the separators it declares."""
        if len(una) < 9 or not una.startswith("UNA"):
            raise DecodeError(
                "the UNA service string advice is cut short",
                where="segment 1 (UNA)",
                hint="UNA is followed by exactly six characters, e.g. UNA:+.? '",
            )
        chars = list(una[3:9])
        seps = cls(*chars)
        seps.check()
        return seps

    @classmethod
    def version_4_defaults(cls) -> Separators:
        """Syntax version 4 without UNA: level A's, and ``*`` separates repetitions."""
        return cls(repetition="*")

    @classmethod
    def level_b_defaults(cls) -> Separators:
        """Syntax level B without UNA uses information separators IS1, IS3 and IS4."""
        return cls(component="\x1f", element="\x1d", decimal=".", release="", segment="\x1c")

    def check(self) -> None:
        chars = [self.component, self.element, self.release, self.segment]
        used = [c for c in chars if c]
        if len(set(used)) != len(used):
            raise DecodeError(
                f"UNA declares the same character twice: {''.join(chars)!r}",
                where="segment 1 (UNA)",
                hint="component, element, release and segment separators must differ",
            )
        if any(c in "\r\n" for c in used):
            raise DecodeError("a line break cannot be a separator", where="segment 1 (UNA)")

    def una(self) -> str:
        rep = self.repetition or " "
        release = self.release or " "
        return f"UNA{self.component}{self.element}{self.decimal}{release}{rep}{self.segment}"

    def to_tree(self) -> dict[str, str]:
        return asdict(self)

    @classmethod
    def from_tree(cls, tree: Any) -> Separators:
        if tree is None:
            return cls()
        if not isinstance(tree, dict):
            raise ValueError("`separators` must be an object")
        return cls(**{k: str(v) for k, v in tree.items() if k in cls.__dataclass_fields__})


@dataclass(frozen=True)
class Charset:
    """A UNB syntax identifier: the Python codec and, for levels A and B, the allowed set."""

    identifier: str
    codec: str
    allowed: re.Pattern[str] | None = None  # matches the first character NOT allowed

    def first_disallowed(self, text: str, separators: Separators) -> int | None:
        if self.allowed is None:
            return None
        match = self.allowed.search(text)
        while match is not None:
            char = match.group(0)
            if char not in (
                separators.segment,
                separators.element,
                separators.component,
                separators.release,
                "\r",
                "\n",
            ):
                return match.start()
            match = self.allowed.search(text, match.end())
        return None


# Level A: upper-case letters, digits, space and . , - ( ) / = ' + : ? ! " % & * ; < >
_LEVEL_A = re.compile(r"""[^A-Z0-9 .,\-()/='+:?!"%&*;<>]""")
# Level B: level A plus lower case and the rest of printable ASCII.
_LEVEL_B = re.compile(r"[^\x20-\x7e]")

CHARSETS: dict[str, Charset] = {
    "UNOA": Charset("UNOA", "ascii", _LEVEL_A),
    "UNOB": Charset("UNOB", "ascii", _LEVEL_B),
    "UNOC": Charset("UNOC", "iso-8859-1"),
    "UNOD": Charset("UNOD", "iso-8859-2"),
    "UNOE": Charset("UNOE", "iso-8859-5"),
    "UNOF": Charset("UNOF", "iso-8859-7"),
    "UNOG": Charset("UNOG", "iso-8859-3"),
    "UNOH": Charset("UNOH", "iso-8859-4"),
    "UNOI": Charset("UNOI", "iso-8859-6"),
    "UNOJ": Charset("UNOJ", "iso-8859-8"),
    "UNOK": Charset("UNOK", "iso-8859-9"),
    "UNOW": Charset("UNOW", "utf-8"),
    "UNOY": Charset("UNOY", "utf-8"),
}


def charset_for(identifier: str) -> Charset:
    found = CHARSETS.get(identifier.upper())
    if found is None:
        raise DecodeError(
            f"unsupported character set {identifier!r} in UNB",
            where="segment UNB, element 1",
            hint="supported: " + ", ".join(CHARSETS),
        )
    return found
