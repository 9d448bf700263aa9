"""``graphtape import`` from a real ``mitmdump -w`` capture and from HAR files; ``graphtape export`` to HAR."""

from __future__ import annotations

import base64
import gzip
import json
import os
import re
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from graphtape.cassettes.model import Interaction
from graphtape.cassettes.serialization import load_cassette
from graphtape.cli.examples import example_cassette
from graphtape.cli.examples.example_requests import EXAMPLES, FAKE_TOKEN
from graphtape.cli.main import main
from graphtape.cli.runtime.processes import GraphtapeProcess

MITMDUMP = Path(sys.executable).with_name("mitmdump")
LISTENING = re.compile(rb"listening at [^\s]*:(\d+)")


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def _same(a: list[Interaction], b: list[Interaction]) -> None:
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=False):
        assert (x.request, x.response) == (y.request, y.response)
        assert (x.meta.route, x.meta.recorded_at, x.meta.findings) == (y.meta.route, y.meta.recorded_at,
                                                                        y.meta.findings)


# ---------------------------------------------------------------- a real mitmdump -w capture


@pytest.fixture
def mitm_capture(tmp_path: Path, simulator: GraphtapeProcess) -> Iterator[Path]:
    """A flow file written by a real ``mitmdump -w`` reverse-proxying to the simulator."""
    flows = tmp_path / "capture.mitm"
    proc = subprocess.Popen([str(MITMDUMP), "--mode", f"reverse:{simulator.url}", "--listen-host", "127.0.0.1",
                             "-p", "0", "--set", f"confdir={tmp_path / 'conf'}", "-w", str(flows)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        assert proc.stdout is not None
        sel = selectors.DefaultSelector()
        sel.register(proc.stdout, selectors.EVENT_READ)
        seen, deadline, port = b"", time.monotonic() + 60, None
        while port is None and time.monotonic() < deadline and proc.poll() is None:
            if sel.select(timeout=0.5):
                seen += os.read(proc.stdout.fileno(), 4096)
                m = LISTENING.search(seen)
                port = int(m.group(1)) if m else None
        assert port is not None, seen.decode(errors="replace")
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(trust_env=False, timeout=30) as client:
            for ex in EXAMPLES:  # attachment calls, including two Graph rejects
                client.post(base + ex.path, content=ex.body, headers=ex.all_headers())
            client.get(base + "/v1.0/me", headers={"Authorization": f"Bearer {FAKE_TOKEN}"})  # out of scope
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=30)
    yield flows


@pytest.mark.slow
def test_import_of_a_real_mitmdump_capture(mitm_capture: Path, tmp_path: Path) -> None:
    cassette = tmp_path / "imported.yaml"
    code, out = _run("import", str(mitm_capture), "--cassette", str(cassette))
    assert code == 0, out
    interactions = load_cassette(cassette).interactions
    assert [i.request.body for i in interactions] == [ex.body for ex in EXAMPLES]
    assert [i.response.status_code for i in interactions] == [ex.expected_status for ex in EXAMPLES]
    assert all(i.meta.route and i.meta.recorded_at for i in interactions)
    # the two calls Graph rejects carry error findings, the others none at error level
    with_errors = [i.request.body for i in interactions if any(f.severity.value == "error" for f in i.meta.findings)]
    assert with_errors == [ex.body for ex in EXAMPLES if ex.expected_status >= 400]
    assert FAKE_TOKEN.encode() not in cassette.read_bytes()
    assert f"{len(EXAMPLES)} interactions" in out and "1 out of scope" in out

    everything = tmp_path / "all.yaml"
    code, out = _run("import", str(mitm_capture), "--cassette", str(everything), "--scope", "all")
    assert code == 0, out
    assert [i.request.path for i in load_cassette(everything).interactions][-1] == "/v1.0/me"


@pytest.mark.slow
def test_an_imported_capture_replays_offline(mitm_capture: Path, tmp_path: Path,
                                            run_graphtape: object) -> None:
    cassette = tmp_path / "imported.yaml"
    assert _run("import", str(mitm_capture), "--cassette", str(cassette))[0] == 0
    replayer = run_graphtape("replay", "--cassette", str(cassette), "--port", "0", "--strict")  # type: ignore[operator]
    for ex in EXAMPLES:
        r = httpx.post(replayer.url + ex.path, content=ex.body, headers=ex.all_headers(), trust_env=False)
        assert r.status_code == ex.expected_status, r.text
    assert replayer.stop() == 0, replayer.stdout + replayer.stderr


# ---------------------------------------------------------------- HAR files

ATTACH_URL = "https://graph.microsoft.com/v1.0/me/messages/AAMkAGI2THVSAAA=/attachments"
CREATED = {"@odata.type": "#microsoft.graph.fileAttachment", "id": "AAMkAGI2THVSAAA=", "name": "a.txt",
           "contentType": "text/plain", "size": 5, "isInline": False,
           "lastModifiedDateTime": "2026-01-01T00:00:00Z", "contentBytes": "aGVsbG8="}
SENT = {"@odata.type": "#microsoft.graph.fileAttachment", "name": "a.txt", "contentBytes": "aGVsbG8="}


def _har_entry(content: dict[str, object], response_headers: list[dict[str, str]],
               request_headers: list[dict[str, str]] | None = None) -> dict[str, object]:
    return {
        "startedDateTime": "2026-03-01T10:00:00.000+01:00",
        "time": 12,
        "request": {"method": "POST", "url": ATTACH_URL, "httpVersion": "h2",
                    "headers": request_headers or [
                        {"name": ":authority", "value": "graph.microsoft.com"},
                        {"name": "authorization", "value": f"Bearer {FAKE_TOKEN}"},
                        {"name": "content-type", "value": "application/json"}],
                    "postData": {"mimeType": "application/json", "text": json.dumps(SENT)}},
        "response": {"status": 201, "statusText": "", "httpVersion": "h2", "headers": response_headers,
                     "content": content},
    }


JSON_HEADERS = [{"name": ":status", "value": "201"}, {"name": "content-type", "value": "application/json"}]
# Browsers save decoded bodies but keep the Content-Encoding header they received.
GZIP_HEADERS = [*JSON_HEADERS, {"name": "content-encoding", "value": "gzip"}, {"name": "content-length", "value": "99"}]
CREATED_TEXT = json.dumps(CREATED)

HAR_CASES = [
    ("plain text body", _har_entry({"mimeType": "application/json", "text": CREATED_TEXT}, JSON_HEADERS),
     CREATED_TEXT.encode(), [("content-type", "application/json")]),
    ("base64 body", _har_entry({"mimeType": "application/json", "encoding": "base64",
                                "text": base64.b64encode(CREATED_TEXT.encode()).decode()}, JSON_HEADERS),
     CREATED_TEXT.encode(), [("content-type", "application/json")]),
    ("decoded body of a gzip answer", _har_entry({"mimeType": "application/json", "text": CREATED_TEXT},
                                                 GZIP_HEADERS),
     CREATED_TEXT.encode(), [("content-type", "application/json"), ("content-length", str(len(CREATED_TEXT)))]),
]


@pytest.mark.parametrize("name, entry, body, headers", HAR_CASES, ids=[c[0] for c in HAR_CASES])
def test_import_of_a_har_file(tmp_path: Path, name: str, entry: dict[str, object], body: bytes,
                              headers: list[tuple[str, str]]) -> None:
    out_of_scope = dict(entry, request=dict(entry["request"], method="GET",  # type: ignore[arg-type]
                                            url="https://graph.microsoft.com/v1.0/me"))
    never_answered = dict(entry, response={"status": 0, "statusText": "", "headers": [], "content": {}})
    har = tmp_path / "browser.har"
    har.write_text(json.dumps({"log": {"version": "1.2", "entries": [entry, out_of_scope, never_answered]}}))
    cassette = tmp_path / "c.yaml"
    code, out = _run("import", str(har), "--cassette", str(cassette))
    assert code == 0, out
    [interaction] = load_cassette(cassette).interactions
    assert interaction.response.body == body
    assert list(interaction.response.headers) == headers  # pseudo-headers gone, encoding undone
    assert interaction.request.headers.get("authorization") != f"Bearer {FAKE_TOKEN}"
    assert ":authority" not in interaction.request.headers
    assert json.loads(interaction.request.body) == SENT
    assert interaction.meta.recorded_at == "2026-03-01T09:00:00.000000Z"
    assert interaction.meta.route is not None
    assert FAKE_TOKEN not in cassette.read_text()


BAD_HARS = [
    ("not json", b'{"log": {"entries": [}', "line 1", "not valid JSON"),
    ("no entries", b'{"log": {}}', "log", "missing 'entries'"),
    ("entry without response", json.dumps({"log": {"entries": [{"request": {}}]}}).encode(),
     "log.entries[0]", "missing 'response'"),
    ("bad base64", json.dumps({"log": {"entries": [_har_entry({"encoding": "base64", "text": "%%%"},
                                                                JSON_HEADERS)]}}).encode(),
     "log.entries[0].response.content.text", "not valid base64"),
]


@pytest.mark.parametrize("name, raw, where, problem", BAD_HARS, ids=[c[0] for c in BAD_HARS])
def test_bad_har_names_file_and_place(tmp_path: Path, name: str, raw: bytes, where: str, problem: str) -> None:
    har = tmp_path / "bad.har"
    har.write_bytes(raw)
    code, out = _run("import", str(har), "--cassette", str(tmp_path / "c.yaml"))
    assert code == 2
    assert f"{har}: {where}" in out and problem in out
    assert "Traceback" not in out and not (tmp_path / "c.yaml").exists()


def test_truncated_flow_file_is_a_clear_error(tmp_path: Path) -> None:
    flows = tmp_path / "broken.mitm"
    flows.write_bytes(b"12345:not a tnetstring")
    code, out = _run("import", str(flows), "--cassette", str(tmp_path / "c.yaml"))
    assert code == 2 and str(flows) in out and "not a mitmproxy flow file" in out


def test_import_refuses_to_overwrite_without_append(tmp_path: Path) -> None:
    har = tmp_path / "one.har"
    har.write_text(json.dumps({"log": {"version": "1.2", "entries": [HAR_CASES[0][1]]}}))
    cassette = tmp_path / "c.yaml"
    assert _run("import", str(har), "--cassette", str(cassette))[0] == 0
    code, out = _run("import", str(har), "--cassette", str(cassette))
    assert code == 2 and "--append" in out
    assert _run("import", str(har), "--cassette", str(cassette), "--append")[0] == 0
    assert len(load_cassette(cassette).interactions) == 2


# ---------------------------------------------------------------- export and back


def _gzipped_copy(source: Path, target: Path) -> Path:
    """The example cassette with one response gzip-encoded on the wire, as Graph may send it."""
    from dataclasses import replace

    from graphtape.cassettes.storage import save_cassette

    cassette = load_cassette(source)
    first = cassette.interactions[0]
    body = gzip.compress(first.response.body, mtime=0)
    response = replace(first.response, body=body,
                       headers=first.response.headers.without("content-length").replace("content-type", "application/json")
                       )
    response = replace(response, headers=type(response.headers)((*response.headers.pairs, ("Content-Encoding", "gzip"))))
    cassette.interactions[0] = replace(first, response=response)
    save_cassette(target, cassette)
    return target


@pytest.mark.parametrize("kind", ["example", "gzip"])
def test_export_to_har_and_back_gives_the_same_interactions(tmp_path: Path, kind: str) -> None:
    source = example_cassette() if kind == "example" else _gzipped_copy(example_cassette(), tmp_path / "gz.yaml")
    har = tmp_path / "out.har"
    code, out = _run("export", "--cassette", str(source), "--har", str(har))
    assert code == 0, out
    document = json.loads(har.read_text())
    assert document["log"]["version"] == "1.2"
    back = tmp_path / "back.yaml"
    code, out = _run("import", str(har), "--cassette", str(back), "--scope", "all")
    assert code == 0, out
    _same(load_cassette(source).interactions, load_cassette(back).interactions)
    if kind == "gzip":  # a viewer sees the decoded JSON, not gzip bytes
        assert json.loads(document["log"]["entries"][0]["response"]["content"]["text"])


def test_exported_har_opens_in_mitmproxy(tmp_path: Path) -> None:
    """mitmweb loads HAR files through mitmproxy.io; the export must be one it reads."""
    from mitmproxy import http, io

    har = tmp_path / "out.har"
    assert _run("export", "--cassette", str(example_cassette()), "--har", str(har))[0] == 0
    flows = io.read_flows_from_paths([str(har)])
    expected = load_cassette(example_cassette()).interactions
    assert len(flows) == len(expected)
    for flow, interaction in zip(flows, expected, strict=False):
        assert isinstance(flow, http.HTTPFlow) and flow.response is not None
        assert (flow.request.method, flow.request.url) == (interaction.request.method, interaction.request.uri)
        assert flow.response.status_code == interaction.response.status_code
        assert flow.response.content == interaction.response.body
