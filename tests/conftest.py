"""Shared fixtures: real graphtape processes on free loopback ports."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from graphtape.cli.processes import GraphtapeProcess

SHARED = Path(__file__).resolve().parents[1].parent / "shared"

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
    from graphtape.cli.examples import EXAMPLES, ExampleRequest

    import httpx

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
