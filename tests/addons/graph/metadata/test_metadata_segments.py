"""Splitting request paths (both OData key forms) and matching them against segment patterns."""

from __future__ import annotations

import pytest

from graphtape.addons.graph.metadata.segments import (
    ActionSegment,
    CastSegment,
    KeySegment,
    LiteralSegment,
    PathToken,
    RepeatSegment,
    Segment,
    match_segments,
    split_path,
)

P = PathToken


@pytest.mark.parametrize(
    ("path", "tokens"),
    [
        ("users/u/messages/m/attachments", [P("users"), P("u"), P("messages"), P("m"), P("attachments")]),
        # OData key syntax, quoted, with percent-encoding and a doubled quote inside
        ("users('a%40b.com')/messages('it''s')", [P("users"), P("a@b.com", True), P("messages"), P("it's", True)]),
        # named key, unquoted key, and a raw '/' inside quotes
        ("users(id='u')/events(42)", [P("users"), P("u", True), P("events"), P("42", True)]),
        ("messages('a/b')/attachments", [P("messages"), P("a/b", True), P("attachments")]),
        # Outlook ids: base64 with '=' sent encoded, '/' sent as %2F
        ("messages/AAMk%2FAG%3D%3D/attachments", [P("messages"), P("AAMk/AG=="), P("attachments")]),
        ("/users/u/", [P("users"), P("u")]),
        ("", []),
    ],
)
def test_split_path(path: str, tokens: list[PathToken]) -> None:
    assert split_path(path) == tuple(tokens)


def test_an_empty_segment_inside_is_no_path() -> None:
    assert split_path("users//messages") is None


FOLDERS: tuple[Segment, ...] = (
    LiteralSegment("users"),
    KeySegment("microsoft.graph.user"),
    LiteralSegment("mailFolders"),
    KeySegment("microsoft.graph.mailFolder"),
    RepeatSegment(((LiteralSegment("childFolders"), KeySegment("microsoft.graph.mailFolder")),)),
    LiteralSegment("messages"),
    KeySegment("microsoft.graph.message"),
    CastSegment("microsoft.graph.eventMessage", optional=True),
    LiteralSegment("event"),
    LiteralSegment("attachments"),
    ActionSegment("microsoft.graph.createUploadSession"),
)
USER, FOLDER, MESSAGE = "microsoft.graph.user", "microsoft.graph.mailFolder", "microsoft.graph.message"


@pytest.mark.parametrize(
    ("path", "keys"),
    [
        (
            "users/u/mailFolders/f/messages/m/event/attachments/createUploadSession",
            [(USER, "u"), (FOLDER, "f"), (MESSAGE, "m")],
        ),
        (
            (
                "users/u/mailFolders/f/childFolders/c1/childFolders/c2/childFolders/c3/messages/m"
                "/microsoft.graph.eventMessage/event/attachments/microsoft.graph.createUploadSession"
            ),
            [(USER, "u"), (FOLDER, "f"), (FOLDER, "c1"), (FOLDER, "c2"), (FOLDER, "c3"), (MESSAGE, "m")],
        ),
        # case-insensitive names, OData key form
        (
            "Users('u')/MailFolders('inbox')/ChildFolders('c')/Messages('m')/Event/Attachments/CREATEUPLOADSESSION",
            [(USER, "u"), (FOLDER, "inbox"), (FOLDER, "c"), (MESSAGE, "m")],
        ),
        # a folder id that reads like a segment name is still an id
        (
            "users/u/mailFolders/childFolders/messages/m/event/attachments/createUploadSession",
            [(USER, "u"), (FOLDER, "childFolders"), (MESSAGE, "m")],
        ),
    ],
)
def test_pattern_matches(path: str, keys: list[tuple[str, str]]) -> None:
    tokens = split_path(path)
    assert tokens is not None
    assert match_segments(FOLDERS, tokens) == keys


@pytest.mark.parametrize(
    "path",
    [
        "users/u/mailFolders/f/messages/m/event/attachments",  # the action is missing
        "users/u/mailFolders/f/childFolders/messages/m/event/attachments/createUploadSession",  # folder id missing
        "users/u/mailFolders/f/messages/m/event/attachments/createUploadSession/extra",
        "users/u/mailFolders/f/messages/m/microsoft.graph.message/event/attachments/createUploadSession",  # wrong cast
        "users('u')/mailFolders('f')/messages('m')/event('e')/attachments/createUploadSession",  # key on a single
        "users/u/mailFolders/f/messages('m')('n')/event/attachments/createUploadSession",
    ],
)
def test_pattern_rejects(path: str) -> None:
    tokens = split_path(path)
    assert tokens is None or match_segments(FOLDERS, tokens) is None
