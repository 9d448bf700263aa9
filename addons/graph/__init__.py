"""What Microsoft Graph is, for attachment traffic: routes, schema, validation, upload sessions.

No mitmproxy and no click here. Routes and types are generated from Microsoft's CSDL
(``metadata``); the few rules it cannot express are in ``limits``. The public API checks
a request or response body against Graph's documented schema for a route:

    from graphtape.addons.graph import match_route, validate_request

    route = match_route("POST", "/v1.0/me/messages/AAMk=/attachments")
    for finding in validate_request(route, "POST", {"content-type": "application/json"}, body):
        print(finding.severity.value, finding.path, finding.message)
"""

from __future__ import annotations

import importlib
import typing

if typing.TYPE_CHECKING:
    from graphtape.addons.graph.models import type_info
    from graphtape.addons.graph.routes import (
        Operation,
        Route,
        RouteMatch,
        all_routes,
        match_inline,
        match_path,
        match_route,
        route_by_name,
    )
    from graphtape.addons.graph.validation import (
        request_findings,
        response_findings,
        validate_interaction,
        validate_json_body,
        validate_request,
        validate_response,
    )
    from graphtape.cassettes.findings import Finding, Severity

# Where each public name lives. Imported on first use (PEP 562), not with the package: a
# replaying proxy matches routes but never builds the schema's types, and importing them
# was a large part of a test session's start-up.
_HOMES = {
    "Finding": "graphtape.cassettes.findings",
    "Severity": "graphtape.cassettes.findings",
    "type_info": "graphtape.addons.graph.models",
    **{name: "graphtape.addons.graph.routes" for name in (
        "Operation", "Route", "RouteMatch", "all_routes", "match_inline", "match_path", "match_route",
        "route_by_name")},
    **{name: "graphtape.addons.graph.validation" for name in (
        "request_findings", "response_findings", "validate_interaction", "validate_json_body", "validate_request",
        "validate_response")},
}


def __getattr__(name: str) -> typing.Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


__all__ = [
    "Finding",
    "Operation",
    "Route",
    "RouteMatch",
    "Severity",
    "all_routes",
    "match_inline",
    "match_path",
    "match_route",
    "request_findings",
    "response_findings",
    "route_by_name",
    "type_info",
    "validate_interaction",
    "validate_json_body",
    "validate_request",
    "validate_response",
]
