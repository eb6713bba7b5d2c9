"""What a scraped string may become in what we publish: XML-safe text, and a link only if http(s).

Escaping itself is the templates' job (autoescape); these two rules hold before it, for the
feed's own fields as well as for the HTML.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def xml_safe(text: str | None) -> str:
    """Text XML 1.0 can carry: control characters and lone surrogates removed."""
    return _XML_INVALID.sub("", text or "")


# Never in a link: controls and white space (XML cannot carry some of them, and a database
# written before addresses were checked may hold any).
_NOT_IN_HREF = re.compile("[\x00-\x20\x7f-\x9f\ud800-\udfff\ufffe\uffff\u2028\u2029]")


def safe_href(url: str | None) -> str | None:
    """Only http(s) URLs become links; anything else (javascript:, data:, an address holding a
    control character or white space) stays text."""
    if not url or _NOT_IN_HREF.search(url):
        return None
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:
        return None
    return url if scheme in ("http", "https") else None
