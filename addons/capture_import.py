"""Turn captured exchanges (HAR, mitmproxy flow files) into cassette interactions.

The same steps as a live recording: keep attachment-creating calls unless the scope
is ``all``, validate request and response (the findings go with the interaction),
and redact secrets with the same Redactor, so an imported cassette replays exactly
like a recorded one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from graphtape.addons.graph_validation import validate_request, validate_response
from graphtape.addons.recorder import _decoded
from graphtape.addons.scope import in_scope, route_of
from graphtape.cassettes.har import Exchange, read_har
from graphtape.cassettes.model import Interaction, InteractionMeta
from graphtape.cassettes.redaction import Redactor

__all__ = ["ImportResult", "read_capture", "interactions_from_exchanges"]


@dataclass
class ImportResult:
    interactions: list[Interaction] = field(default_factory=list)
    skipped: int = 0  # out of scope


def read_capture(path: Path) -> list[Exchange]:
    """A HAR file (JSON, by its first byte) or a mitmproxy flow file."""
    with open(path, "rb") as fh:
        head = fh.read(64).lstrip()
    if head.startswith(b"{"):
        return read_har(path)
    from graphtape.addons.flow_files import read_flow_file

    return read_flow_file(path)


def interaction_from_exchange(exchange: Exchange, redactor: Redactor) -> Interaction:
    req, resp = exchange.request, exchange.response
    route = route_of(req.method, req.uri)
    req_body, findings = _decoded(req.body, req.headers.get("content-encoding"), "request")
    if not findings:
        findings = validate_request(route, req.method, req.headers.as_dict(), req_body)
    resp_body, resp_findings = _decoded(resp.body, resp.headers.get("content-encoding"), "response")
    if not resp_findings:
        resp_findings = validate_response(route, resp.status_code, resp.headers.as_dict(), resp_body, req_body)
    return Interaction(
        request=redactor.request(req),
        response=redactor.response(resp),
        meta=InteractionMeta(
            route=route.route.name if route else None,
            route_template=route.route.template if route else None,
            recorded_at=exchange.started,
            findings=tuple(findings) + tuple(resp_findings),
        ),
    )


def interactions_from_exchanges(exchanges: list[Exchange], scope: str, redactor: Redactor) -> ImportResult:
    result = ImportResult()
    for exchange in exchanges:
        if not in_scope(scope, route_of(exchange.request.method, exchange.request.uri)):
            result.skipped += 1
            continue
        result.interactions.append(interaction_from_exchange(exchange, redactor))
    return result
