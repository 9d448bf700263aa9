"""What Microsoft Graph is, for attachment traffic: routes, schema, validation, upload sessions.

No mitmproxy and no click here. Routes and types are generated from Microsoft's CSDL
(``metadata``); the few rules it cannot express are in ``limits``. The public API checks
a request or response body against Graph's documented schema for a route:

    from graphtape.addons.graph import match_route, validate_request

    route = match_route("POST", "/v1.0/me/messages/AAMk=/attachments")
    for finding in validate_request(route, "POST", {"content-type": "application/json"}, body):
        print(finding.severity.value, finding.path, finding.message)
"""

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
