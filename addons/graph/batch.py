"""JSON batching: reading a ``$batch`` request or answer, and naming the calls inside it.

Graph's JSON batching (https://learn.microsoft.com/en-us/graph/json-batching) takes
``POST /v1.0/$batch`` (or ``/beta/$batch``) with ``{"requests": [...]}``. Each item has an
``id`` (a string, unique in the batch, compared without regard to case), a ``method``, a
``url`` relative to the version (``/me/messages/{id}/attachments``: no host, no ``/v1.0``),
``headers`` (an object, required with a ``body``, which then needs ``Content-Type``), a
``body`` (a JSON value, or a base64 string for content that is not JSON) and ``dependsOn``
(the ids it waits for). At most 20 items. The answer is ``200`` with
``{"responses": [{"id", "status", "headers", "body"}]}``; a batch Graph cannot read is
answered ``400`` as a whole.

Pure logic: the simulator answers batches with it and the recorder checks them with it.

**Naming an item in a finding.** A finding inside a batch has a JSON path that starts with
the item's position in the batch and its id, then continues inside the item:
``$.requests[2](id=3).body.contentBytes`` is the ``contentBytes`` of the third request, whose
id is ``"3"``; ``$.responses[0](id=3).status`` is the status of its answer, wherever that
answer sits in the list. Positions count from 0, as in JSON; the id is written as sent.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from graphtape.addons.graph.routes import API_VERSIONS, RouteMatch, match_route

__all__ = [
    "BATCH_ROUTE_NAME",
    "BATCH_ROUTE_TEMPLATE",
    "INVALID_BATCH_MESSAGE",
    "MAX_BATCH_REQUESTS",
    "BatchItem",
    "BatchProblem",
    "BatchRequest",
    "BatchResponseItem",
    "batch_version",
    "execution_order",
    "http_body",
    "item_path",
    "item_route",
    "parse_batch_request",
    "parse_batch_response",
]

# json-batching: "JSON batch requests are currently limited to 20 individual requests".
MAX_BATCH_REQUESTS = 20
# How a batch is named in a cassette (meta.route, meta.route_template).
BATCH_ROUTE_NAME = "batch"
BATCH_ROUTE_TEMPLATE = "/$batch"
# What Graph answers a batch it cannot read (users quote it for absolute item URLs and
# malformed payloads, e.g. microsoft-graph-docs-contrib issue 8576).
INVALID_BATCH_MESSAGE = "Invalid batch payload format."

_ITEM_KEYS = frozenset({"id", "method", "url", "headers", "body", "dependsOn"})
_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"})
_VERSIONED = re.compile(r"^/?(v1\.0|beta)(/|$)", re.IGNORECASE)


def batch_version(method: str, url_or_path: str) -> str | None:
    """The API version of a ``$batch`` endpoint (``v1.0`` or ``beta``), or None for any other path.

    The method plays no part (a GET to ``$batch`` is still the batch endpoint, answered 405)."""
    del method
    path = urlsplit(url_or_path).path if "://" in url_or_path else url_or_path.split("?", 1)[0]
    parts = [unquote(p) for p in path.split("/") if p]
    if len(parts) != 2 or parts[0].lower() not in API_VERSIONS or parts[1].lower() != "$batch":
        return None
    return parts[0].lower()


@dataclass(frozen=True)
class BatchProblem:
    """Something wrong with a batch. ``whole`` problems make Graph refuse the whole batch (400);
    the others concern one item (Graph answers it, or ignores what it does not know)."""

    code: str
    path: str
    expected: str
    seen: str
    message: str
    whole: bool = True


@dataclass(frozen=True)
class BatchItem:
    """One request inside a batch, as sent."""

    position: int
    id: str
    method: str
    url: str
    headers: Mapping[str, str]  # names lower-cased
    body: Any = None
    has_body: bool = False
    depends_on: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """``$.requests[2](id=3)``: where this item's findings point."""
        return item_path("request", self.position, self.id)

    def body_bytes(self) -> bytes:
        """The item's body as the HTTP body it stands for (see :func:`http_body`)."""
        return http_body(self.body, self.has_body, self.headers)


@dataclass(frozen=True)
class BatchRequest:
    items: tuple[BatchItem, ...] = ()
    problems: tuple[BatchProblem, ...] = ()

    @property
    def readable(self) -> bool:
        """True when Graph would run the batch (no problem refuses it as a whole)."""
        return not any(p.whole for p in self.problems)

    def item(self, item_id: str) -> BatchItem | None:
        wanted = item_id.lower()
        return next((i for i in self.items if i.id.lower() == wanted), None)


