"""The Simulator addon: answers every request itself, like Graph would.

It runs inside mitmproxy (``graphtape simulate`` starts one in reverse mode, lazily
connected, so nothing ever leaves the machine) and delegates the behaviour to
:class:`GraphSimulation`, which has no mitmproxy in it.
"""

from __future__ import annotations

import time
from typing import Any

from mitmproxy import ctx, http
from mitmproxy.net.http.status_codes import RESPONSES

from graphtape.addons.proxy.tape import require_lazy_connections
from graphtape.addons.simulation.engine import GraphSimulation
from graphtape.cassettes.encoding import decode_body
from graphtape.cassettes.errors import BodyDecodeError

__all__ = ["Simulator"]


class Simulator:
    def __init__(self, simulation: GraphSimulation | None = None) -> None:
        self.simulation = simulation or GraphSimulation()
        self.answered = 0

    def load(self, loader: Any) -> None:
        loader.add_option("graphtape_simulate", bool, False,
                          "Answer every request with graphtape's Graph simulator instead of an upstream.")

    def configure(self, updated: set[str]) -> None:
        if "graphtape_simulate" in updated and ctx.options.graphtape_simulate:
            require_lazy_connections()
            # Upload URLs point back at the host the client used; mitmproxy's reverse
            # mode would otherwise rewrite Host to its (never contacted) target.
            if not ctx.options.keep_host_header:
                ctx.options.update(keep_host_header=True)

    def request(self, flow: http.HTTPFlow) -> None:
        if not ctx.options.graphtape_simulate or flow.response is not None:
            return
        req = flow.request
        headers = {k.lower(): v for k, v in req.headers.items()}
        if req.host_header and "host" not in headers:  # HTTP/2 carries it as :authority
            headers["host"] = req.host_header
        path = req.path  # path with query, as the client sent it
        try:  # bounded, unlike mitmproxy's get_content: a compression bomb must not take the simulator down
            body = decode_body(req.raw_content or b"", headers.get("content-encoding"))
        except BodyDecodeError:
            body = req.raw_content or b""  # Graph reads it as sent: not JSON, so a 400
        result = self.simulation.handle(req.method, path, headers, body)
        now = time.time()
        flow.response = http.Response(
            http_version=b"HTTP/1.1",
            status_code=result.status,
            reason=RESPONSES.get(result.status, "").encode(),
            headers=http.Headers([(k.encode(), v.encode()) for k, v in result.headers]),
            content=result.body,
            trailers=None,
            timestamp_start=now,
            timestamp_end=now,
        )
        if not flow.response.headers.get("content-length"):
            flow.response.headers["Content-Length"] = str(len(result.body))
        self.answered += 1
