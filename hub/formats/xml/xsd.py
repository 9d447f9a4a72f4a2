"""XML Schema (XSD 1.0) validation with lxml: compiled once, every error located."""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import Any

from lxml import etree

from hub.errors import ConfigError, Problem, SchemaValidationError, Severity
from hub.formats.xml.names import qname
from hub.formats.xml.parse import hardened_parser
from hub.formats.xml.shapes import SchemaShapes, read_shapes

__all__ = ["XsdSchema", "readable_message", "readable_path"]

_MAX_REPORTED = 50
_STEP = re.compile(r"([^\[\]/@]+)(?:\[(\d+)\])?")
_CLARK = re.compile(r"\{([^{}]*)\}")
_UNEXPECTED = "This element is not expected"
_NOT_GLOBAL = "No matching global declaration"
_FAILED_LOAD = re.compile(r'failed to load "([^"]+)"')
_XS = "{http://www.w3.org/2001/XMLSchema}"
_REFERENCES = {_XS + "import", _XS + "include", _XS + "redefine", _XS + "override"}


class XsdSchema:
    """A compiled XSD from a file; ``check`` raises with all violations at once."""

    def __init__(self, path: Path) -> None:
        self.path = path
        if not path.is_file():
            problem = "is a directory" if path.is_dir() else "not found"
            raise ConfigError(f"XSD file {problem}: {path}", hint="check the xsd option")
        try:
            document = etree.parse(str(path), hardened_parser())
        except etree.XMLSyntaxError as exc:
            line, column = exc.position
            raise ConfigError(
                f"the XSD is not well-formed XML: {exc.msg}", where=f"{path}:{line}:{column}"
            ) from None
        except (OSError, etree.LxmlError) as exc:
            raise ConfigError(f"cannot read XSD {path}: {exc}") from None
        try:
            self.schema = etree.XMLSchema(document)
        except etree.XMLSchemaParseError as exc:
            entries: list[Any] = list(exc.error_log)
            first = entries[0] if entries else None
            message = str(first.message if first else exc)
            where = f"{first.filename}:{first.line}" if first and first.line else None
            missing = _FAILED_LOAD.search(message)
            if missing is not None:  # libxml2 says "<string>:0": find who imports it
                where = _importer(path, Path(missing.group(1))) or where
            raise ConfigError(
                f"not a valid XML Schema: {message}",
                where=where or str(path),
                hint="check the schemaLocation of that import or include"
                if missing is not None
                else None,
            ) from None
        self.shapes: SchemaShapes = read_shapes(path)
        self._lock = threading.Lock()  # validate() fills the schema's one error log

    def problems(self, root: etree._Element) -> list[Problem]:
        """Every violation in the document of ``root``; empty when it is valid."""
        with self._lock:
            if self.schema.validate(root.getroottree()):
                return []
            entries: list[Any] = list(self.schema.error_log)  # type: ignore[call-overload]
            problems = [_problem(root, entry) for entry in entries]
            for entry in entries:
                if _UNEXPECTED in str(entry.message) and entry.path:
                    problems += self._after(_locate(root, entry.path))
        return problems

    def _after(self, unexpected: etree._Element | None) -> list[Problem]:
        """What libxml2 left unchecked after an unexpected element: checked one by one.

        libxml2 stops checking a parent's content at the first child it did not expect,
        so one stray element near the root would hide every other violation. Each element
        from there on is validated on its own where the XSD declares it globally (UBL
        declares nearly all); the others are named as left unchecked.
        """
        if unexpected is None:
            return []
        found: list[Problem] = []
        unchecked = 0
        for element in (unexpected, *unexpected.itersiblings()):
            if not isinstance(element.tag, str) or len(found) > _MAX_REPORTED:
                continue
            if self.schema.validate(element):
                continue
            entries: list[Any] = list(self.schema.error_log)  # type: ignore[call-overload]
            if any(_NOT_GLOBAL in str(entry.message) for entry in entries):
                unchecked += element is not unexpected
                continue
            found += [_problem(element, entry) for entry in entries]
        if unchecked:
            parent = unexpected.getparent()
            where = readable_path(parent) if parent is not None else None
            found.append(
                Problem(
                    f"{unchecked} element(s) after the unexpected <{qname(unexpected)}> "
                    "could not be checked: the XSD declares them only inside their parent",
                    where=where,
                    hint="fix the unexpected element and validate again",
                    severity=Severity.WARNING,
                )
            )
        return found

    def check(self, root: etree._Element) -> None:
        problems = self.problems(root)
        if problems:
            raise self.error(problems)

    def error(self, problems: list[Problem], total: int | None = None) -> SchemaValidationError:
        count = len(problems) if total is None else total
        more = f" (showing the first {_MAX_REPORTED})" if count > _MAX_REPORTED else ""
        return SchemaValidationError(
            f"the document breaks {self.path.name}: {count} error(s){more}",
            where=problems[0].where,
            problems=problems[:_MAX_REPORTED],
        )


