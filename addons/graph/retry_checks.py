"""Findings about retries, which only show across the interactions of a recording.

A *retry* of an interaction is a later interaction that sends the same request again: same
method, path, query and body (:func:`graphtape.cassettes.matching.request_key`, as replay
matches), or for an upload session's chunk, a PUT to the same session starting at the same
byte. The latest earlier attempt is the one a retry answers to.

What Graph's guidance says, and what is checked (codes in brackets):

- Throttled (429) or unavailable (503): wait the ``Retry-After`` seconds, then retry; keep
  retrying while throttled ("Microsoft Graph throttling guidance",
  https://learn.microsoft.com/en-us/graph/throttling, and the 503 row of
  https://learn.microsoft.com/en-us/graph/errors). Graph keeps counting requests while it
  throttles, so a retry before ``Retry-After`` elapsed prolongs the throttling
  [``retry-too-soon``]. An answer of 429, 503 or 504 with ``Retry-After`` that is never
  retried is a call the client gave up on [``retry-given-up``]; kiota's retry handler, for
  one, gives up at once when ``Retry-After`` is 180 seconds or more, or when the body is
  ``application/octet-stream`` (an upload chunk).
- Which calls are safe to retry: 429 and 503 say the service refused the request before
  doing it, so any method may be sent again. GET, HEAD, PUT, DELETE and OPTIONS are
  idempotent (RFC 9110, section 9.2.2): repeating them is always safe. A POST is not: a POST
  answered 2xx already created its attachment, and sending it again creates a second one
  [``retry-after-success``, when the re-send is marked as a retry by the ``Retry-Attempt``
  header Graph's SDKs set, or was sent before the first answer came back]. A POST answered
  500, 502 or 504 may or may not have been carried out (a gateway timed out or failed, not
  the work), so a retry can duplicate it [``retry-unknown-outcome``].

Times come from each interaction's ``recorded_at`` (when its answer was recorded) and its
``latency`` (graphtape's meta: seconds from the request to the upstream's answer), so a
request's send time is ``recorded_at - latency``; without ``latency`` the check uses
``recorded_at`` alone, which can only make a wait look longer (never a false alarm).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

from graphtape.addons.graph.upload_checks import parse_graph_datetime
from graphtape.addons.graph.upload_ranges import RangeError, parse_content_range
from graphtape.addons.graph.upload_urls import match_upload_url, session_key
from graphtape.cassettes.findings import Finding, Severity
from graphtape.cassettes.matching import request_key
from graphtape.cassettes.model import Interaction

__all__ = [
    "IDEMPOTENT_METHODS",
    "REFUSED_STATUSES",
    "RETRYABLE_STATUSES",
    "RetryTracker",
    "parse_retry_after",
    "retry_findings",
]

# What Graph's guidance (and every Graph SDK's retry handler) retries.
RETRYABLE_STATUSES = frozenset({429, 503, 504})
# Answers that say the work was not done, so even a POST may be sent again.
REFUSED_STATUSES = frozenset({429, 503})
# Answers after which a POST's outcome is unknown.
_UNKNOWN_OUTCOME = frozenset({500, 502, 504})
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
# Clocks and timestamps are not perfectly fine-grained; a retry this close to its Retry-After is on time.
_TOLERANCE = timedelta(milliseconds=50)
_SECONDS = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*$")


def parse_retry_after(value: str | None, answered: datetime | None = None,
                      date_header: str | None = None) -> float | None:
    """``Retry-After`` in seconds: delay-seconds (fractions accepted), or an HTTP date taken
    relative to the answer's ``Date`` header (else to ``answered``); None when absent or unreadable."""
    if value is None:
        return None
    found = _SECONDS.match(value)
    if found is not None:
        return float(found.group(1))
    try:
        moment = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError):
        return None
    base: datetime | None = None
    if date_header:
        try:
            base = parsedate_to_datetime(date_header.strip())
        except (TypeError, ValueError):
            base = None
    base = base or answered
    if base is None or moment.tzinfo is None:
        return None
    return max(0.0, (moment - base).total_seconds())


@dataclass(frozen=True)
class _Attempt:
    number: int  # the interaction's index in the cassette
    method: str
    status: int
    retry_after: float | None
    answered: datetime | None
    sent: datetime | None
    marked_retry: bool  # sent with Retry-Attempt (Graph's SDKs mark their retries so)

    @property
    def label(self) -> str:
        return f"interactions[{self.number}]"


def _identity(interaction: Interaction) -> tuple[object, ...]:
    """What a retry repeats: the request's match key; for a chunk, its session and first byte."""
    req = interaction.request
    if req.method.upper() == "PUT" and match_upload_url(req.uri) is not None:
        try:
            start: object = parse_content_range(req.headers.get("content-range")).start
        except RangeError:
            start = req.headers.get("content-range")
        return ("chunk", session_key(req.uri), start)
    return ("request", request_key(req))


