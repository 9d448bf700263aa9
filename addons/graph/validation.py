"""Findings about one attachment request or response, checked against the Graph schema.

The entry points never raise: whatever bytes arrive (not UTF-8, not JSON, a JSON
number, deep nesting, a 5 MB string), problems come back as findings. A body is
parsed once; the subtype named by ``@odata.type`` picks the pydantic model, and the
model's errors are translated into findings with a JSON path, the documented type
and a short description of the value seen.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import cache, cached_property
from typing import Any, Literal

from pydantic import ValidationError

from graphtape.addons.graph.models import (
    ENUM_VALUES,
    NAMESPACE,
    PROPERTY_TYPES,
    READ_ONLY_PROPERTIES,
    AttachmentType,
    GraphModel,
    UploadSession,
    base64_decoded_length,
    concrete_types_for_base,
    is_annotation,
    normalise_odata_type,
    type_info,
    upload_session_request_model,
)
from graphtape.addons.graph.routes import Operation, RouteMatch, match_route
from graphtape.cassettes.encoding import decode_for_validation
from graphtape.cassettes.errors import GraphSchemaError
from graphtape.cassettes.findings import Finding, Severity
from graphtape.cassettes.model import Interaction, Request, Response

__all__ = [
    "DEFAULT_SEVERITY",
    "MAX_FILE_BYTES",
    "MAX_REQUEST_BYTES",
    "RequestCheck",
    "RouteSchema",
    "check_request",
    "describe_value",
    "header_value",
    "json_path",
    "parse_json_body",
    "request_findings",
    "response_findings",
    "schema_for_route",
    "validate_interaction",
    "validate_json_body",
    "validate_request",
    "validate_response",
]

Kind = Literal["request", "response"]

# A direct POST carries at most 3 MB of file; Graph refuses request bodies over 4 MB.
MAX_FILE_BYTES = 3 * 1024 * 1024
MAX_REQUEST_BYTES = 4 * 1024 * 1024

_SEEN_LIMIT = 80

DEFAULT_SEVERITY: dict[str, Severity] = {
    "unknown-route": Severity.INFO,
    "deprecated-route": Severity.INFO,
    "method-not-validated": Severity.INFO,
    "missing-odata-type": Severity.ERROR,
    "unknown-odata-type": Severity.ERROR,
    "abstract-odata-type": Severity.ERROR,
    "odata-type-not-allowed-on-route": Severity.ERROR,
    "wrong-type": Severity.ERROR,
    "invalid-base64": Severity.ERROR,
    "read-only-property": Severity.WARNING,
    "missing-required-property": Severity.ERROR,
    "enum-value": Severity.ERROR,
    "unknown-property": Severity.ERROR,
    "file-too-large": Severity.ERROR,
    "request-too-large": Severity.ERROR,
    "unexpected-success-status": Severity.ERROR,
    "unexpected-status": Severity.WARNING,
    "non-json-content-type": Severity.ERROR,
    "invalid-json": Severity.ERROR,
    "body-not-object": Severity.ERROR,
    "error-envelope": Severity.WARNING,
    "validator-error": Severity.WARNING,
}

# Where a response differs: Graph's own examples omit @odata.type, and a property the
# documentation does not know yet is drift to look at, not a broken call.
_RESPONSE_SEVERITY: dict[str, Severity] = {
    "missing-odata-type": Severity.INFO,
    "unknown-property": Severity.WARNING,
}


# --- small helpers others may reuse ------------------------------------------


def header_value(headers: Mapping[str, str] | Iterable[tuple[str, str]], name: str) -> str | None:
    """The first value of header ``name`` (case-insensitive), or None."""
    wanted = name.lower()
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    for key, value in pairs:
        key_text = key.decode("latin-1") if isinstance(key, bytes) else str(key)
        if key_text.lower() == wanted:
            found: object = value
            if isinstance(found, (list, tuple)):  # multi-valued header maps
                found = found[0] if found else ""
            return found.decode("latin-1") if isinstance(found, bytes) else str(found)
    return None


def _truncate(text: str, limit: int = _SEEN_LIMIT) -> str:
    if len(text) <= limit:
        return text
    return f"{text[: limit - 1]}… ({len(text)} chars)"


def describe_value(value: object) -> str:
    """A short description of a JSON value: its JSON type and (truncated) value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"boolean {'true' if value else 'false'}"
    if isinstance(value, int):
        if value.bit_length() > 256:  # str() of huge ints is slow and capped in 3.11
            return f"number ({value.bit_length()}-bit integer)"
        return f"number {_truncate(str(value), 40)}"
    if isinstance(value, (float, Decimal)):
        return f"number {_truncate(str(value), 40)}"
    if isinstance(value, str):
        if len(value) <= 60:
            return f'string "{value}"'
        return f'string "{value[:40]}…" ({len(value)} chars)'
    if isinstance(value, dict):
        keys = ", ".join(str(k) for k in list(value)[:4])
        more = ", …" if len(value) > 4 else ""
        return _truncate(f"object {{{keys}{more}}}")
    if isinstance(value, list):
        return f"array of {len(value)} item{'s' if len(value) != 1 else ''}"
    return _truncate(type(value).__name__)


