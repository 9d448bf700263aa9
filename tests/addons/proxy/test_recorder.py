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
