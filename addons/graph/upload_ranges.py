"""Byte ranges of upload-session chunks: the Content-Range header and where a chunk falls.

Shared by the simulator (which accepts or refuses a chunk) and the recorder's checks
(which report findings), so both read a range the same way.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from graphtape.addons.graph.limits import MAX_CHUNK_BYTES
from graphtape.cassettes.errors import GraphtapeError

__all__ = [
    "MAX_CHUNK_BYTES",
    "ContentRange",
    "Placement",
    "RangeError",
    "next_expected_ranges",
    "parse_content_range",
    "place_chunk",
]

# MAX_CHUNK_BYTES (each chunk is "under 4 MB", read as MiB: 4 MiB or more is over) lives in
# limits.py with its source; it stays importable from here.

_CONTENT_RANGE = re.compile(r"^\s*bytes\s+(\d+)-(\d+)/(\d+)\s*$", re.IGNORECASE)


class RangeError(GraphtapeError, ValueError):
    """A Content-Range header that cannot describe a chunk."""


@dataclass(frozen=True)
class ContentRange:
    """``bytes START-END/TOTAL``: END is inclusive, as in HTTP."""

    start: int
    end: int
    total: int

    @property
    def length(self) -> int:
        return self.end - self.start + 1

    @property
    def is_last(self) -> bool:
        return self.end + 1 == self.total

    def __str__(self) -> str:
        return f"bytes {self.start}-{self.end}/{self.total}"


def parse_content_range(value: str | None) -> ContentRange:
    """Parse a chunk's Content-Range; raises RangeError saying what is wrong."""
    if value is None:
        raise RangeError("no Content-Range header; each chunk names its bytes as 'bytes START-END/TOTAL'")
    found = _CONTENT_RANGE.match(value)
    if found is None:
        raise RangeError(f"Content-Range {value!r} is not of the form 'bytes START-END/TOTAL'")
    start, end, total = (int(g) for g in found.groups())
    if end < start:
        raise RangeError(f"Content-Range {value!r} ends before it starts")
    if end >= total:
        raise RangeError(f"Content-Range {value!r} reaches past the total size {total}")
    return ContentRange(start, end, total)


class Placement(str, enum.Enum):
    """Where a chunk falls against the bytes already received."""

    NEXT = "next"  # starts exactly where the received bytes end
    OVERLAP = "overlap"  # starts inside bytes already received
    GAP = "gap"  # starts after the next expected byte: out of order or skipping bytes


def place_chunk(chunk: ContentRange, received: int) -> Placement:
    """Sessions take bytes in order: ``received`` bytes are in, byte ``received`` is next."""
    if chunk.start == received:
        return Placement.NEXT
    return Placement.OVERLAP if chunk.start < received else Placement.GAP


def next_expected_ranges(received: int) -> list[str]:
    """``nextExpectedRanges`` of an accepted chunk's answer when everything before ``received`` is in.

    Outlook and To Do sessions take bytes in order and answer a single start value
    (``["2097152"]``), as both large-attachment pages show; only a session's creation
    answers the open range ``["0-"]``."""
    return [str(received)]