def json_path(loc: Iterable[str | int]) -> str:
    """``("value", 2, "name")`` -> ``$.value[2].name``; odd keys in brackets."""
    parts = ["$"]
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        elif item and all(c.isalnum() or c in "_@.-#" for c in item):
            parts.append(f".{item}")
        else:
            escaped = item.replace("\\", "\\\\").replace("'", "\\'")
            parts.append(f"['{escaped}']")
    return "".join(parts)


class _NotJson(ValueError):
    pass


def _parse_int(text: str) -> int | Decimal:
    # Python refuses to convert ints of more than 4300 digits; no such number can be
    # an Int32 anyway, so keep it as a Decimal and let the type check report it.
    return int(text) if len(text) <= 400 else Decimal(text)


def _reject_constant(name: str) -> object:
    raise _NotJson(f"{name} is not JSON")


def parse_json_body(body: bytes) -> tuple[object, str | None]:
    """Parse a JSON body: (value, None), or (None, why it is not JSON)."""
    if not body:
        return None, "empty body"
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, f"not UTF-8 (byte 0x{body[exc.start]:02x} at offset {exc.start})"
    if text.startswith("\ufeff"):  # a BOM is tolerated by Graph's .NET reader
        text = text[1:]
    try:
        return json.loads(text, parse_int=_parse_int, parse_constant=_reject_constant), None
    except RecursionError:
        return None, "not JSON: nested too deeply"
    except ValueError as exc:
        return None, _truncate(f"not JSON: {exc}", 120)


def _is_json_media_type(content_type: str) -> bool:
    return content_type.split(";", 1)[0].strip().lower() == "application/json"


# --- route schema ----------------------------------------------------------------


@dataclass(frozen=True)
class RouteSchema:
    """What a route accepts: its abstract base type and the subtypes it creates."""

    operation: Operation
    api_version: str
    base: AttachmentType
    allowed: tuple[AttachmentType, ...]

    @property
    def allowed_names(self) -> str:
        return " | ".join("#" + t.name for t in self.allowed)

    @cached_property  # schemas are built once per route (lru_cache) and never change
    def subtype_properties(self) -> frozenset[str]:
        """Every property some allowed subtype declares."""
        return frozenset(p for t in self.allowed for p in t.properties)


@cache
def _schema(operation: Operation, base_type: str, api_version: str) -> RouteSchema:
    base = type_info(NAMESPACE + base_type, api_version)
    if base is None:
        raise GraphSchemaError(f"no base type {base_type} in {api_version}")
    allowed = concrete_types_for_base(base_type, api_version)
    return RouteSchema(operation, api_version, base, allowed)


