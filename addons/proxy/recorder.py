"""The Recorder addon: validates, redacts and durably records in-scope calls.

Request findings are computed before the call goes upstream and response findings
when the answer returns; both are kept with the interaction. The interaction is
journaled (fsync'd) before its response is released to the client. If it cannot
be written, the client gets graphtape's 598 error instead of the upstream answer:
a recording proxy never lets traffic through unrecorded.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from types import ModuleType
from urllib.parse import urlsplit

from mitmproxy import ctx, http

from graphtape.addons.graph.batch import BATCH_ROUTE_NAME, BATCH_ROUTE_TEMPLATE, batch_version
from graphtape.addons.graph.batch_checks import (
    batch_request_findings,
    batch_response_findings,
    is_attachment_batch,
)
from graphtape.addons.graph.routes import Operation, RouteMatch
from graphtape.addons.graph.scope import in_scope, route_of, upload_chunk_of
from graphtape.addons.graph.upload_checks import META_KEY, UploadChecks, UploadLink
from graphtape.addons.graph.upload_urls import (
    UPLOAD_ROUTE_NAME,
    UPLOAD_ROUTE_TEMPLATE,
    canonical_session_answer,
)
from graphtape.addons.proxy.alerts import FINDINGS_METADATA_KEY
from graphtape.addons.proxy.flow_convert import (
    RECORD_FAILURE_STATUS,
    graph_error,
    response_from_flow,
)
from graphtape.addons.proxy.flow_marks import findings_comment, mark_flow
from graphtape.addons.proxy.graph_uri import graph_origin_of, meant_request
from graphtape.addons.proxy.off_loop import is_heavy, off_loop
from graphtape.addons.proxy.retry_watch import RetryWatch
from graphtape.addons.proxy.tape import Tape
from graphtape.cassettes.encoding import decode_for_validation
from graphtape.cassettes.errors import CassetteWriteError
from graphtape.cassettes.findings import Finding, Severity
from graphtape.cassettes.model import LATENCY_KEY, Headers, Interaction, InteractionMeta, Request, Response
from graphtape.cassettes.session import TapeSession
from graphtape.cassettes.wire import servable

__all__ = ["Recorder", "findings_comment"]

logger = logging.getLogger("graphtape")


@dataclass
class _Pending:
    """What the request hook learned, for the response hook of the same flow."""

    route: RouteMatch | None
    request: Request  # redacted: what the cassette keeps
    request_body: bytes  # decoded from its Content-Encoding
    findings: list[Finding]
    upload: UploadLink | None  # set for an upload-session chunk PUT
    session: TapeSession  # the session that must record the answer (it may close before the answer comes)


def _validation() -> ModuleType:
    """Graph's schema validation, imported the first time something is recorded: building the
    schema's types takes a while, and a proxy that only replays never needs them."""
    from graphtape.addons.graph import validation

    return validation


