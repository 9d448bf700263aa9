"""The OfflineGuard addon: while graphtape replays, mitmproxy opens no connection, whatever arrives.

The Replayer answers every HTTP request it sees from the cassette. But not everything
that reaches a proxy is an HTTP request the Replayer sees: a CONNECT tunnel followed by
bytes that are not HTTP becomes a raw TCP relay, a TLS handshake mitmproxy was told to
ignore is passed through, a recorded ``101 Switching Protocols`` hands the connection
to a WebSocket layer, a streamed request body opens the upstream connection before the
request hook runs. Each of those would connect upstream. This addon closes them all at
the one place every upstream connection passes, mitmproxy's ``server_connect`` hook
(setting ``server.error`` kills the connection before it is opened), and refuses the
protocol switches themselves earlier, so the client learns at once.

It is active while the current run does not record (replay, record mode ``none`` or
``once`` with a cassette, the pytest plugin between and during replaying tests) and
while the built-in simulator answers everything. A run that records (``new_episodes``,
``all``, ``rewrite``) goes upstream for what it records, as it must.
"""

from __future__ import annotations

import logging
from typing import Any

from mitmproxy import ctx, http, tcp, tls, udp
from mitmproxy.proxy import server_hooks

from graphtape.addons.proxy.tape import Tape

__all__ = ["OFFLINE_ERROR", "OfflineGuard"]

logger = logging.getLogger("graphtape")

OFFLINE_ERROR = "graphtape is replaying offline: no upstream connection is opened"


class OfflineGuard:
    """``offline_without_cassette``: also refuse connections while no cassette is configured
    (the pytest plugin's proxy exists only to replay and record tests' cassettes)."""

    def __init__(self, tape: Tape, offline_without_cassette: bool = False) -> None:
        self.tape = tape
        self.offline_without_cassette = offline_without_cassette
        self.refused = 0  # connections and protocol switches refused (for tests and the log)

    def offline(self) -> bool:
        """Whether no upstream connection may be opened now."""
        if getattr(ctx.options, "graphtape_simulate", False):
            return True
        session = self.tape.session
        if session is None:
            return self.offline_without_cassette
        return not session.plan.record

    def _refuse(self, what: str) -> None:
        self.refused += 1
        logger.warning(f"graphtape: refused {what}: {OFFLINE_ERROR}")

    def server_connect(self, data: server_hooks.ServerConnectionHookData) -> None:
        if self.offline() and data.server.error is None:
            data.server.error = OFFLINE_ERROR
            self._refuse(f"a connection to {_address(data.server.address)}")

    def tls_clienthello(self, data: tls.ClientHelloData) -> None:
        # Passing TLS through needs the upstream; offline, the proxy ends TLS itself (and answers
        # the HTTP inside from the cassette) instead of relaying it.
        if self.offline():
            data.ignore_connection = False
            data.establish_server_tls_first = False

    def tcp_start(self, flow: tcp.TCPFlow) -> None:
        if self.offline():
            flow.kill()
            self._refuse(f"a raw TCP stream from {_address(flow.client_conn.peername)}")

    def udp_start(self, flow: udp.UDPFlow) -> None:
        if self.offline():
            flow.kill()
            self._refuse(f"a UDP stream from {_address(flow.client_conn.peername)}")

    def websocket_start(self, flow: http.HTTPFlow) -> None:
        if self.offline():
            flow.kill()
            self._refuse(f"a WebSocket on {flow.request.method} {flow.request.path.split('?', 1)[0]}")


def _address(address: Any) -> str:
    if not address:
        return "an unknown address"
    host, port = address[0], address[1]
    return f"[{host}]:{port}" if ":" in str(host) else f"{host}:{port}"
