"""[[feeds]], [feed] pages_url and [notify]: defaults, and every mistake one line naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.config import load_config, parse_config
from monitor.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]
TARGET = '[[targets]]\nname = "x"\nurl = "https://www.gov.uk/government/publications/x"\n'


def parse(text: str):
    return parse_config(text + "\n" + TARGET, Path("config.toml"))


def error_of(text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        parse(text)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_the_contract_keys_parse():
    config = parse(
        """
[feed]
pages_dir = "public/changes"
pages_url = "https://example.org/dfe-monitor/changes/"

[[feeds]]
path = "public/privacy-notices.atom"
title = "DfE privacy notices: changes"
url = "https://example.org/dfe-monitor/privacy-notices.atom"
categories = ["privacy-notice"]
priority = "high"
silent_only = true
kinds = ["changed", "new"]

[notify]
when = "high"
digest = false
email_to = ["campaign@example.org"]
email_from = "dfe-monitor@example.org"
smtp_host = "localhost"
smtp_port = 587
smtp_security = "starttls"
smtp_user = ""
smtp_password_env = "DFE_MONITOR_SMTP_PASSWORD"
apprise_urls = ["json://127.0.0.1:9000/hook"]
"""
    )
    assert config.feed.pages_url == "https://example.org/dfe-monitor/changes/"
    (feed,) = config.feeds
    assert (feed.categories, feed.priority, feed.silent_only, feed.kinds) == (["privacy-notice"], "high", True, ["changed", "new"])
    assert config.notify.email_to == ["campaign@example.org"]
    assert config.notify.apprise_urls == ["json://127.0.0.1:9000/hook"]


def test_every_feed_key_but_path_has_a_default():
    (feed,) = parse('[[feeds]]\npath = "x.atom"\n').feeds
    assert (feed.title, feed.url, feed.categories, feed.priority, feed.silent_only, feed.kinds) == ("", "", [], None, False, None)
    assert error_of("[[feeds]]\ntitle = 't'\n") == "config.toml:1: [[feeds]] #1 path: missing required key 'path' (where this feed is written (relative to config.toml))"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('categories = ["privacy-notices"]', "[[feeds]] #1 categories: expected one of release-register, privacy-notice, census-guidance, other, got 'privacy-notices'; did you mean 'privacy-notice'?"),
        ('priority = "urgent"', "[[feeds]] #1 priority: expected one of high, normal, got 'urgent'"),
        ('kinds = ["chnged"]', "[[feeds]] #1 kinds: expected one of changed, withdrawn, new, moved, removed, restored, failing, recovered, got 'chnged'; did you mean 'changed'?"),
        ('url = "ftp://example.org/x.atom"', "[[feeds]] #1 url: expected an http(s) URL, got 'ftp://example.org/x.atom'"),
        ("silent_only = 1", "[[feeds]] #1 silent_only: expected true or false, got a number (1)"),
    ],
)
def test_feed_mistakes_name_the_feed_and_key(body, expected):
    message = error_of(f'[[feeds]]\npath = "x.atom"\n{body}\n')
    assert message == f"config.toml:3: {expected}"


def test_two_feeds_in_one_file_are_refused():
    assert error_of('[[feeds]]\npath = "a.atom"\n[[feeds]]\npath = "a.atom"\n') == "config.toml:4: [[feeds]] #2 path: same path as feed #1"
    assert error_of('[[feeds]]\npath = "public/feed.atom"\n') == "config.toml:2: [[feeds]] #1 path: same path as feed.path; give this feed its own file"


def test_pages_url_must_be_http_or_empty():
    assert parse("[feed]\npages_url = ''\n").feed.pages_url == ""
    assert error_of("[feed]\npages_url = 'javascript:alert(1)'\n").startswith("config.toml:2: [feed] pages_url: expected an http(s) URL")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('when = "urgent"', "[notify] when: expected one of all, high, silent, got 'urgent'"),
        ('smtp_security = "ssl"', "[notify] smtp_security: expected one of starttls, tls, none, got 'ssl'"),
        ("smtp_port = 0", "[notify] smtp_port: must be at least 1, got 0"),
        ('email_to = ["Campaign <c@example.org>"]', "[notify] email_to: expected an e-mail address like \"campaign@example.org\", got 'Campaign <c@example.org>'"),
        ('email_from = "nobody"', "[notify] email_from: expected an e-mail address like \"campaign@example.org\", got 'nobody'"),
        ('smtp_password_env = "MY PASSWORD"', "[notify] smtp_password_env: expected the name of an environment variable (letters, digits, _), got 'MY PASSWORD'"),
        ('smtp_password = "hunter2"', "[notify] smtp_password: the SMTP password is never stored in config.toml; put it in the environment variable named by smtp_password_env"),
        ('apprise_urls = ["slack"]', "[notify] apprise_urls: apprise_urls[0] is not a URL (expected e.g. \"slack://…\" or \"json://host/path\")"),
        ('apprise_urls = ["nosuchservice://x/y"]', "[notify] apprise_urls: apprise_urls[0]: Apprise does not understand this URL (scheme 'nosuchservice'); see the Apprise wiki for its form"),
    ],
)
def test_notify_mistakes_are_one_line_naming_the_key(body, expected):
    message = error_of(f"[notify]\n{body}\n")
    assert message == f"config.toml:2: {expected}"
    assert "hunter2" not in message


def test_shipped_configs_have_a_feed_per_category_and_silent_and_high():
    config = load_config(ROOT / "config.toml")
    assert config.feed.pages_dir and config.feed.pages_url
    categories = sorted(c for f in config.feeds for c in f.categories)
    assert categories == ["census-guidance", "other", "privacy-notice", "release-register"]
    assert [f.path for f in config.feeds if f.silent_only] == ["public/silent-edits.atom"]
    assert [f.path for f in config.feeds if f.priority == "high"] == ["public/high-priority.atom"]
    demo = (ROOT / "monitor" / "demo" / "config.toml").read_text(encoding="utf-8")
    assert demo.count("[[feeds]]") == 6 and "silent_only = true" in demo and 'priority = "high"' in demo
