"""What --scope attachments records: every generated route and inline carrier (truth: the routes
msgraph-sdk 1.62.0 can POST attachments to, directly or inline), nothing else."""

from __future__ import annotations

import pytest

from graphtape.addons.graph.scope import in_scope, route_of, upload_chunk_of


@pytest.mark.parametrize(
    ("method", "url", "route"),
    [
        ("POST", "https://graph.microsoft.com/v1.0/me/messages/AAMk%3D/attachments", "users-messages-attachments"),
        ("POST", "https://graph.microsoft.com/v1.0/me/events/e/attachments/createUploadSession",
         "users-events-attachments-createuploadsession"),
        ("POST", "https://graph.microsoft.com/v1.0/me/sendMail", "users-sendmail"),
        ("POST", "https://graph.microsoft.com/v1.0/users/u/messages/m/replyAll", "users-messages-replyall"),
        ("POST", "https://graph.microsoft.com/v1.0/me/messages", "users-messages"),
        ("POST", "https://graph.microsoft.com/v1.0/groups/g/conversations/c/threads/t/posts/p/reply",
         "groups-conversations-threads-posts-reply"),
        ("POST", "https://graph.microsoft.com/beta/me/outlook/tasks", "users-outlook-tasks"),
        ("GET", "https://graph.microsoft.com/v1.0/me/messages", None),
        ("POST", "https://graph.microsoft.com/v1.0/me/drive/root/children", None),
        ("POST", "https://graph.microsoft.com/v1.0/me/outlook/tasks", None),  # beta only
    ],
)
def test_attachment_scope_covers_collections_and_inline_carriers(method: str, url: str, route: str | None) -> None:
    found = route_of(method, url)
    assert (found.route.name if found else None) == route
    assert in_scope("attachments", found) is (route is not None)
    assert in_scope("all", found)


def test_chunk_puts_are_in_scope() -> None:
    url = "https://outlook.office.com/api/v2.0/Users('u')/Messages('m')/AttachmentSessions('s')?authtoken=x"
    found = upload_chunk_of("PUT", url)
    assert found is not None and found.session_id == "s"
    assert upload_chunk_of("POST", url) is None
