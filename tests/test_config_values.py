"""config.toml values that used to be accepted and then broke a run, or worse, did not.

Each mistake must be a ConfigError (exit code 2) of one line naming file, line and key.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic.fields import FieldInfo

from monitor.config import ARRAYS, SECTIONS, parse_config
from monitor.errors import EXIT_USAGE, ConfigError

TARGET = '[[targets]]\nname = "x"\nurl = "https://www.gov.uk/government/publications/x"\n'


def error_of(text: str, path: Path = Path("config.toml")) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, path)
    message = str(caught.value)
    assert "\n" not in message
    assert caught.value.exit_code == EXIT_USAGE
    return message


def table(section: str, body: str) -> str:
    """A minimal valid file with ``body`` in [section] (line 2 is its first key)."""
    return f"[{section}]\n{body}\n{TARGET}"


# -- numbers --------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "+nan"])
@pytest.mark.parametrize("setting", ["fetch.timeout_seconds", "fetch.delay_seconds", "fetch.backoff_seconds", "fetch.max_retry_after_seconds", "extract.timeout_seconds"])
def test_numbers_must_be_finite(setting, value):
    section, key = setting.split(".")
    message = error_of(table(section, f"{key} = {value}"))
    assert message.startswith(f"config.toml:2: [{section}] {key}: must be a finite number, got ")


MAXIMA = {
    "fetch.retries": (10, "9223372036854775807"),
    "fetch.timeout_seconds": (3600, "3600.5"),
    "fetch.delay_seconds": (3600, "7200"),
    "fetch.backoff_seconds": (3600, "86400"),
    "fetch.max_bytes": (2 * 1024**3, str(2 * 1024**3 + 1)),
    "fetch.max_retry_after_seconds": (86400, "86401"),
    "health.failing_after": (1000, "1001"),
    "health.gone_after": (1000, "1000000"),
    "extract.timeout_seconds": (3600, "3601"),
    "extract.memory_mb": (65536, "65537"),
    "feed.max_entries": (100_000, "100001"),
}


@pytest.mark.parametrize("setting", sorted(MAXIMA))
def test_numbers_have_sane_maxima(setting):
    section, key = setting.split(".")
    maximum, too_big = MAXIMA[setting]
    message = error_of(table(section, f"{key} = {too_big}"))
    assert message.startswith(f"config.toml:2: [{section}] {key}: must be at most {maximum}, got ")
    config = parse_config(table(section, f"{key} = {maximum}"), Path("config.toml"))
    assert getattr(getattr(config, section), key) == maximum


def test_discover_max_results_is_capped_like_the_search_api():
    entry = '[[discover]]\nquery = "school census"\nmax_results = {}\n'
    message = error_of(entry.format(1501))
    assert message == "config.toml:3: [[discover]] #1 max_results: must be at most 1500, got 1501"
    assert parse_config(entry.format(1500), Path("config.toml")).discover[0].max_results == 1500


def test_a_whole_number_is_not_a_float_and_a_boolean_is_not_a_number():
    assert "expected a whole number, got a number (3.0)" in error_of(table("fetch", "retries = 3.0"))
    assert "expected a number, got a boolean (True)" in error_of(table("fetch", "timeout_seconds = true"))


# -- URLs -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    ["https://www.gov.uk/mirror?x=1", "https://www.gov.uk/#top", "https://www.gov.uk?", "https://www.gov.uk/mirror#"],
)
def test_the_site_address_has_no_query_or_fragment(url):
    message = error_of(table("govuk", f'base_url = "{url}"'))
    assert message.startswith("config.toml:2: [govuk] base_url: must be a site address without a query or fragment")
    assert "write 'https://www.gov.uk" in message


@pytest.mark.parametrize("url", ["https://user@www.gov.uk", "https://user:secret@www.gov.uk/", "https://www.gov.uk:443@www.gov.uk"])
def test_the_site_address_has_no_user_name_or_password(url):
    message = error_of(table("govuk", f'base_url = "{url}"'))
    assert message.startswith("config.toml:2: [govuk] base_url: must not contain a user name or password")
    assert "secret" not in message


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("https://www.gov.uk@evil.example/", "evil.example"),
        ("https://www.gov.uk:pw@evil.example/government/x", "evil.example"),
        ("https://someone@www.gov.uk/government/x", "www.gov.uk"),
        ("https://evil.example@www.gov.uk/government/x", "www.gov.uk"),
    ],
)
def test_target_urls_have_no_user_name_or_password(url, host):
    message = error_of(f'[[targets]]\nname = "x"\nurl = "{url}"\n')
    assert message.startswith("config.toml:3: [[targets]] #1 url: must not contain a user name or password")
    assert f"names the host {host!r}" in message


def test_feed_url_has_no_user_name_or_password():
    assert "[feed] url: must not contain a user name or password" in error_of(table("feed", 'url = "https://me:pw@example.org/feed.atom"'))


def test_a_port_that_is_not_a_number_is_an_error_not_a_crash():
    message = error_of('[[targets]]\nname = "x"\nurl = "https://www.gov.uk:99999/x"\n')
    assert message.startswith("config.toml:3: [[targets]] #1 url: expected an http(s) URL")


@pytest.mark.parametrize("zone", ["Europe", "Europe/", "A" * 300, "../../etc/passwd"])
def test_a_time_zone_that_is_a_folder_or_too_long_is_unknown_not_a_crash(zone):
    message = error_of(table("schedule", f'timezone = "{zone}"'))
    assert message.startswith("config.toml:2: [schedule] timezone: unknown time zone ")


def test_a_long_crontab_error_stays_short():
    message = error_of(table("schedule", f'cron = "1-{"9" * 500} * * * *"'))
    assert message.startswith("config.toml:2: [schedule] cron: invalid crontab ")
    assert len(message) < 320


# -- control characters in every string setting -----------------------------------------------


def string_settings() -> list[tuple[str, str, bool]]:
    """(table, key, is a list) of every setting that holds text."""
    found = []
    for name, model in [*SECTIONS.items(), *ARRAYS.items()]:
        for key, field in model.model_fields.items():
            kind = _kind(field)
            if kind in ("str", "list"):
                found.append((name, key, kind == "list"))
    return found


def _kind(field: FieldInfo) -> str:
    annotation = repr(field.annotation)
    if annotation.startswith("list["):
        return "list"
    return "str" if "str" in annotation else "other"


def test_every_text_setting_is_found():
    names = {f"{table}.{key}" for table, key, _ in string_settings()}
    assert {"storage.database", "feed.title", "govuk.base_url", "fetch.user_agent", "fetch.allowed_hosts", "alerts.terms", "targets.name", "targets.row_key", "discover.query", "discover.document_type"} <= names


@pytest.mark.parametrize("char", ["\\u0000", "\\u0007", "\\n", "\\u001b", "\\u007f", "\\u0085", "\\u2028"])
@pytest.mark.parametrize(("name", "key", "is_list"), string_settings(), ids=lambda v: str(v))
def test_no_control_characters_in_any_text_setting(name, key, is_list, char):
    value = f'"a{char}b"'
    value = f"[{value}]" if is_list else value
    if name in ARRAYS:
        required = {"targets": {"name": '"x"', "url": '"https://www.gov.uk/x"'}, "discover": {"query": '"q"'}, "feeds": {"path": '"x.atom"'}}[name]
        lines = [f"{k} = {v}" for k, v in {**required, key: value}.items()]
        text = f"[[{name}]]\n" + "\n".join(lines) + "\n" + (TARGET if name == "feeds" else "")
        label = f"[[{name}]] #1 {key}"
    else:
        text = table(name, f"{key} = {value}")
        label = f"[{name}] {key}"
    message = error_of(text)
    assert f": {label}: contains a control character (" in message, message
    assert message.isprintable()


def test_names_with_control_characters_stay_on_one_line():
    message = error_of(table("fetch", '"time\\nout" = 5'))
    assert message.startswith("config.toml:")
    assert ": [fetch] 'time\\nout': unknown key; did you mean 'timeout_seconds'?" in message
    assert message.isprintable()


def test_a_long_value_is_shortened_in_the_message():
    message = error_of(table("schedule", f'timezone = "{"Europe/" * 10000}"'))
    assert "unknown time zone" in message
    assert len(message) < 300


# -- storage -----------------------------------------------------------------------------------


def test_a_database_that_is_a_folder_is_an_error_naming_the_key(tmp_path):
    (tmp_path / "data").mkdir()
    message = error_of(table("storage", 'database = "data"'), tmp_path / "config.toml")
    assert message == f"{tmp_path / 'config.toml'}:2: [storage] database: 'data' is a folder; name a file in it, e.g. 'data/monitor.db'"


def test_a_lock_file_or_feed_that_is_a_folder_is_an_error(tmp_path):
    (tmp_path / "public").mkdir()
    assert "[storage] lock_file: 'public' is a folder" in error_of(table("storage", 'lock_file = "public"'), tmp_path / "config.toml")
    assert "[feed] path: 'public' is a folder" in error_of(table("feed", 'path = "public"'), tmp_path / "config.toml")


def test_a_sqlite_url_naming_a_folder_is_an_error(tmp_path):
    message = error_of(table("storage", f'database = "sqlite:///{tmp_path.as_posix()}"'), tmp_path / "config.toml")
    assert "[storage] database:" in message
    assert "is a folder" in message


@pytest.mark.skipif(importlib.util.find_spec("psycopg") is not None, reason="psycopg is installed here")
def test_a_database_url_whose_driver_is_missing_says_what_to_install():
    message = error_of(table("storage", 'database = "postgresql+psycopg://monitor@db.internal/monitor"'))
    assert message == "config.toml:2: [storage] database: the driver for 'postgresql+psycopg' is not installed; install it with `pip install psycopg`"


@pytest.mark.skipif(importlib.util.find_spec("MySQLdb") is not None, reason="mysqlclient is installed here")
def test_the_package_named_is_the_one_pip_knows():
    assert "`pip install mysqlclient`" in error_of(table("storage", 'database = "mysql://monitor@db.internal/monitor"'))


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("nosuchdb://host/db", "unknown database dialect 'nosuchdb'"),
        ("postgresql+nosuchdriver://host/db", "unknown database dialect 'postgresql+nosuchdriver'"),
        ("sqlite+aiosqlite:///data/x.db", "'sqlite+aiosqlite' is an asyncio driver"),
        ("postgresql://host:notaport/db", "not a valid SQLAlchemy database URL"),
    ],
)
def test_database_urls_sqlalchemy_cannot_use_are_configuration_errors(url, expected):
    message = error_of(table("storage", f'database = "{url}"'))
    assert message.startswith("config.toml:2: [storage] database: ")
    assert expected in message


def test_an_sqlite_url_is_accepted(tmp_path):
    config = parse_config(table("storage", f'database = "sqlite:///{(tmp_path / "x.db").as_posix()}"'), tmp_path / "config.toml")
    assert config.database_url.endswith("x.db")
    assert not (tmp_path / "x.db").exists()


def test_the_command_line_exits_2_for_a_missing_driver(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(table("storage", 'database = "nosuchdb://host/db"'))
    result = subprocess.run([sys.executable, "-m", "monitor", "status", "--config", str(config)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [f"dfe-monitor: {config}:2: [storage] database: unknown database dialect 'nosuchdb'; use a plain path for SQLite or a SQLAlchemy URL such as \"postgresql+psycopg://...\""]
