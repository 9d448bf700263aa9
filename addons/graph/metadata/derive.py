"""Turn one CSDL document into graphtape's data for one API version (a JSON-ready dict).

Three parts, each kept to what attachment traffic needs:

``types``
    The attachment types (``attachment``, ``attachmentBase`` and their subtypes), the
    upload-session shapes (``attachmentItem``, ``attachmentInfo``, ``uploadSession``),
    every ``outlookItem`` an itemAttachment's ``item`` can hold, the types that own an
    attachments collection or carry attachments in a request body, and the parameter
    and return types of the actions involved; then, transitively, the types their
    properties and containment navigation properties name, with base types and
    subtypes (a subtype can stand wherever its base is declared, with ``@odata.type``).
    Types the entity container serves on their own (users, groups, directory objects)
    are referenced by name only: a mailbox item never embeds them.
``routes``
    Every URL pattern that POSTs to an attachments collection (``create``) or calls the
    ``createUploadSession`` action bound to one, from ``/users/{id}``, ``/me`` and
    ``/groups/{id}`` (see :mod:`.navigation` for the walk).
``inline_carriers``
    Requests that carry attachments inside another body: bound actions with a
    parameter of an attachment-owning type (``sendMail``'s ``Message``, a group post's
    ``reply`` with ``Post``...), and POSTs creating an entity that owns attachments
    (``$.attachments``) or holds such entities in a collection that cannot be created
    on its own (a thread's ``posts``: ``$.posts[*].attachments``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from graphtape.addons.graph.metadata.csdl import (
    Action,
    Csdl,
    EnumType,
    NavigationProperty,
    Property,
    Revision,
    StructuredType,
    TypeRef,
)
from graphtape.addons.graph.metadata.errors import GraphMetadataError
from graphtape.addons.graph.metadata.navigation import Action as ActionSegment
from graphtape.addons.graph.metadata.navigation import (
    Cast,
    Key,
    Literal,
    Navigator,
    Repeat,
    Segment,
    Tail,
    render_template,
)

__all__ = ["ATTACHMENT_BASES", "FORMAT_VERSION", "derive"]

FORMAT_VERSION = 1
NAMESPACE = "microsoft.graph"
ATTACHMENT_BASES = (f"{NAMESPACE}.attachment", f"{NAMESPACE}.attachmentBase")
UPLOAD_SESSION_ACTION = f"{NAMESPACE}.createUploadSession"
# Shapes the upload-session protocol and itemAttachment need, whatever routes say.
_SEED_TYPES = (
    *ATTACHMENT_BASES,
    f"{NAMESPACE}.attachmentItem",
    f"{NAMESPACE}.attachmentInfo",
    f"{NAMESPACE}.uploadSession",
    f"{NAMESPACE}.outlookItem",
)
# Where walks start: the entity container's members that serve mailboxes and groups.
_ROOTS = ("users", "me", "groups")


@dataclass(frozen=True)
class _Root:
    """A walk's start: ``/users/{id}`` (an entity set and a key), ``/me`` (a singleton)..."""

    segments: tuple[Segment, ...]
    type: str


def derive(csdl: Csdl, api_version: str, source: dict[str, Any]) -> dict[str, Any]:
    """The data file's content for ``csdl``, which serves ``api_version``."""
    for name in _SEED_TYPES:
        csdl.type(name, referenced_by="graphtape's list of attachment types")
    navigator = Navigator(csdl, frozenset(ATTACHMENT_BASES))
    roots = _roots(csdl)
    routes = _routes(csdl, navigator, roots)
    carriers = _carriers(csdl, navigator, roots)
    actions = _actions_used(csdl, carriers)

    seeds: list[str] = list(_SEED_TYPES)
    seeds += [route["parent_type"] for route in routes]
    for carrier in carriers:
        seeds += [entry["parent_type"] for entry in carrier["attachments"]]
        if "body_type" in carrier:
            seeds.append(carrier["body_type"])
    for action in actions:
        seeds += [p.type.name for p in action.parameters]
        if action.returns is not None:
            seeds.append(action.returns.name)
    types = _TypeSelection(csdl, navigator).select(seeds)

    deprecations: dict[str, dict[str, str]] = {}
    for route in (*routes, *carriers):
        for target, revision in route.pop("_deprecations"):
            deprecations[target] = _revision_json(revision)

    return {
        "format": FORMAT_VERSION,
        "api_version": api_version,
        "source": source,
        "types": {name: _type_json(info) for name, info in types.items()},
        "actions": [_action_json(action) for action in actions],
        "routes": routes,
        "inline_carriers": carriers,
        "deprecations": deprecations,
    }


