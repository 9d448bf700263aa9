"""Which flows graphtape records: attachment-creating calls, or everything."""

from __future__ import annotations

from urllib.parse import urlsplit

from graphtape.addons.graph_routes import RouteMatch, match_route

__all__ = ["route_of", "in_scope"]


def route_of(method: str, url: str) -> RouteMatch | None:
    return match_route(method, urlsplit(url).path)


def in_scope(scope: str, route: RouteMatch | None) -> bool:
    return scope == "all" or route is not None
