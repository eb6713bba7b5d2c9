"""What a GOV.UK JSON answer must look like before any of it is read: parsed safely (no
RecursionError, no lone surrogate that would fail every later ``encode``), nested no deeper than
GOV.UK ever nests, and every field that is read of the type it is read as.

A hostile or broken answer then fails as one :class:`ExtractionError` naming the field
("details.attachments is a number, expected a list"), which the run counts as a failed check of
that one target, instead of a ``TypeError`` or ``KeyError`` deep in the document stage that
used to crash the whole run. Fields nobody reads are not checked: GOV.UK adds fields all the
time, and those must never fail a page.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from monitor.errors import ExtractionError

# GOV.UK's items nest about eight levels deep (details.collection_groups[].documents[]); the
# deepest legitimate answer seen is well under this.
MAX_DEPTH = 32
_SURROGATE = re.compile("[\ud800-\udfff]")


def load_json(body: bytes | str, what: str) -> Any:
    """``body`` parsed, or an ExtractionError: not JSON, nested more than MAX_DEPTH levels, or
    holding a lone surrogate (``"\\ud800"`` parses, then fails wherever it is encoded)."""
    try:
        data = json.loads(body)
    except RecursionError:
        raise ExtractionError(f"the {what} is nested too deeply (more than {MAX_DEPTH} levels)") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ExtractionError(f"the {what} is not valid JSON ({str(exc)[:120]})", suspect=True) from None
    problem = tree_problem(data)
    if problem is not None:
        raise ExtractionError(f"the {what} {problem}")
    return data


def tree_problem(data: Any) -> str | None:
    """Why parsed JSON cannot be read safely (too deep, a lone surrogate), or None. Iterative:
    checking depth must not itself recurse."""
    stack: list[tuple[Any, int]] = [(data, 0)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            if not value.isascii() and _SURROGATE.search(value):
                return "holds a lone surrogate (\\ud800-\\udfff), which is not text"
        elif isinstance(value, dict | list):
            if depth >= MAX_DEPTH:
                return f"is nested too deeply (more than {MAX_DEPTH} levels)"
            if isinstance(value, dict):
                stack.extend((key, depth + 1) for key in value)
                stack.extend((child, depth + 1) for child in value.values())
            else:
                stack.extend((child, depth + 1) for child in value)
    return None


def markup_tags(data: Any) -> int:
    """How many tags (``<`` characters) the strings of parsed JSON hold: an upper bound of the
    HTML elements reading it could build, known before any of it is parsed."""
    count = 0
    stack = [data]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            count += value.count("<")
        elif isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return count


# -- shapes -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Either:
    """Any one of several shapes (GOV.UK's bodies are a string or a list of formats)."""

    shapes: tuple[Any, ...]


TEXT = str  # a string, or null / absent
NUMBER = int


class Address:
    """A string that parses as a URL or path (``http://[x`` does not: it would fail every
    ``urljoin`` that reads it)."""


ADDRESS = Address()
# An HTML field: a string, or GOV.UK's multi-format list [{content_type, content}].
HTML = Either((TEXT, [{"content_type": TEXT, "content": TEXT}]))

# Every field of a Content API item that any part of dfe-monitor reads (monitor/govuk/items.py
# and monitor/document/: body text, files, change notes, facts, links, withdrawal), with the
# shape it reads.
CONTENT_ITEM: dict[str, Any] = {
    "title": TEXT,
    "base_path": TEXT,
    "schema_name": TEXT,
    "document_type": TEXT,
    "description": TEXT,
    "public_updated_at": TEXT,
    "content_id": TEXT,
    "redirects": [{"path": TEXT, "destination": ADDRESS}],
    "withdrawn_notice": {"explanation": HTML, "withdrawn_at": TEXT},
    "links": {
        "parent": [{"base_path": ADDRESS, "title": TEXT}],
        "manual": [{"base_path": ADDRESS, "title": TEXT}],
        "documents": [{"content_id": TEXT, "title": TEXT, "base_path": TEXT}],
    },
    "details": {
        "body": HTML,
        "parts": [{"title": TEXT, "body": HTML}],
        "attachments": [{"url": ADDRESS, "title": TEXT, "attachment_type": TEXT, "content_type": TEXT, "filename": TEXT, "file_size": NUMBER}],
        "documents": [TEXT],
        "final_outcome_documents": [TEXT],
        "public_feedback_documents": [TEXT],
        "final_outcome_detail": HTML,
        "public_feedback_detail": HTML,
        "change_history": [{"public_timestamp": TEXT, "note": TEXT}],
        "change_notes": [{"published_at": TEXT, "title": TEXT, "change_note": TEXT, "base_path": TEXT}],
        "latest_change_note": TEXT,
        "collection_groups": [{"title": TEXT, "body": HTML, "documents": [TEXT]}],
        "child_section_groups": [{"title": TEXT, "child_sections": [{"title": TEXT, "base_path": TEXT}]}],
        "parent": {"base_path": ADDRESS},
        "manual": {"base_path": ADDRESS},
        # statistics announcements
        "display_date": TEXT,
        "state": TEXT,
        "cancellation_reason": TEXT,
        "cancelled_at": TEXT,
        # consultations
        "opening_date": TEXT,
        "closing_date": TEXT,
    },
}

_KINDS = {bool: "true or false", int: "a number", float: "a number", str: "a string", list: "a list", dict: "an object"}


def check_item(item: Mapping[str, Any]) -> None:
    """Raise ExtractionError naming the first field of ``item`` that is not of the shape read,
    or a ``base_path`` that is not a path on the site."""
    problem = shape_problem(item, CONTENT_ITEM, "")
    if problem is not None:
        raise ExtractionError(f"the Content API item is not of the expected shape: {problem}")
    base_path = item.get("base_path")
    if isinstance(base_path, str) and not (base_path.startswith("/") and not base_path.startswith("//")):
        raise ExtractionError(f"the Content API item's base_path {base_path[:100]!r} is not a path on the site")


def shape_problem(value: Any, shape: Any, where: str) -> str | None:
    """Where ``value`` differs from ``shape`` ("details.parts[2].title is a number, expected a
    string"), or None. null stands for absent and is always accepted."""
    if value is None:
        return None
    if isinstance(shape, Either):
        problems = [shape_problem(value, option, where) for option in shape.shapes]
        return None if None in problems else f"{where or 'the item'} is {_kind(value)}, expected {_expected(shape)}"
    if isinstance(shape, dict):
        if not isinstance(value, dict):
            return f"{where or 'the item'} is {_kind(value)}, expected an object"
        for key, inner in shape.items():
            problem = shape_problem(value.get(key), inner, f"{where}.{key}" if where else key)
            if problem is not None:
                return problem
        return None
    if isinstance(shape, list):
        if not isinstance(value, list):
            return f"{where} is {_kind(value)}, expected a list"
        for index, element in enumerate(value):
            problem = shape_problem(element, shape[0], f"{where}[{index}]")
            if problem is not None:
                return problem
        return None
    if isinstance(shape, Address):
        if not isinstance(value, str):
            return f"{where} is {_kind(value)}, expected a string"
        return None if _parses(value) else f"{where} is not an address that can be read"
    if shape is NUMBER:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    else:
        ok = isinstance(value, shape)
    return None if ok else f"{where} is {_kind(value)}, expected {_KINDS[shape]}"


def _parses(value: str) -> bool:
    try:
        urlsplit(value).port  # noqa: B018 - a port out of range or not a number raises too
    except ValueError:
        return False
    return True


def _kind(value: Any) -> str:
    return _KINDS.get(type(value), type(value).__name__)


def _expected(shape: Any) -> str:
    if isinstance(shape, Either):
        return " or ".join(_expected(option) for option in shape.shapes)
    if isinstance(shape, dict):
        return "an object"
    if isinstance(shape, list):
        return "a list"
    if isinstance(shape, Address):
        return "an address"
    return _KINDS[shape]
