"""The Microsoft Graph routes that create attachments, or carry them inline, and a matcher for them.

Every route comes from graphtape's Graph metadata (generated from Microsoft's CSDL, see
``graphtape.addons.graph.metadata``): the POSTs to an attachments collection, the
``createUploadSession`` actions bound to one, and the calls whose JSON body may hold
attachments (``sendMail``, ``reply``, ``forward``, ``createReply``..., and POSTs that create a
message, an event or a post with an ``attachments`` array). Nothing here is written by hand
but the naming scheme below and the names older cassettes used.

**Operations.** :class:`Operation` ``CREATE`` and ``CREATE_UPLOAD_SESSION`` are attachments
collections (:func:`match_path` returns only those, so a dispatcher on them never sees an
inline route); ``INLINE_ACTION`` and ``INLINE_CREATE`` carry attachments inside another body
(:func:`match_inline`); :func:`match_route` returns either kind for a POST.

**Route names** (stored as ``meta.route`` in cassettes) are derived from the route's shortest
URL: its fixed segments below the root, lower-cased and joined by ``-``, keys and optional
type casts left out, ``/me`` written as ``users``. ``/users/{user-id}/messages/{message-id}/attachments``
is ``users-messages-attachments``; its ``createUploadSession`` is
``users-messages-attachments-createuploadsession``; ``/users/{user-id}/sendMail`` is
``users-sendmail``. A name is unique within an API version; a route whose pattern differs
between versions (beta allows nested event instances) keeps one name for both.
:data:`LEGACY_ROUTE_NAMES` maps the names graphtape used before (``user-message``...) to
these, and :func:`route_by_name` reads either.

Paths match in both key forms (``/messages/AAMk%3D`` and ``/messages('AAMk=')``), segment
names case-insensitively, ``/me`` wherever ``/users/{user-id}`` is allowed (``via_me`` tells
which was sent), and only on the API versions whose metadata has the route.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import NamedTuple
from urllib.parse import unquote

from graphtape.addons.graph.metadata import (
    AttachmentLocation,
    GraphSchema,
    InlineCarrier,
    RoutePattern,
    load_schema,
)
from graphtape.addons.graph.metadata.segments import (
    ActionSegment,
    CastSegment,
    KeySegment,
    LiteralSegment,
    PathToken,
    RepeatSegment,
    Segment,
    match_trace,
    prefix_length,
    split_path,
)
from graphtape.cassettes.errors import GraphSchemaError

__all__ = [
    "API_VERSIONS",
    "LEGACY_ROUTE_NAMES",
    "Operation",
    "Route",
    "RouteMatch",
    "all_routes",
    "is_attachment_route",
    "match_attachment_item",
    "match_inline",
    "match_path",
    "match_route",
    "route_by_name",
    "route_name",
    "route_segments",
    "routes_for",
    "split_api_version",
    "unmatched_segment",
]

API_VERSIONS: frozenset[str] = frozenset({"v1.0", "beta"})
_VERSION_ORDER = ("v1.0", "beta")


class Operation(str, enum.Enum):
    """What a POST to a route does."""

    CREATE = "create"  # POST an attachment to an attachments collection
    CREATE_UPLOAD_SESSION = "createUploadSession"  # the collection's bound createUploadSession
    INLINE_ACTION = "inlineAction"  # an action whose parameters may hold attachments (sendMail, reply...)
    INLINE_CREATE = "inlineCreate"  # a POST creating an entity that may hold attachments (a message...)

    @property
    def is_inline(self) -> bool:
        """True for the routes that carry attachments inside another body."""
        return self in (Operation.INLINE_ACTION, Operation.INLINE_CREATE)


_COLLECTION_OPERATIONS = frozenset({Operation.CREATE, Operation.CREATE_UPLOAD_SESSION})


@dataclass(frozen=True)
class Route:
    """One route: a URL pattern (``/users`` form) and what a POST to it does."""

    name: str
    template: str
    container: str  # the type owning the attachments: message, event, post, todoTask, outlookTask
    base_type: str  # the attachments' declared type: attachment | attachmentBase
    operation: Operation
    versions: frozenset[str]
    deprecated: bool
    placeholders: tuple[str, ...]  # the ids of the shortest URL, in order: ("user-id", "message-id")
    segments: tuple[Segment, ...] = field(repr=False, compare=False)
    deprecation: str = ""  # what the metadata says is deprecated on the way, and since when
    # Inline routes only: the action (qualified) and the entity type it is bound to, or the
    # entity type a POST creates; where the attachments sit in the body (CSDL spelling).
    action: str | None = None
    binding: str | None = None
    body_type: str | None = None
    attachment_paths: tuple[AttachmentLocation, ...] = ()


@dataclass(frozen=True)
class RouteMatch:
    """A request path matched to a route: the version, the path as sent, the decoded ids."""

    route: Route
    api_version: str
    path: str
    params: dict[str, str] = field(hash=False)
    via_me: bool
    # (entity type, decoded id) in path order, /me's user left out.
    keys: tuple[tuple[str, str], ...] = ()
    # The path as (canonical segment name, decoded id or None) pairs: see route_segments.
    steps: tuple[tuple[str, str | None], ...] = ()

    @property
    def parent_id(self) -> str | None:
        """The id of the entity that owns the attachments (the last id in the path)."""
        return self.keys[-1][1] if self.keys else None


# --- building the table from the metadata ---------------------------------------------


def route_name(segments: Iterable[Segment]) -> str:
    """The route's name: its fixed segments, lower-cased and joined by '-' (see the module doc)."""
    words: list[str] = []
    for segment in segments:
        if isinstance(segment, LiteralSegment):
            words.append("users" if segment.name == "me" else segment.name.lower())
        elif isinstance(segment, ActionSegment):
            words.append(segment.short_name.lower())
    return "-".join(words)


