"""What a run reports when it ends: counts for people (one summary line) and for programs (one
JSON object, which the daemon reads from its child runs instead of parsing prose).

Light on purpose: the daemon imports it without the crawler, the database or the parsers.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from typing import Any

# The key that marks a run's JSON result line among other output.
RESULT_KEY = "dfe_monitor_run"


@dataclass
class RunCounts:
    checked: int = 0
    unchanged: int = 0
    changed: int = 0
    baseline: int = 0
    failed: int = 0
    gone: int = 0
    new: int = 0
    changes: int = 0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "errors"}


@dataclass
class RunResult:
    run_id: int
    status: str
    counts: RunCounts
    requests: int = 0
    not_modified: int = 0
    bytes_downloaded: int = 0
    feed_entries: int = 0
    feed_path: str = ""
    errors: list[str] = field(default_factory=list)
    search_failures: int = 0
    alerts_sent: int = 0
    alerts_failed: int = 0  # kept in the outbox, retried on the next run

    def summary_line(self) -> str:
        c = self.counts
        parts = [
            f"run {self.run_id} {self.status}: {c.checked} targets checked",
            f"{c.unchanged} unchanged",
            f"{c.changed} changed",
            f"{c.failed} failed",
        ]
        if c.baseline:
            parts.append(f"{c.baseline} baseline")
        if c.gone:
            parts.append(f"{c.gone} gone")
        if c.new:
            parts.append(f"{c.new} discovered")
        line = ", ".join(parts)
        line += f"; {c.changes} feed entries added; {self.requests} requests ({self.not_modified} not modified, {size_text(self.bytes_downloaded)} downloaded)"
        if self.search_failures:
            line += f"; {self.search_failures} discovery searches failed"
        if self.alerts_sent or self.alerts_failed:
            line += f"; {self.alerts_sent} alerts sent"
            line += f", {self.alerts_failed} not delivered (retried next run)" if self.alerts_failed else ""
        return line

    def to_json(self) -> str:
        """One line: ``{"dfe_monitor_run": {...}}`` with every field and count."""
        return json.dumps({RESULT_KEY: asdict(self)}, ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> RunResult:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known and k != "counts"}
        counts_known = {f.name for f in fields(RunCounts)}
        counts = RunCounts(**{k: v for k, v in (data.get("counts") or {}).items() if k in counts_known})
        return cls(counts=counts, **values)


def error_json(message: str, exit_code: int) -> str:
    """The JSON line of a run that ended with an error instead of a result."""
    return json.dumps({RESULT_KEY: {"error": message, "exit_code": exit_code}}, ensure_ascii=False)


def read_result_line(line: str) -> dict[str, Any] | None:
    """The payload of a JSON result line (a result, or ``{"error", "exit_code"}``), else None."""
    if not line.startswith("{"):
        return None
    try:
        data = json.loads(line)
    except ValueError:
        return None
    payload = data.get(RESULT_KEY) if isinstance(data, dict) else None
    return payload if isinstance(payload, dict) else None


def size_text(n: float) -> str:
    """A byte count for people: "512 B", "404.4 KB", "1.2 MB"."""
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"
