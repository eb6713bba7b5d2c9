"""Writes small GOV.UK-shaped fixture sites for scenario tests (served by FixtureServer).

Content API items carry GOV.UK's volatile fields as placeholders (``updated_at`` = ``{{now}}``,
``publishing_request_id`` = ``{{request_id}}``) so every request differs in its noise, as on the
real site.
"""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path
from typing import Any

DFE = {
    "analytics_identifier": "D6",
    "api_path": "/api/organisations/department-for-education",
    "base_path": "/government/organisations/department-for-education",
    "content_id": "ebd15ade-73b2-4eaf-b1c3-43034a42eb37",
    "title": "Department for Education",
    "document_type": "organisation",
}


def content_id_for(path: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, path))


class State:
    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def item(
        self,
        path: str,
        *,
        title: str,
        body: str = "<p>Body text.</p>",
        schema: str = "publication",
        document_type: str | None = None,
        description: str = "",
        change_history: list[tuple[str, str]] | None = None,
        attachments: list[dict[str, Any]] | None = None,
        public_updated_at: str = "2026-01-10T09:30:00.000+00:00",
        withdrawn: dict[str, str] | None = None,
        parent: str | None = None,
        details: dict[str, Any] | None = None,
        links: dict[str, Any] | None = None,
        volatile: bool = True,
    ) -> dict[str, Any]:
        item_details: dict[str, Any] = {"body": f'<div class="govspeak">{body}</div>'}
        if change_history is not None:
            item_details["change_history"] = [{"public_timestamp": ts, "note": note} for ts, note in change_history]
        if attachments is not None:
            item_details["attachments"] = attachments
            item_details["featured_attachments"] = [a["id"] for a in attachments]
        item_details.update(details or {})
        item_links: dict[str, Any] = {"organisations": [DFE], "primary_publishing_organisation": [DFE]}
        if parent:
            item_links["parent"] = [{"base_path": parent, "content_id": content_id_for(parent), "title": "Parent", "document_type": "publication"}]
        item_links.update(links or {})
        item: dict[str, Any] = {
            "base_path": path,
            "content_id": content_id_for(path),
            "title": title,
            "description": description,
            "document_type": document_type or schema,
            "schema_name": schema,
            "locale": "en",
            "first_published_at": "2025-06-01T09:30:00.000+01:00",
            "public_updated_at": public_updated_at,
            "updated_at": "{{now}}" if volatile else "2026-01-10T09:31:02.000+00:00",
            "publishing_request_id": "{{request_id}}" if volatile else "2a6a2f7c-0d3c-4f63-9b8e-1f4a9b0c2d11",
            "details": item_details,
            "links": item_links,
        }
        if withdrawn:
            item["withdrawn_notice"] = withdrawn
        self.write(f"api/content{path}.json", json.dumps(item, indent=1, ensure_ascii=False))
        return item

    def page(self, path: str, html: str) -> None:
        self.write(f"{path.lstrip('/')}.html", html)

    def file(self, path: str, data: bytes) -> None:
        target = self.root / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)

    def write(self, rel: str, text: str) -> None:
        target = self.root / rel.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")

    def remove(self, rel: str) -> None:
        (self.root / rel.lstrip("/")).unlink()

    def routes(self, routes: dict[str, Any]) -> None:
        self.write("_routes.json", json.dumps(routes))

    def search(self, results: list[dict[str, Any]]) -> None:
        self.write("api/search.json", json.dumps({"results": results, "total": len(results), "start": 0}))

    def robots(self, text: str = "User-agent: *\nDisallow: /*/print$\nDisallow: /search/all*\n") -> None:
        self.write("robots.txt", text)


class Site:
    def __init__(self, root: Path) -> None:
        self.root = root

    def state(self, name: str) -> State:
        return State(self.root / name)

    def copy_state(self, source: str, dest: str) -> State:
        if (self.root / dest).exists():
            shutil.rmtree(self.root / dest)
        shutil.copytree(self.root / source, self.root / dest)
        return State(self.root / dest)


def attachment(asset: str, filename: str, title: str, size: int, content_type: str, base: str = "{{base}}") -> dict[str, Any]:
    return {
        "attachment_type": "file",
        "id": asset,
        "title": title,
        "url": f"{base}/media/{asset}/{filename}",
        "filename": filename,
        "content_type": content_type,
        "file_size": size,
    }


def config_text(base_url: str, targets: list[tuple[str, str, str]], *, discover: list[dict[str, Any]] | None = None, extra: str = "") -> str:
    """A config.toml for a local site: targets are (name, path, category)."""
    lines = [
        "[storage]",
        'database = "monitor.db"',
        "[feed]",
        'path = "feed.atom"',
        'url = "https://example.org/dfe-monitor/feed.atom"',
        "[govuk]",
        f'base_url = "{base_url}"',
        "[fetch]",
        'allowed_hosts = ["127.0.0.1"]',
        "timeout_seconds = 5",
        "delay_seconds = 0",
        "retries = 1",
        "backoff_seconds = 0.1",
        extra,
    ]
    for name, path, category in targets:
        lines += ["[[targets]]", f'name = "{name}"', f'url = "{base_url}{path}"', f'category = "{category}"']
    for entry in discover or []:
        lines.append("[[discover]]")
        lines += [f"{k} = {json.dumps(v)}" for k, v in entry.items()]
    return "\n".join(lines) + "\n"


def read_changes(config_path: Path) -> list[dict[str, Any]]:
    """What `dfe-monitor changes --json` prints, read in-process (saves a child process)."""
    from monitor.config import load_config
    from monitor.record.connect import open_database
    from monitor.research.records import change_record
    from storage import queries

    db = open_database(load_config(config_path))
    try:
        with db.read() as session:
            return [change_record(change, target) for change, target in queries.filter_changes(session, queries.ChangeFilter())]
    finally:
        db.dispose()
