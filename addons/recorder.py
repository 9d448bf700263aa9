"""The Recorder addon: validates, redacts and durably records in-scope calls.

Request findings are computed before the call goes upstream and response findings
when the answer returns; both are kept with the interaction. The interaction is
journaled (fsync'd) before its response is released to the client. If it cannot
be written, the client gets graphtape's 598 error instead of the upstream answer:
a recording proxy never lets traffic through unrecorded.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

from mitmproxy import ctx, http

from graphtape.addons.alerts import FINDINGS_METADATA_KEY
from graphtape.addons.flow_convert import RECORD_FAILURE_STATUS, graph_error, request_from_flow, response_from_flow
from graphtape.addons.graph_routes import Operation, RouteMatch
from graphtape.addons.graph_validation import validate_request, validate_response
from graphtape.addons.scope import in_scope, route_of, upload_chunk_of
from graphtape.addons.tape import Tape
from graphtape.addons.upload_checks import META_KEY, UploadChecks, UploadLink
from graphtape.addons.upload_urls import UPLOAD_ROUTE_NAME, UPLOAD_ROUTE_TEMPLATE
from graphtape.cassettes.encoding import decode_for_validation
from graphtape.cassettes.errors import CassetteWriteError
from graphtape.cassettes.findings import Finding, Severity
from graphtape.cassettes.model import Interaction, InteractionMeta

__all__ = ["Recorder", "findings_comment"]

logger = logging.getLogger("graphtape")

def findings_comment(findings: list[Finding]) -> str:
    return "\n".join(str(f) for f in findings)


class Recorder:
    def __init__(self, tape: Tape) -> None:
        self.tape = tape
        # Per-flow state between the request and response hooks. Kept here, not in
        # flow.metadata, so flows stay serialisable for `mitmdump -w`.
        self._pending: dict[str, dict[str, Any]] = {}
        self.uploads = UploadChecks()  # upload sessions followed across their chunk PUTs

    def request(self, flow: http.HTTPFlow) -> None:
        session = self.tape.session
        if session is None or not session.plan.record or flow.response is not None:
            return
        route = route_of(flow.request.method, flow.request.url)
        chunk = upload_chunk_of(flow.request.method, flow.request.url)
        if chunk is None and not in_scope(ctx.options.graphtape_scope, route):
            session.count("passed_through")
            return
        # Validate what will be recorded (secrets already replaced): a finding quotes what it
        # saw, and findings land in the cassette and the log.
        request = session.redact(request_from_flow(flow))
        headers = request.headers.as_dict()
        body, findings = decode_for_validation(request.body, request.headers.get("content-encoding"), "request")
        link: UploadLink | None = None
        if chunk is not None:
            link, chunk_findings = self.uploads.chunk_request(request.uri, headers, len(body))
            findings = findings + chunk_findings
        elif not findings:
            findings = validate_request(route, flow.request.method, headers, body)
        # The redacted request is kept for the cassette: addons that rewrite where a request
        # goes (upload-URL routing) do so in requestheaders, before this hook.
        self._pending[flow.id] = {"route": route, "request_findings": findings, "request_body": body,
                                  "upload": link, "uri": request.uri, "request": request}

    async def response(self, flow: http.HTTPFlow) -> None:
        session = self.tape.session
        state = self._pending.pop(flow.id, None)
        if session is None or state is None or flow.response is None:
            return
        route: RouteMatch | None = state["route"]
        response = session.settings.redactor.response(response_from_flow(flow))
        resp_headers = response.headers.as_dict()
        body, resp_findings = decode_for_validation(response.body, response.headers.get("content-encoding"),
                                                    "response")
        link: UploadLink | None = state["upload"]
        if link is not None:
            resp_findings += self.uploads.chunk_response(state["uri"], link, flow.response.status_code,
                                                         resp_headers, body)
        elif not resp_findings:
            resp_findings = validate_response(route, flow.response.status_code, resp_headers, body,
                                              state["request_body"])
            if route is not None and route.route.operation is Operation.CREATE_UPLOAD_SESSION:
                link = self.uploads.session_created(state["request_body"], flow.response.status_code, body)
        findings = list(state["request_findings"]) + list(resp_findings)
        route_name = route.route.name if route else (UPLOAD_ROUTE_NAME if state["upload"] else None)
        template = route.route.template if route else (UPLOAD_ROUTE_TEMPLATE if state["upload"] else None)
        interaction = Interaction(
            request=state["request"],
            response=response,
            meta=InteractionMeta(
                route=route_name,
                route_template=template,
                recorded_at=datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                findings=tuple(findings),
                extra=((META_KEY, link.to_meta()),) if link is not None else (),
            ),
        )
        try:
            await session.record(interaction)
        except CassetteWriteError as exc:
            session.count("write_failures")
            logger.error(f"graphtape: NOT RECORDED {flow.request.method} {state['uri']}: {exc}")
            flow.response = graph_error(
                RECORD_FAILURE_STATUS, "graphtapeRecordingFailed",
                f"graphtape could not record this interaction, so its answer is withheld: {exc}",
                reason="Graphtape Recording Failed",
                client_request_id=flow.request.headers.get("client-request-id"),
            )
            return
        session.add_findings(findings)
        # For the Alerts addon (runs next): the findings, as plain data so flows stay serialisable.
        flow.metadata[FINDINGS_METADATA_KEY] = [f.to_dict() for f in findings]
        if findings:
            _mark(flow, findings, state["uri"])

    def error(self, flow: http.HTTPFlow) -> None:
        # The upstream never answered (refused, reset, timed out): nothing to record,
        # and the client already gets mitmproxy's 502. Say so, and count it.
        state = self._pending.pop(flow.id, None)
        if state is not None and self.tape.session is not None:
            self.tape.session.count("upstream_errors")
            logger.warning(f"graphtape: not recorded, upstream failed: {flow.request.method} {state['uri']}: "
                           f"{flow.error}")


def _mark(flow: http.HTTPFlow, findings: list[Finding], redacted_uri: str) -> None:
    worst = max(f.severity.rank for f in findings)
    path = urlsplit(redacted_uri)._replace(scheme="", netloc="").geturl()  # the query's secrets stay out of logs
    for f in findings:
        level = logging.WARNING if f.severity is not Severity.INFO else logging.INFO
        logger.log(level, f"graphtape: {flow.request.method} {path}: {f}")
    if worst >= Severity.WARNING.rank:
        flow.marked = ":warning:" if worst == Severity.WARNING.rank else ":x:"
    flow.comment = findings_comment(findings)
