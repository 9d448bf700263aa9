"""The Alerts addon: live drift and findings alerts while recording.

It runs after the Recorder, which validates each in-scope exchange, logs the
findings at warning level and marks and comments the flow; this addon takes those
findings (from ``flow.metadata``, so nothing is validated twice), adds the drift
only a whole exchange shows (a documented property missing, a response of another
subtype than requested), and hands each one to the :class:`AlertLog`: grouped,
appended to ``graphtape_alerts`` (JSON Lines), POSTed to ``graphtape_alert_webhook``.
Nothing here can fail a flow: an alert problem is logged and the traffic goes on.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mitmproxy import ctx, exceptions, http

from graphtape.addons.drift.config import (
    DriftConfig,
    DriftConfigError,
    load_drift_config,
)
from graphtape.addons.graph.routes import match_route
from graphtape.addons.proxy.flow_convert import request_from_flow, response_from_flow
from graphtape.addons.proxy.off_loop import is_heavy, off_loop
from graphtape.addons.proxy.tape import Tape
from graphtape.cassettes.encoding import decode_for_validation
from graphtape.cassettes.findings import Finding, Severity
from graphtape.cassettes.model import Request, Response
from graphtape.cassettes.redaction import Redactor

if TYPE_CHECKING:
    from graphtape.addons.drift.alert_log import AlertLog
    from graphtape.addons.drift.compare import ResponseSample

# The drift comparison, the alert log and the webhook are imported when alerts are switched
# on, not with the addon: every graphtape proxy loads it, and most never alert (a replay, a
# test session), while importing them meant building Graph's schema types at start-up.

__all__ = ["FINDINGS_METADATA_KEY", "Alerts"]

logger = logging.getLogger("graphtape")

# Set by the Recorder on each recorded flow: its findings as plain dicts (kept
# serialisable so `mitmdump -w` still works).
FINDINGS_METADATA_KEY = "graphtape_findings"

_ALERT_OPTIONS = {"graphtape_alerts", "graphtape_alert_webhook", "graphtape_drift_config",
                  "graphtape_alert_rollup", "graphtape_alert_queue", "graphtape_alert_retries",
                  "graphtape_alert_timeout"}


class Alerts:
    def __init__(self, tape: Tape) -> None:
        self.tape = tape
        self.log: AlertLog | None = None
        self.closed: AlertLog | None = None  # the last log, kept for the summary after `done`
        self.config = DriftConfig()

    def load(self, loader: Any) -> None:
        loader.add_option("graphtape_alerts", str, "", "Append alerts (findings and drift) to this JSON Lines file.")
        loader.add_option("graphtape_alert_webhook", str, "", "POST each alert as JSON to this http(s) URL.")
        loader.add_option("graphtape_drift_config", str, "",
                          "Drift config (YAML/JSON): severity per drift kind, volatile JSON paths.")
        loader.add_option("graphtape_alert_rollup", int, 60,
                          "Seconds between roll-ups of a repeated alert (its first occurrence goes out at once).")
        loader.add_option("graphtape_alert_queue", int, 1000, "Alerts waiting for the webhook before new ones drop.")
        loader.add_option("graphtape_alert_retries", int, 3, "Retries of a failed webhook delivery.")
        loader.add_option("graphtape_alert_timeout", int, 5, "Seconds to wait for the webhook per attempt.")

    def configure(self, updated: set[str]) -> None:
        with self.tape.option_errors():
            self._configure(updated)

    def _configure(self, updated: set[str]) -> None:
        if not updated & _ALERT_OPTIONS or self.tape.refusal is not None:
            return
        opts = ctx.options
        try:
            self.config = load_drift_config(opts.graphtape_drift_config or None)
        except DriftConfigError as exc:
            raise exceptions.OptionsError(str(exc)) from None
        url = opts.graphtape_alert_webhook
        if url and not url.startswith(("http://", "https://")):
            raise exceptions.OptionsError(f"graphtape_alert_webhook: {url!r} is not an http(s) URL")
        self._close_log()
        if not opts.graphtape_alerts and not url:
            return
        from graphtape.addons.drift.alert_log import AlertLog
        from graphtape.addons.drift.webhook import WebhookSender

        webhook = WebhookSender(url, queue_size=opts.graphtape_alert_queue, retries=opts.graphtape_alert_retries,
                                timeout=opts.graphtape_alert_timeout) if url else None
        try:
            self.log = AlertLog(Path(opts.graphtape_alerts) if opts.graphtape_alerts else None, webhook,
                                rollup_seconds=opts.graphtape_alert_rollup)
        except OSError as exc:
            if webhook is not None:
                webhook.close(wait=0)
            raise exceptions.OptionsError(f"graphtape_alerts: cannot open {opts.graphtape_alerts}: {exc}") from None

    async def response(self, flow: http.HTTPFlow) -> None:
        if self.log is None or flow.response is None:
            return
        stored = flow.metadata.get(FINDINGS_METADATA_KEY)
        if stored is None and not self._unknown_attachment_route(flow):
            return  # replayed, withheld, or passed through and not an attachment call
        try:
            request, response = request_from_flow(flow), response_from_flow(flow)
            heavy = is_heavy(request.headers, request.body) or is_heavy(response.headers, response.body)
            sample = await off_loop(heavy, lambda: self._sample(request, response, stored or []))
            self._alert(flow, sample, [Finding.from_dict(d) for d in stored or []])
        except Exception as exc:
            logger.warning(f"graphtape: alerting failed for {flow.request.method} {flow.request.path}: "
                           f"{type(exc).__name__}")

    def _sample(self, request: Request, response: Response, stored: list[dict[str, Any]]) -> ResponseSample:
        """The exchange as drift sees it, read from its redacted form only (alerts leave the machine)."""
        from graphtape.addons.drift.compare import sample_from_exchange

        session = self.tape.session
        redactor = session.settings.redactor if session is not None else Redactor()
        request, response = redactor.request(request), redactor.response(response)
        request_body, _ = decode_for_validation(request.body, request.headers.get("content-encoding"), "request")
        response_body, _ = decode_for_validation(response.body, response.headers.get("content-encoding"),
                                                 "response")
        findings = [Finding.from_dict(d) for d in stored]
        return sample_from_exchange("live", request.method, request.uri, request_body, response.status_code,
                                    response.headers.as_dict(), response_body,
                                    [f for f in findings if f.where == "response"])

    def _unknown_attachment_route(self, flow: http.HTTPFlow) -> bool:
        """A call passed through out of scope that looks like an attachment route the table lacks:
        Graph may have documented a new one; say so (``new-route``)."""
        session = self.tape.session
        if "graphtape" in flow.metadata or (session is not None and not session.plan.record):
            return False
        from graphtape.addons.drift.compare import looks_like_attachment_route

        path = flow.request.path.split("?", 1)[0]
        return flow.request.method == "POST" and looks_like_attachment_route(path) and match_route("POST", path) is None

    def _alert(self, flow: http.HTTPFlow, sample: ResponseSample, findings: list[Finding]) -> None:
        from graphtape.addons.drift.alert_log import Alert, scrubbed
        from graphtape.addons.drift.compare import KIND_OF_FINDING, schema_drift

        assert self.log is not None and flow.response is not None
        alerts = schema_drift(sample, self.config)
        # Findings that are not drift (the client's request, an error envelope...) alert as they are.
        alerts += [f for f in findings if f.severity is not Severity.INFO
                   and (f.where == "request" or f.code not in KIND_OF_FINDING)]
        for finding in alerts:
            if self.log.add(Alert(finding, sample.request_line, sample.route, sample.subtype, sample.status)):
                finding = scrubbed(finding)
                logger.warning(f"graphtape: ALERT {finding.code} on {sample.request_line} [{sample.subtype}]: "
                               f"{finding.path}: {finding.message} (expected {finding.expected}, "
                               f"seen {finding.seen}); repeats are grouped")
        _mark_drift(flow, alerts, findings)

    def summary(self) -> str:
        log = self.log or self.closed
        return log.summary() if log is not None else ""

    def summary_data(self) -> dict[str, Any] | None:
        """The alert counts of :meth:`summary`, as data (None when alerting was off)."""
        log = self.log or self.closed
        if log is None:
            return None
        data: dict[str, Any] = {"distinct": len(log.groups), "total": log.occurrences,
                                "file": str(log.path) if log.path is not None else None,
                                "records_written": log.records_written, "write_failures": log.write_failures,
                                "webhook": None}
        if log.webhook is not None:
            w = log.webhook
            data["webhook"] = {"delivered": w.sent, "failed": w.failed, "dropped": w.dropped}
        return data

    def _close_log(self) -> None:
        if self.log is not None:
            log, self.log = self.log, None
            log.close()
            self.closed = log

    def done(self) -> None:
        self._close_log()


def _mark_drift(flow: http.HTTPFlow, alerts: list[Finding], recorded: list[Finding]) -> None:
    """Mark and comment what the Recorder did not already (drift it could not see on its own)."""
    known = {(f.where, f.path) for f in recorded}
    extra = [f for f in alerts if (f.where, f.path) not in known]
    if not extra:
        return
    lines = "\n".join(str(f) for f in extra)
    flow.comment = f"{flow.comment}\n{lines}" if flow.comment else lines
    if any(f.severity is Severity.ERROR for f in extra):
        flow.marked = ":x:"
    elif not flow.marked and any(f.severity is Severity.WARNING for f in extra):
        flow.marked = ":warning:"
