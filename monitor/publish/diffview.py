"""What a reader sees of a diff: text changes and changed files, clipped to a readable size.

The database keeps every diff whole; an entry shows a part of it, within a :class:`Budget`
(paragraphs, rows, sections), and says how much it left out. A feed entry gets a small budget
(it must stay under 60 KB in any reader), a change page a large one. These functions make that
choice and return plain data for the templates; they never write markup. Text is given as
segments (:mod:`monitor.publish.marks`), the watch-list terms among them marked.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, TypedDict

from monitor.publish.marks import NO_MARKS, Marker, Segment
from monitor.publish.safety import safe_href


@dataclass(frozen=True)
class Budget:
    """How much of a diff one rendering shows; the rest is counted, not shown."""

    text_changes: int = 25
    paragraphs: int = 60  # paragraphs (deleted + inserted) shown in one entry's text changes
    run_chars: int = 3_000  # one deleted or inserted run, before it is shortened
    context_chars: int = 300  # unchanged text kept on each side of a long stretch between edits
    rows: int = 20  # register rows per sheet
    columns: int = 12  # register columns per sheet
    sections: int = 15  # sections of a PDF or DOCX
    sentences: int = 10  # sentences added (and removed) shown per section
    files: int = 40
    documents: int = 50  # documents a collection gained or lost

    def shrunk(self, factor: int) -> Budget:
        """The same budget divided by ``factor`` (at least one of each, and readable runs)."""
        counts = {name: max(1, getattr(self, name) // factor) for name in ("text_changes", "paragraphs", "rows", "sections", "sentences", "files", "documents")}
        return replace(self, run_chars=max(400, self.run_chars // factor), context_chars=max(80, self.context_chars // factor), **counts)


FEED = Budget()
PAGE = Budget(text_changes=500, paragraphs=2_000, run_chars=20_000, context_chars=600, rows=1_000, columns=60, sections=300, sentences=200, files=500, documents=1_000)


class Link(TypedDict):
    href: str  # empty: show the text only
    text: Any  # a string, or segments


class Run(TypedDict):
    """A stretch of text, maybe shortened: ``head``, then what was left out, then ``tail``.

    Each part is a list of lines, shown with line breaks between them; each line a list of
    segments, the watch-list terms among them marked.
    """

    mark: str  # "ins", "del" or "" (unchanged)
    head: list[list[Segment]]
    omitted: str  # empty when nothing was left out
    tail: list[list[Segment]]


def link(url: str | None, text: Any) -> Link:
    """The text, to be shown as a link only if the URL is http(s)."""
    return {"href": safe_href(url) or "", "text": text}


def clip(text: str, mark: str, budget: Budget = FEED, *, breaks: bool = False, marker: Marker = NO_MARKS) -> Run:
    """An inserted or deleted run; a very long one keeps its start and end."""
    limit = budget.run_chars
    if len(text) <= limit:
        return _run(mark, text, "", "", breaks, marker)
    head, tail = text[: limit // 2], text[-limit // 4 :]
    return _run(mark, head, f"… {len(text) - len(head) - len(tail):,} characters not shown …", tail, breaks, marker)


def clip_context(text: str, budget: Budget = FEED, *, breaks: bool = False, marker: Marker = NO_MARKS) -> Run:
    """Unchanged text between edits: enough to read the sentence, not whole pages."""
    keep = budget.context_chars
    if len(text) <= 2 * keep:
        return _run("", text, "", "", breaks, marker)
    return _run("", text[:keep], "…", text[-keep:], breaks, marker)


def _run(mark: str, head: str, omitted: str, tail: str, breaks: bool, marker: Marker) -> Run:
    def lines(text: str) -> list[list[Segment]]:
        return [marker(line) for line in (text.split("\n") if breaks else [text])]

    return {"mark": mark, "head": lines(head), "omitted": omitted, "tail": lines(tail) if omitted else []}


def word_runs(runs: list[Any], budget: Budget = FEED, marker: Marker = NO_MARKS) -> list[Run]:
    """A word diff (``[op, text]`` pairs) as marked runs; line breaks in it are kept."""
    shown: list[Run] = []
    for op, text in runs:
        if op == "insert":
            shown.append(clip(text, "ins", budget, breaks=True, marker=marker))
        elif op == "delete":
            shown.append(clip(text, "del", budget, breaks=True, marker=marker))
        else:
            shown.append(clip_context(text, budget, breaks=True, marker=marker))
    return shown


# -- text --------------------------------------------------------------------------------------


def text_changes_view(changes: list[dict[str, Any]], budget: Budget = FEED, marker: Marker = NO_MARKS) -> dict[str, Any] | None:
    """The first text changes, sharing one paragraph budget, and counts of the rest."""
    if not changes:
        return None
    paragraphs = [budget.paragraphs]
    shown, hidden = [], 0
    for change in changes[: budget.text_changes]:
        view, cut = _text_change(change, paragraphs, budget, marker)
        shown.append(view)
        hidden += cut
    return {"changes": shown, "hidden_paragraphs": hidden, "hidden_changes": max(0, len(changes) - budget.text_changes)}


def _text_change(change: dict[str, Any], paragraphs_left: list[int], budget: Budget, marker: Marker) -> tuple[dict[str, Any], int]:
    op = change["op"]
    old, new = change.get("old", []), change.get("new", [])
    words: list[Run] = []
    if op == "added":
        paragraphs, cut = _paragraphs(new, "ins", paragraphs_left, budget, marker)
    elif op == "removed":
        paragraphs, cut = _paragraphs(old, "del", paragraphs_left, budget, marker)
    elif change.get("words"):
        words, paragraphs, cut = word_runs(change["words"], budget, marker), [], 0
    else:
        removed, cut_old = _paragraphs(old, "del", paragraphs_left, budget, marker)
        added, cut_new = _paragraphs(new, "ins", paragraphs_left, budget, marker)
        paragraphs, cut = removed + added, cut_old + cut_new
    view = {"op": op.capitalize(), "section": marker(change.get("section") or ""), "words": words, "paragraphs": paragraphs}
    return view, cut


def _paragraphs(texts: list[str], mark: str, left: list[int], budget: Budget, marker: Marker) -> tuple[list[Run], int]:
    """Up to the remaining budget of paragraphs, marked; and how many were left out."""
    shown = texts[: left[0]]
    left[0] -= len(shown)
    return [clip(text, mark, budget, marker=marker) for text in shown], len(texts) - len(shown)
