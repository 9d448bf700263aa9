"""URL path segments: the pieces a route pattern is made of, and matching a request path.

A pattern is a sequence of segments; a :class:`Repeat` makes it a regular expression
over path segments (``mailFolders/{id}(/childFolders/{id})*/messages``). A request
path is split into :class:`PathToken` s first, which accepts both key forms Graph
takes: path-segment keys (``/messages/AAMk%3D``) and OData key syntax
(``/messages('AAMk=')``, ``/users('a%40b.com')``, ``/users(id='u')``). Segment names
match case-insensitively, as Graph's URL parser does (``/Me/Messages``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple
from urllib.parse import unquote

__all__ = [
    "ActionSegment",
    "CastSegment",
    "KeySegment",
    "LiteralSegment",
    "PathToken",
    "RepeatSegment",
    "Segment",
    "match_segments",
    "split_path",
]


@dataclass(frozen=True)
class LiteralSegment:
    """A fixed segment: an entity set, a singleton or a navigation property."""

    name: str


@dataclass(frozen=True)
class KeySegment:
    """The key of an entity of ``entity_type`` (qualified name)."""

    entity_type: str


@dataclass(frozen=True)
class CastSegment:
    """A type cast to ``type``; an optional one may be left out of the URL."""

    type: str
    optional: bool


@dataclass(frozen=True)
class ActionSegment:
    """A bound action, written with or without its namespace."""

    name: str  # qualified: "microsoft.graph.createUploadSession"

    @property
    def short_name(self) -> str:
        return self.name.rsplit(".", 1)[-1]


@dataclass(frozen=True)
class RepeatSegment:
    """Zero or more repetitions, each one of ``alternatives``."""

    alternatives: tuple[tuple[Segment, ...], ...]


Segment = LiteralSegment | KeySegment | CastSegment | ActionSegment | RepeatSegment


class PathToken(NamedTuple):
    """One piece of a request path, percent-decoded; ``is_key`` when it came from OData
    key syntax (``messages('id')`` gives ``messages`` then the key ``id``)."""

    text: str
    is_key: bool = False


# name('value'), name(value), name(id='value'); the key may hold ')' inside its quotes.
_KEY_FORM = re.compile(r"^(?P<name>[^()]+)\((?:[A-Za-z_][\w]*=)?(?P<key>'(?:[^']|'')*'|[^()']*)\)$")


def _split_raw(path: str) -> list[str]:
    """Split on '/' except inside single quotes (a quoted OData key may hold a raw '/')."""
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    for char in path:
        if char == "'":
            quoted = not quoted
        if char == "/" and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def split_path(path: str) -> tuple[PathToken, ...] | None:
    """Tokens of a path below the API version (``users/u/messages('m')/attachments``).

    Returns None for a path with an empty segment inside it (``a//b``); one trailing
    slash is accepted. The query string and fragment must already be removed.
    """
    raw_segments = _split_raw(path.strip("/")) if path.strip("/") else []
    tokens: list[PathToken] = []
    for raw in raw_segments:
        if not raw:
            return None
        match = _KEY_FORM.match(raw)
        if match is None:
            tokens.append(PathToken(unquote(raw)))
            continue
        key = match.group("key")
        if key.startswith("'"):
            key = key[1:-1].replace("''", "'")
        tokens.append(PathToken(unquote(match.group("name"))))
        tokens.append(PathToken(unquote(key), is_key=True))
    return tuple(tokens)


def match_segments(segments: Sequence[Segment], tokens: Sequence[PathToken]) -> list[tuple[str, str]] | None:
    """Match ``tokens`` against a whole pattern; returns the keys as (entity type, value)
    in path order, or None when the path does not fit the pattern."""
    keys: list[tuple[str, str]] = []
    if _match(tuple(segments), 0, tokens, 0, keys):
        return keys
    return None


def _match(
    segments: tuple[Segment, ...],
    at: int,
    tokens: Sequence[PathToken],
    position: int,
    keys: list[tuple[str, str]],
) -> bool:
    """Backtracking match of segments[at:] against tokens[position:]; fills ``keys``."""
    if at == len(segments):
        return position == len(tokens)
    segment = segments[at]
    if isinstance(segment, RepeatSegment):
        mark = len(keys)
        if _match(segments, at + 1, tokens, position, keys):
            return True
        del keys[mark:]
        for alternative in segment.alternatives:
            # One more repetition, then the repeat again; an alternative that consumed
            # nothing cannot loop forever because every alternative holds a literal.
            if _match(alternative + segments[at:], 0, tokens, position, keys):
                return True
            del keys[mark:]
        return False
    if isinstance(segment, CastSegment) and segment.optional:
        mark = len(keys)
        if _match(segments, at + 1, tokens, position, keys):
            return True
        del keys[mark:]
    if position == len(tokens):
        return False
    token = tokens[position]
    if isinstance(segment, KeySegment):
        if not token.text:
            return False
        keys.append((segment.entity_type, token.text))
        if _match(segments, at + 1, tokens, position + 1, keys):
            return True
        keys.pop()
        return False
    if token.is_key:
        return False
    text = token.text.lower()
    if isinstance(segment, LiteralSegment):
        fits = text == segment.name.lower()
    elif isinstance(segment, CastSegment):
        fits = text == segment.type.lower()
    else:
        fits = text in (segment.name.lower(), segment.short_name.lower())
    return fits and _match(segments, at + 1, tokens, position + 1, keys)