def _short(qualified: str) -> str:
    return qualified.rsplit(".", 1)[-1]


def _placeholders(segments: Iterable[Segment]) -> tuple[str, ...]:
    names: list[str] = []
    for segment in segments:
        if isinstance(segment, KeySegment):
            names.append(_numbered(f"{_short(segment.entity_type)}-id", names))
    return tuple(names)


def _numbered(name: str, taken: Sequence[str]) -> str:
    """``name``, or ``name-2``, ``name-3``... for a level that repeats (nested folders)."""
    if name not in taken:
        return name
    level = 2
    while f"{name}-{level}" in taken:
        level += 1
    return f"{name}-{level}"


def _users_form(segments: tuple[Segment, ...], template: str) -> tuple[tuple[Segment, ...], str]:
    """A ``/me`` pattern in its ``/users/{user-id}`` form (the two are matched as one route)."""
    first = segments[0] if segments else None
    if isinstance(first, LiteralSegment) and first.name == "me":
        return (LiteralSegment("users"), KeySegment("microsoft.graph.user"), *segments[1:]), (
            "/users/{user-id}" + template.removeprefix("/me")
        )
    return segments, template


def _deprecation(schema: GraphSchema, targets: tuple[str, ...]) -> str:
    """What the metadata marks deprecated on the way: "outlookUser/tasks since 2021-02-20, removed 2023-02-20"."""
    notes: list[str] = []
    for target in targets:
        info = schema.deprecations.get(target)
        what = target.removeprefix("microsoft.graph.")
        since = f" since {info.date}" if info is not None and info.date else ""
        removal = f", removed {info.removal_date}" if info is not None and info.removal_date else ""
        notes.append(f"{what}{since}{removal}")
    return "; ".join(notes)


@dataclass
class _Draft:
    """A route being merged across API versions (same template, same operation)."""

    route: Route
    versions: set[str]


def _from_pattern(schema: GraphSchema, pattern: RoutePattern) -> Route:
    segments, template = _users_form(pattern.segments, pattern.template)
    operation = Operation(pattern.operation.value)
    shortest = _shortest(segments)
    return Route(
        name=route_name(shortest),
        template=template,
        container=_short(pattern.parent_type),
        base_type=_short(pattern.element_type),
        operation=operation,
        versions=frozenset(),
        deprecated=pattern.is_deprecated,
        placeholders=_placeholders(shortest),
        segments=segments,
        deprecation=_deprecation(schema, pattern.deprecated),
    )


