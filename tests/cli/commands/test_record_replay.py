"""The record -> replay loop through real graphtape processes and real HTTP clients."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
import requests
import yaml

from graphtape.cassettes.serialization import load_cassette
from graphtape.cli.examples.example_requests import (
    EXAMPLES,
    FAKE_TOKEN,
    FILE_BODY,
    SEED_ROUTES,
    ExampleRequest,
)

pytestmark = pytest.mark.slow

CREATES = [e for e in EXAMPLES if e.expected_status == 201]


def _post_httpx(base: str, ex: ExampleRequest) -> httpx.Response:
    return httpx.post(base + ex.path, content=ex.body, headers=ex.all_headers(), timeout=30, trust_env=False)


def _post_requests(base: str, ex: ExampleRequest) -> requests.Response:
    s = requests.Session()
    s.trust_env = False
    return s.post(base + ex.path, data=ex.body, headers=ex.all_headers(), timeout=30)


def _exchange(base: str, ex: ExampleRequest, i: int) -> tuple[int, list[tuple[str, str]], bytes]:
    """Status, headers exactly as received (case and order kept) and body; httpx or requests by turn."""
    if i % 2 == 0:
        r = _post_httpx(base, ex)
        return r.status_code, [(k.decode(), v.decode()) for k, v in r.headers.raw], r.content
    q = _post_requests(base, ex)
    return q.status_code, list(q.raw.headers.items()), q.content


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """Record every example (httpx for even ones, requests for odd ones) through a real recorder."""
    from graphtape.cli.runtime.processes import GraphtapeProcess

    cassette = tmp_path_factory.mktemp("rec") / "attachments.yaml"
    answers: list[tuple[int, list[tuple[str, str]], bytes]] = []
    with GraphtapeProcess("simulate", "--port", "0") as sim:
        rec = GraphtapeProcess("record", "--cassette", str(cassette), "--upstream", sim.url, "--port", "0")
        with rec:
            for i, ex in enumerate(EXAMPLES):
                answers.append(_exchange(rec.url, ex, i))
            # the same request twice: two interactions, answered in this order on replay
            twice = [_post_httpx(rec.url, CREATES[0]).content for _ in range(2)]
    return {"cassette": cassette, "answers": answers, "twice": twice, "recorder": rec, "sim_url": sim.url}


def test_record_holds_each_interaction_with_findings_and_no_token(recorded: dict[str, object]) -> None:
    cassette: Path = recorded["cassette"]  # type: ignore[assignment]
    rec = recorded["recorder"]
    assert rec.returncode == 0, rec.stderr  # type: ignore[attr-defined]
    assert "recorded     16" in rec.stdout  # type: ignore[attr-defined]
    loaded = load_cassette(cassette)
    assert len(loaded) == len(EXAMPLES) + 2
    statuses = [i.response.status_code for i in loaded.interactions[: len(EXAMPLES)]]
    assert statuses == [e.expected_status for e in EXAMPLES]
    routes = {i.meta.route for i in loaded.interactions}
    assert {"users-messages-attachments", "users-messages-event-attachments",
            "groups-conversations-threads-posts-attachments",
            "users-outlook-taskgroups-taskfolders-tasks-attachments"} <= routes
    codes = {f.code for i in loaded.interactions for f in i.meta.findings}
    assert {"missing-odata-type", "invalid-json"} <= codes
    raw = cassette.read_text()
    assert FAKE_TOKEN not in raw
    assert "Bearer REDACTED" in raw
    # the cassette names the URI the client meant for Graph, not the proxy's nor the simulator's
    assert all(i.request.uri.startswith("https://graph.microsoft.com/") for i in loaded.interactions)


def test_replay_is_byte_identical_twice_and_offline(recorded: dict[str, object], run_graphtape) -> None:
    cassette: Path = recorded["cassette"]  # type: ignore[assignment]
    answers = recorded["answers"]
    # the simulator is stopped: replay must not need it
    for _ in range(2):
        rep = run_graphtape("replay", "--cassette", str(cassette), "--port", "0")
        for i, (ex, recorded_answer) in enumerate(zip(EXAMPLES, answers, strict=False)):  # type: ignore[arg-type]
            assert _exchange(rep.url, ex, i) == recorded_answer
        assert rep.stop() == 0
        assert f"replayed     {len(EXAMPLES)}" in rep.stdout


def test_json_key_order_does_not_matter(recorded: dict[str, object], run_graphtape) -> None:
    rep = run_graphtape("replay", "--cassette", str(recorded["cassette"]), "--port", "0")
    ex = CREATES[0]
    reordered = json.dumps(dict(reversed(list(json.loads(ex.body).items()))), indent=4).encode()
    r = httpx.post(rep.url + ex.path, content=reordered, headers=ex.all_headers(), trust_env=False)
    assert r.status_code == 201
    assert r.content == recorded["answers"][0][2]  # type: ignore[index]


def test_identical_requests_come_back_in_recorded_order(recorded: dict[str, object], run_graphtape) -> None:
    rep = run_graphtape("replay", "--cassette", str(recorded["cassette"]), "--port", "0")
    first = recorded["answers"][0][2]  # type: ignore[index]
    twice = recorded["twice"]
    assert len({first, *twice}) == 3  # three distinct recorded answers (fresh ids)
    got = [_post_httpx(rep.url, CREATES[0]).content for _ in range(3)]
    assert got == [first, *twice]


def test_miss_names_the_nearest_request(recorded: dict[str, object], run_graphtape) -> None:
    rep = run_graphtape("replay", "--cassette", str(recorded["cassette"]), "--port", "0", "--strict")
    body = dict(FILE_BODY, name="menu-v2.txt")
    r = httpx.post(rep.url + SEED_ROUTES["message"], json=body, headers={"Authorization": "Bearer x"},
                   trust_env=False)
    assert r.status_code == 599
    error = r.json()["error"]
    assert error["code"] == "graphtapeCassetteMiss"
    assert SEED_ROUTES["message"] in error["message"]
    assert 'body $.name: sent "menu-v2.txt", recorded "menu.txt"' in error["message"]
    assert error["innerError"]["request-id"]
    assert r.json()["graphtape"]["nearest"]["index"] == 0
    assert rep.stop() == 1  # --strict: a miss fails the run
    assert "misses       1" in rep.stdout


def test_forward_mode_records_the_upstream_uri(simulator, run_graphtape, tmp_path: Path) -> None:
    cassette = tmp_path / "fwd.yaml"
    rec = run_graphtape("record", "--cassette", str(cassette), "--mode", "forward", "--port", "0")
    ex = CREATES[0]
    with httpx.Client(proxy=rec.url, trust_env=False) as client:
        r = client.post(simulator.url + ex.path, content=ex.body, headers=ex.all_headers())
    assert r.status_code == 201
    assert rec.stop() == 0
    (interaction,) = load_cassette(cassette).interactions
    assert interaction.request.uri == simulator.url + ex.path


def test_scope_attachments_passes_other_calls_through_unrecorded(simulator, run_graphtape, tmp_path: Path) -> None:
    cassette = tmp_path / "scope.yaml"
    rec = run_graphtape("record", "--cassette", str(cassette), "--upstream", simulator.url, "--port", "0")
    ex = CREATES[0]
    assert _post_httpx(rec.url, ex).status_code == 201
    listing = httpx.get(rec.url + ex.path, headers=ex.all_headers(), trust_env=False)
    assert listing.status_code == 200 and len(listing.json()["value"]) == 1
    assert rec.stop() == 0
    assert len(load_cassette(cassette)) == 1
    rec_all = run_graphtape("record", "--cassette", str(tmp_path / "all.yaml"), "--upstream", simulator.url,
                            "--port", "0", "--scope", "all")
    httpx.get(rec_all.url + ex.path, headers=ex.all_headers(), trust_env=False)
    assert rec_all.stop() == 0
    assert [i.request.method for i in load_cassette(tmp_path / "all.yaml").interactions] == ["GET"]


def test_vcrpy_loads_a_graphtape_cassette(recorded: dict[str, object], tmp_path: Path) -> None:
    import vcr

    cassette: Path = recorded["cassette"]  # type: ignore[assignment]
    ex = CREATES[0]
    sim_url = str(recorded["sim_url"])
    my_vcr = vcr.VCR(record_mode="none", match_on=["method", "path", "body"])
    with my_vcr.use_cassette(str(cassette)):
        r = httpx.post(sim_url + ex.path, content=ex.body, headers=ex.all_headers(), trust_env=False)
    assert r.status_code == 201
    assert r.content == recorded["answers"][0][2]  # type: ignore[index]
    assert yaml.safe_load(cassette.read_text())["version"] == 1
