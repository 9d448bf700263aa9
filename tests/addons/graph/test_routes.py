"""The route table and its matcher, against the paths real Graph clients send."""

from __future__ import annotations

import re
import time

import pytest

from graphtape.addons.graph.routes import (
    ROUTES,
    ROUTES_BY_NAME,
    Operation,
    Route,
    is_attachment_route,
    match_attachment_item,
    match_path,
    match_route,
    route_segments,
    unmatched_segment,
)

MSG_ID = "AAMkAGI2TG93AAA="  # Outlook ids end in '=' and may hold '-', '_', '/'
MSG_ID_SLASH = "AAMkAGI2/TG93_x-y=="
MSG_ID_SLASH_SENT = "AAMkAGI2%2FTG93_x-y%3D%3D"

# (path as sent, route name, api version, via /me, decoded ids)
MATCHING_PATHS: list[tuple[str, str, str, bool, dict[str, str]]] = [
    # The seed page's routes, with its own placeholder-looking ids and with real ones.
    (
        "/beta/users/{usersId}/messages/{messageId}/attachments",
        "user-message",
        "beta",
        False,
        {"user-id": "{usersId}", "message-id": "{messageId}"},
    ),
    (
        f"/v1.0/users/adele@contoso.com/messages/{MSG_ID}/attachments",
        "user-message",
        "v1.0",
        False,
        {"user-id": "adele@contoso.com", "message-id": MSG_ID},
    ),
    (f"/v1.0/me/messages/{MSG_ID}/attachments", "user-message", "v1.0", True, {"message-id": MSG_ID}),
    (
        f"/v1.0/me/messages/{MSG_ID_SLASH_SENT}/attachments",
        "user-message",
        "v1.0",
        True,
        {"message-id": MSG_ID_SLASH},
    ),
    (
        "/v1.0/users/48d31887-5fad-4d73-a9f5-3c356e68a038/messages/m1/event/attachments",
        "user-message-event",
        "v1.0",
        False,
        {"user-id": "48d31887-5fad-4d73-a9f5-3c356e68a038", "message-id": "m1"},
    ),
    ("/beta/me/messages/m1/event/attachments", "user-message-event", "beta", True, {"message-id": "m1"}),
    (
        "/v1.0/groups/1848753d-185d-4c08-a4e4-6ee40521d115/conversations/AAQkADJ=/threads/AAQkADJUdfolA=="
        "/posts/AAMkADJ-_x=/attachments",
        "group-post",
        "v1.0",
        False,
        {
            "group-id": "1848753d-185d-4c08-a4e4-6ee40521d115",
            "conversation-id": "AAQkADJ=",
            "thread-id": "AAQkADJUdfolA==",
            "post-id": "AAMkADJ-_x=",
        },
    ),
    (
        "/v1.0/groups/g1/threads/t1/posts/p1/attachments",
        "group-thread-post",
        "v1.0",
        False,
        {"group-id": "g1", "thread-id": "t1", "post-id": "p1"},
    ),
    (
        "/beta/users/u1/outlook/taskGroups/tg1/taskFolders/tf1/tasks/t1/attachments",
        "outlook-taskgroup-task",
        "beta",
        False,
        {"user-id": "u1", "task-group-id": "tg1", "task-folder-id": "tf1", "task-id": "t1"},
    ),
    (
        "/v1.0/me/outlook/taskGroups/tg1/taskFolders/tf1/tasks/t1/attachments",
        "outlook-taskgroup-task",
        "v1.0",
        True,
        {"task-group-id": "tg1", "task-folder-id": "tf1", "task-id": "t1"},
    ),
    ("/beta/me/outlook/tasks/AAMkADA=/attachments", "outlook-task", "beta", True, {"task-id": "AAMkADA="}),
    (
        "/v1.0/me/mailFolders/inbox/messages/m1/attachments",
        "mailfolder-message",
        "v1.0",
        True,
        {"mail-folder-id": "inbox", "message-id": "m1"},
    ),
    (
        "/v1.0/users/u1/mailFolders/AAMkF=/childFolders/AAMkC=/messages/m1/attachments",
        "mailfolder-childfolder-message",
        "v1.0",
        False,
        {"user-id": "u1", "mail-folder-id": "AAMkF=", "child-folder-id": "AAMkC=", "message-id": "m1"},
    ),
    (
        "/beta/me/mailFolders/f/childFolders/c1/childFolders/c2/childFolders/c3/messages/m/attachments",
        "mailfolder-nested-childfolder-message",
        "beta",
        True,
        {
            "mail-folder-id": "f",
            "child-folder-id": "c1",
            "child-folder-id-2": "c2",
            "child-folder-id-3": "c3",
            "message-id": "m",
        },
    ),
    ("/v1.0/me/events/e1/attachments", "user-event", "v1.0", True, {"event-id": "e1"}),
    ("/v1.0/users/u1/events/e1/attachments", "user-event", "v1.0", False, {"user-id": "u1", "event-id": "e1"}),
    ("/v1.0/me/calendar/events/e1/attachments", "user-calendar-event", "v1.0", True, {"event-id": "e1"}),
    (
        "/beta/users/u1/calendars/c1/events/e1/attachments",
        "user-calendars-event",
        "beta",
        False,
        {"user-id": "u1", "calendar-id": "c1", "event-id": "e1"},
    ),
    (
        "/v1.0/me/calendarGroups/g1/calendars/c1/events/e1/attachments",
        "user-calendargroup-calendar-event",
        "v1.0",
        True,
        {"calendar-group-id": "g1", "calendar-id": "c1", "event-id": "e1"},
    ),
    ("/v1.0/groups/g1/events/e1/attachments", "group-event", "v1.0", False, {"group-id": "g1", "event-id": "e1"}),
    (
        "/v1.0/groups/g1/calendar/events/e1/attachments",
        "group-calendar-event",
        "v1.0",
        False,
        {"group-id": "g1", "event-id": "e1"},
    ),
    (
        "/v1.0/me/todo/lists/AAMkAGVjMzJmMWZjLTgyYjgtNDIyNC1iZWNmLWQ4NWIxMmFmZjEzNgAuAAA=/tasks/"
        "AAMkAGVjMzJmMWZjLTgyYjgtNDIyNC1iZWNmLWQ4NWIxMmFmZjEzNgBGAAA=/attachments",
        "todo-task",
        "v1.0",
        True,
        {
            "todo-task-list-id": "AAMkAGVjMzJmMWZjLTgyYjgtNDIyNC1iZWNmLWQ4NWIxMmFmZjEzNgAuAAA=",
            "todo-task-id": "AAMkAGVjMzJmMWZjLTgyYjgtNDIyNC1iZWNmLWQ4NWIxMmFmZjEzNgBGAAA=",
        },
    ),
    (
        "/v1.0/me/messages/m1/attachments/createUploadSession",
        "user-message-upload-session",
        "v1.0",
        True,
        {"message-id": "m1"},
    ),
    (
        "/v1.0/users/u1/events/e1/attachments/createUploadSession",
        "user-event-upload-session",
        "v1.0",
        False,
        {"user-id": "u1", "event-id": "e1"},
    ),
    (
        "/beta/me/todo/lists/l1/tasks/t1/attachments/createUploadSession",
        "todo-task-upload-session",
        "beta",
        True,
        {"todo-task-list-id": "l1", "todo-task-id": "t1"},
    ),
    # What proxies see beside the bare path: a query, a trailing slash, odd casing.
    ("/v1.0/me/messages/m1/attachments?$select=id", "user-message", "v1.0", True, {"message-id": "m1"}),
    ("/v1.0/me/messages/m1/attachments/", "user-message", "v1.0", True, {"message-id": "m1"}),
    ("/V1.0/ME/Messages/m1/ATTACHMENTS", "user-message", "v1.0", True, {"message-id": "m1"}),
    ("/BETA/Users/U1/Calendar/Events/E1/Attachments", "user-calendar-event", "beta", False, {"user-id": "U1", "event-id": "E1"}),
]


