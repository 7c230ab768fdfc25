"""What the XML formats share: text XML 1.0 can carry, and the document's serialization."""
from __future__ import annotations

import re
from xml.etree import ElementTree as ET

from dockopt.report import printable

# XML 1.0 allows tab, LF, CR and everything from U+0020 on (surrogates excepted)
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_text(text: str) -> str:
    """Text safe in an XML 1.0 attribute or element (a non-UTF-8 byte shown as \\xNN)."""
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}", printable(text))


def xml_document(root: ET.Element) -> str:
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
