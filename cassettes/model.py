"""The cassette's data model: plain dataclasses, no I/O.

Bodies are always ``bytes`` here (exactly what went over the wire, still
content-encoded if it was); headers are ordered ``(name, value)`` pairs so that a
replayed response can repeat the recorded one byte for byte, names, case and
order included.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from graphtape.cassettes.findings import Finding

__all__ = [
    "LATENCY_KEY",
    "UPLOAD_SESSION_KEY",
    "Cassette",
    "Headers",
    "Interaction",
    "InteractionMeta",
    "Request",
    "Response",
    "body_digest",
]

# The ``graphtape`` key (kept in InteractionMeta.extra) linking an interaction to its upload
# session: ``{session, step: create|chunk, chunk, range}``.
UPLOAD_SESSION_KEY = "upload_session"
# The ``graphtape`` key (kept in InteractionMeta.extra) holding the upstream's latency: seconds
# from the request reaching graphtape to the upstream's complete answer (a number).
LATENCY_KEY = "latency"

HeaderPairs = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class Headers:
    """An ordered, multi-valued header list with case-insensitive look-up."""

    pairs: HeaderPairs = ()

    @classmethod
    def of(cls, items: Iterable[tuple[str, str]] | dict[str, str] | None = None) -> Headers:
        if items is None:
            return cls(())
        if isinstance(items, dict):
            items = items.items()
        return cls(tuple((str(k), str(v)) for k, v in items))

    def get(self, name: str, default: str | None = None) -> str | None:
        lname = name.lower()
        for k, v in self.pairs:
            if k.lower() == lname:
                return v
        return default

    def get_all(self, name: str) -> list[str]:
        lname = name.lower()
        return [v for k, v in self.pairs if k.lower() == lname]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self.pairs)

    def __len__(self) -> int:
        return len(self.pairs)

    def replace(self, name: str, value: str) -> Headers:
        """Every value of ``name`` set to ``value`` (in place, order kept)."""
        lname = name.lower()
        return Headers(tuple((k, value if k.lower() == lname else v) for k, v in self.pairs))

    def without(self, name: str) -> Headers:
        lname = name.lower()
        return Headers(tuple((k, v) for k, v in self.pairs if k.lower() != lname))

    def as_dict(self) -> dict[str, str]:
        """Lower-cased names to the first value: what validators want."""
        out: dict[str, str] = {}
        for k, v in self.pairs:
            out.setdefault(k.lower(), v)
        return out


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    uri: str
    headers: Headers = field(default_factory=Headers)
    body: bytes = b""

    @property
    def path(self) -> str:
        return urlsplit(self.uri).path

    @property
    def query(self) -> str:
        return urlsplit(self.uri).query


@dataclass(frozen=True, slots=True)
class Response:
    status_code: int
    reason: str = ""
    headers: Headers = field(default_factory=Headers)
    body: bytes = b""


@dataclass(frozen=True, slots=True)
class InteractionMeta:
    """graphtape's own data about one interaction (the ``graphtape`` key in the YAML)."""

    route: str | None = None
    route_template: str | None = None
    recorded_at: str | None = None
    findings: tuple[Finding, ...] = ()
    # Keys graphtape does not know (written by a newer version): kept, written back.
    # Also carries UPLOAD_SESSION_KEY.
    extra: tuple[tuple[str, Any], ...] = ()

    @property
    def latency(self) -> float | None:
        """The upstream's latency in seconds (:data:`LATENCY_KEY`), when recorded."""
        for key, value in self.extra:
            if key == LATENCY_KEY and isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
                return float(value)
        return None

    @property
    def is_upload_chunk(self) -> bool:
        return any(k == UPLOAD_SESSION_KEY and isinstance(v, dict) and v.get("step") == "chunk"
                   for k, v in self.extra)


@dataclass(frozen=True, slots=True)
class Interaction:
    request: Request
    response: Response
    meta: InteractionMeta = field(default_factory=InteractionMeta)


@dataclass(slots=True)
class Cassette:
    """An ordered list of interactions plus cassette-level graphtape data."""

    interactions: list[Interaction] = field(default_factory=list)
    # Cassette-level ``graphtape`` mapping (format version, generator...), kept verbatim.
    meta: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.interactions)


def body_digest(body: bytes) -> str:
    """The digest graphtape writes next to bodies: ``sha256:<hex>``."""
    return "sha256:" + hashlib.sha256(body).hexdigest()
