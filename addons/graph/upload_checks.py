"""Findings about upload sessions that only show across requests.

A chunk PUT is judged against its session: the size createUploadSession declared,
the bytes accepted so far, the expiration the service announced. :class:`UploadChecks`
keeps that per session, keyed by the upload URL's path (the token and host play no
part), learning sessions from createUploadSession answers and advancing them on
accepted chunks. It also names each interaction's place in its session
(:class:`UploadLink`), which the recorder stores in the cassette.

Pure logic, no mitmproxy; thread-safe.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from graphtape.addons.graph.routes import Operation, match_path
from graphtape.addons.graph.upload_ranges import (
    MAX_CHUNK_BYTES,
    ContentRange,
    Placement,
    RangeError,
    parse_content_range,
    place_chunk,
)
from graphtape.addons.graph.upload_urls import match_upload_url, session_key
from graphtape.cassettes.findings import Finding, Severity
from graphtape.cassettes.model import UPLOAD_SESSION_KEY, Interaction

__all__ = ["META_KEY", "UploadChecks", "UploadLink", "check_recorded", "parse_graph_datetime"]

# The key under an interaction's ``graphtape`` mapping that links it to its session.
META_KEY = UPLOAD_SESSION_KEY

_FRACTION = re.compile(r"(\.\d{6})\d+")


def parse_graph_datetime(value: object) -> datetime | None:
    """A DateTimeOffset as Graph writes it (``Z``, up to 7 fractional digits), or None."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(_FRACTION.sub(r"\1", value.strip()).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class UploadLink:
    """Where an interaction sits in an upload session (``chunk`` None: the session's creation)."""

    session_id: str
    chunk: int | None = None
    content_range: str | None = None
    last: bool = False  # the range ends at the declared total

    def to_meta(self) -> dict[str, Any]:
        data: dict[str, Any] = {"session": self.session_id}
        if self.chunk is None:
            data["step"] = "create"
        else:
            data.update(step="chunk", chunk=self.chunk, range=self.content_range)
        return data


@dataclass
class _Session:
    session_id: str
    declared_size: int | None
    expires: datetime | None
    received: int = 0
    chunks: int = 0


def _finding(severity: Severity, code: str, where: str, path: str, expected: str, seen: str,
             message: str) -> Finding:
    return Finding(severity, code, where, path, expected, seen, message)


def _declared_size(request_body: bytes) -> int | None:
    try:
        data = json.loads(request_body)
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict):
        return None
    for key in ("AttachmentItem", "attachmentItem", "attachmentInfo"):
        item = data.get(key)
        if isinstance(item, dict) and isinstance(item.get("size"), int):
            return int(item["size"])
    return None


def _json_object(body: bytes) -> dict[str, Any] | None:
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


