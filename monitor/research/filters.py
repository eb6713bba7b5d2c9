"""What researchers name on the command line, checked: dates, targets, ids, categories.

Every bad value is a UsageError with one line that says what was wrong and how to write it
(with a "did you mean" for target names), never an empty answer that looks like "nothing".
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from datetime import UTC, datetime

from monitor.errors import UsageError
from storage.rows import TargetRow

CATEGORIES = ("release-register", "privacy-notice", "census-guidance", "other")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:\d{2})$")


def parse_since(value: str | None, option: str = "--since") -> datetime | None:
    """YYYY-MM-DD (midnight UTC) or an RFC 3339 time with its offset, as an aware UTC time."""
    if value is None:
        return None
    text = value.strip()
    try:
        if _DATE.match(text):
            return datetime.fromisoformat(text).replace(tzinfo=UTC)
        if _RFC3339.match(text):
            return datetime.fromisoformat(text.replace("z", "Z").replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        pass
    raise UsageError(f"{option} {value!r} is not a date: write YYYY-MM-DD (2026-11-29) or an RFC 3339 time with its offset (2026-11-29T09:30:00Z)")


def check_category(value: str | None) -> str | None:
    if value is None or value in CATEGORIES:
        return value
    guess = difflib.get_close_matches(value, CATEGORIES, n=1)
    hint = f"did you mean {guess[0]!r}? " if guess else ""
    raise UsageError(f"--category {value!r} is not a category: {hint}use one of {', '.join(CATEGORIES)}")


def resolve_target(targets: Sequence[TargetRow], name: str) -> TargetRow:
    """The target named ``name`` (its name, its URL, or where it lives now), or a UsageError
    with the closest names."""
    wanted = name.strip()
    for target in targets:
        if wanted in (target.name, target.url, target.fetch_url) or wanted.rstrip("/") in (target.url.rstrip("/"), target.fetch_url.rstrip("/")):
            return target
    folded = [t for t in targets if t.name.casefold() == wanted.casefold()]
    if len(folded) == 1:
        return folded[0]
    names = [t.name for t in targets]
    guesses = difflib.get_close_matches(wanted, names, n=3, cutoff=0.5)
    if not guesses:
        guesses = [n for n in names if wanted.casefold() in n.casefold()][:3]
    hint = f"did you mean {' or '.join(repr(g) for g in guesses)}?" if guesses else "`dfe-monitor status` lists the targets"
    raise UsageError(f"no target is named {name!r}: {hint} (give a target's name or URL)")


def parse_id(value: str, what: str) -> int:
    text = value.strip().lstrip("#")
    if not text.isdigit():
        raise UsageError(f"{what} {value!r} is not a number: give the id shown by `dfe-monitor changes` or `dfe-monitor history`")
    return int(text)
