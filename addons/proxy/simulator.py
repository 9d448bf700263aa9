"""The Simulator addon: answers every request itself, like Graph would.

It runs inside mitmproxy (``graphtape simulate`` starts one in reverse mode, lazily
connected, so nothing ever leaves the machine) and delegates the behaviour to
:class:`GraphSimulation`, which has no mitmproxy in it.

Graph hands out Outlook upload URLs on another service (``outlook.office.com``), and SDKs
rely on that to keep their bearer token away from it. So the simulator opens a second
loopback listener, the upload service, once the proxy runs: Outlook ``uploadUrl``s name it
with the scheme the client used (a TLS client gets ``https://``) and a *hostname* other
than the one the client used for Graph (``localhost`` for ``127.0.0.1`` and back), since
clients decide where their token goes by hostname alone. Both listeners accept TLS and
plain HTTP on the same port, with certificates from mitmproxy's CA in its confdir.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from http import HTTPStatus
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from mitmproxy import ctx, http
from mitmproxy.net.http.status_codes import RESPONSES
from mitmproxy.proxy import mode_specs

from graphtape.addons.graph.upload_urls import alternate_loopback_host
from graphtape.addons.proxy.tape import require_lazy_connections
from graphtape.cassettes.encoding import decode_body
from graphtape.cassettes.errors import BodyDecodeError

__all__ = ["NEVER_CONTACTED", "Simulator"]

logger = logging.getLogger("graphtape")

# mitmproxy's reverse mode needs a target; the simulator answers every request itself and
# connections are lazy, so this address is never contacted.
NEVER_CONTACTED = "http://127.0.0.1:9"
if TYPE_CHECKING:
    from graphtape.addons.simulation.engine import GraphSimulation, RequestContext, SimulatedResponse

_H2_CONNECTION_HEADERS = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade"}
# Requests a simulation with waiting stages (latency, a concurrency limit) serves at once.
_SIMULATION_THREADS = 64


def _reason(status: int) -> str:
    """The reason phrase; mitmproxy's table lacks a few Graph uses (424, 429)."""
    try:
        return RESPONSES.get(status) or HTTPStatus(status).phrase
    except ValueError:
        return ""


def _listen_spec(host: str, port: int) -> str:
    address = f"[{host}]" if ":" in host else host
    return f"reverse:{NEVER_CONTACTED}@{address}:{port}"


