import io
import re
from pathlib import Path

from pypdf import PdfReader, PdfWriter

from monitor.document.files.extract import extract_file_in_process
from monitor.document.files.pdf import (
    extract_pdf,
    parse_heading,
    plausible_successor,
    split_sections,
    strip_running_lines,
)
from monitor.model import Section

FILES = Path(__file__).parent / "fixtures" / "files"
TITLE = "School census 2025 to 2026: guide for schools"
LABELS_BEFORE = [
    ("(opening text)", 1),
    ("1 Introduction", 2),
    ("1.1 About this guide", 2),
    ("1.2 Who must complete the census", 3),
    ("2 Census dates", 5),
    ("2.1 Autumn census", 5),
    ("2.2 Spring census", 6),
    ("2.3 Summer census", 7),
    ("3 Pupil level data", 9),
    ("3.1 Unique pupil number", 9),
    ("3.2 Ethnicity", 10),
    ("3.3 Free school meals eligibility", 11),
    ("4 School level data", 13),
    ("4.1 Class sizes", 13),
    ("4.2 Teaching staff counts", 14),
    ("5 Submitting and validating your return", 16),
    ("5.1 Preparing your return", 16),
    ("5.2 Validation errors and queries", 17),
    ("5.3 Authorising the return", 18),
    ("6 Getting help", 20),
]


def guide(state: str):
    return extract_file_in_process((FILES / f"census-guide-{state}.pdf").read_bytes())


def test_census_guide_sections_and_pages():
    content = guide("before")
    assert content.format == "pdf"
    assert content.error is None
    assert content.page_count == 20
    assert [(s.label, s.page) for s in content.sections] == LABELS_BEFORE
    assert content.sections[1].number == "1"
    assert content.sections[1].title == "Introduction"


def test_version_history_table_survives_as_paragraphs():
    opening = guide("before").sections[0]
    assert (opening.number, opening.title) == ("", "")
    assert opening.paragraphs == (
        TITLE,
        "Guidance for schools completing the school census.",
        "Version history",
        "Version Date Summary of changes",
        "1.0 3 March 2025 First published",
        "1.1 12 May 2025 Clarified submission deadlines in section 2.3",
    )


def test_running_header_and_page_footer_are_removed():
    content = guide("before")
    text = [p for s in content.sections for p in s.paragraphs]
    assert not [p for p in text if re.search(r"Page \d+ of \d+", p)]
    assert text.count(TITLE) == 1  # the cover's own title stays; the 20 running headers go


def test_new_section_in_the_after_version():
    content = guide("after")
    assert content.page_count == 20
    labels = [(s.label, s.page) for s in content.sections]
    assert labels == LABELS_BEFORE[:12] + [("3.4 Pupil nationality", 12)] + LABELS_BEFORE[12:]
    (nationality,) = [s for s in content.sections if s.number == "3.4"]
    assert nationality.paragraphs == (
        "From the autumn census 2025 schools record the nationality of each pupil when a parent "
        "chooses to provide it. Parents are not required to provide this information and schools "
        "must not ask to see a passport. Where a parent declines, record the code REF.",
        "Nationality is never shared with the Home Office for immigration enforcement. It is used "
        "only to produce statistics about the school population.",
    )
    assert content.sections[0].paragraphs[-1] == (
        "1.2 1 July 2025 Added section 3.4 Pupil nationality"
    )


def test_heading_rules():
    assert parse_heading("3.2 Ethnicity", (3, 1)) == ("3.2", "Ethnicity")
    assert parse_heading("4. School level data", (3, 3)) == ("4", "School level data")
    assert parse_heading("1.0 3 March 2025 First published", None) is None  # a table row
    assert parse_heading("1.1 March 2024 Updated", None) is None  # starts with a date
    assert parse_heading("2 pupils were missing", (1,)) is None  # not capitalised
    assert parse_heading("2 Schools must record every pupil on roll.", (1,)) is None  # a sentence
    assert parse_heading("12 Months of data", (1,)) is None  # jumps from 1 to 12
    assert parse_heading("1.1 About this guide", (3, 2)) is None  # goes backwards