def schema_for_route(match: RouteMatch) -> RouteSchema:
    """The schema a matched route validates against."""
    route = match.route
    return _schema(route.operation, route.base_type, match.api_version)


# --- collecting findings ------------------------------------------------------------


class _Report:
    """Findings for one side of a call, with the side's default severities."""

    def __init__(self, where: Kind) -> None:
        self.where = where
        self.findings: list[Finding] = []

    def add(
        self,
        code: str,
        path: str,
        expected: str,
        seen: str,
        message: str,
        severity: Severity | None = None,
    ) -> None:
        if severity is None:
            severity = (
                _RESPONSE_SEVERITY.get(code) if self.where == "response" else None
            ) or DEFAULT_SEVERITY.get(code, Severity.ERROR)
        self.findings.append(
            Finding(
                severity,
                code,
                self.where,
                path,
                _truncate(expected, 200),
                _truncate(seen),
                message,
            )
        )

    def has_path(self, path: str) -> bool:
        return any(f.path == path for f in self.findings)


def _expected_for(loc: tuple[str | int, ...]) -> str:
    names = [item for item in loc if isinstance(item, str)]
    key = names[-1] if names else ""
    documented = PROPERTY_TYPES.get(key, "a documented value")
    if loc and isinstance(loc[-1], int) and documented.startswith("Collection("):
        return documented[len("Collection(") : -1]
    return documented


def _enum_message(key: str, value: object) -> tuple[str, str]:
    allowed = ENUM_VALUES.get(key, ())
    expected = "one of " + " | ".join(allowed) if allowed else "a documented enum member"
    if isinstance(value, str):
        same_but_case = [a for a in allowed if a.lower() == value.lower()]
        if same_but_case:
            return expected, (
                f"{key} {value!r} differs only by case from {same_but_case[0]!r};"
                " Graph enum members are case-sensitive"
            )
    return expected, f"{key} is not a member of its enum"


def _report_model_errors(
    report: _Report,
    errors: list[Any],
    type_name: str,
    properties: tuple[str, ...],
    tolerated: frozenset[str],
) -> None:
    """Translate pydantic errors into findings."""
    for error in errors:
        loc: tuple[str | int, ...] = tuple(error.get("loc", ()))
        kind = error.get("type", "")
        value = error.get("input")
        path = json_path(loc)
        key = next((item for item in reversed(loc) if isinstance(item, str)), "")
        if kind == "extra_forbidden":
            if len(loc) == 1 and key in tolerated:
                continue
            same_but_case = [p for p in properties if p.lower() == key.lower()]
            hint = f"; it differs only by case from {same_but_case[0]!r}" if same_but_case else ""
            report.add(
                "unknown-property",
                path,
                f"a property of {type_name}",
                describe_value(value),
                f"{key!r} is not a documented property of {type_name}{hint}",
            )
        elif kind == "literal_error":
            expected, message = _enum_message(key, value)
            report.add("enum-value", path, expected, describe_value(value), message)
        elif kind == "invalid_base64":
            problem = (error.get("ctx") or {}).get("problem", "not base64")
            report.add(
                "invalid-base64",
                path,
                "standard base64 (RFC 4648 section 4, padded)",
                describe_value(value),
                f"{key} is not valid base64: {problem}",
            )
        elif kind == "missing":
            report.add(
                "missing-required-property", path, f"{key} present", "absent", f"{key} is required"
            )
        elif kind in ("item_odata_type_missing", "item_odata_type_unknown"):
            sub = (error.get("ctx") or {}).get("subpath", "@odata.type")
            declared = value.get(sub) if isinstance(value, dict) else None
            missing = kind == "item_odata_type_missing"
            code = "missing-odata-type" if missing else "unknown-odata-type"
            report.add(
                code,
                json_path((*loc, sub)),
                "#microsoft.graph.message | #microsoft.graph.event | #microsoft.graph.contact"
                " (an outlookItem type)",
                "absent" if declared is None else describe_value(declared),
                "the attached item must name its outlookItem type in @odata.type",
            )
        else:
            expected = _expected_for(loc)
            if kind == "null_not_allowed":
                expected = f"{expected} (non-null)"
            message = f"{key or 'value'}: {error.get('msg', kind)}"
            if kind in ("less_than_equal", "greater_than_equal"):
                message = f"{key} is outside the {expected} range"
            report.add("wrong-type", path, expected, describe_value(value), message)


