"""UploadUrlRouting on mitmproxy's own test flows: the uploadUrl rewrite and the way back.

Truth: Graph's Outlook upload URLs live on another host than Graph (outlook.office.com,
https://learn.microsoft.com/en-us/graph/outlook-large-attachments) and To Do's on Graph's own
(https://learn.microsoft.com/en-us/graph/todo-attachments); the JavaScript client sends its token
by hostname alone (its AuthenticationHandler, clients.md of the team's notes), so the handed URL
must differ from the client's Graph base in hostname, not only in port.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from mitmproxy.proxy.mode_specs import ProxyMode
from mitmproxy.test import tflow, tutils

from graphtape.addons.proxy.tape import Tape
from graphtape.addons.proxy.upload_routing import UploadUrlRouting
from graphtape.cassettes.record_modes import RecordMode
from graphtape.cassettes.session import SessionSettings, TapeSession

SESSION_PATH = "/api/v2.0/Users('u1')/Messages('m1')/AttachmentSessions('s1')"
UPSTREAM_URL = f"https://outlook.office.com{SESSION_PATH}?authtoken=fake-upload-token-1"
CREATE = "/v1.0/me/messages/m1/attachments/createUploadSession"


def _flow(mode: str, method: str, path: str, answer: dict | None = None, tls: bool = False):
    flow = tflow.tflow(req=tutils.treq(method=method.encode(), path=path.encode(), host="graph.microsoft.com",
                                       port=443, scheme=b"https"))
    flow.client_conn.proxy_mode = ProxyMode.parse(mode)
    flow.client_conn.sockname = ("127.0.0.1", 8080)
    if not tls:  # tflow's client connection comes with TLS set up
        flow.client_conn.timestamp_tls_setup = None
    if answer is not None:
        flow.response = tutils.tresp(status_code=201, content=json.dumps(answer).encode())
    return flow


def _routing(tmp_path: Path, with_session: bool) -> UploadUrlRouting:
    tape = Tape()
    if with_session:
        tape.session = TapeSession(SessionSettings(tmp_path / "c.yaml", RecordMode.ALL, fsync=False)).open()
    return UploadUrlRouting(tape)


@pytest.mark.parametrize(("with_session", "handed_token"), [(True, "REDACTED"), (False, "fake-upload-token-1")],
                         ids=["recording", "no-cassette"])
def test_reverse_mode_hands_out_its_own_address_and_routes_chunks_upstream(
    tmp_path: Path, with_session: bool, handed_token: str
) -> None:
    routing = _routing(tmp_path, with_session)
    created = _flow("reverse:https://graph.microsoft.com", "POST", CREATE,
                    {"uploadUrl": UPSTREAM_URL, "nextExpectedRanges": ["0-"]})
    asyncio.run(routing.response(created))
    handed = json.loads(created.response.content)["uploadUrl"]
    # graphtape listens on 127.0.0.1:8080: the same listener by another hostname
    assert handed == f"http://localhost:8080{SESSION_PATH}?authtoken={handed_token}"
    assert created.response.headers["content-length"] == str(len(created.response.content))

    chunk = _flow("reverse:https://graph.microsoft.com", "PUT", handed.removeprefix("http://localhost:8080"))
    routing.requestheaders(chunk)
    assert chunk.request.url == UPSTREAM_URL  # upstream origin and the real token
    if with_session:
        routing.tape.session.close()


def test_a_token_the_client_changed_is_passed_on_as_sent(tmp_path: Path) -> None:
    routing = _routing(tmp_path, False)
    asyncio.run(routing.response(
        _flow("reverse:https://graph.microsoft.com", "POST", CREATE, {"uploadUrl": UPSTREAM_URL})))
    chunk = _flow("reverse:https://graph.microsoft.com", "PUT", SESSION_PATH + "?authtoken=other")
    routing.requestheaders(chunk)
    assert chunk.request.url == f"https://outlook.office.com{SESSION_PATH}?authtoken=other"


@pytest.mark.parametrize(("mode", "path", "answer"), [
    ("reverse:https://graph.microsoft.com", "/v1.0/me/messages/m1/attachments", {"uploadUrl": UPSTREAM_URL}),
    ("reverse:https://graph.microsoft.com", CREATE, {"uploadUrl": 5}),
    ("reverse:https://graph.microsoft.com", CREATE, {"uploadUrl": "https://example.com/not/a/session"}),
], ids=["not-a-session-route", "no-url", "not-a-session-url"])
def test_nothing_else_is_touched(tmp_path: Path, mode: str, path: str, answer: dict) -> None:
    routing = _routing(tmp_path, False)
    flow = _flow(mode, "POST", path, answer)
    before = flow.response.content
    asyncio.run(routing.response(flow))
    assert flow.response.content == before
    chunk = _flow(mode, "PUT", SESSION_PATH + "?authtoken=fake-upload-token-1")
    routing.requestheaders(chunk)
    assert chunk.request.host == "graph.microsoft.com"


def test_a_client_on_tls_gets_an_https_url(tmp_path: Path) -> None:
    routing = _routing(tmp_path, False)
    created = _flow("reverse:https://graph.microsoft.com", "POST", CREATE, {"uploadUrl": UPSTREAM_URL}, tls=True)
    asyncio.run(routing.response(created))
    created.client_conn.sni = None  # an IP literal: no SNI; the listening address stands in
    asyncio.run(routing.response(created))
    assert json.loads(created.response.content)["uploadUrl"].startswith("https://localhost:8080/api/v2.0/")


def test_a_tls_client_that_used_localhost_gets_the_ip_literal(tmp_path: Path) -> None:
    routing = _routing(tmp_path, False)
    created = _flow("reverse:https://graph.microsoft.com", "POST", CREATE, {"uploadUrl": UPSTREAM_URL}, tls=True)
    created.client_conn.sni = "localhost"
    asyncio.run(routing.response(created))
    assert json.loads(created.response.content)["uploadUrl"].startswith("https://127.0.0.1:8080/api/v2.0/")


def test_to_do_sessions_stay_on_the_graph_origin_the_client_used(tmp_path: Path) -> None:
    routing = _routing(tmp_path, False)
    todo = "https://127.0.0.1:9999/v1.0/users/u1/todo/lists/l1/tasks/t1/attachmentSessions/s1"
    created = _flow("reverse:https://graph.microsoft.com", "POST",
                    "/v1.0/me/todo/lists/l1/tasks/t1/attachments/createUploadSession", {"uploadUrl": todo})
    asyncio.run(routing.response(created))
    handed = json.loads(created.response.content)["uploadUrl"]
    assert handed == "http://127.0.0.1:8080/v1.0/users/u1/todo/lists/l1/tasks/t1/attachmentSessions/s1"
    chunk = _flow("reverse:https://graph.microsoft.com", "PUT",
                  "/v1.0/users/u1/todo/lists/l1/tasks/t1/attachmentSessions/s1/content")
    routing.requestheaders(chunk)
    assert chunk.request.url == todo + "/content"


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_forward_mode_hands_out_outlooks_origin_and_routes_chunks_upstream(tmp_path: Path, scheme: str) -> None:
    routing = _routing(tmp_path, True)
    upstream = f"http://localhost:41000{SESSION_PATH}?authtoken=fake-upload-token-1"
    created = _flow("regular", "POST", CREATE, {"uploadUrl": upstream})
    created.request.scheme = scheme
    asyncio.run(routing.response(created))
    handed = json.loads(created.response.content)["uploadUrl"]
    assert handed == f"{scheme}://outlook.office.com{SESSION_PATH}?authtoken=REDACTED"
    chunk = _flow("regular", "PUT", SESSION_PATH + "?authtoken=REDACTED")
    chunk.request.host = "outlook.office.com"
    routing.requestheaders(chunk)
    assert chunk.request.url == upstream
    routing.tape.session.close()
