"""Reading HTML fast and the same way everywhere: one lxml parse, CSS selectors compiled once to
XPath, text joined as a reader sees it, elements removed without losing the text after them.

lxml (libxml2) builds the same tree BeautifulSoup's "lxml" builder did, an order of magnitude
faster; selectors are compiled by cssselect once per process instead of being interpreted on
every call. Bytes are decoded deterministically (BOM, then the declared charset, then UTF-8,
then Windows-1252), so the same bytes always read the same.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import TypeAlias

from cssselect import HTMLTranslator, parse
from cssselect.parser import CombinedSelector, Selector
from lxml import etree

Element: TypeAlias = etree._Element

_SPACE_RE = re.compile(r"\s+")
# Characters libxml2 refuses in a str (and XML 1.0 cannot carry): C0 controls but tab, LF and CR,
# lone surrogates, and the two non-characters.
_UNPARSABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
_DECLARED = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_.:-]+)""", re.IGNORECASE)
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
# Plain etree elements (no per-element Python class lookup, which cost as much as the parse).
_PARSER = etree.HTMLParser(recover=True, remove_comments=False, remove_blank_text=False, default_doctype=False)


def clean_text(text: str) -> str:
    """Collapse white space (including non-breaking spaces) and trim."""
    return _SPACE_RE.sub(" ", text.replace("\u00a0", " ")).strip()


