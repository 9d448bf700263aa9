"""The Microsoft Graph routes that create attachments, and a fast matcher for them.

Every route is written once, in its ``/users/{user-id}`` form; the matcher accepts
``/me`` wherever ``/users/{user-id}`` appears, because Graph treats the two alike.
Routes are compiled into a segment trie at import time, so matching a request path
costs one dictionary lookup per path segment, whatever the number of routes.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from urllib.parse import unquote

from graphtape.cassettes.errors import GraphSchemaError

__all__ = [
    "API_VERSIONS",
    "ROUTES",
    "ROUTES_BY_NAME",
    "Operation",
    "Route",
    "RouteMatch",
    "is_attachment_route",
    "match_attachment_item",
    "match_path",
    "match_route",
    "route_segments",
    "split_api_version",
    "unmatched_segment",
]

API_VERSIONS: frozenset[str] = frozenset({"v1.0", "beta"})
_BOTH = API_VERSIONS
_BETA = frozenset({"beta"})


class Operation(str, enum.Enum):
    CREATE = "create"
    CREATE_UPLOAD_SESSION = "createUploadSession"


@dataclass(frozen=True)
class Route:
    """One documented attachment-creating POST route."""

    name: str
    template: str
    container: str  # "message" | "event" | "post" | "outlookTask" | "todoTask"
    base_type: str  # "attachment" | "attachmentBase"
    operation: Operation
    versions: frozenset[str]
    deprecated: bool = False
    from_seed: bool = False

    @property
    def placeholders(self) -> tuple[str, ...]:
        return tuple(s[1:-1] for s in self.template.strip("/").split("/") if s.startswith("{"))


@dataclass(frozen=True)
class RouteMatch:
    """A request path matched to a route: the version, the path as sent, the decoded ids."""

    route: Route
    api_version: str
    path: str
    params: dict[str, str] = field(hash=False)
    via_me: bool


def _route(
    name: str,
    template: str,
    container: str,
    *,
    operation: Operation = Operation.CREATE,
    versions: frozenset[str] = _BOTH,
    deprecated: bool = False,
    from_seed: bool = False,
) -> Route:
    base_type = "attachmentBase" if container == "todoTask" else "attachment"
    return Route(name, template, container, base_type, operation, versions, deprecated, from_seed)


_U = "/users/{user-id}"
_UPLOAD = Operation.CREATE_UPLOAD_SESSION

ROUTES: tuple[Route, ...] = (
    # The seed page's four routes.
    _route("user-message", f"{_U}/messages/{{message-id}}/attachments", "message", from_seed=True),
    _route(
        "user-message-event",
        f"{_U}/messages/{{message-id}}/event/attachments",
        "event",
        from_seed=True,
    ),
    _route(
        "group-post",
        "/groups/{group-id}/conversations/{conversation-id}/threads/{thread-id}"
        "/posts/{post-id}/attachments",
        "post",
        from_seed=True,
    ),
    # Beta-only in reality (Outlook tasks stopped in 2022); the seed lists it without a
    # version, so it is accepted on both and flagged deprecated.
    _route(
        "outlook-taskgroup-task",
        f"{_U}/outlook/taskGroups/{{task-group-id}}/taskFolders/{{task-folder-id}}"
        "/tasks/{task-id}/attachments",
        "outlookTask",
        deprecated=True,
        from_seed=True,
    ),
    # Messages inside folders. The nested form matches two or more childFolders levels;
    # levels after the second are named child-folder-id-3, child-folder-id-4, ...
    _route(
        "mailfolder-message",
        f"{_U}/mailFolders/{{mail-folder-id}}/messages/{{message-id}}/attachments",
        "message",
    ),
    _route(
        "mailfolder-childfolder-message",
        f"{_U}/mailFolders/{{mail-folder-id}}/childFolders/{{child-folder-id}}"
        "/messages/{message-id}/attachments",
        "message",
    ),
    _route(
        "mailfolder-nested-childfolder-message",
        f"{_U}/mailFolders/{{mail-folder-id}}/childFolders/{{child-folder-id}}"
        "/childFolders/{child-folder-id-2}/messages/{message-id}/attachments",
        "message",
    ),
    # Events.
    _route("user-event", f"{_U}/events/{{event-id}}/attachments", "event"),
    _route("user-calendar-event", f"{_U}/calendar/events/{{event-id}}/attachments", "event"),
    _route(
        "user-calendars-event",
        f"{_U}/calendars/{{calendar-id}}/events/{{event-id}}/attachments",
        "event",
    ),
    _route(
        "user-calendargroup-calendar-event",
        f"{_U}/calendarGroups/{{calendar-group-id}}/calendars/{{calendar-id}}"
        "/events/{event-id}/attachments",
        "event",
    ),
    _route("group-event", "/groups/{group-id}/events/{event-id}/attachments", "event"),
    _route(
        "group-calendar-event",
        "/groups/{group-id}/calendar/events/{event-id}/attachments",
        "event",
    ),
    # Group posts reached through a thread without the conversation (published docs).
    _route(
        "group-thread-post",
        "/groups/{group-id}/threads/{thread-id}/posts/{post-id}/attachments",
        "post",
    ),
    # To Do.
    _route(
        "todo-task",
        f"{_U}/todo/lists/{{todo-task-list-id}}/tasks/{{todo-task-id}}/attachments",
        "todoTask",
    ),
    # Deprecated Outlook tasks, beta only.
    _route(
        "outlook-task",
        f"{_U}/outlook/tasks/{{task-id}}/attachments",
        "outlookTask",
        versions=_BETA,
        deprecated=True,
    ),
    # Upload sessions for files of 3 to 150 MB.
    _route(
        "user-message-upload-session",
        f"{_U}/messages/{{message-id}}/attachments/createUploadSession",
        "message",
        operation=_UPLOAD,
    ),
    _route(
        "user-event-upload-session",
        f"{_U}/events/{{event-id}}/attachments/createUploadSession",
        "event",
        operation=_UPLOAD,
    ),
    _route(
        "todo-task-upload-session",
        f"{_U}/todo/lists/{{todo-task-list-id}}/tasks/{{todo-task-id}}"
        "/attachments/createUploadSession",
        "todoTask",
        operation=_UPLOAD,
    ),
)

ROUTES_BY_NAME: dict[str, Route] = {r.name: r for r in ROUTES}

# Routes whose tail repeats: (route name, the literal that loops back to itself).
_REPEATING_SEGMENTS: dict[str, str] = {"mailfolder-nested-childfolder-message": "childFolders"}


class _Node:
    """One trie node: literal children by lower-cased name, or one placeholder child."""

    __slots__ = ("literals", "placeholder", "placeholder_name", "route", "versions")

    def __init__(self) -> None:
        self.literals: dict[str, _Node] = {}
        self.placeholder: _Node | None = None
        self.placeholder_name = ""
        self.route: Route | None = None
        # The API versions of every route at or below this node, so a beta-only
        # branch stops matching early on v1.0 (as Graph does).
        self.versions: set[str] = set()


def _build_trie(routes: tuple[Route, ...]) -> _Node:
    root = _Node()
    user_node = _Node()  # shared by /users/{user-id} and /me
    root.literals["users"] = _Node()
    root.literals["users"].placeholder = user_node
    root.literals["users"].placeholder_name = "user-id"
    root.literals["me"] = user_node
    for route in routes:
        segments = route.template.strip("/").split("/")
        if segments[:2] == ["users", "{user-id}"]:
            node, segments = user_node, segments[2:]
            for n in (root, root.literals["users"], user_node):
                n.versions |= route.versions
            root.literals["me"].versions |= route.versions
        else:
            node = root
            node.versions |= route.versions
        loop_literal = _REPEATING_SEGMENTS.get(route.name)
        loop_target: _Node | None = None
        for segment in segments:
            if segment.startswith("{"):
                if node.literals:
                    raise GraphSchemaError(f"route {route.name}: placeholder beside literals")
                if node.placeholder is None:
                    node.placeholder = _Node()
                    node.placeholder_name = segment[1:-1]
                node = node.placeholder
            else:
                if node.placeholder is not None:
                    raise GraphSchemaError(f"route {route.name}: literal beside a placeholder")
                node = node.literals.setdefault(segment.lower(), _Node())
                if segment == loop_literal:
                    loop_target = node
            node.versions |= route.versions
        if node.route is not None:
            raise GraphSchemaError(f"routes {node.route.name} and {route.name} share a template")
        node.route = route
        if loop_literal is not None and loop_target is not None:
            # After the last childFolders id, another childFolders level may follow.
            after_id = loop_target.placeholder
            assert after_id is not None
            after_id.literals[loop_literal.lower()] = loop_target
    return root


_TRIE = _build_trie(ROUTES)


def split_api_version(path: str) -> tuple[str | None, str, list[str]]:
    """Split a request path into (api version or None, path without query, raw segments).

    The version is normalised to "v1.0" or "beta"; segments exclude the version and are
    still percent-encoded. Accepts an absolute URL too (as forward proxies see it).
    """
    bare = path.split("?", 1)[0].split("#", 1)[0]
    if "://" in bare:
        rest = bare.split("://", 1)[1]
        bare = "/" + rest.split("/", 1)[1] if "/" in rest else "/"
    trimmed = bare[:-1] if bare.endswith("/") and len(bare) > 1 else bare
    segments = trimmed.split("/")[1:] if trimmed.startswith("/") else trimmed.split("/")
    if not segments or not segments[0]:
        return None, bare, segments
    version = segments[0].lower()
    if version not in API_VERSIONS:
        return None, bare, segments
    return version, bare, segments[1:]


def _walk(version: str, segments: list[str]) -> tuple[_Node | None, int, dict[str, str]]:
    """Follow the trie; returns (final node or None, segments consumed, decoded ids)."""
    node = _TRIE
    params: dict[str, str] = {}
    for index, raw in enumerate(segments):
        if not raw:
            return None, index, params
        child = node.literals.get(unquote(raw).lower()) if node.literals else None
        if child is None and node.placeholder is not None:
            child = node.placeholder
            name = node.placeholder_name
            if name in params:  # a repeated level (nested childFolders)
                base = name.rstrip("0123456789").rstrip("-") if name[-1].isdigit() else name
                level = 2
                while f"{base}-{level}" in params:
                    level += 1
                name = f"{base}-{level}"
            params[name] = unquote(raw)
        if child is None or version not in child.versions:
            return None, index, params
        node = child
    return node, len(segments), params


def match_path(path: str) -> RouteMatch | None:
    """Match a path (query ignored) to a route, whatever the HTTP method."""
    version, bare, segments = split_api_version(path)
    if version is None:
        return None
    node, _, params = _walk(version, segments)
    if node is None or node.route is None:
        return None
    via_me = bool(segments) and segments[0].lower() == "me"
    return RouteMatch(node.route, version, bare, params, via_me)


def match_route(method: str, path: str) -> RouteMatch | None:
    """Match an attachment-creating call: a POST to one of ``ROUTES``."""
    if method.upper() != "POST":
        return None
    return match_path(path)


def match_attachment_item(path: str) -> tuple[RouteMatch, str] | None:
    """Match ``<attachments collection>/{attachment-id}``: (collection match, decoded id)."""
    version, bare, segments = split_api_version(path)
    if version is None or len(segments) < 2 or not segments[-1]:
        return None
    node, _, params = _walk(version, segments[:-1])
    if node is None or node.route is None or node.route.operation is not Operation.CREATE:
        return None
    if unquote(segments[-1]).lower() in node.literals:  # e.g. createUploadSession
        return None
    collection_path = bare.rstrip("/").rsplit("/", 1)[0]
    via_me = segments[0].lower() == "me"
    return RouteMatch(node.route, version, collection_path, params, via_me), unquote(segments[-1])


def is_attachment_route(path: str) -> bool:
    """True for an attachment route or one attachment in its collection, any method."""
    return match_path(path) is not None or match_attachment_item(path) is not None


def unmatched_segment(path: str) -> str | None:
    """The first path segment no route accepts (decoded), as Graph names it in its
    "Resource not found for the segment" error; None when the path is a route prefix
    or a full route. The version segment is returned when it is not v1.0 or beta."""
    version, _, segments = split_api_version(path)
    if version is None:
        return unquote(segments[0]) if segments else ""
    node, consumed, _ = _walk(version, segments)
    if node is not None:
        return None
    collection, _, _ = _walk(version, segments[:consumed])
    if (
        collection is not None
        and collection.route is not None
        and collection.route.operation is Operation.CREATE
        and segments[consumed]
    ):
        # The segment is an attachment id, which Graph resolves: the next one is unknown.
        consumed += 1
        if consumed == len(segments):
            return None
    return unquote(segments[consumed])


def route_segments(match: RouteMatch) -> list[tuple[str, str | None]]:
    """The matched path as (canonical segment name, decoded id or None) pairs.

    ``users/{user-id}/messages/{message-id}/attachments`` gives
    ``[("users", uid), ("messages", mid), ("attachments", None)]``; for a ``/me`` path
    the user id is None (the caller knows who "me" is). Nested childFolders levels
    beyond the template's appear in path order. Used to build OData context URLs.
    """
    segments = match.route.template.strip("/").split("/")
    loop_literal = _REPEATING_SEGMENTS.get(match.route.name)
    pairs: list[tuple[str, str | None]] = []
    index = 0
    while index < len(segments):
        literal = segments[index]
        following = segments[index + 1] if index + 1 < len(segments) else ""
        if not following.startswith("{"):
            pairs.append((literal, None))
            index += 1
            continue
        name = following[1:-1]
        pairs.append((literal, match.params.get(name)))
        index += 2
        if literal == loop_literal and name[-1].isdigit():
            level = int(name.rsplit("-", 1)[1]) + 1
            base = name.rsplit("-", 1)[0]
            while f"{base}-{level}" in match.params:
                pairs.append((literal, match.params[f"{base}-{level}"]))
                level += 1
    return pairs
