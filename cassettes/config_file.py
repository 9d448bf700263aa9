"""graphtape's project configuration: ``[tool.graphtape]`` in pyproject.toml, or graphtape.yaml.

One file configures every front end: ``graphtape record`` and ``replay``, the add-on in a
stock mitmproxy (``mitmdump -s``) and the pytest plugin. Each takes its defaults from the
file and lets its own command line override them. The keys are the add-on's options
without their ``graphtape_`` prefix (``record_mode`` is ``graphtape_record_mode``), plus
``upstream``, the service recorded from (the add-on takes that from mitmproxy's ``--mode``).

The file is found from a folder (the working directory) upward: the nearest folder
holding ``graphtape.yaml`` or a ``pyproject.toml`` with a ``[tool.graphtape]`` table
wins. The environment variable ``GRAPHTAPE_CONFIG`` names a file instead
(``GRAPHTAPE_CONFIG=/dev/null``: no configuration). Relative paths in the file are taken
relative to the file's folder. An unknown key, a wrong type or a bad value is a
:class:`ConfigFileError` naming the file, the key and, for a misspelt key, the nearest
valid one.
"""

from __future__ import annotations

import difflib
import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from graphtape.cassettes.errors import ConfigError
from graphtape.cassettes.matching import Exhausted
from graphtape.cassettes.record_modes import RecordMode

__all__ = [
    "CONFIG_ENV",
    "DEFAULT_GRAPH_URL",
    "KEYS",
    "SCOPES",
    "YAML_NAME",
    "ConfigFileError",
    "ProjectConfig",
    "find_config_file",
    "graph_origin",
    "http_url",
    "load_project_config",
    "nearest_name",
]

CONFIG_ENV = "GRAPHTAPE_CONFIG"
YAML_NAME = "graphtape.yaml"
PYPROJECT = "pyproject.toml"
DEFAULT_GRAPH_URL = "https://graph.microsoft.com"
SCOPES = ("attachments", "all")


class ConfigFileError(ConfigError):
    """The configuration file cannot be read, or a key in it is unknown or has a bad value."""


def nearest_name(name: str, known: list[str] | tuple[str, ...] | set[str]) -> str | None:
    """The known name closest to a misspelt one, if any is close."""
    found = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
    return found[0] if found else None


def http_url(value: str, what: str) -> str:
    """``value`` if it is an http(s) URL with a host; else a ConfigError naming ``what``."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{what}: {value!r} is not an http(s) URL")
    return value.rstrip("/")


def graph_origin(value: str, what: str) -> str:
    """``scheme://host[:port]`` of Graph as cassettes record it; no path, query or user."""
    url = http_url(value, what)
    parts = urlsplit(url)
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username or parts.password:
        raise ConfigError(f"{what}: {value!r} must be an origin only, such as {DEFAULT_GRAPH_URL} "
                          "(the API version stays in each request's path)")
    try:
        parts.port  # noqa: B018  (a malformed port raises here)
    except ValueError:
        raise ConfigError(f"{what}: {value!r} has a malformed port") from None
    return f"{parts.scheme}://{parts.netloc}".lower()


# ---------------------------------------------------------------- the keys

Check = Callable[[Any, str, Path], Any]  # (value, "file: key", the file's folder) -> the value to use


def _string(value: Any, where: str, base: Path) -> str:
    if not isinstance(value, str):
        raise ConfigFileError(f"{where}: expected a string, got {_kind(value)}")
    return value


def _boolean(value: Any, where: str, base: Path) -> bool:
    if not isinstance(value, bool):
        raise ConfigFileError(f"{where}: expected true or false, got {_kind(value)}")
    return value


def _count(value: Any, where: str, base: Path) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigFileError(f"{where}: expected a whole number of 0 or more, got {value!r}")
    return value


def _strings(value: Any, where: str, base: Path) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigFileError(f"{where}: expected a list of strings, got {_kind(value)}")
    return list(value)


def _path(value: Any, where: str, base: Path) -> str:
    text = _string(value, where, base)
    if not text:
        return ""
    path = Path(text).expanduser()
    return str(path if path.is_absolute() else base / path)


def _choice(*choices: str) -> Check:
    def check(value: Any, where: str, base: Path) -> str:
        if value not in choices:
            raise ConfigFileError(f"{where}: {value!r} is not one of {', '.join(choices)}")
        return str(value)
    return check


def _parsed(parse: Callable[[str, str], str]) -> Check:
    """A check that reads a string and parses it, a parse error becoming the file's error."""
    def check(value: Any, where: str, base: Path) -> str:
        text = _string(value, where, base)
        try:
            return parse(text, where)
        except ConfigFileError:
            raise
        except ConfigError as exc:
            raise ConfigFileError(str(exc)) from None
    return check


_url = _parsed(http_url)
_origin = _parsed(graph_origin)


def _kind(value: Any) -> str:
    return {bool: "a boolean", int: "a number", float: "a number", str: "a string", list: "a list",
            dict: "a table"}.get(type(value), type(value).__name__)


