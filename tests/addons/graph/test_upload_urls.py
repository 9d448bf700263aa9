from __future__ import annotations

import pytest

from graphtape.addons.graph.upload_urls import (
    alternate_loopback_host,
    canonical_upload_request,
    canonical_upload_url,
    match_upload_url,
    origin_of,
    outlook_upload_path,
    session_key,
    with_origin,
)
from graphtape.cassettes.model import Headers, Request

OUTLOOK = "https://outlook.office.com/api/v2.0/Users('u1')/Messages('m1')/AttachmentSessions('s%3D1')?authtoken=x"


@pytest.mark.parametrize("url, session_id, kind", [
    (OUTLOOK, "s=1", "outlook"),
    ("/api/v2.0/Users('u')/Events('e')/AttachmentSessions('it''s')", "it's", "outlook"),
    ("http://127.0.0.1:9/api/v2.0/users('u')/messages('m')/attachmentsessions('abc')/", "abc", "outlook"),
    ("/api/v2.0/Groups('g')/Posts('p')/AttachmentSessions('s')", "s", "outlook"),
    ("https://graph.microsoft.com/beta/me/todo/lists/l/tasks/t/attachmentSessions/xyz?x=1", "xyz", "todo"),
    ("https://graph.microsoft.com/v1.0/users/u/todo/lists/l/tasks/t/attachmentSessions/xyz/content", "xyz", "todo"),
])
def test_upload_urls_are_recognised(url: str, session_id: str, kind: str) -> None:
    found = match_upload_url(url)
    assert found is not None and (found.session_id, found.kind) == (session_id, kind)


@pytest.mark.parametrize("url", [
    "/v1.0/me/messages/m/attachments",
    "/v1.0/me/messages/m/attachments/createUploadSession",
    "https://outlook.office.com/api/v2.0/Users('u')/Messages('m')/Attachments('a')",
    "/",
    # a client that treated an http:// upload URL as a path (clients.md: the JS client does)
    "/v1.0/http://127.0.0.1:8080/api/v2.0/Users('u')/Messages('m')/AttachmentSessions('s')",
    "/anything/prefix/api/v2.0/Users('u')/Messages('m')/AttachmentSessions('s')",
    "/v1.0/me/todo/lists/l/tasks/t/attachmentSessions/s/content/extra",
])
def test_other_urls_are_not(url: str) -> None:
    assert match_upload_url(url) is None


def test_upload_path_round_trips_through_the_matcher() -> None:
    path = outlook_upload_path(("users", "u'1"), "event", "e1", "s'1")
    assert path == "/api/v2.0/Users('u''1')/Events('e1')/AttachmentSessions('s''1')"
    found = match_upload_url(path)
    assert found is not None and found.session_id == "s'1"


def test_origin_swap_keeps_path_and_query() -> None:
    moved = with_origin(OUTLOOK, "http://127.0.0.1:8080")
    assert moved == "http://127.0.0.1:8080" + OUTLOOK.removeprefix("https://outlook.office.com")
    assert origin_of(OUTLOOK) == "https://outlook.office.com"
    assert session_key(moved) == session_key(OUTLOOK) == session_key(OUTLOOK.split("?")[0])


def test_to_do_content_stream_is_the_same_session() -> None:
    base = "https://graph.microsoft.com/v1.0/users/u/todo/lists/l/tasks/t/attachmentSessions/xyz"
    assert session_key(base + "/content") == session_key(base) == "/v1.0/users/u/todo/lists/l/tasks/t/attachmentSessions/xyz"


@pytest.mark.parametrize("url, canonical", [
    ("http://localhost:41234/api/v2.0/Users('u')/Messages('m')/AttachmentSessions('s')?authtoken=REDACTED",
     "https://outlook.office.com/api/v2.0/Users('u')/Messages('m')/AttachmentSessions('s')?authtoken=REDACTED"),
    ("https://127.0.0.1:5555/v1.0/users/u/todo/lists/l/tasks/t/attachmentSessions/s",
     "https://graph.microsoft.com/v1.0/users/u/todo/lists/l/tasks/t/attachmentSessions/s"),
    ("http://127.0.0.1:5555/v1.0/me/messages/m/attachments", "http://127.0.0.1:5555/v1.0/me/messages/m/attachments"),
])
def test_cassettes_name_upload_urls_on_a_canonical_origin(url: str, canonical: str) -> None:
    assert canonical_upload_url(url) == canonical


@pytest.mark.parametrize("url, host, canonical_host", [
    ("http://localhost:41234/api/v2.0/Users('u')/Messages('m')/AttachmentSessions('s')?authtoken=REDACTED",
     "localhost:41234", "outlook.office.com"),
    ("https://127.0.0.1:5555/v1.0/users/u/todo/lists/l/tasks/t/attachmentSessions/s/content", "127.0.0.1:5555",
     "graph.microsoft.com"),
    ("http://127.0.0.1:5555/v1.0/me/messages/m/attachments", "127.0.0.1:5555", "127.0.0.1:5555"),
])
def test_a_canonical_chunk_request_names_its_origin_in_the_host_header_too(url: str, host: str,
                                                                          canonical_host: str) -> None:
    request = Request("PUT", url, Headers.of([("Host", host), ("Content-Range", "bytes 0-1/2")]), b"ab")
    canonical = canonical_upload_request(request)
    assert canonical.headers.get("host") == canonical_host
    assert canonical.headers.get("content-range") == "bytes 0-1/2" and canonical.body == b"ab"
    without_host = canonical_upload_request(Request("PUT", url, Headers.of([]), b""))
    assert "host" not in without_host.headers


@pytest.mark.parametrize("host, other", [("127.0.0.1", "localhost"), ("localhost", "127.0.0.1"),
                                         ("LOCALHOST", "127.0.0.1"), ("::1", "localhost"), ("127.0.0.5", "localhost")])
def test_upload_urls_get_another_hostname_for_the_same_listener(host: str, other: str) -> None:
    assert alternate_loopback_host(host) == other