def decode_html(data: bytes) -> str:
    """The text of an HTML page's bytes: BOM, declared charset, UTF-8, else Windows-1252."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(encoding, errors="replace")
    declared = _DECLARED.search(data[:4096])
    candidates = [declared.group(1).decode("ascii").lower()] if declared else []
    for encoding in [*candidates, "utf-8"]:
        try:
            return data.decode(encoding)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("windows-1252", errors="replace")


def parse_html(html: str | bytes) -> Element:
    """The document element (``<html>``) of a page or fragment; never raises for bad markup."""
    text = decode_html(html) if isinstance(html, bytes) else html
    text = _UNPARSABLE.sub("", _XML_DECLARATION.sub("", text, count=1))
    if not text.strip():
        return etree.Element("html")
    try:
        root = etree.fromstring(text, parser=_PARSER)
    except (etree.XMLSyntaxError, ValueError):
        return etree.Element("html")
    return root if root is not None else etree.Element("html")


_TRANSLATOR = HTMLTranslator()


@dataclass(frozen=True)
class _Simple:
    """A compound selector of tag, classes, id and attribute tests (``section.attachment``)."""

    tag: str | None = None
    classes: frozenset[str] = frozenset()
    id: str | None = None
    attrs: tuple[tuple[str, str | None], ...] = ()  # (name, exact value or None for "exists")

    def matches(self, el: Element) -> bool:
        if self.tag is not None and el.tag != self.tag:
            return False
        if self.id is not None and el.get("id") != self.id:
            return False
        if self.classes and not self.classes <= set((el.get("class") or "").split()):
            return False
        return all(el.get(name) is not None if value is None else el.get(name) == value for name, value in self.attrs)

    def prefilter(self) -> tuple[str, str]:
        """What every match has, cheap to test in XPath: ("attr", name) or ("tag", name)."""
        if self.id is not None:
            return ("attr", "id")
        if self.classes:
            return ("attr", "class")
        if self.attrs:
            return ("attr", self.attrs[0][0])
        return ("tag", self.tag or "*")


def _candidates_path(tests: set[tuple[str, str]]) -> str:
    """One scan with a handful of predicates: attribute presence, and element names matched as
    one string test (``contains('|a|b|', concat('|', name(), '|'))``)."""
    if ("tag", "*") in tests:
        return "descendant::*"
    predicates = [f"@{name}" for kind, name in sorted(tests) if kind == "attr"]
    tags = sorted(name for kind, name in tests if kind == "tag")
    if tags:
        predicates.append("contains('|" + "|".join(tags) + "|', concat('|', local-name(), '|'))")
    return "descendant::*[" + " or ".join(predicates) + "]"


@dataclass(frozen=True)
class _Rule:
    subject: _Simple
    context: _Simple | None = None  # an ancestor (or the parent) must match this
    parent_only: bool = False

    def matches(self, el: Element) -> bool:
        if not self.subject.matches(el):
            return False
        if self.context is None:
            return True
        if self.parent_only:
            parent = el.getparent()
            return parent is not None and self.context.matches(parent)
        return any(self.context.matches(a) for a in el.iterancestors())


class SelectorGroup:
    """A CSS selector group compiled once, matched in one walk of the tree.

    cssselect turns ``a, b, c`` into a union of XPath paths, each a scan of the whole tree with
    string functions per element; with GOV.UK's 40 chrome selectors that cost more than parsing
    the page. Here one cheap XPath (attribute presence, element names) picks the candidates and
    the simple selectors (tag, classes, id, attribute presence or equality, and descendant or
    child pairs of those) are matched on them in Python; other shapes keep their XPath path.
    """

    def __init__(self, selector: str) -> None:
        self.rules: list[_Rule] = []
        other: list[str] = []
        for parsed in parse(selector):
            rule = _rule(parsed)
            if rule is None:
                other.append(_TRANSLATOR.selector_to_xpath(parsed, prefix="descendant::"))
            else:
                self.rules.append(rule)
        # Rules indexed by what an element must have to match them, so each candidate is tested
        # against a handful of rules, not all of them.
        self.by_id: dict[str, list[_Rule]] = {}
        self.by_class: dict[str, list[_Rule]] = {}
        self.by_tag: dict[str, list[_Rule]] = {}
        self.unindexed: list[_Rule] = []
        for rule in self.rules:
            subject = rule.subject
            if subject.id is not None:
                self.by_id.setdefault(subject.id, []).append(rule)
            elif subject.classes:
                self.by_class.setdefault(min(subject.classes), []).append(rule)
            elif subject.tag is not None:
                self.by_tag.setdefault(subject.tag, []).append(rule)
            else:
                self.unindexed.append(rule)
        tests = {rule.subject.prefilter() for rule in self.rules}
        paths = ([_candidates_path(tests)] if tests else []) + other
        self.candidates = etree.XPath(" | ".join(paths))
        self.others = etree.XPath(" | ".join(other)) if other else None

    def __call__(self, root: Element) -> list[Element]:
        extra = set(self.others(root)) if self.others is not None else set()
        return [el for el in self.candidates(root) if el in extra or self._matches(el)]

    def _matches(self, el: Element) -> bool:
        rules = [*self.by_tag.get(el.tag, ()), *self.unindexed]
        ident = el.get("id")
        if ident is not None:
            rules += self.by_id.get(ident, ())
        classes = el.get("class")
        if classes:
            for token in classes.split():
                rules += self.by_class.get(token, ())
        return any(rule.matches(el) for rule in rules)


def _simple(tree: object) -> _Simple | None:
    classes: list[str] = []
    attrs: list[tuple[str, str | None]] = []
    ident = None
    while True:
        name = type(tree).__name__
        if name == "Class":
            classes.append(tree.class_name)  # type: ignore[attr-defined]
        elif name == "Hash":
            ident = tree.id  # type: ignore[attr-defined]
        elif name == "Attrib" and tree.operator in ("exists", "=") and tree.namespace is None:  # type: ignore[attr-defined]
            value = None if tree.operator == "exists" else tree.value.value  # type: ignore[attr-defined]
            attrs.append((tree.attrib.lower(), value))  # type: ignore[attr-defined]
        elif name == "Element":
            tag = tree.element  # type: ignore[attr-defined]
            return _Simple(tag.lower() if tag and tag != "*" else None, frozenset(classes), ident, tuple(attrs))
        else:
            return None
        tree = tree.selector  # type: ignore[attr-defined]


def _rule(selector: Selector) -> _Rule | None:
    if selector.pseudo_element is not None:
        return None
    tree = selector.parsed_tree
    if not isinstance(tree, CombinedSelector):
        subject = _simple(tree)
        return _Rule(subject) if subject is not None else None
    if tree.combinator not in (" ", ">"):
        return None
    subject, context = _simple(tree.subselector), _simple(tree.selector)
    if subject is None or context is None:
        return None
    return _Rule(subject, context, parent_only=tree.combinator == ">")


@lru_cache(maxsize=256)
def css(selector: str) -> SelectorGroup:
    """A compiled CSS selector group (cached: compiling costs more than matching)."""
    return SelectorGroup(selector)


def select(root: Element, selector: str) -> list[Element]:
    """Descendants of ``root`` matching ``selector``, in document order (``root`` itself never)."""
    return css(selector)(root)


def select_one(root: Element, selector: str) -> Element | None:
    found = css(selector)(root)
    return found[0] if found else None


def first(root: Element, tag: str) -> Element | None:
    """The first descendant ``<tag>`` in document order."""
    return next(root.iterdescendants(tag), None)


def element_text(el: Element, separator: str = "") -> str:
    """Every text node under ``el`` (comments and processing instructions left out), joined."""
    return separator.join(el.itertext())


# Elements a browser starts on a new line: their edges separate words even where the markup has
# no white space ("<td><p>a</p><p>b</p></td>" reads "a b"); every other element runs into its
# neighbours ("(<abbr>VED</abbr>)" reads "(VED)", "<abbr>NICs</abbr>," reads "NICs,").
_BREAKING_TAGS = frozenset(
    {
        "address", "article", "aside", "blockquote", "br", "caption", "dd", "details", "div", "dl",
        "dt", "figcaption", "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr",
        "li", "main", "nav", "ol", "p", "pre", "section", "summary", "table", "tbody", "td", "tfoot",
        "th", "thead", "tr", "ul",
    }
)


def reader_text(el: Element) -> str:
    """The text of ``el`` as a reader sees it, white space collapsed: inline elements joined with
    no added space, block elements (paragraphs, cells, list items, ``<br>``) apart by one."""
    parts: list[str] = []
    _reader(el, parts)
    return clean_text("".join(parts))


def _reader(el: Element, parts: list[str]) -> None:
    if el.text:
        parts.append(el.text)
    for child in el:
        if isinstance(child.tag, str):
            if child.tag in _BREAKING_TAGS:
                parts.append(" ")
                _reader(child, parts)
                parts.append(" ")
            else:
                _reader(child, parts)
        if child.tail:
            parts.append(child.tail)


def inline_text(el: Element) -> str:
    """Text as a browser runs it together: inline elements joined, ``<br>`` a space."""
    parts: list[str] = []
    _inline(el, parts)
    return "".join(parts)


def _inline(el: Element, parts: list[str]) -> None:
    if el.text:
        parts.append(el.text)
    for child in el:
        if isinstance(child.tag, str):
            if child.tag == "br":
                parts.append(" ")
            else:
                _inline(child, parts)
        if child.tail:
            parts.append(child.tail)


def is_element(node: object) -> bool:
    """True for elements, False for comments and processing instructions."""
    return isinstance(getattr(node, "tag", None), str)


def drop(el: Element) -> None:
    """Remove ``el`` and everything inside it, keeping the text that follows it."""
    parent = el.getparent()
    if parent is None:
        return
    tail = el.tail
    if tail:
        previous = el.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(el)


def has_class(el: Element, name: str) -> bool:
    return name in (el.get("class") or "").split()


def ancestors_with_class(el: Element, name: str) -> Iterator[Element]:
    return (a for a in el.iterancestors() if has_class(a, name))
