"""The simulator's ``$batch``.

| test | truth source |
|---|---|
| all | https://learn.microsoft.com/en-us/graph/json-batching: 200 with one response per request (id, status, headers, body); dependsOn orders execution; a request whose dependency failed answers 424; at most 20 requests; a malformed batch is 400; non-JSON bodies as base64 |
| refusals | "Invalid batch payload format." (users' reports, e.g. microsoft-graph-docs-contrib #8576); "Write request id : N does not contain Content-Type header or body." (Graph's answer users quote for a body without Content-Type) |
| versioned item URL | msgraph-sdk-javascript #1178: Graph answers an item URL starting /v1.0 with 400 "Resource not found for the segment 'v1.0'" |
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from graphtape.addons.graph.routes import match_route
from graphtape.addons.graph.validation import validate_response
from graphtape.addons.simulation.engine import GraphSimulation

AUTH = {"Authorization": "Bearer fake-token-for-tests", "Content-Type": "application/json"}
FILE = {"@odata.type": "#microsoft.graph.fileAttachment", "name": "a.txt", "contentType": "text/plain",
        "contentBytes": base64.b64encode(b"Hello").decode()}
URL = "/me/messages/AAMkAGI2THVSAAA%3D/attachments"
JSON = {"Content-Type": "application/json"}


def _item(item_id: str, body: Any = FILE, **extra: Any) -> dict[str, Any]:
    return {"id": item_id, "method": "POST", "url": URL, "headers": JSON, "body": body, **extra}


def _batch(sim: GraphSimulation, *items: Any, version: str = "v1.0", headers: dict[str, str] = AUTH) -> Any:
    return sim.handle("POST", f"/{version}/$batch", headers, json.dumps({"requests": list(items)}).encode())


def test_each_request_is_answered_as_alone_with_its_id_status_headers_and_body() -> None:
    sim = GraphSimulation()
    answer = _batch(sim, _item("1"), _item("2", {**FILE, "contentBytes": "not base64!"}),
                    {"id": "3", "method": "GET", "url": URL + "?$select=name"})
    assert answer.status == 200
    assert answer.header("Content-Type").startswith("application/json")
    responses = answer.json()["responses"]
    assert [(r["id"], r["status"]) for r in responses] == [("1", 201), ("2", 400), ("3", 200)]
    created = responses[0]
    assert list(created) == ["id", "status", "headers", "body"]
    assert created["headers"]["Location"].startswith("https://graph.microsoft.com/v1.0/me/messages/")
    assert "request-id" not in created["headers"] and "Date" not in created["headers"]
    route = match_route("POST", "/v1.0" + URL)
    assert validate_response(route, 201, {"content-type": created["headers"]["Content-Type"]},
                             json.dumps(created["body"]).encode(), json.dumps(FILE).encode()) == []
    assert responses[1]["body"]["error"]["code"] == "ErrorInvalidProperty"
    assert [a["name"] for a in responses[2]["body"]["value"]] == ["a.txt"]


def test_dependents_of_a_failed_request_answer_424_and_do_not_run() -> None:
    sim = GraphSimulation()
    answer = _batch(sim, _item("c", dependsOn=["b"]), _item("b", dependsOn=["a"]),
                    _item("a", {"name": "no type"}), _item("d"))
    statuses = {r["id"]: r["status"] for r in answer.json()["responses"]}
    assert statuses == {"a": 422, "b": 424, "c": 424, "d": 201}
    assert [r["id"] for r in answer.json()["responses"]] == ["c", "b", "a", "d"]  # in the order sent
    listed = sim.handle("GET", "/v1.0" + URL, AUTH, b"").json()["value"]
    assert len(listed) == 1


def test_dependson_orders_the_requests() -> None:
    sim = GraphSimulation()
    names = [{**FILE, "name": f"{n}.txt"} for n in ("third", "first", "second")]
    _batch(sim, _item("3", names[0], dependsOn=["2"]), _item("1", names[1]), _item("2", names[2], dependsOn=["1"]))
    listed = sim.handle("GET", "/v1.0" + URL, AUTH, b"").json()["value"]
    assert [a["name"] for a in listed] == ["first.txt", "second.txt", "third.txt"]


def test_a_non_json_answer_is_carried_as_base64() -> None:
    sim = GraphSimulation()
    created = sim.handle("POST", "/v1.0" + URL, AUTH, json.dumps(FILE).encode()).json()
    answer = _batch(sim, {"id": "raw", "method": "GET", "url": f"{URL}/{created['id']}/$value"})
    (raw,) = answer.json()["responses"]
    assert raw["headers"]["Content-Type"] == "text/plain"
    assert base64.b64decode(raw["body"]) == b"Hello"


# (case, batch body, the message of the 400)
REFUSED: list[tuple[str, bytes, str]] = [
    ("not json", b"{", "Invalid batch payload format."),
    ("no requests", b'{"value": []}', "Invalid batch payload format."),
    ("absolute url", json.dumps({"requests": [_item("1", url="https://graph.microsoft.com/v1.0" + URL)]}).encode(),
     "Invalid batch payload format."),
    ("no content type", json.dumps({"requests": [_item("7", headers={})]}).encode(),
     "Write request id : 7 does not contain Content-Type header or body."),
    ("21 requests", json.dumps({"requests": [_item(str(i)) for i in range(21)]}).encode(),
     "a JSON batch holds at most 20 requests"),
    ("duplicate ids", json.dumps({"requests": [_item("x"), _item("X")]}).encode(),
     "the id is already used by $.requests[0](id=x); Graph refuses the whole batch"),
]


@pytest.mark.parametrize(("case", "body", "message"), REFUSED, ids=[c[0] for c in REFUSED])
def test_a_batch_graph_cannot_read_is_refused_whole(case: str, body: bytes, message: str) -> None:
    sim = GraphSimulation()
    answer = sim.handle("POST", "/v1.0/$batch", AUTH, body)
    assert answer.status == 400
    assert answer.json()["error"] == {**answer.json()["error"], "code": "BadRequest", "message": message}
    assert sim.handle("GET", "/v1.0" + URL, AUTH, b"").json()["value"] == []  # nothing ran


def test_the_javascript_clients_versioned_item_url_is_answered_400_inside_the_batch() -> None:
    answer = _batch(GraphSimulation(), _item("1", url="/v1.0" + URL))
    (item,) = answer.json()["responses"]
    assert answer.status == 200
    assert (item["status"], item["body"]["error"]["message"]) == (400, "Resource not found for the segment 'v1.0'.")


def test_the_batch_needs_a_token_and_lends_it_to_its_requests() -> None:
    sim = GraphSimulation()
    assert _batch(sim, _item("1"), headers=JSON).status == 401
    assert _batch(sim, _item("1", headers={"Content-Type": "application/json"})).json()["responses"][0]["status"] == 201
    assert sim.handle("GET", "/v1.0/$batch", AUTH, b"").status == 405
    assert sim.handle("POST", "/v1.0/$batch", {**AUTH, "Content-Type": "text/plain"}, b"{}").status == 400


def test_beta_batches_run_beta_routes() -> None:
    sim = GraphSimulation()
    answer = _batch(sim, _item("1"), version="beta")
    assert answer.json()["responses"][0]["headers"]["Location"].startswith("https://graph.microsoft.com/beta/")
