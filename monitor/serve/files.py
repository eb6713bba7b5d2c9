"""Which file a request path names, if it is one dfe-monitor published: the feeds and what is
in the pages folder, nothing else (not the database or config.toml beside them).

URL paths are paths under the folder that holds all of them (``/feed.atom``,
``/changes/index.html`` for the defaults). A path is refused when any segment, once decoded, is
``.`` or ``..``, holds a slash, a backslash or a NUL, or when the file it resolves to (symlinks
followed) lies outside the published files.
"""

from __future__ import annotations

import mimetypes
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

CONTENT_TYPES = {
    ".atom": "application/atom+xml; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".json": "application/json",
    ".txt": "text/plain; charset=utf-8",
}


class Refused(Exception):
    """The path is malformed or tries to leave the published files (answered 404 or 400)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


@dataclass(frozen=True)
class Published:
    base: Path  # the folder URL paths start from
    feeds: tuple[Path, ...]  # each feed file (resolved)
    pages: Path | None  # the pages folder (resolved)

    @classmethod
    def of(cls, feeds: Sequence[Path], pages: Path | None) -> Published:
        resolved = [Path(os.path.realpath(f)) for f in feeds]
        folders = [f.parent for f in resolved] + ([Path(os.path.realpath(pages))] if pages else [])
        base = Path(os.path.commonpath([str(f) for f in folders]))
        return cls(base=base, feeds=tuple(resolved), pages=Path(os.path.realpath(pages)) if pages else None)

    def url_of(self, path: Path) -> str:
        """The URL path of a published file or folder."""
        relative = Path(os.path.realpath(path)).relative_to(self.base).as_posix()
        return "/" + ("" if relative == "." else relative)

    def file_for(self, url_path: str) -> Path:
        """The published file ``url_path`` names; Refused otherwise."""
        raw = url_path.split("?", 1)[0].split("#", 1)[0]
        if not raw.startswith("/"):
            raise Refused(400, "the path must start with /")
        segments = [unquote(part, errors="strict") for part in raw.split("/")[1:]]
        directory = segments[-1] == "" if segments else True
        parts = [s for s in segments if s != ""]
        for part in parts:
            if part.startswith(".") or any(c in part for c in "/\\\x00"):  # "..", hidden files
                raise Refused(404, "no such published file")
        candidate = self.base.joinpath(*parts)
        if directory or candidate.is_dir():
            candidate = candidate / "index.html"
        real = Path(os.path.realpath(candidate))
        if not (real in self.feeds or (self.pages is not None and _inside(real, self.pages))):
            raise Refused(404, "no such published file")
        if not real.is_file():
            raise Refused(404, "no such published file")
        return real


def _inside(path: Path, folder: Path) -> bool:
    return os.path.commonpath([str(path), str(folder)]) == str(folder) and path != folder


def content_type(path: Path) -> str:
    known = CONTENT_TYPES.get(path.suffix.lower())
    if known:
        return known
    guessed, _ = mimetypes.guess_type(path.name)
    return guessed or "application/octet-stream"
