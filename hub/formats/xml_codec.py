"""The ``xml`` codec's entry point (``hub.codecs``); the code lives in hub.formats.xml."""

from hub.formats.xml import XmlCodec, XmlOptions, XsdSchema, iter_records

__all__ = ["XmlCodec", "XmlOptions", "XsdSchema", "iter_records"]