def _validate_model(
    report: _Report,
    model: type[GraphModel],
    data: dict[str, Any],
    type_name: str,
    tolerated: frozenset[str] = frozenset(),
) -> None:
    body = {k: v for k, v in data.items() if k != "@odata.type"}
    try:
        model.model_validate(body)
    except ValidationError as exc:
        _report_model_errors(report, exc.errors(), type_name, model.json_properties(), tolerated)


def _infer_type(schema: RouteSchema, data: Mapping[str, Any]) -> AttachmentType | None:
    """The one allowed subtype whose properties cover the body's, if exactly one does."""
    keys = {k for k in data if k != "@odata.type" and not is_annotation(k)}
    candidates = [t for t in schema.allowed if keys <= set(t.properties)]
    return candidates[0] if len(candidates) == 1 else None


def _declared_request_type(
    schema: RouteSchema, request_body: bytes | None
) -> AttachmentType | None:
    """The allowed subtype a request body declared, to check a typeless response by."""
    if not request_body:
        return None
    data, problem = parse_json_body(request_body)
    if problem is not None or not isinstance(data, dict):
        return None
    declared = data.get("@odata.type")
    if not isinstance(declared, str):
        return None
    info = type_info(declared, schema.api_version)
    return info if info is not None and info in schema.allowed else None