def _attempt(number: int, interaction: Interaction) -> _Attempt:
    answered = parse_graph_datetime(interaction.meta.recorded_at)
    latency = interaction.meta.latency
    sent = answered - timedelta(seconds=latency) if answered is not None and latency is not None else answered
    response = interaction.response
    retry_after = parse_retry_after(response.headers.get("retry-after"), answered, response.headers.get("date"))
    return _Attempt(number, interaction.request.method.upper(), response.status_code, retry_after, answered, sent,
                    interaction.request.headers.get("retry-attempt") is not None)


def _finding(severity: Severity, code: str, expected: str, seen: str, message: str) -> Finding:
    return Finding(severity, code, "request", "$retry", expected, seen, message)


def _seconds(value: float) -> str:
    return f"{value:g} s"


def _retry_findings(previous: _Attempt, current: _Attempt) -> list[Finding]:
    findings: list[Finding] = []
    resend = f"{current.label} re-sends {previous.label}"
    if (previous.status in RETRYABLE_STATUSES and previous.retry_after is not None and previous.answered is not None
            and current.sent is not None):
        waited = (current.sent - previous.answered).total_seconds()
        if timedelta(seconds=waited) + _TOLERANCE < timedelta(seconds=previous.retry_after):
            findings.append(_finding(
                Severity.WARNING, "retry-too-soon", f"at least {_seconds(previous.retry_after)} after the answer "
                f"(Retry-After of {previous.label})", f"{_seconds(round(max(waited, 0.0), 3))}",
                f"{resend} ({previous.status}) before its Retry-After elapsed; Graph keeps counting requests "
                "while it throttles, so an early retry prolongs the throttling"))
    if previous.method not in IDEMPOTENT_METHODS:
        overlapped = (previous.answered is not None and current.sent is not None
                      and current.sent < previous.answered)
        if 200 <= previous.status < 300 and (current.marked_retry or overlapped):
            why = "marked as a retry (Retry-Attempt)" if current.marked_retry else "sent before its answer came back"
            findings.append(_finding(
                Severity.ERROR, "retry-after-success", f"no re-send of a {previous.method} that succeeded",
                f"{resend}, {why}; {previous.label} answered {previous.status}",
                f"a {previous.method} is not idempotent: {previous.label} already did its work, so sending it "
                "again does it twice (a second attachment)"))
        elif previous.status in _UNKNOWN_OUTCOME:
            findings.append(_finding(
                Severity.WARNING, "retry-unknown-outcome", f"a {previous.method} retried only after 429 or 503 "
                "(refused before it was carried out)", f"{resend}, which was answered {previous.status}",
                f"a {previous.status} does not say whether Graph carried the {previous.method} out; retrying it "
                "can create a duplicate (look for the created item before sending it again)"))
    return findings


def _given_up(attempt: _Attempt) -> Finding:
    retry_after = attempt.retry_after or 0.0
    return Finding(
        Severity.WARNING, "retry-given-up", "response", "$status",
        f"a retry after {_seconds(retry_after)} (Retry-After)", "no later attempt in the recording",
        f"{attempt.label} was answered {attempt.status} with Retry-After {_seconds(retry_after)} and never sent "
        "again; Graph's guidance is to wait that long and retry until it succeeds"
        + (" (kiota's retry handler does not retry at all when Retry-After is 180 s or more)"
           if retry_after >= 180 else ""))


class RetryTracker:
    """Follows the attempts of one recording, in order; thread-safe.

    :meth:`observe` gives the findings an interaction earns as a retry (live, before it is
    written); :meth:`given_up` the answers never retried (once the recording is complete)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last: dict[tuple[object, ...], _Attempt] = {}

    def observe(self, number: int, interaction: Interaction) -> list[Finding]:
        """Findings for interaction ``number`` as a retry of the latest earlier attempt of its request."""
        attempt = _attempt(number, interaction)
        identity = _identity(interaction)
        with self._lock:
            previous = self._last.get(identity)
            self._last[identity] = attempt
        return _retry_findings(previous, attempt) if previous is not None else []

    def given_up(self) -> list[tuple[int, Finding]]:
        """(interaction number, finding) for each retryable answer with Retry-After never retried."""
        with self._lock:
            last = sorted(self._last.values(), key=lambda a: a.number)
        return [(a.number, _given_up(a)) for a in last
                if a.status in RETRYABLE_STATUSES and a.retry_after is not None]


def retry_findings(interactions: Iterable[Interaction]) -> dict[int, list[Finding]]:
    """The retry findings of a whole recording, by interaction index."""
    tracker = RetryTracker()
    out: dict[int, list[Finding]] = {}
    for number, interaction in enumerate(interactions):
        found = tracker.observe(number, interaction)
        if found:
            out.setdefault(number, []).extend(found)
    for number, finding in tracker.given_up():
        out.setdefault(number, []).append(finding)
    return out
