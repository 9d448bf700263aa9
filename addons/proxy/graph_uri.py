"""The URI a client meant: in reverse mode, Graph's, whatever service stands in for it upstream.

A client in reverse mode uses graphtape's address as Graph's base URL, and graphtape
forwards to ``--upstream``: Graph itself, or a simulator on an ephemeral loopback port.
The cassette records the request under ``graphtape_graph_url``
(``https://graph.microsoft.com`` by default) in either case, so a cassette recorded from
the simulator matches the same calls made against Graph (VCR.py compares whole URIs),
and replay misses compare Graph URLs with Graph URLs. The ``Host`` header follows.

Upload-session chunks (PUT or cancelling DELETE) go wherever the session's ``uploadUrl``
pointed, in either mode; they are named on the session's canonical origin
(:func:`graphtape.addons.graph.upload_urls.canonical_upload_request`): Outlook sessions on
``https://outlook.office.com``, To Do sessions on the same Graph origin as every other call.

Left as they are: other forward-mode requests (the client named the host itself) and
requests that do not go to the reverse target.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from mitmproxy import http
from mitmproxy.proxy.mode_specs import ReverseMode

from graphtape.addons.graph.scope import upload_chunk_of
from graphtape.addons.graph.upload_urls import GRAPH_ORIGIN, canonical_upload_request
from graphtape.addons.proxy.flow_convert import request_from_flow
from graphtape.cassettes.model import Headers, Request

__all__ = ["graph_origin_of", "meant_request"]


def _goes_to_reverse_target(flow: http.HTTPFlow) -> bool:
    mode = flow.client_conn.proxy_mode
    if not isinstance(mode, ReverseMode):
        return False
    req = flow.request
    host, port = mode.address
    return (req.scheme, req.host.lower(), req.port) == (mode.scheme, host.lower(), port)


def graph_origin_of(graph_url: str) -> str:
    """``scheme://host[:port]`` of the configured Graph URL (Graph's own when unset)."""
    graph = urlsplit(graph_url or GRAPH_ORIGIN)
    return f"{graph.scheme}://{graph.netloc.lower()}"


def meant_request(flow: http.HTTPFlow, graph_url: str) -> Request:
    """The flow's request as the cassette keeps it: under ``graph_url`` when it stands for Graph."""
    request = request_from_flow(flow)
    if upload_chunk_of(flow.request.method, flow.request.url) is not None:
        return canonical_upload_request(request, graph_origin_of(graph_url))
    if not graph_url or not _goes_to_reverse_target(flow):
        return request
    graph = urlsplit(graph_url)
    uri = urlunsplit(urlsplit(request.uri)._replace(scheme=graph.scheme, netloc=graph.netloc.lower()))
    headers = Headers(tuple((k, graph.netloc.lower()) if k.lower() == "host" else (k, v) for k, v in request.headers))
    return Request(method=request.method, uri=uri, headers=headers, body=request.body)
