"""Findings about one attachment request or response, checked against Graph's schema.

The entry points never raise: whatever bytes arrive (not UTF-8, not JSON, a JSON
number, deep nesting, a 5 MB string), problems come back as findings. A body is parsed
once and checked by the models generated from Graph's metadata (:mod:`.models`): the
``@odata.type`` of each object picks its model, nested objects and collections included,
so every attachment sent inline in a ``sendMail`` or a new message is checked like one
POSTed on its own. Model errors become findings with the full JSON path
(``$.Message.attachments[1].contentBytes``), the documented type and a short description
of the value seen. Sizes, read-only and required properties and success statuses come
from the hand-written table in :mod:`.limits`.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from pydantic import ValidationError

from graphtape.addons.graph.limits import (
    MAX_FILE_BYTES,
    MAX_REQUEST_BYTES,
    TODO_UPLOAD_SESSION_MAX_BYTES,
    UPLOAD_SESSION_MAX_BYTES,
    UPLOAD_SESSION_MIN_BYTES,
    success_statuses,
)
from graphtape.addons.graph.metadata import ActionInfo, GraphSchema, ParameterInfo, PropertyInfo, TypeInfo, load_schema
from graphtape.addons.graph.models import (
    NAMESPACE,
    GraphType,
    TypeChoice,
    base64_decoded_length,
    choose_type,
    parameters_model,
    property_label,
    type_info,
    validate_choice,
)
from graphtape.addons.graph.routes import Operation, Route, RouteMatch, match_route
from graphtape.cassettes.encoding import decode_for_validation
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
Loc = tuple[str | int, ...]

_SEEN_LIMIT = 80

DEFAULT_SEVERITY: dict[str, Severity] = {
    "unknown-route": Severity.INFO,
    "deprecated-route": Severity.INFO,
    "method-not-validated": Severity.INFO,
    "missing-odata-type": Severity.ERROR,
    "unknown-odata-type": Severity.ERROR,
    "odata-type-case": Severity.WARNING,
    "abstract-odata-type": Severity.ERROR,
    "odata-type-not-allowed-on-route": Severity.ERROR,
    "odata-type-not-assignable": Severity.ERROR,
    "wrong-type": Severity.ERROR,
    "invalid-base64": Severity.ERROR,
    "read-only-property": Severity.WARNING,
    "missing-required-property": Severity.ERROR,
    "enum-value": Severity.ERROR,
    "unknown-property": Severity.ERROR,
    "file-too-large": Severity.ERROR,
    "request-too-large": Severity.ERROR,
    "upload-session-small-file": Severity.ERROR,
    "upload-session-too-large": Severity.ERROR,
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
    # Python refuses to convert ints of more than 4300 digits; no such number fits any
    # Edm integer type anyway, so keep it as a Decimal and let the type check report it.
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


# --- what a route accepts ---------------------------------------------------------------


@dataclass(frozen=True)
class RouteSchema:
    """What an attachments route accepts: its declared base type and the subtypes it creates."""

    operation: Operation
    api_version: str
    base: GraphType
    allowed: tuple[GraphType, ...]

    @property
    def allowed_names(self) -> str:
        return " | ".join("#" + t.name for t in self.allowed)


def schema_for_route(match: RouteMatch) -> RouteSchema:
    """The attachment types a matched route's attachments are declared as, and may be."""
    version = match.api_version
    base = type_info(NAMESPACE + match.route.base_type, version)
    if base is None:  # the metadata always holds attachment and attachmentBase
        raise LookupError(f"no type {match.route.base_type} in {version}")
    allowed = tuple(
        t for t in (type_info(c.name, version) for c in load_schema(version).concrete_subtypes(base.name)) if t
    )
    return RouteSchema(match.route.operation, version, base, allowed)


# --- collecting findings ------------------------------------------------------------


