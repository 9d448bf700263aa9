from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from graphtape.cassettes.errors import CassetteFormatError
from graphtape.cassettes.findings import Finding, Severity
from graphtape.cassettes.model import (
    Cassette,
    Headers,
    Interaction,
    InteractionMeta,
    Request,
    Response,
)
from graphtape.cassettes.serialization import (
    dump_cassette,
    load_cassette,
    parse_cassette,
)


def _interaction(req_body: bytes = b'{"a":1}', resp_body: bytes = b'{"id":"x"}',
                 resp_headers: tuple[tuple[str, str], ...] = (("Content-Type", "application/json"),)) -> Interaction:
    return Interaction(
        request=Request("POST", "https://graph.microsoft.com/v1.0/me/messages/1/attachments",
                        Headers((("Content-Type", "application/json"), ("Authorization", "Bearer REDACTED"))),
                        req_body),
        response=Response(201, "Created", Headers(resp_headers), resp_body),
        meta=InteractionMeta(route="user-message", recorded_at="2026-01-01T00:00:00Z",
                             findings=(Finding(Severity.WARNING, "unknown-property", "response", "$.x", "absent",
                                               "1", "undocumented"),)),
    )


@pytest.mark.parametrize("body", [
    b"",
    b'{"name": "caf\xc3\xa9"}',
    bytes(range(256)),  # not UTF-8: written as !!binary
    b"\x1f\x8b\x08\x00",  # gzip magic
    b"line1\r\nline2\n\ttab \x00nul",
    "\ufeffbom \u2028 sep \x85 nel".encode(),
    b"   leading and trailing spaces   ",
    b"123",  # must not come back as an int
    b"null",
])
def test_bodies_round_trip_exactly(body: bytes) -> None:
    cassette = Cassette([_interaction(req_body=body, resp_body=body)])
    data = dump_cassette(cassette)
    loaded = parse_cassette(data, "mem")
    assert loaded.interactions[0].request.body == body
    assert loaded.interactions[0].response.body == body
    assert dump_cassette(loaded) == data


def test_interleaved_repeated_headers_keep_their_order() -> None:
    headers = (("Set-Cookie", "a=1"), ("X-A", "1"), ("Set-Cookie", "b=2"), ("x-a", "2"))
    cassette = Cassette([_interaction(resp_headers=headers)])
    loaded = parse_cassette(dump_cassette(cassette), "mem")
    assert loaded.interactions[0].response.headers.pairs == headers


def test_format_is_vcr_compatible_and_deterministic() -> None:
    cassette = Cassette([_interaction(), _interaction()])
    data = dump_cassette(cassette)
    assert dump_cassette(cassette) == data
    doc = yaml.safe_load(data)
    assert doc["version"] == 1
    req = doc["interactions"][0]["request"]
    assert set(req) == {"method", "uri", "headers", "body"}
    assert req["headers"]["Content-Type"] == ["application/json"]
    resp = doc["interactions"][0]["response"]
    assert resp["status"] == {"code": 201, "message": "Created"}
    assert resp["body"]["string"] == '{"id":"x"}'
    assert doc["interactions"][0]["graphtape"]["findings"][0]["code"] == "unknown-property"
    assert b"&" not in data and b"*id" not in data  # no YAML anchors/aliases


@pytest.mark.parametrize("text, where", [
    ("version: 2\ninteractions: []\n", "version"),
    ("interactions: []\n", "version"),
    ("version: 1\n", "interactions"),
    ("version: 1\ninteractions: {}\n", "interactions"),
    ("version: 1\ninteractions:\n- request: {method: POST, uri: x}\n", "interactions[0].response"),
    ("version: 1\ninteractions:\n- request: {method: POST, uri: x}\n  response: {status: {code: abc}}\n",
     "interactions[0].response.status.code"),
    ("version: 1\ninteractions:\n- request: {method: 5, uri: x}\n  response: {status: {code: 200}}\n",
     "interactions[0].request.method"),
    ("version: 1\ninteractions: [\n", "line"),
    ("", ""),
])
def test_broken_cassettes_name_the_key_or_line(text: str, where: str) -> None:
    with pytest.raises(CassetteFormatError) as info:
        parse_cassette(text.encode(), "broken.yaml")
    assert "broken.yaml" in str(info.value)
    assert where in str(info.value)


def test_python_object_tags_are_refused() -> None:
    text = b"version: 1\ninteractions: !!python/object/apply:os.system ['echo pwned']\n"
    with pytest.raises(CassetteFormatError, match="line 2"):
        parse_cassette(text, "evil.yaml")


def test_alias_bomb_is_refused() -> None:
    lines = ["version: 1", "a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 12):
        prev = chr(ord("a") + i - 1)
        cur = chr(ord("a") + i)
        lines.append(f"{cur}: &{cur} [{', '.join(['*' + prev] * 10)}]")
    lines.append("interactions: []")
    with pytest.raises(CassetteFormatError, match="alias"):
        parse_cassette("\n".join(lines).encode(), "bomb.yaml")


def test_load_cassette_reads_a_file(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_bytes(dump_cassette(Cassette([_interaction()])))
    assert len(load_cassette(path)) == 1
    with pytest.raises(CassetteFormatError, match="folder"):
        load_cassette(tmp_path)


@pytest.mark.parametrize(("step", "threshold", "in_file"), [
    ("chunk", 1024 * 1024, True),  # an upload chunk goes to a body file whatever its size
    ("create", 1024 * 1024, False),  # other small bodies stay inline
    ("chunk", 0, False),  # 0: the user asked for every body inline
], ids=["chunk", "not-a-chunk", "inline-asked"])
def test_upload_chunk_bodies_go_to_body_files(tmp_path: Path, step: str, threshold: int, in_file: bool) -> None:
    from graphtape.cassettes.blobs import BlobStore
    from graphtape.cassettes.model import UPLOAD_SESSION_KEY

    chunk = bytes(range(256)) * 4  # 1 KiB of binary, far under the threshold
    meta = InteractionMeta(extra=((UPLOAD_SESSION_KEY, {"session": "s1", "step": step, "chunk": 0}),))
    interaction = Interaction(Request("PUT", "https://x/AttachmentSessions('s1')?authtoken=REDACTED", body=chunk),
                              Response(200, "OK"), meta)
    path = tmp_path / "c.yaml"
    path.write_bytes(dump_cassette(Cassette([interaction]), BlobStore(path, threshold)))
    raw = path.read_text()
    assert ("graphtape_blob" in raw) is in_file
    assert ("!!binary" in raw) is not in_file
    (loaded,) = load_cassette(path).interactions
    assert loaded.request.body == chunk
    assert dict(loaded.meta.extra)[UPLOAD_SESSION_KEY]["step"] == step
