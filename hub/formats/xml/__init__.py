"""XML: a hardened parser, a reversible tree convention, XSD validation and streaming.

See docs/formats-xml.md for the convention between XML and trees.
"""

from hub.formats.xml.codec import XmlCodec, iter_records
from hub.formats.xml.options import XmlOptions
from hub.formats.xml.xsd import XsdSchema

__all__ = ["XmlCodec", "XmlOptions", "XsdSchema", "iter_records"]
