"""The one template environment that turns prepared data into HTML, escaping every value.

Python code decides what to show (which text is a link, what was clipped, how much is left
out) and hands the templates plain data; the templates only lay it out. Autoescaping is on
for every template, so a scraped string can never become markup, and every printed value
first loses the characters XML cannot carry (the same HTML goes into the Atom feed).
"""

from __future__ import annotations

import contextlib
import re
from functools import cache
from typing import Any

from jinja2 import Environment, FileSystemBytecodeCache, PackageLoader, StrictUndefined
from jinja2.bccache import Bucket
from markupsafe import Markup

from monitor.publish.safety import xml_safe
from monitor.publish.styles import STYLES

# markupsafe writes ' and " as &#39; and &#34;; the feed has always carried html.escape's
# spellings, kept so published text compares equal across versions. Every & in a value is
# escaped first, so these sequences in the output can only be references the escaper wrote.
_REFERENCE_SPELLING = {"&#39;": "&#x27;", "&#34;": "&quot;"}
_REFERENCES = re.compile("|".join(map(re.escape, _REFERENCE_SPELLING)))


def _printable(value: Any) -> Any:
    """What a ``{{ value }}`` prints before it is escaped: XML-safe text.

    Output of a template (a macro call) passes through; anything else is turned into text
    here, so nothing but a template can hand markup to the page.
    """
    if isinstance(value, Markup):
        return value
    return xml_safe(str(value))


class _KeptCompiled(FileSystemBytecodeCache):
    """Templates compiled once and kept between runs (~50 ms a run that renders anything), in
    Jinja's own per-user directory under the temporary directory, which it refuses unless it is
    the user's own and closed to everyone else. Entries are keyed by the template's source and
    the Python version. A cache that cannot be read or written is not used: templates are then
    compiled as if there were none."""

    def load_bytecode(self, bucket: Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except Exception:  # noqa: BLE001 - a damaged entry: compile afresh
            bucket.reset()

    def dump_bytecode(self, bucket: Bucket) -> None:
        with contextlib.suppress(OSError):
            super().dump_bytecode(bucket)


def _bytecode_cache() -> FileSystemBytecodeCache | None:
    try:
        return _KeptCompiled()
    except (OSError, RuntimeError):  # no private temporary directory to be had
        return None


@cache
def environment() -> Environment:
    """Built once per process: templates are compiled on first use and then reused."""
    env = Environment(
        loader=PackageLoader("monitor.publish", "templates"),
        bytecode_cache=_bytecode_cache(),
        autoescape=True,
        undefined=StrictUndefined,
        finalize=_printable,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["S"] = STYLES  # inline styles by role: ``style="{{ S.ins }}"``
    return env


def render(template: str, **context: Any) -> str:
    """The named template filled in with ``context``, as HTML text."""
    html = environment().get_template(template).render(**context)
    return _REFERENCES.sub(lambda m: _REFERENCE_SPELLING[m.group()], html)
