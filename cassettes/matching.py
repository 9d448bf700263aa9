"""Request matching: a canonical key per request and a hash index over a cassette.

The key is method, normalised path (API version and ``/me`` vs ``/users/{id}`` kept
as sent), sorted query, and the body canonicalised (JSON key order and whitespace do
not matter). Headers count only when configured. Requests are redacted before their
key is taken, on record and on replay alike.

A JSON batch (``POST /{version}/$batch``) is keyed by its sub-requests, each canonicalised
the same way: method upper-cased, URL path normalised and query sorted, header names
lower-cased and only ``Content-Type`` kept (plus configured headers, as for a request of its
own), ``dependsOn`` sorted without regard to case; the items in order of their ids, since
Graph answers them in any order. Ids themselves stay as sent: the recorded answer names them.

Identical requests are answered in recorded order; after the last one the index
either repeats the last answer (``repeat``, the default) or reports a miss (``miss``).
"""

from __future__ import annotations

import enum
import hashlib
import json
import threading
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from graphtape.cassettes.encoding import decode_body
from graphtape.cassettes.errors import BodyDecodeError
from graphtape.cassettes.model import Interaction, Request

__all__ = [
    "Exhausted",
    "InteractionIndex",
    "MatchConfig",
    "Nearest",
    "RequestKey",
    "canonical_body",
    "describe_differences",
    "request_key",
]


class Exhausted(str, enum.Enum):
    """What an identical request gets once every recorded answer was played."""

    REPEAT = "repeat"  # answer the last recorded response again
    MISS = "miss"  # treat it as a miss


@dataclass(frozen=True)
class MatchConfig:
    match_headers: tuple[str, ...] = ()  # header names that take part in the key
    ignore_query: tuple[str, ...] = ()  # query parameter names left out of the key
    ignore_body_paths: tuple[str, ...] = ()  # JSON paths ($.a.b) left out of the key
    exhausted: Exhausted = Exhausted.REPEAT


@dataclass(frozen=True, slots=True)
class RequestKey:
    method: str
    path: str
    query: tuple[tuple[str, str], ...]
    body: str  # canonical JSON, or "bytes:<sha256>" for anything that is not JSON
    headers: tuple[tuple[str, str], ...] = ()


_PATH_SAFE = "/:@!$&'()*+,;=-._~"


def _normalise_path(path: str) -> str:
    # %2f vs %2F, %41 vs A: same resource, same key.
    return quote(unquote(path), safe=_PATH_SAFE) or "/"


def _canonical_query(query: str, ignore: frozenset[str]) -> tuple[tuple[str, str], ...]:
    if not query:
        return ()
    pairs = []
    for piece in query.split("&"):
        if not piece:
            continue
        name, _, value = piece.partition("=")
        name, value = unquote(name.replace("+", " ")), unquote(value.replace("+", " "))
        if name.lower() not in ignore:
            pairs.append((name, value))
    return tuple(sorted(pairs))


def _drop_paths(data: Any, paths: Sequence[Sequence[str]]) -> Any:
    for parts in paths:
        node = data
        for part in parts[:-1]:
            node = node.get(part) if isinstance(node, dict) else None
            if node is None:
                break
        if isinstance(node, dict):
            node.pop(parts[-1], None)
    return data


def _split_json_path(path: str) -> tuple[str, ...]:
    path = path.strip()
    if path.startswith("$."):
        path = path[2:]
    return tuple(p for p in path.split(".") if p)


def _canonical_url(url: str) -> str:
    parts = urlsplit(url)
    query = "&".join(f"{k}={v}" for k, v in _canonical_query(parts.query, frozenset()))
    return _normalise_path(parts.path) + (f"?{query}" if query else "")


def _canonical_batch(data: Any, headers: Sequence[str]) -> Any:
    """A ``$batch`` body with its sub-requests canonicalised (see the module's docstring)."""
    if not isinstance(data, dict) or not isinstance(data.get("requests"), list):
        return data
    kept_headers = {"content-type", *(h.lower() for h in headers)}
    items: list[Any] = []
    for raw in data["requests"]:
        if not isinstance(raw, dict):
            items.append(raw)
            continue
        item = dict(raw)
        if isinstance(item.get("method"), str):
            item["method"] = item["method"].upper()
        if isinstance(item.get("url"), str):
            item["url"] = _canonical_url(item["url"])
        if isinstance(item.get("headers"), dict):
            item["headers"] = {str(k).lower(): v for k, v in item["headers"].items()
                               if str(k).lower() in kept_headers}
        depends = item.get("dependsOn")
        if isinstance(depends, list) and all(isinstance(d, str) for d in depends):
            item["dependsOn"] = sorted(d.lower() for d in depends)
        items.append(item)
    return {**data, "requests": sorted(items, key=lambda i: str(i.get("id", "")).lower() if isinstance(i, dict)
                                       else "")}


