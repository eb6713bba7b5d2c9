"""The words of an alert: a subject and a plain-text body, for e-mail and for chat alike.

Plain text because every channel shows it (Slack, Matrix, Teams, ntfy, a phone's lock screen),
and because nothing scraped can then become markup anywhere. Pure: the change in, text out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from monitor.publish.entries import OGL_NOTICE, FeedEntry, change_notes

MAX_SUBJECT = 200
MAX_FIELD = 2_000  # a summary or a note, in a message that must stay readable on a phone


@dataclass(frozen=True)
class Message:
    subject: str
    body: str


def _one_line(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def flags(entry: FeedEntry) -> str:
    marks = []
    if entry.silent_edit:
        marks.append("silent edit")
    if entry.priority == "high":
        marks.append("high priority")
    return f" [{', '.join(marks)}]" if marks else ""


def subject_of(entry: FeedEntry) -> str:
    """The title, shortened if need be, then the flags (which are never cut off)."""
    marks = flags(entry)
    return _one_line(entry.title, MAX_SUBJECT - len(marks)) + marks


def describe(entry: FeedEntry) -> list[str]:
    """The lines that tell one change: what, whether DfE said so, and where to read more."""
    lines = [_one_line(entry.summary, MAX_FIELD)]
    notes = change_notes(entry)
    for note in notes[:3]:
        when = f" ({note['date']})" if note["date"] else ""
        lines.append(f"Change note{when}: “{_one_line(note['text'], MAX_FIELD)}”")
    if not notes and entry.silent_edit:
        lines.append("No change note: silent edit. GOV.UK's own update e-mails did not tell anyone.")
    if entry.terms:
        lines.append(f"Watch-list terms: {_one_line(', '.join(entry.terms), MAX_FIELD)}")
    if entry.page_url:
        lines.append(f"What changed, word by word: {entry.page_url}")
    if entry.url.startswith(("http://", "https://")):
        lines.append(f"The page on GOV.UK: {entry.url}")
    lines.append(f"Detected {entry.detected_at:%Y-%m-%d %H:%M} UTC (change {entry.sequence}; `dfe-monitor show {entry.sequence}`)")
    return lines


FOOTER = ["", "--", f"dfe-monitor. {OGL_NOTICE}"]


def single(entry: FeedEntry) -> Message:
    """One change, one message."""
    return Message(subject_of(entry), "\n".join([entry.title, "", *describe(entry), *FOOTER]) + "\n")


def digest(entries: Sequence[FeedEntry]) -> Message:
    """One run's changes in one message, the high-priority ones first."""
    ordered = sorted(entries, key=lambda e: (e.priority != "high", e.detected_at, e.sequence))
    high = sum(1 for e in entries if e.priority == "high")
    silent = sum(1 for e in entries if e.silent_edit)
    counts = [f"{len(entries)} change{'s' if len(entries) != 1 else ''}"]
    if high:
        counts.append(f"{high} high priority")
    if silent:
        counts.append(f"{silent} silent edit{'s' if silent != 1 else ''}")
    subject = _one_line(f"dfe-monitor: {', '.join(counts)}", MAX_SUBJECT)
    lines = [subject, ""]
    for number, entry in enumerate(ordered, start=1):
        lines += [f"{number}. {entry.title}{flags(entry)}", *(f"   {line}" for line in describe(entry)), ""]
    return Message(subject, "\n".join(lines + FOOTER[1:]) + "\n")


def test_message(channel_label: str) -> Message:
    return Message("dfe-monitor: test message", f"This is a test message from dfe-monitor to {channel_label}.\nIf you can read it, alerts will reach you here.\n")
