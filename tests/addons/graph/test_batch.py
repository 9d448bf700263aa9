"""Reading ``$batch`` requests and answers.

| table | truth source |
|---|---|
| BATCH_PATHS | https://learn.microsoft.com/en-us/graph/json-batching (the endpoint is POST /v1.0/$batch or /beta/$batch) |
| REFUSED | json-batching: items need id, method, url; ids unique (not case-sensitive); at most 20; headers (with Content-Type) required with a body; relative URLs; users' reports of "Invalid batch payload format." for absolute URLs (microsoft-graph-docs-contrib #8576) |
| ITEM_PROBLEMS | msgraph-sdk 1.65's BatchRequestItem writes `depends_on` (its serializer, batch_request_item.py; Graph reads `dependsOn`); the JS client 3.0.7 keeps `/v1.0` in item URLs, which Graph answers "Resource not found for the segment 'v1.0'" (msgraph-sdk-javascript #1178) |
| ORDERS | json-batching: dependsOn orders execution |
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from graphtape.addons.graph.batch import (
    MAX_BATCH_REQUESTS,
    BatchItem,
    batch_version,
    execution_order,
    item_route,
    parse_batch_request,
    parse_batch_response,
)

FILE = {"@odata.type": "#microsoft.graph.fileAttachment", "name": "a.txt", "contentBytes": "SGVsbG8="}
JSON = {"Content-Type": "application/json"}


def _item(item_id: str, **extra: Any) -> dict[str, Any]:
    return {"id": item_id, "method": "POST", "url": "/me/messages/AAMk=/attachments", "headers": JSON, "body": FILE,
            **extra}


def _batch(*items: Any) -> bytes:
    return json.dumps({"requests": list(items)}).encode()


BATCH_PATHS = [
    ("/v1.0/$batch", "v1.0"),
    ("/beta/$batch", "beta"),
    ("/V1.0/%24batch", "v1.0"),
    ("https://graph.microsoft.com/v1.0/$batch", "v1.0"),
    ("/v1.0/$batch?x=1", "v1.0"),
    ("/v2.0/$batch", None),
    ("/v1.0/me/$batch", None),
    ("/v1.0/me/messages", None),
]


@pytest.mark.parametrize(("path", "version"), BATCH_PATHS)
def test_the_batch_endpoint_is_recognised_on_both_versions(path: str, version: str | None) -> None:
    assert batch_version("POST", path) == version


# (case, body, the problem code, the path it names)
REFUSED: list[tuple[str, bytes, str, str]] = [
    ("not json", b"{requests", "batch-invalid", "$body"),
    ("no requests", b'{"value": []}', "batch-invalid", "$.requests"),
    ("requests not a list", b'{"requests": {}}', "batch-invalid", "$.requests"),
    ("empty", _batch(), "batch-invalid", "$.requests"),
    ("item not an object", _batch("x"), "batch-invalid", "$.requests[0]"),
    ("no id", _batch({"method": "GET", "url": "/me"}), "batch-invalid", "$.requests[0].id"),
    ("no url", _batch({"id": "1", "method": "GET"}), "batch-invalid", "$.requests[0](id=1).url"),
    ("no method", _batch({"id": "1", "url": "/me"}), "batch-invalid", "$.requests[0](id=1).method"),
    ("not a method", _batch({"id": "1", "method": "FETCH", "url": "/me"}), "batch-invalid",
     "$.requests[0](id=1).method"),
    ("absolute url", _batch(_item("1", url="https://graph.microsoft.com/v1.0/me/messages/AAMk=/attachments")),
     "batch-invalid", "$.requests[0](id=1).url"),
    ("body without content type", _batch(_item("1", headers={})), "batch-invalid",
     "$.requests[0](id=1).headers.content-type"),
    ("body without headers", _batch({k: v for k, v in _item("1").items() if k != "headers"}), "batch-invalid",
     "$.requests[0](id=1).headers.content-type"),
    ("ids differ only in case", _batch(_item("a"), _item("A")), "batch-duplicate-id", "$.requests[1](id=A).id"),
    ("21 requests", _batch(*[_item(str(i)) for i in range(MAX_BATCH_REQUESTS + 1)]), "batch-too-many-requests",
     "$.requests"),
    ("unknown dependency", _batch(_item("1", dependsOn=["9"])), "batch-unknown-dependency",
     "$.requests[0](id=1).dependsOn"),
    ("depends on itself", _batch(_item("1", dependsOn=["1"])), "batch-unknown-dependency",
     "$.requests[0](id=1).dependsOn"),
    ("cycle", _batch(_item("1", dependsOn=["2"]), _item("2", dependsOn=["1"])), "batch-dependency-cycle",
     "$.requests"),
    ("dependsOn not a list", _batch(_item("1", dependsOn="2")), "batch-invalid", "$.requests[0](id=1).dependsOn"),
]


@pytest.mark.parametrize(("case", "body", "code", "path"), REFUSED, ids=[c[0] for c in REFUSED])
def test_batches_graph_refuses_whole_are_named(case: str, body: bytes, code: str, path: str) -> None:
    batch = parse_batch_request(body)
    assert not batch.readable
    refusing = [(p.code, p.path) for p in batch.problems if p.whole]
    assert (code, path) in refusing, batch.problems


def test_twenty_requests_are_a_readable_batch() -> None:
    batch = parse_batch_request(_batch(*[_item(str(i)) for i in range(MAX_BATCH_REQUESTS)]))
    assert batch.readable and len(batch.items) == 20


ITEM_PROBLEMS = [
    ("msgraph-sdk's depends_on", _item("1", depends_on=[]), "batch-unknown-property", "$.requests[0](id=1).depends_on"),
    ("the JS client's versioned url", _item("1", url="/v1.0/me/messages/AAMk=/attachments"), "batch-versioned-url",
     "$.requests[0](id=1).url"),
]


@pytest.mark.parametrize(("case", "raw", "code", "path"), ITEM_PROBLEMS, ids=[c[0] for c in ITEM_PROBLEMS])
def test_what_graph_answers_per_item_or_ignores_leaves_the_batch_readable(case: str, raw: dict[str, Any], code: str,
                                                                          path: str) -> None:
    batch = parse_batch_request(_batch(raw))
    assert batch.readable
    assert [(p.code, p.path, p.whole) for p in batch.problems] == [(code, path, False)]


def test_an_item_is_read_as_sent() -> None:
    batch = parse_batch_request(_batch(_item("1"), {"id": "2", "method": "get", "url": "/me/messages?$top=1",
                                                    "dependsOn": ["1"]}))
    first, second = batch.items
    assert (first.id, first.method, first.headers, first.has_body) == ("1", "POST", {"content-type":
                                                                                      "application/json"}, True)
    assert json.loads(first.body_bytes()) == FILE
    assert (second.method, second.url, second.depends_on, second.has_body, second.body_bytes()) == (
        "GET", "/me/messages?$top=1", ("1",), False, b"")
    assert batch.item("1") is first and batch.item("9") is None


def test_a_base64_body_stands_for_the_bytes_when_the_content_type_is_not_json() -> None:
    png = b"\x89PNG\r\n\x1a\n"
    item = BatchItem(0, "1", "PUT", "/me/photo/$value", {"content-type": "image/png"},
                     base64.b64encode(png).decode(), True)
    assert item.body_bytes() == png


# (case, items as (id, dependsOn), expected order)
ORDERS: list[tuple[str, list[tuple[str, list[str]]], list[str] | None]] = [
    ("parallel: as sent", [("1", []), ("2", []), ("3", [])], ["1", "2", "3"]),
    ("a chain given backwards", [("3", ["2"]), ("2", ["1"]), ("1", [])], ["1", "2", "3"]),
    ("all on one", [("b", ["a"]), ("c", ["a"]), ("a", [])], ["a", "b", "c"]),
    ("ids compared without case", [("2", ["ONE"]), ("one", [])], ["one", "2"]),
    ("cycle", [("1", ["2"]), ("2", ["1"])], None),
]


@pytest.mark.parametrize(("case", "spec", "expected"), ORDERS, ids=[c[0] for c in ORDERS])
def test_items_run_after_what_they_depend_on(case: str, spec: list[tuple[str, list[str]]],
                                             expected: list[str] | None) -> None:
    items = [BatchItem(i, item_id, "GET", "/me", {}, depends_on=tuple(deps)) for i, (item_id, deps) in enumerate(spec)]
    order = execution_order(items)
    assert (None if order is None else [i.id for i in order]) == expected


def test_an_item_names_its_attachment_route_only_when_it_creates_attachments() -> None:
    batch = parse_batch_request(_batch(_item("1"), _item("2", method="GET"), _item("3", url="/me/events"),
                                       _item("4", url="/v1.0/me/messages/AAMk=/attachments")))
    routes = [item_route(item, "v1.0") for item in batch.items]
    assert routes[0] is not None and routes[0].route.name == "users-messages-attachments"
    assert routes[1] is None and routes[3] is None  # a GET creates nothing; a versioned URL is not the route
    assert routes[2] is not None and routes[2].route.operation.is_inline  # POST /me/events may carry attachments


def test_answers_are_read_with_their_ids_statuses_and_bodies() -> None:
    body = json.dumps({"responses": [
        {"id": "2", "status": 424, "headers": {"Content-Type": "application/json"}, "body": {"error": {}}},
        {"id": "1", "status": 201, "headers": {"Location": "x"}, "body": FILE},
        {"id": "3", "status": "201"},
    ]}).encode()
    answers, problem = parse_batch_response(body)
    assert problem is None
    assert [(a.position, a.id, a.status) for a in answers] == [(0, "2", 424), (1, "1", 201), (2, "3", None)]
    assert answers[1].headers == {"location": "x"} and json.loads(answers[1].body_bytes()) == FILE
    assert parse_batch_response(b"[]") == ([], "no responses array")
    assert parse_batch_response(b"<html>") == ([], "not JSON")
