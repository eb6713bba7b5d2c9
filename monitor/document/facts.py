"""What a page states apart from its text: the dates and status of a statistics announcement and
of a consultation.

A statistics announcement (the page DfE puts up before a statistics release) has no body: its
news is in ``details``: ``display_date`` (the release date as shown, "20 January 2016 9:30am" or
"January 2016"), ``state`` (provisional, confirmed, cancelled) and, once cancelled,
``cancellation_reason`` and ``cancelled_at``. A consultation's dates are ``opening_date`` and
``closing_date``; its ``document_type`` says whether it is open, closed or has an outcome.
Each becomes a :class:`~monitor.model.Fact` so that a cancellation, a new release date or an
extended deadline is compared like any other content.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from monitor.govuk.items import mapping_of, text_of
from monitor.govuk.markup import clean_text
from monitor.model import Fact

# Labels a reader sees; ``compare`` words their changes.
RELEASE_DATE = "Release date"
STATUS = "Status"
CANCELLATION = "Cancellation reason"
CANCELLED_ON = "Cancelled on"
OPENS = "Opens"
CLOSES = "Closes"
CONSULTATION_STATUS = {"open_consultation": "open", "closed_consultation": "closed", "consultation_outcome": "outcome published"}
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December")


def facts_of(item: dict[str, Any]) -> tuple[Fact, ...]:
    schema = text_of(item.get("schema_name"))
    details = mapping_of(item.get("details"))
    if schema == "statistics_announcement":
        return _announcement(details)
    if schema == "consultation":
        return _consultation(item, details)
    return ()


def _announcement(details: dict[str, Any]) -> tuple[Fact, ...]:
    facts = [Fact(RELEASE_DATE, clean_text(text_of(details.get("display_date"))))]
    state = clean_text(text_of(details.get("state"))).lower()
    if state:
        facts.append(Fact(STATUS, state))
    if state == "cancelled":
        facts.append(Fact(CANCELLATION, clean_text(text_of(details.get("cancellation_reason")))))
        facts.append(Fact(CANCELLED_ON, human_date(text_of(details.get("cancelled_at")))))
    return tuple(f for f in facts if f.value)


def _consultation(item: dict[str, Any], details: dict[str, Any]) -> tuple[Fact, ...]:
    facts = [
        Fact(STATUS, CONSULTATION_STATUS.get(text_of(item.get("document_type")), "")),
        Fact(OPENS, human_date(text_of(details.get("opening_date")))),
        Fact(CLOSES, human_date(text_of(details.get("closing_date")))),
    ]
    return tuple(f for f in facts if f.value)


def human_date(stamp: str) -> str:
    """ "2016-07-13T22:45:00+01:00" → "13 July 2016 10:45pm" (the time as GOV.UK shows it, in the
    offset given); a date alone when the time is midnight; the text itself when it is no date."""
    try:
        when = datetime.fromisoformat(stamp.strip().replace("Z", "+00:00"))
    except ValueError:
        return clean_text(stamp)
    day = f"{when.day} {MONTHS[when.month - 1]} {when.year}"
    if (when.hour, when.minute) == (0, 0):
        return day
    hour = when.hour % 12 or 12
    return f"{day} {hour}:{when.minute:02d}{'am' if when.hour < 12 else 'pm'}"
