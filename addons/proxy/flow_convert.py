"""Conversions between mitmproxy flows and the cassette model, and Graph-style errors."""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from mitmproxy import connection, http

from graphtape.cassettes.model import Headers, Interaction, Request, Response

__all__ = [
    "GRAPH_JSON_CONTENT_TYPE",
    "MISS_STATUS",
    "RECORD_FAILURE_STATUS",
    "flow_from_interaction",
    "graph_error",
    "request_from_flow",
    "response_from_flow",
    "to_mitmproxy_response",
]

GRAPH_JSON_CONTENT_TYPE = (
    "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"
)

# Statuses no Graph answer uses, so a client (or its retry handler, which retries
# 429/503/504) never mistakes graphtape's own answers for Graph's.
MISS_STATUS = 599  # replay: nothing recorded matches
RECORD_FAILURE_STATUS = 598  # record: the interaction could not be written

# Everything RFC 3986 allows in a URI, "%" included (existing escapes stay as they are).
_URI_CHARACTERS = ":/?#[]@!$&'()*+,;=%~-._"


def _headers_from(fields: Any) -> Headers:
    return Headers(tuple(
        (k.decode("utf-8", "surrogateescape"), v.decode("utf-8", "surrogateescape")) for k, v in fields
    ))


def _fields_from(headers: Headers) -> tuple[tuple[bytes, bytes], ...]:
    return tuple(
        (k.encode("utf-8", "surrogateescape"), v.encode("utf-8", "surrogateescape")) for k, v in headers
    )


def request_from_flow(flow: http.HTTPFlow) -> Request:
    """The request as the upstream sees it (upstream URI in both proxy modes), body as sent."""
    req = flow.request
    return Request(
        method=req.method.upper(),
        uri=req.url,
        headers=_headers_from(req.headers.fields),
        body=req.raw_content or b"",
    )


def response_from_flow(flow: http.HTTPFlow) -> Response:
    resp = flow.response
    assert resp is not None
    return Response(
        status_code=resp.status_code,
        reason=resp.reason or "",
        headers=_headers_from(resp.headers.fields),
        body=resp.raw_content or b"",
    )


def flow_from_interaction(interaction: Interaction, timestamp: float) -> http.HTTPFlow:
    """A finished HTTP/1.1 flow holding the interaction's exact bytes (bodies still content-encoded,
    headers in recorded order and case), as if it had passed through mitmproxy at ``timestamp``.

    mitmproxy keeps a URL as scheme, host, port and path, so a URI that spells out its default
    port (``https://host:443/...``) comes back without it, and non-ASCII characters %-encoded;
    the caller keeps the original. Raises ValueError for a URI mitmproxy cannot hold.
    """
    req, resp = interaction.request, interaction.response
    request = http.Request(
        host="", port=0, method=req.method.encode("utf-8", "surrogateescape"), scheme=b"", authority=b"", path=b"",
        http_version=b"HTTP/1.1", headers=http.Headers(_fields_from(req.headers)), content=req.body,
        trailers=None, timestamp_start=timestamp, timestamp_end=timestamp,
    )
    request.url = quote(req.uri, safe=_URI_CHARACTERS)  # mitmproxy holds URLs as ASCII: non-ASCII %-encoded
    response = http.Response(
        http_version=b"HTTP/1.1", status_code=resp.status_code, reason=resp.reason.encode("utf-8", "surrogateescape"),
        headers=http.Headers(_fields_from(resp.headers)), content=resp.body, trailers=None,
        timestamp_start=timestamp, timestamp_end=timestamp,
    )
    client = connection.Client(peername=("127.0.0.1", 0), sockname=("127.0.0.1", 0), timestamp_start=timestamp)
    server = connection.Server(address=(request.host, request.port))
    flow = http.HTTPFlow(client, server)
    flow.request, flow.response = request, response
    flow.timestamp_created = timestamp
    return flow


_HOP_BY_HOP_H2 = {b"connection", b"keep-alive", b"proxy-connection", b"transfer-encoding", b"upgrade"}


def to_mitmproxy_response(resp: Response, flow: http.HTTPFlow) -> http.Response:
    """A mitmproxy response carrying the recorded bytes exactly (body still encoded)."""
    fields = _fields_from(resp.headers)
    http_version = flow.request.http_version
    if http_version.startswith("HTTP/2") or http_version.startswith("HTTP/3"):
        # Connection-specific headers are illegal in HTTP/2; a recorded HTTP/1.1
        # answer replayed to an HTTP/2 client must drop them.
        fields = tuple((k, v) for k, v in fields if k.lower() not in _HOP_BY_HOP_H2)
    now = time.time()
    return http.Response(
        http_version=http_version.encode() if http_version.startswith("HTTP/") else b"HTTP/1.1",
        status_code=resp.status_code,
        reason=resp.reason.encode("utf-8", "surrogateescape"),
        headers=http.Headers(fields),
        content=resp.body,
        trailers=None,
        timestamp_start=now,
        timestamp_end=now,
    )


def graph_error(status: int, code: str, message: str, *, reason: str = "", client_request_id: str | None = None,
                details: list[dict[str, str]] | None = None, extra: dict[str, Any] | None = None) -> http.Response:
    """An answer in Graph's error envelope, so SDK error handling shows the message."""
    request_id = str(uuid.uuid4())
    error: dict[str, Any] = {
        "code": code,
        "message": message,
        "innerError": {
            "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
            "request-id": request_id,
            "client-request-id": client_request_id or request_id,
        },
    }
    if details:
        error["details"] = details
    body: dict[str, Any] = {"error": error}
    if extra:
        body["graphtape"] = extra
    resp = http.Response.make(
        status,
        json.dumps(body, ensure_ascii=False, indent=2).encode("utf-8"),
        {"Content-Type": GRAPH_JSON_CONTENT_TYPE, "request-id": request_id,
         "client-request-id": client_request_id or request_id, "X-Graphtape": code},
    )
    if reason:
        resp.reason = reason
    return resp
