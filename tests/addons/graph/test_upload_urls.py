from __future__ import annotations

import pytest

from graphtape.addons.graph.upload_urls import (
    match_upload_url,
    origin_of,
    session_key,
    upload_path,
    with_origin,
)

OUTLOOK = "https://outlook.office.com/api/v2.0/Users('u1')/Messages('m1')/AttachmentSessions('s%3D1')?authtoken=x"


@pytest.mark.parametrize("url, session_id", [
    (OUTLOOK, "s=1"),
    ("/api/v2.0/Users('u')/Events('e')/AttachmentSessions('it''s')", "it's"),
    ("http://127.0.0.1:9/api/v2.0/users('u')/messages('m')/attachmentsessions('abc')/", "abc"),
    ("https://graph.microsoft.com/beta/me/todo/lists/l/tasks/t/attachmentSessions/xyz?x=1", "xyz"),
])
def test_upload_urls_are_recognised(url: str, session_id: str) -> None:
    found = match_upload_url(url)
    assert found is not None and found.session_id == session_id


@pytest.mark.parametrize("url", [
    "/v1.0/me/messages/m/attachments",
    "/v1.0/me/messages/m/attachments/createUploadSession",
    "https://outlook.office.com/api/v2.0/Users('u')/Messages('m')/Attachments('a')",
    "/",
])
def test_other_urls_are_not(url: str) -> None:
    assert match_upload_url(url) is None


def test_upload_path_round_trips_through_the_matcher() -> None:
    path = upload_path("u'1", "event", "e1", "s'1")
    assert path == "/api/v2.0/Users('u''1')/Events('e1')/AttachmentSessions('s''1')"
    found = match_upload_url(path)
    assert found is not None and found.session_id == "s'1"


def test_origin_swap_keeps_path_and_query() -> None:
    moved = with_origin(OUTLOOK, "http://127.0.0.1:8080")
    assert moved == "http://127.0.0.1:8080" + OUTLOOK.removeprefix("https://outlook.office.com")
    assert origin_of(OUTLOOK) == "https://outlook.office.com"
    assert session_key(moved) == session_key(OUTLOOK) == session_key(OUTLOOK.split("?")[0])
