"""Retry findings across a recording.

| table | truth source |
|---|---|
| SEQUENCES | Microsoft Graph throttling guidance (https://learn.microsoft.com/en-us/graph/throttling: wait Retry-After, retry until it succeeds, requests keep counting while throttled); RFC 9110 9.2.2 (idempotent methods); the retry behaviour of kiota-http 1.16 as measured against a loopback server (3 retries of 429/503/504 including POST, `Retry-Attempt: n`, none when Retry-After >= 180 s or the body is application/octet-stream) |
| RETRY_AFTER | RFC 9110 10.2.3 (delay-seconds or an HTTP-date); kiota reads "1.5" as no value, graphtape's check reads it as 1.5 s so a too-early retry is still seen |
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from graphtape.addons.graph.retry_checks import RetryTracker, parse_retry_after, retry_findings
from graphtape.cassettes.model import LATENCY_KEY, Headers, Interaction, InteractionMeta, Request, Response

T0 = datetime(2026, 11, 26, 20, 40, tzinfo=UTC)
POST = ("POST", "https://graph.microsoft.com/v1.0/me/messages/AAMk=/attachments")
GET = ("GET", "https://graph.microsoft.com/v1.0/me/messages/AAMk=/attachments")
CHUNK = ("PUT", "https://outlook.office.com/api/v2.0/Users('u')/Messages('m')/AttachmentSessions('s')?authtoken=x")


def _at(seconds: float) -> str:
    return (T0 + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _it(call: tuple[str, str], answered: float, status: int, retry_after: str | None = None, *,
        latency: float | None = 0.01, retry_attempt: int | None = None, content_range: str | None = None,
        date: str | None = None, body: bytes = b'{"name": "a.txt"}') -> Interaction:
    headers = [("Content-Type", "application/json")]
    if retry_attempt is not None:
        headers.append(("Retry-Attempt", str(retry_attempt)))
    if content_range is not None:
        headers = [("Content-Type", "application/octet-stream"), ("Content-Range", content_range)]
        body = b"x" * 4
    answer = [("Retry-After", retry_after)] if retry_after is not None else []
    if date is not None:
        answer.append(("Date", date))
    extra = ((LATENCY_KEY, latency),) if latency is not None else ()
    return Interaction(Request(call[0], call[1], Headers.of(headers), body),
                       Response(status, "", Headers.of(answer), b""),
                       InteractionMeta(recorded_at=_at(answered), extra=extra))


# (case, the recording, {interaction index: [codes]})
SEQUENCES: list[tuple[str, list[Interaction], dict[int, list[str]]]] = [
    ("kiota: 429 Retry-After 1, retried 1 s later", [
        _it(POST, 0, 429, "1"), _it(POST, 1.06, 201, retry_attempt=1, latency=0.05)], {}),
    ("retried 0.3 s after a Retry-After of 1", [
        _it(POST, 0, 429, "1"), _it(POST, 0.31, 201, retry_attempt=1)], {1: ["retry-too-soon"]}),
    ("the upstream's latency counts: sent 0.7 s after", [
        _it(POST, 0, 429, "1"), _it(POST, 1.2, 201, latency=0.5)], {1: ["retry-too-soon"]}),
    ("without a recorded latency the answer time stands for the send time", [
        _it(POST, 0, 429, "1"), _it(POST, 1.2, 201, latency=None)], {}),
    ("an HTTP-date Retry-After, counted from the answer's Date", [
        _it(POST, 0, 503, format_datetime(T0 + timedelta(seconds=2), usegmt=True),
            date=format_datetime(T0, usegmt=True)), _it(POST, 1.0, 201)], {1: ["retry-too-soon"]}),
    ("503 with Retry-After, waited", [_it(POST, 0, 503, "1"), _it(POST, 1.5, 201)], {}),
    ("kiota exhausts its 3 retries", [
        _it(POST, 0, 429, "1"), _it(POST, 1.1, 429, "1", retry_attempt=1), _it(POST, 2.2, 429, "1", retry_attempt=2),
        _it(POST, 3.3, 429, "1", retry_attempt=3)], {3: ["retry-given-up"]}),
    ("kiota does not retry a Retry-After of 180 s", [_it(POST, 0, 429, "180")], {0: ["retry-given-up"]}),
    ("a 429 without Retry-After left alone is not judged", [_it(POST, 0, 429)], {}),
    ("a POST that succeeded, re-sent as a retry", [
        _it(POST, 0, 201), _it(POST, 0.5, 201, retry_attempt=1)], {1: ["retry-after-success"]}),
    ("a POST re-sent before its answer came (a client timeout)", [
        _it(POST, 2.0, 201), _it(POST, 2.5, 201, latency=1.0)], {1: ["retry-after-success"]}),
    ("the same POST sent again later, not as a retry", [_it(POST, 0, 201), _it(POST, 5, 201)], {}),
    ("kiota retries a POST answered 504", [
        _it(POST, 0, 504), _it(POST, 4.2, 201, retry_attempt=1)], {1: ["retry-unknown-outcome"]}),
    ("a GET retried after 504 is safe", [_it(GET, 0, 504), _it(GET, 4.2, 200)], {}),
    ("a chunk answered 503 and sent again from the same byte", [
        _it(CHUNK, 0, 503, "1", content_range="bytes 0-3/8"), _it(CHUNK, 1.5, 200, content_range="bytes 0-3/8")], {}),
    ("kiota never retries an octet-stream chunk", [
        _it(CHUNK, 0, 200, content_range="bytes 0-3/8"), _it(CHUNK, 1, 503, "1", content_range="bytes 4-7/8")],
     {1: ["retry-given-up"]}),
    ("another request in between does not break the link", [
        _it(POST, 0, 429, "2"), _it(GET, 0.5, 200), _it(POST, 0.9, 201)], {2: ["retry-too-soon"]}),
]


@pytest.mark.parametrize(("case", "recording", "expected"), SEQUENCES, ids=[c[0] for c in SEQUENCES])
def test_retries_are_judged_by_graphs_guidance(case: str, recording: list[Interaction],
                                               expected: dict[int, list[str]]) -> None:
    found = retry_findings(recording)
    assert {i: [f.code for f in fs] for i, fs in found.items()} == expected


def test_findings_name_both_interactions_and_the_wait() -> None:
    found = retry_findings([_it(POST, 0, 429, "1"), _it(POST, 0.31, 201, retry_attempt=1)])
    (finding,) = found[1]
    assert "interactions[1] re-sends interactions[0] (429)" in finding.message
    assert finding.seen == "0.3 s" and finding.expected.startswith("at least 1 s after the answer")
    given_up = retry_findings([_it(POST, 0, 429, "180")])[0][0]
    assert "interactions[0] was answered 429 with Retry-After 180 s" in given_up.message
    assert "180 s or more" in given_up.message


def test_the_live_tracker_numbers_interactions_from_where_the_run_starts() -> None:
    tracker = RetryTracker()
    assert tracker.observe(7, _it(POST, 0, 429, "1")) == []
    assert tracker.given_up()[0][0] == 7
    assert [f.code for f in tracker.observe(8, _it(POST, 0.2, 201))] == ["retry-too-soon"]
    assert tracker.given_up() == []


RETRY_AFTER = [
    ("1", None, None, 1.0),
    ("0", None, None, 0.0),
    ("1.5", None, None, 1.5),
    (format_datetime(T0 + timedelta(seconds=30), usegmt=True), None, format_datetime(T0, usegmt=True), 30.0),
    (format_datetime(T0 + timedelta(seconds=30), usegmt=True), T0 + timedelta(seconds=10), None, 20.0),
    (format_datetime(T0 - timedelta(seconds=30), usegmt=True), T0, None, 0.0),
    ("soon", T0, None, None),
    (None, T0, None, None),
]


@pytest.mark.parametrize(("value", "answered", "date", "seconds"), RETRY_AFTER)
def test_retry_after_is_read_as_seconds_or_a_date(value: str | None, answered: datetime | None, date: str | None,
                                                  seconds: float | None) -> None:
    assert parse_retry_after(value, answered, date) == seconds
