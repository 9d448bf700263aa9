"""What counts as schema drift and how loud it is: kinds, severities, volatile paths.

A drift config is a small YAML or JSON file:

    severity:                      # per kind: error | warning | info | off
      undocumented-property: error
    volatile:                      # JSON paths never compared (added to the defaults)
      - $.item.createdDateTime
    replace_default_volatile: false

Volatile values (ids, timestamps, request ids, ``@odata.context``...) change on every
call; they must never count as shape drift, or every comparison drowns in noise.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

from graphtape.cassettes.errors import GraphtapeError
from graphtape.cassettes.findings import Severity

__all__ = [
    "DEFAULT_DRIFT_SEVERITY",
    "DEFAULT_VOLATILE_PATHS",
    "DriftConfig",
    "DriftConfigError",
    "DriftKind",
    "load_drift_config",
    "path_pattern",
]


class DriftKind(str, enum.Enum):
    UNDOCUMENTED_PROPERTY = "undocumented-property"
    MISSING_PROPERTY = "missing-property"
    TYPE_CHANGE = "type-change"
    ENUM_VALUE = "enum-value"
    STATUS_CHANGE = "status-change"
    CONTENT_TYPE_CHANGE = "content-type-change"
    ODATA_TYPE_CHANGE = "odata-type-change"
    NEW_ROUTE = "new-route"


# Graph adds properties and routes without breaking well-behaved clients, so those
# warn; anything that changes what an existing client reads fails.
DEFAULT_DRIFT_SEVERITY: dict[DriftKind, Severity] = {
    DriftKind.UNDOCUMENTED_PROPERTY: Severity.WARNING,
    DriftKind.MISSING_PROPERTY: Severity.ERROR,
    DriftKind.TYPE_CHANGE: Severity.ERROR,
    DriftKind.ENUM_VALUE: Severity.ERROR,
    DriftKind.STATUS_CHANGE: Severity.ERROR,
    DriftKind.CONTENT_TYPE_CHANGE: Severity.ERROR,
    DriftKind.ODATA_TYPE_CHANGE: Severity.ERROR,
    DriftKind.NEW_ROUTE: Severity.WARNING,
}

# ``$..x`` matches x at any depth; ``*`` one key; ``[*]`` any array index.
DEFAULT_VOLATILE_PATHS: tuple[str, ...] = (
    "$..id",
    "$..@odata.context",
    "$..@odata.etag",
    "$..@odata.id",
    "$..lastModifiedDateTime",
    "$..createdDateTime",
    "$..expirationDateTime",
    "$..uploadUrl",
    "$..request-id",
    "$..client-request-id",
    "$..date",
    "$.error.message",
    "$.error.innerError",
    "$headers.location",
    "$headers.date",
    "$headers.request-id",
    "$headers.client-request-id",
)


class DriftConfigError(GraphtapeError, ValueError):
    """A drift config file or option is not valid."""


def path_pattern(path: str) -> re.Pattern[str]:
    """A JSON path pattern (``$..id``, ``$.value[*].name``, ``$.item.*``) as a regex."""
    if not path.startswith("$"):
        raise DriftConfigError(f"volatile path {path!r} does not start with '$'")
    out = ["^"]
    i = 0
    while i < len(path):
        if path.startswith("..", i):
            out.append(r"(?:\.[^\[]*?|\[[^\]]*\])*\.")  # any depth, then one key
            i += 2
        elif path.startswith("[*]", i):
            out.append(r"\[[^\]]*\]")
            i += 3
        elif path[i] == "*":
            out.append(r"[^.\[]+")
            i += 1
        else:
            out.append(re.escape(path[i]))
            i += 1
    out.append("$")
    return re.compile("".join(out))


@dataclass(frozen=True)
class DriftConfig:
    """Severity per kind (None: the kind is off) and the volatile JSON paths."""

    severity: Mapping[DriftKind, Severity | None] = field(
        default_factory=lambda: dict(DEFAULT_DRIFT_SEVERITY))
    volatile: tuple[str, ...] = DEFAULT_VOLATILE_PATHS

    @cached_property
    def _patterns(self) -> tuple[re.Pattern[str], ...]:
        return tuple(path_pattern(p) for p in self.volatile)

    def is_volatile(self, path: str) -> bool:
        """True when ``path`` (``$.a.b``, ``$headers.x``) is excluded from drift."""
        # A path under a volatile one is volatile too ($.error.innerError.date).
        prefixes = [path]
        for i, ch in enumerate(path):
            if ch in ".[" and i > 1:
                prefixes.append(path[:i])
        return any(p.match(candidate) for p in self._patterns for candidate in prefixes)

    def severity_of(self, kind: DriftKind) -> Severity | None:
        return self.severity.get(kind, DEFAULT_DRIFT_SEVERITY[kind])

    def with_overrides(self, severities: Mapping[str, str] | None = None,
                       volatile: Iterable[str] = ()) -> DriftConfig:
        """This config plus CLI options: ``kind=severity`` pairs and extra volatile paths."""
        sev = dict(self.severity)
        for kind, level in (severities or {}).items():
            sev[_kind(kind, "--severity")] = _severity(level, f"--severity {kind}")
        extra = tuple(volatile)
        for p in extra:
            path_pattern(p)
        return DriftConfig(sev, self.volatile + extra)


def _kind(name: str, where: str) -> DriftKind:
    try:
        return DriftKind(name)
    except ValueError:
        raise DriftConfigError(f"{where}: {name!r} is not a drift kind (one of "
                               f"{', '.join(k.value for k in DriftKind)})") from None


def _severity(level: Any, where: str) -> Severity | None:
    if level is False or str(level).lower() == "off":
        return None
    try:
        return Severity(str(level).lower())
    except ValueError:
        raise DriftConfigError(f"{where}: {level!r} is not one of error, warning, info, off") from None


def config_from_data(data: Any, source: str) -> DriftConfig:
    if data is None:
        return DriftConfig()
    if not isinstance(data, dict):
        raise DriftConfigError(f"{source}: expected a mapping with 'severity' and/or 'volatile'")
    unknown = set(data) - {"severity", "volatile", "replace_default_volatile"}
    if unknown:
        raise DriftConfigError(f"{source}: unknown key(s) {', '.join(sorted(unknown))} "
                               "(expected severity, volatile, replace_default_volatile)")
    severities = data.get("severity") or {}
    if not isinstance(severities, dict):
        raise DriftConfigError(f"{source}: 'severity' must map drift kinds to error|warning|info|off")
    sev: dict[DriftKind, Severity | None] = dict(DEFAULT_DRIFT_SEVERITY)
    for kind, level in severities.items():
        sev[_kind(str(kind), f"{source}: severity")] = _severity(level, f"{source}: severity.{kind}")
    volatile = data.get("volatile") or []
    if not isinstance(volatile, list) or not all(isinstance(p, str) for p in volatile):
        raise DriftConfigError(f"{source}: 'volatile' must be a list of JSON paths such as $..id")
    for p in volatile:
        try:
            path_pattern(p)
        except DriftConfigError as exc:
            raise DriftConfigError(f"{source}: {exc}") from None
    base = () if data.get("replace_default_volatile") else DEFAULT_VOLATILE_PATHS
    return DriftConfig(sev, base + tuple(volatile))


def load_drift_config(path: Path | str | None) -> DriftConfig:
    """The config in ``path`` (YAML or JSON), or the defaults when ``path`` is empty."""
    if not path:
        return DriftConfig()
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DriftConfigError(f"{path}: cannot be read: {exc.strerror or exc}") from None
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise DriftConfigError(f"{path}: not valid {'JSON' if path.suffix.lower() == '.json' else 'YAML'}: "
                               f"{exc}") from None
    return config_from_data(data, str(path))
