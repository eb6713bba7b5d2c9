"""The real GOV.UK content items in tests/fixtures/govuk, as tests use them: loaded, copied for
mutation, and moved onto a local fixture server (every GOV.UK and asset-host address rewritten
to ``{{base}}``, which the server fills in)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent / "fixtures" / "govuk"
GOVUK = "https://www.gov.uk"
HOSTS = ("https://assets.publishing.service.gov.uk", "https://www.gov.uk", "http://www.dev.gov.uk", "https://assets.digital.cabinet-office.gov.uk")


def all_items() -> list[Path]:
    return sorted(FIXTURES.glob("*/*.json"))


def load(name: str) -> dict[str, Any]:
    """A fresh copy of ``<schema>/<file>`` (without ``.json``), safe to mutate."""
    return copy.deepcopy(json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8")))


def localised(item: dict[str, Any]) -> str:
    """The item's JSON with every GOV.UK address pointing at the fixture server."""
    text = json.dumps(item, ensure_ascii=False, indent=1)
    for host in HOSTS:
        text = text.replace(host, "{{base}}")
    return text
