"""Secrets through every path that is not live recording: import (HAR and .mitm), export, validate, verify.

Planted: a bearer token, a JWT, secret JSON and form fields, token query parameters
(also in a Location header's query and fragment). Searched for in every output:
the cassette, the HAR exported from it, the findings stored in it, the import's
stdout/stderr, ``validate`` in every report format, and ``verify`` in every report
format plus the cassette ``--update`` writes. ``verify`` runs against a loopback
upstream that echoes the Authorization header it received (in its body and a
header) and redirects to a second loopback origin, which must never see a request.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest
from reliability_helpers import Answer, CountingListener, find_planted_secrets, read_outputs

from graphtape.cassettes.model import Cassette, Headers, Interaction, Request, Response
from graphtape.cassettes.serialization import load_cassette
from graphtape.cassettes.storage import save_cassette

pytestmark = pytest.mark.slow

ROUTE = "/v1.0/me/messages/AAMkAGI2THVSAAA=/attachments"
TOKEN = "fake-v3rify-t0ken-5ecret"
JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJmYWtlIn0.fake-jwt-signature-77"
PLANTED = ["fake-pw-im9ort", "fake-rt-im9ort", "fake-query-im9ort", "fake-frag-im9ort", "fake-bearer-im9ort",
           "fake-jwt-signature-77", "fake-cs-im9ort"]


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run([sys.executable, "-m", "graphtape.cli", *args], capture_output=True, text=True,
                          timeout=120, stdin=subprocess.DEVNULL, env={**os.environ, **(env or {})})


def _har(path: Path) -> None:
    body = json.dumps({"@odata.type": "#microsoft.graph.fileAttachment", "name": "a.txt", "contentBytes": "aGk=",
                       "password": PLANTED[0], "credentials": {"refresh_token": PLANTED[1]}, "note": JWT})
    answer = json.dumps({"@odata.type": "#microsoft.graph.fileAttachment", "id": "AAMk1", "name": "a.txt",
                         "client_secret": PLANTED[6]})
    entry = {
        "startedDateTime": "2026-01-01T00:00:00Z",
        "request": {"method": "POST", "url": f"https://graph.microsoft.com{ROUTE}?access_token={PLANTED[2]}",
                    "headers": [{"name": "Authorization", "value": f"Bearer {PLANTED[4]}"},
                                {"name": "Content-Type", "value": "application/json"}],
                    "postData": {"mimeType": "application/json", "text": body}},
        "response": {"status": 201, "statusText": "Created",
                     "headers": [{"name": "Content-Type", "value": "application/json"},
                                 {"name": "Location", "value": f"https://x/cb?code={PLANTED[2]}#id_token={PLANTED[3]}"}],
                     "content": {"mimeType": "application/json", "text": answer}},
    }
    path.write_text(json.dumps({"log": {"version": "1.2", "entries": [entry]}}))


def test_import_export_and_validate_quote_no_secret(tmp_path: Path) -> None:
    har, cassette, exported = tmp_path / "in.har", tmp_path / "c.yaml", tmp_path / "out.har"
    _har(har)
    imported = _cli("import", str(har), "--cassette", str(cassette))
    assert imported.returncode == 0, imported.stderr
    findings = [f for i in load_cassette(cassette).interactions for f in i.meta.findings]
    assert {f.path for f in findings} >= {"$.password", "$.credentials"}  # still reported, values redacted
    assert _cli("export", "--cassette", str(cassette), "--har", str(exported)).returncode == 0
    outputs = read_outputs([cassette, exported], import_stdout=imported.stdout, import_stderr=imported.stderr)
    for fmt in ("text", "json", "junit", "markdown"):
        report = _cli("validate", str(cassette), "--format", fmt)
        outputs[f"validate {fmt}"] = (report.stdout + report.stderr).encode()
    decoded = json.loads(exported.read_text())["log"]["entries"][0]["_graphtape"]
    outputs["exported bodies"] = base64.b64decode(decoded["requestBody"]) + base64.b64decode(decoded["responseBody"])
    assert find_planted_secrets(PLANTED, outputs) == []


def test_a_capture_import_would_make_unreplayable_is_refused_naming_the_entry(tmp_path: Path) -> None:
    har = tmp_path / "in.har"
    _har(har)
    data = json.loads(har.read_text())
    data["log"]["entries"][0]["response"]["headers"].append({"name": "X-Bad", "value": "a\r\nInjected: 1"})
    har.write_text(json.dumps(data))
    proc = _cli("import", str(har), "--cassette", str(tmp_path / "c.yaml"))
    assert proc.returncode == 2 and "log.entries[0]" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "c.yaml").exists()


@pytest.mark.parametrize("fmt", ["text", "json", "junit", "markdown"])
def test_verify_sends_the_token_to_its_upstream_only_and_reports_never_quote_it(
        tmp_path: Path, fmt: str, loopback_upstream, counting_upstream: CountingListener) -> None:
    elsewhere = counting_upstream  # another origin: a redirect points there

    def echo(method: str, path: str, headers: Mapping[str, str], body: bytes) -> Answer:
        auth = {k.lower(): v for k, v in headers.items()}.get("authorization", "")
        if path.endswith("redirect"):
            return 302, [("Location", f"{elsewhere.url}/steal?token={TOKEN}")], b""
        answer = json.dumps({"@odata.type": "#microsoft.graph.fileAttachment", "id": "AAMk2", "name": "a.txt",
                             "echo": auth, "headers": {"Authorization": auth}, "size": "drifted"}).encode()
        return 201, [("Content-Type", "application/json"), ("X-Echo", auth), ("WWW-Authenticate", auth)], answer

    upstream = loopback_upstream(echo)
    cassette = tmp_path / "v.yaml"
    recorded = Response(201, "Created", Headers((("Content-Type", "application/json"),)),
                        b'{"@odata.type": "#microsoft.graph.fileAttachment", "id": "AAMk1", "name": "a.txt"}')
    save_cassette(cassette, Cassette([
        Interaction(Request("POST", f"https://graph.microsoft.com{ROUTE}",
                            Headers((("Authorization", "Bearer REDACTED"), ("Content-Type", "application/json"))),
                            b'{"@odata.type": "#microsoft.graph.fileAttachment", "name": "a.txt"}'), recorded),
        Interaction(Request("POST", f"https://graph.microsoft.com{ROUTE}/redirect",
                            Headers((("Authorization", "Bearer REDACTED"),)), b"{}"), recorded),
    ]))
    report = tmp_path / f"report.{fmt}"
    proc = _cli("verify", "--cassette", str(cassette), "--upstream", upstream.url, "--update", "--format", fmt,
                "--output", str(report), env={"GRAPHTAPE_TOKEN": TOKEN})
    assert proc.returncode in (0, 1), proc.stderr
    assert elsewhere.accepted == 0  # the redirect was not followed
    assert upstream.requests == 2
    outputs = read_outputs([cassette, report], stdout=proc.stdout, stderr=proc.stderr)
    assert find_planted_secrets([TOKEN], outputs) == []
    assert "REDACTED" in cassette.read_text()  # the echo was re-recorded, scrubbed
