"""Derive URL patterns from a CSDL document by walking its containment navigation.

A URL below ``/users/{id}``, ``/me`` or ``/groups/{id}`` walks navigation properties:
``messages`` then a key, ``mailFolders`` then a key then ``childFolders`` then a key...
This module turns the navigation graph of a :class:`~.csdl.Csdl` into *patterns*:
segment sequences in which a ``Repeat`` stands for a part the URL may repeat any
number of times, so a pattern is a regular expression over path segments.

What the walk follows, and why:

- containment navigation only (``ContainsTarget="true"``): that is what makes a URL
  path address an entity; Graph's group post ``inReplyTo`` and an eventMessage's
  ``event`` are containment in Microsoft's files, so they are followed;
- not a navigation property annotated ``Navigability=None``, and never a key after a
  collection annotated ``IndexableByKey=false`` (``calendarView``, v1.0 ``instances``):
  Graph cannot address those items, and neither SDK generates such paths;
- navigation declared on a derived type through a type-cast segment
  (``messages/{id}/microsoft.graph.eventMessage/event``); the cast is marked optional
  because Graph's own documentation addresses the same navigation without it
  (``/users/{id}/messages/{id}/event/attachments``);
- no fixed depth. A walk that comes back to a type it has already passed
  (``mailFolder`` -> ``childFolders`` -> ``mailFolder``; ``post`` -> ``inReplyTo``;
  beta ``event`` -> ``calendar`` -> ``events``) becomes a ``Repeat`` of the segments
  between the two visits, so nested folders match at any depth, as Graph accepts them
  (the SDKs stop at one ``childFolders`` level; Exchange allows hundreds). The walk
  itself never enters a type twice on one path, so it ends after at most as many steps
  as there are entity types, and it yields the exact set of walks the metadata allows
  (each cycle becomes a ``Repeat`` at the first type it returns to; cycles inside
  cycles nest).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from graphtape.addons.graph.metadata.csdl import Csdl, NavigationProperty

__all__ = [
    "Action",
    "Cast",
    "Edge",
    "Key",
    "Literal",
    "Navigator",
    "Pattern",
    "Repeat",
    "Segment",
    "Tail",
    "render_template",
]


@dataclass(frozen=True)
class Literal:
    """A fixed path segment: an entity set, singleton or navigation property name."""

    name: str
    # The navigation property walked (None for a root): where deprecations come from.
    navigation: NavigationProperty | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Key:
    """An entity's key: ``/messages/{id}`` or, in OData key form, ``/messages('id')``."""

    entity_type: str


@dataclass(frozen=True)
class Cast:
    """A type-cast segment (``microsoft.graph.eventMessage``); ``optional`` when Graph
    resolves the derived type's navigation without it."""

    type: str
    optional: bool


@dataclass(frozen=True)
class Action:
    """A bound action's segment; Graph accepts it with or without its namespace."""

    name: str  # qualified


@dataclass(frozen=True)
class Repeat:
    """Zero or more repetitions, each one of ``alternatives``."""

    alternatives: tuple[tuple[Segment, ...], ...]


Segment = Literal | Key | Cast | Action | Repeat
Pattern = tuple[Segment, ...]


@dataclass(frozen=True)
class Edge:
    """One step from an addressable entity of ``source`` type to one of ``target`` type."""

    source: str
    segments: tuple[Segment, ...]
    target: str
    navigation: NavigationProperty


@dataclass(frozen=True)
class Tail:
    """How a walk may end at an entity: the last segments and what they lead to."""

    segments: tuple[Segment, ...]
    info: object  # whatever the caller needs to describe the end (owner type, action...)


Finisher = Callable[[str], Sequence[Tail]]


