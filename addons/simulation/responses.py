"""How the simulator's answers look on the wire: headers, JSON bodies, Graph's error envelope.

Every answer carries what Graph's do (https://learn.microsoft.com/en-us/graph/errors and
the response examples of the API reference): ``Date``, ``request-id`` (a fresh GUID),
``client-request-id`` (the client's, or a fresh GUID), ``Cache-Control: private``, and
for JSON ``OData-Version: 4.0`` with Graph's full OData media type. An error is
``{"error": {"code", "message", "innerError": {"date", "request-id", "client-request-id"}}}``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

from graphtape.addons.graph.validation import header_value

__all__ = [
    "GRAPH_JSON_CONTENT_TYPE",
    "Exchange",
    "GraphRejection",
    "SimulatedResponse",
    "dumps",
    "error_answer",
    "http_date",
    "json_answer",
    "method_not_allowed",
    "no_content",
    "not_found",
    "raw_answer",
]

GRAPH_JSON_CONTENT_TYPE = (
    "application/json;odata.metadata=minimal;odata.streaming=true;"
    "IEEE754Compatible=false;charset=utf-8"
)
_NOT_FOUND = "The specified object was not found in the store."


@dataclass
class SimulatedResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        return header_value(self.headers, name)

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Exchange:
    """Per-request facts every answer carries (request ids, the time); drift variants see it too."""

    request_id: str
    client_request_id: str
    moment: datetime
    extra_headers: list[tuple[str, str]] = field(default_factory=list)

    @property
    def timestamp(self) -> str:
        """The moment as Graph writes a DateTimeOffset property: ``2026-11-26T20:40:00Z``."""
        return self.moment.strftime("%Y-%m-%dT%H:%M:%SZ")



class GraphRejection(Exception):
    """A Graph error answer, raised inside a handler (or a pipeline stage)."""

    def __init__(self, status: int, code: str, message: str,
                 headers: list[tuple[str, str]] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or []


def dumps(data: object) -> bytes:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def http_date(moment: datetime) -> str:
    """``Date`` as HTTP writes it: ``Thu, 26 Nov 2026 20:40:00 GMT``."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return format_datetime(moment.astimezone(UTC), usegmt=True)


def _common_headers(exchange: Exchange) -> list[tuple[str, str]]:
    return [
        ("Date", http_date(exchange.moment)),
        ("request-id", exchange.request_id),
        ("client-request-id", exchange.client_request_id),
        ("Cache-Control", "private"),
    ]


def json_answer(status: int, data: dict[str, Any], exchange: Exchange) -> SimulatedResponse:
    headers = [("Content-Type", GRAPH_JSON_CONTENT_TYPE), *_common_headers(exchange), ("OData-Version", "4.0"),
               *exchange.extra_headers]
    return SimulatedResponse(status, headers, dumps(data))


def raw_answer(status: int, body: bytes, content_type: str, exchange: Exchange) -> SimulatedResponse:
    headers = [("Content-Type", content_type), *_common_headers(exchange), *exchange.extra_headers]
    return SimulatedResponse(status, headers, body)


def no_content(status: int, exchange: Exchange) -> SimulatedResponse:
    """An answer without a body: no Content-Type; Outlook's final 201 (and a 202) says ``Content-Length: 0``,
    a 204 carries no length at all (HTTP forbids one there)."""
    length = [] if status == 204 else [("Content-Length", "0")]
    return SimulatedResponse(status, [*_common_headers(exchange), *exchange.extra_headers, *length], b"")


def error_answer(rejection: GraphRejection, exchange: Exchange) -> SimulatedResponse:
    envelope = {
        "error": {
            "code": rejection.code,
            "message": rejection.message,
            "innerError": {
                "date": exchange.timestamp,  # a DateTimeOffset, as the metadata declares it
                "request-id": exchange.request_id,
                "client-request-id": exchange.client_request_id,
            },
        }
    }
    headers = [("Content-Type", GRAPH_JSON_CONTENT_TYPE), *_common_headers(exchange), *rejection.headers]
    return SimulatedResponse(rejection.status, headers, dumps(envelope))


def method_not_allowed(verb: str, allowed: str) -> GraphRejection:
    return GraphRejection(405, "MethodNotAllowed", f"The HTTP method '{verb}' is not allowed on this resource.",
                          [("Allow", allowed)])


def not_found(message: str = _NOT_FOUND) -> GraphRejection:
    return GraphRejection(404, "ErrorItemNotFound", message)
