"""UploadChecks: findings that follow one upload session across its chunk PUTs."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from graphtape.addons.graph.upload_checks import (
    UploadChecks,
    UploadLink,
    parse_graph_datetime,
)

MiB = 1024 * 1024
SIZE = 10 * MiB
URL = "https://outlook.office.com/api/v2.0/Users('u')/Messages('m')/AttachmentSessions('s1')?authtoken=fake-1"
START = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


def _created(checks: UploadChecks, size: int = SIZE, expires: str = "2026-01-01T12:15:00.1234567Z") -> UploadLink:
    request = json.dumps({"AttachmentItem": {"attachmentType": "file", "name": "a.bin", "size": size}}).encode()
    answer = json.dumps({"uploadUrl": URL, "expirationDateTime": expires, "nextExpectedRanges": ["0-"]}).encode()
    link = checks.session_created(request, 201, answer)
    assert link == UploadLink("s1")
    return link


def _chunk(checks: UploadChecks, start: int, end: int, total: int = SIZE, *, url: str = URL,
           status: int | None = None, extra: dict[str, str] | None = None, length: int | None = None,
           answer: bytes | None = None, answer_headers: dict[str, str] | None = None) -> list[str]:
    """Send one chunk (and its answer, 200/201 by default); the codes of every finding it earned."""
    size = end - start + 1
    headers = {"content-range": f"bytes {start}-{end}/{total}", "content-length": str(size), **(extra or {})}
    link, findings = checks.chunk_request(url, headers, size if length is None else length)
    last = end + 1 == total
    status = status if status is not None else (201 if last else 200)
    if answer is None:
        answer = b"" if status == 201 else json.dumps(
            {"expirationDateTime": "2026-01-01T12:15:00Z", "nextExpectedRanges": [f"{end + 1}-"]}).encode()
    resp_headers = answer_headers if answer_headers is not None else ({"location": "https://x/a"} if last else {})
    findings += checks.chunk_response(url, link, status, resp_headers, answer)
    return [f.code for f in findings]


def _clean_upload(checks: UploadChecks) -> list[list[str]]:
    return [_chunk(checks, s, min(s + 3 * MiB, SIZE) - 1) for s in range(0, SIZE, 3 * MiB)]


def test_a_clean_upload_earns_nothing_and_links_each_chunk() -> None:
    checks = UploadChecks(Clock())
    _created(checks)
    assert _clean_upload(checks) == [[], [], [], []]
    link, _ = checks.chunk_request(URL, {"content-range": "bytes 0-0/1", "content-length": "1"}, 1)
    assert link.to_meta() == {"session": "s1", "step": "chunk", "chunk": 4, "range": "bytes 0-0/1"}


@pytest.mark.parametrize(("start", "end", "kwargs", "expected"), [
    (6 * MiB, 9 * MiB - 1, {}, ["upload-range-gap"]),
    (MiB, 4 * MiB - 1, {}, ["upload-range-overlap"]),
    (3 * MiB, 6 * MiB - 1, {"total": SIZE + 1}, ["upload-size-mismatch"]),
    (0, 4 * MiB - 1, {}, ["upload-chunk-too-large", "upload-range-overlap"]),
    (0, 3 * MiB - 1, {"extra": {"authorization": "Bearer fake-token-123"}}, ["upload-authorization-header",
                                                                            "upload-range-overlap"]),
    (0, 3 * MiB - 1, {"url": URL.split("?")[0]}, ["upload-missing-authtoken", "upload-range-overlap"]),
    (0, 3 * MiB - 1, {"extra": {"content-length": "5"}}, ["upload-content-length", "upload-range-overlap"]),
    (0, 3 * MiB - 1, {"extra": {"content-range": "bytes=0-9"}}, ["upload-content-range"]),
], ids=["gap", "overlap", "total", "too-large", "authorization", "no-authtoken", "content-length", "bad-range"])
def test_second_chunk_findings(start: int, end: int, kwargs: dict, expected: list[str]) -> None:
    checks = UploadChecks(Clock())
    _created(checks)
    assert _chunk(checks, 0, 3 * MiB - 1) == []
    status = {"status": 416} if expected else {}
    assert _chunk(checks, start, end, **{**status, **kwargs}) == expected


def test_a_refused_chunk_does_not_advance_the_session() -> None:
    checks = UploadChecks(Clock())
    _created(checks)
    assert _chunk(checks, 3 * MiB, 6 * MiB - 1, status=416) == ["upload-range-gap"]
    assert _chunk(checks, 0, 3 * MiB - 1) == []


def test_a_chunk_after_expiry_is_reported() -> None:
    clock = Clock()
    checks = UploadChecks(clock)
    _created(checks)
    assert _chunk(checks, 0, 3 * MiB - 1) == []
    clock.now = START + timedelta(minutes=16)  # the chunk's answer said 12:15
    assert _chunk(checks, 3 * MiB, 6 * MiB - 1, status=401) == ["upload-session-expired"]


@pytest.mark.parametrize(("status", "answer", "headers", "expected"), [
    (200, None, {}, ["unexpected-success-status"]),
    (201, b"", {}, ["missing-location-header"]),
    (500, b"{}", {}, []),
], ids=["last-answered-200", "no-location", "server-error"])
def test_last_chunk_answers(status: int, answer: bytes | None, headers: dict, expected: list[str]) -> None:
    checks = UploadChecks(Clock())
    _created(checks, size=10)
    assert _chunk(checks, 0, 9, total=10, status=status, answer=answer, answer_headers=headers) == expected


@pytest.mark.parametrize(("answer", "expected"), [
    (b"not json", ["invalid-json"]),
    (b'{"expirationDateTime": "2026-01-01T12:15:00Z"}', ["missing-required-property"]),
    (b'{"nextExpectedRanges": [5], "expirationDateTime": "soon"}', ["wrong-type", "wrong-type"]),
])
def test_progress_answers_are_checked(answer: bytes, expected: list[str]) -> None:
    checks = UploadChecks(Clock())
    _created(checks, size=10)
    assert _chunk(checks, 0, 4, total=10, answer=answer) == expected


def test_an_unknown_session_is_noted_and_then_followed() -> None:
    checks = UploadChecks(Clock())
    assert _chunk(checks, 0, 4, total=10) == ["upload-unknown-session"]
    assert _chunk(checks, 0, 4, total=10, status=416) == ["upload-range-overlap"]


def test_graph_datetimes() -> None:
    assert parse_graph_datetime("2019-09-25T01:09:30.7671707Z") == datetime(2019, 9, 25, 1, 9, 30, 767170,
                                                                           tzinfo=UTC)
    assert parse_graph_datetime("soon") is None
    assert parse_graph_datetime(5) is None
