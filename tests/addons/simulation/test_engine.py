"""The Graph look-alike: status codes, bodies and headers as Graph answers them."""

from __future__ import annotations

import base64
import itertools
import json
import re
import threading
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest

from graphtape.addons.graph.routes import match_route
from graphtape.addons.graph.validation import validate_response
from graphtape.addons.simulation.engine import (
    ATTACHMENT_OVERHEAD_BYTES,
    DEFAULT_ME_USER_ID,
    GRAPH_JSON_CONTENT_TYPE,
    GraphSimulation,
    SimulatedResponse,
)
from graphtape.cassettes.findings import Severity

AUTH = {"Authorization": "Bearer fake-token-for-tests", "Content-Type": "application/json"}
GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
FIXED_NOW = datetime(2026, 11, 26, 20, 40, tzinfo=UTC)

MESSAGE = "/v1.0/me/messages/AAMkAGI2THVSAAA%3D/attachments"
MESSAGE_USERS = "/v1.0/users/adele@contoso.com/messages/m1/attachments"
EVENT_BETA = "/beta/users/u1/calendar/events/e1/attachments"
TODO = "/v1.0/me/todo/lists/l1/tasks/t1/attachments"
POST_ROUTE = "/v1.0/groups/g1/conversations/c1/threads/t1/posts/p1/attachments"

FILE = {"@odata.type": "#microsoft.graph.fileAttachment", "name": "a.txt", "contentType": "text/plain", "contentBytes": "SGVsbG8="}
ITEM = {"@odata.type": "#microsoft.graph.itemAttachment", "name": "Holiday event", "item": {"@odata.type": "microsoft.graph.event", "subject": "Discuss gifts"}}
REFERENCE = {"@odata.type": "#microsoft.graph.referenceAttachment", "name": "Pictures", "sourceUrl": "https://contoso.com/pics", "providerType": "oneDriveConsumer", "permission": "edit", "isFolder": True}
TASK_FILE = {"@odata.type": "#microsoft.graph.taskFileAttachment", "name": "smile.png", "contentBytes": "iVBORw0KGgo="}


def _body(data: Any) -> bytes:
    return data if isinstance(data, bytes) else json.dumps(data).encode()


@pytest.fixture
def sim() -> GraphSimulation:
    """A simulation with a fixed clock; ids stay random."""
    return GraphSimulation(clock=lambda: FIXED_NOW)


def _post(sim: GraphSimulation, path: str, data: Any, headers: dict[str, str] | None = None) -> SimulatedResponse:
    return sim.handle("POST", path, AUTH if headers is None else headers, _body(data))


