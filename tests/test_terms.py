"""Watch-list terms: matched in their word forms, in what changed and under which heading, in the
sentence around a changed figure, and in everything a removed file held."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.compare.document import diff_documents
from monitor.compare.termforms import find_terms, split_on_terms, word_forms
from monitor.model import Attachment, Block, ChangeNote, Document, FileContent, Section, Table

TERMS = ("Home Office", "nationality", "country of birth", "police", "immigration", "third party", "identifiable", "retention", "commercial")


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("We retain pupil data for 6 years.", ("retention",)),
        ("Records are retained until the pupil is 25.", ("retention",)),
        ("our data retention schedule", ("retention",)),
        ("The Home Office's request", ("Home Office",)),
        ("shared with third-party processors and other third parties", ("third party",)),
        ("re-identifiable records", ("identifiable",)),
        ("pupils' nationalities", ("nationality",)),
        ("commercially sensitive", ("commercial",)),
        ("Police forces and policing", ("police",)),
        ("immigrants and immigration enforcement", ("immigration",)),
    ],
)
def test_word_forms_count(text, found):
    assert find_terms(text, TERMS) == found


@pytest.mark.parametrize("text", ["our privacy policy", "identifying the school of a child", "the national pupil database", "homes and offices", "retaliation"])
def test_other_words_do_not(text):
    assert find_terms(text, TERMS) == ()


def test_forms_of_a_word_not_in_the_curated_families_are_its_regular_inflections():
    assert set(word_forms("census")) == {"census", "census's", "censuses", "censused", "censusing"}
    assert {"shares", "shared", "sharing"} <= set(word_forms("share"))
    assert {"parties", "party's"} <= set(word_forms("party"))
    assert find_terms("Data shared with researchers", ("share",)) == ("share",)


def test_terms_are_split_out_for_marking_exactly_where_they_occur():
    assert split_on_terms("The Home Office retained it.", TERMS) == [("The ", False), ("Home Office", True), (" ", False), ("retained", True), (" it.", False)]
    assert split_on_terms("nothing here", TERMS) == [("nothing here", False)]


NOTES = (ChangeNote("2026-01-10T09:30:00.000+00:00", "First published."),)


def doc(*blocks: Block, **kw) -> Document:
    return Document(url="https://www.gov.uk/x", title="Privacy notice", blocks=blocks, change_notes=NOTES, has_change_history=True, **kw)


def test_a_term_in_the_heading_above_a_change_counts():
    old = doc(Block("heading", "How long we retain pupil data", 2), Block("paragraph", "We keep pupil data until age 25."))
    new = doc(old.blocks[0], Block("paragraph", "We keep pupil data for 6 years."))
    report = diff_documents(old, new, {}, terms=TERMS)
    assert report is not None and report.terms == ("retention",)
    elsewhere = doc(Block("heading", "Contact us", 2), Block("paragraph", "We keep pupil data until age 25."))
    report = diff_documents(elsewhere, replace(elsewhere, blocks=(elsewhere.blocks[0], new.blocks[1])), {}, terms=TERMS)
    assert report is not None and report.terms == ()


def test_a_changed_figure_counts_the_terms_of_its_sentence_and_only_of_its_sentence():
    old = doc(Block("paragraph", "We keep records for you. We share pupils' nationality with the Home Office for 25 years. Contact us at any time."))
    new = doc(Block("paragraph", "We keep records for you. We share pupils' nationality with the Home Office for 6 years. Contact us at any time."))
    report = diff_documents(old, new, {}, terms=TERMS)
    assert report is not None and report.terms == ("Home Office", "nationality")
    wording = doc(Block("paragraph", "We keep records for you. We share pupils' nationality with the Home Office. Contact us at any time."))
    report = diff_documents(wording, replace(wording, blocks=(Block("paragraph", "We keep records for you. We share pupils' nationality with the Home Office. Write to us at any time."),)), {}, terms=TERMS)
    assert report is not None and report.terms == ()  # a change of words elsewhere in the paragraph


HEADER = ("Reference", "Organisation", "Purpose")


def test_removing_the_file_that_holds_the_home_office_rows_is_high_priority():
    register = Attachment("Register A", "https://assets.publishing.service.gov.uk/media/a/register-a.ods", sha256="sha-a")
    other = Attachment("Register B", "https://assets.publishing.service.gov.uk/media/b/register-b.ods", sha256="sha-b")
    files = {
        "sha-a": FileContent(format="ods", tables=(Table("Requests", HEADER, (("HO0013", "Home Office", "Locating a child"),)),)),
        "sha-b": FileContent(format="ods", tables=(Table("Shares", HEADER, (("DS1", "A council", "Research"),)),)),
    }
    report = diff_documents(doc(attachments=(register, other)), doc(attachments=(other,)), files, terms=TERMS)
    assert report is not None and report.headline == "file removed: Register A"
    assert report.terms == ("Home Office",)  # only the removed file's rows name it
    kept = diff_documents(doc(attachments=(register, other)), doc(attachments=(register,)), files, terms=TERMS)
    assert kept is not None and kept.terms == ()


def test_a_removed_row_or_section_holding_a_term_counts():
    before = FileContent(format="pdf", sections=(Section("1", "Scope", ("All pupils.",)), Section("2", "Sharing with the police", ("On request.",))))
    after = FileContent(format="pdf", sections=(Section("1", "Scope", ("All pupils.",)),))
    guide = Attachment("Guide", "https://assets.publishing.service.gov.uk/media/c/guide.pdf", sha256="sha-1")
    report = diff_documents(doc(attachments=(guide,)), doc(attachments=(replace(guide, sha256="sha-2"),)), {"sha-1": before, "sha-2": after}, terms=TERMS)
    assert report is not None and report.terms == ("police",)
    assert report.headline == "file replaced: Guide (section 2 Sharing with the police removed)"


# -- the quick look before the full search --------------------------------------------------------


def _found_by_the_full_search(text: str, terms: tuple[str, ...]) -> tuple[str, ...]:
    """What find_terms answered before it skipped terms that cannot occur: every term's
    pattern run over the whole text."""
    from monitor.compare.termforms import terms_pattern

    pattern = terms_pattern(terms)
    seen = {int(name[1:]) for match in pattern.finditer(text) for name, value in match.groupdict().items() if value is not None}
    return tuple(term for i, term in enumerate(terms) if i in seen)


_PIECES = ["Home", "office", "OFFICE's", "third", "-", " ", "\n", "party", "parties", "re", "identifiable", "reidentifiably",
           "retain", "RETAINED", "retentions", "nationalit", "ies", "y", "polic", "pol", "ce", "e", "ing", "İ", "ı", "ſ", "haring", "K", "é", "data", "’s", "Σ"]  # fmt: skip


_ALL_TERMS = [*TERMS, "data sharing", "re-identifiable data", "x-ray", "İstanbul", "sıgn"]
_LOOK_ALIKE = {"i": ["i", "I", "ı", "İ"], "s": ["s", "S", "ſ"], "k": ["k", "K", "\u212a"]}


def _spelt_oddly(draw: st.DrawFn, term: str) -> str:
    """A form of ``term``, some letters swapped for ones that match them only when case is
    ignored (ı, ſ, İ, the Kelvin sign) or upper-cased, its words joined by odd space."""
    words = term.lower().split()
    words[-1] = draw(st.sampled_from(word_forms(words[-1])))
    text = draw(st.sampled_from([" ", "-", "\n", " \t"])).join(words)
    return "".join(draw(st.sampled_from(_LOOK_ALIKE.get(ch, [ch, ch.upper()]))) for ch in text)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_ALL_TERMS), min_size=1, max_size=5), st.data())
def test_skipping_terms_that_cannot_occur_never_changes_what_is_found(terms, data):
    noise = st.sampled_from(_PIECES) | st.text(max_size=4)
    pieces = [data.draw(noise) for _ in range(data.draw(st.integers(0, 4)))]
    for term in data.draw(st.lists(st.sampled_from(terms), max_size=3)):
        pieces += [data.draw(st.sampled_from([" ", "(", "\n", ""])), _spelt_oddly(data.draw, term), data.draw(st.sampled_from([" ", ".", "s", ""]))]
    text = "".join(pieces)
    assert find_terms(text, tuple(terms)) == _found_by_the_full_search(text, tuple(terms))


@pytest.mark.parametrize("text", ["the ſecond polıce report", "İMMIGRATION", "a HOME  OFFICE note", "third\nparties"])
def test_letters_that_fold_apart_still_find_their_terms(text):
    assert find_terms(text, TERMS) == _found_by_the_full_search(text, TERMS) != ()
