"""How Graph refuses a request its schema rejects: the status, error code and message for the
first problem the validator found, in the order Graph's reader meets them (content type,
size, JSON, ``@odata.type``, then properties)."""

from __future__ import annotations

from collections.abc import Mapping

from graphtape.addons.graph.models import NAMESPACE
from graphtape.addons.graph.routes import RouteMatch
from graphtape.addons.graph.validation import RequestCheck, header_value
from graphtape.addons.simulation.responses import GraphRejection
from graphtape.cassettes.findings import Finding, Severity

__all__ = ["reject_like_graph"]

_UNREADABLE_JSON = (
    "Unable to read JSON request payload. Please ensure Content-Type header is set and"
    " payload is of valid JSON format."
)
_TOO_LARGE = "Maximum request length exceeded."


def reject_like_graph(check: RequestCheck, match: RouteMatch, headers: Mapping[str, str]) -> None:
    """Raise the answer Graph gives to the first request problem it would refuse."""
    errors = [f for f in check.findings if f.severity is Severity.ERROR]
    if not errors:
        return
    first: dict[str, Finding] = {}
    for finding in errors:
        first.setdefault(finding.code, finding)
    base_name = NAMESPACE + match.route.base_type

    if "non-json-content-type" in first:
        if header_value(headers, "content-type") is None:
            raise GraphRejection(400, "BadRequest", _UNREADABLE_JSON)
        raise GraphRejection(
            415,
            "UnsupportedMediaType",
            f"The content type '{first['non-json-content-type'].seen}' is not supported;"
            " send application/json.",
        )
    if "request-too-large" in first:
        raise GraphRejection(400, "BadRequest", _TOO_LARGE)
    if "invalid-json" in first or "body-not-object" in first:
        raise GraphRejection(400, "BadRequest", _UNREADABLE_JSON)
    top_type = [f for f in errors if f.path == "$.@odata.type"]
    for finding in top_type:
        if finding.code in ("missing-odata-type", "abstract-odata-type"):
            raise GraphRejection(
                422, "UnprocessableType", f"Cannot process input of abstract type '{base_name}'"
            )
    for finding in top_type:
        declared = check.data.get("@odata.type") if check.data else None
        if finding.code == "unknown-odata-type":
            raise GraphRejection(
                400,
                "RequestBodyRead",
                f"A type named '{declared}' could not be resolved by the model. When a model"
                " is available, each type name must resolve to a valid type.",
            )
        if finding.code == "odata-type-not-allowed-on-route":
            raise GraphRejection(
                400,
                "RequestBodyRead",
                f"A resource with type '{str(declared).lstrip('#')}' was found, but it is not"
                f" assignable to the expected type '{base_name}'. The type specified in the"
                " resource must be equal to either the expected type or a derived type.",
            )
        if finding.code == "wrong-type":
            raise GraphRejection(
                400, "RequestBodyRead", "The @odata.type annotation must be a string."
            )
    if "file-too-large" in first:
        raise GraphRejection(400, "BadRequest", _TOO_LARGE)
    for finding in errors:
        rejection = _property_rejection(finding)
        if rejection is not None:
            raise rejection

def _property_rejection(finding: Finding) -> GraphRejection | None:
    prop = finding.path.removeprefix("$.")
    if finding.code == "unknown-property":
        type_name = finding.expected.removeprefix("a property of ")
        return GraphRejection(
            400,
            "RequestBodyRead",
            f"The property '{prop}' does not exist on type '{type_name}'."
            " Make sure to only use property names that are defined by the type.",
        )
    if finding.code == "wrong-type":
        return GraphRejection(
            400,
            "RequestBodyRead",
            f"Cannot convert the value of property '{prop}' ({finding.seen}) to the"
            f" expected type '{finding.expected}'.",
        )
    if finding.code == "enum-value":
        return GraphRejection(
            400,
            "RequestBodyRead",
            f"The value of property '{prop}' ({finding.seen}) is not a valid enumeration"
            " type constant.",
        )
    if finding.code == "invalid-base64":
        return GraphRejection(
            400, "ErrorInvalidProperty", f"The value of property '{prop}' is not valid base64."
        )
    if finding.code == "missing-required-property":
        return GraphRejection(
            400,
            "ErrorInvalidProperty",
            f"The property '{prop}' is required: {finding.message}.",
        )
    if finding.code in ("missing-odata-type", "unknown-odata-type"):
        return GraphRejection(
            400, "RequestBodyRead", f"Invalid value for '{prop}': {finding.message}."
        )
    return None
