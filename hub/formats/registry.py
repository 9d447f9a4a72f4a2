"""Codecs by name, discovered through the ``hub.codecs`` entry-point group."""

from __future__ import annotations

import inspect
from functools import cache
from importlib.metadata import entry_points
from typing import Any

from hub.errors import PluginError
from hub.formats.base import Codec, CodecOptions

__all__ = ["available_codecs", "codec_class", "make_codec"]

GROUP = "hub.codecs"


@cache
def _codecs() -> dict[str, type[Any]]:
    found: dict[str, type[Any]] = {}
    for ep in entry_points(group=GROUP):
        cls = ep.load()
        missing = [
            attr
            for attr in ("name", "content_type", "extension", "options_model", "decode", "encode")
            if not hasattr(cls, attr)
        ]
        if not inspect.isclass(cls) or missing:
            raise PluginError(
                f"codec plugin {ep.name!r} ({ep.value}) is not a Codec: "
                f"missing {', '.join(missing)}",
                hint="a codec class needs the attributes of hub.formats.Codec",
            )
        found[ep.name] = cls
    return found


def available_codecs() -> list[str]:
    return sorted(_codecs())


def codec_class(name: str) -> type[Any]:
    try:
        return _codecs()[name]
    except KeyError:
        raise PluginError(
            f"unknown format {name!r}",
            hint="known formats: " + ", ".join(available_codecs()),
        ) from None


def make_codec(name: str, options: dict[str, Any] | None = None) -> Codec:
    """Build a codec; bad options raise pydantic's ValidationError for the caller to locate."""
    cls = codec_class(name)
    model: type[CodecOptions] = cls.options_model
    codec: Codec = cls(model.model_validate(options or {}))
    return codec
