"""The ``x12`` codec: ANSI ASC X12 interchanges <-> trees (see interchange.py for the shape)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import ConfigDict, Field

from hub.errors import ConfigError, DecodeError, EncodeError, SchemaValidationError
from hub.formats.base import CodecOptions, Tree
from hub.formats.limits import DecodeLimits
from hub.formats.x12.definitions import (
    DEFAULT_DEFINITIONS,
    Definitions,
    TransactionDef,
    bundled_definitions,
    load_definitions,
)
from hub.formats.x12.envelope import Separators
from hub.formats.x12.faults import Fault
from hub.formats.x12.interchange import Reading, read_interchanges
from hub.formats.x12.structure import FlattenError, flatten, walk_set
from hub.formats.x12.validate import MAX_FAULTS, each_message, undefined_fault, validate_message
from hub.formats.x12.writer import write_tree

__all__ = ["X12Codec", "X12Options"]


class SeparatorOptions(CodecOptions):
    element: str = Field("*", min_length=1, max_length=1)
    component: str = Field(">", min_length=1, max_length=1)
    repetition: str = Field("", max_length=1)
    segment: str = Field("~", min_length=1, max_length=1)


class X12Options(CodecOptions):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    charset: Literal["utf-8", "ascii", "latin-1"] = Field(
        "utf-8", description="the bytes' encoding, read and written"
    )
    check_envelope: bool = Field(
        True, description="ISA/IEA, GS/GE and ST/SE counts and control numbers must agree"
    )
    structure: bool = Field(
        True, description="add `body` to each transaction set whose definition is known"
    )
    validate_: bool = Field(
        True,
        alias="validate",
        description="check each transaction set with a known definition: loops, segment "
        "use, mandatory elements, types and lengths; violations fail the decode",
    )
    definitions: Path = Field(
        DEFAULT_DEFINITIONS,
        description="folder of X12 definitions (default: the project's schemas/x12, else "
        "the bundled one)",
    )
    require_definition: bool = Field(
        False, description="a transaction set without a definition is an error"
    )
    # encoding
    separators: SeparatorOptions | None = Field(None, description="write with these")
    newline: Literal["", "\n", "\r\n"] | None = Field(
        None, description="line break after each segment; default: as in the tree"
    )


class X12Codec:
    name: ClassVar[str] = "x12"
    content_type: ClassVar[str] = "application/EDI-X12"
    extension: ClassVar[str] = "x12"
    options_model: ClassVar[type[CodecOptions]] = X12Options

    def __init__(
        self, options: X12Options | None = None, *, limits: DecodeLimits | None = None
    ) -> None:
        self.options = options or X12Options()
        self.limits = limits or DecodeLimits()
        self._defs: Definitions | None = None
        opts = self.options
        if opts.structure or opts.validate_ or opts.require_definition:
            self._defs = self._load_definitions()

    def _load_definitions(self) -> Definitions:
        path = self.options.definitions
        if not path.is_dir() and path.parts[-2:] == DEFAULT_DEFINITIONS.parts:
            path = bundled_definitions()
            if not path.is_dir():
                return Definitions(path, missing_ok=True)
        if not path.is_dir():
            raise ConfigError(
                f"X12 definitions folder not found: {path}",
                hint="`definitions` names a folder like schemas/x12 (relative to the config)",
            )
        return load_definitions(path)

    @property
    def definitions(self) -> Definitions:
        if self._defs is None:
            self._defs = self._load_definitions()
        return self._defs

    def warm(self) -> None:
        """Load every transaction set definition now (at start), not on the first message.
        Definitions are shared per folder, so this is done once."""
        self.definitions.check_all()

    # -- decoding -----------------------------------------------------------------------

    def read(self, data: bytes) -> Reading:
        """The tree and every envelope fault, without raising for faults (for a 997/TA1)."""
        try:
            return read_interchanges(data, charset=self.options.charset, limits=self.limits)
        except DecodeError:
            raise
        except (ValueError, IndexError, RecursionError) as exc:
            raise DecodeError(f"unreadable X12: {exc}") from None

    def decode(self, data: bytes) -> Tree:
        reading = self.read(data)
        self._raise_envelope(reading)
        opts = self.options
        if opts.structure or opts.validate_ or opts.require_definition:
            faults = self._transactions(reading, raising=opts.validate_)
            if faults:
                self._raise_definitions(reading.located(faults))
        return reading.tree

    def check(self, data: bytes) -> list[Fault]:
        """Every envelope and definition fault, without raising (for an acknowledgement)."""
        reading = self.read(data)
        found = self._transactions(reading, raising=True, nest=False)
        return reading.faults + reading.located(found)

    def _transactions(self, reading: Reading, *, raising: bool, nest: bool = True) -> list[Fault]:
        """Add ``body`` where the definition is known; return the violations found."""
        opts = self.options
        faults: list[Fault] = []
        several = len(reading.interchanges) > 1
        for number, tree in enumerate(reading.interchanges, 1):
            for message, group, before in each_message(tree):
                extra = {
                    "interchange": number,
                    "several": several,
                    "transaction_type": str(message.get("type") or "") or None,
                    "transaction_ref": str(message.get("reference") or "") or None,
                }
                definition = self._definition(message)
                if definition is None:
                    if opts.require_definition:
                        faults.append(undefined_fault(self.definitions, message, before, **extra))
                    continue
                walked = walk_set(definition, message.get("segments") or [])
                if nest and opts.structure:
                    message["body"] = walked.body
                if raising and len(faults) < MAX_FAULTS:
                    faults += validate_message(
                        definition,
                        message,
                        group,
                        before=before,
                        interchange=number,
                        several=several,
                        limit=MAX_FAULTS - len(faults),
                        walked=walked,
                        known=frozenset(self._known(definition.version)),
                    )
        return faults

    def _known(self, version: str) -> set[str]:
        try:
            return set(self.definitions._dictionary(version))
        except ConfigError:
            return set()

    def _definition(self, message: dict[str, Any]) -> TransactionDef | None:
        if self._defs is None and not self.options.structure:
            return None
        kind = str(message.get("type") or "")
        version = str(message.get("version") or "")
        if not kind or not version:
            return None
        return self.definitions.transaction(kind, version)

    def _raise_envelope(self, reading: Reading) -> None:
        if not reading.faults or not self.options.check_envelope:
            return
        first, count = reading.faults[0], len(reading.faults)
        more = f" (showing the first {MAX_FAULTS})" if count > MAX_FAULTS else ""
        raise DecodeError(
            f"the X12 envelope has {count} fault{'s' if count > 1 else ''}{more}: "
            f"{first.message} [{first.label}]",
            where=first.where,
            hint=first.hint,
            problems=[f.problem() for f in reading.faults[:MAX_FAULTS]],
        )

    def _raise_definitions(self, faults: list[Fault]) -> None:
        first, count = faults[0], len(faults)
        more = f" (showing the first {MAX_FAULTS})" if count >= MAX_FAULTS else ""
        raise SchemaValidationError(
            f"the interchange breaks its X12 transaction set definitions: {count} "
            f"violation{'s' if count > 1 else ''}{more}; first: {first.message} "
            f"[{first.label}]",
            where=first.where,
            hint="set the x12 option `validate: false` to pass transaction sets on unchecked",
            problems=[f.problem() for f in faults],
        )

    # -- encoding -----------------------------------------------------------------------

    def encode(self, tree: Tree) -> bytes:
        tree = self._flatten_bodies(tree)
        seps = None
        if self.options.separators is not None:
            seps = Separators(**self.options.separators.model_dump())
        return write_tree(
            tree, separators=seps, newline=self.options.newline, charset=self.options.charset
        )

    def _flatten_bodies(self, tree: Tree) -> Tree:
        """A transaction set with ``body`` and no ``segments`` (a mapping built it) gets its
        segments from ``body`` in the order of its definition. The tree is not changed."""
        if not isinstance(tree, dict):
            return tree
        if isinstance(tree.get("interchanges"), list):
            return {
                **tree,
                "interchanges": [
                    self._flatten_interchange(t, f"/interchanges/{n}")
                    for n, t in enumerate(tree["interchanges"])
                ],
            }
        return self._flatten_interchange(tree, "")

    def _flatten_interchange(self, tree: Any, path: str) -> Any:
        if not isinstance(tree, dict) or not isinstance(tree.get("groups"), list):
            return tree
        groups = []
        for g, group in enumerate(tree["groups"]):
            if isinstance(group, dict) and isinstance(group.get("messages"), list):
                header = group.get("header") or []
                version = str(header[7]) if len(header) > 7 else ""
                messages = [
                    self._flatten_one(m, version, f"{path}/groups/{g}/messages/{n}")
                    for n, m in enumerate(group["messages"])
                ]
                group = {**group, "messages": messages}
            groups.append(group)
        return {**tree, "groups": groups}

    def _flatten_one(self, message: Any, gs08: str, path: str) -> Any:
        if not (isinstance(message, dict) and "body" in message and not message.get("segments")):
            return message
        kind = str(message.get("type") or "")
        version = str(message.get("version") or gs08)
        body = message["body"]
        if not kind and isinstance(body, dict) and isinstance(body.get("ST"), list):
            kind = str(body["ST"][1]) if len(body["ST"]) > 1 else ""
        definition = self.definitions.transaction(kind, version) if kind and version else None
        if definition is None:
            raise EncodeError(
                f"the transaction set has `body` but no `segments`, and {kind or '?'} "
                f"{version or '?'} has no definition to put the body in order",
                where=f"{path}/body",
                hint="give `segments`, or `type` and a version (GS08) with a definition in "
                "schemas/x12",
            )
        try:
            segments = flatten(definition, body, f"{path}/body")
        except FlattenError as exc:
            raise EncodeError(exc.reason, where=exc.where) from None
        return {**message, "segments": segments}

    # -- split --------------------------------------------------------------------------

    def split(self, data: bytes) -> list[bytes]:
        """One interchange per transaction set, each in a copy of its envelope (its own GE
        and IEA counts), from every interchange of the file. Only envelopes are checked
        here: each part is checked against its definition when it is decoded."""
        reading = self.read(data)
        self._raise_envelope(reading)
        parts: list[bytes] = []
        for tree in reading.interchanges:
            for group in tree.get("groups") or []:
                for message in group.get("messages") or []:
                    single = {k: v for k, v in tree.items() if k != "groups"}
                    single["groups"] = [{**group, "messages": [message]}]
                    single.pop("leading", None)
                    single["final_newline"] = tree.get("newline") or ""
                    parts.append(write_tree(copy.deepcopy(single), charset=self.options.charset))
        return parts
