"""The Replayer addon: answers from the cassette and never contacts the upstream.

A request is redacted exactly as the recorder redacted it, then looked up in the
cassette's hash index. A hit is answered with the recorded response byte for byte.
A miss is answered with a Graph-style error (status 599, which Graph never uses)
naming the nearest recorded request and what differed, unless this run also records
(``new_episodes``), in which case the miss goes upstream and the recorder keeps it.
"""

from __future__ import annotations

import logging

from mitmproxy import ctx, http

from graphtape.addons.graph.scope import in_scope, route_of, upload_chunk_of
from graphtape.addons.proxy.flow_convert import (
    MISS_STATUS,
    graph_error,
)
from graphtape.addons.proxy.graph_uri import meant_request
from graphtape.addons.proxy.off_loop import is_heavy, off_loop
from graphtape.addons.proxy.response_templates import ResponseTemplates
from graphtape.addons.proxy.tape import Tape
from graphtape.cassettes.matching import RequestKey, request_key
from graphtape.cassettes.model import Request
from graphtape.cassettes.session import Miss, TapeSession

__all__ = ["Replayer"]

logger = logging.getLogger("graphtape")

# Requests whose key is remembered: bodies up to this size, this many requests per session.
MEMO_BODY_BYTES = 64 * 1024
MEMO_ENTRIES = 4096


class _KeyMemo:
    """The redacted request and match key of each request already seen, by its exact bytes.

    Clients mostly resend identical requests (a test suite replays the same calls on
    every run, an SDK retries), and the key is a pure function of the request's method,
    URL, headers and body: redaction, the canonical upload origin and the canonical
    JSON body are computed once per distinct request instead of once per request. Only
    the process's memory holds the unredacted bytes, as mitmproxy's own flow does; a
    session's memo goes with the session.
    """

    def __init__(self) -> None:
        self._seen: dict[tuple[str, str, tuple[tuple[bytes, bytes], ...], bytes], tuple[Request, RequestKey]] = {}

    @staticmethod
    def _exact(req: http.Request) -> tuple[str, str, tuple[tuple[bytes, bytes], ...], bytes] | None:
        body = req.raw_content
        if body is None or len(body) > MEMO_BODY_BYTES:
            return None
        return req.method, req.url, tuple(req.headers.fields), body

    def get(self, req: http.Request) -> tuple[Request, RequestKey] | None:
        exact = self._exact(req)
        return self._seen.get(exact) if exact is not None else None

    def put(self, req: http.Request, request: Request, key: RequestKey) -> None:
        exact = self._exact(req)
        if exact is None:
            return
        if len(self._seen) >= MEMO_ENTRIES:
            self._seen.clear()  # a client that never repeats itself: start again rather than grow
        self._seen[exact] = (request, key)


class Replayer:
    def __init__(self, tape: Tape) -> None:
        self.tape = tape
        # Both per session: the recorded answers built as mitmproxy responses, and the match keys of
        # requests already seen.
        self._session: TapeSession | None = None
        self._templates = ResponseTemplates()
        self._keys = _KeyMemo()

    async def request(self, flow: http.HTTPFlow) -> None:
        session = self.tape.session
        if session is None or flow.response is not None:
            return
        if not session.plan.replay:
            return  # recording everything (all/rewrite, or once on a new cassette)
        if session is not self._session:
            self._session, self._keys = session, _KeyMemo()
            self._templates = ResponseTemplates()
        seen = self._keys.get(flow.request)
        if seen is not None:
            request, key = seen
            answer = session.lookup(request, key)
        else:
            raw = meant_request(flow, ctx.options.graphtape_graph_url)  # the URI the client meant, as recorded

            def redact_and_key() -> tuple[Request, RequestKey]:
                request = session.redact(raw)
                return request, request_key(request, session.index.config)

            request, key = await off_loop(is_heavy(raw.headers, raw.body), redact_and_key)
            self._keys.put(flow.request, request, key)
            answer = session.lookup(request, key)
        if answer is not None and answer.response.status_code < 200:
            # A 1xx (101 Switching Protocols above all) hands the connection to another protocol that
            # only the upstream could speak; replay cannot, and must not open that connection.
            session.count("misses")
            logger.warning(f"graphtape: cannot replay {answer.response.status_code} for {request.method} "
                           f"{request.uri}: a protocol switch needs the upstream")
            flow.response = graph_error(
                MISS_STATUS, "graphtapeCannotReplay",
                f"graphtape: the recorded answer to {request.method} {request.uri} is "
                f"{answer.response.status_code} {answer.response.reason}, a protocol switch; replay is offline "
                "and cannot continue it", reason="Graphtape Cannot Replay",
                client_request_id=flow.request.headers.get("client-request-id"))
            flow.metadata["graphtape"] = {"miss": True}
            return
        if answer is not None:
            flow.response = self._templates.response_for(answer.response, flow)
            flow.metadata["graphtape"] = {"replayed": True, "latency": answer.meta.latency}
            return
        if session.plan.record:
            # new_episodes: the request goes upstream; the recorder keeps it if in scope.
            if (not in_scope(ctx.options.graphtape_scope, route_of(flow.request.method, flow.request.url))
                    and upload_chunk_of(flow.request.method, flow.request.url) is None):
                session.count("passed_through")
            return
        miss = session.miss(request)
        logger.warning(f"graphtape: miss: {miss.describe()}")
        flow.response = miss_response(miss, str(session.path), flow.request.headers.get("client-request-id"))
        flow.metadata["graphtape"] = {"miss": True}
        flow.marked = ":no_entry:"
        flow.comment = miss.describe()


def miss_response(miss: Miss, cassette: str, client_request_id: str | None) -> http.Response:
    req = miss.request
    details = []
    extra: dict[str, object] = {"cassette": cassette, "request": {"method": req.method, "uri": req.uri}}
    if miss.nearest is not None:
        rec = miss.nearest.interaction.request
        message = (f"graphtape: no recorded interaction in {cassette} matches {req.method} {req.uri}. "
                   f"Nearest recorded request: #{miss.nearest.index} {rec.method} {rec.uri}; differences: "
                   + "; ".join(miss.nearest.differences))
        details = [{"code": "graphtapeDifference", "target": f"#{miss.nearest.index} {rec.method} {rec.uri}",
                    "message": d} for d in miss.nearest.differences]
        extra["nearest"] = {"index": miss.nearest.index, "method": rec.method, "uri": rec.uri,
                            "differences": miss.nearest.differences}
    else:
        message = (f"graphtape: no recorded interaction in {cassette} matches {req.method} {req.uri}; "
                   "the cassette is empty.")
    return graph_error(MISS_STATUS, "graphtapeCassetteMiss", message, reason="Graphtape Cassette Miss",
                       client_request_id=client_request_id, details=details, extra=extra)
