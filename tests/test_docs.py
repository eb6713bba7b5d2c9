"""README.md must not drift from the code: every command, setting and exit code is documented."""

from __future__ import annotations

import re
from pathlib import Path

from monitor import errors
from monitor.cli import COMMANDS
from monitor.config import ARRAYS, SECTIONS, Config
from monitor.config.docs import block_of, main, replace_block, settings_table

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_starts_with_the_two_commands_and_ci_runs_the_second():
    block = re.search(r"```sh\n(.*?)```", README, re.S)
    assert block is not None
    setup_run, setup_test = block.group(1).strip().splitlines()
    assert setup_run.endswith("dfe-monitor run")
    assert "pytest" in setup_test
    assert setup_test in (ROOT / ".ci" / "run").read_text()


def test_every_command_is_documented():
    for command in COMMANDS:
        assert f"`dfe-monitor {command}" in README, command


def test_every_setting_is_documented():
    for section, model in SECTIONS.items():
        for key in model.model_fields:
            assert f"`{section}.{key}`" in README, f"{section}.{key}"
    for array, model in ARRAYS.items():
        for key in model.model_fields:
            assert f"`{array}[].{key}`" in README, f"{array}[].{key}"


def test_the_settings_table_is_the_generated_one():
    assert block_of(README) == settings_table(), "run: python -m monitor.config.docs --write README.md"


def test_every_setting_has_a_one_line_description():
    for model in (Config, *SECTIONS.values(), *ARRAYS.values()):
        for key, field in model.model_fields.items():
            assert field.description and field.description.strip(), f"{model.__name__}.{key}"
            assert "\n" not in field.description, f"{model.__name__}.{key}"


def test_writing_the_table_replaces_only_its_block(tmp_path):
    stale = "# Title\n\nbefore\n<!-- settings-table:start -->\n| old |\n<!-- settings-table:end -->\nafter\n"
    readme = tmp_path / "README.md"
    readme.write_text(stale, encoding="utf-8")
    assert main(["--write", str(readme)]) == 0
    written = readme.read_text(encoding="utf-8")
    assert written == replace_block(stale, settings_table())
    assert written.startswith("# Title\n\nbefore\n<!-- settings-table:start -->\n| setting |")
    assert written.endswith("|\n<!-- settings-table:end -->\nafter\n")
    assert block_of(written) == settings_table()


def test_every_exit_code_is_documented():
    codes = {value for name, value in vars(errors).items() if name.startswith("EXIT_")}
    for code in codes:
        assert re.search(rf"^\| {code} \|", README, re.M), code
