"""Durable recording under kill -9: nothing whose answer reached a client is ever lost.

The bound: graphtape fsyncs an interaction to ``<cassette>.journal`` before the
client gets its response (the recorder awaits the write). So a SIGKILL at any moment
can lose only interactions whose answers were still in flight, the cassette file
itself is only ever replaced whole (temporary file, fsync, rename), and the next
start folds the journal back in.

A real ``graphtape record`` is killed at random moments of its life (while clients
send traffic, while it shuts down and writes the cassette, while it starts and
recovers the previous journal); after every kill the cassette must load, and at the
end every request a client saw answered must be in the cassette exactly once.
The seed is printed on failure; set GRAPHTAPE_KILL_SEED to replay a run.
"""

from __future__ import annotations

import base64
import json
import os
import random
import signal
import threading
import time
from pathlib import Path

import httpx
import pytest

from graphtape.cassettes.serialization import load_cassette
from graphtape.cassettes.storage import journal_path, read_journal
from graphtape.cli.examples.example_requests import FAKE_TOKEN, SEED_ROUTES
from graphtape.cli.runtime.processes import GraphtapeProcess

pytestmark = pytest.mark.slow

CLIENTS = 4
# What each round kills: live traffic (most rounds), a clean stop half-way through its
# final write, and a start half-way through its recovery.
KILL_MOMENTS = ["traffic", "traffic", "shutdown", "traffic", "startup", "traffic"]
ROUND_SECONDS = 25.0  # upper bound on one round's traffic


def _body(name: str) -> bytes:
    return json.dumps({"@odata.type": "#microsoft.graph.fileAttachment", "name": name, "contentType": "text/plain",
                       "contentBytes": base64.b64encode(name.encode()).decode()}).encode()


class Traffic:
    """Clients posting uniquely named attachments until told to stop; remembers what was answered."""

    def __init__(self, base: str, round_no: int, clients: int = CLIENTS) -> None:
        self.base = base
        self.round_no = round_no
        self.sent: set[str] = set()
        self.answered: set[str] = set()
        self.stop = threading.Event()
        self._lock = threading.Lock()
        self.threads = [threading.Thread(target=self._client, args=(c,), daemon=True) for c in range(clients)]

    def _client(self, client_no: int) -> None:
        headers = {"Authorization": f"Bearer {FAKE_TOKEN}", "Content-Type": "application/json"}
        deadline = time.monotonic() + ROUND_SECONDS
        with httpx.Client(trust_env=False, timeout=10) as client:
            for n in range(10_000):
                if self.stop.is_set() or time.monotonic() > deadline:
                    return
                name = f"r{self.round_no}-c{client_no}-n{n}.txt"
                with self._lock:
                    self.sent.add(name)
                try:
                    r = client.post(self.base + SEED_ROUTES["message"], content=_body(name), headers=headers)
                except httpx.HTTPError:
                    return  # the proxy died under us: this one was in flight
                if r.status_code == 201 and r.json().get("name") == name:
                    with self._lock:
                        self.answered.add(name)

    def __enter__(self) -> Traffic:
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(timeout=30)


def _recorded_names(cassette: Path) -> list[str]:
    """Names in the cassette plus its journal, as the next start would see them."""
    names = [json.loads(i.request.body)["name"] for i in load_cassette(cassette).interactions] \
        if cassette.exists() else []
    if journal_path(cassette).exists():
        _, journaled, _ = read_journal(journal_path(cassette))
        names += [json.loads(i.request.body)["name"] for i in journaled]
    return names