def _check_attachment(
    report: _Report,
    schema: RouteSchema,
    data: dict[str, Any],
    declared_elsewhere: AttachmentType | None = None,
) -> AttachmentType | None:
    """Check one attachment object; returns the concrete type it was checked as, if any."""
    version = schema.api_version
    checked_as: AttachmentType = schema.base
    tolerated = schema.subtype_properties  # extras to forgive when checking as the base
    concrete: AttachmentType | None = None
    raw_type = data.get("@odata.type")
    base_name = schema.base.name

    if "@odata.type" not in data or not isinstance(raw_type, str):
        if "@odata.type" in data:
            report.add(
                "wrong-type",
                "$.@odata.type",
                "String",
                describe_value(raw_type),
                "@odata.type must be a string naming the attachment type",
            )
        elif report.where == "request":
            report.add(
                "missing-odata-type",
                "$.@odata.type",
                schema.allowed_names,
                "absent",
                "Graph answers 422 UnprocessableType: Cannot process input of abstract type"
                f" '{base_name}'",
            )
        else:
            report.add(
                "missing-odata-type",
                "$.@odata.type",
                schema.allowed_names,
                "absent",
                "the response does not name its type; checked against the type the request"
                " declared, or the one the properties imply",
            )
        inferred = declared_elsewhere or _infer_type(schema, data)
        if inferred is not None:
            checked_as, tolerated = inferred, frozenset()
            concrete = inferred if report.where == "response" else None
    else:
        info = type_info(raw_type, version)
        if info is None:
            known = [t.name for t in (*schema.allowed, schema.base)]
            near = [n for n in known if n.lower() == normalise_odata_type(raw_type).lower()]
            hint = f"; it differs only by case from '#{near[0]}'" if near else ""
            report.add(
                "unknown-odata-type",
                "$.@odata.type",
                schema.allowed_names,
                describe_value(raw_type),
                f"{_truncate(raw_type)} is not a documented attachment type in {version}{hint}",
            )
            tolerated = frozenset(k for k in data)  # its shape is unknown: check base props only
        elif info.abstract:
            report.add(
                "abstract-odata-type",
                "$.@odata.type",
                schema.allowed_names,
                describe_value(raw_type),
                f"{info.name} is abstract; Graph answers 422 UnprocessableType: Cannot process"
                f" input of abstract type '{info.name}'",
            )
        elif info not in schema.allowed:
            report.add(
                "odata-type-not-allowed-on-route",
                "$.@odata.type",
                schema.allowed_names,
                describe_value(raw_type),
                f"{info.short_name} cannot be attached to this kind of item"
                f" (the route takes {schema.base.short_name} subtypes)",
            )
            checked_as, tolerated = info, frozenset()
        else:
            checked_as, tolerated, concrete = info, frozenset(), info

    _validate_model(report, checked_as.model, data, checked_as.name, tolerated)

    if report.where == "request":
        for prop in sorted(READ_ONLY_PROPERTIES & data.keys()):
            report.add(
                "read-only-property",
                json_path((prop,)),
                "absent (set by the service)",
                describe_value(data[prop]),
                f"{prop} is read-only; the service sets it and ignores or rejects the value sent",
            )
        if concrete is not None:
            for prop in sorted(concrete.required_on_create):
                path = json_path((prop,))
                if data.get(prop) is None and not report.has_path(path):
                    report.add(
                        "missing-required-property",
                        path,
                        f"{prop} present",
                        "null" if prop in data else "absent",
                        f"creating a {concrete.short_name} requires {prop}",
                    )
        content = data.get("contentBytes")
        if isinstance(content, str) and "contentBytes" in checked_as.properties:
            decoded = base64_decoded_length(content)
            if decoded > MAX_FILE_BYTES:
                report.add(
                    "file-too-large",
                    "$.contentBytes",
                    f"at most {MAX_FILE_BYTES} bytes (3 MB) on a direct POST",
                    f"{decoded} bytes",
                    "files over 3 MB must be uploaded through createUploadSession; Graph"
                    " answers 400 'Maximum request length exceeded.'",
                )
    else:
        for prop in sorted(checked_as.required_in_response - data.keys()):
            report.add(
                "missing-required-property",
                json_path((prop,)),
                f"{prop} present (set by the service)",
                "absent",
                f"a created {checked_as.short_name} carries {prop}",
            )
    return concrete


def _check_session_file_size(report: _Report, data: dict[str, Any]) -> None:
    """A file a direct POST could carry needs no upload session (Graph's docs: under 3 MB).

    Messages and events only: To Do's docs offer sessions for files of any size."""
    for key in ("AttachmentItem", "attachmentItem"):
        item = data.get(key)
        size = item.get("size") if isinstance(item, dict) else None
        if isinstance(size, int) and not isinstance(size, bool) and 0 <= size < MAX_FILE_BYTES:
            report.add(
                "upload-session-small-file",
                json_path((key, "size")),
                f"at least {MAX_FILE_BYTES} bytes (3 MB) for an upload session",
                f"{size} bytes",
                "a file under 3 MB can be attached with one POST to the attachments collection",
                Severity.INFO,
            )
            return


def _check_body(
    report: _Report,
    match: RouteMatch,
    data: object,
    declared_elsewhere: AttachmentType | None = None,
) -> AttachmentType | None:
    if not isinstance(data, dict):
        report.add(
            "body-not-object",
            "$",
            "a JSON object",
            describe_value(data),
            "the body must be a JSON object",
        )
        return None
    schema = schema_for_route(match)
    if schema.operation is Operation.CREATE:
        return _check_attachment(report, schema, data, declared_elsewhere)
    if report.where == "request":
        model = upload_session_request_model(match.route.base_type)
        _validate_model(report, model, data, "createUploadSession parameters")
        _check_session_file_size(report, data)
    else:
        _validate_model(report, UploadSession, data, "uploadSession")
    return None


