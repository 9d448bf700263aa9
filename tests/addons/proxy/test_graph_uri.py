"""Cassettes record the URI the client meant for Graph, whatever upstream answered.

Truth from outside graphtape: Microsoft documents Graph's request URL as
``https://graph.microsoft.com/{version}/{resource}`` (and ``https://graph.microsoft.us`` for the
US Government L4 cloud: "National cloud deployments"); VCR.py decides whether a call matches,
with its default matchers (method, scheme, host, port, path, query) plus the body. The
cassettes are recorded from a real ``graphtape simulate`` on an ephemeral loopback port.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
import requests
import vcr
from vcr.errors import CannotOverwriteExistingCassetteException

from graphtape.cassettes.serialization import load_cassette
from graphtape.cli.examples import example_cassette
from graphtape.cli.examples.example_requests import EXAMPLES, FILE_BODY, SEED_ROUTES, ExampleRequest

pytestmark = pytest.mark.slow

VCR_MATCHERS = ("method", "scheme", "host", "port", "path", "query", "body")
PICKS = [EXAMPLES[0], EXAMPLES[1], EXAMPLES[3], EXAMPLES[-1]]


def _session() -> requests.Session:
    s = requests.Session()
    s.trust_env = False
    return s


def _record(run_graphtape, sim_url: str, cassette: Path, examples: list[ExampleRequest], *extra: str) -> list[bytes]:
    rec = run_graphtape("record", "--cassette", str(cassette), "--upstream", sim_url, "--port", "0", *extra)
    answers = [httpx.post(rec.url + ex.path, content=ex.body, headers=ex.all_headers(), trust_env=False,
                          timeout=30).content for ex in examples]
    assert rec.stop() == 0, rec.stdout + rec.stderr
    return answers


def _replay_with_vcr(cassette: Path, origin: str, examples: list[ExampleRequest]) -> list[requests.Response]:
    with vcr.VCR(record_mode="none", match_on=VCR_MATCHERS).use_cassette(str(cassette)):
        return [_session().post(origin + ex.path, data=ex.body, headers=ex.all_headers(), timeout=30)
                for ex in examples]


# (graph URL option given to graphtape record, the origin a client calls Graph at)
CLOUDS = [
    ((), "https://graph.microsoft.com"),  # the default: Graph's global service
    (("--graph-url", "https://graph.microsoft.us"), "https://graph.microsoft.us"),  # a national cloud
]


@pytest.mark.parametrize(("option", "origin"), CLOUDS, ids=["global", "us-gov"])
def test_vcrpy_replays_graph_calls_from_a_simulator_recording(run_graphtape, simulator, tmp_path: Path,
                                                              option: tuple[str, ...], origin: str) -> None:
    cassette = tmp_path / "sim.yaml"
    answers = _record(run_graphtape, simulator.url, cassette, PICKS, *option)
    uris = [i.request.uri for i in load_cassette(cassette).interactions]
    assert uris == [origin + ex.path for ex in PICKS]
    assert all(i.request.headers.get("host") == origin.split("://")[1] for i in load_cassette(cassette).interactions)

    replayed = _replay_with_vcr(cassette, origin, PICKS)
    assert [r.content for r in replayed] == answers
    assert [r.status_code for r in replayed] == [ex.expected_status for ex in PICKS]
    # the simulator's own address is not what the cassette stands for
    with pytest.raises(CannotOverwriteExistingCassetteException):
        _replay_with_vcr(cassette, simulator.url, PICKS[:1])


def test_vcrpy_replays_the_shipped_example() -> None:
    cassette = load_cassette(example_cassette())
    replayed = _replay_with_vcr(example_cassette(), "https://graph.microsoft.com", list(EXAMPLES))
    assert [r.content for r in replayed] == [i.response.body for i in cassette.interactions]


def test_forward_mode_records_the_host_the_client_named(run_graphtape, simulator, tmp_path: Path) -> None:
    cassette = tmp_path / "forward.yaml"
    rec = run_graphtape("record", "--cassette", str(cassette), "--mode", "forward", "--port", "0")
    ex = PICKS[0]
    with httpx.Client(proxy=rec.url, trust_env=False, timeout=30) as client:
        assert client.post(simulator.url + ex.path, content=ex.body, headers=ex.all_headers()).status_code == 201
    assert rec.stop() == 0
    assert [i.request.uri for i in load_cassette(cassette).interactions] == [simulator.url + ex.path]


def test_a_replay_miss_compares_graph_urls(run_graphtape, simulator, tmp_path: Path) -> None:
    cassette = tmp_path / "sim.yaml"
    _record(run_graphtape, simulator.url, cassette, PICKS[:1])
    rep = run_graphtape("replay", "--cassette", str(cassette), "--port", "0")
    changed = json.dumps(dict(FILE_BODY, name="other.txt")).encode()
    miss = httpx.post(rep.url + SEED_ROUTES["message"], content=changed, trust_env=False, timeout=30,
                      headers={"Content-Type": "application/json", "Authorization": "Bearer fake"})
    assert miss.status_code == 599
    graph = miss.json()["graphtape"]
    assert graph["request"]["uri"] == "https://graph.microsoft.com" + SEED_ROUTES["message"]
    assert graph["nearest"]["uri"] == "https://graph.microsoft.com" + PICKS[0].path


# Upload sessions, per Microsoft's "Attach large files to Outlook messages" and "Attach files to To Do
# tasks" pages: an Outlook session's uploadUrl is on outlook.office.com (its chunks without Authorization,
# 3 MB at least); a To Do session's is on the Graph host the client called (chunks with Authorization).
# Its chunks are recorded on that same Graph origin as every other call, national cloud included.
OUTLOOK_SIZE = 3 * 1024 * 1024 + 10
TODO_SIZE = 100
UPLOADS = [  # (createUploadSession path, its body, file size, chunks carry the token, canonical upload origin)
    ("/v1.0/me/messages/AAMkAGI2TG93AAA=/attachments/createUploadSession",
     {"AttachmentItem": {"attachmentType": "file", "name": "report.pdf", "size": OUTLOOK_SIZE}},
     OUTLOOK_SIZE, False, "https://outlook.office.com"),
    ("/v1.0/me/todo/lists/AAMkAGl1AAA=/tasks/AAMkAGl2AAA=/attachments/createUploadSession",
     {"attachmentInfo": {"attachmentType": "file", "name": "notes.txt", "size": TODO_SIZE}},
     TODO_SIZE, True, None),  # None: the Graph origin the cassette names
]


def _upload(base_url: str, path: str, body: dict[str, object], size: int, token_on_chunk: bool) -> list[int]:
    auth = {"Authorization": "Bearer fake-token"}
    with httpx.Client(trust_env=False, timeout=60) as client:
        created = client.post(base_url + path, json=body, headers=auth)
        url = created.json()["uploadUrl"]
        chunk = client.put(url, content=bytes(size), headers={
            "Content-Range": f"bytes 0-{size - 1}/{size}", **(auth if token_on_chunk else {})})
    return [created.status_code, chunk.status_code]


@pytest.mark.parametrize(("option", "origin"), CLOUDS, ids=["global", "us-gov"])
@pytest.mark.parametrize(("path", "body", "size", "token_on_chunk", "upload_origin"), UPLOADS, ids=["outlook", "todo"])
def test_upload_sessions_are_recorded_on_their_canonical_origin(
        run_graphtape, simulator, tmp_path: Path, option: tuple[str, ...], origin: str, path: str,
        body: dict[str, object], size: int, token_on_chunk: bool, upload_origin: str | None) -> None:
    cassette = tmp_path / "upload.yaml"
    rec = run_graphtape("record", "--cassette", str(cassette), "--upstream", simulator.url, "--port", "0", *option)
    live = _upload(rec.url, path, body, size, token_on_chunk)
    assert rec.stop() == 0, rec.stdout + rec.stderr
    assert live in ([201, 201], [200, 201])  # Outlook creates with 201, To Do with 200; the last chunk 201

    expected = upload_origin or origin
    created, chunk = load_cassette(cassette).interactions
    assert created.request.uri == origin + path
    assert json.loads(created.response.body)["uploadUrl"].startswith(expected + "/")
    assert chunk.request.method == "PUT" and chunk.request.uri.startswith(expected + "/")
    assert chunk.request.headers.get("host") == expected.split("://")[1]

    # Replay looks the chunk up under the same canonical URI: the same answers, offline.
    rep = run_graphtape("replay", "--cassette", str(cassette), "--port", "0", *option)
    assert _upload(rep.url, path, body, size, token_on_chunk) == live
    assert rep.stop() == 0, rep.stdout + rep.stderr
