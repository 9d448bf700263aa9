"""The typed loader: Graph type facts checked against Microsoft's sources, and its helpers.

The facts table (graph_metadata_truth.FACTS) takes every expected value from outside
graphtape: each row names its source, either Microsoft's CSDL (the regeneration test
also checks those rows against the CSDL text) or msgraph-sdk's generated models (the
committed extraction in data/).
"""

from __future__ import annotations

import pytest
from graph_metadata_truth import FACTS, SDK_MODELS, Fact

from graphtape.addons.graph.metadata import (
    GraphMetadataError,
    Operation,
    UnknownGraphTypeError,
    load_schema,
)
from graphtape.addons.graph.metadata.schema import AttachmentLocation, _Reader
from graphtape.cassettes.errors import GraphtapeError


@pytest.mark.parametrize("fact", FACTS, ids=[f.row for f in FACTS])
def test_fact_in_generated_data(fact: Fact) -> None:
    assert fact.actual(load_schema(fact.api_version)) == fact.expected, f"source: {fact.source}"


def test_sdk_and_v1_metadata_agree_that_outlook_task_and_note_are_not_items() -> None:
    # msgraph-sdk 1.62.0 maps no #microsoft.graph.outlookTask nor #microsoft.graph.note.
    items = {t.short_name for t in load_schema("v1.0").concrete_subtypes("outlookItem")}
    assert "outlookTask" not in items and "outlookTask" not in SDK_MODELS["outlook_item"]
    assert "note" not in items and "note" not in SDK_MODELS["outlook_item"]


# --- helpers -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["microsoft.graph.fileAttachment", "#microsoft.graph.fileAttachment", "graph.fileAttachment", "fileAttachment"],
)
def test_resolve_accepts_every_spelling(name: str) -> None:
    info = load_schema("v1.0").resolve(name)
    assert info is not None and info.name == "microsoft.graph.fileAttachment"
    assert info.odata_type == "#microsoft.graph.fileAttachment"


def test_unknown_types() -> None:
    schema = load_schema("v1.0")
    assert schema.resolve("outlookTask") is None  # beta only
    assert schema.resolve("#microsoft.graph.nope") is None
    with pytest.raises(UnknownGraphTypeError) as error:
        schema.require("outlookTask")
    assert isinstance(error.value, KeyError) and isinstance(error.value, GraphtapeError)
    assert str(error.value) == "v1.0 schema has no type 'outlookTask'"


def test_inherited_properties_come_base_first() -> None:
    props = load_schema("v1.0").all_properties("fileAttachment")
    assert list(props)[:1] == ["id"]
    assert props["id"].declared_by == "microsoft.graph.entity" and props["id"].nullable is False
    assert props["size"].declared_by == "microsoft.graph.attachment"
    assert props["contentBytes"].declared_by == "microsoft.graph.fileAttachment"


def test_navigation_properties_are_marked() -> None:
    item = load_schema("v1.0").all_properties("itemAttachment")["item"]
    assert (item.navigation, item.containment, item.type, item.collection) == (
        True,
        True,
        "microsoft.graph.outlookItem",
        False,
    )


def test_open_is_inherited_and_subtypes_are_transitive() -> None:
    schema = load_schema("v1.0")
    assert schema.is_open("eventMessageRequest")  # message is open, so its subtypes are
    assert schema.is_a("eventMessageRequest", "outlookItem")
    assert not schema.is_a("event", "message")
    assert [t.short_name for t in schema.subtypes("eventMessage")] == ["eventMessageRequest", "eventMessageResponse"]
    assert [t.short_name for t in schema.concrete_subtypes("fileAttachment")] == ["fileAttachment"]
    assert [t.short_name for t in schema.base_chain("taskFileAttachment")] == [
        "taskFileAttachment",
        "attachmentBase",
        "entity",
    ]


