"""Which flows graphtape records: attachment traffic, or everything.

With ``--scope attachments`` a flow is in scope when it POSTs to a route generated from
Graph's metadata (``routes.match_route``): an attachments collection, its
createUploadSession, or a call that carries attachments inline (sendMail, reply, forward,
createReply..., a POST creating a message, event or post). Chunk PUTs to an upload
session's URL are in scope too. The matched route's name and pattern are recorded with the
interaction (``meta.route``, ``meta.route_template``).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from graphtape.addons.graph.routes import RouteMatch, match_route
from graphtape.addons.graph.upload_urls import UploadUrlMatch, match_upload_url

__all__ = ["in_scope", "route_of", "upload_chunk_of"]


def route_of(method: str, url: str) -> RouteMatch | None:
    """The attachment route (collection or inline carrier) a request POSTs to, if any.

    Graph reads "/v1.0//me/..." (msgraph-sdk's default base URL gives it) as "/v1.0/me/...".
    """
    return match_route(method, re.sub(r"/{2,}", "/", urlsplit(url).path))


def in_scope(scope: str, route: RouteMatch | None) -> bool:
    return scope == "all" or route is not None


def upload_chunk_of(method: str, url: str) -> UploadUrlMatch | None:
    """A chunk PUT to an upload session's URL, or its cancelling DELETE: part of attachment
    traffic, so in scope too."""
    return match_upload_url(url) if method.upper() in ("PUT", "DELETE") else None
