"""The simulator's upload sessions: open one, take chunks in order, hand back the file.

Pure logic with no HTTP in it: :class:`UploadSessions` answers with an
:class:`UploadRefusal` (status, Graph error code, message) or a
:class:`ChunkAccepted`; ``GraphSimulation`` turns those into Graph-shaped answers and
creates the attachment when the last byte arrives.

Two kinds of session, as Graph documents them: **Outlook** (messages, events, posts,
Outlook tasks; the URL is pre-authenticated by its ``authtoken``) and **To Do** (the URL is
on Graph and chunks carry the caller's bearer token, which the engine checks).

Refusals, in the order they are checked (the first applies):
unknown, finished or cancelled session 404; for Outlook sessions an ``Authorization``
header 401 ``InvalidAudience`` (the upload URL is pre-authenticated; users report this
answer when an SDK sends its Graph token there), a missing or wrong ``authtoken`` 401;
an expired session 401 (the URL's token expires at ``expirationDateTime``); a missing or malformed
Content-Range, a total that is not the declared size, or a body whose length is not
the range's 400 ``InvalidRange``; a chunk of 4 MiB or more 413; a range that overlaps
received bytes or leaves a gap 416 ``InvalidRange``.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl

from graphtape.addons.graph.upload_ranges import (
    MAX_CHUNK_BYTES,
    Placement,
    RangeError,
    next_expected_ranges,
    parse_content_range,
    place_chunk,
)
from graphtape.addons.graph.upload_urls import UploadKind

__all__ = [
    "SESSION_LIFETIME",
    "ChunkAccepted",
    "UploadRefusal",
    "UploadSession",
    "UploadSessions",
]

# The simulator's choice (Graph documents no figure): long enough for any test.
SESSION_LIFETIME = timedelta(minutes=15)


@dataclass
class UploadSession:
    """One open session: what was declared, where it attaches, the bytes so far."""

    session_id: str
    token: str
    declared: dict[str, Any]  # the AttachmentItem / attachmentInfo as sent
    size: int
    owner: Any  # the collection the finished attachment lands in (opaque here)
    expires: datetime
    kind: UploadKind = "outlook"
    received: bytearray = field(default_factory=bytearray)


@dataclass(frozen=True)
class UploadRefusal:
    status: int
    code: str
    message: str


@dataclass(frozen=True)
class ChunkAccepted:
    session: UploadSession
    complete: bool  # the last byte arrived: the file is ``session.received``

    @property
    def next_expected_ranges(self) -> list[str]:
        return next_expected_ranges(len(self.session.received))


def _fake_token() -> str:
    # Obviously fake, never mistaken for a real credential, unique per session.
    return "fake-upload-token-" + secrets.token_hex(8)


class UploadSessions:
    """Open sessions by id; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sessions: dict[str, UploadSession] = {}

    def open(self, session_id: str, declared: dict[str, Any], size: int, owner: Any,
             now: datetime, kind: UploadKind = "outlook") -> UploadSession:
        session = UploadSession(session_id, _fake_token(), declared, size, owner, now + SESSION_LIFETIME, kind)
        with self._lock:
            self._sessions[session_id] = session
        return session

    def put(self, session_id: str, query: str, headers: Mapping[str, str], body: bytes,
            now: datetime) -> UploadRefusal | ChunkAccepted:
        """Take one chunk; ``headers`` have lower-cased names."""
        with self._lock:
            session = self._sessions.get(session_id)
            if session is None:
                return UploadRefusal(404, "ErrorItemNotFound",
                                     f"No open upload session '{session_id}': it never existed or has finished.")
            refusal = self._access_refusal(session, query, headers, now) or self._range_refusal(
                session, headers, body)
            if refusal is not None:
                return refusal
            # The token's expiry stays as createUploadSession announced it (outlook-large-attachments,
            # step 2: "remains the same"; the To Do walkthrough says the same).
            session.received += body
            complete = len(session.received) == session.size
            if complete:
                del self._sessions[session_id]
            return ChunkAccepted(session, complete)

    def expire(self, session_id: str, now: datetime) -> bool:
        """Make an open session expire at ``now``; False when there is no such session."""
        with self._lock:
            session = self._sessions.get(session_id)
            if session is None:
                return False
            session.expires = min(session.expires, now)
            return True

    def cancel(self, session_id: str, query: str, headers: Mapping[str, str],
               now: datetime) -> UploadRefusal | None:
        """DELETE on the upload URL: the session ends, its bytes are dropped; None when done."""
        with self._lock:
            session = self._sessions.get(session_id)
            if session is None:
                return UploadRefusal(404, "ErrorItemNotFound",
                                     f"No open upload session '{session_id}': it never existed or has finished.")
            refusal = self._access_refusal(session, query, headers, now)
            if refusal is None:
                del self._sessions[session_id]
            return refusal

    @staticmethod
    def _access_refusal(session: UploadSession, query: str, headers: Mapping[str, str],
                        now: datetime) -> UploadRefusal | None:
        if session.kind == "todo":  # Graph itself: the bearer token was checked by the engine
            if now >= session.expires:
                return UploadRefusal(401, "InvalidAuthenticationToken",
                                     f"The upload session expired at {session.expires:%Y-%m-%dT%H:%M:%SZ}; "
                                     "create a new one.")
            return None
        if headers.get("authorization"):
            return UploadRefusal(401, "InvalidAudience",
                                 "The upload URL is pre-authenticated by its authtoken query parameter: send "
                                 "chunks without an Authorization header.")
        tokens = [v for k, v in parse_qsl(query, keep_blank_values=True) if k.lower() == "authtoken"]
        if not tokens or not tokens[0]:
            return UploadRefusal(401, "InvalidAuthenticationToken",
                                 "The upload URL's authtoken query parameter is missing.")
        if not secrets.compare_digest(tokens[0], session.token):
            return UploadRefusal(401, "InvalidAuthenticationToken",
                                 "The upload URL's authtoken is not valid for this session.")
        if now >= session.expires:
            return UploadRefusal(401, "InvalidAuthenticationToken",
                                 f"The upload session expired at {session.expires:%Y-%m-%dT%H:%M:%SZ}; "
                                 "create a new one.")
        return None

    @staticmethod
    def _range_refusal(session: UploadSession, headers: Mapping[str, str], body: bytes) -> UploadRefusal | None:
        try:
            chunk = parse_content_range(headers.get("content-range"))
        except RangeError as exc:
            return UploadRefusal(400, "InvalidRange", f"{exc}.")
        if chunk.total != session.size:
            return UploadRefusal(400, "InvalidRange",
                                 f"Content-Range {chunk} gives a total of {chunk.total} bytes; the session was "
                                 f"created for {session.size}.")
        if len(body) != chunk.length:
            return UploadRefusal(400, "InvalidRange",
                                 f"Content-Range {chunk} names {chunk.length} bytes; the body has {len(body)}.")
        if len(body) >= MAX_CHUNK_BYTES:
            return UploadRefusal(413, "RequestEntityTooLarge",
                                 f"A chunk of {len(body)} bytes; each chunk must be under 4 MB "
                                 f"({MAX_CHUNK_BYTES} bytes).")
        placement = place_chunk(chunk, len(session.received))
        expected = next_expected_ranges(len(session.received))[0]
        if placement is Placement.OVERLAP:
            return UploadRefusal(416, "InvalidRange",
                                 f"Content-Range {chunk} overlaps bytes already received; the next expected "
                                 f"range is {expected}.")
        if placement is Placement.GAP:
            return UploadRefusal(416, "InvalidRange",
                                 f"Content-Range {chunk} starts after the next expected byte (out of order or a "
                                 f"gap); the next expected range is {expected}.")
        return None
