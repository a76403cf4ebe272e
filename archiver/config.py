"""Settings: flags > ``ARCHIVER_*`` environment > config file > defaults.

The config file is TOML: ``--config FILE``, else ``ARCHIVER_CONFIG``, else
``archiver.toml`` in the collection folder when it exists. Keys are the
setting names below (``max_size = "50MB"``, ``total_timeout = "2m"``).
"""

from __future__ import annotations

import dataclasses
import getpass
import os
import re
import tomllib
from pathlib import Path
from typing import Any, Callable, Mapping

from . import __version__
from .errors import ConfigError

PROJECT_URL = "https://github.com/archiver-project/archiver"
DEFAULT_USER_AGENT = f"archiver/{__version__} (+{PROJECT_URL})"


def user_agent_with(contact: str) -> str:
    """archiver's User-Agent: its name and version, the project, and the operator's contact."""
    return f"archiver/{__version__} (+{PROJECT_URL}; {contact})" if contact.strip() else DEFAULT_USER_AGENT

ENV_PREFIX = "ARCHIVER_"
CONFIG_NAME = "archiver.toml"
_SIZE_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1000, "kib": 1024, "m": 10**6, "mb": 10**6,
               "mib": 1 << 20, "g": 10**9, "gb": 10**9, "gib": 1 << 30}
_TIME_UNITS = {"": 1, "s": 1, "ms": 0.001, "m": 60, "min": 60, "h": 3600}


def parse_size(value: Any) -> int:
    """``"50MB"``, ``"1GiB"``, ``1048576`` -> bytes."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*", str(value))
    if not match or match.group(2).lower() not in _SIZE_UNITS:
        raise ValueError(f"{value!r} is not a size (try 50MB or 1GiB)")
    return int(float(match.group(1)) * _SIZE_UNITS[match.group(2).lower()])


def parse_duration(value: Any) -> float:
    """``"30"``, ``"30s"``, ``"2m"``, ``"500ms"`` -> seconds."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*", str(value))
    if not match or match.group(2).lower() not in _TIME_UNITS:
        raise ValueError(f"{value!r} is not a duration (try 30s or 2m)")
    seconds = float(match.group(1)) * _TIME_UNITS[match.group(2).lower()]
    if seconds <= 0:
        raise ValueError(f"{value!r} must be more than zero")
    return seconds


def parse_delay(value: Any) -> float:
    """A duration that may be zero: ``"0"``, ``"1.5s"``, ``"500ms"``."""
    if re.fullmatch(r"\s*0+(\.0*)?\s*[a-zA-Z]*\s*", str(value)):
        return 0.0
    return parse_duration(value)


def parse_bool(value: Any) -> bool:
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(f"{value!r} is not true or false")


def parse_positive_int(value: Any) -> int:
    number = int(str(value).strip())
    if number < 1:
        raise ValueError(f"{value!r} must be at least 1")
    return number


def parse_processes(value: Any) -> int:
    """0 (capture: one process per 20 posts; verify: one per WARC file; at most one per core) or a number."""
    try:
        number = int(str(value).strip())
    except ValueError:
        raise ValueError(f"{value!r} is not a whole number") from None
    if number < 0:
        raise ValueError(f"{value!r} must be 0 (one per 20 posts, at most one per core) or more")
    return number


PARSE_NOW, PARSE_LATER = "now", "later"


def parse_when(value: Any) -> str:
    """When a capture parses the pages its posts cite: ``now`` (before it exits) or ``later``."""
    text = str(value).strip().lower()
    if text not in (PARSE_NOW, PARSE_LATER):
        raise ValueError(f"{value!r} is not when to parse (now or later)")
    return text


def parse_digest(value: Any) -> str:
    text = str(value).strip().lower()
    if text not in ("sha256", "sha1"):
        raise ValueError(f"{value!r} is not a digest algorithm (sha256 or sha1)")
    return text