# Every key, how it is checked and what it means. All but ``upstream`` are the add-on's
# ``graphtape_<key>`` options (tests/cassettes/test_config_file.py checks they stay in step).
KEYS: dict[str, tuple[Check, str]] = {
    "upstream": (_url, "the service recorded from (record, replay and the pytest plugin)"),
    "graph_url": (_origin, "the origin a cassette records requests under"),
    "record_mode": (_choice(*(m.value for m in RecordMode)), "record mode"),
    "scope": (_choice(*SCOPES), "what is recorded: attachment calls, or all"),
    "strict": (_boolean, "a miss or an error-level finding fails the run"),
    "exhausted": (_choice(*(e.value for e in Exhausted)), "after the last recorded answer: repeat or miss"),
    "match_headers": (_strings, "headers that take part in matching"),
    "ignore_query": (_strings, "query parameters left out of matching"),
    "ignore_body": (_strings, "JSON paths left out of body matching"),
    "redact_headers": (_strings, "extra headers to redact"),
    "redact_query": (_strings, "extra query parameters to redact"),
    "redact_fields": (_strings, "extra JSON/form body fields to redact"),
    "cassette_dir": (_path, "the folder cassettes must lie in"),
    "drop_unplayed": (_boolean, "drop interactions a run never played"),
    "replay_latency": (_boolean, "hold each replayed answer for the upstream latency recorded with it"),
    "blob_threshold": (_count, "bodies over this many bytes go to files beside the cassette"),
    "fsync": (_boolean, "fsync each interaction before its answer is released"),
    "alerts": (_path, "JSON Lines file for live alerts"),
    "alert_webhook": (_url, "URL each alert is POSTed to"),
    "drift_config": (_path, "drift config file (severities, volatile paths)"),
    "alert_rollup": (_count, "seconds between roll-ups of a repeated alert"),
    "alert_queue": (_count, "alerts waiting for the webhook before new ones drop"),
    "alert_retries": (_count, "retries of a failed webhook delivery"),
    "alert_timeout": (_count, "seconds to wait for the webhook per attempt"),
}


@dataclass(frozen=True)
class ProjectConfig:
    """The checked values of one configuration file (empty when there is none)."""

    values: Mapping[str, Any] = field(default_factory=dict)
    source: Path | None = None

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)

    def addon_options(self, exclude: tuple[str, ...] = ()) -> dict[str, Any]:
        """The values as the add-on's ``graphtape_*`` options (``upstream`` is not one)."""
        return {f"graphtape_{k}": v for k, v in self.values.items() if k != "upstream" and k not in exclude}


def _has_graphtape_table(pyproject: Path) -> bool:
    return isinstance(_read_toml(pyproject).get("tool", {}).get("graphtape"), dict)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigFileError(f"{path}: not valid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigFileError(f"{path}: cannot read: {exc.strerror or exc}") from None


def find_config_file(start: Path) -> Path | None:
    """The nearest graphtape.yaml, or pyproject.toml with a [tool.graphtape] table, from ``start`` up."""
    folder = start.resolve()
    for candidate in (folder, *folder.parents):
        found = [p for p in (candidate / YAML_NAME,) if p.is_file()]
        pyproject = candidate / PYPROJECT
        if pyproject.is_file() and _has_graphtape_table(pyproject):
            found.append(pyproject)
        if len(found) > 1:
            raise ConfigFileError(f"{found[0]} and {found[1]} both configure graphtape; keep one of them")
        if found:
            return found[0]
    return None


def _table(path: Path) -> tuple[dict[str, Any], str]:
    """The raw table in ``path`` and how to name it in messages."""
    if path.name == PYPROJECT or path.suffix == ".toml":
        data = _read_toml(path)
        table = data.get("tool", {}).get("graphtape", {}) if path.name == PYPROJECT else data
        label = f"{path} [tool.graphtape]" if path.name == PYPROJECT else str(path)
        if not isinstance(table, dict):
            raise ConfigFileError(f"{label}: expected a table of settings")
        return table, label
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigFileError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ConfigFileError(f"{path}: not UTF-8 text") from None
    try:
        data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise ConfigFileError(f"{path}: not valid YAML{where}: {getattr(exc, 'problem', None) or exc}") from None
    if data is None:
        return {}, str(path)
    if not isinstance(data, dict):
        raise ConfigFileError(f"{path}: expected a mapping of settings, got {_kind(data)}")
    return data, str(path)


def _check(path: Path) -> ProjectConfig:
    table, label = _table(path)
    values: dict[str, Any] = {}
    for key, value in table.items():
        if not isinstance(key, str) or key not in KEYS:
            near = nearest_name(str(key), list(KEYS))
            hint = f"did you mean {near!r}?" if near else f"valid keys: {', '.join(KEYS)}"
            raise ConfigFileError(f"{label}: unknown key {key!r}; {hint}")
        check, _ = KEYS[key]
        values[key] = check(value, f"{label}: {key}", path.parent)
    return ProjectConfig(values=values, source=path)


def load_project_config(start: Path | None = None, environ: Mapping[str, str] | None = None) -> ProjectConfig:
    """The configuration for a run started in ``start`` (default: the working directory)."""
    env = os.environ if environ is None else environ
    named = env.get(CONFIG_ENV)
    if named:
        path = Path(named).expanduser()
        if not path.exists():
            raise ConfigFileError(f"{path}: no such file (named by {CONFIG_ENV})")
        return _check(path)
    found = find_config_file(start or Path.cwd())
    return _check(found) if found is not None else ProjectConfig()
