"""Renderings kept between runs, so a run that finds nothing new does not render again the
hundreds of entries and change pages it published last time.

A stored change never changes, so its HTML only changes when the entry data (its page URL,
its target's name, its sources) or the rendering code does. The cache key is a hash of both:
the entry's full data and a fingerprint of the rendering code (``monitor/publish/`` and the word
diff of ``monitor/compare/``), so an upgrade re-renders everything. The cache is one JSON file
beside the main feed holding only what the last publish used; it is disposable: a missing,
damaged or foreign file is an empty cache, and losing it costs one full render.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Callable
from functools import cache
from pathlib import Path

from monitor import __version__
from monitor.errors import StorageError
from monitor.publish.files import write_atomically

FORMAT = 1
MAX_CACHE_BYTES = 64 * 1024 * 1024  # a bigger file is not ours (or not worth reading)


@cache
def code_fingerprint() -> str:
    """A hash of the code that renders: every module and template of this package and of
    ``monitor/compare/`` (whose word diff and wording the entries use), and the version."""
    here = Path(__file__).resolve().parent
    digest = hashlib.sha256(f"format {FORMAT} {__version__}".encode())
    for path in sorted([*here.glob("*.py"), *(here / "templates").glob("*.html"), *(here.parent / "compare").glob("*.py")]):
        digest.update(f"{path.parent.name}/{path.name}".encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def cache_path(feed_path: Path) -> Path:
    return feed_path.with_name(f".{feed_path.name}.render-cache.json")


class RenderCache:
    """``html(kind, data, render)``: the cached HTML of ``render()`` for ``(kind, data)``."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._old: dict[str, str] = self._load(path) if path is not None else {}
        self._used: dict[str, str] = {}
        self.hits = 0
        self.misses = 0

    @staticmethod
    def _load(path: Path) -> dict[str, str]:
        try:
            if not path.is_file() or path.stat().st_size > MAX_CACHE_BYTES:
                return {}
            data = json.loads(path.read_bytes())
        except (OSError, ValueError):
            return {}
        if not isinstance(data, dict) or data.get("code") != code_fingerprint() or not isinstance(data.get("html"), dict):
            return {}
        return {k: v for k, v in data["html"].items() if isinstance(k, str) and isinstance(v, str)}

    def key(self, kind: str, data: object) -> str:
        return hashlib.sha256(f"{kind}\0{data!r}".encode()).hexdigest()

    def html(self, kind: str, data: object, render: Callable[[], str], *, key: str | None = None) -> str:
        """``key``: ``self.key(kind, data)`` when the caller has it already."""
        key = key or self.key(kind, data)
        found = self._used.get(key)
        if found is None:
            found = self._old.get(key)
            if found is None:
                self.misses += 1
                found = render()
            else:
                self.hits += 1
            self._used[key] = found
        return found

    def save(self) -> None:
        """Keep what this publish used (and nothing older); a failure only costs speed."""
        if self.path is None or (self.misses == 0 and self._used.keys() == self._old.keys()):
            return
        data = json.dumps({"code": code_fingerprint(), "html": self._used}, ensure_ascii=False, separators=(",", ":"))
        try:
            write_atomically(self.path, data.encode("utf-8"), what="render cache")
        except StorageError:  # the cache only saves time; what was published is written
            with contextlib.suppress(OSError):
                self.path.unlink(missing_ok=True)