class _Report:
    """Findings for one side of a call, with the side's default severities."""

    def __init__(self, where: Kind) -> None:
        self.where = where
        self.findings: list[Finding] = []

    def add(self, code: str, path: str, expected: str, seen: str, message: str,
            severity: Severity | None = None) -> None:
        if severity is None:
            severity = (
                _RESPONSE_SEVERITY.get(code) if self.where == "response" else None
            ) or DEFAULT_SEVERITY.get(code, Severity.ERROR)
        self.findings.append(Finding(severity, code, self.where, path, _truncate(expected, 200), _truncate(seen),
                                     message))

    def has_path(self, path: str) -> bool:
        return any(f.path == path for f in self.findings)


@dataclass(frozen=True)
class _Root:
    """What a body's top level is: a value of a type (chosen by @odata.type) or action parameters."""

    schema: GraphSchema
    type: TypeInfo | None = None
    action: ActionInfo | None = None
    renamed: Mapping[str, str] | None = None  # CSDL parameter name -> the spelling the body used
    on_route: bool = False  # a top-level type not assignable is "not allowed on this route"


def _unwrap(value: object, part: str | int) -> object:
    if isinstance(part, int):
        return value[part] if isinstance(value, list) and 0 <= part < len(value) else None
    return value.get(part) if isinstance(value, dict) else None


@dataclass
class _Spot:
    """Where an error's loc leads: the object's type (or the action), the property, the value."""

    container: str  # the qualified type (or action) holding the last property
    prop: PropertyInfo | ParameterInfo | None
    item: bool  # the loc ends inside a collection
    properties: tuple[str, ...]  # the container's property names (for case hints)


def _locate(root: _Root, data: object, loc: Loc) -> _Spot:
    """Follow ``loc`` through the body and the schema: which type and property it ends at."""
    schema = root.schema
    current: TypeInfo | None = root.type
    action = root.action
    container = action.name if action else (current.name if current else "")
    properties: tuple[str, ...] = tuple(action.parameters) if action else (
        tuple(schema.all_properties(current.name)) if current else ())
    prop: PropertyInfo | ParameterInfo | None = None
    pending: str | None = None  # a structured type whose value's @odata.type is still to be read
    value = data
    item = False
    for part in loc:
        if isinstance(part, int):
            value = _unwrap(value, part)
            item = True
            continue
        if part == "@odata.type":
            break
        if pending is not None:
            if isinstance(value, dict) and pending in schema.types:
                current = choose_type(schema, pending, value).type
                container, properties = current.name, tuple(schema.all_properties(current.name))
            action, pending = None, None
        item = False
        if action is not None:
            prop = action.parameters.get(part)
            action = None
        elif current is not None:
            prop = schema.all_properties(current.name).get(part)
        else:
            prop = None
        value = _unwrap(value, part)
        if prop is None:
            break
        target = schema.types.get(prop.type)
        pending = prop.type if target is not None and target.kind != "enum" else None
    return _Spot(container, prop, item, properties)


def _label(root: _Root, spot: _Spot) -> str:
    if spot.prop is None:
        return "a documented value"
    label = property_label(root.schema, spot.prop)
    if spot.item and label.startswith("Collection("):
        return label[len("Collection(") : -1]
    return label


_ODATA_TYPE_ISSUES = {
    "odata_type_missing",
    "odata_type_not_string",
    "odata_type_unknown",
    "odata_type_case",
    "odata_type_abstract",
    "odata_type_not_assignable",
}