def test_kill_9_at_random_moments_loses_nothing_a_client_saw(simulator: GraphtapeProcess, tmp_path: Path) -> None:
    seed = int(os.environ.get("GRAPHTAPE_KILL_SEED", str(random.SystemRandom().randrange(1 << 30))))
    rng = random.Random(seed)
    cassette = tmp_path / "killed.yaml"
    sent: set[str] = set()
    answered: set[str] = set()
    kills = 0
    log: list[str] = []
    for round_no, moment in enumerate(KILL_MOMENTS):
        rec = GraphtapeProcess("record", "--cassette", str(cassette), "--upstream", simulator.url, "--port", "0",
                               "--record-mode", "new_episodes")
        try:
            if moment == "startup":
                time.sleep(rng.uniform(0.0, 0.8))  # somewhere in interpreter start, lock, recovery
                rec.proc.send_signal(signal.SIGKILL)
            else:
                rec.wait_ready()
                with Traffic(rec.url, round_no) as traffic:
                    time.sleep(rng.uniform(0.3, 2.0))
                    if moment == "shutdown":
                        rec.proc.send_signal(signal.SIGTERM)
                        time.sleep(rng.uniform(0.0, 0.3))  # somewhere in draining and the final write
                    rec.proc.send_signal(signal.SIGKILL)
                sent |= traffic.sent
                answered |= traffic.answered
        finally:
            rec.stop(timeout=30)
        kills += 1
        log.append(f"round {round_no} ({moment}): answered {len(answered)} so far, exit {rec.returncode}")
        if cassette.exists():
            load_cassette(cassette)  # always loadable, even right after a kill
        names = _recorded_names(cassette)
        assert answered <= set(names), f"seed {seed}: lost {sorted(answered - set(names))[:5]}; {log}"

    # The next start recovers the journal; a clean stop writes the cassette.
    final = GraphtapeProcess("record", "--cassette", str(cassette), "--upstream", simulator.url, "--port", "0",
                             "--record-mode", "new_episodes").wait_ready()
    assert final.stop() == 0, final.stderr
    assert not journal_path(cassette).exists()
    names = [json.loads(i.request.body)["name"] for i in load_cassette(cassette).interactions]
    assert kills == len(KILL_MOMENTS)
    assert answered, f"seed {seed}: no traffic was answered at all; {log}"
    assert answered <= set(names), f"seed {seed}: lost {sorted(answered - set(names))[:5]}; {log}"
    assert set(names) <= sent  # nothing invented
    assert len(names) == len(set(names)), f"seed {seed}: an interaction was recovered twice"
    print(f"kill -9 x{kills} (seed {seed}): {len(answered)} answered, {len(names)} in the cassette, "
          f"{len(names) - len(answered)} in flight at a kill but journaled anyway")


LOAD_CLIENTS = 32


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_clean_stop_under_load_keeps_every_answer_a_client_got(simulator: GraphtapeProcess, tmp_path: Path,
                                                                 sig: int) -> None:
    """Dozens of clients keep sending while the recorder is told to stop: every 201 a client received
    (including those released after the signal arrived) is in the cassette; the rest got an error."""
    cassette = tmp_path / "stopped.yaml"
    rec = GraphtapeProcess("record", "--cassette", str(cassette), "--upstream", simulator.url, "--port", "0",
                           "--record-mode", "new_episodes")
    try:
        rec.wait_ready()
        with Traffic(rec.url, 0, clients=LOAD_CLIENTS) as traffic:
            deadline = time.monotonic() + 20
            while len(traffic.answered) < 3 * LOAD_CLIENTS and time.monotonic() < deadline:
                time.sleep(0.05)  # under way on every client before the signal
            rec.proc.send_signal(sig)
            time.sleep(2.0)  # clients keep sending while graphtape stops
        rec.proc.wait(timeout=60)  # one signal only: a second one during the final write would be a kill
        assert rec.stop(timeout=60) == 0, rec.stderr[-3000:]
    finally:
        rec.stop(timeout=30)
    names = [json.loads(i.request.body)["name"] for i in load_cassette(cassette).interactions]
    assert traffic.answered, "no request was answered"
    assert traffic.answered <= set(names), f"lost {sorted(traffic.answered - set(names))[:5]}"
    assert len(names) == len(set(names))
    assert "Traceback" not in rec.stderr
    print(f"{signal.Signals(sig).name} under load from {LOAD_CLIENTS} clients: {len(traffic.answered)} answered, "
          f"{len(names)} in the cassette, {len(traffic.sent) - len(traffic.answered)} refused or cut off")
