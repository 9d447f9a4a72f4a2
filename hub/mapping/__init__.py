"""Mappings: declarative tree -> tree translations. Knows nothing of store, web or connectors."""

from hub.mapping.base import Mapping
from hub.mapping.fieldcopy import FieldCopyMapping, content_hash, load_mapping, parse_mapping
from hub.mapping.limits import MappingLimits

__all__ = [
    "FieldCopyMapping",
    "Mapping",
    "MappingLimits",
    "content_hash",
    "load_mapping",
    "parse_mapping",
]