def _from_carrier(schema: GraphSchema, carrier: InlineCarrier) -> Route:
    segments, template = _users_form(carrier.segments, carrier.template)
    shortest = _shortest(segments)
    first = carrier.attachments[0] if carrier.attachments else None
    return Route(
        name=route_name(shortest),
        template=template,
        container=_short(first.parent_type) if first else "",
        base_type=_short(first.element_type) if first else "",
        operation=Operation.INLINE_ACTION if carrier.kind == "action" else Operation.INLINE_CREATE,
        versions=frozenset(),
        deprecated=bool(carrier.deprecated),
        placeholders=_placeholders(shortest),
        segments=segments,
        deprecation=_deprecation(schema, carrier.deprecated),
        action=carrier.action,
        binding=carrier.binding,
        body_type=carrier.body_type,
        attachment_paths=carrier.attachments,
    )


def _shortest(segments: Iterable[Segment]) -> tuple[Segment, ...]:
    """The segments of the shortest URL: no repetitions, no optional casts."""
    return tuple(
        s for s in segments if not isinstance(s, RepeatSegment) and not (isinstance(s, CastSegment) and s.optional)
    )


@dataclass(frozen=True)
class _Plan:
    """A route without repetitions or optional casts, read in one pass: per segment, the
    spellings a literal or action may have (lower case; None for a key), the parameter name
    of a key, and the step name of a literal or action."""

    spellings: tuple[frozenset[str] | None, ...]
    names: tuple[str | None, ...]
    entity_types: tuple[str | None, ...]
    steps: tuple[str | None, ...]


def _plan(route: Route) -> _Plan | None:
    spellings: list[frozenset[str] | None] = []
    names: list[str | None] = []
    entity_types: list[str | None] = []
    steps: list[str | None] = []
    taken: list[str] = []
    for segment in route.segments:
        if isinstance(segment, KeySegment):
            name = _numbered(f"{_short(segment.entity_type)}-id", taken)
            taken.append(name)
            spellings.append(None)
            names.append(name)
            entity_types.append(segment.entity_type)
            steps.append(None)
            continue
        if isinstance(segment, (LiteralSegment, ActionSegment)):
            spellings.append(frozenset(_spellings(segment) or ()))
            steps.append(segment.name if isinstance(segment, LiteralSegment) else segment.short_name)
        elif isinstance(segment, CastSegment) and not segment.optional:
            spellings.append(frozenset({segment.type.lower()}))
            steps.append(None)
        else:
            return None
        names.append(None)
        entity_types.append(None)
    return _Plan(tuple(spellings), tuple(names), tuple(entity_types), tuple(steps))


def _planned_match(plan: _Plan, route: Route, parsed: _Parsed, tokens: tuple[PathToken, ...],
                   bare: str) -> RouteMatch | None:
    """The match of a route without repetitions: one pass, ids and steps from the plan."""
    if len(plan.spellings) != len(tokens):
        return None
    for spellings, token in zip(plan.spellings, tokens, strict=True):
        if spellings is None:
            if not token.text:
                return None
        elif token.is_key or token.text.lower() not in spellings:
            return None
    params: dict[str, str] = {}
    keys: list[tuple[str, str]] = []
    steps: list[tuple[str, str | None]] = []
    for position, token in enumerate(tokens):
        name = plan.names[position]
        if name is None:
            step = plan.steps[position]
            if step is not None:
                steps.append((step, None))
            continue
        me = parsed.via_me and position == 1
        if not me:
            params[name] = token.text
            keys.append((plan.entity_types[position] or "", token.text))
        if steps:
            steps[-1] = (steps[-1][0], None if me else token.text)
    return RouteMatch(route, parsed.version, bare, params, parsed.via_me, tuple(keys), tuple(steps))


@dataclass(frozen=True)
class _Table:
    routes: tuple[Route, ...]
    # version -> (lower-cased third token (after users/{id} or groups/{id}), last token) -> routes,
    # each with its fixed-length plan when it has no repetition or optional cast
    index: dict[str, dict[tuple[str, str], tuple[tuple[Route, _Plan | None], ...]]]
    # version -> routes whose third segment is not a fixed name (checked for every path)
    unindexed: dict[str, tuple[tuple[Route, _Plan | None], ...]]
    # How the collections' actions may be spelled in a URL (lower case): never an attachment id.
    collection_actions: frozenset[str]


