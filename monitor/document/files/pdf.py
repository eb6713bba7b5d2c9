"""PDF files (census guides, technical specifications) as numbered sections of paragraphs.

Text comes from pypdf in *layout* mode, which keeps a table row on one line ("1.1  12 May 2025
Clarified deadlines") and leaves blank lines where the page has vertical gaps; plain mode is the
fallback when layout mode fails on a page. Then, in order:

1. **Running headers and footers are removed**: a line that is the first (or last) line of at
   least half of the pages, once digits are ignored ("Page 7 of 20"), is page furniture, not
   text. Without this, inserting one page would "change" every later section's page footer.
   Bare page numbers at the top or bottom of a page always go.
2. **Headings** are lines of the form ``3.2 Title`` (a number of up to five parts, an optional
   dot, then a capitalised title of at most 15 words that does not end like a sentence and does
   not start with a date). To keep numbered rows of tables and lists from passing as headings,
   a heading must also follow on plausibly from the previous one: its number is greater, and no
   part jumps by more than 2 (``3.2`` may be followed by ``3.2.1``, ``3.3``, ``4`` or ``5.1``,
   but not by ``1.1`` or ``12``).
3. **Paragraphs**: lines are joined until a blank line, a heading, or a line clearly shorter
   than a full line of text (the last line of a paragraph or a row of a table). A line ending
   in a hyphen is joined to the next without a space.

Text before the first heading becomes a section numbered "" titled "" (a document's cover and
its own version-history table usually live there, one row per paragraph).
"""

from __future__ import annotations

import contextlib
import io
import logging
import re
import warnings
from collections import Counter
from collections.abc import Iterator, Sequence

from pypdf import PdfReader
from pypdf.errors import PdfReadError

from monitor.document.files.safety import ExtractionRefused, Limits
from monitor.document.files.spacing import reader_spacing
from monitor.model import FileContent, Section

_HEADING_RE = re.compile(r"^(\d{1,2}(?:\.\d{1,3}){0,4})\.?\s+(\S.*)$")
_MONTHS = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
    "jan",
    "feb",
    "mar",
    "apr",
    "jun",
    "jul",
    "aug",
    "sep",
    "sept",
    "oct",
    "nov",
    "dec",
]
_DATE_START_RE = re.compile(r"^(?:\d{1,2}\s+)?(?:" + "|".join(_MONTHS) + r")\b\.?\s*\d{0,4}", re.I)
_PAGE_NUMBER_RE = re.compile(r"^(?:page\s*)?\d+(?:\s*(?:of|/)\s*\d+)?$", re.I)
_MAX_TITLE_WORDS = 15
_SHORT_LINE_SHARE = 0.75


def extract_pdf(data: bytes, limits: Limits | None = None) -> FileContent:
    """Sections of a PDF and its page count; raises on unreadable or refused files."""
    limits = limits or Limits()
    with warnings.catch_warnings(), _quiet_pypdf():
        warnings.simplefilter("ignore")  # pypdf warns about every oddity of a real-world PDF
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and not _try_empty_password(reader):
            raise ExtractionRefused("PDF is password-protected")
        page_count = len(reader.pages)
        if page_count > limits.max_pages:
            raise ExtractionRefused(
                f"PDF has {page_count} pages, over the limit of {limits.max_pages}"
            )
        pages = [page_lines(reader, index) for index in range(page_count)]
    return FileContent(
        format="pdf", sections=split_sections(strip_running_lines(pages)), page_count=page_count
    )


@contextlib.contextmanager
def _quiet_pypdf() -> Iterator[None]:
    """pypdf also logs every oddity (hundreds of lines for a damaged file): errors only."""
    logger = logging.getLogger("pypdf")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def page_lines(reader: PdfReader, index: int) -> list[str]:
    """One page's text lines, white space collapsed; blank lines kept as ""."""
    page = reader.pages[index]
    try:
        text = page.extract_text(extraction_mode="layout")
    except (MemoryError, RecursionError):
        raise
    except Exception:  # layout mode is young and fails on odd fonts: plain mode may not
        text = page.extract_text()
    return [reader_spacing(" ".join(line.split())) for line in text.splitlines()]


def _try_empty_password(reader: PdfReader) -> bool:
    try:
        return bool(reader.decrypt(""))
    except (PdfReadError, NotImplementedError, ValueError, ImportError):  # no AES support etc.
        return False


