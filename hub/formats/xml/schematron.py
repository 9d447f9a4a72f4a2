"""ISO Schematron business rules, compiled to XSLT 3.0 and run by Saxon (saxonche).

An XSD says what a document's shape is; Schematron says what its values must be
(PEPPOL's ``currencyID`` from ISO 4217, totals that add up). The rules file is read
here and turned into one XSLT stylesheet, the way the ISO skeleton does: a mode per
pattern, a template per rule (earlier rules win within a pattern), an ``xsl:if`` per
assert or report. Saxon (XSLT 3.0, XPath 3.1) compiles it once; each check runs it
over the document that the hardened parser already read (serialised again, so Saxon
never sees a DOCTYPE) and reports every failed assertion with its rule id, message
and place: the line from lxml and the path in the document's own prefixes.

Supported: ``ns``, ``let`` (schema, pattern, rule), ``pattern``, ``rule`` (``abstract``
and ``extends``), ``assert``, ``report``, ``name``, ``value-of`` and the text markup
(``emph``, ``dir``, ``span``); phases are ignored (every pattern runs); ``include`` and
abstract patterns are refused at load.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree

from hub.errors import ConfigError, Problem, SchemaValidationError, Severity
from hub.formats.xml.parse import hardened_parser, source_line
from hub.formats.xml.xsd import readable_path

__all__ = ["Schematron"]

SCH = "http://purl.oclc.org/dsdl/schematron"
XSL = "http://www.w3.org/1999/XSL/Transform"
_S, _X = f"{{{SCH}}}", f"{{{XSL}}}"
_MAX_REPORTED = 50
_WARNING_FLAGS = {"warning", "info", "information"}
_STEP = re.compile(r"Q\{([^}]*)\}([^\[]+)\[(\d+)\]")
_UNSUPPORTED = {"include", "extends-pattern", "param"}

_lock = threading.Lock()  # one Saxon processor for the process; runs one at a time
_processor: Any = None


def _saxon() -> Any:
    global _processor
    if _processor is None:
        try:
            from saxonche import PySaxonProcessor
        except ImportError:  # pragma: no cover - a dependency of the project
            raise ConfigError(
                "Schematron needs the saxonche package", hint="pip install saxonche"
            ) from None
        _processor = PySaxonProcessor(license=False)
    return _processor


@dataclass(frozen=True)
class _Check:
    """An assert or report, for the message of a compile error."""

    test: str
    line: int | None


class Schematron:
    """A compiled ISO Schematron file; ``check`` raises with every failed assertion."""

    def __init__(self, path: Path) -> None:
        self.path = path
        if not path.is_file():
            raise ConfigError(f"Schematron file not found: {path}", hint="check the option")
        try:
            schema = etree.parse(str(path), hardened_parser()).getroot()
        except etree.XMLSyntaxError as exc:
            line, column = exc.position
            raise ConfigError(
                f"the Schematron file is not well-formed XML: {exc.msg}",
                where=f"{path}:{line}:{column}",
            ) from None
        except (OSError, etree.LxmlError) as exc:
            raise ConfigError(f"cannot read Schematron {path}: {exc}") from None
        if schema.tag != _S + "schema":
            raise ConfigError(
                f"{path.name} is not an ISO Schematron schema (root <{schema.tag}>)",
                where=f"{path}:{source_line(schema)}",
                hint=f"the root element is <schema xmlns='{SCH}'>",
            )
        self.expressions: list[tuple[str, int | None]] = []  # (XPath, line), for errors
        #: The XSLT 3.0 the rules compile to (what Saxon runs; shown by the benchmark).
        self.stylesheet = etree.tostring(self._stylesheet(schema), encoding="unicode")
        with _lock:
            compiler = _saxon().new_xslt30_processor()
            try:
                self._executable = compiler.compile_stylesheet(stylesheet_text=self.stylesheet)
            except Exception as exc:  # saxonche's PySaxonApiError
                raise self._compile_error(compiler, str(exc)) from None

    # --- compiling -----------------------------------------------------------------

    def _fail(self, node: etree._Element, message: str) -> ConfigError:
        return ConfigError(message, where=f"{self.path}:{source_line(node)}")

    def _stylesheet(self, schema: etree._Element) -> etree._Element:
        namespaces: dict[str, str] = {}
        for node in schema.iter(_S + "*"):
            local = etree.QName(node).localname
            if local in _UNSUPPORTED or (local == "pattern" and node.get("abstract") == "true"):
                raise self._fail(node, f"Schematron <{local}> is not supported")
            if local == "ns":
                prefix, uri = node.get("prefix"), node.get("uri")
                if not prefix or uri is None:
                    raise self._fail(node, "<ns> needs a prefix and a uri")
                namespaces[prefix] = uri
        self.namespaces = namespaces
        root = etree.Element(_X + "stylesheet", nsmap={"xsl": XSL, **namespaces})
        root.set("version", "3.0")
        root.set("exclude-result-prefixes", "#all")
        for let in schema.findall(_S + "let"):
            self._variable(root, let)
        start = etree.SubElement(root, _X + "template", match="/")
        failures = etree.SubElement(start, "failures")
        abstract = {
            rule.get("id"): rule
            for rule in schema.iter(_S + "rule")
            if rule.get("abstract") == "true" and rule.get("id")
        }
        for number, pattern in enumerate(schema.iter(_S + "pattern")):
            mode = f"p{number}"
            etree.SubElement(failures, _X + "apply-templates", select="/", mode=mode)
            rules = [r for r in pattern.findall(_S + "rule") if r.get("abstract") != "true"]
            for order, rule in enumerate(rules):
                self._rule(root, pattern, rule, mode, 1000 - order, abstract)
            etree.SubElement(root, _X + "template", match="text()", mode=mode, priority="-1")
            walk = etree.SubElement(root, _X + "template", match="@*|node()", mode=mode)
            walk.set("priority", "-2")
            etree.SubElement(walk, _X + "apply-templates", select="@*|*", mode=mode)
        return root

    def _variable(self, parent: etree._Element, let: etree._Element) -> None:
        name, value = let.get("name"), let.get("value")
        if not name or value is None:
            raise self._fail(let, "<let> needs a name and a value")
        self.expressions.append((value, source_line(let)))
        etree.SubElement(parent, _X + "variable", name=name, select=value)

    def _rule(
        self,
        root: etree._Element,
        pattern: etree._Element,
        rule: etree._Element,
        mode: str,
        priority: int,
        abstract: dict[str | None, etree._Element],
    ) -> None:
        context = rule.get("context")
        if not context:
            raise self._fail(rule, "<rule> needs a context")
        self.expressions.append((context, source_line(rule)))
        template = etree.SubElement(
            root, _X + "template", match=context, mode=mode, priority=str(priority)
        )
        for let in pattern.findall(_S + "let"):
            self._variable(template, let)
        for node in rule:
            for part in self._expand(node, abstract):
                if part.tag == _S + "let":
                    self._variable(template, part)
                elif part.tag in (_S + "assert", _S + "report"):
                    self._assertion(template, part, pattern)
        etree.SubElement(template, _X + "apply-templates", select="@*|*", mode=mode)

    def _expand(
        self, node: etree._Element, abstract: dict[str | None, etree._Element]
    ) -> list[etree._Element]:
        """A rule's child, or where it is ``extends``, the abstract rule's children."""
        if node.tag != _S + "extends":
            return [node]
        base = abstract.get(node.get("rule"))
        if base is None:
            raise self._fail(node, f"no abstract rule {node.get('rule')!r}")
        return list(base)

    def _assertion(
        self, template: etree._Element, node: etree._Element, pattern: etree._Element
    ) -> None:
        test = node.get("test")
        if not test:
            raise self._fail(node, f"<{etree.QName(node).localname}> needs a test")
        self.expressions.append((test, source_line(node)))
        is_assert = node.tag == _S + "assert"
        condition = etree.SubElement(
            template, _X + "if", test=f"not({test})" if is_assert else f"{test}"
        )
        failed = etree.SubElement(condition, "failed")
        failed.set("id", node.get("id") or pattern.get("id") or "")
        failed.set("flag", node.get("flag") or node.get("role") or "")
        failed.set("test", test)
        failed.set("rule-line", str(source_line(node) or ""))
        location = etree.SubElement(failed, _X + "attribute", name="location")
        location.set("select", "path()")
        self._message(failed, node)

    def _message(self, out: etree._Element, node: etree._Element) -> None:
        """The assertion's text, with ``name`` and ``value-of`` evaluated."""
        if node.text:
            _append_text(out, node.text)
        for child in node:
            local = etree.QName(child).localname if isinstance(child.tag, str) else ""
            if child.tag == _S + "name":
                path = child.get("path") or "."
                self.expressions.append((path, source_line(child)))
                etree.SubElement(out, _X + "value-of", select=f"name({path})")
            elif child.tag == _S + "value-of":
                select = child.get("select") or "."
                self.expressions.append((select, source_line(child)))
                etree.SubElement(out, _X + "value-of", select=select)
            elif local in ("emph", "dir", "span"):
                self._message(out, child)
            if child.tail:
                _append_text(out, child.tail)

    def _compile_error(self, compiler: Any, message: str) -> ConfigError:
        """Which of the file's expressions Saxon refused, with its line in the file."""
        for expression, line in self.expressions:
            probe = etree.Element(_X + "stylesheet", nsmap={"xsl": XSL, **self.namespaces})
            probe.set("version", "3.0")
            check = etree.SubElement(probe, _X + "template", match="/")
            etree.SubElement(check, _X + "sequence", select=f"({expression}) treat as item()*")
            try:
                compiler.compile_stylesheet(
                    stylesheet_text=etree.tostring(probe, encoding="unicode")
                )
            except Exception as exc:
                if "XPST0008" in str(exc) and "$" in expression:
                    continue  # a variable declared elsewhere: fine alone, not the fault
                found = _first_line(str(exc))
                return ConfigError(
                    f"the Schematron expression {expression!r} does not compile: {found}",
                    where=f"{self.path}:{line}" if line else str(self.path),
                    hint="rules are XPath 3.1, run by Saxon; check the names and prefixes",
                )
        return ConfigError(
            f"the Schematron rules do not compile: {_first_line(message)}", where=str(self.path)
        )

    # --- checking ------------------------------------------------------------------

    def problems(self, root: etree._Element) -> list[Problem]:
        """Every failed assertion and successful report in the document of ``root``."""
        text = etree.tostring(root, encoding="unicode")
        with _lock:
            try:
                document = _saxon().parse_xml(xml_text=text)
                result = self._executable.transform_to_string(xdm_node=document)
            except Exception as exc:  # a dynamic error in a rule (say, a bad cast)
                reason = _first_line(str(exc))
                raise SchemaValidationError(
                    f"the business rules of {self.path.name} failed to run: {reason}",
                    problems=[Problem(reason)],
                ) from None
        report = etree.fromstring(result.encode("utf-8"), hardened_parser())
        return [_problem(root, failed) for failed in report.iter("failed")]

    def check(self, root: etree._Element) -> None:
        problems = self.problems(root)
        if any(not problem.is_warning for problem in problems):
            raise self.error(problems)

    def error(self, problems: list[Problem]) -> SchemaValidationError:
        errors = sum(not problem.is_warning for problem in problems)
        count = len(problems)
        more = f" (showing the first {_MAX_REPORTED})" if count > _MAX_REPORTED else ""
        first = next(problem for problem in problems if not problem.is_warning)
        return SchemaValidationError(
            f"the document breaks the business rules of {self.path.name}: "
            f"{errors} failed assertion(s){more}",
            where=first.where,
            problems=problems[:_MAX_REPORTED],
        )


