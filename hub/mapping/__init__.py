"""Mappings: declarative tree -> tree translations. Knows nothing of store, web or connectors."""

from hub.mapping.base import Mapping
from hub.mapping.fieldcopy import FieldCopyMapping, content_hash, load_mapping, parse_mapping

__all__ = ["FieldCopyMapping", "Mapping", "content_hash", "load_mapping", "parse_mapping"]