def _is_batch(path: str) -> bool:
    return unquote(path).rstrip("/").lower().endswith("/$batch")


def canonical_body(body: bytes, content_encoding: str | None = None,
                   ignore_paths: Sequence[Sequence[str]] = (), *, batch: bool = False,
                   batch_headers: Sequence[str] = ()) -> str:
    """Canonical text of a body for matching; JSON is re-serialised with sorted keys, and a
    ``$batch`` body (``batch``) has its sub-requests canonicalised."""
    if not body:
        return ""
    try:
        raw = decode_body(body, content_encoding)
    except BodyDecodeError:
        raw = body
    first = raw.lstrip()[:1]
    if first in (b"{", b"["):
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError):
            pass
        else:
            if ignore_paths:
                data = _drop_paths(data, ignore_paths)
            if batch:
                data = _canonical_batch(data, batch_headers)
            return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "bytes:" + hashlib.sha256(raw).hexdigest()


# A key keeps a body's canonical text up to this length and a digest of it beyond, so
# an index over megabyte attachments holds no second copy of every body. Misses, which
# need the text to name what differs, canonicalise such requests again.
KEY_TEXT_LIMIT = 64 * 1024
_TEXT_DIGEST = "canonical-sha256:"


def _is_digest(body: str) -> bool:
    return body.startswith(_TEXT_DIGEST)


def request_key(req: Request, config: MatchConfig = MatchConfig(), *, full_body: bool = False) -> RequestKey:
    """The match key of an (already redacted) request; ``full_body`` keeps a long body's text."""
    parts = urlsplit(req.uri)
    ignore_q = frozenset(n.lower() for n in config.ignore_query)
    ignore_paths = [_split_json_path(p) for p in config.ignore_body_paths]
    headers: tuple[tuple[str, str], ...] = ()
    if config.match_headers:
        headers = tuple((n.lower(), req.headers.get(n) or "") for n in sorted(config.match_headers))
    body = canonical_body(req.body, req.headers.get("content-encoding"), ignore_paths,
                          batch=req.method.upper() == "POST" and _is_batch(parts.path),
                          batch_headers=config.match_headers)
    if len(body) > KEY_TEXT_LIMIT and not full_body:
        body = _TEXT_DIGEST + hashlib.sha256(body.encode("utf-8", "surrogatepass")).hexdigest()
    return RequestKey(
        method=req.method.upper(),
        path=_normalise_path(parts.path),
        query=_canonical_query(parts.query, ignore_q),
        body=body,
        headers=headers,
    )


# ---------------------------------------------------------------- nearest miss


def _json_or_none(text: str) -> Any:
    if not text or text.startswith("bytes:"):
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def _json_diff(sent: Any, recorded: Any, path: str, out: list[str], limit: int) -> None:
    if len(out) >= limit:
        return
    if isinstance(sent, dict) and isinstance(recorded, dict):
        for k in sorted(set(sent) | set(recorded)):
            sub = f"{path}.{k}"
            if k not in recorded:
                out.append(f"body {sub}: sent {_short(sent[k])}, not in the recorded request")
            elif k not in sent:
                out.append(f"body {sub}: recorded {_short(recorded[k])}, not sent")
            else:
                _json_diff(sent[k], recorded[k], sub, out, limit)
            if len(out) >= limit:
                return
    elif isinstance(sent, list) and isinstance(recorded, list) and len(sent) == len(recorded):
        for i, (a, b) in enumerate(zip(sent, recorded, strict=False)):
            _json_diff(a, b, f"{path}[{i}]", out, limit)
    elif sent != recorded or type(sent) is not type(recorded):
        out.append(f"body {path}: sent {_short(sent)}, recorded {_short(recorded)}")


def _short(value: Any, width: int = 60) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else json.dumps(value)
    return text if len(text) <= width else text[: width - 3] + "..."


def _query_text(query: tuple[tuple[str, str], ...]) -> str:
    return "&".join(f"{k}={v}" for k, v in query) or "(none)"


