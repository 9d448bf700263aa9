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
