"""Concurrency: many clients through one recorder, and two recorders on one cassette.

50 clients x 20 requests go through one recording proxy to the simulator at once.
Each request carries a unique attachment name, which the simulator echoes in its
answer: the cassette must hold exactly 1,000 interactions, each response paired
with its own request, and every client must have got its own answer back.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from graphtape.cassettes.serialization import load_cassette
from graphtape.cli.examples.example_requests import FAKE_TOKEN, SEED_ROUTES
from graphtape.cli.runtime.processes import GraphtapeProcess

pytestmark = pytest.mark.slow

CLIENTS = 50
REQUESTS_PER_CLIENT = 20
DEADLINE_SECONDS = 240  # the whole load run; a hang fails instead of blocking CI


def _body(name: str) -> bytes:
    return json.dumps({"@odata.type": "#microsoft.graph.fileAttachment", "name": name, "contentType": "text/plain",
                       "contentBytes": base64.b64encode(name.encode()).decode()}).encode()


def _client_run(base: str, client_no: int, stop_at: float) -> list[tuple[str, int, str | None]]:
    """One client's requests, in order: (name sent, status, name in the answer)."""
    out: list[tuple[str, int, str | None]] = []
    headers = {"Authorization": f"Bearer {FAKE_TOKEN}", "Content-Type": "application/json"}
    with httpx.Client(trust_env=False, timeout=60) as client:
        for n in range(REQUESTS_PER_CLIENT):
            if time.monotonic() > stop_at:
                break
            name = f"client{client_no:02d}-request{n:02d}.txt"
            r = client.post(base + SEED_ROUTES["message"], content=_body(name), headers=headers)
            out.append((name, r.status_code, r.json().get("name") if r.status_code == 201 else None))
    return out


def test_1000_concurrent_requests_are_all_recorded_each_with_its_own_answer(simulator: GraphtapeProcess,
                                                                            run_graphtape, tmp_path: Path) -> None:
    cassette = tmp_path / "load.yaml"
    rec = run_graphtape("record", "--cassette", str(cassette), "--upstream", simulator.url, "--port", "0")
    started = time.monotonic()
    stop_at = started + DEADLINE_SECONDS
    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        runs = list(pool.map(lambda c: _client_run(rec.url, c, stop_at), range(CLIENTS)))
    elapsed = time.monotonic() - started
    answers = [a for run in runs for a in run]
    assert len(answers) == CLIENTS * REQUESTS_PER_CLIENT
    assert all(status == 201 and echoed == sent for sent, status, echoed in answers)
    assert rec.stop() == 0, rec.stderr
    assert f"recorded     {CLIENTS * REQUESTS_PER_CLIENT}" in rec.stdout

    interactions = load_cassette(cassette).interactions
    assert len(interactions) == CLIENTS * REQUESTS_PER_CLIENT
    pairs = [(json.loads(i.request.body)["name"], json.loads(i.response.body)["name"]) for i in interactions]
    assert all(sent == answered for sent, answered in pairs)
    assert {sent for sent, _ in pairs} == {sent for sent, _, _ in answers}  # no loss, no duplicate
    assert len({json.loads(i.response.body)["id"] for i in interactions}) == len(interactions)
    print(f"load: {CLIENTS} clients x {REQUESTS_PER_CLIENT} requests: {len(answers)} answered, "
          f"{len(interactions)} recorded, each with its own answer, in {elapsed:.1f} s")


def test_a_second_recorder_on_the_same_cassette_refuses_to_start(simulator: GraphtapeProcess, run_graphtape,
                                                                 tmp_path: Path) -> None:
    cassette = tmp_path / "shared.yaml"
    first = run_graphtape("record", "--cassette", str(cassette), "--upstream", simulator.url, "--port", "0")
    headers = {"Authorization": f"Bearer {FAKE_TOKEN}", "Content-Type": "application/json"}
    assert httpx.post(first.url + SEED_ROUTES["message"], content=_body("first.txt"), headers=headers,
                      trust_env=False, timeout=30).status_code == 201
    for mode in ("all", "new_episodes"):
        second = run_graphtape("record", "--cassette", str(cassette), "--upstream", simulator.url, "--port", "0",
                               "--record-mode", mode, ready=False)
        second.proc.wait(timeout=60)  # it must exit by itself
        assert second.stop() == 2
        assert "listening on" not in second.stdout
        assert str(cassette) in second.stderr and "already being recorded by graphtape pid" in second.stderr
        assert "Traceback" not in second.stderr
    # the first recorder is unharmed and keeps recording
    assert httpx.post(first.url + SEED_ROUTES["message"], content=_body("second.txt"), headers=headers,
                      trust_env=False, timeout=30).status_code == 201
    assert first.stop() == 0
    names = [json.loads(i.request.body)["name"] for i in load_cassette(cassette).interactions]
    assert names == ["first.txt", "second.txt"]


def test_two_recorders_started_at_the_same_moment_one_wins(simulator: GraphtapeProcess, tmp_path: Path) -> None:
    cassette = tmp_path / "race.yaml"
    go = threading.Barrier(2)
    procs: list[GraphtapeProcess] = []

    def start() -> None:
        go.wait(timeout=30)
        procs.append(GraphtapeProcess("record", "--cassette", str(cassette), "--upstream", simulator.url,
                                      "--port", "0"))

    threads = [threading.Thread(target=start) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    try:
        outcomes = []
        for p in procs:
            try:
                p.wait_ready(timeout=60)
                outcomes.append("ready")
            except RuntimeError:
                outcomes.append(f"exit {p.returncode}")
        assert sorted(outcomes) == ["exit 2", "ready"], [p.stderr for p in procs]
    finally:
        for p in procs:
            p.stop()