# (case id, method, path, headers, body, status, error code or None)
STATUS_CASES: list[tuple[str, str, str, dict[str, str], Any, int, str | None]] = [
    ("created", "POST", MESSAGE, AUTH, FILE, 201, None),
    ("no-auth", "POST", MESSAGE, {"Content-Type": "application/json"}, FILE, 401, "InvalidAuthenticationToken"),
    ("empty-bearer", "POST", MESSAGE, {**AUTH, "Authorization": "Bearer "}, FILE, 401, "InvalidAuthenticationToken"),
    ("basic-auth", "POST", MESSAGE, {**AUTH, "Authorization": "Basic dTpw"}, FILE, 401, "InvalidAuthenticationToken"),
    ("no-auth-unknown-path", "GET", "/v1.0/me/drive", {}, b"", 401, "InvalidAuthenticationToken"),
    ("not-json", "POST", MESSAGE, AUTH, b"name=a.txt", 400, "BadRequest"),
    ("not-object", "POST", MESSAGE, AUTH, [FILE], 400, "BadRequest"),
    ("no-content-type", "POST", MESSAGE, {"Authorization": AUTH["Authorization"]}, FILE, 400, "BadRequest"),
    ("text-plain", "POST", MESSAGE, {**AUTH, "Content-Type": "text/plain"}, FILE, 415, "UnsupportedMediaType"),
    ("no-type", "POST", MESSAGE, AUTH, {"name": "a.txt", "contentBytes": "SGVsbG8="}, 422, "UnprocessableType"),
    ("seed-abstract", "POST", "/beta/users/u/messages/m/attachments", AUTH, {"@odata.type": "#microsoft.graph.attachment", "name": "String", "contentType": "String", "size": "Integer", "isInline": "Boolean"}, 422, "UnprocessableType"),
    ("unknown-type", "POST", MESSAGE, AUTH, {**FILE, "@odata.type": "#microsoft.graph.driveItem"}, 400, "RequestBodyRead"),
    ("file-on-todo", "POST", TODO, AUTH, FILE, 400, "RequestBodyRead"),
    ("taskfile-on-message", "POST", MESSAGE, AUTH, TASK_FILE, 400, "RequestBodyRead"),
    ("wrong-type", "POST", MESSAGE, AUTH, {**FILE, "isInline": "True"}, 400, "RequestBodyRead"),
    ("unknown-property", "POST", MESSAGE, AUTH, {**FILE, "sourceUrl": "https://x"}, 400, "RequestBodyRead"),
    ("enum", "POST", EVENT_BETA, AUTH, {**REFERENCE, "permission": "share"}, 400, "RequestBodyRead"),
    ("bad-base64", "POST", MESSAGE, AUTH, {**FILE, "contentBytes": "SGVsbG8"}, 400, "ErrorInvalidProperty"),
    ("missing-content", "POST", MESSAGE, AUTH, {"@odata.type": "#microsoft.graph.fileAttachment", "name": "a.txt"}, 400, "ErrorInvalidProperty"),
    ("file-over-3MB", "POST", MESSAGE, AUTH, {**FILE, "contentBytes": base64.b64encode(b"\0" * (3 * 1024 * 1024 + 1)).decode()}, 400, "BadRequest"),
    ("body-over-4MB", "POST", MESSAGE, AUTH, {**FILE, "contentId": "x" * (4 * 1024 * 1024)}, 400, "BadRequest"),
    ("read-only-ignored", "POST", MESSAGE, AUTH, {**FILE, "id": "mine", "size": 1}, 201, None),
    ("beta-only-on-v1", "POST", "/v1.0/me/outlook/tasks/t1/attachments", AUTH, FILE, 400, "BadRequest"),
    ("deprecated-beta", "POST", "/beta/me/outlook/tasks/t1/attachments", AUTH, FILE, 201, None),
    ("list", "GET", MESSAGE, AUTH, b"", 200, None),
    ("put", "PUT", MESSAGE, AUTH, FILE, 405, "MethodNotAllowed"),
    ("delete-collection", "DELETE", MESSAGE, AUTH, b"", 405, "MethodNotAllowed"),
    ("patch-item", "PATCH", MESSAGE + "/AAMkAtt%3D", AUTH, FILE, 405, "MethodNotAllowed"),
    ("missing-item", "GET", MESSAGE + "/AAMkAtt%3D", AUTH, b"", 404, "ErrorItemNotFound"),
    ("upload-session", "POST", "/v1.0/me/messages/m1/attachments/createUploadSession", AUTH, {"AttachmentItem": {"attachmentType": "file", "name": "a", "size": 3 * 1024 * 1024}}, 201, None),
    ("upload-session-bad-size", "POST", "/v1.0/me/messages/m1/attachments/createUploadSession", AUTH, {"AttachmentItem": {"attachmentType": "file", "name": "a", "size": "5"}}, 400, "RequestBodyRead"),
    ("upload-session-get", "GET", "/v1.0/me/messages/m1/attachments/createUploadSession", AUTH, b"", 405, "MethodNotAllowed"),
    ("chunk-unknown-session", "PUT", "/api/v2.0/Users('u')/Messages('m')/AttachmentSessions('nope')?authtoken=fake", {"Content-Range": "bytes 0-0/1"}, b"x", 404, "ErrorItemNotFound"),
    ("chunk-post", "POST", "/api/v2.0/Users('u')/Messages('m')/AttachmentSessions('nope')?authtoken=fake", {}, b"x", 405, "MethodNotAllowed"),
    ("other-path", "GET", "/v1.0/me/drive/root", AUTH, b"", 400, "BadRequest"),
    ("other-version", "POST", "/v2.0/me/messages/m1/attachments", AUTH, FILE, 400, "BadRequest"),
]


@pytest.mark.parametrize(
    ("method", "path", "headers", "body", "status", "code"),
    [case[1:] for case in STATUS_CASES],
    ids=[case[0] for case in STATUS_CASES],
)
def test_status_and_error_code(
    sim: GraphSimulation, method: str, path: str, headers: dict[str, str], body: Any, status: int, code: str | None
) -> None:
    response = sim.handle(method, path, headers, _body(body))
    assert response.status == status, response.body[:300]
    assert response.header("Content-Type") == GRAPH_JSON_CONTENT_TYPE
    if code is None:
        assert "error" not in response.json()
        return
    error = response.json()["error"]
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"]
    assert set(error["innerError"]) == {"date", "request-id", "client-request-id"}
    assert error["innerError"]["date"] == "2026-11-26T20:40:00Z"
    assert error["innerError"]["request-id"] == response.header("request-id")
    # The simulator's own errors pass the validator's envelope check.
    findings = validate_response(match_route("POST", MESSAGE), status, dict(response.headers), response.body)
    assert [f for f in findings if f.code == "error-envelope"] == []