# --- roots and routes -------------------------------------------------------------


def _roots(csdl: Csdl) -> list[_Root]:
    roots: list[_Root] = []
    for name in _ROOTS:
        if name in csdl.entity_sets:
            entity_type = csdl.entity_sets[name]
            roots.append(_Root((Literal(name), Key(entity_type)), entity_type))
        elif name in csdl.singletons:
            roots.append(_Root((Literal(name),), csdl.singletons[name]))
    if not roots:
        raise GraphMetadataError(csdl.path, "EntityContainer", f"none of {', '.join(_ROOTS)} is defined")
    return roots


def _attachment_collections(
    navigator: Navigator, type_name: str
) -> list[tuple[tuple[Segment, ...], NavigationProperty]]:
    """Containment collections of attachments reachable from an entity of ``type_name``."""
    found: list[tuple[tuple[Segment, ...], NavigationProperty]] = []
    for cast, nav in navigator.navigations_at(type_name):
        if nav.containment and nav.navigable and nav.type.collection and navigator.is_end(nav.type.name):
            found.append((cast, nav))
    return found


def _routes(csdl: Csdl, navigator: Navigator, roots: Sequence[_Root]) -> list[dict[str, Any]]:
    upload_actions = [
        action for action in csdl.actions if action.name == UPLOAD_SESSION_ACTION and action.binding.type.collection
    ]

    def finish(type_name: str) -> list[Tail]:
        return [
            Tail((*cast, Literal(nav.name, nav)), nav) for cast, nav in _attachment_collections(navigator, type_name)
        ]

    routes: list[dict[str, Any]] = []
    for root in roots:
        for pattern, info in navigator.walk(root.type, finish):
            assert isinstance(info, NavigationProperty)
            segments = (*root.segments, *pattern)
            common = {"element_type": info.type.name, "parent_type": info.owner}
            if info.insertable:
                routes.append(_route_json(segments, "create", common))
            for action in upload_actions:
                if csdl.is_a(info.type.name, action.binding.type.name):
                    routes.append(_route_json((*segments, ActionSegment(action.name)), "createUploadSession", common))
    routes.sort(key=lambda r: (r["template"], r["operation"]))
    return routes


def _route_json(segments: Sequence[Segment], operation: str, common: dict[str, str]) -> dict[str, Any]:
    deprecations = _deprecations(segments)
    return {
        "operation": operation,
        "template": render_template(segments),
        "segments": [_segment_json(s) for s in segments],
        **common,
        "deprecated": sorted({target for target, _ in deprecations}),
        "_deprecations": deprecations,
    }


def _deprecations(segments: Iterable[Segment]) -> list[tuple[str, Revision]]:
    """Deprecated navigation properties a URL must walk (not those inside a Repeat)."""
    found: list[tuple[str, Revision]] = []
    for segment in segments:
        if isinstance(segment, Literal) and segment.navigation is not None:
            nav = segment.navigation
            if nav.deprecation is not None:
                found.append((f"{nav.owner}/{nav.name}", nav.deprecation))
    return found


def _segment_json(segment: Segment) -> Any:
    if isinstance(segment, Literal):
        return segment.name
    if isinstance(segment, Key):
        return {"key": segment.entity_type}
    if isinstance(segment, Cast):
        return {"cast": segment.type, "optional": segment.optional}
    if isinstance(segment, ActionSegment):
        return {"action": segment.name}
    assert isinstance(segment, Repeat)
    return {"repeat": [[_segment_json(s) for s in alternative] for alternative in segment.alternatives]}


def _revision_json(revision: Revision) -> dict[str, str]:
    fields = {
        "date": revision.date,
        "removal_date": revision.removal_date,
        "description": revision.description,
        "version": revision.version,
    }
    return {key: value for key, value in fields.items() if value is not None}


