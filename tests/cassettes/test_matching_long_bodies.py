"""Keys of long bodies hold a digest, yet match and explain misses as the text would."""

from __future__ import annotations

import base64
import json

import pytest

from graphtape.cassettes.matching import (
    KEY_TEXT_LIMIT,
    InteractionIndex,
    MatchConfig,
    request_key,
)
from graphtape.cassettes.model import Headers, Interaction, Request, Response

URI = "https://graph.microsoft.com/v1.0/me/messages/AAMk1/attachments"
BIG_CONTENT = base64.b64encode(bytes(range(256)) * (KEY_TEXT_LIMIT // 128)).decode()


def _attachment(name: str, *, reorder: bool = False, content: str = BIG_CONTENT) -> Request:
    body: dict[str, str] = {"@odata.type": "#microsoft.graph.fileAttachment", "name": name, "contentBytes": content}
    if reorder:
        body = dict(reversed(list(body.items())))
    return Request("POST", URI, Headers((("Content-Type", "application/json"),)), json.dumps(body, indent=1).encode())


_DEFAULT_CONFIG = MatchConfig()


def _index(*requests: Request, config: MatchConfig = _DEFAULT_CONFIG) -> InteractionIndex:
    return InteractionIndex([Interaction(r, Response(201, "Created", Headers(), f"answer {n}".encode()))
                             for n, r in enumerate(requests)], config)


@pytest.mark.parametrize("content", [BIG_CONTENT, BIG_CONTENT[: KEY_TEXT_LIMIT // 2]])
def test_key_order_and_whitespace_still_do_not_matter(content: str) -> None:
    index = _index(_attachment("a.bin", content=content))
    hit = index.lookup(_attachment("a.bin", reorder=True, content=content))
    assert hit is not None and hit[1].response.body == b"answer 0"


@pytest.mark.parametrize("content, short_key", [(BIG_CONTENT, True), (BIG_CONTENT[:1000], False)])
def test_only_long_bodies_are_kept_as_a_digest(content: str, short_key: bool) -> None:
    key = request_key(_attachment("a.bin", content=content))
    assert (len(key.body) < 100) is short_key
    assert request_key(_attachment("a.bin", content=content), full_body=True).body.startswith("{")


@pytest.mark.parametrize("sent, expected", [
    (_attachment("b.bin"), 'body $.name: sent "b.bin", recorded "a.bin"'),
    (_attachment("a.bin", content=BIG_CONTENT[:-4] + "AAAA"), "body $.contentBytes: sent"),
])
def test_a_miss_names_the_difference_inside_a_long_body(sent: Request, expected: str) -> None:
    index = _index(_attachment("a.bin"), Request("POST", URI, Headers(), b'{"small": true}'))
    assert index.lookup(sent) is None
    nearest = index.nearest(sent)
    assert nearest is not None and nearest.index == 0
    assert any(d.startswith(expected) for d in nearest.differences), nearest.differences


def test_ignored_paths_apply_before_the_digest() -> None:
    config = MatchConfig(ignore_body_paths=("$.name",))
    index = _index(_attachment("a.bin"), config=config)
    assert index.lookup(_attachment("renamed.bin")) is not None
