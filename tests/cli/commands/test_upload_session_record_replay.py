"""A 10 MB upload session through real graphtape processes: simulator upstream, recorder, offline replay."""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sdk_support import free_port

from graphtape.cassettes.blobs import blob_folder
from graphtape.cassettes.findings import Severity
from graphtape.cassettes.model import UPLOAD_SESSION_KEY, Interaction
from graphtape.cassettes.serialization import load_cassette
from graphtape.cli.runtime.processes import GraphtapeProcess

pytestmark = pytest.mark.slow

MiB = 1024 * 1024
FILE_SIZE = 10 * MiB
CHUNK = 3 * MiB  # 3 + 3 + 3 + 1 MiB, as the Graph SDKs slice a file
SESSION_PATH = "/v1.0/me/messages/AAMkAGI2TG93AAA=/attachments/createUploadSession"
AUTH = {"Authorization": "Bearer fake-token-123"}
# The simulator's tokens all start so; none may reach the cassette, its blob names or the client.
SIMULATOR_TOKEN_PREFIX = "fake-upload-token-"

Answer = tuple[int, list[tuple[str, str]], bytes]


def _answer(r: httpx.Response) -> Answer:
    return r.status_code, [(k.decode(), v.decode()) for k, v in r.headers.raw], r.content


def _create(client: httpx.Client, base: str, size: int, name: str) -> httpx.Response:
    item = {"AttachmentItem": {"attachmentType": "file", "name": name, "size": size}}
    return client.post(base + SESSION_PATH, json=item, headers=AUTH)


def _put(client: httpx.Client, url: str, data: bytes, start: int, end: int,
         headers: dict[str, str] | None = None) -> httpx.Response:
    chunk_headers = {"Content-Range": f"bytes {start}-{end}/{len(data)}", **(headers or {})}
    return client.put(url, content=data[start:end + 1], headers=chunk_headers)


def _conversation(client: httpx.Client, base: str, data: bytes) -> list[Answer]:
    """Everything the client does, in order: a clean 10 MB upload, then a session with bad chunks."""
    answers: list[Answer] = []
    created = _create(client, base, len(data), "clean.bin")
    answers.append(_answer(created))
    url = created.json()["uploadUrl"]
    for start in range(0, len(data), CHUNK):
        answers.append(_answer(_put(client, url, data, start, min(start + CHUNK, len(data)) - 1)))
    bad = _create(client, base, len(data), "bad.bin")
    answers.append(_answer(bad))
    bad_url = bad.json()["uploadUrl"]
    answers.append(_answer(_put(client, bad_url, data, 0, CHUNK - 1)))  # accepted
    answers.append(_answer(_put(client, bad_url, data, 2 * CHUNK, 3 * CHUNK - 1)))  # out of order: a gap
    answers.append(_answer(_put(client, bad_url, data, MiB, MiB + CHUNK - 1)))  # overlaps accepted bytes
    answers.append(_answer(_put(client, bad_url, data, CHUNK, 2 * CHUNK - 1, AUTH)))  # Authorization header
    return answers


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    cassette = tmp_path_factory.mktemp("upload") / "upload.yaml"
    data = os.urandom(FILE_SIZE)
    port = free_port()  # record and replay listen on the same port: the same uploadUrl is handed out
    with GraphtapeProcess("simulate", "--port", "0") as sim:
        rec = GraphtapeProcess("record", "--cassette", str(cassette), "--upstream", sim.url,
                               "--port", str(port))
        with rec, httpx.Client(trust_env=False, timeout=60) as client:
            answers = _conversation(client, rec.url, data)
            # Through the recorder (passed through, not recorded): the attachment the session made.
            listing = client.get(rec.url + SESSION_PATH.rsplit("/", 1)[0], headers=AUTH).json()
    yield {"cassette": cassette, "data": data, "answers": answers, "listing": listing, "recorder": rec,
           "port": port, "sim_url": sim.url}


def _interactions(recorded: dict[str, Any]) -> list[Interaction]:
    return load_cassette(recorded["cassette"]).interactions


def _link(interaction: Interaction) -> dict[str, Any]:
    return dict(interaction.meta.extra)[UPLOAD_SESSION_KEY]


def test_clean_upload_answers_like_graph_and_assembles_the_file(recorded: dict[str, Any]) -> None:
    answers = recorded["answers"]
    status, _, body = answers[0]
    session = json.loads(body)
    assert status == 201
    assert session["nextExpectedRanges"] == ["0-"]
    # reverse mode: the client is sent back through graphtape, never given the token
    # the recorder's own listener under another hostname, as outlook.office.com is not graph.microsoft.com
    assert session["uploadUrl"].startswith(f"http://localhost:{recorded['port']}/api/v2.0/Users(")
    assert session["uploadUrl"].endswith("?authtoken=REDACTED")
    for index, (status, _, body) in enumerate(answers[1:4], start=1):
        assert status == 200
        assert json.loads(body)["nextExpectedRanges"] == [f"{index * CHUNK}"]  # Outlook: a single start value
    status, headers, body = answers[4]
    assert (status, body) == (201, b"")
    assert any(k.lower() == "location" and v.startswith("https://outlook.office.com/api/v2.0/Users(")
               and "/Attachments('" in v for k, v in headers)
    (attachment,) = [a for a in recorded["listing"]["value"] if a["name"] == "clean.bin"]
    assert base64.b64decode(attachment["contentBytes"]) == recorded["data"]


