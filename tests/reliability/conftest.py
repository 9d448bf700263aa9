"""Fixtures for the reliability and security tests (helpers live in reliability_helpers.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from reliability_helpers import CountingListener, Handler, LoopbackUpstream


@pytest.fixture
def counting_upstream() -> Iterator[CountingListener]:
    """A loopback socket that counts the connections made to it (an upstream that must stay unused)."""
    listener = CountingListener()
    yield listener
    listener.close()


@pytest.fixture
def loopback_upstream() -> Iterator[Callable[[Handler], LoopbackUpstream]]:
    """Start loopback upstreams that answer with a test's handler; all are shut down afterwards."""
    servers: list[LoopbackUpstream] = []

    def start(handler: Handler) -> LoopbackUpstream:
        server = LoopbackUpstream(handler)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()
