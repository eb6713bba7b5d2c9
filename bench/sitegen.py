"""A deterministic GOV.UK-like site for benchmarks, served by monitor/demo/server.py.

``generate(folder, pages=100, files=True, changed=0.05, seed=1)`` writes two states:

* ``before``: ``pages`` rendered publication pages (39–129 KB each: GOV.UK's header, cookie and
  global banners, breadcrumbs, a lead paragraph, metadata, a govspeak body with headings,
  paragraphs, lists and tables, the "full page history" with change notes, the related-content
  sidebar, the feedback block and the footer) and, with ``files``, one CSV (~680 KB) and one PDF
  (~1 MB, 150 pages) per page under ``/media/<id>/``;
* ``after``: the same, with ``changed`` of the pages edited (a paragraph added and a change
  note).

Every file is stable between requests, so the server answers with an ETag and Last-Modified
and with 304 to conditional requests, as GOV.UK's CDN and asset host do. The same seed always
writes the same bytes.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import shutil
from pathlib import Path

WORDS = ["pupil", "data", "school", "census", "national", "database", "record", "share", "research", "approved", "request", "organisation", "purpose", "legal", "basis", "retention", "period", "identifiable", "information", "local", "authority", "department", "education", "privacy", "notice", "collect", "process", "personal", "security", "review", "panel", "access", "secure", "research", "service", "extract", "table", "attainment", "characteristic", "exclusion", "absence", "funding"]
CHROME_TOP = """<!DOCTYPE html>
<html lang="en" class="govuk-template"><head><meta charset="utf-8"><title>{title} - GOV.UK</title>
<meta name="govuk:content-id" content="{content_id}"><meta name="govuk:schema-name" content="publication">
<meta name="govuk:public-updated-at" content="{updated}">
<link rel="stylesheet" href="/assets/frontend/application-3f5e2a.css">
<script src="/assets/frontend/govuk_publishing_components/load-analytics-6d1e0f.js" type="module"></script>
</head><body class="gem-c-layout-for-public govuk-template__body">
<div id="global-cookie-message" class="gem-c-cookie-banner govuk-clearfix"><div class="govuk-cookie-banner">
<p>We use some essential cookies to make this website work. We'd like to set additional cookies to understand how you use GOV.UK.</p>
<button class="govuk-button" type="button">Accept additional cookies</button></div></div>
<a href="#content" class="govuk-skip-link">Skip to main content</a>
<header class="gem-c-layout-super-navigation-header" role="banner"><nav>{menu}</nav></header>
<div class="gem-c-global-banner govuk-width-container"><p>Find out what the latest government announcements mean for you.</p></div>
<div class="govuk-width-container"><div class="gem-c-contextual-breadcrumbs"><nav class="govuk-breadcrumbs"><ol>
<li><a href="/">Home</a></li><li><a href="/education">Education, training and skills</a></li><li><a href="/education/school-data">School data</a></li></ol></nav></div>
<main id="content" class="govuk-main-wrapper" role="main">
"""
CHROME_BOTTOM = """</main>
<div class="gem-c-contextual-sidebar"><div class="gem-c-related-navigation"><h2>Related content</h2><ul>{related}</ul></div></div>
<div class="gem-c-feedback govuk-!-display-none-print"><h2>Is this page useful?</h2><form><input type="hidden" name="url" value="/page"><button>Yes</button><button>No</button></form></div>
</div>
<footer class="gem-c-layout-footer govuk-footer"><div class="govuk-width-container"><ul>{footer}</ul>
<p>All content is available under the Open Government Licence v3.0, except where otherwise stated</p></div></footer>
<script src="/assets/static/govuk_publishing_components/rum-loader-5c8d2b.js"></script>
</body></html>
"""


def _sentence(rng: random.Random, words: int = 16) -> str:
    text = " ".join(rng.choice(WORDS) for _ in range(words))
    return text[0].upper() + text[1:] + "."


def _paragraph(rng: random.Random) -> str:
    return " ".join(_sentence(rng, rng.randint(10, 24)) for _ in range(rng.randint(2, 5)))


def _table(rng: random.Random, rows: int) -> str:
    head = "<thead><tr><th>Reference</th><th>Organisation</th><th>Purpose</th><th>Date approved</th></tr></thead>"
    body = "".join(
        f"<tr><td>DS{rng.randint(10000, 99999)}</td><td>{_sentence(rng, 3)}</td><td>{_sentence(rng, 8)}</td><td>2026-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}</td></tr>"
        for _ in range(rows)
    )
    return f'<table class="govuk-table">{head}<tbody>{body}</tbody></table>'


def page_html(number: int, target_kb: int, rng: random.Random, *, files: bool, edited: bool) -> str:
    title = f"National pupil database: data shares {number:04d}"
    notes = [("2025-06-01T09:30:00.000+01:00", "First published.")]
    if edited:
        notes.append(("2026-02-01T09:30:00.000+00:00", "Added the February approvals."))
    menu = "".join(f'<a class="gem-c-layout-super-navigation-header__navigation-item-link" href="/browse/{w}">{w.title()}</a>' for w in WORDS[:24])
    related = "".join(f'<li><a href="/government/publications/related-{number}-{i}">{_sentence(rng, 5)}</a></li>' for i in range(8))
    footer = "".join(f'<li><a href="/help/{w}">{w.title()}</a></li>' for w in WORDS[:30])
    parts = [CHROME_TOP.format(title=title, content_id=f"00000000-0000-4000-8000-{number:012d}", updated=notes[-1][0], menu=menu)]
    parts.append(f'<h1 class="gem-c-title__text">{title}</h1><p class="gem-c-lead-paragraph">{_sentence(rng, 20)}</p>')
    parts.append('<div class="gem-c-metadata"><dl><dt>From:</dt><dd><a href="/government/organisations/department-for-education">Department for Education</a></dd></dl></div>')
    if files:
        for kind, name, size in (("csv", f"shares-{number:04d}.csv", "680 KB"), ("pdf", f"guide-{number:04d}.pdf", "1 MB")):
            parts.append(
                f'<section class="gem-c-attachment"><div class="gem-c-attachment__details"><h3 class="gem-c-attachment__title">'
                f'<a class="govuk-link" href="/media/{number:04d}{kind}/{name}">{name}</a></h3>'
                f'<p class="gem-c-attachment__metadata"><abbr>{kind.upper()}</abbr>, {size}</p></div></section>'
            )
    parts.append('<div class="gem-c-govspeak govuk-govspeak">')
    if edited:
        parts.append(f"<p>Update: {_sentence(rng, 18)}</p>")
    section = 0
    while sum(map(len, parts)) < target_kb * 1024 - 6000:
        section += 1
        parts.append(f"<h2>Section {section}: {_sentence(rng, 4)}</h2>")
        parts.extend(f"<p>{_paragraph(rng)}</p>" for _ in range(rng.randint(2, 4)))
        parts.append("<ul>" + "".join(f"<li>{_sentence(rng, 8)}</li>" for _ in range(rng.randint(2, 6))) + "</ul>")
        if section % 2 == 0:
            parts.append(_table(rng, rng.randint(5, 25)))
    parts.append("</div>")
    history = "".join(f'<li><time datetime="{ts}">{ts[:10]}</time> {note}</li>' for ts, note in notes)
    parts.append(f'<div class="gem-c-published-dates"><div id="full-publication-update-history"><ol>{history}</ol></div></div>')
    parts.append(CHROME_BOTTOM.format(related=related, footer=footer))
    return "".join(parts)


def csv_bytes(number: int, rows: int = 5200) -> bytes:
    rng = random.Random(number)
    out = io.StringIO()
    out.write("Reference,Organisation,Purpose,Legal basis,Data items,Date approved,Identifiable,Retention\n")
    for row in range(rows):
        out.write(f"DS{number:04d}{row:05d},{_sentence(rng, 3)},{_sentence(rng, 6)},Public task,{rng.randint(1, 400)},2026-01-{row % 28 + 1:02d},Yes,{rng.randint(1, 25)} years\n")
    return out.getvalue().encode()


def pdf_bytes(pages: int = 150) -> bytes:
    """One ~1 MB, 150-page text PDF (each file on the site is this plus its own trailer comment)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    rng = random.Random(7)
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, invariant=True, pageCompression=0)
    for page in range(pages):
        text = pdf.beginText(40, 800)
        text.textLine(f"{page + 1}. School census technical specification")
        for _ in range(70):
            text.textLine(_sentence(rng, 13))
        pdf.drawText(text)
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def generate(folder: Path, pages: int = 100, *, files: bool = True, changed: float = 0.05, seed: int = 1) -> list[str]:
    """Write the site; returns the page paths (``/government/publications/...``)."""
    if folder.exists():
        shutil.rmtree(folder)
    rng = random.Random(seed)
    sizes = [rng.randint(39, 129) for _ in range(pages)]
    edited = set(rng.sample(range(pages), max(1, round(pages * changed)))) if changed else set()
    pdf = pdf_bytes() if files else b""
    paths = []
    for state in ("before", "after"):
        root = folder / state
        (root / "government" / "publications").mkdir(parents=True)
        (root / "robots.txt").write_text("User-agent: *\nDisallow: /*/print$\nDisallow: /search/all*\n")
        for number in range(pages):
            path = f"/government/publications/data-shares-{number:04d}"
            html = page_html(number, sizes[number], random.Random(seed * 100_003 + number), files=files, edited=state == "after" and number in edited)
            (root / f"{path.lstrip('/')}.html").write_text(html, encoding="utf-8")
            if state == "before":
                paths.append(path)
            if files:
                for kind, name in (("csv", f"shares-{number:04d}.csv"), ("pdf", f"guide-{number:04d}.pdf")):
                    target = root / "media" / f"{number:04d}{kind}" / name
                    target.parent.mkdir(parents=True)
                    if state == "after":  # the files do not change: one copy on disk
                        os.link(folder / "before" / target.relative_to(root), target)
                    elif kind == "csv":
                        target.write_bytes(csv_bytes(number))
                    else:
                        target.write_bytes(pdf + f"\n%file {number}\n".encode())
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--pages", type=int, default=100)
    parser.add_argument("--no-files", action="store_true")
    args = parser.parse_args()
    paths = generate(args.folder, args.pages, files=not args.no_files)
    print(f"{len(paths)} pages written to {args.folder}")


if __name__ == "__main__":
    main()
