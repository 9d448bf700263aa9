"""What faults the simulator injects: a small YAML file, or command-line shorthands, read into
plain dataclasses and checked key by key.

The file (every section optional)::

    seed: 7                       # the random schedule and random latency; --seed overrides
    throttle:                     # per mailbox: the user or group a request addresses
      requests: 10000             # at most this many requests...
      window: 600                 # ...in any window of this many seconds (429 TooManyRequests)
      concurrent: 4               # at most this many in flight (429 ApplicationThrottled)
      upload_bytes: 157286400     # at most this many bytes PATCHed, POSTed or PUT...
      upload_window: 300          # ...in this many seconds
      retry_after: 1              # Retry-After of a concurrency refusal (a rate's is computed)
    schedule:                     # rules, in order; the first that fires answers
      - every: 3                  # every 3rd matching request; or share: 0.2 (seeded); or at: [1, 4]
        status: 429               # or a list: [500, 503], taken in turn (at random for share)
        methods: [POST]           # default: every method
        paths: ["*/attachments"]  # globs on the path without query; default: every path
        retry_after: 1            # default 2 for 429 and 503, none for the others; null: none
        limit: 5                  # at most this many faults from this rule
        processed: false          # true: carry the request out, then answer the fault instead
    latency:                      # before each request (a batch's requests each)
      fixed: 0.2                  # seconds; or min: 0.05 and max: 0.3 (seeded)
    uploads:                      # upload sessions' chunk PUTs
      fail_chunks: [2]            # the 2nd PUT to each session is refused (not stored)...
      status: 503                 # ...with this status
      retry_after: 1
      expire_after: 3             # the session expires after 3 accepted chunks

``throttle: outlook`` stands for the Outlook service limits Microsoft documents per app and
mailbox (https://learn.microsoft.com/en-us/graph/throttling-limits#outlook-service-limits):
10,000 requests in 10 minutes, 4 concurrent requests, 150 MB uploaded in 5 minutes.

Errors name the file, the line and the key: ``chaos.yaml: line 6: schedule[0].every: ...``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from graphtape.cassettes.errors import ConfigError

__all__ = [
    "FAULT_STATUSES",
    "OUTLOOK_THROTTLE",
    "FaultConfig",
    "FaultConfigError",
    "LatencyConfig",
    "ScheduleRule",
    "ThrottleConfig",
    "UploadFaultConfig",
    "default_retry_after",
    "load_fault_config",
    "parse_failure_rate",
    "parse_fault_config",
    "parse_latency",
    "parse_rate_limit",
]

# The statuses a fault can answer with: those Graph's throttling and errors pages name for a
# request that was throttled or could not be served.
FAULT_STATUSES = (429, 500, 502, 503, 504)
_DEFAULT_RETRY_AFTER = {429: 2, 503: 2}


def default_retry_after(status: int) -> int | None:
    """Graph sends Retry-After with 429 (always) and 503 (may); the simulator's default is 2 s."""
    return _DEFAULT_RETRY_AFTER.get(status)


class FaultConfigError(ConfigError):
    """A fault configuration graphtape cannot use; names the file, line and key."""


@dataclass(frozen=True)
class ThrottleConfig:
    requests: int | None = None
    window: float = 600.0
    concurrent: int | None = None
    upload_bytes: int | None = None
    upload_window: float = 300.0
    retry_after: int = 1


# https://learn.microsoft.com/en-us/graph/throttling-limits#outlook-service-limits (MB read as MiB).
OUTLOOK_THROTTLE = ThrottleConfig(requests=10_000, window=600.0, concurrent=4, upload_bytes=150 * 1024 * 1024,
                                  upload_window=300.0)


@dataclass(frozen=True)
class ScheduleRule:
    statuses: tuple[int, ...]
    every: int | None = None
    share: float | None = None
    at: frozenset[int] = frozenset()
    methods: frozenset[str] = frozenset()  # empty: every method
    paths: tuple[str, ...] = ()  # empty: every path
    retry_after: int | None = None
    retry_after_set: bool = False  # False: the status's default
    limit: int | None = None
    processed: bool = False

    def retry_after_for(self, status: int) -> int | None:
        return self.retry_after if self.retry_after_set else default_retry_after(status)