@dataclass(frozen=True)
class BatchResponseItem:
    position: int
    id: str
    status: int | None
    headers: Mapping[str, str]  # names lower-cased
    body: Any = None
    has_body: bool = False

    def body_bytes(self) -> bytes:
        """The answer's body as HTTP would carry it (see :func:`http_body`)."""
        return http_body(self.body, self.has_body, self.headers)


def http_body(body: Any, has_body: bool, headers: Mapping[str, str]) -> bytes:
    """A batch item's ``body`` as the HTTP body it stands for: a JSON value serialised, or a
    base64 string decoded when the item's Content-Type (``headers``, names lower-cased) is not JSON."""
    if not has_body:
        return b""
    content_type = (headers.get("content-type") or "").lower()
    if isinstance(body, str) and "json" not in content_type:
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            return body.encode("utf-8")
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def item_path(kind: str, position: int, item_id: str | None) -> str:
    """``$.requests[2](id=3)`` or ``$.responses[0](id=3)``; without an id, just the position."""
    collection = "requests" if kind == "request" else "responses"
    return f"$.{collection}[{position}]" + (f"(id={item_id})" if item_id is not None else "")


def _describe(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _invalid(path: str, expected: str, seen: str, message: str) -> BatchProblem:
    return BatchProblem("batch-invalid", path, expected, seen, message)


def _headers(raw: object, where: str, problems: list[BatchProblem]) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        problems.append(_invalid(f"{where}.headers", "an object of header names to values", _describe(raw),
                                 "an item's headers are a JSON object"))
        return {}
    out: dict[str, str] = {}
    for name, value in raw.items():
        if isinstance(value, (dict, list)) or value is None:
            problems.append(_invalid(f"{where}.headers.{name}", "a string", _describe(value),
                                     "a header's value is a string"))
            continue
        out.setdefault(str(name).lower(), value if isinstance(value, str) else json.dumps(value))
    return out


def _item(position: int, raw: object, problems: list[BatchProblem]) -> BatchItem | None:
    where = item_path("request", position, None)
    if not isinstance(raw, dict):
        problems.append(_invalid(where, "an object", _describe(raw), "each entry of requests is a request object"))
        return None
    item_id = raw.get("id")
    if isinstance(item_id, str) and item_id:
        where = item_path("request", position, item_id)
    for key in ("id", "method", "url"):
        value = raw.get(key)
        if not isinstance(value, str) or not value:
            problems.append(_invalid(f"{where}.{key}", "a non-empty string",
                                     "absent" if key not in raw else _describe(value),
                                     f"every batch request names its {key}"))
    if not (isinstance(item_id, str) and item_id and isinstance(raw.get("method"), str)
            and isinstance(raw.get("url"), str) and raw["method"] and raw["url"]):
        return None
    method = str(raw["method"]).upper()
    url = str(raw["url"])
    if method not in _METHODS:
        problems.append(_invalid(f"{where}.method", "GET, POST, PUT, PATCH, DELETE or HEAD", method,
                                 "not an HTTP method Graph serves"))
    if "://" in url or url.startswith("//"):
        problems.append(_invalid(f"{where}.url", "a URL relative to the version, such as /me/messages", url[:80],
                                 "Graph refuses a batch whose items name absolute URLs"))
    elif (versioned := _VERSIONED.match(url)) is not None:
        problems.append(BatchProblem(
            "batch-versioned-url", f"{where}.url", "a URL relative to the version, such as /me/messages",
            url[:80], "the batch's own URL sets the version; Graph reads the item's first segment "
            f"('{versioned.group(1)}') as a resource and answers 400", whole=False))
    headers = _headers(raw.get("headers"), where, problems)
    has_body = "body" in raw
    if has_body and not headers.get("content-type"):
        problems.append(_invalid(f"{where}.headers.content-type", "a Content-Type header beside the body",
                                 "absent", f"Write request id : {item_id} does not contain Content-Type header "
                                           "or body."))
    depends = raw.get("dependsOn")
    depends_on: tuple[str, ...] = ()
    if depends is not None:
        if not isinstance(depends, list) or not all(isinstance(d, str) for d in depends):
            problems.append(_invalid(f"{where}.dependsOn", "an array of request ids", _describe(depends),
                                     "dependsOn lists the ids of requests in the same batch"))
        else:
            depends_on = tuple(depends)
    for key in sorted(set(raw) - _ITEM_KEYS):
        hint = " (dependsOn is the property Graph reads)" if key.lower().replace("_", "") == "dependson" else ""
        problems.append(BatchProblem(
            "batch-unknown-property", f"{where}.{key}", "id, method, url, headers, body or dependsOn", key,
            f"Graph ignores a batch request's {key!r}{hint}", whole=False))
    return BatchItem(position, item_id, method, url, headers, raw.get("body"), has_body, depends_on)


def _check_ids(items: list[BatchItem], problems: list[BatchProblem]) -> None:
    seen: dict[str, BatchItem] = {}
    for item in items:
        first = seen.setdefault(item.id.lower(), item)
        if first is not item:
            problems.append(BatchProblem(
                "batch-duplicate-id", f"{item.label}.id", "an id used once in the batch (case ignored)", item.id,
                f"the id is already used by {first.label}; Graph refuses the whole batch"))
    for item in items:
        for dep in item.depends_on:
            target = seen.get(dep.lower())
            if target is None:
                problems.append(BatchProblem(
                    "batch-unknown-dependency", f"{item.label}.dependsOn", "ids of requests in this batch", dep,
                    "dependsOn names a request that is not in the batch"))
            elif target is item:
                problems.append(BatchProblem(
                    "batch-unknown-dependency", f"{item.label}.dependsOn", "ids of other requests", dep,
                    "a request cannot depend on itself"))
    if not any(p.code == "batch-unknown-dependency" for p in problems) and execution_order(items) is None:
        problems.append(BatchProblem("batch-dependency-cycle", "$.requests", "dependsOn without cycles", "a cycle",
                                     "the requests' dependsOn form a cycle, so none of them could run first"))


def parse_batch_request(body: bytes) -> BatchRequest:
    """Read a ``$batch`` request body; never raises (problems say what is wrong)."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return BatchRequest((), (_invalid("$body", "a JSON object with a requests array", "not JSON",
                                          INVALID_BATCH_MESSAGE),))
    if not isinstance(data, dict) or not isinstance(data.get("requests"), list):
        seen = _describe(data.get("requests")) if isinstance(data, dict) and "requests" in data else (
            "no requests" if isinstance(data, dict) else _describe(data))
        return BatchRequest((), (_invalid("$.requests", "an array of requests", seen, INVALID_BATCH_MESSAGE),))
    raw_items = data["requests"]
    problems: list[BatchProblem] = []
    if not raw_items:
        problems.append(_invalid("$.requests", "1 to 20 requests", "none", "a batch holds at least one request"))
    if len(raw_items) > MAX_BATCH_REQUESTS:
        problems.append(BatchProblem(
            "batch-too-many-requests", "$.requests", f"at most {MAX_BATCH_REQUESTS} requests",
            f"{len(raw_items)} requests", f"a JSON batch holds at most {MAX_BATCH_REQUESTS} requests"))
    items = [item for position, raw in enumerate(raw_items) if (item := _item(position, raw, problems)) is not None]
    _check_ids(items, problems)
    return BatchRequest(tuple(items), tuple(problems))


def execution_order(items: list[BatchItem] | tuple[BatchItem, ...]) -> list[BatchItem] | None:
    """The items in an order that runs every request after those it depends on, otherwise as
    sent; None when ``dependsOn`` has a cycle. Unknown ids are ignored here."""
    by_id = {item.id.lower(): item for item in items}
    waiting = {item.id.lower(): {d.lower() for d in item.depends_on if d.lower() in by_id} for item in items}
    done: set[str] = set()
    order: list[BatchItem] = []
    while len(order) < len(items):
        ready = [i for i in items if i.id.lower() not in done and waiting[i.id.lower()] <= done]
        if not ready:
            return None
        order.append(ready[0])
        done.add(ready[0].id.lower())
    return order


def parse_batch_response(body: bytes) -> tuple[list[BatchResponseItem], str | None]:
    """The answers in a ``$batch`` response, and a problem when it is not one."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return [], "not JSON"
    if not isinstance(data, dict) or not isinstance(data.get("responses"), list):
        return [], "no responses array"
    out: list[BatchResponseItem] = []
    for position, raw in enumerate(data["responses"]):
        if not isinstance(raw, dict):
            continue
        item_id = raw.get("id")
        status = raw.get("status")
        raw_headers = raw.get("headers")
        headers: dict[Any, Any] = raw_headers if isinstance(raw_headers, dict) else {}
        out.append(BatchResponseItem(
            position, str(item_id) if item_id is not None else "",
            status if isinstance(status, int) and not isinstance(status, bool) else None,
            {str(k).lower(): str(v) for k, v in headers.items()}, raw.get("body"), "body" in raw))
    return out, None


def item_route(item: BatchItem, api_version: str) -> RouteMatch | None:
    """The attachment route an item calls (a POST creating attachments or carrying them), or None."""
    if "://" in item.url or _VERSIONED.match(item.url):
        return None
    url = item.url if item.url.startswith("/") else "/" + item.url
    return match_route(item.method, f"/{api_version}{url}")

