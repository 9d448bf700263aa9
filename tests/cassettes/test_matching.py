from __future__ import annotations

import json

import pytest

from graphtape.cassettes.matching import (
    Exhausted,
    InteractionIndex,
    MatchConfig,
    request_key,
)
from graphtape.cassettes.model import Headers, Interaction, Request, Response

URI = "https://graph.microsoft.com/v1.0/me/messages/AAMk1/attachments"


def _req(body: object, uri: str = URI, method: str = "POST", headers: tuple[tuple[str, str], ...] = ()) -> Request:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return Request(method, uri, Headers(headers), raw)


def _it(body: object, answer: str, uri: str = URI) -> Interaction:
    return Interaction(_req(body, uri), Response(201, "Created", Headers(), answer.encode()))


@pytest.mark.parametrize("a, b", [
    (b'{"name":"a","size":1}', b'{ "size": 1,\n "name": "a" }'),
    (_req({"a": 1}, uri=URI + "?b=2&a=1").uri, _req({"a": 1}, uri=URI + "?a=1&b=2").uri),
])
def test_equivalent_requests_share_a_key(a: object, b: object) -> None:
    if isinstance(a, bytes):
        assert request_key(_req(a)) == request_key(_req(b))
    else:
        assert request_key(_req({}, uri=a)) == request_key(_req({}, uri=b))


@pytest.mark.parametrize("other", [
    _req({"name": "b"}),
    _req({"name": "a"}, method="PUT"),
    _req({"name": "a"}, uri=URI.replace("/me/", "/users/u1/")),
    _req({"name": "a"}, uri=URI.replace("v1.0", "beta")),
    _req({"name": "a"}, uri=URI + "?x=1"),
])
def test_different_requests_have_different_keys(other: Request) -> None:
    assert request_key(_req({"name": "a"})) != request_key(other)


def test_headers_and_host_are_not_in_the_key_unless_configured() -> None:
    a = _req({"n": 1}, headers=(("client-request-id", "1"),))
    b = _req({"n": 1}, uri=URI.replace("graph.microsoft.com", "127.0.0.1:9999"), headers=(("client-request-id", "2"),))
    assert request_key(a) == request_key(b)
    cfg = MatchConfig(match_headers=("client-request-id",))
    assert request_key(a, cfg) != request_key(b, cfg)


def test_ignored_body_paths() -> None:
    cfg = MatchConfig(ignore_body_paths=("$.contentId",))
    assert request_key(_req({"n": 1, "contentId": "x"}), cfg) == request_key(_req({"n": 1, "contentId": "y"}), cfg)


def test_identical_requests_replay_in_recorded_order_then_repeat() -> None:
    index = InteractionIndex([_it({"n": 1}, "first"), _it({"n": 2}, "other"), _it({"n": 1}, "second")])
    answers = [index.lookup(_req({"n": 1}))[1].response.body for _ in range(3)]  # type: ignore[index]
    assert answers == [b"first", b"second", b"second"]
    assert index.unplayed() == [1]


def test_exhausted_miss() -> None:
    index = InteractionIndex([_it({"n": 1}, "only")], MatchConfig(exhausted=Exhausted.MISS))
    assert index.lookup(_req({"n": 1})) is not None
    assert index.lookup(_req({"n": 1})) is None
    nearest = index.nearest(_req({"n": 1}))
    assert nearest is not None and "already played" in nearest.differences[0]


def test_nearest_names_the_differences() -> None:
    index = InteractionIndex([
        _it({"@odata.type": "#microsoft.graph.fileAttachment", "name": "a.txt"}, "a"),
        _it({"x": 1}, "b", uri=URI.replace("messages", "events")),
    ])
    sent = _req({"@odata.type": "#microsoft.graph.fileAttachment", "name": "b.txt"})
    assert index.lookup(sent) is None
    nearest = index.nearest(sent)
    assert nearest is not None and nearest.index == 0
    assert nearest.differences == ['body $.name: sent "b.txt", recorded "a.txt"']


def test_non_json_bodies_match_by_bytes() -> None:
    index = InteractionIndex([_it(b"\x00\x01binary", "bin")])
    assert index.lookup(_req(b"\x00\x01binary")) is not None
    assert index.lookup(_req(b"\x00\x02binary")) is None
