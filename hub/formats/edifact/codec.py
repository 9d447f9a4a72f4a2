"""The ``edifact`` codec: UN/EDIFACT interchanges <-> trees (see interchange.py for the shape)."""

from __future__ import annotations

import copy
from dataclasses import replace
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import ConfigDict, Field

from hub.errors import ConfigError, DecodeError, EncodeError, SchemaValidationError
from hub.formats.base import CodecOptions, Tree
from hub.formats.edifact.definitions import (
    DEFAULT_DEFINITIONS,
    Definitions,
    bundled_definitions,
    load_definitions,
)
from hub.formats.edifact.faults import Fault
from hub.formats.edifact.interchange import Reading, read_interchange
from hub.formats.edifact.structure import FlattenError, flatten, walk
from hub.formats.edifact.syntax import Separators
from hub.formats.edifact.validate import (
    MAX_FAULTS,
    definition_for,
    each_message,
    undefined_fault,
    validate_interchange,
    validate_message,
)
from hub.formats.edifact.writer import write_interchange
from hub.formats.limits import DecodeLimits

__all__ = ["EdifactCodec", "EdifactOptions"]


class SeparatorOptions(CodecOptions):
    component: str = Field(":", min_length=1, max_length=1)
    element: str = Field("+", min_length=1, max_length=1)
    decimal: str = Field(".", min_length=1, max_length=1)
    release: str = Field("?", min_length=1, max_length=1)
    repetition: str = Field(" ", min_length=1, max_length=1)
    segment: str = Field("'", min_length=1, max_length=1)


class EdifactOptions(CodecOptions):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    # decoding
    strict_charset: bool = Field(
        True, description="refuse characters outside UNOA/UNOB instead of passing them on"
    )
    check_envelope: bool = Field(
        True, description="UNB/UNZ, UNG/UNE and UNH/UNT counts and references must agree"
    )
    structure: bool = Field(
        True,
        description="add `body` to each message whose definition is known: its segments "
        "nested by segment group (SG25 ...), segments keyed by tag",
    )
    validate_: bool = Field(
        True,
        alias="validate",
        description="check each message with a known definition: segment order, mandatory "
        "segments and elements, repeats, element formats; violations fail the decode",
    )
    definitions: Path = Field(
        DEFAULT_DEFINITIONS,
        description="folder of EDIFACT message definitions (default: the project's "
        "schemas/edifact, else the bundled one)",
    )
    require_definition: bool = Field(
        False, description="a message whose type or directory has no definition is an error"
    )
    line_breaks: Literal["refuse", "strip"] = Field(
        "refuse",
        description="a line break inside a segment: `refuse` it (an error naming the data "
        "element), or `strip` every line break as layout (a file wrapped at a fixed width)",
    )
    # encoding
    charset: str | None = Field(None, description="write with this UNB syntax identifier")
    separators: SeparatorOptions | None = Field(None, description="write with these separators")
    newline: Literal["", "\n", "\r\n"] | None = Field(
        None, description="line break after each segment; default: as in the tree"
    )
    una: Literal["auto", "always", "never"] = "auto"
    transliterate: bool = Field(
        False, description="fold characters the charset lacks (é -> e, ß -> ss) instead of failing"
    )


