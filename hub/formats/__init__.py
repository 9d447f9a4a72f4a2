"""Formats: codecs between bytes and document trees, and schema validation.

Knows nothing of the store, the web or connectors.
"""

from hub.formats.base import Codec, CodecOptions, Tree
from hub.formats.json_codec import JsonCodec, JsonOptions
from hub.formats.registry import available_codecs, codec_class, make_codec
from hub.formats.schema import JsonSchema

__all__ = [
    "Codec",
    "CodecOptions",
    "JsonCodec",
    "JsonOptions",
    "JsonSchema",
    "Tree",
    "available_codecs",
    "codec_class",
    "make_codec",
]