@pytest.mark.parametrize(("path", "name", "version", "via_me", "params"), MATCHING_PATHS)
def test_route_matches_with_name_version_and_decoded_ids(
    path: str, name: str, version: str, via_me: bool, params: dict[str, str]
) -> None:
    match = match_route("POST", path)
    assert match is not None, path
    assert match.route.name == name
    assert match.api_version == version
    assert match.via_me is via_me
    assert match.params == params
    assert match.path == path.split("?")[0]


def test_every_route_in_the_table_has_a_real_case() -> None:
    covered = {name for _, name, _, _, _ in MATCHING_PATHS}
    assert covered == set(ROUTES_BY_NAME)


def _concrete(template: str) -> str:
    return re.sub(r"\{([^}]+)\}", lambda m: f"id-{m.group(1)}%3D", template)


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.name)
def test_every_template_matches_in_users_and_me_forms_on_its_versions(route: Route) -> None:
    forms = [_concrete(route.template)]
    if route.template.startswith("/users/{user-id}/"):
        forms.append("/me" + _concrete(route.template.removeprefix("/users/{user-id}")))
    for version in ("v1.0", "beta"):
        for form in forms:
            match = match_route("POST", f"/{version}{form}")
            if version in route.versions:
                assert match is not None and match.route is route, form
                assert all(v == f"id-{k}=" for k, v in match.params.items())
                assert set(match.params) == set(route.placeholders) - (
                    {"user-id"} if match.via_me else set()
                )
            else:
                assert match is None, form


