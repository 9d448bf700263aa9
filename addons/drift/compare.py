"""Schema drift: what changed between recorded traffic, live traffic and the documented schema.

Responses are reduced to a :class:`ResponseSample` (route, the ``@odata.type``
subtype the request asked for, status, content type, the JSON shape of the body)
and compared in groups of the same (route, subtype): a fileAttachment is compared
with fileAttachments, so ``sourceUrl`` appearing on one is caught even though
referenceAttachments carry it. Shapes hold JSON types, not values, and volatile
paths (ids, timestamps, request ids...) are left out, so two recordings of the same
calls never drift just because the service minted new ids.

Nothing here imports mitmproxy: the recorder's alerts, ``graphtape drift`` and
``graphtape verify`` all use it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from graphtape.addons.drift.config import DriftConfig, DriftKind
from graphtape.addons.graph.models import enum_values, normalise_odata_type, type_info
from graphtape.addons.graph.routes import RouteMatch, match_route
from graphtape.addons.graph.validation import parse_json_body, validate_response
from graphtape.cassettes.encoding import decode_body
from graphtape.cassettes.errors import BodyDecodeError
from graphtape.cassettes.findings import Finding
from graphtape.cassettes.model import Interaction, Response

__all__ = [
    "KIND_OF_FINDING",
    "ResponseSample",
    "compare_samples",
    "group_key",
    "looks_like_attachment_route",
    "sample_from_exchange",
    "sample_from_interaction",
    "schema_drift",
]

# Validation codes (response side) that are drift, by the kind of drift they are.
KIND_OF_FINDING: dict[str, DriftKind] = {
    "unknown-property": DriftKind.UNDOCUMENTED_PROPERTY,
    "missing-required-property": DriftKind.MISSING_PROPERTY,
    "wrong-type": DriftKind.TYPE_CHANGE,
    "enum-value": DriftKind.ENUM_VALUE,
    "unexpected-success-status": DriftKind.STATUS_CHANGE,
    "unexpected-status": DriftKind.STATUS_CHANGE,
    "non-json-content-type": DriftKind.CONTENT_TYPE_CHANGE,
    "unknown-odata-type": DriftKind.ODATA_TYPE_CHANGE,
    "abstract-odata-type": DriftKind.ODATA_TYPE_CHANGE,
    "odata-type-not-allowed-on-route": DriftKind.ODATA_TYPE_CHANGE,
    "odata-type-not-assignable": DriftKind.ODATA_TYPE_CHANGE,
    "odata-type-case": DriftKind.ODATA_TYPE_CHANGE,
}

NO_SUBTYPE = "(no @odata.type)"


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    return "number"


def _child(path: str, key: str) -> str:
    plain = key and all(c.isalnum() or c in "_@.-#" for c in key)
    return f"{path}.{key}" if plain else f"{path}['{key}']"


def _walk(value: object, path: str, shape: dict[str, set[str]], enums: dict[str, set[str]]) -> None:
    enum_names = enum_values()  # every property the metadata types with an enum
    shape.setdefault(path, set()).add(_json_type(value))
    if isinstance(value, dict):
        for key, child in value.items():
            child_path = _child(path, str(key))
            if str(key) in enum_names and isinstance(child, str):
                enums.setdefault(child_path, set()).add(child)
            _walk(child, child_path, shape, enums)
    elif isinstance(value, list):
        for item in value:
            _walk(item, path + "[*]", shape, enums)


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower() or "(none)"


@dataclass
class ResponseSample:
    """One response, reduced to what drift compares."""

    source: str  # "base.yaml interactions[3]", "live"
    request_line: str  # "POST /v1.0/me/messages/{message-id}/attachments": no ids, no query values
    method: str
    route: str  # "POST v1.0 /users/{user-id}/messages/{message-id}/attachments", or the bare path
    known_route: bool
    path: str
    subtype: str  # the request's @odata.type, short ("fileAttachment"), or NO_SUBTYPE
    api_version: str | None
    status: int
    media_type: str
    response_type: str | None  # the response body's @odata.type, normalised
    shape: dict[str, set[str]] = field(default_factory=dict)
    enums: dict[str, set[str]] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)  # response validation findings

    @property
    def status_class(self) -> str:
        return f"{self.status // 100}xx"


def looks_like_attachment_route(path: str) -> bool:
    """A path with an ``attachments`` segment: an attachment route, documented or not.
    (Outlook's ``AttachmentSessions('...')`` upload URLs are not.)"""
    return any(seg.lower() == "attachments" for seg in path.split("?", 1)[0].split("/"))


def _masked_path(path: str) -> str:
    """An unknown route's path with its ids (anything but plain words) as ``{id}``: alerts
    name the route, never a mailbox, a chat or a message."""
    segments = path.split("/")
    return "/".join(seg if (seg.isalpha() or (i == 1 and seg in ("v1.0", "beta")) or not seg) else "{id}"
                    for i, seg in enumerate(segments))


def _subtype(request_body: bytes | None) -> str:
    parsed, problem = parse_json_body(request_body or b"")
    if problem is None and isinstance(parsed, dict) and isinstance(parsed.get("@odata.type"), str):
        return normalise_odata_type(parsed["@odata.type"]).removeprefix("microsoft.graph.")
    return NO_SUBTYPE


def sample_from_exchange(source: str, method: str, uri: str, request_body: bytes | None, status: int,
                         headers: Mapping[str, str], body: bytes,
                         findings: list[Finding] | None = None) -> ResponseSample:
    """A sample from a decoded exchange; ``findings`` are the response's validation findings
    when the caller already has them (the recorder), else they are computed here."""
    path = urlsplit(uri).path
    match: RouteMatch | None = match_route(method, path)
    lower = {k.lower(): v for k, v in headers.items()}
    if findings is None:
        findings = validate_response(match, status, lower, body, request_body)
    if match is not None:
        route = f"{method.upper()} {match.api_version} {match.route.template}"
        line = f"{method.upper()} /{match.api_version}{match.route.template}"
    else:
        route = line = f"{method.upper()} {_masked_path(path)}"
    shape: dict[str, set[str]] = {}
    enums: dict[str, set[str]] = {}
    parsed, problem = parse_json_body(body)
    response_type = None
    if problem is None:
        _walk(parsed, "$", shape, enums)
        if isinstance(parsed, dict) and isinstance(parsed.get("@odata.type"), str):
            response_type = normalise_odata_type(parsed["@odata.type"])
    return ResponseSample(
        source=source, request_line=line, method=method.upper(), route=route, known_route=match is not None,
        path=path, subtype=_subtype(request_body), api_version=match.api_version if match else None,
        status=status, media_type=_media_type(lower.get("content-type")), response_type=response_type,
        shape=shape, enums=enums, findings=[f for f in findings if f.where == "response"],
    )


def sample_from_interaction(interaction: Interaction, source: str, response: Response | None = None) -> ResponseSample:
    """The recorded response of ``interaction`` as a sample, or ``response`` (a live answer to its request)."""
    req, resp = interaction.request, response or interaction.response
    try:
        req_body = decode_body(req.body, req.headers.get("content-encoding"))
        resp_body = decode_body(resp.body, resp.headers.get("content-encoding"))
    except BodyDecodeError:
        req_body, resp_body = req.body, resp.body
    return sample_from_exchange(source, req.method, req.uri, req_body, resp.status_code, resp.headers.as_dict(),
                                resp_body)


def group_key(sample: ResponseSample) -> tuple[str, str]:
    return sample.route, sample.subtype


class _Collector:
    """Drift findings with the configured severity; off kinds, volatile paths and repeats dropped."""

    def __init__(self, config: DriftConfig, against: str) -> None:
        self.config = config
        self.against = against
        self.findings: list[Finding] = []
        self._seen: set[tuple[str, str, str, str]] = set()

    def add(self, kind: DriftKind, path: str, expected: str, seen: str, message: str) -> None:
        severity = self.config.severity_of(kind)
        if severity is None or self.config.is_volatile(path):
            return
        key = (kind.value, path, expected, seen)
        if key in self._seen:
            return
        self._seen.add(key)
        self.findings.append(Finding(severity, kind.value, "response", path, expected, seen,
                                     f"{self.against}: {message}"))


def _topmost(paths: Iterable[str]) -> list[str]:
    """Paths whose parent is not in the set: a removed object is one finding, not one per key."""
    chosen = set(paths)
    out = []
    for p in sorted(chosen):
        if not any(p != q and (p.startswith(q + ".") or p.startswith(q + "[")) for q in chosen):
            out.append(p)
    return out


def schema_drift(sample: ResponseSample, config: DriftConfig) -> list[Finding]:
    """How one response departs from the documented schema of its route and subtype."""
    out = _Collector(config, "vs schema")
    if not sample.known_route:
        if looks_like_attachment_route(sample.path):
            out.add(DriftKind.NEW_ROUTE, "$route", "a documented attachment route", sample.request_line,
                    "an attachment route graphtape's route table does not document")
        return out.findings
    for f in sample.findings:
        kind = KIND_OF_FINDING.get(f.code)
        if kind is not None:
            out.add(kind, f.path, f.expected, f.seen, f.message)
    if 200 <= sample.status < 300 and sample.subtype != NO_SUBTYPE:
        wanted = "microsoft.graph." + sample.subtype
        if sample.response_type is not None and sample.response_type != wanted:
            out.add(DriftKind.ODATA_TYPE_CHANGE, "$.@odata.type", "#" + wanted, "#" + sample.response_type,
                    "the response is not of the subtype the request created")
        info = type_info(sample.response_type or wanted, sample.api_version or "v1.0")
        if info is not None and "$" in sample.shape:
            for prop in info.properties:
                path = _child("$", prop)
                described = info.property_info(prop)
                # Navigation properties (item, attachments) come back only when expanded.
                if described is not None and not described.navigation and path not in sample.shape:
                    out.add(DriftKind.MISSING_PROPERTY, path, f"{prop} (documented on {info.short_name})",
                            "absent", f"a documented property of {info.short_name} is missing")
    return out.findings


def _values(samples: list[ResponseSample], attr: str) -> set[str]:
    return {str(getattr(s, attr)) for s in samples if getattr(s, attr) is not None}


def _shape(samples: list[ResponseSample], status_class: str) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    shape: dict[str, set[str]] = {}
    enums: dict[str, set[str]] = {}
    for s in samples:
        if s.status_class != status_class:
            continue
        for path, types in s.shape.items():
            shape.setdefault(path, set()).update(types)
        for path, values in s.enums.items():
            enums.setdefault(path, set()).update(values)
    return shape, enums


def _listed(values: Iterable[str]) -> str:
    return " | ".join(sorted(values)) or "(none)"


def compare_samples(baseline: list[ResponseSample], candidate: list[ResponseSample],
                    config: DriftConfig, against: str = "vs baseline") -> list[Finding]:
    """Drift of ``candidate`` from ``baseline``: both are responses of one (route, subtype)."""
    out = _Collector(config, against)
    if not baseline or not candidate:
        return out.findings
    for attr, kind, path, what in (
        ("status", DriftKind.STATUS_CHANGE, "$status", "status"),
        ("media_type", DriftKind.CONTENT_TYPE_CHANGE, "$headers.content-type", "content type"),
        ("response_type", DriftKind.ODATA_TYPE_CHANGE, "$.@odata.type", "@odata.type"),
    ):
        before, after = _values(baseline, attr), _values(candidate, attr)
        new = after - before
        if new:
            out.add(kind, path, _listed(before), _listed(new), f"{what} changed")
    classes = {s.status_class for s in baseline} & {s.status_class for s in candidate}
    for status_class in sorted(classes):
        before_shape, before_enums = _shape(baseline, status_class)
        after_shape, after_enums = _shape(candidate, status_class)
        for path in _topmost(p for p in after_shape if p not in before_shape and not config.is_volatile(p)):
            out.add(DriftKind.UNDOCUMENTED_PROPERTY, path, "absent (as in the baseline)",
                    _listed(after_shape[path]), f"a property the baseline's {status_class} responses never had")
        for path in _topmost(p for p in before_shape if p not in after_shape and not config.is_volatile(p)):
            out.add(DriftKind.MISSING_PROPERTY, path, _listed(before_shape[path]), "absent",
                    f"a property every baseline {status_class} response could have is gone")
        for path in sorted(set(before_shape) & set(after_shape)):
            before_types, after_types = before_shape[path] - {"null"}, after_shape[path] - {"null"}
            # null is every Graph property's "not set": only a change between real types counts.
            if before_types and after_types and not after_types <= before_types:
                out.add(DriftKind.TYPE_CHANGE, path, _listed(before_types), _listed(after_types), "type changed")
        for path, values in sorted(after_enums.items()):
            documented = set(enum_values().get(path.rsplit(".", 1)[-1], ()))
            new_values = values - before_enums.get(path, set()) - documented
            if new_values:
                out.add(DriftKind.ENUM_VALUE, path, _listed(before_enums.get(path, set()) | documented),
                        _listed(new_values), "an enum value neither the baseline nor the schema has")
    return out.findings
