"""Codecs by name, discovered through the ``hub.codecs`` entry-point group.

A codec class is loaded only when a route asks for it, so one broken
third-party codec cannot stop routes that do not use it. A codec class whose
constructor takes a ``limits`` keyword is given the route's :class:`DecodeLimits`;
one that does not is wrapped so that its trees are checked after decoding.
"""

from __future__ import annotations

import inspect
from functools import cache
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import Any, cast

from hub.errors import PluginError
from hub.formats.base import Codec, CodecOptions, Tree
from hub.formats.limits import DecodeLimits, check_tree
from hub.paths import FileRoots, confine

__all__ = ["CheckedCodec", "available_codecs", "codec_class", "make_codec", "takes_limits"]

GROUP = "hub.codecs"
_REQUIRED = ("name", "content_type", "extension", "options_model", "decode", "encode")


@cache
def _entry_points() -> dict[str, EntryPoint]:
    return {ep.name: ep for ep in entry_points(group=GROUP)}


def available_codecs() -> list[str]:
    return sorted(_entry_points())


@cache
def codec_class(name: str) -> type[Any]:
    ep = _entry_points().get(name)
    if ep is None:
        raise PluginError(
            f"unknown format {name!r}", hint="known formats: " + ", ".join(available_codecs())
        )
    try:
        cls = ep.load()
    except Exception as exc:  # a third-party import can fail in any way
        raise PluginError(f"codec plugin {name!r} ({ep.value}) failed to load: {exc}") from exc
    missing = [attr for attr in _REQUIRED if not hasattr(cls, attr)]
    if not inspect.isclass(cls) or missing:
        raise PluginError(
            f"codec plugin {name!r} ({ep.value}) is not a Codec: missing {', '.join(missing)}",
            hint="a codec class needs the attributes of hub.formats.Codec",
        )
    return cls


def takes_limits(cls: type[Any]) -> bool:
    """Whether a codec class accepts ``limits=`` (and so enforces them while decoding)."""
    try:
        parameters = inspect.signature(cls).parameters
    except (TypeError, ValueError):  # a builtin or an odd callable: assume not
        return False
    return "limits" in parameters or any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()
    )


class CheckedCodec:
    """A plugin codec that takes no limits: each decoded tree is checked afterwards.

    The check (depth, nodes, string length) runs after the plugin's own decoding, so
    it cannot make that decoding linear; it keeps oversized trees out of the rest of
    the hub. Every other attribute (``split``, options) is the wrapped codec's.
    """

    def __init__(self, codec: Any, limits: DecodeLimits) -> None:
        self.codec = codec
        self.limits = limits
        self.name = codec.name
        self.content_type = codec.content_type
        self.extension = codec.extension
        self.options_model = codec.options_model

    def decode(self, data: bytes) -> Tree:
        tree = self.codec.decode(data)
        check_tree(tree, self.limits)
        return tree

    def encode(self, tree: Tree) -> bytes:
        data: bytes = self.codec.encode(tree)
        return data

    def __getattr__(self, name: str) -> Any:
        return getattr(self.codec, name)


def make_codec(
    name: str,
    options: dict[str, Any] | None = None,
    *,
    base_dir: Path | None = None,
    limits: DecodeLimits | None = None,
    roots: FileRoots | None = None,
) -> Codec:
    """Build a codec; bad options raise pydantic's ValidationError for the caller to locate.

    Relative paths among the options (schemas, say) are made relative to ``base_dir``.
    ``limits`` (default: :class:`DecodeLimits`' defaults) bound what ``decode`` accepts.
    With ``roots``, every path option that is given must name an existing file or folder
    inside them (:func:`hub.paths.confine`): a ConfigError otherwise.
    """
    limits = limits if limits is not None else DecodeLimits()
    cls = codec_class(name)
    model: type[CodecOptions] = cls.options_model
    validated = model.model_validate(options or {})
    if roots is not None:
        base = base_dir if base_dir is not None else Path.cwd()
        for key, value in validated:
            if isinstance(value, Path) and key in validated.model_fields_set:
                # the default may be missing (the codec falls back), but not lead outside
                kind = "any" if value == model.model_fields[key].default else "exists"
                confine(value, roots, base=base, what=_option_name(model, key), kind=kind)
    if base_dir is not None:
        updates = {
            key: base_dir / value
            for key, value in validated
            if isinstance(value, Path) and not value.is_absolute()
        }
        if updates:
            validated = validated.model_copy(update=updates)
    if takes_limits(cls):
        codec: Codec = cls(validated, limits=limits)
        return codec
    # The wrapper carries the codec's name, content_type, ... per instance; callers read
    # them exactly as the class variables the protocol declares.
    return cast(Codec, CheckedCodec(cls(validated), limits))


def _option_name(model: type[CodecOptions], key: str) -> str:
    """The option as written in a config (its alias, if it has one)."""
    return model.model_fields[key].alias or key