def _importer(path: Path, missing: Path) -> str | None:
    """``file:line`` of the import or include (in ``path`` or what it loads) naming ``missing``."""
    todo, seen = [path.resolve()], set[Path]()
    while todo and len(seen) < 200:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        try:
            root = etree.parse(str(current), hardened_parser()).getroot()
        except (OSError, etree.LxmlError):
            continue
        for node in root:
            location = node.get("schemaLocation") if node.tag in _REFERENCES else None
            if not location or "://" in location:
                continue
            target = (current.parent / location).resolve()
            if target == missing.resolve():
                return f"{current}:{node.sourceline}"
            todo.append(target)
    return None


def _problem(root: etree._Element, entry: Any) -> Problem:
    path: str | None = entry.path
    element = _locate(root, path) if path else None
    if element is not None and path:
        path = readable_path(element) + (path[path.rfind("/") :] if "/@" in path else "")
    where = ", ".join(part for part in (f"line {entry.line}" if entry.line else "", path) if part)
    return Problem(readable_message(str(entry.message), element), where=where or None)


def readable_message(message: str, element: etree._Element | None) -> str:
    """libxml2's message with ``{uri}local`` names written as the document writes them."""
    nsmap = element.nsmap if element is not None else {}

    def prefixed(match: re.Match[str]) -> str:
        uri = match.group(1)
        if nsmap.get(None) == uri:
            return ""
        for prefix, bound in nsmap.items():
            if prefix and bound == uri:
                return f"{prefix}:"
        return match.group(0)

    return _CLARK.sub(prefixed, message).removesuffix(".")


def _locate(root: etree._Element, xpath: str) -> etree._Element | None:
    """The element at libxml2's node path (``/*/*[2]/p:Item``), read without namespaces."""
    element: etree._Element | None = None
    for step in xpath.split("/")[1:]:
        if step.startswith("@"):
            break
        match = _STEP.fullmatch(step)
        if match is None:
            return None
        name, index = match.group(1), int(match.group(2) or 1)
        candidates = [root] if element is None else [c for c in element if isinstance(c.tag, str)]
        named = [c for c in candidates if name == "*" or qname(c) == name]
        if index > len(named):
            return None
        element = named[index - 1]
    return element


def readable_path(element: etree._Element) -> str:
    """``/StockReport/Item[2]/Quantity``: names as the tree has them, indexes where repeated."""
    steps: list[str] = []
    node: etree._Element | None = element
    while node is not None:
        name = qname(node)
        parent = node.getparent()
        if parent is not None:
            same = [c for c in parent if isinstance(c.tag, str) and qname(c) == name]
            if len(same) > 1:
                name += f"[{same.index(node) + 1}]"
        steps.append(name)
        node = parent
    return "/" + "/".join(reversed(steps))
