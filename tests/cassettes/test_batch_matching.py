"""Replay matches a ``$batch`` by its canonicalised sub-requests.

| case | same key? | truth source |
|---|---|---|
| item order swapped | yes | json-batching: "the order of the responses ... might not be the same" as the requests: order carries no meaning |
| header name case, a telemetry header (client-request-id) | yes | RFC 9110 5.1 (field names are case-insensitive); outer requests ignore such headers too |
| `dependsOn` order and id case | yes | json-batching: ids are not case-sensitive; dependsOn is a set of ids |
| item URL query order, `%40` vs `@` | yes | RFC 3986 6.2.2 (percent-encoding normalisation), as for a request of its own |
| method case (`post`) | yes | RFC 9110 9.1 lists methods upper-case; Graph's batch reads them so |
| a different body, URL, method, Content-Type or id | no | the sub-request is another request (the id names the answer) |

(https://learn.microsoft.com/en-us/graph/json-batching)
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from graphtape.cassettes.matching import InteractionIndex, request_key
from graphtape.cassettes.model import Headers, Interaction, Request, Response

BATCH = "https://graph.microsoft.com/v1.0/$batch"
FILE = {"@odata.type": "#microsoft.graph.fileAttachment", "name": "a.txt", "contentBytes": "YQ=="}


def _batch() -> dict[str, Any]:
    return {"requests": [
        {"id": "1", "method": "POST", "url": "/users/adele@contoso.com/messages/AAMk1/attachments?a=1&b=2",
         "headers": {"Content-Type": "application/json"}, "body": FILE},
        {"id": "Two", "method": "POST", "url": "/me/messages/AAMk1/attachments",
         "headers": {"content-type": "application/json", "client-request-id": "x1"}, "body": FILE,
         "dependsOn": ["1", "Three"]},
        {"id": "three", "method": "GET", "url": "/me/messages/AAMk1/attachments"},
    ]}


def _req(body: dict[str, Any], uri: str = BATCH) -> Request:
    return Request("POST", uri, Headers((("content-type", "application/json"),)), json.dumps(body).encode())


def _same_swapped(b: dict[str, Any]) -> None:
    b["requests"].reverse()


def _same_headers(b: dict[str, Any]) -> None:
    b["requests"][0]["headers"] = {"CONTENT-TYPE": "application/json", "client-request-id": "other"}
    del b["requests"][1]["headers"]["client-request-id"]


def _same_depends(b: dict[str, Any]) -> None:
    b["requests"][1]["dependsOn"] = ["three", "1"]


def _same_url(b: dict[str, Any]) -> None:
    b["requests"][0]["url"] = "/users/adele%40contoso.com/messages/AAMk1/attachments?b=2&a=1"


def _same_method(b: dict[str, Any]) -> None:
    b["requests"][0]["method"] = "post"


def _other_body(b: dict[str, Any]) -> None:
    b["requests"][0]["body"] = {**FILE, "name": "b.txt"}


def _other_url(b: dict[str, Any]) -> None:
    b["requests"][2]["url"] = "/me/messages/AAMk2/attachments"


def _other_method(b: dict[str, Any]) -> None:
    b["requests"][2]["method"] = "DELETE"


def _other_content_type(b: dict[str, Any]) -> None:
    b["requests"][0]["headers"] = {"Content-Type": "text/plain"}


def _other_id(b: dict[str, Any]) -> None:
    b["requests"][2]["id"] = "four"


@pytest.mark.parametrize("change", [_same_swapped, _same_headers, _same_depends, _same_url, _same_method])
def test_equivalent_batches_share_a_key(change: Any) -> None:
    changed = copy.deepcopy(_batch())
    change(changed)
    assert request_key(_req(changed)) == request_key(_req(_batch()))


@pytest.mark.parametrize("change", [_other_body, _other_url, _other_method, _other_content_type, _other_id])
def test_different_batches_have_different_keys(change: Any) -> None:
    changed = copy.deepcopy(_batch())
    change(changed)
    assert request_key(_req(changed)) != request_key(_req(_batch()))


def test_only_the_batch_endpoint_is_canonicalised_so() -> None:
    swapped = copy.deepcopy(_batch())
    _same_swapped(swapped)
    other = BATCH.replace("$batch", "messages")
    assert request_key(_req(swapped, other)) != request_key(_req(_batch(), other))


def test_a_batch_sent_in_another_order_replays_its_recorded_answer() -> None:
    answer = Response(200, "OK", Headers((("content-type", "application/json"),)), b'{"responses": []}')
    index = InteractionIndex([Interaction(_req(_batch()), answer)])
    swapped = copy.deepcopy(_batch())
    _same_swapped(swapped)
    found = index.lookup(_req(swapped))
    assert found is not None and found[1].response.body == answer.body
