"""Alerts about findings and drift: grouped, written as JSON Lines, sent to a webhook.

The same problem on a busy route would otherwise be reported on every call. So the
first occurrence of each distinct alert (kind, where, path, route, subtype, expected)
goes out at once, and repeats are only counted and rolled up into one ``repeat``
record per interval (and at the end). Alerts carry findings and a request line made
of the route template: no ids, no query, no headers, so no secrets.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from graphtape.addons.drift.webhook import WebhookSender
from graphtape.cassettes.findings import Finding
from graphtape.cassettes.redaction import (
    DEFAULT_BODY_FIELDS,
    DEFAULT_HEADERS,
    DEFAULT_QUERY_PARAMS,
    REDACTED,
)

__all__ = ["Alert", "AlertLog", "scrubbed"]

logger = logging.getLogger("graphtape")

GroupKey = tuple[str, str, str, str, str, str]


@dataclass(frozen=True)
class Alert:
    """One occurrence of a finding or drift on one exchange."""

    finding: Finding
    request_line: str  # "POST /v1.0/users/{user-id}/messages/{message-id}/attachments"
    route: str
    subtype: str
    status: int

    @property
    def key(self) -> GroupKey:
        f = self.finding
        # "seen" is left out: size "340" and size "185" are the same drift.
        return (f.code, f.where, f.path, self.route, self.subtype, f.expected)

    def record(self, now: str) -> dict[str, Any]:
        return {"type": "alert", "time": now, "kind": self.finding.code, "severity": self.finding.severity.value,
                "request": self.request_line, "subtype": self.subtype, "status": self.status,
                "finding": scrubbed(self.finding).to_dict()}


_SECRET_PARAM = re.compile(r"(?i)\b(" + "|".join(map(re.escape, sorted(DEFAULT_QUERY_PARAMS))) + r")=[^&\s\"']+")
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[^\s\"']+")


def scrubbed(finding: Finding) -> Finding:
    """``finding`` with secrets out of its seen value: a secret field's value, token query
    parameters and bearer credentials (a finding quotes what it saw; an alert leaves the machine)."""
    key = finding.path.rsplit(".", 1)[-1].strip("[]'").lower()
    if key in DEFAULT_BODY_FIELDS or key in DEFAULT_HEADERS:
        seen = REDACTED
    else:
        seen = _BEARER.sub(lambda m: f"{m.group(1)} {REDACTED}", finding.seen)
        seen = _SECRET_PARAM.sub(lambda m: f"{m.group(1)}={REDACTED}", seen)
    return finding if seen == finding.seen else replace(finding, seen=seen)


@dataclass
class _Group:
    first: dict[str, Any]
    total: int = 1
    unreported: int = 0
    last_emitted: float = 0.0


def _utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class AlertLog:
    """Groups alerts and hands each record to the JSON Lines file and the webhook."""

    def __init__(self, path: Path | None = None, webhook: WebhookSender | None = None, *,
                 rollup_seconds: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.path = path
        self.webhook = webhook
        self.rollup_seconds = rollup_seconds
        self.clock = clock
        self.groups: dict[GroupKey, _Group] = {}
        self.occurrences = 0
        self.records_written = 0
        self.write_failures = 0
        self._file: IO[str] | None = None
        if path is not None:
            self._file = path.open("a", encoding="utf-8")

    def add(self, alert: Alert) -> bool:
        """Count ``alert``; True when it is the first of its group (and went out at once)."""
        self.occurrences += 1
        now = self.clock()
        group = self.groups.get(alert.key)
        if group is None:
            record = alert.record(_utc_now())
            self.groups[alert.key] = _Group(first=record, last_emitted=now)
            self._emit(record)
            return True
        group.total += 1
        group.unreported += 1
        if now - group.last_emitted >= self.rollup_seconds:
            self._roll_up(group, now)
        return False

    def flush(self) -> None:
        """Roll up every repeat not yet reported (at the end of a run)."""
        now = self.clock()
        for group in self.groups.values():
            if group.unreported:
                self._roll_up(group, now)

    def close(self) -> None:
        self.flush()
        if self._file is not None:
            self._file.close()
            self._file = None
        if self.webhook is not None:
            self.webhook.close()

    def _roll_up(self, group: _Group, now: float) -> None:
        first = group.first
        record = {"type": "repeat", "time": _utc_now(), "kind": first["kind"], "severity": first["severity"],
                  "request": first["request"], "subtype": first["subtype"], "path": first["finding"]["path"],
                  "repeats": group.unreported, "total": group.total, "first_seen": first["time"]}
        group.unreported = 0
        group.last_emitted = now
        self._emit(record)

    def _emit(self, record: dict[str, Any]) -> None:
        if self._file is not None:
            try:
                self._file.write(json.dumps(record, ensure_ascii=False) + "\n")
                self._file.flush()
                self.records_written += 1
            except OSError as exc:
                self.write_failures += 1
                if self.write_failures == 1:
                    logger.warning(f"graphtape: cannot append to the alerts file {self.path}: {exc}")
        if self.webhook is not None:
            self.webhook.send(record)

    def summary(self) -> str:
        lines = [f"  alerts       {len(self.groups)} distinct, {self.occurrences} in all "
                 f"({self.occurrences - len(self.groups)} grouped as repeats)"]
        if self.path is not None:
            lines.append(f"    file       {self.path} ({self.records_written} records"
                         f"{f', {self.write_failures} write failures' if self.write_failures else ''})")
        if self.webhook is not None:
            w = self.webhook
            lines.append(f"    webhook    {w.sent} delivered, {w.failed} failed, {w.dropped} dropped")
        return "\n".join(lines)