def describe_differences(sent: RequestKey, recorded: RequestKey, limit: int = 10) -> list[str]:
    """Human-readable differences between two keys, most telling first."""
    out: list[str] = []
    if sent.method != recorded.method:
        out.append(f"method: sent {sent.method}, recorded {recorded.method}")
    if sent.path != recorded.path:
        out.append(f"path: sent {sent.path}, recorded {recorded.path}")
    if sent.query != recorded.query:
        out.append(f"query: sent {_query_text(sent.query)}, recorded {_query_text(recorded.query)}")
    if sent.headers != recorded.headers:
        out.append(f"headers: sent {dict(sent.headers)}, recorded {dict(recorded.headers)}")
    if sent.body != recorded.body:
        a, b = _json_or_none(sent.body), _json_or_none(recorded.body)
        if a is not None and b is not None:
            _json_diff(a, b, "$", out, limit)
        else:
            out.append("body: differs" + ("" if sent.body else " (sent none)"))
    return out[:limit]


def _similarity(sent: RequestKey, recorded: RequestKey) -> tuple[int, int]:
    score = 0
    score += 8 if sent.method == recorded.method else 0
    if sent.path == recorded.path:
        score += 10
    else:  # partly the same path: at most half the credit of the same path
        a, b = sent.path.split("/"), recorded.path.split("/")
        score += 5 * sum(1 for x, y in zip(a, b, strict=False) if x == y) // max(len(a), len(b))
    score += 2 if sent.query == recorded.query else 0
    score += 1 if sent.headers == recorded.headers else 0
    body_diffs = len(describe_differences(sent, recorded, limit=50)) if sent.body != recorded.body else 0
    return score, -body_diffs


@dataclass(frozen=True)
class Nearest:
    """The recorded request closest to a miss, and how they differ."""

    index: int
    interaction: Interaction
    differences: list[str]


# ---------------------------------------------------------------- the index


@dataclass
class _Slot:
    positions: list[int] = field(default_factory=list)
    next: int = 0


class InteractionIndex:
    """Hash index from request key to recorded interactions, played in recorded order.

    Thread-safe: the pytest plugin reads it from the test's thread while mitmproxy
    answers on its own.
    """

    def __init__(self, interactions: Iterable[Interaction] = (), config: MatchConfig = MatchConfig()) -> None:
        self.config = config
        self._interactions: list[Interaction] = []
        self._keys: list[RequestKey] = []
        self._slots: dict[RequestKey, _Slot] = defaultdict(_Slot)
        self._played: set[int] = set()
        self._lock = threading.Lock()
        for interaction in interactions:
            self.add(interaction)

    def __len__(self) -> int:
        return len(self._interactions)

    def add(self, interaction: Interaction, match_as: Request | None = None) -> int:
        """Index ``interaction``; ``match_as`` is the request its key is taken from (default: its own).

        The replayer passes the recorded request redacted again with today's redactor, so a
        cassette recorded with fewer redaction rules still matches live requests redacted by more.
        """
        key = request_key(match_as or interaction.request, self.config)
        with self._lock:
            self._interactions.append(interaction)
            self._keys.append(key)
            position = len(self._interactions) - 1
            self._slots[key].positions.append(position)
            return position

    def lookup(self, req: Request, key: RequestKey | None = None) -> tuple[int, Interaction] | None:
        """The next recorded answer for ``req`` (already redacted), or None on a miss."""
        key = key or request_key(req, self.config)
        with self._lock:
            slot = self._slots.get(key)
            if slot is None or not slot.positions:
                return None
            if slot.next < len(slot.positions):
                position = slot.positions[slot.next]
                slot.next += 1
            elif self.config.exhausted is Exhausted.REPEAT:
                position = slot.positions[-1]
            else:
                return None
            self._played.add(position)
            return position, self._interactions[position]

    def nearest(self, req: Request, key: RequestKey | None = None) -> Nearest | None:
        """The closest recorded request to a miss (a scan: only ever on the miss path)."""
        if key is None or _is_digest(key.body):
            key = request_key(req, self.config, full_body=True)
        with self._lock:
            interactions, keys = list(self._interactions), list(self._keys)
        if not interactions:
            return None

        def full(i: int) -> RequestKey:  # one long body's text at a time: memory stays flat
            k = keys[i]
            return request_key(interactions[i].request, self.config, full_body=True) if _is_digest(k.body) else k

        best = max(range(len(keys)), key=lambda i: (_similarity(key, full(i)), -i))
        interaction, recorded = interactions[best], full(best)
        differences = describe_differences(key, recorded)
        if not differences and key == recorded:
            differences = ["every recorded answer for this request was already played (exhausted=miss)"]
        return Nearest(index=best, interaction=interaction, differences=differences)

    @property
    def interactions(self) -> list[Interaction]:
        with self._lock:
            return list(self._interactions)

    def played(self) -> set[int]:
        with self._lock:
            return set(self._played)

    def unplayed(self) -> list[int]:
        with self._lock:
            return [i for i in range(len(self._interactions)) if i not in self._played]