class Recorder:
    def __init__(self, tape: Tape) -> None:
        self.tape = tape
        # Per-flow state between the request and response hooks. Kept here, not in
        # flow.metadata, so flows stay serialisable for `mitmdump -w`.
        self._pending: dict[str, _Pending] = {}
        self.uploads = UploadChecks()  # upload sessions followed across their chunk PUTs
        self.retries = RetryWatch()  # retries followed across the interactions of each recording
        tape.closing.append(self._report_given_up)

    async def request(self, flow: http.HTTPFlow) -> None:
        session = self.tape.session
        if session is None or not session.plan.record or flow.response is not None:
            return
        route = route_of(flow.request.method, flow.request.url)
        chunk = upload_chunk_of(flow.request.method, flow.request.url)
        batch = route is None and chunk is None and batch_version(flow.request.method, flow.request.url) is not None
        raw_body = flow.request.raw_content or b""
        in_batch_scope = batch and await off_loop(
            is_heavy(Headers.of(list(flow.request.headers.items())), raw_body), lambda: _attachment_batch(flow))
        if chunk is None and not in_scope(ctx.options.graphtape_scope, route) and not in_batch_scope:
            session.count("passed_through")
            return
        # Validate what will be recorded (secrets already replaced): a finding quotes what it
        # saw, and findings land in the cassette and the log. Addons that rewrite where a
        # request goes (upload-URL routing) do so in requestheaders, before this hook.
        # The URI the client meant: Graph's (or an upload session's canonical origin), whatever
        # address the upstream listened on, so re-recordings write the same bytes.
        raw = meant_request(flow, ctx.options.graphtape_graph_url)

        def redact_and_check() -> tuple[Request, bytes, list[Finding]]:
            request = session.redact(raw)
            if batch:
                return request, *batch_request_findings(request)
            if chunk is None:
                return request, *_validation().request_findings(route, request)
            if request.method == "DELETE":  # a session cancelled: nothing to check
                return request, request.body, []
            body, findings = decode_for_validation(request.body, request.headers.get("content-encoding"),
                                                   "request")
            return request, body, findings

        request, body, findings = await off_loop(is_heavy(raw.headers, raw.body), redact_and_check)
        link: UploadLink | None = None
        if chunk is not None and request.method != "DELETE":
            link, chunk_findings = self.uploads.chunk_request(request.uri, request.headers.as_dict(), len(body))
            findings = findings + chunk_findings
        self._pending[flow.id] = _Pending(route, request, body, findings, link, session)

    async def response(self, flow: http.HTTPFlow) -> None:
        state = self._pending.pop(flow.id, None)
        if state is None or flow.response is None:
            return
        # The session this request was meant for, even if graphtape is stopping (a signal, a cassette
        # switch): its answer is recorded, or the client gets 598; never released unrecorded.
        session = state.session
        if not session.recording:
            self._withhold(flow, session, state.request.uri, CassetteWriteError(
                f"{session.path}: the recording closed before the answer came"), counter="refused_after_stop")
            return
        route = state.route
        raw = response_from_flow(flow)
        link = state.upload
        batch = batch_version(state.request.method, state.request.uri) is not None and route is None

        def redact_and_check() -> tuple[Response, bytes, list[Finding]]:
            response = session.settings.redactor.response(raw)
            if batch:
                return response, *batch_response_findings(state.request, state.request_body, response)
            if link is not None:
                return response, *decode_for_validation(response.body, response.headers.get("content-encoding"),
                                                        "response")
            return response, *_validation().response_findings(route, response, state.request_body)

        response, body, answer_findings = await off_loop(is_heavy(raw.headers, raw.body), redact_and_check)
        response, changes = servable(response, state.request.method)
        answer_findings += [Finding(Severity.WARNING, "unreplayable-response", "response", "$headers",
                                    "an answer replay can send as it is", change,
                                    "recorded with this repaired, so replay never sends a malformed response")
                            for change in changes]
        if link is not None:
            answer_findings += self.uploads.chunk_response(state.request.uri, link, response.status_code,
                                                           response.headers.as_dict(), body)
        elif route is not None and route.route.operation is Operation.CREATE_UPLOAD_SESSION:
            link = self.uploads.session_created(state.request_body, response.status_code, body)
            response = canonical_session_answer(response, graph_origin_of(ctx.options.graphtape_graph_url))
        findings = state.findings + answer_findings
        route_name = route.route.name if route else (UPLOAD_ROUTE_NAME if state.upload else None)
        template = route.route.template if route else (UPLOAD_ROUTE_TEMPLATE if state.upload else None)
        if batch:
            route_name, template = BATCH_ROUTE_NAME, BATCH_ROUTE_TEMPLATE
        extra: tuple[tuple[str, object], ...] = ((META_KEY, link.to_meta()),) if link is not None else ()
        latency = _latency(flow)
        if latency is not None:
            extra += ((LATENCY_KEY, latency),)
        interaction = Interaction(
            request=state.request,
            response=response,
            meta=InteractionMeta(
                route=route_name,
                route_template=template,
                recorded_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                findings=tuple(findings),
                extra=extra,
            ),
        )
        retried = self.retries.observe(session, interaction)  # findings only the recording's sequence shows
        if retried:
            findings = findings + retried
            interaction = replace(interaction, meta=replace(interaction.meta, findings=tuple(findings)))
        uri = state.request.uri
        try:
            await session.record(interaction)
        except CassetteWriteError as exc:
            self._withhold(flow, session, uri, exc,
                           counter="write_failures" if session.recording else "refused_after_stop")
            return
        session.add_findings(findings)
        # For the Alerts addon (runs next): the findings, as plain data so flows stay serialisable.
        flow.metadata[FINDINGS_METADATA_KEY] = [f.to_dict() for f in findings]
        if findings:
            _mark(flow, findings, uri)

    @staticmethod
    def _withhold(flow: http.HTTPFlow, session: TapeSession, uri: str, exc: CassetteWriteError,
                  counter: str = "write_failures") -> None:
        """The answer could not be recorded: the client gets graphtape's 598 instead of it."""
        session.count(counter)
        logger.error(f"graphtape: NOT RECORDED {flow.request.method} {uri}: {exc}")
        flow.response = graph_error(
            RECORD_FAILURE_STATUS, "graphtapeRecordingFailed",
            f"graphtape could not record this interaction, so its answer is withheld: {exc}",
            reason="Graphtape Recording Failed",
            client_request_id=flow.request.headers.get("client-request-id"),
        )

    def error(self, flow: http.HTTPFlow) -> None:
        # The upstream never answered (refused, reset, timed out): nothing to record,
        # and the client already gets mitmproxy's 502. Say so, and count it.
        state = self._pending.pop(flow.id, None)
        if state is not None:
            state.session.count("upstream_errors")
            logger.warning(f"graphtape: not recorded, upstream failed: {flow.request.method} {state.request.uri}: "
                           f"{flow.error}")

    def _report_given_up(self, session: TapeSession) -> None:
        """When a recording ends: the answers that asked for a retry and never got one (kept in the
        run's summary and log; ``graphtape validate`` finds them in the cassette)."""
        given_up = self.retries.closing(session)
        for number, finding in given_up:
            logger.warning(f"graphtape: interactions[{number}]: {finding}")
        session.add_findings([finding for _, finding in given_up])


def _attachment_batch(flow: http.HTTPFlow) -> bool:
    """A ``$batch`` that creates attachments: in scope however narrow the scope is."""
    req = flow.request
    return is_attachment_batch(req.method, req.url, req.raw_content or b"", req.headers.get("content-encoding"))


def _latency(flow: http.HTTPFlow) -> float | None:
    """Seconds from the complete request to the upstream's complete answer."""
    sent, answered = flow.request.timestamp_end, flow.response.timestamp_end if flow.response else None
    if sent is None or answered is None:
        return None
    return round(max(0.0, answered - sent), 4)


def _mark(flow: http.HTTPFlow, findings: list[Finding], redacted_uri: str) -> None:
    path = urlsplit(redacted_uri)._replace(scheme="", netloc="").geturl()  # the query's secrets stay out of logs
    for f in findings:
        level = logging.WARNING if f.severity is not Severity.INFO else logging.INFO
        logger.log(level, f"graphtape: {flow.request.method} {path}: {f}")
    mark_flow(flow, findings)
