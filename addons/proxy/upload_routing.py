"""The UploadUrlRouting addon: in reverse mode, upload sessions go through graphtape too.

A createUploadSession answer names an ``uploadUrl`` on another host (Outlook's, or the
simulator's own address). A client in reverse mode would PUT its chunks straight
there, past graphtape. So, in reverse mode only:

- on the way to the client (``response``, after the recorder kept the upstream's
  answer), the ``uploadUrl`` gets graphtape's own scheme and address, and its token
  query parameters are given redacted, exactly as the cassette holds them: the client
  sees the same URL whether the answer is live or replayed;
- when a request arrives for that path (``requestheaders``, before the replayer and
  recorder look at it), it is sent to the upstream origin the URL named, with the
  original query (the real token) put back if the client sent the one it was given.

Forward mode needs none of this: the client's PUTs pass through the proxy anyway.
The mapping lives in memory for one run: a session must be created (recorded or
replayed) in the same run as its chunks.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from urllib.parse import urlsplit

from mitmproxy import http
from mitmproxy.proxy.mode_specs import ReverseMode

from graphtape.addons.graph.routes import Operation, match_path
from graphtape.addons.graph.upload_urls import origin_of, session_key, with_origin
from graphtape.addons.proxy.off_loop import is_heavy, off_loop
from graphtape.addons.proxy.tape import Tape
from graphtape.cassettes.encoding import decode_body
from graphtape.cassettes.model import Headers

__all__ = ["UploadUrlRouting"]

logger = logging.getLogger("graphtape")


@dataclass(frozen=True)
class _Route:
    origin: str  # the upstream's scheme://host[:port]
    query: str  # the upstream's query (the real token when live)
    handed_query: str  # the query the client was given


def _is_reverse(flow: http.HTTPFlow) -> bool:
    return isinstance(flow.client_conn.proxy_mode, ReverseMode)


def _own_origin(flow: http.HTTPFlow) -> str | None:
    """graphtape's address as this client reached it."""
    sockname = flow.client_conn.sockname
    host, port = str(sockname[0]), int(sockname[1])
    scheme = "https" if flow.client_conn.tls_established else "http"
    return f"{scheme}://[{host}]:{port}" if ":" in host else f"{scheme}://{host}:{port}"


class UploadUrlRouting:
    def __init__(self, tape: Tape) -> None:
        self.tape = tape
        self._lock = threading.Lock()
        self._routes: dict[str, _Route] = {}

    def requestheaders(self, flow: http.HTTPFlow) -> None:
        if not _is_reverse(flow):
            return
        with self._lock:
            route = self._routes.get(session_key(flow.request.path))
        if route is None:
            return
        target = urlsplit(route.origin)
        flow.request.scheme = target.scheme
        flow.request.host = target.hostname or flow.request.host
        flow.request.port = target.port or (443 if target.scheme == "https" else 80)
        path, _, query = flow.request.path.partition("?")
        if query == route.handed_query and route.query != query:
            flow.request.path = f"{path}?{route.query}" if route.query else path

    async def response(self, flow: http.HTTPFlow) -> None:
        response = flow.response
        if response is None or not _is_reverse(flow) or not 200 <= response.status_code < 300:
            return
        match = match_path(flow.request.path)
        if match is None or match.route.operation is not Operation.CREATE_UPLOAD_SESSION:
            return
        own = _own_origin(flow)
        raw = response.raw_content or b""
        coding = response.headers.get("content-encoding")
        try:  # bounded, unlike mitmproxy's get_text: a compression bomb must not take the proxy down
            data = await off_loop(is_heavy(Headers.of(list(response.headers.items())), raw),
                                  lambda: json.loads(decode_body(raw, coding)))
        except (ValueError, RecursionError):  # BodyDecodeError is a ValueError
            return  # not a session object: the validator reports it, nothing to rewrite
        upstream_url = data.get("uploadUrl") if isinstance(data, dict) else None
        if own is None or not isinstance(upstream_url, str) or "://" not in upstream_url:
            return
        session = self.tape.session
        shown = session.settings.redactor.redact_uri(upstream_url) if session is not None else upstream_url
        handed = with_origin(shown, own)
        with self._lock:
            self._routes[session_key(upstream_url)] = _Route(
                origin_of(upstream_url), urlsplit(upstream_url).query, urlsplit(handed).query)
        data["uploadUrl"] = handed
        response.set_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")))
        logger.info(f"graphtape: upload session {session_key(upstream_url)} routed through {own} "
                    f"(upstream {origin_of(upstream_url)})")