class Simulator:
    def __init__(self, simulation: GraphSimulation | None = None) -> None:
        self._simulation = simulation
        self._strict_parents: bool | None = None
        self.answered = 0
        self.upload_port: int | None = None
        self._upload_mode: mode_specs.ProxyMode | None = None
        self._threads: ThreadPoolExecutor | None = None

    @property
    def simulation(self) -> GraphSimulation:
        """The simulation, made on first use: most proxies never simulate, and making one
        imports Graph's schema types."""
        if self._simulation is None:
            from graphtape.addons.simulation.engine import GraphSimulation

            self._simulation = GraphSimulation()
            if self._strict_parents is not None:
                self._simulation.strict_parents = self._strict_parents
        return self._simulation

    def load(self, loader: Any) -> None:
        loader.add_option("graphtape_simulate", bool, False,
                          "Answer every request with graphtape's Graph simulator instead of an upstream.")
        loader.add_option("graphtape_upload_port", int, -1,
                          "With graphtape_simulate: the port of the simulator's upload service (Outlook upload "
                          "URLs point there); 0 picks a free one, -1 (default) serves uploads on the main port.")
        loader.add_option("graphtape_strict_parents", bool, False,
                          "With graphtape_simulate: a message, event, post or task that was never created "
                          "answers 404 ErrorItemNotFound instead of being created on first use.")

    def configure(self, updated: set[str]) -> None:
        if "graphtape_strict_parents" in updated:
            self._strict_parents = ctx.options.graphtape_strict_parents
            if self._simulation is not None:
                self._simulation.strict_parents = self._strict_parents
        if "graphtape_simulate" in updated and ctx.options.graphtape_simulate:
            require_lazy_connections()
            # Upload URLs point back at the host the client used; mitmproxy's reverse
            # mode would otherwise rewrite Host to its (never contacted) target.
            if not ctx.options.keep_host_header:
                ctx.options.update(keep_host_header=True)

    async def running(self) -> None:
        if not ctx.options.graphtape_simulate or ctx.options.graphtape_upload_port < 0:
            return
        proxyserver = ctx.master.addons.get("proxyserver")
        host = ctx.options.listen_host or "127.0.0.1"
        mode = mode_specs.ProxyMode.parse(_listen_spec(host, ctx.options.graphtape_upload_port))
        modes = [server.mode for server in proxyserver.servers]
        if not await proxyserver.servers.update([*modes, mode]):
            logger.error("graphtape: the simulator's upload service could not open its port")
            return
        addrs = proxyserver.servers[mode].listen_addrs
        if addrs:
            self._upload_mode = mode
            self.upload_port = int(addrs[0][1])

    def upload_origin(self, scheme: str, graph_host: str) -> str | None:
        """The upload service as a client that reached Graph at ``graph_host`` names it."""
        if self.upload_port is None:
            return None
        other = alternate_loopback_host(urlsplit(f"//{graph_host}").hostname or "127.0.0.1")
        return f"{scheme}://{other}:{self.upload_port}"

    def done(self) -> None:
        if self._threads is not None:
            self._threads.shutdown(wait=False, cancel_futures=True)
            self._threads = None

    async def _handle(self, method: str, path: str, headers: dict[str, str], body: bytes,
                      context: RequestContext) -> SimulatedResponse:
        """The simulation's answer; off the event loop when a stage may wait (latency, a concurrency
        limit), so other requests are served meanwhile and really overlap."""
        if not self.simulation.blocking:
            return self.simulation.handle(method, path, headers, body, context=context)
        if self._threads is None:
            self._threads = ThreadPoolExecutor(_SIMULATION_THREADS, thread_name_prefix="graphtape-simulator")
        call = functools.partial(self.simulation.handle, method, path, headers, body, context=context)
        return await asyncio.get_running_loop().run_in_executor(self._threads, call)

    async def request(self, flow: http.HTTPFlow) -> None:
        if not ctx.options.graphtape_simulate or flow.response is not None:
            return
        req = flow.request
        headers = {k.lower(): v for k, v in req.headers.items()}
        if req.host_header and "host" not in headers:  # HTTP/2 carries it as :authority
            headers["host"] = req.host_header
        scheme = "https" if flow.client_conn.tls_established else "http"
        on_upload = self._upload_mode is not None and flow.client_conn.proxy_mode == self._upload_mode
        from graphtape.addons.simulation.engine import RequestContext

        context = RequestContext(
            scheme=scheme,
            upload_origin=self.upload_origin(scheme, headers.get("host") or ""),
            listener=("upload" if on_upload else "graph") if self._upload_mode is not None else None,
        )
        path = req.path  # path with query, as the client sent it
        try:  # bounded, unlike mitmproxy's get_content: a compression bomb must not take the simulator down
            body = decode_body(req.raw_content or b"", headers.get("content-encoding"))
        except BodyDecodeError:
            body = req.raw_content or b""  # Graph reads it as sent: not JSON, so a 400
        result = await self._handle(req.method, path, headers, body, context=context)
        version = req.http_version if req.http_version.startswith("HTTP/") else "HTTP/1.1"
        fields = result.headers
        if version.startswith(("HTTP/2", "HTTP/3")):
            fields = [(k, v) for k, v in fields if k.lower() not in _H2_CONNECTION_HEADERS]
        now = time.time()
        flow.response = http.Response(
            http_version=version.encode(),
            status_code=result.status,
            reason=_reason(result.status).encode(),
            headers=http.Headers([(k.encode(), v.encode()) for k, v in fields]),
            content=result.body,
            trailers=None,
            timestamp_start=now,
            timestamp_end=now,
        )
        if result.status != 204 and not flow.response.headers.get("content-length"):
            flow.response.headers["Content-Length"] = str(len(result.body))
        self.answered += 1