class UploadChecks:
    """Sessions seen in one run, and the findings their chunks earn."""

    def __init__(self, clock: Callable[[], datetime] | None = None) -> None:
        self._clock = clock or (lambda: datetime.now(UTC))
        self._lock = threading.Lock()
        self._sessions: dict[str, _Session] = {}

    def session_created(self, request_body: bytes, status: int, response_body: bytes) -> UploadLink | None:
        """Learn the session a createUploadSession answer opened; its link, or None if none opened."""
        data = _json_object(response_body) if 200 <= status < 300 else None
        url = data.get("uploadUrl") if data else None
        if not isinstance(url, str):
            return None
        found = match_upload_url(url)
        session_id = found.session_id if found is not None else session_key(url)
        expires = parse_graph_datetime(data.get("expirationDateTime")) if data else None
        with self._lock:
            self._sessions[session_key(url)] = _Session(session_id, _declared_size(request_body), expires)
        return UploadLink(session_id)

    def chunk_request(self, url: str, headers: Mapping[str, str], body_length: int,
                      now: datetime | None = None) -> tuple[UploadLink, list[Finding]]:
        """Findings for a chunk PUT before it goes upstream; ``headers`` have lower-cased names.

        ``now``: when it was sent (default: the clock's time)."""
        key = session_key(url)
        found = match_upload_url(url)
        findings: list[Finding] = []
        if found is not None and found.kind == "todo":
            # To Do sessions live on Graph: chunks carry the bearer token and no authtoken (todo-attachments).
            pass
        elif headers.get("authorization") is not None:
            findings.append(_finding(
                Severity.ERROR, "upload-authorization-header", "request", "$headers.authorization", "absent",
                "present", "the upload URL is pre-authenticated by its authtoken; Graph's docs say to send no "
                "Authorization header there (Outlook answers 401)"))
        if (found is None or found.kind == "outlook") and not any(
                k.lower() == "authtoken" for k, _ in parse_qsl(urlsplit(url).query)):
            findings.append(_finding(
                Severity.ERROR, "upload-missing-authtoken", "request", "$query.authtoken", "the uploadUrl as "
                "returned, authtoken included", "absent", "the uploadUrl's authtoken query parameter was dropped"))
        chunk: ContentRange | None = None
        try:
            chunk = parse_content_range(headers.get("content-range"))
        except RangeError as exc:
            findings.append(_finding(Severity.ERROR, "upload-content-range", "request", "$headers.content-range",
                                     "bytes START-END/TOTAL", headers.get("content-range") or "absent", str(exc)))
        findings.extend(self._length_findings(headers, body_length, chunk))
        with self._lock:
            session = self._sessions.get(key)
            if session is None:
                session = self._sessions[key] = _Session(found.session_id if found else key, None, None)
                findings.append(_finding(
                    Severity.INFO, "upload-unknown-session", "request", "$url", "a session created in this "
                    "recording", "an upload URL not seen before", "its createUploadSession was not recorded in "
                    "this run, so the declared size and expiration cannot be checked"))
            index = session.chunks
            session.chunks += 1
            findings.extend(self._session_findings(session, chunk, now or self._clock()))
        link = UploadLink(session.session_id, index, str(chunk) if chunk else headers.get("content-range"),
                          bool(chunk and chunk.is_last))
        return link, findings

    def _length_findings(self, headers: Mapping[str, str], body_length: int,
                         chunk: ContentRange | None) -> list[Finding]:
        findings: list[Finding] = []
        declared = headers.get("content-length")
        if declared is None:
            findings.append(_finding(Severity.WARNING, "upload-content-length", "request",
                                     "$headers.content-length", "the chunk's length in bytes", "absent",
                                     "each chunk PUT carries a Content-Length header"))
        elif chunk is not None and declared.strip() != str(chunk.length):
            findings.append(_finding(Severity.ERROR, "upload-content-length", "request",
                                     "$headers.content-length", f"{chunk.length} (the Content-Range's length)",
                                     declared, f"Content-Length disagrees with Content-Range {chunk}"))
        if body_length >= MAX_CHUNK_BYTES:
            findings.append(_finding(Severity.ERROR, "upload-chunk-too-large", "request", "$body",
                                     f"under {MAX_CHUNK_BYTES} bytes (4 MB)", f"{body_length} bytes",
                                     "each chunk of an upload session must be under 4 MB"))
        return findings

    def _session_findings(self, session: _Session, chunk: ContentRange | None, now: datetime) -> list[Finding]:
        findings: list[Finding] = []
        if session.expires is not None and now >= session.expires:
            findings.append(_finding(
                Severity.ERROR, "upload-session-expired", "request", "$session.expirationDateTime",
                f"a chunk before {session.expires:%Y-%m-%dT%H:%M:%SZ}", f"sent at {now:%Y-%m-%dT%H:%M:%SZ}",
                "the upload session had expired; its URL's token is no longer valid"))
        if chunk is None:
            return findings
        if session.declared_size is not None and chunk.total != session.declared_size:
            findings.append(_finding(
                Severity.ERROR, "upload-size-mismatch", "request", "$headers.content-range",
                f"total {session.declared_size} (the size createUploadSession declared)", f"total {chunk.total}",
                "the chunk's total size differs from the size the session was created for"))
        placement = place_chunk(chunk, session.received)
        if placement is Placement.OVERLAP:
            findings.append(_finding(
                Severity.ERROR, "upload-range-overlap", "request", "$headers.content-range",
                f"a range starting at {session.received}", str(chunk),
                "the range overlaps bytes the session already accepted"))
        elif placement is Placement.GAP:
            findings.append(_finding(
                Severity.ERROR, "upload-range-gap", "request", "$headers.content-range",
                f"a range starting at {session.received}", str(chunk),
                "the range starts after the next expected byte: sent out of order, or bytes were skipped"))
        return findings

    def chunk_response(self, url: str, link: UploadLink, status: int, headers: Mapping[str, str],
                       body: bytes) -> list[Finding]:
        """Findings for a chunk's answer; an accepted chunk advances its session."""
        findings: list[Finding] = []
        data = _json_object(body) if status == 200 else None
        with self._lock:
            session = self._sessions.get(session_key(url))
            if session is not None and status in (200, 201) and link.content_range:
                try:
                    session.received = parse_content_range(link.content_range).end + 1
                except RangeError:
                    pass
                if data is not None:
                    announced = parse_graph_datetime(_fold_case(data).get("expirationDateTime"))
                    session.expires = announced or session.expires
        if status >= 300 or status < 200:
            return findings  # a refusal: the request's findings say why
        expected = 201 if link.last else 200
        if status != expected:
            findings.append(_finding(
                Severity.ERROR, "unexpected-success-status", "response", "$status", str(expected), str(status),
                "the last chunk is answered 201 Created, the others 200 OK"))
        if status == 201 and headers.get("location") is None:
            findings.append(_finding(
                Severity.ERROR, "missing-location-header", "response", "$headers.location",
                "the created attachment's URL", "absent", "the last chunk's answer names the attachment in Location"))
        if status == 200:
            findings.extend(_progress_findings(body, data))
        return findings


