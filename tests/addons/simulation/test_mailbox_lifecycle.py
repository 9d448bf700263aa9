"""The simulator's mailbox: parents, the attachment lifecycle, OData query options, headers.

Truth sources (Microsoft Graph documentation):
- parents created by POST, 201 with the entity: https://learn.microsoft.com/en-us/graph/api/user-post-messages,
  https://learn.microsoft.com/en-us/graph/api/user-post-events, https://learn.microsoft.com/en-us/graph/api/todotasklist-post-tasks,
  group posts by thread reply (202): https://learn.microsoft.com/en-us/graph/api/conversationthread-reply
- list (200, ``value``), $select, $top: https://learn.microsoft.com/en-us/graph/api/message-list-attachments,
  https://learn.microsoft.com/en-us/graph/query-parameters
- get, ``$expand=microsoft.graph.itemattachment/item``, ``/$value`` (raw bytes, a reference's 405):
  https://learn.microsoft.com/en-us/graph/api/attachment-get
- delete 204: https://learn.microsoft.com/en-us/graph/api/attachment-delete
- an unknown item 404 ``ErrorItemNotFound``: https://learn.microsoft.com/en-us/graph/errors
- ``$expand=attachments`` on a message: https://learn.microsoft.com/en-us/graph/api/message-get
- ``Date``, ``request-id``, ``client-request-id``: https://learn.microsoft.com/en-us/graph/errors and every
  response example; the innerError shape: the same page.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote

import pytest

from graphtape.addons.simulation.engine import DEFAULT_ME_USER_ID, GraphSimulation, SimulatedResponse

AUTH = {"Authorization": "Bearer fake-token-for-tests", "Content-Type": "application/json"}
NOW = datetime(2026, 11, 26, 20, 40, tzinfo=UTC)
FILE = {"@odata.type": "#microsoft.graph.fileAttachment", "name": "a.txt", "contentType": "text/plain",
        "contentBytes": base64.b64encode(b"Hello").decode()}
ITEM = {"@odata.type": "#microsoft.graph.itemAttachment", "name": "Lunch",
        "item": {"@odata.type": "#microsoft.graph.message", "subject": "Lunch?", "body": {"content": "at noon"}}}
REFERENCE = {"@odata.type": "#microsoft.graph.referenceAttachment", "name": "Plan.docx"}


@pytest.fixture
def sim() -> GraphSimulation:
    return GraphSimulation(clock=lambda: NOW)


def _call(sim: GraphSimulation, method: str, path: str, data: Any = None) -> SimulatedResponse:
    body = b"" if data is None else json.dumps(data).encode()
    return sim.handle(method, path, AUTH, body)


@pytest.mark.parametrize("collection, posted, odata_type, context", [
    ("/v1.0/me/messages", {"subject": "Hi"}, "message", f"users('{DEFAULT_ME_USER_ID}')/messages"),
    ("/v1.0/me/mailFolders/inbox/messages", {"subject": "Hi"}, "message",
     f"users('{DEFAULT_ME_USER_ID}')/mailFolders('inbox')/messages"),
    ("/v1.0/users/u1/events", {"subject": "Standup"}, "event", "users('u1')/events"),
    ("/v1.0/me/calendar/events", {"subject": "Standup"}, "event", f"users('{DEFAULT_ME_USER_ID}')/calendar/events"),
    ("/v1.0/me/todo/lists/l1/tasks", {"title": "Buy milk"}, "todoTask",
     f"users('{DEFAULT_ME_USER_ID}')/todo/lists('l1')/tasks"),
    ("/beta/me/outlook/tasks", {"subject": "Old task"}, "outlookTask", f"users('{DEFAULT_ME_USER_ID}')/outlook/tasks"),
], ids=["message", "folder-message", "event", "calendar-event", "todo-task", "outlook-task"])
def test_parents_are_created_by_their_documented_post(sim: GraphSimulation, collection: str, posted: dict[str, Any],
                                                      odata_type: str, context: str) -> None:
    created = _call(sim, "POST", collection, posted)
    assert created.status == 201, created.body
    entity = created.json()
    version = collection.split("/")[1]
    assert entity["@odata.context"] == f"https://graph.microsoft.com/{version}/$metadata#{context}/$entity"
    assert entity["@odata.type"] == f"#microsoft.graph.{odata_type}"
    assert entity["createdDateTime"] == entity["lastModifiedDateTime"] == "2026-11-26T20:40:00Z"
    assert entity["hasAttachments"] is False
    for key, value in posted.items():
        assert entity[key] == value
    parent = f"{collection}/{entity['id']}"
    assert _call(sim, "POST", f"{parent}/attachments", FILE if odata_type != "todoTask" else {
        **FILE, "@odata.type": "#microsoft.graph.taskFileAttachment", "contentType": None}).status == 201
    got = _call(sim, "GET", parent).json()
    assert got["id"] == entity["id"] and got["hasAttachments"] is True
    listing = _call(sim, "GET", collection).json()
    assert [p["id"] for p in listing["value"]] == [entity["id"]]


def test_a_group_post_is_created_by_replying_to_its_thread(sim: GraphSimulation) -> None:
    thread = "/v1.0/groups/g1/threads/t1"
    reply = _call(sim, "POST", f"{thread}/reply", {"post": {"body": {"contentType": "text", "content": "Thanks"}}})
    assert (reply.status, reply.body) == (202, b"")
    (post,) = _call(sim, "GET", f"{thread}/posts").json()["value"]
    assert post["body"]["content"] == "Thanks"
    assert _call(sim, "POST", f"{thread}/posts/{post['id']}/attachments", FILE).status == 201


def test_messages_posted_with_attachments_keep_them(sim: GraphSimulation) -> None:
    created = _call(sim, "POST", "/v1.0/me/messages", {"subject": "With file", "attachments": [FILE]}).json()
    assert "attachments" not in created
    listing = _call(sim, "GET", f"/v1.0/me/messages/{created['id']}/attachments").json()
    assert [a["name"] for a in listing["value"]] == ["a.txt"]
    refused = _call(sim, "POST", "/v1.0/me/messages", {"attachments": [{"name": "no type"}]})
    assert refused.status == 422


@pytest.mark.parametrize("strict, status", [(False, 201), (True, 404)], ids=["lenient", "strict-parents"])
def test_unknown_parents(strict: bool, status: int) -> None:
    sim = GraphSimulation(clock=lambda: NOW, strict_parents=strict)
    answer = _call(sim, "POST", "/v1.0/me/messages/AAMkNope=/attachments", FILE)
    assert answer.status == status
    if strict:
        assert answer.json()["error"]["code"] == "ErrorItemNotFound"
        assert _call(sim, "GET", "/v1.0/me/messages/AAMkNope=/attachments").status == 404
        session = {"AttachmentItem": {"attachmentType": "file", "name": "big", "size": 4 * 1024 * 1024}}
        assert _call(sim, "POST", "/v1.0/me/messages/AAMkNope=/attachments/createUploadSession", session).status == 404
        made = _call(sim, "POST", "/v1.0/me/messages", {}).json()
        assert _call(sim, "POST", f"/v1.0/me/messages/{made['id']}/attachments", FILE).status == 201


def test_list_select_top_and_next_link(sim: GraphSimulation) -> None:
    path = "/v1.0/me/messages/m1/attachments"
    ids = [_call(sim, "POST", path, {**FILE, "name": f"{n}.txt"}).json()["id"] for n in range(3)]
    page = _call(sim, "GET", f"{path}?$select=name,size&$top=2").json()
    assert [a["id"] for a in page["value"]] == ids[:2]
    assert page["value"][0] == {"@odata.type": "#microsoft.graph.fileAttachment",
                                "@odata.mediaContentType": "text/plain", "id": ids[0], "name": "0.txt",
                                "size": page["value"][0]["size"]}
    next_link = page["@odata.nextLink"]
    assert next_link.startswith("https://graph.microsoft.com/v1.0/me/messages/m1/attachments?")
    rest = _call(sim, "GET", next_link.removeprefix("https://graph.microsoft.com")).json()
    assert [a["id"] for a in rest["value"]] == ids[2:] and "@odata.nextLink" not in rest
    assert _call(sim, "GET", f"{path}?$top=x").status == 400


def test_item_attachments_hide_their_item_unless_expanded(sim: GraphSimulation) -> None:
    path = "/v1.0/me/messages/m1/attachments"
    created = _call(sim, "POST", path, ITEM).json()
    assert "item" not in created
    plain = _call(sim, "GET", f"{path}/{created['id']}").json()
    assert "item" not in plain and plain["contentType"] is None
    assert all("item" not in a for a in _call(sim, "GET", path).json()["value"])
    expanded = _call(sim, "GET", f"{path}/{created['id']}?$expand=microsoft.graph.itemattachment/item").json()
    assert expanded["item"]["@odata.type"] == "#microsoft.graph.message"
    assert expanded["item"]["subject"] == "Lunch?"
    # the id percent-encoded, as attachment-get's example 3 shows it
    assert expanded["item@odata.context"].endswith(
        f"/attachments('{quote(created['id'], safe='')}')/microsoft.graph.itemAttachment/item/$entity")


@pytest.mark.parametrize("posted, status, content_type, starts", [
    (FILE, 200, "text/plain", b"Hello"),
    (ITEM, 200, "message/rfc822", b"From: "),
    (REFERENCE, 405, None, None),
], ids=["file", "item", "reference"])
def test_raw_contents(sim: GraphSimulation, posted: dict[str, Any], status: int, content_type: str | None,
                      starts: bytes | None) -> None:
    path = "/v1.0/me/messages/m1/attachments"
    attachment_id = _call(sim, "POST", path, posted).json()["id"]
    raw = _call(sim, "GET", f"{path}/{attachment_id}/$value")
    assert raw.status == status
    if starts is not None:
        assert raw.header("Content-Type") == content_type and raw.body.startswith(starts)
    if posted is ITEM:
        assert b"Subject: Lunch?" in raw.body


def test_delete_answers_204_and_the_attachment_is_gone(sim: GraphSimulation) -> None:
    path = "/v1.0/me/messages/m1/attachments"
    attachment_id = _call(sim, "POST", path, FILE).json()["id"]
    deleted = _call(sim, "DELETE", f"{path}/{attachment_id}")
    assert (deleted.status, deleted.body, deleted.header("Content-Type")) == (204, b"", None)
    assert _call(sim, "GET", f"{path}/{attachment_id}").json()["error"]["code"] == "ErrorItemNotFound"
    assert _call(sim, "DELETE", f"{path}/{attachment_id}").status == 404
    assert _call(sim, "GET", "/v1.0/me/messages/m1").json()["hasAttachments"] is False


def test_a_parent_expands_its_attachments(sim: GraphSimulation) -> None:
    made = _call(sim, "POST", "/v1.0/me/messages", {"subject": "Expand me"}).json()
    parent = f"/v1.0/me/messages/{made['id']}"
    ids = [_call(sim, "POST", f"{parent}/attachments", body).json()["id"] for body in (FILE, ITEM)]
    expanded = _call(sim, "GET", f"{parent}?$expand=attachments").json()
    assert [a["id"] for a in expanded["attachments"]] == ids
    assert all("item" not in a for a in expanded["attachments"])
    assert expanded["attachments@odata.context"].endswith("/attachments")
    assert "attachments" not in _call(sim, "GET", parent).json()


def test_empty_segments_are_one_slash_as_the_default_python_sdk_sends_them(sim: GraphSimulation) -> None:
    assert _call(sim, "POST", "/v1.0//me/messages/m1/attachments", FILE).status == 201
    assert len(_call(sim, "GET", "/v1.0/me/messages/m1/attachments").json()["value"]) == 1


def test_every_answer_has_graphs_headers(sim: GraphSimulation) -> None:
    answers = [
        sim.handle("POST", "/v1.0/me/messages/m1/attachments", {**AUTH, "client-request-id": "abc-123"},
                   json.dumps(FILE).encode()),
        sim.handle("GET", "/v1.0/me/messages/m1/attachments/nope", {**AUTH, "client-request-id": "abc-123"}, b""),
    ]
    for answer in answers:
        assert parsedate_to_datetime(answer.header("Date") or "") == NOW
        assert answer.header("client-request-id") == "abc-123"
        assert answer.header("request-id")
    inner = answers[1].json()["error"]["innerError"]
    assert inner == {"date": "2026-11-26T20:40:00Z", "request-id": answers[1].header("request-id"),
                     "client-request-id": "abc-123"}


def test_stages_see_every_request_and_may_answer_it(sim: GraphSimulation) -> None:
    from graphtape.addons.simulation.engine import GraphRejection

    seen: list[str] = []

    def record(request, call_next):  # type: ignore[no-untyped-def]
        seen.append(f"{request.method} {request.path}")
        return call_next(request)

    def refuse_deletes(request, call_next):  # type: ignore[no-untyped-def]
        if request.method == "DELETE":
            raise GraphRejection(503, "serviceNotAvailable", "The service is temporarily unavailable.")
        return call_next(request)

    sim.add_stage(record)
    sim.add_stage(refuse_deletes)
    assert _call(sim, "POST", "/v1.0/me/messages/m1/attachments", FILE).status == 201
    refused = _call(sim, "DELETE", "/v1.0/me/messages/m1")
    assert (refused.status, refused.json()["error"]["code"]) == (503, "serviceNotAvailable")
    assert seen == ["POST /v1.0/me/messages/m1/attachments", "DELETE /v1.0/me/messages/m1"]
