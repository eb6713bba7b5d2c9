"""Hard caps on the work one page or one search can cause (``[limits]`` in config.toml), with
their defaults. Plain data: the pure stages and the runner read them; the spider is handed the
numbers it needs in its plan.

Each cap, when hit, is a clear one-line failure of that one target (or a warning line for a
search), never a crash and never a silent truncation:

* ``body_blocks`` — blocks of text one page may have. A page of a million tiny paragraphs took
  244 s and 1.47 GB to read; the markup is now measured before it is parsed (at most
  TAGS_PER_BLOCK tags per block allowed), and the blocks counted after.
* ``attachments`` — attachments one page may list; a page listing more downloads none of them.
* ``diff_work`` — comparison steps for one page's text; past it, the text is compared as a set
  of paragraphs (linear), and the entry says so.
* ``new_targets`` — new targets one ``[[discover]]`` entry may add in one run after its first
  (silent) run, which may track up to its ``max_results``.
"""

from __future__ import annotations

from dataclasses import dataclass

# Tags ("<" characters) allowed per block before a page is parsed at all: generous for real
# pages (a paragraph with links and emphasis), a bound on what parsing can cost.
TAGS_PER_BLOCK = 20


@dataclass(frozen=True)
class PageLimits:
    body_blocks: int = 20_000
    attachments: int = 200
    diff_work: int = 200_000_000
    new_targets: int = 50

    @property
    def body_tags(self) -> int:
        """The most tags a page may hold to be parsed at all."""
        return self.body_blocks * TAGS_PER_BLOCK
