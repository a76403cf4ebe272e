"""Settings precedence: flags > ARCHIVER_* environment > config file > defaults."""

from __future__ import annotations

import pytest

from archiver import __version__
from archiver.config import Settings, parse_duration, parse_size, resolve
from archiver.errors import ConfigError


def test_defaults(tmp_path):
    settings = resolve({"home": str(tmp_path)}, env={})
    assert settings.total_timeout == Settings().total_timeout
    assert settings.db_url == f"sqlite:///{(tmp_path / 'archiver.db').resolve()}"
    assert settings.snapshots == tmp_path / "snapshots"


def test_flag_beats_env_beats_file_beats_default(tmp_path):
    (tmp_path / "archiver.toml").write_text('max_size = "1MB"\nworkers = 3\ndigest = "sha1"\n')
    env = {"ARCHIVER_MAX_SIZE": "2MB", "ARCHIVER_WORKERS": "5"}
    settings = resolve({"home": str(tmp_path), "max_size": "3MB"}, env=env)
    assert settings.max_size == 3_000_000  # flag
    assert settings.workers == 5  # environment
    assert settings.digest == "sha1"  # config file
    assert settings.per_host == Settings().per_host  # default


def test_home_from_environment(tmp_path):
    assert resolve({}, env={"ARCHIVER_HOME": str(tmp_path)}).home == tmp_path


def test_explicit_config_file(tmp_path):
    config = tmp_path / "other.toml"
    config.write_text("total-timeout = '2m'\n")
    assert resolve({"home": str(tmp_path)}, env={}, config=str(config)).total_timeout == 120


@pytest.mark.parametrize("flags, env, text", [
    ({"max_size": "lots"}, {}, "--max-size: 'lots' is not a size (try 50MB or 1GiB)"),
    ({}, {"ARCHIVER_TOTAL_TIMEOUT": "-1"}, "ARCHIVER_TOTAL_TIMEOUT: '-1' is not a duration (try 30s or 2m)"),
    ({"workers": "0"}, {}, "--workers: '0' must be at least 1"),
    ({}, {"ARCHIVER_PROCESSES": "two"}, "ARCHIVER_PROCESSES: 'two' is not a whole number"),
])
def test_bad_values_name_their_source(tmp_path, flags, env, text):
    with pytest.raises(ConfigError) as error:
        resolve({"home": str(tmp_path), **flags}, env=env)
    assert str(error.value) == text


def test_unknown_config_key_is_refused(tmp_path):
    (tmp_path / "archiver.toml").write_text("max_sise = 3\n")
    with pytest.raises(ConfigError, match="unknown setting 'max_sise'"):
        resolve({"home": str(tmp_path)}, env={})


def test_missing_explicit_config_file(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        resolve({"home": str(tmp_path)}, env={}, config=str(tmp_path / "nope.toml"))


@pytest.mark.parametrize("text, value", [("50MB", 50_000_000), ("1GiB", 1 << 30), ("2048", 2048)])
def test_parse_size(text, value):
    assert parse_size(text) == value


@pytest.mark.parametrize("text, value", [("30", 30), ("2m", 120), ("500ms", 0.5), ("1h", 3600)])
def test_parse_duration(text, value):
    assert parse_duration(text) == value


def test_politeness_settings(tmp_path):
    (tmp_path / "archiver.toml").write_text('contact = "mailto:jane@example.org"\nhost_delay = "500ms"\n')
    settings = resolve({"home": str(tmp_path)}, env={"ARCHIVER_IGNORE_ROBOTS": "yes", "ARCHIVER_LOCK_TIMEOUT": "2s"})
    assert (settings.ignore_robots, settings.host_delay, settings.lock_timeout) == (True, 0.5, 2.0)
    assert settings.user_agent == (f"archiver/{__version__} (+https://github.com/archiver-project/archiver; "
                                   "mailto:jane@example.org)")
    assert resolve({"home": str(tmp_path), "user_agent": "Mine/1"}, env={}).user_agent == "Mine/1"
    assert resolve({"home": str(tmp_path), "host_delay": "0"}, env={}).host_delay == 0.0
    defaults = resolve({"home": str(tmp_path / "none")}, env={})
    assert (defaults.ignore_robots, defaults.host_delay, defaults.contact) == (False, 0.0, "")
    assert defaults.user_agent == f"archiver/{__version__} (+https://github.com/archiver-project/archiver)"