def test_plausible_successor():
    assert plausible_successor(None, (5, 1))
    assert plausible_successor((3, 2), (3, 2, 1))
    assert plausible_successor((3, 2), (3, 3))
    assert plausible_successor((3, 2), (4,))
    assert plausible_successor((3, 2), (5, 1))
    assert plausible_successor((3, 2), (3, 4))  # one heading may have been missed
    assert not plausible_successor((3, 2), (3, 2))
    assert not plausible_successor((3, 2), (3, 5))
    assert not plausible_successor((3, 2), (4, 7))
    assert not plausible_successor((3,), (3, 3))


def test_split_sections_paragraphs():
    long = "x" * 80
    pages = [
        [
            "Cover title",
            "",
            "1 Introduction",
            f"{long} data-",
            f"sharing agreements {long}",
            "end of paragraph.",
            "Second paragraph.",
        ],
        ["1.1 Scope", f"{long} continues", "over the page."],
    ]
    assert split_sections(pages) == (
        Section("", "", ("Cover title",), 1),
        Section(
            "1",
            "Introduction",
            (
                f"{long} data-sharing agreements {long} end of paragraph.",
                "Second paragraph.",
            ),
            1,
        ),
        Section("1.1", "Scope", (f"{long} continues over the page.",), 2),
    )


def test_strip_running_lines():
    pages = [
        ["Guide title", "Guide title", "Text one", "Page 1 of 3"],
        ["Guide title", "Text two", "Page 2 of 3"],
        ["", "Guide title", "Text three", "3", ""],
    ]
    assert strip_running_lines(pages) == [
        ["Guide title", "Text one"],
        ["Text two"],
        ["Text three"],
    ]


def test_password_protected_pdf_is_refused():
    source = PdfReader(FILES / "census-guide-before.pdf")
    writer = PdfWriter()
    writer.add_page(source.pages[1])
    writer.encrypt("secret", algorithm="RC4-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    content = extract_file_in_process(buffer.getvalue())
    assert content.error == "refused: PDF is password-protected"


def test_pdf_with_empty_user_password_is_read():
    source = PdfReader(FILES / "census-guide-before.pdf")
    writer = PdfWriter()
    writer.add_page(source.pages[1])
    writer.encrypt("", owner_password="owner", algorithm="RC4-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    content = extract_pdf(buffer.getvalue())
    # One page cannot show which lines repeat, so the running header stays as opening text.
    assert [s.label for s in content.sections] == [
        "(opening text)",
        "1 Introduction",
        "1.1 About this guide",
    ]
    assert content.sections[0].paragraphs == (TITLE,)


def test_broken_pdf_is_an_error():
    content = extract_file_in_process(b"%PDF-1.7\nthis is not a PDF body at all\n")
    assert content.format == "pdf"
    assert content.error is not None
    assert content.error.startswith("could not read pdf file: ")


def test_a_contents_page_is_not_read_as_headings():
    from monitor.document.files.pdf import is_contents_page, split_sections

    contents = ["1 Introduction", "1.1 About this guide", "2 Census dates", "2.1 Census days ..... 4", "3 Pupil data items 5"]
    body = ["1 Introduction", "1.1 About this guide", "This guide explains the census.", "2 Census dates", "2.1 Census days", "The census day is 1 October."]
    assert is_contents_page(["Contents", *contents])  # says so
    assert is_contents_page(contents, {"1", "1.1", "2", "2.1"})  # its entries come back later
    assert not is_contents_page(body)  # a page dense with short sections is still the body
    sections = split_sections([["School census guide"], contents, body])
    assert [s.number for s in sections] == ["", "1", "1.1", "2", "2.1"]
    assert sections[2].paragraphs == ("This guide explains the census.",)