@pytest.mark.parametrize(
    ("path", "segment"),
    [("/v1.0/me/drive/root", "drive"), ("/v1.0/me/messages/m1/attachments/a1/extra", "extra"), ("/v2.0/me", "v2.0")],
)
def test_unknown_paths_name_the_segment_as_graph_does(sim: GraphSimulation, path: str, segment: str) -> None:
    response = sim.handle("GET", path, AUTH, b"")
    assert response.json()["error"]["message"] == f"Resource not found for the segment '{segment}'."


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{", "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format."),
        ({"name": "a"}, "Cannot process input of abstract type 'microsoft.graph.attachment'"),
        ({**FILE, "contentBytes": base64.b64encode(b"\0" * (3 * 1024 * 1024 + 1)).decode()}, "Maximum request length exceeded."),
    ],
    ids=["json", "abstract", "too-large"],
)
def test_graph_messages(sim: GraphSimulation, body: Any, message: str) -> None:
    assert _post(sim, MESSAGE, body).json()["error"]["message"] == message


def test_rejections_name_the_property(sim: GraphSimulation) -> None:
    for body, prop in [({**FILE, "isInline": "True"}, "isInline"), ({**FILE, "sourceUrl": "x"}, "sourceUrl"), ({**FILE, "contentBytes": "!"}, "contentBytes")]:
        assert f"'{prop}'" in _post(sim, MESSAGE, body).json()["error"]["message"]


def test_todo_abstract_type_names_attachment_base(sim: GraphSimulation) -> None:
    response = _post(sim, TODO, {"name": "a", "contentBytes": "SGVsbG8="})
    assert response.status == 422
    assert response.json()["error"]["message"] == "Cannot process input of abstract type 'microsoft.graph.attachmentBase'"


def test_created_file_attachment(sim: GraphSimulation) -> None:
    response = _post(sim, MESSAGE, FILE, {**AUTH, "client-request-id": "7a9c9c35-0f5a-4b1a-9d21-8d0f6c7e0d11"})
    assert response.status == 201
    body = response.json()
    assert list(body)[:2] == ["@odata.context", "@odata.type"]
    assert body["@odata.context"] == (
        f"https://graph.microsoft.com/v1.0/$metadata#users('{DEFAULT_ME_USER_ID}')"
        "/messages('AAMkAGI2THVSAAA%3D')/attachments/$entity"  # keys percent-encoded as in attachment-get's examples
    )
    assert body["@odata.type"] == "#microsoft.graph.fileAttachment"
    assert body["name"] == "a.txt" and body["contentBytes"] == "SGVsbG8=" and body["contentType"] == "text/plain"
    assert body["size"] == 5 + ATTACHMENT_OVERHEAD_BYTES
    assert body["isInline"] is False
    assert body["lastModifiedDateTime"] == "2026-11-26T20:40:00Z"
    assert re.fullmatch(r"AAMkA[A-Za-z0-9_-]+=*", body["id"])
    headers = dict(response.headers)
    assert headers["client-request-id"] == "7a9c9c35-0f5a-4b1a-9d21-8d0f6c7e0d11"
    assert GUID.match(headers["request-id"])
    assert headers["OData-Version"] == "4.0" and headers["Cache-Control"] == "private"
    location = urlsplit(headers["Location"])
    assert location.path.startswith(MESSAGE + "/")
    assert response.body == json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


def test_client_request_id_is_fresh_when_not_sent(sim: GraphSimulation) -> None:
    first, second = _post(sim, MESSAGE, FILE), _post(sim, MESSAGE, FILE)
    assert GUID.match(first.header("client-request-id") or "")
    assert first.header("client-request-id") != second.header("client-request-id")
    assert first.header("request-id") != second.header("request-id")


def test_ids_are_fresh_and_size_is_deterministic(sim: GraphSimulation) -> None:
    bodies = [_post(sim, MESSAGE, FILE).json() for _ in range(20)]
    assert len({b["id"] for b in bodies}) == 20
    assert {b["size"] for b in bodies} == {5 + ATTACHMENT_OVERHEAD_BYTES}
    other = GraphSimulation()
    assert _post(other, MESSAGE, FILE).json()["id"] not in {b["id"] for b in bodies}


def test_injected_clock_and_ids_make_output_deterministic() -> None:
    def build() -> GraphSimulation:
        counter = itertools.count(1)
        ticks = itertools.count()
        return GraphSimulation(
            clock=lambda: FIXED_NOW + timedelta(seconds=next(ticks)),
            id_factory=lambda: f"att-{next(counter)}",
            request_id_factory=lambda: "00000000-0000-0000-0000-000000000000",
        )

    runs = [[_post(sim, MESSAGE, FILE) for _ in range(2)] for sim in (build(), build())]
    assert [(r.status, r.headers, r.body) for r in runs[0]] == [(r.status, r.headers, r.body) for r in runs[1]]
    assert [r.json()["id"] for r in runs[0]] == ["att-1", "att-2"]
    assert runs[0][1].json()["lastModifiedDateTime"] == "2026-11-26T20:40:01Z"


