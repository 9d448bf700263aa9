"""The route table generated from Graph's metadata, against what Microsoft's SDK can call.

Truth: every attachment-creating and upload-session route of the official v1.0 SDK
(msgraph-sdk 1.62.0's request builders, extracted into
tests/addons/graph/metadata/data/msgraph_sdk_routes.txt) and every call that carries
attachments inline (msgraph_sdk_carriers.txt), in both key forms and through /me; made-up
routes come from the CSDL's absence of them (no ``outlook`` navigation on v1.0's user...).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from graphtape.addons.graph.routes import (
    LEGACY_ROUTE_NAMES,
    Operation,
    Route,
    all_routes,
    is_attachment_route,
    match_attachment_item,
    match_inline,
    match_path,
    match_route,
    route_by_name,
    route_segments,
    routes_for,
    unmatched_segment,
)
from graphtape.cassettes.serialization import load_cassette

SDK_DATA = Path(__file__).resolve().parent / "metadata" / "data"
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
SAMPLE_ID = "AAMkAGI2%2FTG93_x-y%3D%3D"  # an Outlook id with '/' and '=' percent-encoded, as SDKs send it
DECODED_ID = "AAMkAGI2/TG93_x-y=="
PLACEHOLDER = re.compile(r"\{[^}]+\}")


def _sdk_rows(name: str) -> list[list[str]]:
    text = (SDK_DATA / name).read_text(encoding="utf-8")
    return [line.split("\t") for line in text.splitlines() if line and not line.startswith("#")]


def _forms(template: str) -> list[tuple[str, str]]:
    """(form, concrete path) for an SDK template: path-segment keys, OData key syntax, /me."""
    forms = [
        ("segment-keys", PLACEHOLDER.sub(SAMPLE_ID, template)),
        ("odata-keys", re.sub(r"/\{[^}]+\}", f"('{SAMPLE_ID}')", template)),
    ]
    if template.startswith("/users/{user%2Did}/"):
        forms.append(("me", PLACEHOLDER.sub(SAMPLE_ID, "/me" + template.removeprefix("/users/{user%2Did}"))))
    return forms


SDK_ROUTES = _sdk_rows("msgraph_sdk_routes.txt")
SDK_CARRIERS = _sdk_rows("msgraph_sdk_carriers.txt")
ROUTE_CASES = [(op, form, path) for op, template in SDK_ROUTES for form, path in _forms(template)]
CARRIER_CASES = [(kind, form, path) for kind, template, _ in SDK_CARRIERS for form, path in _forms(template)]


def test_the_sdk_tables_are_whole() -> None:
    # msgraph-sdk 1.62.0: 14 attachment collections x {create, createUploadSession}, 16 of them under
    # /users (so also /me); and the calls carrying attachments inline.
    assert len(SDK_ROUTES) == 28 and len(ROUTE_CASES) == 28 * 2 + 16
    assert {op for op, _ in SDK_ROUTES} == {"create", "createUploadSession"}
    assert len(SDK_CARRIERS) == len(_sdk_rows("msgraph_sdk_carriers.txt")) >= 30


@pytest.mark.parametrize(("operation", "form", "path"), ROUTE_CASES, ids=[f"{f}:{p}" for _, f, p in ROUTE_CASES])
def test_every_sdk_attachment_route_is_recognised(operation: str, form: str, path: str) -> None:
    match = match_route("POST", f"/v1.0{path}")
    assert match is not None, path
    assert match.route.operation is Operation(operation)
    assert match_path(f"/v1.0{path}") == match  # an attachments collection, as the simulator dispatches it
    assert match.api_version == "v1.0" and match.via_me is (form == "me")
    assert match.keys and all(value == DECODED_ID for _, value in match.keys)
    assert set(match.params.values()) == {DECODED_ID}
    assert match.parent_id == DECODED_ID
    expected_base = "attachmentBase" if "/todo/" in path else "attachment"
    assert match.route.base_type == expected_base


@pytest.mark.parametrize(("kind", "form", "path"), CARRIER_CASES, ids=[f"{f}:{p}" for _, f, p in CARRIER_CASES])
def test_every_sdk_inline_carrier_is_recognised_and_kept_apart(kind: str, form: str, path: str) -> None:
    match = match_route("POST", f"/v1.0{path}")
    assert match is not None, path
    assert match.route.operation is (Operation.INLINE_ACTION if kind == "action" else Operation.INLINE_CREATE)
    assert match.route.operation.is_inline
    assert match_inline(f"/v1.0{path}") == match
    assert match_path(f"/v1.0{path}") is None  # never mistaken for an attachments collection
    assert match.route.attachment_paths


# (why it is not a route, method, path): each is absent from the CSDL's navigation or malformed.
NOT_ROUTES: list[tuple[str, str, str]] = [
    ("GET is not a create", "GET", "/v1.0/me/messages/m1/attachments"),
    ("PATCH is not a create", "PATCH", "/v1.0/me/messages/m1/attachments"),
    ("DELETE of an item", "DELETE", "/v1.0/me/messages/m1/attachments/a1"),
    ("no such API version", "POST", "/v2.0/me/messages/m1/attachments"),
    ("Outlook REST, not Graph", "POST", "/api/v2.0/me/messages/m1/attachments"),
    ("no version", "POST", "/users/x/messages/y/attachments"),
    ("beta-only Outlook task groups on v1.0", "POST", "/v1.0/users/u/outlook/taskGroups/g/taskFolders/f/tasks/t/attachments"),
    ("beta-only Outlook tasks on v1.0", "POST", "/v1.0/me/outlook/tasks/t1/attachments"),
    ("beta-only upload session on Outlook tasks", "POST", "/v1.0/me/outlook/taskFolders/f/tasks/t/attachments/createUploadSession"),
    ("beta-only nested event instances on v1.0", "POST", "/v1.0/me/events/e/instances/i/attachments"),
    ("typo: mesages", "POST", "/v1.0/me/mesages/m1/attachments"),
    ("typo: attachment", "POST", "/v1.0/me/messages/m1/attachment"),
    ("typo: createUploadSessionx", "POST", "/v1.0/me/events/e1/attachments/createuploadsessionx"),
    ("typo: sendmails", "POST", "/v1.0/me/sendMails"),
    ("extra segment after the collection", "POST", "/v1.0/me/messages/m1/attachments/a1/extra"),
    ("an attachment, not the collection", "POST", "/v1.0/me/messages/m1/attachments/a1"),
    ("extra segment after the action", "POST", "/v1.0/me/todo/lists/l/tasks/t/attachments/createUploadSession/x"),
    ("a message, not its attachments", "POST", "/v1.0/users/x/messages/y"),
    ("an unencoded '/' in an id", "POST", "/v1.0/me/messages/a/b/attachments"),
    ("an empty id", "POST", "/v1.0/me/messages//attachments"),
    ("contacts have no attachments", "POST", "/v1.0/me/contacts/c1/attachments"),
    ("group posts live under threads", "POST", "/v1.0/groups/g1/posts/p1/attachments"),
    ("a thread is not a post", "POST", "/v1.0/groups/g/threads/t/attachments"),
    ("To Do lists hold tasks", "POST", "/v1.0/me/todo/lists/l/attachments"),
    ("only the root", "POST", "/v1.0"),
    ("empty", "POST", ""),
    ("slash", "POST", "/"),
]


@pytest.mark.parametrize(("why", "method", "path"), NOT_ROUTES, ids=[w for w, _, _ in NOT_ROUTES])
def test_made_up_routes_are_rejected(why: str, method: str, path: str) -> None:
    assert match_route(method, path) is None, why


def test_beta_only_routes_match_on_beta() -> None:
    for path in (
        "/beta/users/u/outlook/taskGroups/g/taskFolders/f/tasks/t/attachments",
        "/beta/me/outlook/tasks/t1/attachments/createUploadSession",
        "/beta/me/events/e/instances/i/attachments",
    ):
        assert match_route("POST", path) is not None, path


@pytest.mark.parametrize(
    ("path", "name", "via_me", "params"),
    [
        # The seed page's placeholder-looking ids and real ones, OData key form, case, query, slash.
        ("/beta/users/{usersId}/messages/{messageId}/attachments", "users-messages-attachments", False,
         {"user-id": "{usersId}", "message-id": "{messageId}"}),
        ("/v1.0/users('a%40b.com')/messages('AAMk=')/attachments", "users-messages-attachments", False,
         {"user-id": "a@b.com", "message-id": "AAMk="}),
        ("/V1.0/ME/Messages/m1/ATTACHMENTS?$select=id", "users-messages-attachments", True, {"message-id": "m1"}),
        ("/v1.0/me/messages/m1/attachments/", "users-messages-attachments", True, {"message-id": "m1"}),
        ("/v1.0/me/messages/m1/event/attachments", "users-messages-event-attachments", True, {"message-id": "m1"}),
        ("/v1.0/me/messages/m1/microsoft.graph.eventMessage/event/attachments", "users-messages-event-attachments",
         True, {"message-id": "m1"}),
        ("/beta/me/mailFolders/f/childFolders/c1/childFolders/c2/messages/m/attachments",
         "users-mailfolders-messages-attachments", True,
         {"mailFolder-id": "f", "mailFolder-id-2": "c1", "mailFolder-id-3": "c2", "message-id": "m"}),
        ("/v1.0/groups/g/conversations/c/threads/t/posts/p/inReplyTo/attachments",
         "groups-conversations-threads-posts-attachments", False,
         {"group-id": "g", "conversation-id": "c", "conversationThread-id": "t", "post-id": "p"}),
        ("/v1.0/me/todo/lists/l/tasks/t/attachments/microsoft.graph.createUploadSession",
         "users-todo-lists-tasks-attachments-createuploadsession", True, {"todoTaskList-id": "l", "todoTask-id": "t"}),
        ("/v1.0/users/u/sendMail", "users-sendmail", False, {"user-id": "u"}),
        ("/v1.0/me/messages/m/createReply", "users-messages-createreply", True, {"message-id": "m"}),
        ("/v1.0/groups/g/threads/t/reply", "groups-threads-reply", False, {"group-id": "g", "conversationThread-id": "t"}),
        ("/v1.0/me/events", "users-events", True, {}),
    ],
)
def test_names_ids_and_me(path: str, name: str, via_me: bool, params: dict[str, str]) -> None:
    match = match_route("POST", path)
    assert match is not None
    assert (match.route.name, match.via_me, match.params) == (name, via_me, params)
    assert match.path == path.split("?")[0]


def test_me_and_users_stay_distinct_as_sent() -> None:
    me = match_route("POST", "/v1.0/me/messages/m/attachments")
    user = match_route("POST", "/v1.0/users/u/messages/m/attachments")
    assert me is not None and user is not None
    assert me.route is user.route  # one route ...
    assert (me.via_me, me.path, "user-id" in me.params) == (True, "/v1.0/me/messages/m/attachments", False)
    assert (user.via_me, user.path, user.params["user-id"]) == (False, "/v1.0/users/u/messages/m/attachments", "u")


def test_route_names_are_unique_within_a_version_and_follow_the_scheme() -> None:
    for version in ("v1.0", "beta"):
        names = [r.name for r in routes_for(version)]
        assert len(names) == len(set(names)), version
    for route in all_routes():
        shortest = route.template
        while re.search(r"\([^()]*\)\*", shortest):  # repetitions, innermost first, taken zero times
            shortest = re.sub(r"\([^()]*\)\*", "", shortest)
        words = [w for w in re.sub(r"\[[^]]*\]|\{[^}]*\}", "", shortest).split("/") if w]
        assert route.name == "-".join(w.lower() for w in words), route.template


def test_route_counts() -> None:
    # Collections: v1.0 has 13 attachment collections (CSDL commit f54f11b), each with
    # createUploadSession; beta adds the Outlook tasks' three and calendarView forms.
    v1 = routes_for("v1.0")
    assert sum(r.operation is Operation.CREATE for r in v1) == 13
    assert sum(r.operation is Operation.CREATE_UPLOAD_SESSION for r in v1) == 13
    assert sum(r.operation.is_inline for r in v1) == 29
    beta = routes_for("beta")
    assert sum(r.operation is Operation.CREATE for r in beta) == 22
    assert {r.container for r in beta if r.deprecated} == {"outlookTask"}
    assert not [r for r in v1 if r.deprecated]


def test_every_legacy_name_reads_as_a_route_of_its_versions() -> None:
    for legacy, current in LEGACY_ROUTE_NAMES.items():
        route = route_by_name(legacy)
        assert isinstance(route, Route) and route.name == current, legacy
    assert route_by_name("outlook-task", "v1.0") is None  # beta only, as the metadata says
    assert route_by_name("users-messages-attachments") is route_by_name("user-message")
    assert route_by_name("no-such-route") is None


def test_an_old_cassettes_route_names_still_read() -> None:
    # Recorded before the routes were generated (graphtape's first example cassette, trimmed).
    cassette = load_cassette(FIXTURES / "cassette-legacy-route-names.yaml")
    names = [it.meta.route for it in cassette.interactions]
    assert names == ["user-message", "user-message-event", "group-post", "outlook-taskgroup-task"]
    for interaction in cassette.interactions:
        match = match_route(interaction.request.method, interaction.request.path)
        assert match is not None
        version = match.api_version
        assert route_by_name(str(interaction.meta.route), version) is match.route


def test_attachment_item_in_both_key_forms() -> None:
    found = match_attachment_item("/beta/users/u1/events/e1/attachments/AAMkAtt%2F1%3D?$select=name")
    assert found is not None
    collection, attachment_id = found
    assert (collection.route.name, collection.path, attachment_id) == (
        "users-events-attachments", "/beta/users/u1/events/e1/attachments", "AAMkAtt/1=")
    keyed = match_attachment_item("/v1.0/me/messages('m')/attachments('a%2Fb')")
    assert keyed is not None and keyed[0].path == "/v1.0/me/messages('m')/attachments" and keyed[1] == "a/b"
    assert match_attachment_item("/v1.0/me/messages/m1/attachments/createUploadSession") is None
    assert match_attachment_item("/v1.0/me/messages/m1/attachments") is None
    assert match_attachment_item("/v1.0/me/sendMail/x") is None


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/v1.0/me/messages/m1/attachments", True),
        ("/v1.0/me/messages/m1/attachments?$top=5", True),
        ("/v1.0/me/messages/m1/attachments/AAMkAtt%3D", True),
        ("/v1.0/me/todo/lists/l/tasks/t/attachments/att1", True),
        ("/v1.0/me/sendMail", False),  # carries attachments, but is not an attachments collection
        ("/v1.0/me/messages/m1", False),
        ("/v1.0/me/messages/m1/attachments/a1/$value", False),
        ("/v1.0/me/drive/root/children", False),
    ],
)
def test_is_attachment_route_ignores_the_method(path: str, expected: bool) -> None:
    assert is_attachment_route(path) is expected


@pytest.mark.parametrize(
    ("path", "segment"),
    [
        ("/v1.0/me/foo/bar", "foo"),
        ("/v2.0/me/messages/m/attachments", "v2.0"),
        ("/v1.0/me/outlook/tasks/t/attachments", "outlook"),  # v1.0's metadata has no outlook tasks
        ("/beta/me/outlook/tasks/t/attachmentz", "attachmentz"),
        ("/v1.0/groups/g/conversations/c/threads/t/posts/p/comments", "comments"),
        ("/v1.0/me/messages/m/attachments/a/x", "x"),
        ("/v1.0/me/messages/m/attachments", None),
        ("/v1.0/me/messages", None),
    ],
)
def test_unmatched_segment_names_what_graph_would(path: str, segment: str | None) -> None:
    assert unmatched_segment(path) == segment


def test_route_segments_expand_repeats_and_leave_me_to_the_caller() -> None:
    nested = match_path("/v1.0/users/u/mailFolders/f/childFolders/a/childFolders/b/messages/m/attachments")
    assert nested is not None
    assert route_segments(nested) == [
        ("users", "u"), ("mailFolders", "f"), ("childFolders", "a"), ("childFolders", "b"), ("messages", "m"),
        ("attachments", None),
    ]
    me = match_path("/v1.0/me/calendar/events/e/attachments")
    assert me is not None
    assert route_segments(me) == [("users", None), ("calendar", None), ("events", "e"), ("attachments", None)]
    cast = match_path("/v1.0/me/messages/m/microsoft.graph.eventMessage/event/attachments/createUploadSession")
    assert cast is not None
    assert route_segments(cast) == [("users", None), ("messages", "m"), ("event", None), ("attachments", None),
                                    ("createUploadSession", None)]
