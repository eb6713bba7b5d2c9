"""Dates and status a page states apart from its text (a statistics release's date, a
consultation's closing date): which changed, from what to what."""

from __future__ import annotations

from collections.abc import Sequence

from monitor.compare.report import FactChange
from monitor.model import Fact


def diff_facts(old: Sequence[Fact], new: Sequence[Fact]) -> tuple[FactChange, ...]:
    """One change per label whose value differs, in the order the new page states them (labels
    it no longer states last)."""
    before = {f.label: f.value for f in old}
    after = {f.label: f.value for f in new}
    labels = [*after, *(label for label in before if label not in after)]
    return tuple(FactChange(label, before.get(label, ""), after.get(label, "")) for label in labels if before.get(label, "") != after.get(label, ""))
