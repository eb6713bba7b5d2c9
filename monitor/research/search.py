"""Full-text search over every version's text and every extracted file, with snippets.

Words are matched whole and in any order (all must appear in one paragraph, block or row);
"quoted words" must appear in a row; ``word*`` matches the start of a word. One record per
version and place (the page, or each file), with the first snippet and the number of matches.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from monitor.errors import UsageError
from monitor.times import rfc3339
from storage import queries, repo
from storage.db import Database
from storage.queries import Phrase

_TOKEN = re.compile(r'"([^"]*)"|(\S+)')
_WORD = re.compile(r"\w+")


def parse_query(text: str) -> list[Phrase]:
    """Phrases and words of a search; a UsageError when there is no word in it."""
    phrases: list[Phrase] = []
    for quoted, bare in _TOKEN.findall(text):
        words = tuple(w.lower() for w in _WORD.findall(quoted or bare))
        if words:
            phrases.append((words, bool(bare) and bare.endswith("*")))
    if not phrases:
        raise UsageError(f"search {text!r} has no word to look for: give one or more words, \"a phrase\" or a prefix*")
    return phrases


def search(db: Database, text: str, *, category: str | None = None, since: datetime | None = None) -> list[dict[str, Any]]:
    phrases = parse_query(text)
    with db.read() as session:
        hits = queries.search_texts(session, phrases, category=category, since=since)
        targets = {t.id: t for t in repo.all_targets(session)}
    records: dict[tuple[int, str, str | None], dict[str, Any]] = {}
    for hit in hits:
        key = (hit.version_id, hit.source, hit.file_url)
        record = records.get(key)
        if record is not None:
            record["matches"] += 1
            continue
        target = targets[hit.target_id]
        records[key] = {
            "target": target.name,
            "url": target.url,
            "category": target.category,
            "version_id": hit.version_id,
            "captured_at": rfc3339(hit.captured_at),
            "source": hit.source,
            "file_url": hit.file_url,
            "file_title": hit.file_title,
            "section": hit.section,
            "part": hit.part,
            "snippet": " ".join(hit.snippet.split()),
            "matches": 1,
        }
    return list(records.values())


def search_lines(records: list[dict[str, Any]]) -> list[str]:
    lines = []
    for r in records:
        where = f"file {r['file_title']!r}" if r["source"] == "file" else "page"
        more = f" (+{r['matches'] - 1} more)" if r["matches"] > 1 else ""
        lines.append(f"{r['captured_at']}  version {r['version_id']}  {r['target']} — {where}{more}")
        lines.append(f"    {r['snippet']}")
    return lines