NOT_ROUTES: list[tuple[str, str]] = [
    ("GET", "/v1.0/me/messages/m1/attachments"),
    ("PATCH", "/v1.0/me/messages/m1/attachments"),
    ("DELETE", "/v1.0/me/messages/m1/attachments/a1"),
    ("POST", "/v2.0/me/messages/m1/attachments"),
    ("POST", "/api/v2.0/me/messages/m1/attachments"),
    ("POST", "/users/x/messages/y/attachments"),  # no version
    ("POST", "/v1.0/users/x/messages"),
    ("POST", "/v1.0/users/x/messages/y"),
    ("POST", "/v1.0/me/messages/m1/attachments/a1"),  # an item, not the collection
    ("POST", "/v1.0/me/messages/m1/attachments/a1/extra"),
    ("POST", "/v1.0/me/messages/a/b/attachments"),  # unencoded '/' in an id
    ("POST", "/v1.0/me/messages//attachments"),  # empty id
    ("POST", "/v1.0/me/contacts/c1/attachments"),
    ("POST", "/v1.0/me/outlook/tasks/t1/attachments"),  # beta only
    ("POST", "/v1.0/me/todo/lists/l/tasks/t/attachments/createUploadSession/x"),
    ("POST", "/v1.0/groups/g1/posts/p1/attachments"),
    ("POST", "/v1.0/me/events/e1/attachments/createuploadsessionx"),
    ("POST", "/v1.0"),
    ("POST", ""),
    ("POST", "/"),
]


@pytest.mark.parametrize(("method", "path"), NOT_ROUTES)
def test_non_routes_do_not_match(method: str, path: str) -> None:
    assert match_route(method, path) is None


def test_operation_deprecated_and_seed_flags() -> None:
    assert {r.name for r in ROUTES if r.from_seed} == {
        "user-message",
        "user-message-event",
        "group-post",
        "outlook-taskgroup-task",
    }
    assert {r.name for r in ROUTES if r.deprecated} == {"outlook-taskgroup-task", "outlook-task"}
    assert ROUTES_BY_NAME["outlook-task"].versions == frozenset({"beta"})
    assert ROUTES_BY_NAME["outlook-taskgroup-task"].versions == frozenset({"v1.0", "beta"})
    uploads = {r.name for r in ROUTES if r.operation is Operation.CREATE_UPLOAD_SESSION}
    assert uploads == {"user-message-upload-session", "user-event-upload-session", "todo-task-upload-session"}
    assert {r.base_type for r in ROUTES if r.container == "todoTask"} == {"attachmentBase"}
    assert {r.base_type for r in ROUTES if r.container != "todoTask"} == {"attachment"}
    assert {r.container for r in ROUTES} == {"message", "event", "post", "outlookTask", "todoTask"}


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/v1.0/me/messages/m1/attachments", True),
        ("/v1.0/me/messages/m1/attachments?$top=5", True),
        ("/v1.0/me/messages/m1/attachments/AAMkAtt%3D", True),
        ("/v1.0/me/todo/lists/l/tasks/t/attachments/att1", True),
        ("/v1.0/me/messages/m1", False),
        ("/v1.0/me/messages/m1/attachments/a1/$value", False),
        ("/v1.0/me/drive/root/children", False),
    ],
)
def test_is_attachment_route_ignores_the_method(path: str, expected: bool) -> None:
    assert is_attachment_route(path) is expected


def test_attachment_item_gives_its_collection_and_decoded_id() -> None:
    found = match_attachment_item("/beta/users/u1/events/e1/attachments/AAMkAtt%2F1%3D?$select=name")
    assert found is not None
    collection, attachment_id = found
    assert collection.route.name == "user-event"
    assert collection.path == "/beta/users/u1/events/e1/attachments"
    assert attachment_id == "AAMkAtt/1="
    assert match_attachment_item("/v1.0/me/messages/m1/attachments/createUploadSession") is None
    assert match_attachment_item("/v1.0/me/messages/m1/attachments") is None


@pytest.mark.parametrize(
    ("path", "segment"),
    [
        ("/v1.0/me/foo/bar", "foo"),
        ("/v2.0/me/messages/m/attachments", "v2.0"),
        ("/v1.0/me/outlook/tasks/t/attachments", "tasks"),
        ("/v1.0/groups/g/conversations/c/threads/t/posts/p/comments", "comments"),
        ("/v1.0/me/messages/m/attachments", None),
        ("/v1.0/me/messages", None),
    ],
)
def test_unmatched_segment_names_what_graph_would(path: str, segment: str | None) -> None:
    assert unmatched_segment(path) == segment


def test_route_segments_expand_nested_folders_and_leave_me_to_the_caller() -> None:
    nested = match_path("/v1.0/users/u/mailFolders/f/childFolders/a/childFolders/b/childFolders/c/messages/m/attachments")
    assert nested is not None
    assert route_segments(nested) == [
        ("users", "u"),
        ("mailFolders", "f"),
        ("childFolders", "a"),
        ("childFolders", "b"),
        ("childFolders", "c"),
        ("messages", "m"),
        ("attachments", None),
    ]
    me = match_path("/v1.0/me/calendar/events/e/attachments")
    assert me is not None
    assert route_segments(me) == [("users", None), ("calendar", None), ("events", "e"), ("attachments", None)]


def test_matching_is_fast_enough_for_a_proxy() -> None:
    paths = [p for p, *_ in MATCHING_PATHS] + [p for _, p in NOT_ROUTES]
    start = time.perf_counter()
    for _ in range(200):
        for path in paths:
            match_route("POST", path)
    elapsed = time.perf_counter() - start
    per_call = elapsed / (200 * len(paths))
    assert per_call < 100e-6, f"{per_call * 1e6:.1f} µs per match"
