"""What Microsoft Graph is, for attachment traffic: routes, schema, validation, upload sessions.

No mitmproxy and no click here. The public API checks a request or response body
against Graph's documented schema for a route:

    from graphtape.addons.graph import match_route, validate_request

    route = match_route("POST", "/v1.0/me/messages/AAMk=/attachments")
    for finding in validate_request(route, "POST", {"content-type": "application/json"}, body):
        print(finding.severity.value, finding.path, finding.message)
"""

from graphtape.addons.graph.routes import (
    Operation,
    Route,
    RouteMatch,
    match_path,
    match_route,
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
    "match_path",
    "match_route",
    "request_findings",
    "response_findings",
    "validate_interaction",
    "validate_json_body",
    "validate_request",
    "validate_response",
]
