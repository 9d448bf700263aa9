"""Findings for a ``$batch``: each attachment call inside it checked as if sent on its own.

| table | truth source |
|---|---|
| ITEM_CASES | the same bodies' findings when POSTed alone (graphtape's validator, itself judged against Microsoft's CSDL and docs in test_validation_truth.py); the item is named by position and id as this module's convention says |
| answers | https://learn.microsoft.com/en-us/graph/json-batching: a readable batch is answered 200, one response per request |
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from graphtape.addons.graph.batch_checks import (
    batch_request_findings,
    batch_response_findings,
    check_recorded_batch,
    is_attachment_batch,
)
from graphtape.addons.graph.routes import match_route
from graphtape.addons.graph.validation import validate_request
from graphtape.cassettes.model import Headers, Interaction, Request, Response

PATH = "/me/messages/AAMk=/attachments"
FILE = {"@odata.type": "#microsoft.graph.fileAttachment", "name": "a.txt", "contentBytes": "SGVsbG8="}
JSON = {"Content-Type": "application/json"}


def _request(*items: dict[str, Any], version: str = "v1.0") -> Request:
    return Request("POST", f"https://graph.microsoft.com/{version}/$batch", Headers.of(JSON),
                   json.dumps({"requests": list(items)}).encode())


def _item(item_id: str, body: Any = FILE, **extra: Any) -> dict[str, Any]:
    return {"id": item_id, "method": "POST", "url": PATH, "headers": JSON, "body": body, **extra}


# (case, the bad body sent as item "c" in third place)
ITEM_CASES: list[tuple[str, Any]] = [
    ("invalid base64", {**FILE, "contentBytes": "not base64!"}),
    ("no @odata.type", {"name": "a.txt", "contentBytes": "SGVsbG8="}),
    ("unknown property", {**FILE, "colour": "red"}),
    ("size as a string", {**FILE, "size": "12"}),
]


@pytest.mark.parametrize(("case", "bad"), ITEM_CASES, ids=[c[0] for c in ITEM_CASES])
def test_an_item_gets_the_findings_it_would_get_alone_under_its_id(case: str, bad: Any) -> None:
    alone = validate_request(match_route("POST", f"/v1.0{PATH}"), "POST", {"content-type": "application/json"},
                             json.dumps(bad).encode())
    assert alone, "the table's bodies are all wrong on their own"
    _, found = batch_request_findings(_request(_item("a"), _item("b"), _item("c", bad), _item("d")))
    assert [(f.code, f.path) for f in found] == [
        (f.code, "$.requests[2](id=c).body" + f.path[1:]) for f in alone]


def test_calls_that_create_no_attachment_are_not_checked() -> None:
    _, found = batch_request_findings(_request({"id": "1", "method": "GET", "url": "/me/messages"},
                                               {"id": "2", "method": "PATCH", "url": "/me/messages/x", "headers": JSON,
                                                "body": {"subject": 1}}))
    assert found == []


def test_a_missing_content_type_inside_an_item_is_named_there() -> None:
    _, found = batch_request_findings(_request(_item("1", headers={"Content-Type": "text/plain"})))
    assert [(f.code, f.path) for f in found] == [("non-json-content-type", "$.requests[0](id=1).headers.content-type")]


def test_scope_takes_a_batch_with_one_attachment_call() -> None:
    with_one = _request({"id": "1", "method": "GET", "url": "/me"}, _item("2"))
    without = _request({"id": "1", "method": "GET", "url": "/me"})
    assert is_attachment_batch("POST", with_one.uri, with_one.body)
    assert not is_attachment_batch("POST", without.uri, without.body)
    assert not is_attachment_batch("POST", "https://graph.microsoft.com/v1.0/me/messages", with_one.body)


def _answer(*responses: dict[str, Any], status: int = 200) -> Response:
    return Response(status, "", Headers.of(JSON), json.dumps({"responses": list(responses)}).encode())


CREATED = {"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users('u')/messages('m')/attachments/$entity",
           "@odata.type": "#microsoft.graph.fileAttachment", "id": "AAMkA=", "lastModifiedDateTime":
           "2026-11-26T20:40:00Z", "name": "a.txt", "contentType": "text/plain", "size": 5, "isInline": False,
           "contentId": None, "contentLocation": None, "contentBytes": "SGVsbG8="}


def test_each_answer_is_checked_where_it_sits_in_the_responses() -> None:
    request = _request(_item("1"), _item("2"))
    answer = _answer({"id": "2", "status": 201, "headers": JSON, "body": {**CREATED, "size": "5"}},
                     {"id": "1", "status": 201, "headers": JSON, "body": CREATED})
    _, found = batch_response_findings(request, request.body, answer)
    assert [(f.code, f.path) for f in found] == [("wrong-type", "$.responses[0](id=2).body.size")]


def test_an_error_answer_to_an_item_is_checked_as_graphs_envelope() -> None:
    request = _request(_item("1"))
    answer = _answer({"id": "1", "status": 429, "headers": {"Retry-After": "1"}, "body": {"message": "slow down"}})
    _, found = batch_response_findings(request, request.body, answer)
    assert [(f.code, f.path) for f in found] == [("error-envelope", "$.responses[0](id=1).body.error")]


def test_a_missing_answer_and_a_batch_not_answered_200_are_findings() -> None:
    request = _request(_item("1"), _item("2"))
    _, found = batch_response_findings(request, request.body, _answer({"id": "1", "status": 201, "body": CREATED,
                                                                       "headers": JSON}))
    assert [(f.code, f.message) for f in found] == [
        ("batch-missing-response", "the batch's answer has no response for $.requests[1](id=2)")]
    _, found = batch_response_findings(request, request.body, _answer(status=202))
    assert [f.code for f in found] == ["unexpected-success-status"]


def test_a_recorded_batch_is_checked_and_other_interactions_are_left_alone() -> None:
    request = _request(_item("x", {**FILE, "contentBytes": "%%%"}))
    answer = _answer({"id": "x", "status": 400, "headers": JSON, "body": {"error": {"code": "c", "message": "m"}}})
    found = check_recorded_batch(Interaction(request, answer))
    assert found is not None and [f.path for f in found] == ["$.requests[0](id=x).body.contentBytes"]
    other = Request("POST", f"https://graph.microsoft.com/v1.0{PATH}", Headers.of(JSON), json.dumps(FILE).encode())
    assert check_recorded_batch(Interaction(other, Response(201))) is None
