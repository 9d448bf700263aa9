"""The UploadUrlRouting addon: upload sessions go through graphtape, on an origin of their own.

A createUploadSession answer names an ``uploadUrl`` the client PUTs its chunks to. Graph's
Outlook sessions live on another host (``outlook.office.com``), and clients rely on that:
the JavaScript Graph client sends its bearer token only to Graph's hostnames, msgraph-sdk
only to the hosts it is told to. So, on the way to the client (``response``, after the
recorder kept the upstream's answer), the ``uploadUrl`` is handed out as:

- **reverse mode**, Outlook session: graphtape's own listener under *another hostname*
  (``localhost`` when the client used ``127.0.0.1``, and back), same scheme and port;
- **reverse mode**, To Do session (on Graph's host, sent with Authorization): graphtape's own
  address exactly as the client used it;
- **forward mode**: the canonical origin the cassette names (``outlook.office.com`` for
  Outlook sessions, with the scheme the client used for Graph; the client's Graph host
  for To Do), so the chunks come back through the proxy whatever the upstream's scheme;

with its token query parameters given redacted, exactly as the cassette holds them: the
client sees the same URL whether the answer is live or replayed. When a request for that
session's path arrives (``requestheaders``, before the replayer and recorder look at it),
it is sent to the upstream origin the URL named, with the original query (the real
token) put back if the client sent the one it was given.

The mapping lives in memory for one run: a session must be created (recorded or
replayed) in the same run as its chunks.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from mitmproxy import http
from mitmproxy.proxy.mode_specs import ReverseMode

from graphtape.addons.graph.routes import Operation, match_path
from graphtape.addons.graph.upload_urls import (
    OUTLOOK_ORIGIN,
    alternate_loopback_host,
    match_upload_url,
    origin_of,
    session_key,
    with_origin,
)
from graphtape.addons.proxy.off_loop import is_heavy, off_loop
from graphtape.addons.proxy.tape import Tape
from graphtape.cassettes.encoding import decode_body
from graphtape.cassettes.model import Headers

__all__ = ["UploadUrlRouting"]

_ACTION = Operation.CREATE_UPLOAD_SESSION.value.lower()  # in every path match_path gives that operation

logger = logging.getLogger("graphtape")


@dataclass(frozen=True)
class _Route:
    origin: str  # the upstream's scheme://host[:port]
    query: str  # the upstream's query (the real token when live)
    handed_query: str  # the query the client was given


def _is_reverse(flow: http.HTTPFlow) -> bool:
    return isinstance(flow.client_conn.proxy_mode, ReverseMode)


def _host_part(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def handed_origin(flow: http.HTTPFlow, upstream_url: str) -> str | None:
    """Where the client is told to send a session's chunks (see the module docstring)."""
    found = match_upload_url(upstream_url)
    if found is None:
        return None
    scheme = "https" if flow.client_conn.tls_established else "http"
    if not _is_reverse(flow):
        if found.kind == "outlook":
            return f"{flow.request.scheme}://{urlsplit(OUTLOOK_ORIGIN).netloc}"
        return origin_of(flow.request.url)
    sockname = flow.client_conn.sockname
    port = int(sockname[1])
    # The hostname the client used: its TLS SNI; over plain HTTP mitmproxy's reverse mode has
    # already replaced Host with the upstream's, so the address it listens on stands in.
    hostname = (flow.client_conn.sni if flow.client_conn.tls_established else None) or str(sockname[0])
    if found.kind == "todo":
        return f"{scheme}://{_host_part(hostname, port)}"
    return f"{scheme}://{_host_part(alternate_loopback_host(hostname), port)}"


class UploadUrlRouting:
    def __init__(self, tape: Tape) -> None:
        self.tape = tape
        self._lock = threading.Lock()
        self._routes: dict[str, _Route] = {}

    def requestheaders(self, flow: http.HTTPFlow) -> None:
        if not self._routes:
            return  # no upload session handed out yet: nothing to route (and no path to parse)
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
        if response is None or not 200 <= response.status_code < 300:
            return
        if _ACTION not in unquote(flow.request.path).lower():
            return  # the cheap test first: only a createUploadSession call hands out an uploadUrl
        match = match_path(flow.request.path)
        if match is None or match.route.operation is not Operation.CREATE_UPLOAD_SESSION:
            return
        raw = response.raw_content or b""
        coding = response.headers.get("content-encoding")
        try:  # bounded, unlike mitmproxy's get_text: a compression bomb must not take the proxy down
            data = await off_loop(is_heavy(Headers.of(list(response.headers.items())), raw),
                                  lambda: json.loads(decode_body(raw, coding)))
        except (ValueError, RecursionError):  # BodyDecodeError is a ValueError
            return  # not a session object: the validator reports it, nothing to rewrite
        upstream_url = data.get("uploadUrl") if isinstance(data, dict) else None
        if not isinstance(upstream_url, str) or "://" not in upstream_url:
            return
        own = handed_origin(flow, upstream_url)
        if own is None:
            return
        session = self.tape.session
        shown = session.settings.redactor.redact_uri(upstream_url) if session is not None else upstream_url
        handed = with_origin(shown, own)
        with self._lock:
            self._routes[session_key(upstream_url)] = _Route(
                origin_of(upstream_url), urlsplit(upstream_url).query, urlsplit(handed).query)
        if handed == upstream_url:
            return
        data["uploadUrl"] = handed
        response.set_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")))
        logger.info(f"graphtape: upload session {session_key(upstream_url)} routed through {own} "
                    f"(upstream {origin_of(upstream_url)})")