def _spellings(segment: Segment) -> set[str] | None:
    """How a fixed segment may be written (lower case), or None for a key, cast or repeat."""
    if isinstance(segment, LiteralSegment):
        return {segment.name.lower()}
    if isinstance(segment, ActionSegment):
        return {segment.short_name.lower(), segment.name.lower()}
    return None


def _index_keys(route: Route) -> set[tuple[str, str]] | None:
    """The (third token, last token) pairs a path of the route has, or None when not fixed."""
    if len(route.segments) < 3:
        return None
    thirds, lasts = _spellings(route.segments[2]), _spellings(route.segments[-1])
    if thirds is None or lasts is None:
        return None
    return {(third, last) for third in thirds for last in lasts}


@functools.cache
def _table() -> _Table:
    drafts: dict[tuple[str, Operation], _Draft] = {}
    for version in _VERSION_ORDER:
        schema = load_schema(version)
        built = [_from_pattern(schema, p) for p in schema.routes] + [
            _from_carrier(schema, c) for c in schema.inline_carriers
        ]
        for route in built:
            draft = drafts.setdefault((route.template, route.operation), _Draft(route, set()))
            if draft.route.name != route.name:  # cannot happen: the name is a function of the template
                raise GraphSchemaError(f"route {route.template} named {draft.route.name} and {route.name}")
            draft.versions.add(version)
    routes = tuple(replace(d.route, versions=frozenset(d.versions)) for d in drafts.values())
    index: dict[str, dict[tuple[str, str], list[tuple[Route, _Plan | None]]]] = {v: {} for v in _VERSION_ORDER}
    unindexed: dict[str, list[tuple[Route, _Plan | None]]] = {v: [] for v in _VERSION_ORDER}
    names: dict[tuple[str, str], str] = {}
    for route in routes:
        keys = _index_keys(route)
        entry = (route, _plan(route))
        for version in route.versions:
            clash = names.setdefault((version, route.name), route.template)
            if clash != route.template:
                raise GraphSchemaError(f"{version}: routes {clash} and {route.template} share the name {route.name}")
            if keys is None:
                unindexed[version].append(entry)
            for key in keys or ():
                index[version].setdefault(key, []).append(entry)
    actions = {
        spelling
        for route in routes
        for segment in route.segments
        if isinstance(segment, ActionSegment) and route.operation in _COLLECTION_OPERATIONS
        for spelling in (segment.short_name.lower(), segment.name.lower())
    }
    return _Table(
        routes=routes,
        collection_actions=frozenset(actions),
        index={v: {k: tuple(rs) for k, rs in by_key.items()} for v, by_key in index.items()},
        unindexed={v: tuple(rs) for v, rs in unindexed.items()},
    )


def all_routes() -> tuple[Route, ...]:
    """Every route of every API version, collections first, in the metadata's order."""
    return _table().routes


def routes_for(api_version: str) -> tuple[Route, ...]:
    """The routes of one API version ("v1.0" or "beta")."""
    return tuple(r for r in all_routes() if api_version in r.versions)


# Names graphtape's hand-written route table used before its routes were generated, as older
# cassettes store them (meta.route), and the generated route each one was.
LEGACY_ROUTE_NAMES: dict[str, str] = {
    "user-message": "users-messages-attachments",
    "user-message-event": "users-messages-event-attachments",
    "group-post": "groups-conversations-threads-posts-attachments",
    "outlook-taskgroup-task": "users-outlook-taskgroups-taskfolders-tasks-attachments",
    "mailfolder-message": "users-mailfolders-messages-attachments",
    "mailfolder-childfolder-message": "users-mailfolders-messages-attachments",
    "mailfolder-nested-childfolder-message": "users-mailfolders-messages-attachments",
    "user-event": "users-events-attachments",
    "user-calendar-event": "users-calendar-events-attachments",
    "user-calendars-event": "users-calendars-events-attachments",
    "user-calendargroup-calendar-event": "users-calendargroups-calendars-events-attachments",
    "group-event": "groups-events-attachments",
    "group-calendar-event": "groups-calendar-events-attachments",
    "group-thread-post": "groups-threads-posts-attachments",
    "todo-task": "users-todo-lists-tasks-attachments",
    "outlook-task": "users-outlook-tasks-attachments",
    "user-message-upload-session": "users-messages-attachments-createuploadsession",
    "user-event-upload-session": "users-events-attachments-createuploadsession",
    "todo-task-upload-session": "users-todo-lists-tasks-attachments-createuploadsession",
}