def _odata_type_finding(report: _Report, root: _Root, kind: str, loc: Loc, ctx: dict[str, Any], seen: object) -> None:
    path = json_path(loc)
    declared = str(ctx.get("declared", ""))
    allowed = str(ctx.get("allowed", ""))
    named = str(ctx.get("named", "")).removeprefix("#")
    top = len(loc) == 1
    version = root.schema.api_version
    if kind == "odata_type_missing":
        if report.where == "request":
            report.add("missing-odata-type", path, allowed, "absent",
                       f"Graph answers 422 UnprocessableType: Cannot process input of abstract type '{declared}'")
        else:
            report.add("missing-odata-type", path, allowed, "absent",
                       "the response does not name its type; checked against the type the request declared,"
                       " or the one its properties imply")
    elif kind == "odata_type_not_string":
        report.add("wrong-type", path, "String", describe_value(seen),
                   "@odata.type must be a string naming the type")
    elif kind == "odata_type_unknown":
        report.add("unknown-odata-type", path, allowed, describe_value(seen),
                   f"{_truncate(str(seen))} is not a documented type in {version}"
                   f" (expected {declared} or a type derived from it)")
    elif kind == "odata_type_case":
        report.add("odata-type-case", path, f"#{named}", describe_value(seen),
                   f"{_truncate(str(seen))} differs only by case from '#{named}'; the SDKs match it"
                   " case-insensitively, OData type names are case-sensitive: checked as that type")
    elif kind == "odata_type_abstract":
        report.add("abstract-odata-type", path, allowed, describe_value(seen),
                   f"{named} is abstract; Graph answers 422 UnprocessableType: Cannot process input of abstract"
                   f" type '{named}'")
    elif top and root.on_route:
        short = named.removeprefix(NAMESPACE)
        report.add("odata-type-not-allowed-on-route", path, allowed, describe_value(seen),
                   f"{short} cannot be attached to this kind of item (the route takes"
                   f" {declared.removeprefix(NAMESPACE)} subtypes)")
    else:
        report.add("odata-type-not-assignable", path, allowed, describe_value(seen),
                   f"{named} is not {declared} or a type derived from it; Graph answers 400: it is not"
                   " assignable to the expected type")


def _enum_message(key: str, value: object, members: list[str]) -> str:
    if isinstance(value, str):
        same_but_case = [m for m in members if m.lower() == value.lower()]
        if same_but_case:
            return (f"{key} {value!r} differs only by case from {same_but_case[0]!r}; OData enum members"
                    " are case-sensitive (Graph's Outlook service accepts it, other readers may not)")
    return f"{key} is not a member of its enum"


def _translate(report: _Report, root: _Root, data: object, errors: list[Any], prefix: Loc) -> None:
    """Turn pydantic errors (locs relative to ``data``) into findings (paths from the body's root)."""
    for error in errors:
        loc: Loc = tuple(error.get("loc", ()))
        kind = error.get("type", "")
        value = error.get("input")
        ctx = dict(error.get("ctx") or {})
        full = prefix + _as_sent(root, loc)
        if kind in _ODATA_TYPE_ISSUES:
            _odata_type_finding(report, root, kind, full, ctx, value)
            continue
        path = json_path(full)
        key = next((str(item) for item in reversed(full) if isinstance(item, str)), "value")
        if kind == "extra_forbidden":
            spot = _locate(root, data, loc[:-1])
            what = "a parameter of" if root.action is not None and len(loc) == 1 else "a property of"
            same_but_case = [p for p in spot.properties if p.lower() == key.lower()]
            hint = f"; it differs only by case from {same_but_case[0]!r}" if same_but_case else ""
            report.add("unknown-property", path, f"{what} {spot.container}", describe_value(value),
                       f"{key!r} is not a documented {what.split()[1]} {spot.container}{hint}")
            continue
        spot = _locate(root, data, loc)
        expected = _label(root, spot)
        if kind == "missing":
            report.add("missing-required-property", path, f"{key} present", "absent",
                       f"{key} is required (a parameter that cannot be null must be sent)")
        elif kind == "enum_value":
            members = str(ctx.get("members", "")).split(" | ")
            # A member in another case ("HTML", "Edit") is what Graph's own examples send and its
            # Outlook service accepts (the docs answer "Edit" with "edit"): a warning, not an error.
            by_case = isinstance(value, str) and any(m.lower() == value.lower() for m in members)
            report.add("enum-value", path, "one of " + " | ".join(members), describe_value(value),
                       _enum_message(key, value, members), Severity.WARNING if by_case else None)
        elif kind == "invalid_base64":
            report.add("invalid-base64", path, "standard base64 (RFC 4648 section 4, padded)", describe_value(value),
                       f"{key} is not valid base64: {ctx.get('problem', 'not base64')}")
        else:
            if value is None and kind != "missing":
                expected = f"{expected} (non-null)"
            if kind in ("less_than_equal", "greater_than_equal"):
                message = f"{key} is outside the {expected} range"
            elif "problem" in ctx:
                message = f"{key}: {ctx.get('label', expected)}: {ctx['problem']}"
            else:
                message = f"{key}: {error.get('msg', kind)}"
            report.add("wrong-type", path, expected, describe_value(value), message)


