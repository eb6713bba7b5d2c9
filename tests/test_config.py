"""config.toml: defaults, validation, and one-line errors naming file, line and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.config import SECTIONS, load_config, parse_config
from monitor.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]

MINIMAL = """
[govuk]
base_url = "https://www.gov.uk"

[[targets]]
name = "DfE external data shares"
url = "https://www.gov.uk/government/publications/dfe-external-data-shares"
category = "release-register"
"""


def parse(text: str, name: str = "config.toml"):
    return parse_config(text, Path(name))


def error_of(text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        parse(text)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_shipped_config_loads_with_the_default_targets():
    config = load_config(ROOT / "config.toml")
    urls = [t.url for t in config.targets]
    assert "https://www.gov.uk/government/publications/dfe-external-data-shares" in urls
    assert "https://www.gov.uk/guidance/complete-the-school-census" in urls
    assert len(urls) == len(set(urls)) >= 14
    assert {t.category for t in config.targets} == {"release-register", "privacy-notice", "census-guidance"}
    assert [d.query for d in config.discover] == ["national pupil database", "school census", "privacy information"]
    assert config.feed.path == "public/feed.atom"
    assert config.fetch.delay_seconds == 1.0


def test_defaults_fill_every_section():
    config = parse(MINIMAL)
    for section, model in SECTIONS.items():
        for key, field in model.model_fields.items():
            default = field.get_default(call_default_factory=True)
            value = getattr(getattr(config, section), key)
            assert value == default, f"{section}.{key}"
            assert type(value) is type(default) is type(model.model_validate({key: default}).__dict__[key]), f"{section}.{key}"
    assert config.fetch.allowed_hosts == ["www.gov.uk", "assets.publishing.service.gov.uk"]
    assert config.targets[0].selector == "main#content"


def test_relative_paths_are_relative_to_the_config_file(tmp_path):
    path = tmp_path / "sub" / "config.toml"
    path.parent.mkdir()
    path.write_text(MINIMAL)
    config = load_config(path)
    assert config.database_url == f"sqlite:///{tmp_path / 'sub' / 'data' / 'monitor.db'}"
    assert config.feed_path == tmp_path / "sub" / "public" / "feed.atom"
    assert config.lock_path == tmp_path / "sub" / "data" / "monitor.db.lock"


def test_unknown_key_names_file_line_and_suggests():
    message = error_of(MINIMAL + '\n[fetch]\ntimout_seconds = 5\n')
    assert message.startswith("config.toml:11: [fetch] timout_seconds: unknown key")
    assert "did you mean 'timeout_seconds'?" in message


def test_unknown_key_in_a_target_names_which_target():
    message = error_of(MINIMAL + '\n[[targets]]\nname = "x"\nurll = "https://www.gov.uk/x"\n')
    assert message == "config.toml:12: [[targets]] #2 urll: unknown key; did you mean 'url'?"


def test_unknown_section():
    assert "unknown section or key 'fetchh'; did you mean 'fetch'?" in error_of(MINIMAL + "\n[fetchh]\nx = 1\n")


def test_wrong_type_says_what_was_expected():
    message = error_of(MINIMAL + '\n[fetch]\ntimeout_seconds = "thirty"\n')
    assert "[fetch] timeout_seconds: expected a number, got a string ('thirty')" in message
    assert message.startswith("config.toml:11:")


def test_out_of_range_value():
    assert "must be at least 0" in error_of(MINIMAL + "\n[fetch]\ndelay_seconds = -1\n")


@pytest.mark.parametrize(
    "url",
    ["file:///etc/passwd", "javascript:alert(1)", "https://evil.example.com/x", "ftp://www.gov.uk/x"],
)
def test_target_urls_outside_allowed_hosts_are_rejected(url):
    message = error_of(f'[[targets]]\nname = "x"\nurl = "{url}"\n')
    assert message.startswith("config.toml:3: [[targets]] #1 url:")


def test_duplicate_targets_are_rejected():
    text = MINIMAL + '\n[[targets]]\nname = "Again"\nurl = "https://WWW.gov.uk/government/publications/dfe-external-data-shares/"\n'
    assert "duplicate target: same URL as target #1" in error_of(text)


def test_bad_category_and_cron_and_timezone():
    assert "expected one of release-register" in error_of(MINIMAL.replace('"release-register"', '"register"'))
    assert "5-field crontab" in error_of(MINIMAL + '\n[schedule]\ncron = "every day"\n')
    assert "unknown time zone" in error_of(MINIMAL + '\n[schedule]\ntimezone = "Mars/Olympus"\n')


def test_invalid_toml_is_one_line():
    assert "not valid TOML" in error_of("[fetch\n")


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="configuration file not found"):
        load_config(tmp_path / "nope.toml")


def test_nothing_to_watch():
    assert "nothing to watch" in error_of("[feed]\ntitle = 'x'\n")


def test_local_mirror_with_port():
    text = (
        '[govuk]\nbase_url = "http://127.0.0.1:8123"\n[fetch]\nallowed_hosts = ["127.0.0.1"]\n'
        '[[targets]]\nname = "x"\nurl = "http://127.0.0.1:8123/guidance/x"\n'
    )
    assert parse(text).targets[0].url == "http://127.0.0.1:8123/guidance/x"
    text_port = text.replace('["127.0.0.1"]', '["127.0.0.1:9999"]')
    assert "not in fetch.allowed_hosts" in error_of(text_port)
