"""Findings for a ``$batch`` call: the batch's own shape, and every attachment call inside it.

Each item that creates attachments (or carries them inline) is checked exactly as the same
call sent on its own would be (:mod:`graphtape.addons.graph.validation`), and so is its
answer inside the batch response. Findings name the item by position and id, then the JSON
path inside it (``$.requests[2](id=3).body.contentBytes``, ``$.responses[0](id=3).status``;
see :mod:`graphtape.addons.graph.batch`). Items that call other routes are not checked.

Pure logic; the recorder calls it live and ``graphtape validate`` on recorded batches.
"""

from __future__ import annotations

from dataclasses import replace

from graphtape.addons.graph.batch import (
    BatchItem,
    BatchProblem,
    BatchRequest,
    batch_version,
    item_path,
    item_route,
    parse_batch_request,
    parse_batch_response,
)
from graphtape.addons.graph.validation import validate_request, validate_response
from graphtape.cassettes.encoding import decode_for_validation
from graphtape.cassettes.findings import Finding, Severity
from graphtape.cassettes.model import Interaction, Request, Response

__all__ = [
    "batch_request_findings",
    "batch_response_findings",
    "check_recorded_batch",
    "is_attachment_batch",
]

_SEVERITY = {
    "batch-invalid": Severity.ERROR,
    "batch-too-many-requests": Severity.ERROR,
    "batch-duplicate-id": Severity.ERROR,
    "batch-unknown-dependency": Severity.ERROR,
    "batch-dependency-cycle": Severity.ERROR,
    "batch-versioned-url": Severity.ERROR,
    "batch-unknown-property": Severity.WARNING,
}


def _problem_finding(problem: BatchProblem) -> Finding:
    return Finding(_SEVERITY.get(problem.code, Severity.ERROR), problem.code, "request", problem.path,
                   problem.expected, problem.seen, problem.message)


def _nested(finding: Finding, prefix: str) -> Finding:
    """A finding about one call, re-pathed to where that call sits in the batch."""
    path = finding.path
    if path == "$" or path.startswith(("$.", "$[")):
        nested = f"{prefix}.body{path[1:]}"
    elif path.startswith("$headers"):
        nested = f"{prefix}.headers{path[len('$headers'):]}"
    elif path == "$route":
        nested = f"{prefix}.url"
    elif path.startswith("$"):
        nested = f"{prefix}.{path[1:]}"
    else:
        nested = f"{prefix}.{path}"
    return replace(finding, path=nested)


def _parsed(request: Request) -> tuple[bytes, BatchRequest | None, list[Finding]]:
    body, findings = decode_for_validation(request.body, request.headers.get("content-encoding"), "request")
    if findings:
        return body, None, findings
    return body, parse_batch_request(body), []


def is_attachment_batch(method: str, url: str, body: bytes, content_encoding: str | None = None) -> bool:
    """A ``POST .../$batch`` with at least one item that creates attachments (in scope for
    ``--scope attachments``)."""
    version = batch_version(method, url)
    if version is None or method.upper() != "POST":
        return False
    decoded, findings = decode_for_validation(body, content_encoding, "request")
    if findings:
        return False
    batch = parse_batch_request(decoded)
    return any(item_route(item, version) is not None for item in batch.items)


def _item_findings(item: BatchItem, version: str) -> list[Finding]:
    route = item_route(item, version)
    if route is None:
        return []
    findings = validate_request(route, item.method, dict(item.headers), item.body_bytes())
    return [_nested(f, item.label) for f in findings]


def batch_request_findings(request: Request) -> tuple[bytes, list[Finding]]:
    """The decoded batch body and its findings: the batch's shape, then each attachment call."""
    version = batch_version(request.method, request.uri) or "v1.0"
    body, batch, findings = _parsed(request)
    if batch is None:
        return body, findings
    findings = [_problem_finding(p) for p in batch.problems]
    for item in batch.items:
        findings.extend(_item_findings(item, version))
    return body, findings


def batch_response_findings(request: Request, request_body: bytes, response: Response) -> tuple[bytes, list[Finding]]:
    """The decoded batch answer and its findings: each attachment call's answer, checked as if it
    had come back on its own; a batch Graph could read is answered 200."""
    body, findings = decode_for_validation(response.body, response.headers.get("content-encoding"), "response")
    if findings:
        return body, findings
    batch = parse_batch_request(request_body)
    status = response.status_code
    if not batch.readable or status >= 400:
        return body, []  # the request's findings say why Graph refused it
    if status != 200:
        return body, [Finding(Severity.ERROR, "unexpected-success-status", "response", "$status", "200", str(status),
                              "Graph answers a batch it could read 200, whatever its requests' statuses")]
    answers, problem = parse_batch_response(body)
    if problem is not None:
        return body, [Finding(Severity.ERROR, "batch-invalid", "response", "$.responses",
                              '{"responses": [{"id", "status", "headers", "body"}]}', problem,
                              "a batch's answer lists one response per request")]
    version = batch_version(request.method, request.uri) or "v1.0"
    by_id = {a.id.lower(): a for a in answers}
    out: list[Finding] = []
    for item in batch.items:
        route = item_route(item, version)
        if route is None:
            continue
        answer = by_id.get(item.id.lower())
        if answer is None:
            out.append(Finding(Severity.ERROR, "batch-missing-response", "response", "$.responses",
                               f"a response with id {item.id}", "none",
                               f"the batch's answer has no response for {item.label}"))
            continue
        where = item_path("response", answer.position, answer.id)
        if answer.status is None:
            out.append(Finding(Severity.ERROR, "wrong-type", "response", f"{where}.status", "an HTTP status (Int32)",
                               "absent or not a number", "each response in a batch carries its status"))
            continue
        found = validate_response(route, answer.status, dict(answer.headers), answer.body_bytes(), item.body_bytes())
        out.extend(_nested(f, where) for f in found)
    return body, out


def check_recorded_batch(interaction: Interaction) -> list[Finding] | None:
    """Fresh findings for a recorded ``$batch`` POST, or None for any other interaction."""
    req = interaction.request
    if req.method.upper() != "POST" or batch_version(req.method, req.uri) is None:
        return None
    request_body, findings = batch_request_findings(req)
    _, answer_findings = batch_response_findings(req, request_body, interaction.response)
    return findings + answer_findings