def validate_json_body(
    kind: Kind,
    match: RouteMatch | None,
    data: object,
    *,
    declared_type: str | None = None,
) -> list[Finding]:
    """Check an already parsed body. ``declared_type`` (a response's) stands in for a
    missing ``@odata.type``; usually the type its request declared."""
    report = _Report(kind)
    try:
        if match is None:
            _unknown_route(report)
            return report.findings
        declared = type_info(declared_type, match.api_version) if declared_type else None
        _check_body(report, match, data, declared)
    except Exception as exc:
        _internal_error(report, exc)
    return report.findings


# --- requests ------------------------------------------------------------------------


@dataclass(frozen=True)
class RequestCheck:
    """Findings for a request, plus what was learned on the way (for the simulator)."""

    findings: list[Finding]
    data: dict[str, Any] | None  # the body, when it is a JSON object
    attachment_type: AttachmentType | None  # the allowed concrete type it declared


def _unknown_route(report: _Report) -> None:
    report.add(
        "unknown-route",
        "$route",
        "an attachment-creating Graph route",
        "no match",
        "not an attachment route; the body was not checked",
    )


def _internal_error(report: _Report, exc: BaseException) -> None:
    report.add(
        "validator-error",
        "$body",
        "a check that completes",
        _truncate(f"{type(exc).__name__}: {exc}"),
        "graphtape's validator failed on this input; the other findings may be incomplete",
    )


def _check_content_type(report: _Report, headers: Mapping[str, str], body: bytes) -> None:
    content_type = header_value(headers, "content-type")
    if content_type is None:
        if body:
            report.add(
                "non-json-content-type",
                "$headers.content-type",
                "application/json",
                "absent",
                "a body was sent without a Content-Type header",
            )
    elif not _is_json_media_type(content_type):
        report.add(
            "non-json-content-type",
            "$headers.content-type",
            "application/json",
            _truncate(content_type),
            "Graph reads and writes attachment bodies as application/json",
        )


def check_request(
    match: RouteMatch | None, method: str, headers: Mapping[str, str], body: bytes
) -> RequestCheck:
    """Check one request; never raises."""
    report = _Report("request")
    data: dict[str, Any] | None = None
    declared: AttachmentType | None = None
    try:
        if match is None:
            _unknown_route(report)
            return RequestCheck(report.findings, None, None)
        if str(method).upper() != "POST":
            report.add(
                "method-not-validated",
                "$route",
                "POST",
                _truncate(str(method)),
                "only POST creates attachments; nothing to check",
            )
            return RequestCheck(report.findings, None, None)
        if match.route.deprecated:
            report.add(
                "deprecated-route",
                "$route",
                "a supported route",
                match.route.template,
                f"route {match.route.name} is deprecated (Outlook tasks stopped returning"
                " data in 2022)",
            )
        body = bytes(body or b"")
        _check_content_type(report, headers, body)
        if len(body) > MAX_REQUEST_BYTES:
            report.add(
                "request-too-large",
                "$body",
                f"at most {MAX_REQUEST_BYTES} bytes",
                f"{len(body)} bytes",
                "Graph answers 400 'Maximum request length exceeded.'",
            )
        parsed, problem = parse_json_body(body)
        if problem is not None:
            report.add(
                "invalid-json",
                "$body",
                "a UTF-8 JSON object",
                problem,
                "Graph answers 400: Unable to read JSON request payload",
            )
        else:
            declared = _check_body(report, match, parsed)
            data = parsed if isinstance(parsed, dict) else None
    except Exception as exc:
        _internal_error(report, exc)
    return RequestCheck(report.findings, data, declared)


def validate_request(
    match: RouteMatch | None, method: str, headers: Mapping[str, str], body: bytes
) -> list[Finding]:
    """Findings for an attachment-creating request."""
    return check_request(match, method, headers, body).findings


# --- responses -----------------------------------------------------------------------


