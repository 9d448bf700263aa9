"""The simulator's upload sessions, through GraphSimulation.handle (no sockets).

Truth: https://learn.microsoft.com/en-us/graph/outlook-large-attachments (Outlook: 201, an
``outlook.office.com`` URL with ``authtoken``, chunks without Authorization answered 200
``{"@odata.context", "ExpirationDateTime", "nextExpectedRanges": ["2097152"]}``, the last 201
with an empty body and an Outlook ``Location``, cancel with DELETE -> 204, the 3 MB floor's
``ErrorAttachmentSizeShouldNotBeLessThanMinimumSize``) and
https://learn.microsoft.com/en-us/graph/todo-attachments plus
https://learn.microsoft.com/en-us/graph/api/taskfileattachment-createuploadsession (To Do:
200, the URL on the Graph host, chunks with Authorization to it or its ``/content``,
``{"ExpirationDateTime", "NextExpectedRanges"}``, Location ``.../tasks/{id}/Attachments/{id}``,
files up to 25 MB).
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest

from graphtape.addons.graph.routes import match_route
from graphtape.addons.graph.upload_urls import match_upload_url
from graphtape.addons.graph.validation import validate_response
from graphtape.addons.simulation.engine import GraphSimulation, RequestContext, SimulatedResponse
from graphtape.addons.simulation.uploads import SESSION_LIFETIME

AUTH = {"Authorization": "Bearer fake-token-123", "Content-Type": "application/json", "Host": "127.0.0.1:8765"}
MESSAGE = "/v1.0/me/messages/m1/attachments"
EVENT = "/v1.0/users/u1/events/e1/attachments"
TODO = "/v1.0/me/todo/lists/l1/tasks/t1/attachments"
START = datetime(2026, 11, 26, 20, 40, tzinfo=UTC)
MiB = 1024 * 1024
CHUNK = MiB
DATA = bytes(range(256)) * (3 * MiB // 256) + b"tail" * 250  # 3 MiB + 1000 bytes: four chunks


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


def _create(sim: GraphSimulation, collection: str = MESSAGE, size: int = len(DATA),
            context: RequestContext | None = None) -> SimulatedResponse:
    key = "attachmentInfo" if "todo" in collection else "AttachmentItem"
    body = {key: {"attachmentType": "file", "name": "big.bin", "size": size}}
    return sim.handle("POST", collection + "/createUploadSession", AUTH, json.dumps(body).encode(), context=context)


def _open(sim: GraphSimulation, collection: str = MESSAGE, size: int = len(DATA)) -> str:
    answer = _create(sim, collection, size)
    todo = "todo" in collection
    assert answer.status == (200 if todo else 201), answer.body
    match = match_route("POST", collection + "/createUploadSession")
    loud = [f for f in validate_response(match, answer.status, {"content-type": answer.header("Content-Type") or ""},
                                         answer.body) if f.severity.value == "error"]
    assert loud == []
    session = answer.json()
    assert session["@odata.context"] == "https://graph.microsoft.com/v1.0/$metadata#microsoft.graph.uploadSession"
    assert session["nextExpectedRanges"] == ["0-"]
    assert session["expirationDateTime"] == (START + SESSION_LIFETIME).strftime("%Y-%m-%dT%H:%M:%S.0000000Z")
    return str(session["uploadUrl"])


def _put(sim: GraphSimulation, url: str, start: int, end: int, total: int = len(DATA),
         headers: dict[str, str] | None = None, body: bytes | None = None) -> SimulatedResponse:
    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    chunk = DATA[start:end + 1] if body is None else body
    sent = {"Content-Range": f"bytes {start}-{end}/{total}", "Content-Type": "application/octet-stream",
            **(headers or {})}
    if "/todo/" in target and "Authorization" not in sent:
        sent["Authorization"] = AUTH["Authorization"]
    return sim.handle("PUT", target, {k: v for k, v in sent.items() if v is not None}, chunk)


@pytest.mark.parametrize("collection, owner", [(MESSAGE, "/Messages('m1')/"), (EVENT, "/Events('e1')/")])
def test_outlook_upload_url_is_on_another_hostname_with_its_token(collection: str, owner: str) -> None:
    url = _open(GraphSimulation(clock=Clock()), collection)
    # The Graph base was 127.0.0.1:8765: the upload URL names the same listener by another hostname.
    assert url.startswith("http://localhost:8765/api/v2.0/Users(")
    assert owner in url and "/AttachmentSessions('" in url
    assert "?authtoken=fake-upload-token-" in url
    found = match_upload_url(url)
    assert found is not None and found.kind == "outlook"


def test_the_server_names_the_upload_origin_and_scheme() -> None:
    context = RequestContext(scheme="https", upload_origin="https://localhost:9443", listener="graph")
    url = _create(GraphSimulation(clock=Clock()), context=context).json()["uploadUrl"]
    assert url.startswith("https://localhost:9443/api/v2.0/Users('5f7c2ad1-")


def test_todo_upload_url_is_on_the_graph_host() -> None:
    url = _open(GraphSimulation(clock=Clock()), TODO)
    assert url.startswith("http://127.0.0.1:8765/v1.0/users/5f7c2ad1-0c3e-4b6a-9f51-3d2e8b7a6c40/todo/lists/l1/"
                          "tasks/t1/attachmentSessions/")
    assert "authtoken" not in url
    found = match_upload_url(url)
    assert found is not None and found.kind == "todo"


def test_outlook_chunks_answer_as_documented_and_assemble_the_attachment() -> None:
    sim = GraphSimulation(clock=Clock())
    url = _open(sim)
    answers = [_put(sim, url, s, min(s + CHUNK, len(DATA)) - 1) for s in range(0, len(DATA), CHUNK)]
    assert [a.status for a in answers] == [200, 200, 200, 201]
    first = answers[0].json()
    assert list(first) == ["@odata.context", "ExpirationDateTime", "nextExpectedRanges"]
    assert first["@odata.context"] == ("https://outlook.office.com/api/v2.0/$metadata#Users('5f7c2ad1-0c3e-4b6a-9f51-"
                                       "3d2e8b7a6c40')/Messages('m1')/AttachmentSessions/$entity")
    assert [a.json()["nextExpectedRanges"] for a in answers[:3]] == [[str(CHUNK)], [str(2 * CHUNK)], [str(3 * CHUNK)]]
    # "remains the same as returned by the initial uploadSession"
    assert {a.json()["ExpirationDateTime"] for a in answers[:3]} == {
        (START + SESSION_LIFETIME).strftime("%Y-%m-%dT%H:%M:%S.0000000Z")}
    last = answers[-1]
    assert last.body == b"" and last.header("Content-Length") == "0" and last.header("Content-Type") is None
    location = last.header("Location") or ""
    assert location.startswith("https://outlook.office.com/api/v2.0/Users('5f7c2ad1-0c3e-4b6a-9f51-3d2e8b7a6c40')/"
                               "Messages('m1')/Attachments('")
    attachment_id = location.rsplit("('", 1)[1].rstrip("')")
    attachment = sim.handle("GET", f"{MESSAGE}/{attachment_id}", AUTH, b"").json()
    assert attachment["@odata.type"] == "#microsoft.graph.fileAttachment"
    assert base64.b64decode(attachment["contentBytes"]) == DATA
    assert _put(sim, url, 0, 9).status == 404  # a finished session is gone


@pytest.mark.parametrize("content", [False, True], ids=["upload-url", "content-stream"])
def test_todo_chunks_carry_the_token_and_answer_as_documented(content: bool) -> None:
    sim = GraphSimulation(clock=Clock())
    url = _open(sim, TODO)
    target = url + "/content" if content else url
    answers = [_put(sim, target, s, min(s + CHUNK, len(DATA)) - 1) for s in range(0, len(DATA), CHUNK)]
    assert [a.status for a in answers] == [200, 200, 200, 201]
    assert answers[0].json() == {"ExpirationDateTime": (START + SESSION_LIFETIME).strftime(
        "%Y-%m-%dT%H:%M:%S.0000000Z"), "NextExpectedRanges": [str(CHUNK)]}
    location = answers[-1].header("Location") or ""
    prefix = ("https://graph.microsoft.com/v1.0/users/5f7c2ad1-0c3e-4b6a-9f51-3d2e8b7a6c40/todo/lists/l1/tasks/t1/"
              "Attachments/")
    assert location.startswith(prefix)
    attachment = sim.handle("GET", f"{TODO}/{location.removeprefix(prefix)}", AUTH, b"").json()
    assert attachment["@odata.type"] == "#microsoft.graph.taskFileAttachment"
    assert attachment["size"] == len(DATA)


def test_todo_chunks_without_a_token_are_refused() -> None:
    sim = GraphSimulation(clock=Clock())
    url = _open(sim, TODO)
    parts = urlsplit(url)
    refused = sim.handle("PUT", parts.path, {"Content-Range": f"bytes 0-9/{len(DATA)}"}, DATA[:10])
    assert (refused.status, refused.json()["error"]["code"]) == (401, "InvalidAuthenticationToken")


@pytest.mark.parametrize("collection, size, status, code", [
    (MESSAGE, 3 * MiB - 1, 400, "ErrorAttachmentSizeShouldNotBeLessThanMinimumSize"),
    (MESSAGE, 3 * MiB, 201, None),
    (EVENT, 150 * MiB, 201, None),
    (EVENT, 150 * MiB + 1, 400, "ErrorMessageSizeExceeded"),
    (TODO, 1, 200, None),
    (TODO, 25 * MiB, 200, None),
    (TODO, 25 * MiB + 1, 400, "ErrorMessageSizeExceeded"),
], ids=["outlook-under-3MB", "outlook-3MB", "outlook-150MB", "outlook-over-150MB", "todo-1-byte", "todo-25MB",
        "todo-over-25MB"])
def test_session_size_limits(collection: str, size: int, status: int, code: str | None) -> None:
    answer = _create(GraphSimulation(clock=Clock()), collection, size)
    assert answer.status == status, answer.body
    if code is not None:
        assert answer.json()["error"]["code"] == code


@pytest.mark.parametrize("collection", [MESSAGE, TODO])
def test_cancel_with_delete_on_the_upload_url(collection: str) -> None:
    sim = GraphSimulation(clock=Clock())
    url = _open(sim, collection)
    assert _put(sim, url, 0, CHUNK - 1).status == 200
    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    headers = {"Authorization": AUTH["Authorization"]} if collection == TODO else {}
    cancelled = sim.handle("DELETE", target, headers, b"")
    assert (cancelled.status, cancelled.body) == (204, b"")
    assert _put(sim, url, CHUNK, 2 * CHUNK - 1).status == 404
    assert sim.handle("DELETE", target, headers, b"").status == 404
    assert sim.handle("GET", collection, AUTH, b"").json()["value"] == []


@pytest.mark.parametrize("case, start, end, kwargs, status, code", [
    ("gap", 2 * CHUNK, 3 * CHUNK - 1, {}, 416, "InvalidRange"),
    ("overlap", CHUNK // 2, CHUNK + CHUNK // 2 - 1, {}, 416, "InvalidRange"),
    ("repeat", 0, CHUNK - 1, {}, 416, "InvalidRange"),
    ("wrong-total", CHUNK, 2 * CHUNK - 1, {"total": 99999999}, 400, "InvalidRange"),
    ("short-body", CHUNK, 2 * CHUNK - 1, {"body": b"x" * 10}, 400, "InvalidRange"),
    ("no-range", CHUNK, 2 * CHUNK - 1, {"headers": {"Content-Range": None}}, 400, "InvalidRange"),
    ("authorization", CHUNK, 2 * CHUNK - 1, {"headers": {"Authorization": "Bearer fake-token-123"}}, 401,
     "InvalidAudience"),
], ids=lambda v: v if isinstance(v, str) else None)
def test_bad_chunks_are_refused_like_graph(case: str, start: int, end: int, kwargs: dict, status: int,
                                           code: str) -> None:
    sim = GraphSimulation(clock=Clock())
    url = _open(sim)
    assert _put(sim, url, 0, CHUNK - 1).status == 200
    refused = _put(sim, url, start, end, **kwargs)
    assert (refused.status, refused.json()["error"]["code"]) == (status, code)
    assert refused.json()["error"]["message"]
    assert _put(sim, url, CHUNK, 2 * CHUNK - 1).status == 200  # the session is still where it was


@pytest.mark.parametrize("token_edit, status", [
    (lambda url: url.split("?")[0], 401),
    (lambda url: url.split("authtoken=")[0] + "authtoken=fake-other", 401),
    (lambda url: url.replace("AttachmentSessions('", "AttachmentSessions('x"), 404),
], ids=["no-token", "wrong-token", "unknown-session"])
def test_tokens_and_sessions(token_edit, status: int) -> None:
    sim = GraphSimulation(clock=Clock())
    url = token_edit(_open(sim))
    assert _put(sim, url, 0, CHUNK - 1).status == status


@pytest.mark.parametrize("prefix", ["/v1.0/http://127.0.0.1:1234", "/anything/prefix"])
def test_a_session_path_behind_another_prefix_is_not_a_session(prefix: str) -> None:
    sim = GraphSimulation(clock=Clock())
    url = _open(sim)
    parts = urlsplit(url)
    mangled = sim.handle("PUT", f"{prefix}{parts.path}?{parts.query}",
                         {"Content-Range": f"bytes 0-9/{len(DATA)}"}, DATA[:10])
    assert mangled.status in (400, 401) and mangled.status != 200
    assert _put(sim, url, 0, CHUNK - 1).status == 200  # untouched


def test_an_expired_session_refuses_chunks() -> None:
    clock = Clock()
    sim = GraphSimulation(clock=clock)
    url = _open(sim)
    clock.now = START + SESSION_LIFETIME - timedelta(seconds=1)
    assert _put(sim, url, 0, CHUNK - 1).status == 200
    clock.now = START + SESSION_LIFETIME
    expired = _put(sim, url, CHUNK, 2 * CHUNK - 1)
    assert expired.status == 401 and "expired" in expired.json()["error"]["message"]


def test_a_chunk_of_4_mib_is_too_large() -> None:
    sim = GraphSimulation(clock=Clock())
    size = 5 * MiB
    url = _open(sim, size=size)
    refused = _put(sim, url, 0, 4 * MiB - 1, total=size, body=b"\0" * (4 * MiB))
    assert (refused.status, refused.json()["error"]["code"]) == (413, "RequestEntityTooLarge")


def test_the_upload_listener_serves_only_upload_sessions() -> None:
    sim = GraphSimulation(clock=Clock())
    url = _open(sim)
    upload = RequestContext(listener="upload")
    assert sim.handle("GET", MESSAGE, AUTH, b"", context=upload).status == 404
    parts = urlsplit(url)
    chunk = sim.handle("PUT", f"{parts.path}?{parts.query}", {"Content-Range": f"bytes 0-9/{len(DATA)}"},
                       DATA[:10], context=upload)
    assert chunk.status == 200
