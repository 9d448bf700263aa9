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
    "match_trace",
    "prefix_length",
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
    """Split on '/' except inside a quoted OData key (``messages('a/b')`` may hold a raw '/').

    A quote only opens a key inside parentheses: a path-segment id may hold a raw quote
    (``childFolders/b'c``) without swallowing the segments after it.
    """
    parts: list[str] = []
    current: list[str] = []
    quoted = in_key = False
    for char in path:
        if char == "(" and not quoted:
            in_key = True
        elif char == ")" and not quoted:
            in_key = False
        elif char == "'" and in_key:
            quoted = not quoted
        if char == "/" and not quoted:
            parts.append("".join(current))
            current = []
            in_key = False
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def split_path(path: str) -> tuple[PathToken, ...] | None:
    """Tokens of a path below the API version (``users/u/messages('m')/attachments``).

    Returns None for a path with an empty segment inside it (``a//b``); one trailing
    slash is accepted. The query string and fragment must already be removed.
    """
    stripped = path.strip("/")
    if not stripped:
        return ()
    # Quotes only appear in key syntax; without them a plain split is the same and faster.
    raw_segments = _split_raw(stripped) if "'" in stripped else stripped.split("/")
    tokens: list[PathToken] = []
    for raw in raw_segments:
        if not raw:
            return None
        if "(" not in raw:  # the common case: a name or a path-segment key
            tokens.append(PathToken(unquote(raw) if "%" in raw else raw))
            continue
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


# What matched what: each consumed token with the segment (literal, key, cast or action) it
# matched, in path order; repeats appear as the segments of the repetitions taken.
Trace = list[tuple[Segment, PathToken]]


def match_segments(segments: Sequence[Segment], tokens: Sequence[PathToken]) -> list[tuple[str, str]] | None:
    """Match ``tokens`` against a whole pattern; returns the keys as (entity type, value)
    in path order, or None when the path does not fit the pattern."""
    trace = match_trace(segments, tokens)
    if trace is None:
        return None
    return [(segment.entity_type, token.text) for segment, token in trace if isinstance(segment, KeySegment)]


def match_trace(segments: Sequence[Segment], tokens: Sequence[PathToken]) -> Trace | None:
    """Match ``tokens`` against a whole pattern; returns which segment each token matched,
    or None when the path does not fit the pattern."""
    trace: Trace = []
    if _match(tuple(segments), 0, tokens, 0, trace):
        return trace
    return None


def prefix_length(segments: Sequence[Segment], tokens: Sequence[PathToken]) -> int:
    """How many leading tokens some path of the pattern starts with (the whole path's length
    when it matches or is a prefix of a match): where a request path leaves the pattern."""
    best = 0

    def visit(pattern: tuple[Segment, ...], at: int, position: int) -> None:
        nonlocal best
        best = max(best, position)
        if at == len(pattern) or position == len(tokens):
            return
        segment = pattern[at]
        if isinstance(segment, RepeatSegment):
            visit(pattern, at + 1, position)
            for alternative in segment.alternatives:
                # Every alternative holds a literal or a key, so looping back consumes a token.
                visit(alternative + pattern[at:], 0, position)
            return
        if isinstance(segment, CastSegment) and segment.optional:
            visit(pattern, at + 1, position)
        if _fits(segment, tokens[position]):
            visit(pattern, at + 1, position + 1)

    visit(tuple(segments), 0, 0)
    return best


def _fits(segment: Segment, token: PathToken) -> bool:
    """Whether one token fits one (non-repeat) segment."""
    if isinstance(segment, KeySegment):
        return bool(token.text)
    if token.is_key or isinstance(segment, RepeatSegment):
        return False
    text = token.text.lower()
    if isinstance(segment, LiteralSegment):
        return text == segment.name.lower()
    if isinstance(segment, CastSegment):
        return text == segment.type.lower()
    return text in (segment.name.lower(), segment.short_name.lower())


def _match(
    segments: tuple[Segment, ...],
    at: int,
    tokens: Sequence[PathToken],
    position: int,
    trace: Trace,
) -> bool:
    """Backtracking match of segments[at:] against tokens[position:]; fills ``trace``."""
    if at == len(segments):
        return position == len(tokens)
    segment = segments[at]
    if isinstance(segment, RepeatSegment):
        mark = len(trace)
        if _match(segments, at + 1, tokens, position, trace):
            return True
        del trace[mark:]
        for alternative in segment.alternatives:
            # One more repetition, then the repeat again; an alternative that consumed
            # nothing cannot loop forever because every alternative holds a literal.
            if _match(alternative + segments[at:], 0, tokens, position, trace):
                return True
            del trace[mark:]
        return False
    if isinstance(segment, CastSegment) and segment.optional:
        mark = len(trace)
        if _match(segments, at + 1, tokens, position, trace):
            return True
        del trace[mark:]
    if position == len(tokens) or not _fits(segment, tokens[position]):
        return False
    trace.append((segment, tokens[position]))
    if _match(segments, at + 1, tokens, position + 1, trace):
        return True
    trace.pop()
    return False