def route_by_name(name: str, api_version: str | None = None) -> Route | None:
    """The route a name (today's, or a legacy one from an older cassette) stands for.

    With ``api_version`` the route of that version; without, v1.0's when it has one.
    """
    current = LEGACY_ROUTE_NAMES.get(name, name)
    candidates = [r for r in all_routes() if r.name == current]
    if api_version is not None:
        candidates = [r for r in candidates if api_version in r.versions]
    candidates.sort(key=lambda r: "v1.0" not in r.versions)
    return candidates[0] if candidates else None


# --- matching -----------------------------------------------------------------------------


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


_ME_USER = PathToken("me", is_key=True)


class _Parsed(NamedTuple):
    version: str
    bare: str
    tokens: tuple[PathToken, ...]  # /me already rewritten as users + key
    via_me: bool


_USERS = PathToken("users")


def _parse(path: str) -> _Parsed | None:
    """The version and tokens of a request path (what split_api_version reads, in one pass)."""
    bare = path.split("?", 1)[0].split("#", 1)[0] if ("?" in path or "#" in path) else path
    if "://" in bare:
        rest = bare.split("://", 1)[1]
        bare = "/" + rest.split("/", 1)[1] if "/" in rest else "/"
    head, _, below = bare.lstrip("/").partition("/")
    version = head.lower()
    if version not in API_VERSIONS:
        return None
    tokens = split_path(below)
    if tokens is None:
        return None
    via_me = bool(tokens) and not tokens[0].is_key and tokens[0].text.lower() == "me"
    if via_me:
        tokens = (_USERS, _ME_USER, *tokens[1:])
    return _Parsed(version, bare, tokens, via_me)


def _candidates(version: str, tokens: tuple[PathToken, ...]) -> tuple[tuple[Route, _Plan | None], ...]:
    table = _table()
    if len(tokens) >= 3 and not tokens[2].is_key and not tokens[-1].is_key:
        found = table.index[version].get((tokens[2].text.lower(), tokens[-1].text.lower()), ())
        return found + table.unindexed[version] if table.unindexed[version] else found
    return table.unindexed[version]


def _match(
    parsed: _Parsed, tokens: tuple[PathToken, ...], operations: frozenset[Operation], bare: str
) -> RouteMatch | None:
    """The first route of ``operations`` that ``tokens`` fit, with ids and steps read off the match."""
    for route, plan in _candidates(parsed.version, tokens):
        if route.operation not in operations:
            continue
        if plan is not None:
            planned = _planned_match(plan, route, parsed, tokens, bare)
            if planned is not None:
                return planned
            continue
        trace = match_trace(route.segments, tokens)
        if trace is None:
            continue
        params: dict[str, str] = {}
        keys: list[tuple[str, str]] = []
        steps: list[tuple[str, str | None]] = []
        taken: list[str] = []
        for position, (segment, token) in enumerate(trace):
            if isinstance(segment, KeySegment):
                name = _numbered(f"{_short(segment.entity_type)}-id", taken)
                taken.append(name)
                me = parsed.via_me and position == 1
                if not me:
                    params[name] = token.text
                    keys.append((segment.entity_type, token.text))
                if steps:
                    steps[-1] = (steps[-1][0], None if me else token.text)
            elif isinstance(segment, LiteralSegment):
                steps.append((segment.name, None))
            elif isinstance(segment, ActionSegment):
                steps.append((segment.short_name, None))
        return RouteMatch(route, parsed.version, bare, params, parsed.via_me, tuple(keys), tuple(steps))
    return None


_INLINE_OPERATIONS = frozenset({Operation.INLINE_ACTION, Operation.INLINE_CREATE})
_ALL_OPERATIONS = _COLLECTION_OPERATIONS | _INLINE_OPERATIONS