@pytest.mark.parametrize(
    ("path", "data", "odata_type", "context", "size"),
    [
        (MESSAGE_USERS, FILE, "fileAttachment", "users('adele%40contoso.com')/messages('m1')/attachments", 5 + ATTACHMENT_OVERHEAD_BYTES),
        (EVENT_BETA, ITEM, "itemAttachment", "users('u1')/calendar/events('e1')/attachments", None),
        (EVENT_BETA, REFERENCE, "referenceAttachment", "users('u1')/calendar/events('e1')/attachments", None),
        (TODO, TASK_FILE, "taskFileAttachment", f"users('{DEFAULT_ME_USER_ID}')/todo/lists('l1')/tasks('t1')/attachments", 8),
        (POST_ROUTE, FILE, "fileAttachment", "groups('g1')/conversations('c1')/threads('t1')/posts('p1')/attachments", None),
        (
            "/v1.0/me/mailFolders/inbox/childFolders/a/childFolders/b'c/messages/m/attachments",
            FILE,
            "fileAttachment",
            f"users('{DEFAULT_ME_USER_ID}')/mailFolders('inbox')/childFolders('a')/childFolders('b''c')/messages('m')/attachments",
            None,
        ),
    ],
    ids=["file-users", "item-event-beta", "reference-beta", "todo", "group-post", "nested-folders"],
)
def test_created_bodies_validate_clean(
    sim: GraphSimulation, path: str, data: dict[str, Any], odata_type: str, context: str, size: int | None
) -> None:
    response = _post(sim, path, data)
    assert response.status == 201, response.body
    body = response.json()
    version = path.split("/")[1]
    assert body["@odata.context"] == f"https://graph.microsoft.com/{version}/$metadata#{context}/$entity"
    assert body["@odata.type"] == f"#microsoft.graph.{odata_type}"
    if size is not None:
        assert body["size"] == size
    findings = validate_response(match_route("POST", path), 201, dict(response.headers), response.body, _body(data))
    assert [f for f in findings if f.severity is not Severity.INFO] == [], [str(f) for f in findings]
    assert findings == []


def test_content_type_defaults_by_extension(sim: GraphSimulation) -> None:
    for name, expected in [("report.pdf", "application/pdf"), ("photo.JPG", "image/jpeg"), ("blob", "application/octet-stream"), ("x.unknownext", "application/octet-stream")]:
        data = {k: v for k, v in FILE.items() if k != "contentType"} | {"name": name}
        assert _post(sim, MESSAGE, data).json()["contentType"] == expected


def test_list_and_get_what_was_created(sim: GraphSimulation) -> None:
    created = [_post(sim, MESSAGE, FILE).json(), _post(sim, MESSAGE, ITEM).json()]
    _post(sim, "/v1.0/me/messages/other/attachments", FILE)
    listing = sim.handle("GET", MESSAGE + "?$select=name", AUTH, b"").json()
    assert listing["@odata.context"].endswith("/messages('AAMkAGI2THVSAAA%3D')/attachments")
    assert [a["id"] for a in listing["value"]] == [c["id"] for c in created]
    # /me and /users/{the signed-in user's id} are the same mailbox, in either version.
    same = sim.handle("GET", f"/beta/users/{DEFAULT_ME_USER_ID}/messages/AAMkAGI2THVSAAA%3D/attachments", AUTH, b"").json()
    assert len(same["value"]) == 2
    one = sim.handle("GET", f"{MESSAGE}/{created[0]['id']}", AUTH, b"")
    assert one.status == 200
    assert one.json()["@odata.context"].endswith("/attachments/$entity")
    assert {k: v for k, v in one.json().items() if k != "@odata.context"} == {
        k: v for k, v in created[0].items() if k != "@odata.context"
    }
    location = urlsplit(_post(sim, MESSAGE, FILE).header("Location") or "").path
    assert sim.handle("GET", location, AUTH, b"").status == 200


def test_concurrent_creates_are_all_kept(sim: GraphSimulation) -> None:
    ids: list[str] = []
    lock = threading.Lock()

    def create() -> None:
        for _ in range(25):
            new_id = _post(sim, MESSAGE, FILE).json()["id"]
            with lock:
                ids.append(new_id)

    threads = [threading.Thread(target=create) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(ids)) == 200
    assert len(sim.handle("GET", MESSAGE, AUTH, b"").json()["value"]) == 200


def test_unauthorised_answers_carry_a_bearer_challenge(sim: GraphSimulation) -> None:
    response = sim.handle("POST", MESSAGE, {}, _body(FILE))
    assert (response.header("WWW-Authenticate") or "").startswith("Bearer ")
    assert response.json()["error"]["message"] == "Access token is empty."