def check_recorded(checks: UploadChecks, interaction: Interaction) -> list[Finding] | None:
    """Fresh findings for a recorded chunk PUT, judged against the sessions recorded before
    it in the same cassette (its ``recorded_at`` stands in for the clock); None for any
    other interaction. A recorded createUploadSession is learned on the way."""
    req, resp = interaction.request, interaction.response
    if req.method.upper() == "POST":
        found = match_path(req.path)
        if found is not None and found.route.operation is Operation.CREATE_UPLOAD_SESSION:
            checks.session_created(req.body, resp.status_code, resp.body)
        return None
    if req.method.upper() != "PUT" or match_upload_url(req.uri) is None:
        return None
    when = parse_graph_datetime(interaction.meta.recorded_at)
    link, findings = checks.chunk_request(req.uri, req.headers.as_dict(), len(req.body), when)
    return findings + checks.chunk_response(req.uri, link, resp.status_code, resp.headers.as_dict(), resp.body)


def _fold_case(data: dict[str, Any]) -> dict[str, Any]:
    """The progress object with the two documented property names in their camelCase spelling."""
    names = {"nextexpectedranges": "nextExpectedRanges", "expirationdatetime": "expirationDateTime"}
    return {names.get(k.lower(), k): v for k, v in data.items()}


def _progress_findings(body: bytes, data: dict[str, Any] | None) -> list[Finding]:
    """An intermediate chunk's answer: ``{"expirationDateTime": ..., "nextExpectedRanges": [...]}``."""
    if data is None:
        return [_finding(Severity.ERROR, "invalid-json", "response", "$body", "a JSON object",
                         f"{len(body)} bytes that are not one", "an accepted chunk is answered with the session's "
                         "progress as JSON")]
    findings: list[Finding] = []
    # Outlook answers "nextExpectedRanges" beside "ExpirationDateTime", To Do "NextExpectedRanges"
    # (both large-attachment pages): the names are read case-insensitively.
    data = _fold_case(data)
    ranges = data.get("nextExpectedRanges")
    if "nextExpectedRanges" not in data:
        findings.append(_finding(Severity.ERROR, "missing-required-property", "response", "$.nextExpectedRanges",
                                 "nextExpectedRanges present", "absent", "the session's progress names the next "
                                 "expected ranges"))
    elif not isinstance(ranges, list) or not all(isinstance(r, str) for r in ranges):
        findings.append(_finding(Severity.ERROR, "wrong-type", "response", "$.nextExpectedRanges",
                                 "Collection(String)", type(ranges).__name__, "nextExpectedRanges is a list of "
                                 "strings such as \"3145728\""))
    if "expirationDateTime" in data and parse_graph_datetime(data["expirationDateTime"]) is None:
        findings.append(_finding(Severity.ERROR, "wrong-type", "response", "$.expirationDateTime",
                                 "DateTimeOffset", str(data["expirationDateTime"])[:80],
                                 "expirationDateTime is an ISO 8601 date and time"))
    return findings