def strip_running_lines(pages: Sequence[Sequence[str]]) -> list[list[str]]:
    """Drop running headers and footers (see the module docstring), two passes deep."""
    result = [_trim_blank(list(lines)) for lines in pages]
    for _ in range(2):
        threshold = max(2, (len(result) + 1) // 2)
        tops = Counter(_furniture_key(lines[0]) for lines in result if lines)
        bottoms = Counter(_furniture_key(lines[-1]) for lines in result if lines)
        changed = False
        for lines in result:
            if lines and (
                tops[_furniture_key(lines[0])] >= threshold or _PAGE_NUMBER_RE.match(lines[0])
            ):
                del lines[0]
                changed = True
            if lines and (
                bottoms[_furniture_key(lines[-1])] >= threshold or _PAGE_NUMBER_RE.match(lines[-1])
            ):
                del lines[-1]
                changed = True
        result = [_trim_blank(lines) for lines in result]
        if not changed:
            break
    return result


def split_sections(pages: Sequence[Sequence[str]]) -> tuple[Section, ...]:
    """Sections from the text lines of each page (furniture already removed)."""
    full_width = _full_line_width(pages)
    sections: list[Section] = []
    number, title, page = "", "", None
    paragraphs: list[str] = []
    current: list[str] = []
    previous: tuple[int, ...] | None = None

    def end_paragraph() -> None:
        if current:
            paragraphs.append(_join_lines(current))
            current.clear()

    def end_section() -> None:
        end_paragraph()
        if number or title or paragraphs:
            sections.append(Section(number, title, tuple(paragraphs), page))

    numbers_by_page = [_heading_numbers(lines) for lines in pages]
    for page_number, lines in enumerate(pages, start=1):
        later = set().union(*numbers_by_page[page_number:]) if page_number < len(pages) else set()
        contents_page = is_contents_page(lines, later)
        for line in lines:
            if not line:
                end_paragraph()
                continue
            heading = None if contents_page else parse_heading(line, previous)
            if heading is not None:
                end_section()
                number, title = heading
                previous = tuple(int(part) for part in number.split("."))
                paragraphs, page = [], page_number
                continue
            if page is None:
                page = page_number
            current.append(line)
            if len(line) < _SHORT_LINE_SHARE * full_width:
                end_paragraph()
    end_section()
    return tuple(sections)


_CONTENTS_SHARE = 0.6


def is_contents_page(lines: Sequence[str], later_numbers: set[str] | frozenset[str] = frozenset()) -> bool:
    """A table of contents: most lines look like headings, and it says "Contents" or its
    numbers come back as headings on later pages. Its entries are text, not sections —
    otherwise the body's real headings, which repeat them, would never count."""
    filled = [line.strip() for line in lines if line.strip()]
    if len(filled) < 4:
        return False
    numbers = _heading_numbers(filled)
    if len(numbers) < _CONTENTS_SHARE * len(filled):
        return False
    titled = any(line.lower() in ("contents", "table of contents") for line in filled)
    return titled or len(numbers & set(later_numbers)) >= 3


def _heading_numbers(lines: Sequence[str]) -> set[str]:
    """Numbers of the lines that look like numbered headings (contents entries included)."""
    numbers = set()
    for line in lines:
        match = _HEADING_RE.match(line.strip())
        if match and _looks_like_title(_strip_page_reference(match.group(2).strip())):
            numbers.add(match.group(1))
    return numbers


def _strip_page_reference(title: str) -> str:
    """"Pupil nationality ..... 6" → "Pupil nationality" (contents lines end in page numbers)."""
    return re.sub(r"[\s.·…]*\d{1,4}$", "", title) or title


def parse_heading(line: str, previous: tuple[int, ...] | None) -> tuple[str, str] | None:
    """``(number, title)`` when ``line`` is a plausible heading after ``previous``, else None."""
    match = _HEADING_RE.match(line)
    if not match:
        return None
    number, title = match.group(1), match.group(2).strip()
    if not _looks_like_title(title):
        return None
    parts = tuple(int(part) for part in number.split("."))
    if not plausible_successor(previous, parts):
        return None
    return number, title


def plausible_successor(previous: tuple[int, ...] | None, candidate: tuple[int, ...]) -> bool:
    """True when ``candidate`` can follow heading ``previous`` (see the module docstring)."""
    if previous is None:
        return True  # the first heading may be anything (an excerpt can start at section 5)
    if candidate <= previous:
        return False
    for index, part in enumerate(candidate):
        before = previous[index] if index < len(previous) else 0
        if part != before:
            return part - before <= 2 and all(p <= 2 for p in candidate[index + 1 :])
    return False


def _looks_like_title(title: str) -> bool:
    if not title[0].isupper() or len(title) > 120:
        return False
    if len(title.split()) > _MAX_TITLE_WORDS or title[-1] in ".,;":
        return False
    return not _DATE_START_RE.match(title)


def _join_lines(lines: Sequence[str]) -> str:
    text = lines[0]
    for line in lines[1:]:
        if text.endswith("-") and line[:1].islower():
            text += line
        else:
            text += " " + line
    return text


def _full_line_width(pages: Sequence[Sequence[str]]) -> int:
    """The length of a full line of body text: the 90th percentile of line lengths."""
    lengths = sorted(len(line) for lines in pages for line in lines if line)
    if not lengths:
        return 0
    return lengths[min(len(lengths) - 1, int(len(lengths) * 0.9))]


def _furniture_key(line: str) -> str:
    return re.sub(r"\d+", "#", line.casefold())


def _trim_blank(lines: list[str]) -> list[str]:
    start, end = 0, len(lines)
    while start < end and not lines[start]:
        start += 1
    while end > start and not lines[end - 1]:
        end -= 1
    return lines[start:end]
