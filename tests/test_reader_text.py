"""Table cells and inline elements read the way a reader sees them — "(VED)", "NICs," — on every
path: a Content API body, a rendered page, a Word table, a PDF page."""

from __future__ import annotations

import io

from docx import Document as WordDocument
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from monitor.document.content_item import document_from_item
from monitor.document.files.docx import extract_docx
from monitor.document.files.pdf import extract_pdf
from monitor.document.files.spacing import reader_spacing
from monitor.document.html import blocks_from_html, document_from_html_page
from monitor.model import Block

TABLE = (
    "<table><tr><th>Tax</th><th>Who pays</th></tr>"
    '<tr><td>Vehicle excise duty (<abbr title="Vehicle excise duty">VED</abbr>)</td>'
    '<td>Only £300 is subject to tax and <abbr title="National Insurance contributions">NICs</abbr>, the rest is exempt</td></tr>'
    "<tr><td><p>First line</p><p>second line</p></td><td>A<br>B</td></tr></table>"
)
ROWS = (
    Block("table_row", "Tax | Who pays"),
    Block("table_row", "Vehicle excise duty (VED) | Only £300 is subject to tax and NICs, the rest is exempt"),
    Block("table_row", "First line second line | A B"),
)


def test_cells_of_a_content_api_body():
    item = {"title": "Salary sacrifice", "base_path": "/guidance/x", "details": {"body": f'<div class="govspeak">{TABLE}</div>'}}
    assert document_from_item(item, "https://www.gov.uk/guidance/x").blocks == ROWS
    assert blocks_from_html(TABLE) == ROWS


def test_cells_and_headings_of_a_rendered_page():
    page = f'<html><head><title>x</title></head><body><main id="content"><h1>Vehicle tax (<abbr>VED</abbr>)</h1><div class="gem-c-govspeak">{TABLE}<blockquote>Quoted <abbr>NICs</abbr>, here</blockquote></div></main></body></html>'
    doc = document_from_html_page(page, "https://www.gov.uk/x")
    assert doc.title == "Vehicle tax (VED)"
    assert doc.blocks == (*ROWS, Block("quote", "Quoted NICs, here"))


def test_cells_and_paragraphs_of_a_word_file():
    word = WordDocument()
    paragraph = word.add_paragraph()
    for text in ("Vehicle excise duty ", "( ", "VED", " )", " is paid yearly"):
        paragraph.add_run(text)
    table = word.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "Tax", "Who pays"
    table.cell(1, 0).text = "Vehicle excise duty"
    cell = table.cell(1, 1).paragraphs[0]
    for text in ("tax and NICs", " ,", " the rest is exempt"):
        cell.add_run(text)
    buffer = io.BytesIO()
    word.save(buffer)
    content = extract_docx(buffer.getvalue())
    assert content.sections[0].paragraphs == ("Vehicle excise duty (VED) is paid yearly",)
    assert content.tables[0].rows == (("Vehicle excise duty", "tax and NICs, the rest is exempt"),)


def test_text_of_a_pdf_page_laid_out_in_pieces():
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, pagesize=A4, invariant=True)
    page.setFont("Helvetica", 11)
    y = 780
    for x, text in ((72, "Vehicle excise duty"), (185, "("), (195, "VED"), (222, ")"), (232, "is paid by"), (290, "NICs"), (318, ","), (326, "employers")):
        page.drawString(x, y, text)
    page.showPage()
    page.save()
    content = extract_pdf(buffer.getvalue())
    [section] = content.sections
    assert section.paragraphs == ("Vehicle excise duty (VED) is paid by NICs, employers",)


def test_only_the_spaces_layout_added_go():
    assert reader_spacing("( VED ) and NICs , then [ a ] ; b : c ! d ?") == "(VED) and NICs, then [a]; b: c! d?"
    assert reader_spacing("section 3 . Next") == "section 3. Next"
    assert reader_spacing("a .5 mark and 3 . 2") == "a .5 mark and 3. 2"
    assert reader_spacing("no change (here), at all.") == "no change (here), at all."