def _check_error_envelope(report: _Report, body: bytes) -> None:
    expected = '{"error": {"code": string, "message": string}}'
    data, problem = parse_json_body(body)
    if problem is not None:
        report.add("error-envelope", "$body", expected, problem, "the error body is not JSON")
        return
    if not isinstance(data, dict) or not isinstance(data.get("error"), dict):
        seen = describe_value(data.get("error") if isinstance(data, dict) else data)
        path = "$.error" if isinstance(data, dict) else "$"
        report.add("error-envelope", path, expected, seen, "not Graph's error envelope")
        return
    error = data["error"]
    for key in ("code", "message"):
        if not isinstance(error.get(key), str):
            report.add(
                "error-envelope",
                json_path(("error", key)),
                "String",
                "absent" if key not in error else describe_value(error[key]),
                f"Graph's error envelope carries error.{key} as a string",
            )


def validate_response(
    match: RouteMatch | None,
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    request_body: bytes | None = None,
) -> list[Finding]:
    """Findings for the response to an attachment-creating request."""
    report = _Report("response")
    try:
        if match is None:
            _unknown_route(report)
            return report.findings
        body = bytes(body or b"")
        if status >= 400:
            _check_error_envelope(report, body)
            return report.findings
        if not 200 <= status < 300:
            report.add(
                "unexpected-status",
                "$status",
                "201",
                str(status),
                "an attachment create answers 201, or an error status",
            )
            return report.findings
        # taskfileattachment-createuploadsession documents 200 OK; every other route creates: 201.
        to_do_session = (match.route.operation is Operation.CREATE_UPLOAD_SESSION
                         and match.route.base_type == "attachmentBase")
        expected_status = 200 if to_do_session else 201
        if status != expected_status:
            report.add(
                "unexpected-success-status",
                "$status",
                str(expected_status),
                str(status),
                "Graph answers 200 OK to a To Do createUploadSession" if to_do_session
                else "Graph answers 201 Created when it creates an attachment",
            )
            if not body:
                return report.findings
        _check_content_type(report, headers, body)
        parsed, problem = parse_json_body(body)
        if problem is not None:
            report.add("invalid-json", "$body", "a UTF-8 JSON object", problem, "unreadable body")
            return report.findings
        declared = None
        if isinstance(parsed, dict) and "@odata.type" not in parsed and request_body:
            declared = _declared_request_type(schema_for_route(match), request_body)
        _check_body(report, match, parsed, declared)
    except Exception as exc:
        _internal_error(report, exc)
    return report.findings


# --- recorded and live exchanges ----------------------------------------------------------


def request_findings(match: RouteMatch | None, request: Request) -> tuple[bytes, list[Finding]]:
    """The request body with its Content-Encoding undone, and the request's findings.

    A body that cannot be decoded is one finding (and an empty body), never an exception.
    """
    body, findings = decode_for_validation(request.body, request.headers.get("content-encoding"), "request")
    if not findings:
        findings = validate_request(match, request.method, request.headers.as_dict(), body)
    return body, findings


def response_findings(match: RouteMatch | None, response: Response,
                      request_body: bytes | None) -> tuple[bytes, list[Finding]]:
    """The decoded response body and the response's findings.

    ``request_body`` (decoded) tells the subtype a response without ``@odata.type`` is checked as.
    """
    body, findings = decode_for_validation(response.body, response.headers.get("content-encoding"), "response")
    if not findings:
        findings = validate_response(match, response.status_code, response.headers.as_dict(), body, request_body)
    return body, findings


def validate_interaction(interaction: Interaction) -> list[Finding]:
    """Fresh findings for a recorded interaction (the schema may be newer than the recording)."""
    req = interaction.request
    match = match_route(req.method, req.path)
    request_body, findings = request_findings(match, req)
    _, answer_findings = response_findings(match, interaction.response, request_body)
    return findings + answer_findings