class EdifactCodec:
    name: ClassVar[str] = "edifact"
    content_type: ClassVar[str] = "application/EDIFACT"
    extension: ClassVar[str] = "edi"
    options_model: ClassVar[type[CodecOptions]] = EdifactOptions

    def __init__(
        self, options: EdifactOptions | None = None, *, limits: DecodeLimits | None = None
    ) -> None:
        self.options = options or EdifactOptions()
        self.limits = limits or DecodeLimits()
        self._defs: Definitions | None = None
        opts = self.options
        if opts.structure or opts.validate_ or opts.require_definition:
            self._defs = self._load_definitions()  # a bad folder is a config error, now

    def _load_definitions(self) -> Definitions:
        path = self.options.definitions
        if not path.is_dir() and path.parts[-2:] == DEFAULT_DEFINITIONS.parts:
            path = bundled_definitions()  # the default, and no schemas/edifact of one's own
            if not path.is_dir():  # an install without the schemas: nothing is known
                return Definitions(path, missing_ok=True)
        if not path.is_dir():
            raise ConfigError(
                f"EDIFACT definitions folder not found: {path}",
                hint="`definitions` names a folder like schemas/edifact (relative to the config)",
            )
        return load_definitions(path)

    @property
    def definitions(self) -> Definitions:
        if self._defs is None:
            self._defs = self._load_definitions()
        return self._defs

    def warm(self) -> None:
        """Load every message definition now (at start), not on the first message: that
        would cost it 30-90 ms. Definitions are shared per folder, so this is done once."""
        self.definitions.warm()

    def read(self, data: bytes) -> Reading:
        """The tree and every envelope fault, without raising for faults (for CONTRL)."""
        try:
            return read_interchange(
                data,
                strict_charset=self.options.strict_charset,
                limits=self.limits,
                line_breaks=self.options.line_breaks,
            )
        except DecodeError:
            raise
        except (ValueError, IndexError, RecursionError) as exc:  # a defect here must stay typed
            raise DecodeError(f"unreadable EDIFACT: {exc}") from None

    def decode(self, data: bytes) -> Tree:
        tree = self._envelope(data)
        opts = self.options
        if opts.structure or opts.validate_ or opts.require_definition:
            self._messages(tree)
        return tree

    def check_messages(self, tree: Tree) -> list[Fault]:
        """Every definition violation in a decoded tree, without raising (for CONTRL)."""
        trees = _interchanges(tree)
        faults: list[Fault] = []
        for number, one in enumerate(trees, 1):
            found = validate_interchange(
                one, self.definitions, require_definition=self.options.require_definition
            )
            if len(trees) > 1:
                found = [replace(f, interchange=number) for f in found]
            faults += found
        return faults

    def _messages(self, tree: dict[str, Any]) -> None:
        """Add `body` where the definition is known; raise with every violation found."""
        faults: list[Fault] = []
        trees = _interchanges(tree)
        for number, one in enumerate(trees, 1):
            found = self._interchange_messages(one, len(faults))
            if len(trees) > 1:
                found = [replace(f, interchange=number) for f in found]
            faults += found
        self._raise_violations(faults)

    def _interchange_messages(self, tree: dict[str, Any], already: int) -> list[Fault]:
        """Add `body` to one interchange's messages; its violations (not raised)."""
        opts = self.options
        decimal = str((tree.get("separators") or {}).get("decimal") or ".")
        syntax = str((tree.get("syntax") or {}).get("version") or "3")
        faults: list[Fault] = []
        for message, before in each_message(tree):
            definition = definition_for(self.definitions, message, syntax)
            if definition is None:
                if opts.require_definition:
                    faults.append(undefined_fault(self.definitions, message, before))
                continue
            walked = walk(definition, message.get("segments") or [])
            if opts.structure:
                message["body"] = walked.body
            if opts.validate_ and already + len(faults) < MAX_FAULTS:
                faults += validate_message(
                    definition,
                    message,
                    decimal=decimal,
                    before=before,
                    limit=MAX_FAULTS - already - len(faults),
                    walked=walked,
                )
        return faults

    def _raise_violations(self, faults: list[Fault]) -> None:
        if faults:
            first, count = faults[0], len(faults)
            more = f" (showing the first {MAX_FAULTS})" if count >= MAX_FAULTS else ""
            raise SchemaValidationError(
                f"the interchange breaks its EDIFACT message definitions: {count} "
                f"violation{'s' if count > 1 else ''}{more}; first: {first.message}",
                where=first.where,
                hint="set the edifact option `validate: false` to pass messages on unchecked",
                problems=[f.problem() for f in faults],
            )

    def _envelope(self, data: bytes) -> dict[str, Any]:
        """The tree as read, envelope faults raised when `check_envelope` (no definitions)."""
        reading = self.read(data)
        if reading.faults and self.options.check_envelope:
            first = reading.faults[0]
            count = len(reading.faults)
            more = f" (showing the first {MAX_FAULTS})" if count > MAX_FAULTS else ""
            raise DecodeError(
                f"the interchange envelope has {count} fault{'s' if count > 1 else ''}{more}: "
                f"{first.message}",
                where=first.where,
                hint=first.hint,
                problems=[f.problem() for f in reading.faults[:MAX_FAULTS]],
            )
        return reading.tree

    def encode(self, tree: Tree) -> bytes:
        if isinstance(tree, dict) and isinstance(tree.get("interchanges"), list):
            tree = {
                **tree,
                "interchanges": [self._flatten_bodies(t) for t in tree["interchanges"]],
            }
        else:
            tree = self._flatten_bodies(tree)
        seps = None
        if self.options.separators is not None:
            seps = Separators(**self.options.separators.model_dump())
        return write_interchange(
            tree,
            charset=self.options.charset,
            separators=seps,
            newline=self.options.newline,
            una=self.options.una,
            transliterate_text=self.options.transliterate,
        )

    def _flatten_bodies(self, tree: Tree) -> Tree:
        """A message with `body` but no `segments` (a mapping built it) gets its segments
        from `body` in the order of its definition. The tree given is not changed."""
        if not isinstance(tree, dict):
            return tree
        if "groups" in tree and isinstance(tree["groups"], list):
            groups = [
                {**g, "messages": self._flatten_list(g.get("messages"), f"/groups/{n}/messages")}
                if isinstance(g, dict)
                else g
                for n, g in enumerate(tree["groups"])
            ]
            return {**tree, "groups": groups}
        if isinstance(tree.get("messages"), list):
            return {**tree, "messages": self._flatten_list(tree["messages"], "/messages")}
        return tree

    def _flatten_list(self, messages: Any, path: str) -> Any:
        if not isinstance(messages, list):
            return messages
        out = []
        for n, message in enumerate(messages):
            if isinstance(message, dict) and "body" in message and not message.get("segments"):
                message = {**message, "segments": self._flatten_one(message, f"{path}/{n}")}
            out.append(message)
        return out

    def _flatten_one(self, message: dict[str, Any], path: str) -> list[Any]:
        definition = definition_for(self.definitions, message)
        if definition is None:
            ident = ":".join(str(message.get(k) or "?") for k in ("type", "version", "release"))
            raise EncodeError(
                f"the message has `body` but no `segments`, and {ident} has no definition "
                "to put the body in order",
                where=f"{path}/body",
                hint="give `segments`, or `type`, `version`, `release`, `agency` of a "
                "message type with a definition in schemas/edifact",
            )
        try:
            return flatten(definition, message["body"], f"{path}/body")
        except FlattenError as exc:
            raise EncodeError(exc.reason, where=exc.where) from None

    def split(self, data: bytes) -> list[bytes]:
        """One interchange per message, each in a copy of the original envelope.

        Only the envelope is checked here: each message is checked against its
        definition when it is decoded on its own.
        """
        parts: list[bytes] = []
        for tree in _interchanges(self._envelope(data)):
            for group, message in _each_message(tree):
                single = {
                    k: v
                    for k, v in tree.items()
                    if k not in ("messages", "groups", "final_newline", "bom")
                }
                if group is None:
                    single["messages"] = [message]
                else:
                    single["groups"] = [{**group, "messages": [message]}]
                parts.append(
                    write_interchange(
                        copy.deepcopy(single), una="auto", newline=tree.get("newline")
                    )
                )
        return parts


def _interchanges(tree: Any) -> list[dict[str, Any]]:
    """The interchanges of a tree: itself, or those of a file of several."""
    if isinstance(tree, dict) and isinstance(tree.get("interchanges"), list):
        return [t for t in tree["interchanges"] if isinstance(t, dict)]
    return [tree] if isinstance(tree, dict) else []


def _each_message(tree: dict[str, Any]) -> list[tuple[dict[str, Any] | None, dict[str, Any]]]:
    if "groups" in tree:
        return [(g, m) for g in tree["groups"] for m in g.get("messages", [])]
    return [(None, m) for m in tree.get("messages", [])]