def _as_sent(root: _Root, loc: Loc) -> Loc:
    """A loc with its first member spelled as the body spelled it (parameters match case-insensitively)."""
    if root.renamed and loc and isinstance(loc[0], str) and loc[0] in root.renamed:
        return (root.renamed[loc[0]], *loc[1:])
    return loc


def _validate(report: _Report, root: _Root, choice: TypeChoice, data: dict[str, Any], prefix: Loc = ()) -> None:
    try:
        validate_choice(choice, data, root.schema.api_version)
    except ValidationError as exc:
        _translate(report, root, data, exc.errors(), prefix)


# --- the attachment rules beyond the schema ------------------------------------------------


def _concrete(choice: TypeChoice) -> TypeInfo | None:
    """The type an object declared well enough to be created as, or None."""
    blocking = {"odata_type_missing", "odata_type_not_string", "odata_type_unknown", "odata_type_not_assignable"}
    if choice.type.abstract or any(kind in blocking for kind, _ in choice.issues):
        return None
    return choice.type


def _attachment_request_rules(report: _Report, version: str, data: dict[str, Any], prefix: Loc,
                              concrete: TypeInfo | None, base: str) -> None:
    """Read-only and required properties (limits.py) and the one-request file size."""
    info = type_info(concrete.name if concrete else base, version)
    for prop in sorted((info.read_only if info else frozenset()) & data.keys()):
        report.add("read-only-property", json_path((*prefix, prop)), "absent (set by the service)",
                   describe_value(data[prop]), f"{prop} is read-only; the service sets it and ignores or rejects"
                   " the value sent")
    if concrete is not None and info is not None:
        for prop in sorted(info.required_on_create):
            if data.get(prop) is not None:
                continue
            path = json_path((*prefix, prop))
            if not report.has_path(path):
                report.add("missing-required-property", path, f"{prop} present", "null" if prop in data else "absent",
                           f"creating a {info.short_name} requires {prop}")
    content = data.get("contentBytes")
    if isinstance(content, str) and info is not None and "contentBytes" in info.properties:
        decoded = base64_decoded_length(content)
        if decoded > MAX_FILE_BYTES:
            report.add("file-too-large", json_path((*prefix, "contentBytes")),
                       f"at most {MAX_FILE_BYTES} bytes (3 MB) in one request", f"{decoded} bytes",
                       "files over 3 MB must be uploaded through createUploadSession; Graph answers 400"
                       " 'Maximum request length exceeded.'")


def _inline_attachments(route: Route, data: dict[str, Any], renamed: Mapping[str, str]) -> Iterator[tuple[Loc, object]]:
    """Every attachment object a carrier's body holds: (its loc as sent, the value)."""
    for location in route.attachment_paths:
        steps = location.steps
        found: list[tuple[Loc, object]] = [((), data)]
        for index, (member, collection) in enumerate(steps):
            name = renamed.get(member, member) if index == 0 else member
            following: list[tuple[Loc, object]] = []
            for loc, value in found:
                child = value.get(name) if isinstance(value, dict) else None
                if child is None:
                    continue
                if collection or index == len(steps) - 1:
                    if isinstance(child, list):
                        following.extend(((*loc, name, i), v) for i, v in enumerate(child))
                elif isinstance(child, dict):
                    following.append(((*loc, name), child))
            found = following
        yield from found


# --- request bodies --------------------------------------------------------------------------


