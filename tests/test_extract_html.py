"""Rendered GOV.UK pages → Documents: chrome never counts, error pages are never content."""

from __future__ import annotations

import pytest

from monitor.document.html import blocks_from_html, document_from_html_page
from monitor.errors import ExtractionError
from monitor.model import Block, ChangeNote

URL = "https://www.gov.uk/government/organisations/department-for-education/about/personal-information-charter"


def page(*, nonce="a1b2", banner="", related="Data protection", asset="application-1a2b3c.css", body=None, title="Personal information charter", extra_main="", updated_at="2026-11-01T10:00:00Z") -> str:
    body = body or (
        "<h2>Why we collect it</h2><p>We collect personal information to run our services.</p>"
        "<ul><li>to pay grants</li><li>to run the school census</li></ul>"
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head>
<meta charset="utf-8"><title>{title} - GOV.UK</title>
<meta name="csrf-token" content="tok-{nonce}">
<meta name="govuk:content-id" content="1f6b1a2c-0000-4000-8000-000000000009">
<meta name="govuk:public-updated-at" content="2026-03-04T10:00:00+00:00">
<meta name="govuk:updated-at" content="{updated_at}">
<meta name="govuk:schema-name" content="corporate_information_page">
<link rel="stylesheet" href="/assets/static/{asset}">
<script nonce="{nonce}">window.GOVUK = {{requestId: "{nonce}"}};</script>
</head><body>
<div class="gem-c-cookie-banner" data-nonce="{nonce}"><p>Cookies on GOV.UK {banner}</p><button>Accept</button></div>
<a class="govuk-skip-link" href="#content">Skip to main content</a>
<header class="gem-c-layout-super-navigation-header"><a href="/">GOV.UK</a></header>
<div class="gem-c-emergency-banner">{banner}</div>
<div class="govuk-width-container">
<div class="gem-c-contextual-breadcrumbs"><ol><li><a href="/">Home</a></li><li><a href="/about">About</a></li></ol></div>
<main class="govuk-main-wrapper" id="content" role="main">
  <div class="gem-c-title"><h1 class="gem-c-title__text">{title}</h1></div>
  <p class="gem-c-lead-paragraph">How the department handles your information.</p>
  <div class="gem-c-metadata"><dl><dt>From:</dt><dd>Department for Education</dd><dt>Published</dt><dd>4 March 2026</dd></dl></div>
  <div class="gem-c-single-page-notification-button"><form><button>Get emails about this page</button><input type="hidden" name="token" value="{nonce}"></form></div>
  <div class="gem-c-print-link"><button>Print this page</button></div>
  <section id="details"><div class="gem-c-govspeak govuk-govspeak">{body}</div></section>
  {extra_main}
  <div class="gem-c-published-dates" id="full-publication-update-history">
    <h2>Updates to this page</h2>
    <ol><li><time datetime="2026-03-04T10:00:00+00:00">4 March 2026</time><p class="gem-c-published-dates__change-note">Updated the retention period.</p></li>
    <li><time datetime="2015-01-01T09:00:00+00:00">1 January 2015</time><p class="gem-c-published-dates__change-note">First published.</p></li></ol>
  </div>
  <div class="gem-c-contextual-sidebar"><h2>Related content</h2><ul><li><a href="/x">{related}</a></li></ul></div>
  <div class="gem-c-feedback"><p>Is this page useful?</p><input type="hidden" name="url" value="https://www.gov.uk/x?request={nonce}"></div>
</main></div>
<footer class="govuk-footer"><p>© Crown copyright</p><a href="/help/cookies">Cookies</a></footer>
<script nonce="{nonce}" src="/assets/static/govuk-{asset}.js"></script>
</body></html>"""


def test_reads_the_content():
    doc = document_from_html_page(page(), URL)
    assert doc.title == "Personal information charter"
    assert doc.summary == "How the department handles your information."
    assert doc.blocks == (
        Block("heading", "Why we collect it", 2),
        Block("paragraph", "We collect personal information to run our services."),
        Block("list_item", "to pay grants"),
        Block("list_item", "to run the school census"),
    )
    assert doc.change_notes == (
        ChangeNote("2026-03-04T10:00:00+00:00", "Updated the retention period."),
        ChangeNote("2015-01-01T09:00:00+00:00", "First published."),
    )
    assert doc.has_change_history
    assert doc.public_updated_at == "2026-03-04T10:00:00+00:00"
    assert doc.schema_name == "corporate_information_page"
    assert doc.source == "html"


def test_chrome_tokens_banners_and_assets_never_change_the_document():
    plain = document_from_html_page(page(), URL)
    noisy = document_from_html_page(
        page(nonce="zz99", banner="<h2>National mourning</h2><p>Her Majesty</p>", related="Something else", asset="application-9f9f9f.css", updated_at="2026-11-28T23:00:00Z"),
        URL,
    )
    assert noisy.fingerprint() == plain.fingerprint()


def test_attachments_and_withdrawn_banner():
    extra = """
    <section id="documents"><section class="gem-c-attachment">
      <h3 class="gem-c-attachment__title"><a href="https://assets.publishing.service.gov.uk/media/abc/register.ods">Register: July to September 2026</a></h3>
      <p class="gem-c-attachment__metadata"><abbr title="OpenDocument Spreadsheet">ODS</abbr>, 45.1 KB</p>
    </section></section>
    <div class="gem-c-notice"><h2 class="gem-c-notice__title">This publication was withdrawn on <time datetime="2026-10-01T10:00:00Z">1 October 2026</time></h2><p>Replaced by the 2027 edition.</p></div>
    """
    doc = document_from_html_page(page(extra_main=extra), URL)
    assert [(a.title, a.url, a.content_type, a.attachment_type) for a in doc.attachments] == [
        ("Register: July to September 2026", "https://assets.publishing.service.gov.uk/media/abc/register.ods", "ODS", "file")
    ]
    assert doc.withdrawn is not None and doc.withdrawn.explanation == "Replaced by the 2027 edition."
    assert doc.withdrawn.withdrawn_at == "2026-10-01T10:00:00Z"


@pytest.mark.parametrize(
    "title",
    ["Sorry, there is a problem with the service", "Page unavailable", "Page not found", "Too many requests"],
)
def test_error_pages_are_suspect_not_content(title):
    html = f"<html><head><title>{title} - GOV.UK</title></head><body><main id='content'><h1>{title}</h1></main></body></html>"
    with pytest.raises(ExtractionError) as caught:
        document_from_html_page(html, URL)
    assert caught.value.suspect


def test_selector_matching_nothing_is_an_error_not_an_empty_version():
    with pytest.raises(ExtractionError, match="matches nothing"):
        document_from_html_page("<html><body><div id='other'>x</div></body></html>", URL, selector="#article")


def test_custom_selector_for_other_hosts():
    html = "<html><body><nav>Menu</nav><article id='notice'><h1>Notice</h1><p>Text.</p><script>x()</script></article></body></html>"
    doc = document_from_html_page(html, "https://example.org/notice", selector="#notice")
    assert doc.title == "Notice" and doc.blocks == (Block("paragraph", "Text."),)


def test_block_structure():
    blocks = blocks_from_html(
        "<div><h3>Who <em>we</em> share with</h3><p>One<br>two</p><ol><li>a<ul><li>nested</li></ul></li></ol>"
        "<table><thead><tr><th>Org</th><th>Data</th></tr></thead><tbody><tr><td>Home Office</td><td>Nationality</td></tr></tbody></table>"
        "<blockquote><p>Quote</p></blockquote><pre>code\n  here</pre><!-- comment --></div>"
    )
    assert blocks == (
        Block("heading", "Who we share with", 3),
        Block("paragraph", "One two"),
        Block("list_item", "a", 0),
        Block("list_item", "nested", 1),
        Block("table_row", "Org | Data"),
        Block("table_row", "Home Office | Nationality"),
        Block("quote", "Quote"),
        Block("pre", "code\n  here"),
    )