# --- inline carriers ----------------------------------------------------------------


@dataclass(frozen=True)
class _AttachmentPath:
    path: str
    element_type: str
    parent_type: str

    def json(self) -> dict[str, str]:
        return {"path": self.path, "element_type": self.element_type, "parent_type": self.parent_type}


def _attachment_paths(
    navigator: Navigator,
    type_name: str,
    prefix: str,
    via: NavigationProperty | None = None,
    visited: frozenset[str] = frozenset(),
) -> list[_AttachmentPath]:
    """Where attachments may sit in a JSON body of ``type_name`` rooted at ``prefix``.

    The body's own ``attachments``; and, through containment collections, those of
    entities that cannot be created on their own (``Insertable=false``, such as a
    conversation thread's ``posts``), since a body is the only way to send them.
    """
    csdl = navigator.csdl
    found: list[_AttachmentPath] = []
    if via is None or not via.insertable:
        for cast, nav in _attachment_collections(navigator, type_name):
            if not cast:
                found.append(_AttachmentPath(f"{prefix}.{nav.name}", nav.type.name, nav.owner))
    inner = visited | {type_name}
    for nav in csdl.all_navigation(type_name):
        target = nav.type.name
        if not (nav.containment and nav.navigable and nav.type.collection and nav.indexable_by_key):
            continue
        if target in inner or target not in csdl.structured or navigator.is_end(target):
            continue
        if navigator.served_by_container(target):
            continue
        found.extend(_attachment_paths(navigator, target, f"{prefix}.{nav.name}[*]", nav, inner))
    return found


def _carriers(csdl: Csdl, navigator: Navigator, roots: Sequence[_Root]) -> list[dict[str, Any]]:
    carriers: list[dict[str, Any]] = []

    # Bound actions whose parameters carry attachment owners.
    for action in csdl.actions:
        if action.binding.type.collection or action.binding.type.name not in csdl.structured:
            continue
        paths: list[_AttachmentPath] = []
        for parameter in action.parameters:
            if parameter.type.name in csdl.structured:
                marker = "[*]" if parameter.type.collection else ""
                paths += _attachment_paths(navigator, parameter.type.name, f"$.{parameter.name}{marker}")
        if not paths:
            continue
        binding = action.binding.type.name
        segment = ActionSegment(action.name)

        def at_binding(type_name: str, binding: str = binding, segment: ActionSegment = segment) -> list[Tail]:
            return [Tail((segment,), None)] if csdl.is_a(type_name, binding) else []

        for root in roots:
            for pattern, _ in navigator.walk(root.type, at_binding):
                carriers.append(
                    _carrier_json("action", (*root.segments, *pattern), paths, action=action.name, binding=binding)
                )

    # POSTs creating an entity that holds attachments.
    def creatable(type_name: str) -> list[Tail]:
        tails: list[Tail] = []
        for cast, nav in navigator.navigations_at(type_name):
            target = nav.type.name
            if cast or not (nav.containment and nav.navigable and nav.insertable and nav.type.collection):
                continue
            if target not in csdl.structured or navigator.is_end(target) or navigator.served_by_container(target):
                continue
            paths = _attachment_paths(navigator, target, "$")
            if paths:
                tails.append(Tail((Literal(nav.name, nav),), (target, paths)))
        return tails

    for root in roots:
        for pattern, info in navigator.walk(root.type, creatable):
            assert isinstance(info, tuple)
            body_type, paths = info
            carriers.append(_carrier_json("create", (*root.segments, *pattern), paths, body_type=body_type))

    carriers.sort(key=lambda c: (c["template"], c["kind"]))
    return carriers


def _carrier_json(
    kind: str,
    segments: Sequence[Segment],
    paths: Sequence[_AttachmentPath],
    *,
    action: str | None = None,
    binding: str | None = None,
    body_type: str | None = None,
) -> dict[str, Any]:
    deprecations = _deprecations(segments)
    carrier: dict[str, Any] = {
        "kind": kind,
        "template": render_template(segments),
        "segments": [_segment_json(s) for s in segments],
        "attachments": [p.json() for p in paths],
        "deprecated": sorted({target for target, _ in deprecations}),
        "_deprecations": deprecations,
    }
    if action is not None:
        carrier["action"] = action
        carrier["binding"] = binding
    if body_type is not None:
        carrier["body_type"] = body_type
    return carrier


