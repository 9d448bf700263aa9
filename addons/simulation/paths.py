"""Where a request lands in the mailbox, derived from Graph's attachment routes.

There is no second route table here. Every attachment route's template names its parent
and the parent's collection: ``/users/{user-id}/messages/{message-id}/attachments`` has
the parent ``/users/{user-id}/messages/{message-id}`` in the collection
``/users/{user-id}/messages``. So a path is a parent when ``path + "/attachments"``
matches an attachment route, and a collection of parents when ``path + "/{id}/attachments"``
does with ``{id}`` as the route's last placeholder. Whatever routes
``graphtape.addons.graph.routes`` knows, the simulator serves their parents too.

Identity: ``/me`` is the signed-in user (one id per simulator run), and a parent is known
by its owner (user or group), its kind and its id, not by the path that reached it, as in
Graph, where ``/me/events/{id}`` and ``/me/calendar/events/{id}`` are one event.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, unquote

from graphtape.addons.graph.routes import (
    Operation,
    RouteMatch,
    match_attachment_item,
    match_path,
    route_segments,
    split_api_version,
)

__all__ = [
    "ParentKey",
    "ParentRef",
    "QueryOptionError",
    "QueryOptions",
    "attachment_target",
    "attachments_match_for_parent",
    "collection_of",
    "match_parent",
    "match_parent_collection",
    "normalise_path",
    "odata_segments",
    "parent_of",
]

# A parent id no route has as a literal, to ask the route table whether a path is a collection.
_PROBE_ID = "graphtape-probe-0f3c"
_REPEATED_SLASHES = re.compile(r"/{2,}")

Pairs = tuple[tuple[str, str | None], ...]


def normalise_path(path_with_query: str) -> str:
    """The path with empty segments removed (``/v1.0//me`` -> ``/v1.0/me``), query kept.

    msgraph-sdk configured with its defaults sends ``https://graph.microsoft.com/v1.0//me/...``
    (its base URL ends in a slash and its URL templates start with one); Graph serves those
    requests as if the slash were single, and so does the simulator."""
    path, sep, query = path_with_query.partition("?")
    if "//" in path:
        path = _REPEATED_SLASHES.sub("/", path)
    return path + sep + query


@dataclass(frozen=True)
class ParentKey:
    """Who a parent is: owner, kind, id, and the literal segments after the id (``event`` for
    a message's event), independent of the path that reached it."""

    owner: tuple[str, str]
    container: str
    item_id: str
    suffix: tuple[str, ...]


@dataclass(frozen=True)
class ParentRef:
    """A parent as one request names it."""

    key: ParentKey
    collection: Pairs | None  # the collection it sits in (canonical), None for a singleton (a message's event)
    pairs: Pairs  # the parent's canonical segments, for @odata.context
    api_version: str
    path: str  # as sent, without version and query: /me/messages/AAMk=
    base_type: str  # attachment | attachmentBase
    container: str


def _canonical(match: RouteMatch, me_user_id: str) -> list[tuple[str, str | None]]:
    pairs = route_segments(match)
    if match.via_me and pairs and pairs[0][0] == "users":
        pairs[0] = ("users", me_user_id)
    return pairs


def _strip_attachments(pairs: list[tuple[str, str | None]]) -> list[tuple[str, str | None]]:
    names = [name.lower() for name, _ in pairs]
    if "attachments" in names:
        return pairs[:names.index("attachments")]
    return pairs


def _path_without_version(match: RouteMatch) -> str:
    _, bare, segments = split_api_version(match.path)
    return "/" + "/".join(segments) if segments else bare


def parent_of(match: RouteMatch, me_user_id: str) -> ParentRef:
    """The parent of an attachments collection or createUploadSession match."""
    pairs = _strip_attachments(_canonical(match, me_user_id))
    owner_name, owner_id = pairs[0]
    last_id_at = max(i for i, (_, key) in enumerate(pairs) if key is not None)
    suffix = tuple(name for name, _ in pairs[last_id_at + 1:])
    item_id = pairs[last_id_at][1] or ""
    key = ParentKey((owner_name, owner_id or ""), match.route.container, item_id, suffix)
    collection: Pairs | None = None
    if not suffix and last_id_at > 0:
        collection = (*pairs[:last_id_at], (pairs[last_id_at][0], None))
    path = _path_without_version(match)
    cut = path.lower().rfind("/attachments")
    return ParentRef(key, collection, tuple(pairs), match.api_version, path[:cut] if cut > 0 else path,
                     match.route.base_type, match.route.container)


def match_parent(path: str) -> RouteMatch | None:
    """The attachments route of ``path`` when ``path`` (query ignored) names a parent."""
    bare = path.split("?", 1)[0].rstrip("/")
    found = match_path(bare + "/attachments")
    if found is None or found.route.operation is not Operation.CREATE:
        return None
    return found


def match_parent_collection(path: str) -> RouteMatch | None:
    """An attachments route through a probe id when ``path`` names a collection of parents."""
    bare = path.split("?", 1)[0].rstrip("/")
    found = match_path(f"{bare}/{_PROBE_ID}/attachments")
    if found is None or found.route.operation is not Operation.CREATE or not found.route.placeholders:
        return None
    if found.params.get(found.route.placeholders[-1]) != _PROBE_ID:
        return None
    return found


def collection_of(found: RouteMatch, me_user_id: str) -> Pairs:
    """The canonical segments of the collection a probe match stands for."""
    pairs = _strip_attachments(_canonical(found, me_user_id))
    return (*pairs[:-1], (pairs[-1][0], None))


def attachments_match_for_parent(parent_path: str, api_version: str) -> RouteMatch | None:
    """The attachments collection of a parent given by its path without version."""
    return match_parent(f"/{api_version}{parent_path}")


def odata_segments(pairs: Pairs) -> str:
    """``users('u')/messages('m')/attachments``: keys quoted as OData literals and
    percent-encoded as Graph writes them in ``@odata.context`` (``=`` as ``%3D``, ``@`` as ``%40``)."""
    out = []
    for name, key in pairs:
        if key is None:
            out.append(name)
        else:
            out.append(f"{name}('{quote(key.replace(chr(39), chr(39) * 2), safe=chr(39))}')")
    return "/".join(out)


@dataclass(frozen=True)
class QueryOptions:
    """The OData system query options the simulator honours."""

    select: tuple[str, ...] = ()
    expand: tuple[str, ...] = ()
    top: int | None = None
    skip: int = 0

    @classmethod
    def parse(cls, path_with_query: str) -> QueryOptions:
        query = path_with_query.split("?", 1)[1] if "?" in path_with_query else ""
        select: tuple[str, ...] = ()
        expand: tuple[str, ...] = ()
        top: int | None = None
        skip = 0
        for name, value in parse_qsl(query, keep_blank_values=True):
            option = unquote(name).lower()
            if option == "$select":
                select = tuple(p.strip() for p in value.split(",") if p.strip())
            elif option == "$expand":
                expand = tuple(p.strip() for p in value.split(",") if p.strip())
            elif option == "$top":
                top = _non_negative(value, "$top")
            elif option == "$skip":
                skip = _non_negative(value, "$skip")
        return cls(select, expand, top, skip)

    def expands(self, name: str) -> bool:
        return any(e.lower() == name.lower() for e in self.expand)


class QueryOptionError(ValueError):
    """A query option Graph would refuse (a $top that is not a number)."""


def _non_negative(value: str, option: str) -> int:
    if not value.strip().isdigit():
        raise QueryOptionError(f"Invalid value '{value}' for query option '{option}'.")
    return int(value.strip())


def attachment_target(path: str) -> tuple[RouteMatch, str, bool] | None:
    """``<attachments>/{id}`` or ``<attachments>/{id}/$value``: (collection match, id, raw)."""
    bare = path.split("?", 1)[0].rstrip("/")
    raw = bare.lower().endswith("/$value")
    if raw:
        bare = bare[: -len("/$value")]
    found = match_attachment_item(bare)
    if found is None:
        return None
    return found[0], found[1], raw