def test_actions() -> None:
    schema = load_schema("v1.0")
    reply = schema.action("microsoft.graph.reply", "microsoft.graph.post")
    assert reply is not None and list(reply.parameters) == ["Post"] and reply.parameters["Post"].nullable is False
    assert schema.action("reply", "microsoft.graph.event") is None
    session = schema.upload_session_action("attachmentBase")
    assert session is not None and session.returns == "microsoft.graph.uploadSession"


@pytest.mark.parametrize(
    ("path", "template", "operation", "keys", "via_me"),
    [
        (
            "/v1.0/users('a%40b.com')/messages('AAMk%3D')/attachments",
            "/users/{user-id}/messages/{message-id}/attachments",
            Operation.CREATE,
            ["a@b.com", "AAMk="],
            False,
        ),
        (
            (
                "https://graph.microsoft.com/v1.0/me/mailFolders/inbox/childFolders/a/childFolders/b/messages/m"
                "/attachments/createUploadSession?x=1"
            ),
            (
                "/me/mailFolders/{mailFolder-id}(/childFolders/{mailFolder-id})*/messages/{message-id}/attachments"
                "/createUploadSession"
            ),
            Operation.CREATE_UPLOAD_SESSION,
            ["inbox", "a", "b", "m"],
            True,
        ),
        (
            "/V1.0/groups/g/threads/t/posts/p/inReplyTo/inReplyTo/attachments",
            "/groups/{group-id}/threads/{conversationThread-id}/posts/{post-id}(/inReplyTo)*/attachments",
            Operation.CREATE,
            ["g", "t", "p"],
            False,
        ),
    ],
)
def test_match_route(path: str, template: str, operation: Operation, keys: list[str], via_me: bool) -> None:
    found = load_schema("v1.0").match_route(path)
    assert found is not None
    assert (found.route.template, found.route.operation, [v for _, v in found.keys], found.via_me) == (
        template,
        operation,
        keys,
        via_me,
    )


@pytest.mark.parametrize(
    "path",
    [
        "/beta/users/u/messages/m/attachments",  # asked of the v1.0 schema
        "/v1.0/users/u/outlook/tasks/t/attachments",  # beta only
        "/v1.0/users/u/messages/m/attachments/a",  # one attachment, not the collection
        "/v1.0/users/u/calendarView/e/attachments",  # calendarView is not indexable on v1.0
    ],
)
def test_match_route_misses(path: str) -> None:
    assert load_schema("v1.0").match_route(path) is None


def test_match_carrier_and_attachment_locations() -> None:
    found = load_schema("v1.0").match_carrier("/v1.0/groups/g/conversations")
    assert found is not None and found.carrier.body_type == "microsoft.graph.conversation"
    (location,) = found.carrier.attachments
    assert location.steps == (("threads", True), ("posts", True), ("attachments", False))
    assert AttachmentLocation("$.Message.attachments", "", "").steps == (("Message", False), ("attachments", False))


def test_load_is_cached_and_versions_are_checked() -> None:
    assert load_schema("beta") is load_schema("beta")
    assert load_schema("beta").source.file == "beta-usnat.csdl.xml"
    with pytest.raises(GraphMetadataError, match=r"'v2\.0' is not one of v1\.0, beta"):
        load_schema("v2.0")


class _TextReader(_Reader):
    def __init__(self, text: str) -> None:
        super().__init__("v1.0.json", "v1.0")
        self._text = text

    def text(self) -> str:
        return self._text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"format": 1,\n "api_version": }', "v1.0.json: line 2: not valid JSON"),
        ('{"format": 2}', "v1.0.json: format: format 2 is not 1"),
        ('{"format": 1, "api_version": "beta"}', "v1.0.json: api_version: 'beta' is not 'v1.0'"),
        ('{"format": 1, "api_version": "v1.0"}', "v1.0.json: unexpected shape (KeyError: 'types')"),
    ],
)
def test_damaged_data_files_are_reported(text: str, message: str) -> None:
    with pytest.raises(GraphMetadataError) as error:
        _TextReader(text).load()
    assert str(error.value).startswith(message)