def test_clean_session_is_linked_and_has_no_findings(recorded: dict[str, Any]) -> None:
    clean = _interactions(recorded)[:5]
    links = [_link(i) for i in clean]
    assert links[0]["step"] == "create"
    assert [link.get("chunk") for link in links[1:]] == [0, 1, 2, 3]
    assert len({link["session"] for link in links}) == 1
    ranges = [link["range"] for link in links[1:]]
    assert ranges == [f"bytes {s}-{min(s + CHUNK, FILE_SIZE) - 1}/{FILE_SIZE}" for s in range(0, FILE_SIZE, CHUNK)]
    assert [i.meta.route for i in clean[1:]] == ["upload-session-chunk"] * 4
    assert [f for i in clean for f in i.meta.findings] == []
    assert recorded["recorder"].returncode == 0, recorded["recorder"].stderr


@pytest.mark.parametrize(
    ("index", "status", "error_code", "finding"),
    [
        (6, 200, None, None),
        (7, 416, "InvalidRange", "upload-range-gap"),
        (8, 416, "InvalidRange", "upload-range-overlap"),
        (9, 401, "InvalidAudience", "upload-authorization-header"),
    ],
    ids=["accepted", "out-of-order", "overlapping", "authorization-header"],
)
def test_bad_chunks_get_the_simulators_error_and_their_finding(
    recorded: dict[str, Any], index: int, status: int, error_code: str | None, finding: str | None
) -> None:
    got_status, _, body = recorded["answers"][index]
    assert got_status == status
    if error_code is not None:
        assert json.loads(body)["error"]["code"] == error_code
    interaction = _interactions(recorded)[index]
    loud = [f.code for f in interaction.meta.findings if f.severity is not Severity.INFO]
    assert loud == ([finding] if finding else [])
    assert _link(interaction)["chunk"] == index - 6


def test_no_token_in_the_cassette_its_blob_names_or_the_client(recorded: dict[str, Any]) -> None:
    cassette: Path = recorded["cassette"]
    raw = cassette.read_text()
    assert SIMULATOR_TOKEN_PREFIX not in raw
    assert "authtoken=REDACTED" in raw
    blobs = list(blob_folder(cassette).iterdir())
    assert blobs and not any(SIMULATOR_TOKEN_PREFIX in p.name for p in blobs)
    assert not any(SIMULATOR_TOKEN_PREFIX.encode() in body for _, _, body in recorded["answers"])
    chunks = [i for i in _interactions(recorded) if i.meta.is_upload_chunk]
    assert chunks and all(i.request.uri.endswith("?authtoken=REDACTED") for i in chunks)
    # every chunk body, the 1 MiB one too, is a body file, not base64 in the YAML
    assert raw.count("graphtape_blob") >= len(chunks)
    assert "!!binary" not in raw
    # the cassette names the session on Outlook's origin, neither graphtape's nor the upstream's port
    created = json.loads(_interactions(recorded)[0].response.body)
    assert created["uploadUrl"].startswith("https://outlook.office.com/api/v2.0/")
    assert all(i.request.uri.startswith("https://outlook.office.com/api/v2.0/") for i in chunks)


def test_replay_offline_gives_identical_answers(recorded: dict[str, Any]) -> None:
    # The simulator is stopped; replay listens where the recorder did, so uploadUrls match too.
    with GraphtapeProcess("replay", "--cassette", str(recorded["cassette"]), "--port", str(recorded["port"])) as rep, httpx.Client(trust_env=False, timeout=60) as client:
        replayed = _conversation(client, rep.url, recorded["data"])
    assert replayed == recorded["answers"]
    assert rep.returncode == 0, rep.stderr
    assert "misses       0" in rep.stdout


def test_validate_finds_again_what_the_recorder_found(recorded: dict[str, Any]) -> None:
    from graphtape.cli.commands.validate import validate_paths

    cases = validate_paths([recorded["cassette"]])
    fresh = [[(f.code, f.severity) for f in case.findings] for case in cases]
    kept = [[(f.code, f.severity) for f in i.meta.findings] for i in _interactions(recorded)]
    assert fresh == kept
    assert ("upload-range-overlap", Severity.ERROR) in fresh[8]


def test_forward_mode_routes_the_chunks_through_the_proxy_whatever_the_scheme(
        simulator: GraphtapeProcess, run_graphtape: Any, tmp_path: Path) -> None:
    cassette = tmp_path / "forward.yaml"
    rec = run_graphtape("record", "--cassette", str(cassette), "--mode", "forward", "--port", "0")
    data = os.urandom(CHUNK + MiB)
    with httpx.Client(proxy=rec.url, trust_env=False, timeout=60) as client:
        created = _create(client, simulator.url, len(data), "forward.bin")
        url = created.json()["uploadUrl"]
        # the simulator's upload service is plain http on another port; the client is handed Outlook's
        # origin with the scheme it used for Graph, so its PUTs come back through the proxy
        assert url.startswith("http://outlook.office.com/api/v2.0/") and url.endswith("?authtoken=REDACTED")
        statuses = [_put(client, url, data, s, min(s + CHUNK, len(data)) - 1).status_code
                    for s in range(0, len(data), CHUNK)]
    assert statuses == [200, 201]
    assert rec.stop() == 0
    interactions = load_cassette(cassette).interactions
    assert [i.request.method for i in interactions] == ["POST", "PUT", "PUT"]
    assert [_link(i).get("chunk") for i in interactions] == [None, 0, 1]
    assert SIMULATOR_TOKEN_PREFIX not in cassette.read_text()
    assert [f for i in interactions for f in i.meta.findings] == []