def _append_text(out: etree._Element, text: str) -> None:
    if len(out):
        out[-1].tail = (out[-1].tail or "") + text
    else:
        out.text = (out.text or "") + text


def _short(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _first_line(message: str) -> str:
    lines = [line.strip() for line in message.strip().splitlines() if line.strip()]
    useful = [line for line in lines if not line.startswith("Error in")]
    return (useful or lines or ["unknown error"])[0]


def _problem(root: etree._Element, failed: etree._Element) -> Problem:
    rule = failed.get("id") or ""
    message = " ".join((failed.text or "").split())
    location = failed.get("location") or ""
    element, attribute = _element_at(root, location)
    place = location
    line = None
    if element is not None:
        place = readable_path(element) + (f"/@{attribute}" if attribute else "")
        line = source_line(element)
    where = ", ".join(part for part in (f"line {line}" if line else "", place) if part)
    severity = Severity.WARNING if failed.get("flag") in _WARNING_FLAGS else Severity.ERROR
    return Problem(
        f"[{rule}] {message}" if rule else message,
        where=where or None,
        hint=f"the rule's test: {_short(failed.get('test') or '')}",
        severity=severity,
    )


def _element_at(root: etree._Element, path: str) -> tuple[etree._Element | None, str | None]:
    """The element at XPath 3's ``path()`` (``/Q{uri}Invoice[1]/Q{uri}Line[2]/@id``)."""
    if path == "/":  # the document node: a rule on "/" is about the whole document
        return root, None
    element: etree._Element | None = None
    for step in path.split("/")[1:]:
        if step.startswith("@"):
            attribute = step[1:]
            if attribute.startswith("Q{"):
                attribute = attribute.partition("}")[2]
            return element, attribute
        match = _STEP.fullmatch(step)
        if match is None:
            break
        uri, local, index = match.group(1), match.group(2), int(match.group(3))
        tag = f"{{{uri}}}{local}" if uri else local
        if element is None:
            if root.tag != tag:
                return None, None
            element = root
            continue
        named = [child for child in element if child.tag == tag]
        if index > len(named):
            return element, None
        element = named[index - 1]
    return element, None