def _actions_used(csdl: Csdl, carriers: Sequence[dict[str, Any]]) -> list[Action]:
    """createUploadSession on attachment collections, and every carrier's action."""
    carrier_actions = {(c["action"], c["binding"]) for c in carriers if c["kind"] == "action"}
    used = [
        action
        for action in csdl.actions
        if (
            action.name == UPLOAD_SESSION_ACTION
            and action.binding.type.collection
            and any(csdl.is_a(action.binding.type.name, base) for base in ATTACHMENT_BASES)
        )
        or (not action.binding.type.collection and (action.name, action.binding.type.name) in carrier_actions)
    ]
    return sorted(used, key=lambda a: (a.name, str(a.binding.type)))


def _action_json(action: Action) -> dict[str, Any]:
    return {
        "name": action.name,
        "binding": str(action.binding.type),
        "parameters": {p.name: _typed_json(p.type, p.nullable) for p in action.parameters},
        "returns": str(action.returns) if action.returns is not None else None,
    }


# --- types ---------------------------------------------------------------------------


class _TypeSelection:
    """The closure of types a validator needs, starting from ``seeds``."""

    def __init__(self, csdl: Csdl, navigator: Navigator) -> None:
        self.csdl = csdl
        self.navigator = navigator

    def select(self, seeds: Iterable[str]) -> dict[str, StructuredType | EnumType]:
        selected: dict[str, StructuredType | EnumType] = {}
        with_subtypes_done: set[str] = set()
        # (type name, whether its subtypes are wanted too): a base type that is only
        # someone's base does not bring in its other subtypes (every entity's base is
        # ``entity``), a type that a property or parameter names does.
        pending = [(name, True) for name in seeds]
        while pending:
            name, with_subtypes = pending.pop()
            if name.startswith("Edm."):
                continue
            if name in self.csdl.enums:
                selected[name] = self.csdl.enums[name]
                continue
            info = self.csdl.type(name, referenced_by="a selected type")
            if name not in selected:
                selected[name] = info
                if info.base is not None:
                    pending.append((info.base, False))
                pending += [(prop.type.name, True) for prop in info.properties]
                # What a body may embed: containment targets, but never an entity the
                # container serves on its own (a user, a group).
                pending += [
                    (nav.type.name, True)
                    for nav in info.navigation
                    if nav.containment
                    and nav.type.name in self.csdl.structured
                    and not self.navigator.served_by_container(nav.type.name)
                ]
            if with_subtypes and name not in with_subtypes_done:
                with_subtypes_done.add(name)
                pending += [(sub, True) for sub in self.csdl.direct_subtypes(name)]
        return {name: selected[name] for name in sorted(selected)}


def _typed_json(type_ref: TypeRef, nullable: bool) -> dict[str, Any]:
    entry: dict[str, Any] = {"type": type_ref.name, "nullable": nullable}
    if type_ref.collection:
        entry["collection"] = True
    return entry


def _property_json(prop: Property) -> dict[str, Any]:
    entry = _typed_json(prop.type, prop.nullable)
    if prop.computed:
        entry["computed"] = True
    if prop.immutable:
        entry["immutable"] = True
    return entry


def _navigation_json(nav: NavigationProperty) -> dict[str, Any]:
    entry: dict[str, Any] = {"type": nav.type.name, "containment": nav.containment}
    if nav.type.collection:
        entry["collection"] = True
    else:
        entry["nullable"] = nav.nullable
    return entry


def _type_json(info: StructuredType | EnumType) -> dict[str, Any]:
    if isinstance(info, EnumType):
        return {
            "kind": "enum",
            "members": dict(info.members),
            "flags": info.flags,
        }
    entry: dict[str, Any] = {
        "kind": info.kind,
        "base": info.base,
        "abstract": info.abstract,
        "open": info.open,
        "properties": {p.name: _property_json(p) for p in info.properties},
    }
    if info.key:
        entry["key"] = list(info.key)
    if info.has_stream:
        entry["has_stream"] = True
    if info.navigation:
        entry["navigation"] = {n.name: _navigation_json(n) for n in info.navigation}
    return entry