class Navigator:
    """The containment navigation graph of one document, walked from its roots.

    ``end_types``: types whose entities a walk never goes below (the attachment bases:
    an itemAttachment's ``item`` is the attachment's embedded copy, not a mailbox item a
    client adds attachments to). Entity types that the entity container serves on their
    own (``users``, ``groups``, ``directoryObjects``...), their base types and their
    subtypes are never entered by containment either: OData addresses such an entity
    from its entity set, and the few navigation properties that reach one
    (beta ``user/joinedGroups``, ``group/acceptedSenders``) would otherwise loop a
    mailbox walk through the whole directory.
    """

    def __init__(self, csdl: Csdl, end_types: frozenset[str] = frozenset()) -> None:
        self.csdl = csdl
        self.end_types = end_types
        self._edges: dict[str, list[Edge]] = {}
        self._container_types = frozenset(
            name for name in (*csdl.entity_sets.values(), *csdl.singletons.values()) if name in csdl.structured
        )
        self._served: dict[str, bool] = {}

    def served_by_container(self, type_name: str) -> bool:
        """True when ``type_name`` is related (base or subtype) to an entity set's or singleton's type."""
        cached = self._served.get(type_name)
        if cached is None:
            cached = any(
                self.csdl.is_a(type_name, served) or self.csdl.is_a(served, type_name)
                for served in self._container_types
            )
            self._served[type_name] = cached
        return cached

    def is_end(self, type_name: str) -> bool:
        return any(self.csdl.is_a(type_name, end) for end in self.end_types)

    # The graph ---------------------------------------------------------------------

    def navigations_at(self, type_name: str) -> list[tuple[tuple[Segment, ...], NavigationProperty]]:
        """Navigation properties usable from an entity of ``type_name``, with the cast
        segment a derived type's property needs (own and inherited ones need none)."""
        found: list[tuple[tuple[Segment, ...], NavigationProperty]] = [
            ((), nav) for nav in self.csdl.all_navigation(type_name)
        ]
        for derived in self.csdl.subtypes(type_name):
            cast: tuple[Segment, ...] = (Cast(derived, optional=True),)
            found.extend((cast, nav) for nav in self.csdl.structured[derived].navigation)
        return found

    def edges(self, type_name: str) -> list[Edge]:
        """Steps a URL can take from an addressable entity of ``type_name``."""
        cached = self._edges.get(type_name)
        if cached is not None:
            return cached
        edges: list[Edge] = []
        if self.is_end(type_name):
            self._edges[type_name] = edges
            return edges
        for cast, nav in self.navigations_at(type_name):
            if not nav.containment or not nav.navigable:
                continue
            target = nav.type.name
            if target not in self.csdl.structured or self.csdl.structured[target].kind != "entity":
                continue
            if self.served_by_container(target):
                continue
            if nav.type.collection:
                if not nav.indexable_by_key:
                    continue
                segments: tuple[Segment, ...] = (*cast, Literal(nav.name, nav), Key(target))
            else:
                segments = (*cast, Literal(nav.name, nav))
            edges.append(Edge(type_name, segments, target, nav))
        self._edges[type_name] = edges
        return edges

    def relevant_types(self, finish: Finisher) -> frozenset[str]:
        """Entity types from which some walk reaches an entity that ``finish`` ends at."""
        entity_types = [name for name, info in self.csdl.structured.items() if info.kind == "entity"]
        reverse: dict[str, set[str]] = {}
        for name in entity_types:
            for edge in self.edges(name):
                reverse.setdefault(edge.target, set()).add(name)
        pending = [name for name in entity_types if finish(name)]
        seen = set(pending)
        while pending:
            current = pending.pop()
            for source in reverse.get(current, ()):
                if source not in seen:
                    seen.add(source)
                    pending.append(source)
        return frozenset(seen)

    # Walking -------------------------------------------------------------------------

    def walk(self, root_type: str, finish: Finisher) -> list[tuple[Pattern, object]]:
        """Every pattern from an entity of ``root_type`` to an end ``finish`` offers.

        Returns (segments after the root, the end's info), in a stable order.
        """
        relevant = self.relevant_types(finish)
        if root_type not in relevant:
            return []
        return _Walk(self, relevant, finish).from_type(root_type, frozenset())


class _Walk:
    def __init__(self, navigator: Navigator, relevant: frozenset[str], finish: Finisher) -> None:
        self.navigator = navigator
        self.relevant = relevant
        self.finish = finish

    def _edges(self, type_name: str) -> list[Edge]:
        return [edge for edge in self.navigator.edges(type_name) if edge.target in self.relevant]

    def from_type(self, type_name: str, avoid: frozenset[str]) -> list[tuple[Pattern, object]]:
        """Walks from ``type_name`` to an end, never entering a type in ``avoid``."""
        prefix = self._loops(type_name, avoid)
        results: list[tuple[Pattern, object]] = [
            ((*prefix, *tail.segments), tail.info) for tail in self.finish(type_name)
        ]
        inner_avoid = avoid | {type_name}
        for edge in self._edges(type_name):
            if edge.target in inner_avoid:
                continue
            for rest, info in self.from_type(edge.target, inner_avoid):
                results.append(((*prefix, *edge.segments, *rest), info))
        return results

    def _loops(self, type_name: str, avoid: frozenset[str]) -> tuple[Segment, ...]:
        """A Repeat of every first return to ``type_name`` that avoids ``avoid``, or nothing."""
        alternatives: list[tuple[Segment, ...]] = []
        inner_avoid = avoid | {type_name}
        for edge in self._edges(type_name):
            if edge.target == type_name:
                alternatives.append(edge.segments)
            elif edge.target not in inner_avoid:
                for rest in self._back_to(edge.target, type_name, inner_avoid):
                    alternatives.append((*edge.segments, *rest))
        return (Repeat(tuple(alternatives)),) if alternatives else ()

    def _back_to(self, type_name: str, goal: str, avoid: frozenset[str]) -> list[Pattern]:
        """Walks from ``type_name`` that end on entering ``goal`` (which is in ``avoid``)."""
        prefix = self._loops(type_name, avoid)
        results: list[Pattern] = []
        inner_avoid = avoid | {type_name}
        for edge in self._edges(type_name):
            if edge.target == goal:
                results.append((*prefix, *edge.segments))
            elif edge.target not in inner_avoid:
                for rest in self._back_to(edge.target, goal, inner_avoid):
                    results.append((*prefix, *edge.segments, *rest))
        return results


def _short(name: str) -> str:
    return name.rsplit(".", 1)[-1]


def render_template(segments: Sequence[Segment]) -> str:
    """A readable template: ``/users/{user-id}/mailFolders/{mailFolder-id}(/childFolders/{mailFolder-id})*``.

    Optional casts are shown as ``[/microsoft.graph.eventMessage]``, repeats as
    ``(...)*`` with alternatives separated by ``|``.
    """
    parts: list[str] = []
    for segment in segments:
        if isinstance(segment, Literal):
            parts.append(f"/{segment.name}")
        elif isinstance(segment, Key):
            parts.append(f"/{{{_short(segment.entity_type)}-id}}")
        elif isinstance(segment, Cast):
            parts.append(f"[/{segment.type}]" if segment.optional else f"/{segment.type}")
        elif isinstance(segment, Action):
            parts.append(f"/{_short(segment.name)}")
        else:
            inner = "|".join(render_template(alternative) for alternative in segment.alternatives)
            parts.append(f"({inner})*")
    return "".join(parts)
