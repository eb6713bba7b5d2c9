"""One line per target as it finishes, for the person watching a run (and its log):
``Privacy notice: changed (1 feed entry); 3 requests (2 not modified), 45.1 KB, 0.4 s``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from monitor.record.result import RunCounts, size_text
from storage.rows import FetchRow


@dataclass(frozen=True)
class Tally:
    """The counts that tell one target's outcome apart, taken before and after it."""

    unchanged: int
    changed: int
    baseline: int
    failed: int
    gone: int
    changes: int
    errors: int

    @classmethod
    def of(cls, counts: RunCounts) -> Tally:
        return cls(counts.unchanged, counts.changed, counts.baseline, counts.failed, counts.gone, counts.changes, len(counts.errors))


def outcome(before: Tally, counts: RunCounts) -> str:
    """What happened to the target processed between ``before`` and now."""
    after = Tally.of(counts)
    entries = after.changes - before.changes
    note = f" ({entries} feed {'entry' if entries == 1 else 'entries'})" if entries else ""
    if after.failed > before.failed:
        return f"failed: {counts.errors[-1].split(': ', 1)[-1]}" if after.errors > before.errors else "failed"
    if after.gone > before.gone:
        return "gone" + note
    if after.changed > before.changed:
        return "changed" + note
    if after.baseline > before.baseline:
        return "baseline" + note
    return "unchanged" + note


def target_line(name: str, what: str, fetches: Sequence[FetchRow], seconds: float) -> str:
    not_modified = sum(1 for f in fetches if f.not_modified)
    size = sum(f.size or 0 for f in fetches if not f.not_modified)
    fetch_seconds = sum(f.elapsed_ms or 0 for f in fetches) / 1000
    requests = f"{len(fetches)} request{'s' if len(fetches) != 1 else ''}"
    if not_modified:
        requests += f" ({not_modified} not modified)"
    return f"{name}: {what}; {requests}, {size_text(size)}, {fetch_seconds + seconds:.1f} s"
