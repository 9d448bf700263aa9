"""The simulator's upload sessions, through GraphSimulation.handle (no sockets)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest

from graphtape.addons.graph.routes import match_route
from graphtape.addons.graph.validation import validate_response
from graphtape.addons.simulation.engine import GraphSimulation, SimulatedResponse
from graphtape.addons.simulation.uploads import SESSION_LIFETIME

AUTH = {"Authorization": "Bearer fake-token-123", "Content-Type": "application/json", "Host": "127.0.0.1:8765"}
MESSAGE = "/v1.0/me/messages/m1/attachments"
EVENT = "/v1.0/users/u1/events/e1/attachments"
TODO = "/v1.0/me/todo/lists/l1/tasks/t1/attachments"
START = datetime(2026, 11, 26, 20, 40, tzinfo=UTC)
DATA = bytes(range(256)) * 40  # 10240 bytes, sent in chunks of 4096


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


def _open(sim: GraphSimulation, collection: str = MESSAGE, size: int = len(DATA)) -> str:
    key = "attachmentInfo" if "todo" in collection else "AttachmentItem"
    body = {key: {"attachmentType": "file", "name": "big.bin", "size": size}}
    answer = sim.handle("POST", collection + "/createUploadSession", AUTH, json.dumps(body).encode())
    assert answer.status == 201, answer.body
    match = match_route("POST", collection + "/createUploadSession")
    loud = [f for f in validate_response(match, 201, {"content-type": answer.header("Content-Type") or ""},
                                         answer.body) if f.severity.value != "info"]
    assert loud == []
    session = answer.json()
    assert session["nextExpectedRanges"] == ["0-"]
    assert session["expirationDateTime"] == (START + SESSION_LIFETIME).strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(session["uploadUrl"])


def _put(sim: GraphSimulation, url: str, start: int, end: int, total: int = len(DATA),
         headers: dict[str, str] | None = None, body: bytes | None = None) -> SimulatedResponse:
    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    chunk = DATA[start:end + 1] if body is None else body
    return sim.handle("PUT", target, {"Content-Range": f"bytes {start}-{end}/{total}", **(headers or {})}, chunk)


@pytest.mark.parametrize("collection, owner", [
    (MESSAGE, "/Messages('m1')/"), (EVENT, "/Events('e1')/"), (TODO, "/Tasks('t1')/")])
def test_upload_url_points_back_at_the_host_the_request_named(collection: str, owner: str) -> None:
    url = _open(GraphSimulation(clock=Clock()), collection)
    assert url.startswith("http://127.0.0.1:8765/api/v2.0/Users(")
    assert owner in url and "/AttachmentSessions('" in url
    assert "?authtoken=fake-upload-token-" in url


@pytest.mark.parametrize("collection, odata_type", [
    (MESSAGE, "#microsoft.graph.fileAttachment"), (TODO, "#microsoft.graph.taskFileAttachment")])
def test_chunks_in_order_assemble_the_attachment(collection: str, odata_type: str) -> None:
    sim = GraphSimulation(clock=Clock())
    url = _open(sim, collection)
    answers = [_put(sim, url, s, min(s + 4096, len(DATA)) - 1) for s in range(0, len(DATA), 4096)]
    assert [a.status for a in answers] == [200, 200, 201]
    assert [a.json()["nextExpectedRanges"] for a in answers[:2]] == [["4096-"], ["8192-"]]
    last = answers[-1]
    assert last.body == b"" and last.header("Content-Length") == "0"
    location = last.header("Location")
    assert location is not None
    item_path = urlsplit(location).path
    attachment = sim.handle("GET", item_path, AUTH, b"").json()
    assert attachment["@odata.type"] == odata_type
    assert base64.b64decode(attachment["contentBytes"]) == DATA
    assert _put(sim, url, 0, 9).status == 404  # a finished session is gone


@pytest.mark.parametrize("case, start, end, kwargs, status, code", [
    ("gap", 8192, 10239, {}, 416, "InvalidRange"),
    ("overlap", 2048, 6143, {}, 416, "InvalidRange"),
    ("repeat", 0, 4095, {}, 416, "InvalidRange"),
    ("wrong-total", 4096, 8191, {"total": 99999}, 400, "InvalidRange"),
    ("short-body", 4096, 8191, {"body": b"x" * 10}, 400, "InvalidRange"),
    ("no-range", 4096, 8191, {"headers": {"Content-Range": ""}}, 400, "InvalidRange"),
    ("authorization", 4096, 8191, {"headers": {"Authorization": "Bearer fake-token-123"}}, 401, "InvalidAudience"),
], ids=lambda v: v if isinstance(v, str) else None)
def test_bad_chunks_are_refused_like_graph(case: str, start: int, end: int, kwargs: dict, status: int,
                                           code: str) -> None:
    sim = GraphSimulation(clock=Clock())
    url = _open(sim)
    assert _put(sim, url, 0, 4095).status == 200
    refused = _put(sim, url, start, end, **kwargs)
    assert (refused.status, refused.json()["error"]["code"]) == (status, code)
    assert refused.json()["error"]["message"]
    assert _put(sim, url, 4096, 8191).status == 200  # the session is still where it was


@pytest.mark.parametrize("token_edit, status", [
    (lambda url: url.split("?")[0], 401),
    (lambda url: url.split("authtoken=")[0] + "authtoken=fake-other", 401),
    (lambda url: url.replace("AttachmentSessions('", "AttachmentSessions('x"), 404),
], ids=["no-token", "wrong-token", "unknown-session"])
def test_tokens_and_sessions(token_edit, status: int) -> None:
    sim = GraphSimulation(clock=Clock())
    url = token_edit(_open(sim))
    assert _put(sim, url, 0, 4095).status == status


def test_an_expired_session_refuses_chunks_and_a_chunk_extends_it() -> None:
    clock = Clock()
    sim = GraphSimulation(clock=clock)
    url = _open(sim)
    clock.now = START + SESSION_LIFETIME - timedelta(seconds=1)
    assert _put(sim, url, 0, 4095).status == 200  # extends the session
    clock.now += SESSION_LIFETIME + timedelta(seconds=1)
    expired = _put(sim, url, 4096, 8191)
    assert expired.status == 401 and "expired" in expired.json()["error"]["message"]


def test_a_chunk_of_4_mib_is_too_large() -> None:
    sim = GraphSimulation(clock=Clock())
    size = 5 * 1024 * 1024
    url = _open(sim, size=size)
    refused = _put(sim, url, 0, 4 * 1024 * 1024 - 1, total=size, body=b"\0" * (4 * 1024 * 1024))
    assert (refused.status, refused.json()["error"]["code"]) == (413, "RequestEntityTooLarge")