@dataclass(frozen=True)
class LatencyConfig:
    low: float = 0.0
    high: float = 0.0

    @property
    def fixed(self) -> bool:
        return self.low == self.high


@dataclass(frozen=True)
class UploadFaultConfig:
    fail_chunks: frozenset[int] = frozenset()
    status: int = 503
    retry_after: int | None = 2
    expire_after: int | None = None


@dataclass(frozen=True)
class FaultConfig:
    seed: int | None = None
    throttle: ThrottleConfig | None = None
    schedule: tuple[ScheduleRule, ...] = ()
    latency: LatencyConfig | None = None
    uploads: UploadFaultConfig | None = None
    source: str = ""  # where it was read from, for messages

    @property
    def empty(self) -> bool:
        return not (self.throttle or self.schedule or self.latency or self.uploads)

    def describe(self) -> str:
        """A few words for the ready line: what is on."""
        parts = []
        if self.throttle:
            parts.append("throttle")
        if self.schedule:
            parts.append(f"{len(self.schedule)} schedule rule{'s' if len(self.schedule) != 1 else ''}")
        if self.latency:
            parts.append("latency")
        if self.uploads:
            parts.append("upload faults")
        return ", ".join(parts) or "none"


# ------------------------------------------------------------------ reading values

_LAST_PART = re.compile(r"(\.[^.\[]+|\[\d+\])$")  # "schedule[0].status" -> "schedule[0]" -> "schedule"


