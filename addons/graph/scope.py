"""Which flows graphtape records: attachment traffic, or everything.

With ``--scope attachments`` a flow is in scope when it POSTs to a route generated from
Graph's metadata (``routes.match_route``): an attachments collection, its
createUploadSession, or a call that carries attachments inline (sendMail, reply, forward,
createReply..., a POST creating a message, event or post). Chunk PUTs to an upload
session's URL are in scope too. The matched route's name and pattern are recorded with the
interaction (``meta.route``, ``meta.route_template``).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from graphtape.addons.graph.routes import RouteMatch, match_route
from graphtape.addons.graph.upload_urls import UploadUrlMatch, match_upload_url

__all__ = ["in_scope", "route_of", "upload_chunk_of"]


def route_of(method: str, url: str) -> RouteMatch | None:
    """The attachment route (collection or inline carrier) a request POSTs to, if any."""
    return match_route(method, urlsplit(url).path)


def in_scope(scope: str, route: RouteMatch | None) -> bool:
    return scope == "all" or route is not None


def upload_chunk_of(method: str, url: str) -> UploadUrlMatch | None:
    """A chunk PUT to an upload session's URL: part of attachment traffic, so in scope too."""
    return match_upload_url(url) if method.upper() == "PUT" else None