def _parameters(action: ActionInfo, data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The body with parameter names in the CSDL's spelling (SDKs send ``Message``, the docs
    ``message``: Graph matches them case-insensitively), and the spelling each one was sent in."""
    by_lower = {name.lower(): name for name in action.parameters}
    body: dict[str, Any] = {}
    renamed: dict[str, str] = {}
    for key, value in data.items():
        official = by_lower.get(key.lower()) if isinstance(key, str) else None
        if official is not None and official not in body:
            body[official] = value
            if official != key:
                renamed[official] = key
        else:
            body[key] = value
    return body, renamed


@functools.cache
def _action_of(route: Route, version: str) -> ActionInfo | None:
    """The action a route calls (its createUploadSession, sendMail, reply...), or None."""
    schema = load_schema(version)
    if route.operation is Operation.CREATE_UPLOAD_SESSION:
        return schema.upload_session_action(NAMESPACE + route.base_type)
    if route.action and route.binding:
        return schema.action(route.action, route.binding)
    return None


def _check_parameters(
    report: _Report, match: RouteMatch, data: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    schema = load_schema(match.api_version)
    action = _action_of(match.route, match.api_version)
    if action is None:  # the metadata pairs every action route with its action
        return data, {}
    body, renamed = _parameters(action, data)
    root = _Root(schema, action=action, renamed=renamed)
    try:
        parameters_model(action, match.api_version).__pydantic_validator__.validate_python(body)
    except ValidationError as exc:
        _translate(report, root, body, exc.errors(), ())
    return body, renamed


def _check_session_item(report: _Report, match: RouteMatch, body: dict[str, Any], renamed: Mapping[str, str]) -> None:
    """What createUploadSession's file description must say (limits.py): the properties the
    action's page asks for at minimum, and a size Graph takes through a session (Outlook 3 MB
    to 150 MB, To Do up to 25 MB)."""
    action = _action_of(match.route, match.api_version)
    for name, parameter in (action.parameters.items() if action else ()):
        item = body.get(name)
        if not isinstance(item, dict):
            continue
        sent = renamed.get(name, name)
        info = type_info(parameter.type, match.api_version)
        for prop in sorted(info.required_on_create if info else ()):
            path = json_path((sent, prop))
            if item.get(prop) is None and not report.has_path(path):
                report.add("missing-required-property", path, f"{prop} present", "null" if prop in item else "absent",
                           f"createUploadSession needs at least the attachment type, name and size; {prop} is missing")
        size = item.get("size")
        if not isinstance(size, int) or isinstance(size, bool):
            continue
        path = json_path((sent, "size"))
        todo = match.route.base_type == "attachmentBase"
        maximum = TODO_UPLOAD_SESSION_MAX_BYTES if todo else UPLOAD_SESSION_MAX_BYTES
        if size > maximum:
            report.add("upload-session-too-large", path, f"at most {maximum} bytes ({maximum // 2**20} MB)",
                       f"{size} bytes", f"Graph takes files of at most {maximum // 2**20} MB through an upload"
                       " session on this route")
        elif not todo and 0 <= size < UPLOAD_SESSION_MIN_BYTES:
            report.add("upload-session-small-file", path, f"at least {UPLOAD_SESSION_MIN_BYTES} bytes (3 MB)",
                       f"{size} bytes", "Graph refuses upload sessions for files under 3 MB"
                       " (ErrorAttachmentSizeShouldNotBeLessThanMinimumSize): attach them with one POST")


def _check_request_body(report: _Report, match: RouteMatch, data: object) -> TypeInfo | None:
    """Check a parsed request body; returns the attachment type a direct POST declared, if allowed."""
    if not isinstance(data, dict):
        report.add("body-not-object", "$", "a JSON object", describe_value(data), "the body must be a JSON object")
        return None
    route, version = match.route, match.api_version
    schema = load_schema(version)
    operation = route.operation
    if operation is Operation.CREATE:
        declared = NAMESPACE + route.base_type
        choice = choose_type(schema, declared, data)
        _validate(report, _Root(schema, type=choice.type, on_route=True), choice, data)
        concrete = _concrete(choice)
        _attachment_request_rules(report, version, data, (), concrete, declared)
        return concrete
    if operation is Operation.CREATE_UPLOAD_SESSION:
        body, renamed = _check_parameters(report, match, data)
        _check_session_item(report, match, body, renamed)
        return None
    if operation is Operation.INLINE_ACTION:
        _, renamed = _check_parameters(report, match, data)
    else:
        renamed = {}
        if route.body_type:
            choice = choose_type(schema, route.body_type, data)
            _validate(report, _Root(schema, type=choice.type, on_route=True), choice, data)
    element = NAMESPACE + route.base_type
    for loc, value in _inline_attachments(route, data, renamed):
        if isinstance(value, dict) and element in schema.types:
            concrete = _concrete(choose_type(schema, element, value))
            _attachment_request_rules(report, version, value, loc, concrete, element)
    return None


# --- response bodies ------------------------------------------------------------------------


def _declared_type(match: RouteMatch, request_body: bytes | None) -> str | None:
    """The attachment type a request body declared, to check a typeless response by."""
    if not request_body:
        return None
    data, problem = parse_json_body(request_body)
    if problem is not None or not isinstance(data, dict):
        return None
    declared = data.get("@odata.type")
    if not isinstance(declared, str):
        return None
    info = type_info(declared, match.api_version)
    return info.name if info is not None else None


def _response_type(match: RouteMatch) -> str | None:
    """The type a successful answer's body holds, by the route's operation."""
    route = match.route
    if route.operation is Operation.CREATE:
        return NAMESPACE + route.base_type
    if route.operation is Operation.INLINE_CREATE:
        return route.body_type
    action = _action_of(route, match.api_version)
    return action.returns if action is not None else None


def _check_response_body(report: _Report, match: RouteMatch, data: object, hint: str | None) -> None:
    if not isinstance(data, dict):
        report.add("body-not-object", "$", "a JSON object", describe_value(data), "the body must be a JSON object")
        return
    declared = _response_type(match)
    schema = load_schema(match.api_version)
    if declared is None or declared not in schema.types:
        return
    choice = choose_type(schema, declared, data, hint)
    _validate(report, _Root(schema, type=choice.type, on_route=match.route.operation is Operation.CREATE), choice,
              data)
    if choice.type.abstract:
        return
    info = type_info(choice.type.name, match.api_version)
    for prop in sorted((info.required_in_response if info else frozenset()) - data.keys()):
        report.add("missing-required-property", json_path((prop,)), f"{prop} present (set by the service)", "absent",
                   f"a created {choice.type.short_name} carries {prop}")


def validate_json_body(kind: Kind, match: RouteMatch | None, data: object, *,
                       declared_type: str | None = None) -> list[Finding]:
    """Check an already parsed body. ``declared_type`` (a response's) stands in for a
    missing ``@odata.type``; usually the type its request declared."""
    report = _Report(kind)
    try:
        if match is None:
            _unknown_route(report)
            return report.findings
        if kind == "request":
            _check_request_body(report, match, data)
        else:
            hint = type_info(declared_type, match.api_version) if declared_type else None
            _check_response_body(report, match, data, hint.name if hint else None)
    except Exception as exc:
        _internal_error(report, exc)
    return report.findings


# --- requests ------------------------------------------------------------------------


@dataclass(frozen=True)
class RequestCheck:
    """Findings for a request, plus what was learned on the way (for the simulator)."""

    findings: list[Finding]
    data: dict[str, Any] | None  # the body, when it is a JSON object
    attachment_type: GraphType | None  # for a direct POST: the allowed concrete type it declared


def _unknown_route(report: _Report) -> None:
    report.add("unknown-route", "$route", "an attachment-creating Graph route", "no match",
               "not an attachment route; the body was not checked")


def _internal_error(report: _Report, exc: BaseException) -> None:
    report.add("validator-error", "$body", "a check that completes", _truncate(f"{type(exc).__name__}: {exc}"),
               "graphtape's validator failed on this input; the other findings may be incomplete")


def _check_content_type(report: _Report, headers: Mapping[str, str], body: bytes) -> None:
    content_type = header_value(headers, "content-type")
    if content_type is None:
        if body:
            report.add("non-json-content-type", "$headers.content-type", "application/json", "absent",
                       "a body was sent without a Content-Type header")
    elif not _is_json_media_type(content_type):
        report.add("non-json-content-type", "$headers.content-type", "application/json", _truncate(content_type),
                   "Graph reads and writes attachment bodies as application/json")


def check_request(match: RouteMatch | None, method: str, headers: Mapping[str, str], body: bytes) -> RequestCheck:
    """Check one request; never raises."""
    report = _Report("request")
    data: dict[str, Any] | None = None
    declared: GraphType | None = None
    try:
        if match is None:
            _unknown_route(report)
            return RequestCheck(report.findings, None, None)
        if str(method).upper() != "POST":
            report.add("method-not-validated", "$route", "POST", _truncate(str(method)),
                       "only POST creates attachments; nothing to check")
            return RequestCheck(report.findings, None, None)
        if match.route.deprecated:
            report.add("deprecated-route", "$route", "a supported route", match.route.template,
                       f"route {match.route.name} is deprecated ({match.route.deprecation or 'per the metadata'})")
        body = bytes(body or b"")
        _check_content_type(report, headers, body)
        if len(body) > MAX_REQUEST_BYTES:
            report.add("request-too-large", "$body", f"at most {MAX_REQUEST_BYTES} bytes", f"{len(body)} bytes",
                       "Graph answers 400 'Maximum request length exceeded.'")
        parsed, problem = parse_json_body(body)
        if problem is not None:
            report.add("invalid-json", "$body", "a UTF-8 JSON object", problem,
                       "Graph answers 400: Unable to read JSON request payload")
        else:
            concrete = _check_request_body(report, match, parsed)
            declared = type_info(concrete.name, match.api_version) if concrete is not None else None
            data = parsed if isinstance(parsed, dict) else None
    except Exception as exc:
        _internal_error(report, exc)
    return RequestCheck(report.findings, data, declared)


def validate_request(match: RouteMatch | None, method: str, headers: Mapping[str, str], body: bytes) -> list[Finding]:
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
            report.add("error-envelope", json_path(("error", key)), "String",
                       "absent" if key not in error else describe_value(error[key]),
                       f"Graph's error envelope carries error.{key} as a string")


def _expected_statuses(match: RouteMatch) -> tuple[int, ...]:
    route = match.route
    operation = route.operation.value
    if route.operation is Operation.INLINE_ACTION and _response_type(match) is not None:
        operation = "inlineAction+returns"
    return success_statuses(operation, route.container)


def validate_response(match: RouteMatch | None, status: int, headers: Mapping[str, str], body: bytes,
                      request_body: bytes | None = None) -> list[Finding]:
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
        expected = _expected_statuses(match)
        listed = " or ".join(str(s) for s in expected)
        if not 200 <= status < 300:
            report.add("unexpected-status", "$status", listed, str(status),
                       "this call answers " + listed + " when it succeeds, or an error status")
            return report.findings
        if status not in expected:
            report.add("unexpected-success-status", "$status", listed, str(status),
                       f"Graph answers {listed} when this call succeeds")
        if _response_type(match) is None or (not body and status not in expected):
            return report.findings  # an answer without a body (202 Accepted, or already reported)
        _check_content_type(report, headers, body)
        parsed, problem = parse_json_body(body)
        if problem is not None:
            report.add("invalid-json", "$body", "a UTF-8 JSON object", problem, "unreadable body")
            return report.findings
        hint = None
        if isinstance(parsed, dict) and "@odata.type" not in parsed and match.route.operation is Operation.CREATE:
            hint = _declared_type(match, request_body)
        _check_response_body(report, match, parsed, hint)
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