@dataclasses.dataclass(frozen=True, kw_only=True)
class Settings:
    """Everything a command may be told. See README "Configuration"."""

    home: Path = Path(".")
    db: str | None = None
    lock_timeout: float = 60.0
    operator: str = ""
    contact: str = ""
    user_agent: str = DEFAULT_USER_AGENT
    allow_private: bool = False
    ignore_robots: bool = False
    insecure: bool = False  # no TLS certificate verification
    host_delay: float = 0.0
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    total_timeout: float = 120.0
    max_size: int = 100 * 10**6
    max_redirects: int = 10
    warc_size: int = 10**9
    warc_prefix: str = "archiver"
    digest: str = "sha256"
    compress_level: int = 6
    workers: int = 8
    per_host: int = 2
    processes: int = 0  # 0: capture, one per 20 posts; verify, one per WARC file; at most one per core
    parse: str = PARSE_NOW  # later: a capture leaves the cited pages' documents to `archiver parse`

    @property
    def db_url(self) -> str:
        return self.db or f"sqlite:///{(self.home / 'archiver.db').resolve()}"

    @property
    def snapshots(self) -> Path:
        return self.home / "snapshots"


_PARSERS: dict[str, Callable[[Any], Any]] = {
    "home": lambda value: Path(str(value)).expanduser(),
    "db": str,
    "lock_timeout": parse_duration,
    "operator": str,
    "contact": str,
    "user_agent": str,
    "allow_private": parse_bool,
    "ignore_robots": parse_bool,
    "insecure": parse_bool,
    "host_delay": parse_delay,
    "connect_timeout": parse_duration,
    "read_timeout": parse_duration,
    "total_timeout": parse_duration,
    "max_size": parse_size,
    "max_redirects": lambda value: int(str(value)),
    "warc_size": parse_size,
    "warc_prefix": lambda value: re.sub(r"[^A-Za-z0-9_.-]", "_", str(value)),
    "digest": parse_digest,
    "compress_level": lambda value: max(0, min(9, int(str(value)))),
    "workers": parse_positive_int,
    "per_host": parse_positive_int,
    "processes": parse_processes,
    "parse": parse_when,
}


def _parse(name: str, value: Any, source: str) -> Any:
    try:
        return _PARSERS[name](value)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"{source}: {exc}") from None


def resolve(
    flags: Mapping[str, Any], *, env: Mapping[str, str] | None = None, config: str | None = None
) -> Settings:
    """Build settings from flags given (None = not given), the environment and the config file."""
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    for name in ("home",):
        if flags.get(name) is not None:
            values[name] = _parse(name, flags[name], f"--{name}")
        elif env.get(ENV_PREFIX + name.upper()):
            values[name] = _parse(name, env[ENV_PREFIX + name.upper()], ENV_PREFIX + name.upper())
    home = values.get("home", Settings.home)
    file_values = _read_config(config or env.get(ENV_PREFIX + "CONFIG"), home)
    for name in _PARSERS:
        if name == "home":
            continue
        variable = ENV_PREFIX + name.upper()
        if flags.get(name) is not None:
            values[name] = _parse(name, flags[name], "--" + name.replace("_", "-"))
        elif env.get(variable) not in (None, ""):
            values[name] = _parse(name, env[variable], variable)
        elif name in file_values:
            values[name] = _parse(name, file_values[name], f"config file key {name}")
    values.setdefault("operator", _default_operator())
    values.setdefault("user_agent", user_agent_with(values.get("contact", "")))
    return Settings(**values)


def _read_config(path: str | None, home: Path) -> dict[str, Any]:
    explicit = path is not None
    config_path = Path(path) if path is not None else home / CONFIG_NAME
    if not config_path.exists():
        if explicit:
            raise ConfigError(f"config file {config_path} does not exist")
        return {}
    try:
        data = tomllib.loads(config_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read config file {config_path}: {exc}") from None
    values = {key.replace("-", "_"): value for key, value in data.items()}
    unknown = sorted(set(values) - set(_PARSERS) - {"home"})
    if unknown:
        raise ConfigError(f"config file {config_path}: unknown setting {unknown[0]!r}")
    return values


def _default_operator() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid {os.getuid()}"
