"""The recorder validates and logs what it records: secrets already replaced.

A finding quotes what it saw, and findings go into the cassette, the log and alerts;
so a secret field or token parameter must never be what a finding or a log line quotes.
Driven in-process through mitmproxy's test context (no network).
"""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

import pytest
from mitmproxy.test import taddons, tflow, tutils

from graphtape.addons.proxy.stack import build_stack
from graphtape.cassettes.serialization import load_cassette

SECRETS = ["fake-pw-123", "fake-pin-456", "fake-query-789", "fake-bearer-000", "fake-user-key-111"]


def _flow() -> object:
    body = {"@odata.type": "#microsoft.graph.fileAttachment", "name": "a.txt", "contentBytes": "aGk=",
            "password": SECRETS[0], "pin": SECRETS[1]}  # both are undocumented properties: findings quote them
    req = tutils.treq(method=b"POST", path=b"/v1.0/me/messages/AAMk=/attachments?authtoken=" + SECRETS[2].encode(),
                      content=json.dumps(body).encode(),
                      headers=((b"Authorization", b"Bearer " + SECRETS[3].encode()),
                               (b"Content-Type", b"application/json"), (b"X-User-Key", SECRETS[4].encode())))
    resp = tutils.tresp(status_code=201, content=json.dumps({"password": SECRETS[0]}).encode(),
                        headers=((b"Content-Type", b"application/json"),))
    return tflow.tflow(req=req, resp=resp)


def test_findings_and_log_lines_never_quote_a_secret(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    cassette = tmp_path / "c.yaml"
    stack = build_stack()

    async def run() -> None:
        with taddons.context(*stack.addons) as tctx:
            tctx.configure(stack.tape, graphtape_cassette=str(cassette), graphtape_record_mode="all",
                           graphtape_scope="all", graphtape_redact_fields=["pin"],
                           graphtape_redact_headers=["X-User-Key"])
            flow = _flow()
            response = flow.response
            flow.response = None
            await stack.recorder.request(flow)
            flow.response = response
            await stack.recorder.response(flow)
            stack.tape.done()

    with caplog.at_level(logging.INFO, logger="graphtape"):
        asyncio.run(run())
    (interaction,) = load_cassette(cassette).interactions
    findings = interaction.meta.findings
    assert {f.path for f in findings} >= {"$.password", "$.pin"}  # still reported, with the value redacted
    text = cassette.read_text() + caplog.text + "\n".join(str(f) for f in findings)
    assert [s for s in SECRETS if s in text] == []


def _post(path: str, body: object, status: int, answer: bytes = b"") -> object:
    req = tutils.treq(method=b"POST", path=path.encode(), content=json.dumps(body).encode(),
                      headers=((b"Content-Type", b"application/json"), (b"Authorization", b"Bearer x")))
    return tflow.tflow(req=req, resp=tutils.tresp(status_code=status, content=answer, headers=()))


def test_attachment_scope_records_inline_carriers_with_their_route(tmp_path: Path) -> None:
    # sendMail with a file inline (Graph's user-sendmail example 3) is attachment traffic; a drive
    # upload and a GET are not.
    cassette = tmp_path / "c.yaml"
    stack = build_stack()
    send = {"message": {"subject": "s", "attachments": [
        {"@odata.type": "#microsoft.graph.fileAttachment", "name": "a.txt", "contentBytes": "SGVsbG8"}]}}
    flows = [_post("/v1.0/me/sendMail", send, 202), _post("/v1.0/me/drive/root/children", {"name": "x"}, 201),
             tflow.tflow(req=tutils.treq(method=b"GET", path=b"/v1.0/me/messages"), resp=tutils.tresp())]

    async def run() -> None:
        with taddons.context(*stack.addons) as tctx:
            tctx.configure(stack.tape, graphtape_cassette=str(cassette), graphtape_record_mode="all",
                           graphtape_scope="attachments")
            for flow in flows:
                response = flow.response
                flow.response = None
                await stack.recorder.request(flow)
                flow.response = response
                await stack.recorder.response(flow)
            stack.tape.done()

    asyncio.run(run())
    (interaction,) = load_cassette(cassette).interactions
    assert interaction.request.path == "/v1.0/me/sendMail"
    assert (interaction.meta.route, interaction.meta.route_template) == ("users-sendmail", "/users/{user-id}/sendMail")
    assert [(f.code, f.path) for f in interaction.meta.findings] == [
        ("invalid-base64", "$.message.attachments[0].contentBytes")]
