import io
from pathlib import Path

from docx import Document
from docx.enum.style import WD_STYLE_TYPE

from monitor.document.files.docx import extract_docx, split_heading
from monitor.document.files.extract import extract_file_in_process
from monitor.model import Section, Table

FILES = Path(__file__).parent / "fixtures" / "files"
RETENTION_TAIL = (
    " Paper records are kept in locked cabinets. Electronic records are protected by access "
    "controls."
)


def notice(state: str):
    return extract_file_in_process((FILES / f"privacy-notice-{state}.docx").read_bytes())


def docx_bytes(build) -> bytes:
    document = Document()
    build(document)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_privacy_notice_sections():
    content = notice("before")
    assert content.format == "docx"
    assert content.error is None
    assert [s.label for s in content.sections] == [
        "Privacy notice for pupils (model document)",
        "1 Why we collect and use pupil information",
        "2 The categories of pupil information we process",
        "3 Who we share pupil information with",
        "4 How long we keep pupil data",
        "5 Requesting access to your personal data",
        "Contact",
    ]
    title, _, categories, sharing, keeping, _, contact = content.sections
    assert (title.number, title.title) == ("", "Privacy notice for pupils (model document)")
    assert title.paragraphs == (
        "This notice explains how our school uses information about pupils. Replace the text in "
        "square brackets with your school's details.",
    )
    assert categories.paragraphs == (  # list items are paragraphs too
        "Personal identifiers, such as name and unique pupil number",
        "Characteristics, such as ethnicity and language",
        "Attendance, such as sessions attended and absence reasons",
    )
    # The table's text is in the table, not among the section's paragraphs.
    assert sharing.paragraphs == (
        "We routinely share pupil information with the organisations below.",
    )
    assert keeping == Section(
        "4",
        "How long we keep pupil data",
        (
            "We hold pupil data securely for the set amount of time shown in our data retention "
            "schedule." + RETENTION_TAIL,
        ),
    )
    assert contact.paragraphs == ("[School name], [address], [email address].",)


def test_privacy_notice_table():
    (table,) = notice("before").tables
    assert table == Table(
        name="3 Who we share pupil information with: table 1",
        header=("Organisation", "Why we share", "Legal basis"),
        rows=(
            ("Department for Education", "Statutory data collections", "Public task"),
            ("Our local authority", "Admissions and attendance", "Public task"),
            ("Youth support services", "Post-16 education and training", "Public task"),
        ),
    )


def test_after_version_changes_one_sentence():
    before, after = notice("before"), notice("after")
    changed = [(a, b) for a, b in zip(before.sections, after.sections, strict=True) if a != b]
    assert len(changed) == 1
    assert changed[0][1].paragraphs == (
        "We hold pupil data securely until the pupil reaches the age of 25, after which it is "
        "deleted." + RETENTION_TAIL,
    )
    assert before.tables == after.tables


def test_split_heading():
    assert split_heading("3.2 Who we share with") == ("3.2", "Who we share with")
    assert split_heading("4. Retention") == ("4", "Retention")
    assert split_heading("Contact us") == ("", "Contact us")
    assert split_heading("2024 census changes") == ("", "2024 census changes")


def test_custom_heading_styles_tables_before_headings_and_blank_paragraphs():
    def build(document):
        custom = document.styles.add_style("Notice Heading", WD_STYLE_TYPE.PARAGRAPH)
        custom.base_style = document.styles["Heading 2"]
        table = document.add_table(rows=2, cols=2)
        table.rows[0].cells[0].text = "Item"
        table.rows[0].cells[1].text = "Why"
        table.rows[1].cells[0].text = "Name"
        document.add_paragraph("   ")
        document.add_paragraph("2.1 Nationality", style="Notice Heading")
        document.add_paragraph("Collected from  autumn\n2025.")
        empty = document.add_table(rows=1, cols=1)
        empty.rows[0].cells[0].text = " "

    content = extract_docx(docx_bytes(build))
    assert content.sections == (Section("2.1", "Nationality", ("Collected from autumn 2025.",)),)
    assert content.tables == (Table("(opening text): table 1", ("Item", "Why"), (("Name", None),)),)


def test_empty_document():
    content = extract_docx(docx_bytes(lambda document: None))
    assert content.sections == ()
    assert content.tables == ()
    assert content.error is None


def test_docx_named_xlsx_is_read_as_docx():
    data = (FILES / "privacy-notice-before.docx").read_bytes()
    content = extract_file_in_process(data, filename="register.xlsx", content_type="text/csv")
    assert content.format == "docx"
    assert len(content.sections) == 7