def match_path(path: str) -> RouteMatch | None:
    """Match a path (query ignored) to an attachments collection route (``CREATE`` or
    ``CREATE_UPLOAD_SESSION``), whatever the HTTP method."""
    parsed = _parse(path)
    return _match(parsed, parsed.tokens, _COLLECTION_OPERATIONS, parsed.bare) if parsed else None


def match_inline(path: str) -> RouteMatch | None:
    """Match a path to a route that carries attachments inline (``INLINE_ACTION``/``INLINE_CREATE``)."""
    parsed = _parse(path)
    return _match(parsed, parsed.tokens, _INLINE_OPERATIONS, parsed.bare) if parsed else None


def match_route(method: str, path: str) -> RouteMatch | None:
    """Match an attachment-creating call: a POST to an attachments collection, its
    createUploadSession, or a call that carries attachments inline."""
    if method.upper() != "POST":
        return None
    parsed = _parse(path)
    return _match(parsed, parsed.tokens, _ALL_OPERATIONS, parsed.bare) if parsed else None


_CREATE_ONLY = frozenset({Operation.CREATE})


def match_attachment_item(path: str) -> tuple[RouteMatch, str] | None:
    """Match ``<attachments collection>/{attachment-id}`` (either key form): (collection match, decoded id)."""
    parsed = _parse(path)
    if parsed is None or len(parsed.tokens) < 2:
        return None
    last = parsed.tokens[-1]
    if not last.text or (not last.is_key and last.text.startswith("$")):
        return None
    bare = parsed.bare.rstrip("/")
    head, _, raw_last = bare.rpartition("/")
    # In key syntax (attachments('x')) the collection's name shares the last raw segment.
    collection_path = f"{head}/{raw_last.split('(', 1)[0]}" if last.is_key else head
    if not last.is_key and last.text.lower() in _table().collection_actions:
        return None  # createUploadSession is an action, not an attachment id
    found = _match(parsed, parsed.tokens[:-1], _CREATE_ONLY, collection_path)
    return (found, last.text) if found is not None else None


def is_attachment_route(path: str) -> bool:
    """True for an attachments collection route or one attachment in it, any method."""
    return match_path(path) is not None or match_attachment_item(path) is not None


def unmatched_segment(path: str) -> str | None:
    """The first path segment no attachments route accepts (decoded), as Graph names it in
    its "Resource not found for the segment" error; None when the path is a route prefix or
    a full route. The version segment is returned when it is not v1.0 or beta."""
    version, _, segments = split_api_version(path)
    if version is None:
        return unquote(segments[0]) if segments else ""
    parsed = _parse(path)
    if parsed is None:
        return ""  # an empty segment inside the path
    tokens = parsed.tokens
    routes = [r for r in routes_for(version) if r.operation in _COLLECTION_OPERATIONS]
    reached = max((prefix_length(r.segments, tokens) for r in routes), default=0)
    if reached == len(tokens):
        return None
    collection = _match(parsed, tokens[:reached], _CREATE_ONLY, parsed.bare)
    if collection is not None:
        # The segment is an attachment id, which Graph resolves: the next one is unknown.
        reached += 1
        if reached == len(tokens):
            return None
    return tokens[reached].text


def route_segments(match: RouteMatch) -> list[tuple[str, str | None]]:
    """The matched path as (canonical segment name, decoded id or None) pairs.

    ``users/{user-id}/messages/{message-id}/attachments`` gives
    ``[("users", uid), ("messages", mid), ("attachments", None)]``; for a ``/me`` path
    the user id is None (the caller knows who "me" is). Repeated levels (nested
    childFolders, inReplyTo) appear in path order; type casts are left out (they do not
    change which entity is addressed). Used to build OData context URLs.
    """
    if match.steps:
        return list(match.steps)
    again = match_route("POST", f"/{match.api_version}{_after_version(match.path)}") or match_path(
        f"/{match.api_version}{_after_version(match.path)}"
    )
    return list(again.steps) if again is not None else []


def _after_version(path: str) -> str:
    _, _, segments = split_api_version(path)
    return "/" + "/".join(segments)
