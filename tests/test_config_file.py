"""Reading config.toml: whatever --config names, the answer is one line, at once.

A folder, a FIFO or /dev/zero used to hang, exhaust memory or crash; a huge or deeply nested
file used to end in an internal error. Each is now a ConfigError naming the file.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from monitor.config import load_config, parse_config
from monitor.config.load import MAX_CONFIG_BYTES
from monitor.errors import EXIT_USAGE, ConfigError

GOOD = '[[targets]]\nname = "x"\nurl = "https://www.gov.uk/government/publications/x"\n'


def load_error(path: Path) -> str:
    """The message of loading ``path``, which must come back within seconds."""
    outcome: dict[str, BaseException | object] = {}

    def load() -> None:
        try:
            outcome["config"] = load_config(path)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertions below
            outcome["error"] = exc

    worker = threading.Thread(target=load, daemon=True)
    worker.start()
    worker.join(10)
    assert not worker.is_alive(), f"loading {path} blocked"
    error = outcome.get("error")
    assert isinstance(error, ConfigError), outcome
    message = str(error)
    assert "\n" not in message
    return message


def test_a_folder_is_refused(tmp_path):
    assert load_error(tmp_path) == f"{tmp_path}: is a folder, not a configuration file; pass --config with the path of a config.toml file"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "config.toml"
    os.mkfifo(fifo)
    assert load_error(fifo).startswith(f"{fifo}: is a named pipe, not a configuration file")


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero here")
def test_a_device_is_refused_without_reading_it():
    assert load_error(Path("/dev/zero")).startswith("/dev/zero: is a character device, not a configuration file")


def test_a_file_over_one_mebibyte_is_refused(tmp_path):
    big = tmp_path / "config.toml"
    big.write_text(GOOD + "# " + "x" * MAX_CONFIG_BYTES + "\n")
    assert load_error(big) == f"{big}: larger than 1 MiB, too large for a configuration file; check --config names the right file"


def test_a_sparse_file_claiming_a_huge_size_is_refused_before_reading(tmp_path):
    sparse = tmp_path / "config.toml"
    with sparse.open("wb") as out:
        out.truncate(64 * 1024**3)
    assert "larger than 1 MiB" in load_error(sparse)


def test_a_file_of_exactly_one_mebibyte_is_read(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(GOOD + "#" * (MAX_CONFIG_BYTES - len(GOOD) - 1) + "\n")
    assert path.stat().st_size == MAX_CONFIG_BYTES
    assert load_config(path).targets[0].name == "x"


def test_text_that_is_not_utf8_names_the_byte(tmp_path):
    path = tmp_path / "config.toml"
    path.write_bytes(GOOD.encode() + b"# caf\xe9\n")
    assert load_error(path) == f"{path}: cannot read the configuration file: not UTF-8 text (byte {len(GOOD) + 6}); save it as UTF-8"


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_an_unreadable_file_is_one_line(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(GOOD)
    path.chmod(0)
    assert load_error(path) == f"{path}: cannot read the configuration file: Permission denied"


def test_deep_nesting_is_invalid_toml_not_a_crash():
    with pytest.raises(ConfigError, match="not valid TOML: arrays or tables nested too deeply"):
        parse_config(GOOD + "x = " + "[" * 5000 + "]" * 5000 + "\n", Path("config.toml"))


def test_a_number_too_long_to_read_is_invalid_toml_not_a_crash():
    with pytest.raises(ConfigError, match="not valid TOML: Exceeds the limit") as caught:
        parse_config("[fetch]\nretries = " + "9" * 5000 + "\n" + GOOD, Path("config.toml"))
    assert "set_int_max_str_digits" not in str(caught.value)


def test_a_dotted_key_names_its_line():
    with pytest.raises(ConfigError) as caught:
        parse_config("# top-level keys, dotted\nfetch.timout_seconds = 5\n" + GOOD, Path("config.toml"))
    assert str(caught.value) == "config.toml:2: [fetch] timout_seconds: unknown key; did you mean 'timeout_seconds'?"


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero here")
def test_the_command_line_refuses_dev_zero_at_once():
    result = subprocess.run([sys.executable, "-m", "monitor", "status", "--config", "/dev/zero"], capture_output=True, text=True, timeout=30)
    assert result.returncode == EXIT_USAGE
    assert result.stderr.splitlines() == ["dfe-monitor: /dev/zero: is a character device, not a configuration file; pass --config with the path of a config.toml file"]