@dataclass
class _Reader:
    source: str
    lines: dict[str, int] = field(default_factory=dict)

    def fail(self, key: str, problem: str) -> FaultConfigError:
        line, known = self.lines.get(key), key
        while line is None and known:  # a missing key: the line of the mapping it belongs in
            parent = _LAST_PART.sub("", known)
            known = parent if parent != known else ""
            line = self.lines.get(known)
        where = f"line {line}: " if line else ""
        prefix = f"{self.source}: " if self.source else ""
        named = f"{key}: " if key else ""
        return FaultConfigError(f"{prefix}{where}{named}{problem}")

    def mapping(self, value: object, key: str, allowed: tuple[str, ...]) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(key, f"expected a mapping of {', '.join(allowed)}, found {_kind(value)}")
        for name in value:
            if name not in allowed:
                raise self.fail(_join(key, str(name)), f"unknown key; expected one of {', '.join(allowed)}")
        return value

    def whole(self, value: object, key: str, minimum: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise self.fail(key, f"must be a whole number of at least {minimum} (found {_shown(value)})")
        return value

    def seconds(self, value: object, key: str, positive: bool = False) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0 \
                or (positive and value == 0):
            need = "a number of seconds above 0" if positive else "a number of seconds, 0 or more"
            raise self.fail(key, f"must be {need} (found {_shown(value)})")
        return float(value)

    def status(self, value: object, key: str) -> int:
        if isinstance(value, bool) or value not in FAULT_STATUSES:
            raise self.fail(key, f"must be one of {', '.join(map(str, FAULT_STATUSES))} (found {_shown(value)})")
        return int(value)

    def retry_after(self, value: object, key: str) -> int | None:
        if value is None:
            return None
        return self.whole(value, key, 0)


def _join(key: str, name: str) -> str:
    return f"{key}.{name}" if key else name


def _kind(value: object) -> str:
    if value is None:
        return "nothing"
    return {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean"}.get(type(value), "a number")


def _shown(value: object) -> str:
    return repr(value) if isinstance(value, str) else str(value).lower() if isinstance(value, bool) or value is None \
        else str(value)


def _strings(reader: _Reader, value: object, key: str) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    out = []
    for i, item in enumerate(items):
        if not isinstance(item, str) or not item:
            raise reader.fail(f"{key}[{i}]" if isinstance(value, list) else key,
                              f"must be a non-empty string (found {_shown(item)})")
        out.append(item)
    return tuple(out)


def _throttle(reader: _Reader, value: object) -> ThrottleConfig:
    if value == "outlook":
        return OUTLOOK_THROTTLE
    if isinstance(value, str):
        raise reader.fail("throttle", f"unknown preset {value!r}; use 'outlook' or a mapping")
    data = reader.mapping(value, "throttle", ("requests", "window", "concurrent", "upload_bytes", "upload_window",
                                              "retry_after"))
    config = ThrottleConfig(
        requests=reader.whole(data["requests"], "throttle.requests", 1) if "requests" in data else None,
        window=reader.seconds(data.get("window", 600), "throttle.window", positive=True),
        concurrent=reader.whole(data["concurrent"], "throttle.concurrent", 1) if "concurrent" in data else None,
        upload_bytes=reader.whole(data["upload_bytes"], "throttle.upload_bytes", 1) if "upload_bytes" in data
        else None,
        upload_window=reader.seconds(data.get("upload_window", 300), "throttle.upload_window", positive=True),
        retry_after=reader.whole(data.get("retry_after", 1), "throttle.retry_after", 0),
    )
    if config.requests is None and config.concurrent is None and config.upload_bytes is None:
        raise reader.fail("throttle", "sets no limit; give requests, concurrent or upload_bytes")
    return config


def _rule(reader: _Reader, value: object, key: str) -> ScheduleRule:
    data = reader.mapping(value, key, ("every", "share", "at", "status", "methods", "paths", "retry_after", "limit",
                                       "processed"))
    how = [name for name in ("every", "share", "at") if name in data]
    if len(how) != 1:
        raise reader.fail(key, "needs exactly one of every, share or at" + (f" (found {', '.join(how)})" if how
                                                                               else ""))
    every = share = None
    at: frozenset[int] = frozenset()
    if "every" in data:
        every = reader.whole(data["every"], f"{key}.every", 1)
    elif "share" in data:
        raw = data["share"]
        if isinstance(raw, bool) or not isinstance(raw, (int, float)) or not 0 <= raw <= 1:
            raise reader.fail(f"{key}.share", f"must be a number from 0 to 1 (found {_shown(raw)})")
        share = float(raw)
    else:
        raw = data["at"] if isinstance(data["at"], list) else [data["at"]]
        at = frozenset(reader.whole(n, f"{key}.at", 1) for n in raw)
    if "status" not in data:
        raise reader.fail(f"{key}.status", f"missing; one of {', '.join(map(str, FAULT_STATUSES))} (or a list)")
    raw_status = data["status"] if isinstance(data["status"], list) else [data["status"]]
    if not raw_status:
        raise reader.fail(f"{key}.status", "must name at least one status")
    statuses = tuple(reader.status(s, f"{key}.status") for s in raw_status)
    methods = frozenset(m.upper() for m in _strings(reader, data["methods"], f"{key}.methods")) \
        if "methods" in data else frozenset()
    processed = data.get("processed", False)
    if not isinstance(processed, bool):
        raise reader.fail(f"{key}.processed", f"must be true or false (found {_shown(processed)})")
    return ScheduleRule(
        statuses=statuses, every=every, share=share, at=at, methods=methods,
        paths=_strings(reader, data["paths"], f"{key}.paths") if "paths" in data else (),
        retry_after=reader.retry_after(data.get("retry_after"), f"{key}.retry_after"),
        retry_after_set="retry_after" in data,
        limit=reader.whole(data["limit"], f"{key}.limit", 1) if "limit" in data else None,
        processed=processed,
    )


def _latency(reader: _Reader, value: object) -> LatencyConfig:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = reader.seconds(value, "latency")
        return LatencyConfig(seconds, seconds)
    data = reader.mapping(value, "latency", ("fixed", "min", "max"))
    if "fixed" in data:
        if "min" in data or "max" in data:
            raise reader.fail("latency", "give fixed, or min and max, not both")
        seconds = reader.seconds(data["fixed"], "latency.fixed")
        return LatencyConfig(seconds, seconds)
    if "min" not in data or "max" not in data:
        raise reader.fail("latency", "needs fixed, or both min and max")
    low, high = reader.seconds(data["min"], "latency.min"), reader.seconds(data["max"], "latency.max")
    if high < low:
        raise reader.fail("latency.max", f"must not be below min ({low:g})")
    return LatencyConfig(low, high)


def _uploads(reader: _Reader, value: object) -> UploadFaultConfig:
    data = reader.mapping(value, "uploads", ("fail_chunks", "status", "retry_after", "expire_after"))
    raw = data.get("fail_chunks", [])
    chunks = frozenset(reader.whole(n, "uploads.fail_chunks", 1) for n in (raw if isinstance(raw, list) else [raw]))
    status = reader.status(data.get("status", 503), "uploads.status")
    retry_after = reader.retry_after(data["retry_after"], "uploads.retry_after") if "retry_after" in data \
        else default_retry_after(status)
    expire = reader.whole(data["expire_after"], "uploads.expire_after", 0) if "expire_after" in data else None
    if not chunks and expire is None:
        raise reader.fail("uploads", "sets no fault; give fail_chunks or expire_after")
    return UploadFaultConfig(chunks, status, retry_after, expire)


def parse_fault_config(data: object, source: str = "", lines: Mapping[str, int] | None = None) -> FaultConfig:
    """A fault configuration from parsed YAML (``lines``: key path -> line number, for messages)."""
    reader = _Reader(source, dict(lines or {}))
    if data is None:
        return FaultConfig(source=source)
    top = reader.mapping(data, "", ("seed", "throttle", "schedule", "latency", "uploads"))
    schedule_raw = top.get("schedule", [])
    if not isinstance(schedule_raw, list):
        raise reader.fail("schedule", f"expected a list of rules, found {_kind(schedule_raw)}")
    return FaultConfig(
        seed=reader.whole(top["seed"], "seed", 0) if "seed" in top else None,
        throttle=_throttle(reader, top["throttle"]) if top.get("throttle") is not None else None,
        schedule=tuple(_rule(reader, rule, f"schedule[{i}]") for i, rule in enumerate(schedule_raw)),
        latency=_latency(reader, top["latency"]) if top.get("latency") is not None else None,
        uploads=_uploads(reader, top["uploads"]) if top.get("uploads") is not None else None,
        source=source,
    )


def _key_lines(node: yaml.Node, key: str, out: dict[str, int]) -> None:
    out.setdefault(key, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            child = _join(key, str(key_node.value))
            out[child] = key_node.start_mark.line + 1
            _key_lines(value_node, child, out)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _key_lines(item, f"{key}[{i}]", out)


def load_fault_config(path: Path) -> FaultConfig:
    """Read a fault file; FaultConfigError (naming the file, line and key) when it cannot be used."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise FaultConfigError(f"{path}: not UTF-8 text") from None
    except OSError as exc:
        raise FaultConfigError(f"{path}: cannot be read: {exc.strerror or exc}") from None
    try:
        data = yaml.safe_load(text)
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise FaultConfigError(f"{path}: {where}not valid YAML: {problem}") from None
    lines: dict[str, int] = {}
    if node is not None:
        _key_lines(node, "", lines)
    return parse_fault_config(data, str(path), lines)


# ------------------------------------------------------------------ command-line shorthands

_RANGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(?:-\s*(\d+(?:\.\d+)?)\s*)?$")
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d+(?:\.\d+)?)\s*s?\s*$")


def parse_latency(text: str) -> LatencyConfig:
    """``--latency 0.2`` (fixed) or ``--latency 0.05-0.3`` (seeded, uniform)."""
    found = _RANGE.match(text)
    if found is None:
        raise FaultConfigError(f"--latency: {text!r} is not SECONDS or MIN-MAX (e.g. 0.2 or 0.05-0.3)")
    low = float(found.group(1))
    high = float(found.group(2)) if found.group(2) is not None else low
    if high < low:
        raise FaultConfigError(f"--latency: {text!r}: the maximum is below the minimum")
    return LatencyConfig(low, high)


def parse_rate_limit(text: str) -> ThrottleConfig:
    """``--rate-limit 20/60`` (20 requests per mailbox in any 60 seconds) or ``--rate-limit outlook``."""
    if text.strip().lower() == "outlook":
        return OUTLOOK_THROTTLE
    found = _RATE.match(text)
    if found is None or int(found.group(1)) < 1 or float(found.group(2)) <= 0:
        raise FaultConfigError(f"--rate-limit: {text!r} is not REQUESTS/SECONDS (e.g. 20/60) or 'outlook'")
    return ThrottleConfig(requests=int(found.group(1)), window=float(found.group(2)))


def parse_failure_rate(value: float) -> ScheduleRule:
    """``--failure-rate 0.1``: that share of all requests answered 429, 500, 502, 503 or 504 (seeded)."""
    if not 0 <= value <= 1:
        raise FaultConfigError(f"--failure-rate: {value:g} is not a share from 0 to 1")
    return ScheduleRule(statuses=FAULT_STATUSES, share=value)
