"""Small helpers for the words people read: one-line titles, status tables."""

from __future__ import annotations


def shorten(text: str, limit: int) -> str:
    """White space collapsed, and cut at ``limit`` characters with an ellipsis."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def sentence(phrase: str) -> str:
    """ "paragraph added" → "Paragraph added." """
    text = phrase[:1].upper() + phrase[1:]
    return text if text.endswith((".", "!", "?")) else text + "."
