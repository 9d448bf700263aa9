"""Shared fixtures: real graphtape processes on free loopback ports."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from graphtape.cli.runtime.processes import GraphtapeProcess

StartGraphtape = Callable[..., GraphtapeProcess]


@pytest.fixture
def run_graphtape() -> Iterator[StartGraphtape]:
    """Start graphtape commands as processes; every one still running is stopped after the test."""
    procs: list[GraphtapeProcess] = []

    def start(*args: str, ready: bool = True, **kw: object) -> GraphtapeProcess:
        p = GraphtapeProcess(*args, **kw)  # type: ignore[arg-type]
        procs.append(p)
        return p.wait_ready() if ready else p

    yield start
    for p in procs:
        p.stop()


@pytest.fixture
def simulator(run_graphtape: StartGraphtape) -> GraphtapeProcess:
    """A running ``graphtape simulate`` on a free loopback port."""
    return run_graphtape("simulate", "--port", "0")


RecordFromSimulator = Callable[..., Path]


@pytest.fixture(scope="session")
def record_from_simulator(tmp_path_factory: pytest.TempPathFactory) -> RecordFromSimulator:
    """Record example requests through real `graphtape simulate [--drift X]` and `graphtape record` processes."""
    import httpx

    from graphtape.cli.examples.example_requests import EXAMPLES, ExampleRequest

    cache: dict[tuple[str, ...], Path] = {}

    def record(*drifts: str, examples: tuple[ExampleRequest, ...] = EXAMPLES, fresh: bool = False) -> Path:
        key = (*drifts, *(e.name for e in examples))
        if key in cache and not fresh:
            return cache[key]
        cassette = tmp_path_factory.mktemp("recorded") / "cassette.yaml"
        drift_args = [a for d in drifts for a in ("--drift", d)]
        with GraphtapeProcess("simulate", "--port", "0", *drift_args) as sim:
            with GraphtapeProcess("record", "--cassette", str(cassette), "--upstream", sim.url,
                                  "--port", "0") as rec:
                for ex in examples:
                    httpx.post(rec.url + ex.path, content=ex.body, headers=ex.all_headers(), trust_env=False,
                               timeout=30)
        assert rec.returncode == 0, rec.stdout + rec.stderr
        cache.setdefault(key, cassette)
        return cassette

    return record


@pytest.fixture(scope="session")
def conversation_cassette(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """graph_traffic.STEPS recorded through real ``graphtape simulate`` and ``graphtape record`` processes."""
    from graph_traffic import STEPS, send_conversation

    cassette = tmp_path_factory.mktemp("conversation") / "conversation.yaml"
    with GraphtapeProcess("simulate", "--port", "0") as sim:
        with GraphtapeProcess("record", "--cassette", str(cassette), "--upstream", sim.url, "--port", "0") as rec:
            answers = send_conversation(rec.url)
    assert rec.returncode == 0, rec.stdout + rec.stderr
    assert [a.status_code for a in answers] == [s.status for s in STEPS]
    return cassette


class WebhookReceiver:
    """A loopback HTTP server that keeps every JSON body POSTed to it."""

    def __init__(self, status: int = 204) -> None:
        self.bodies: list[dict] = []
        received = self.bodies

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/secret-path-token"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, n: int, timeout: float = 10.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        while len(self.bodies) < n and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.bodies

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhook_receiver() -> Iterator[WebhookReceiver]:
    """A webhook receiver (http.server) on a free loopback port, keeping every JSON body POSTed."""
    r = WebhookReceiver()
    yield r
    r.close()
