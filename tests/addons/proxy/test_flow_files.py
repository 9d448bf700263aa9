"""Cassettes as mitmproxy flow files: ``graphtape export --mitm``, read back by mitmproxy and by ``graphtape import``.

The marks and comments are checked against two outside truths: what live recording puts on
the very same traffic in a plain ``mitmdump -s`` (saved with mitmproxy's own ``-w``), and
which calls Graph's documentation says it rejects (graph_traffic.STEPS).
"""

from __future__ import annotations

import gzip
import json
import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from graph_traffic import STEPS, send_conversation
from mitmproxy import http, io

from graphtape.addons.proxy.flow_files import INTERACTION_METADATA_KEY
from graphtape.cassettes.findings import Finding, Severity
from graphtape.cassettes.model import Cassette, Headers, Interaction, InteractionMeta, Request, Response
from graphtape.cassettes.serialization import load_cassette
from graphtape.cassettes.storage import save_cassette
from graphtape.cli.examples import example_cassette
from graphtape.cli.main import main
from graphtape.cli.runtime.processes import GraphtapeProcess

MITMDUMP = str(Path(sys.executable).with_name("mitmdump"))
MARK_OF_WORST = {"error": ":x:", "warning": ":warning:", "": ""}


def _cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def _read(path: Path) -> list[http.HTTPFlow]:
    with open(path, "rb") as fh:
        flows = list(io.FlowReader(fh).stream())
    assert all(isinstance(f, http.HTTPFlow) for f in flows)
    return flows  # type: ignore[return-value]


def _export(cassette: Path, out: Path) -> list[http.HTTPFlow]:
    code, output = _cli("export", "--cassette", str(cassette), "--mitm", str(out))
    assert code == 0, output
    return _read(out)


def _round_trip(cassette: Path, tmp_path: Path, *scope: str) -> list[Interaction]:
    flows = tmp_path / "out.mitm"
    _export(cassette, flows)
    back = tmp_path / "back.yaml"
    code, output = _cli("import", str(flows), "--cassette", str(back), *scope)
    assert code == 0, output
    return load_cassette(back).interactions


# ---------------------------------------------------------------- live recording as the reference


@pytest.fixture(scope="module")
def live_recording(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The conversation recorded by graphtape's addons in a plain ``mitmdump -s``, its flows saved by ``-w``."""
    folder = tmp_path_factory.mktemp("live")
    cassette, flows, log = folder / "live.yaml", folder / "live.mitm", folder / "mitmdump.log"
    addon = subprocess.run([sys.executable, "-m", "graphtape.cli", "addon-path"], capture_output=True, text=True,
                           check=True).stdout.strip()
    with GraphtapeProcess("simulate", "--port", "0") as sim, open(log, "wb") as out:
        proc = subprocess.Popen([MITMDUMP, "-s", addon, "--mode", f"reverse:{sim.url}", "--listen-host", "127.0.0.1",
                                 "--listen-port", "0", "--set", f"confdir={folder / 'conf'}", "-w", str(flows),
                                 "--set", f"graphtape_cassette={cassette}", "--set", "graphtape_record_mode=all"],
                                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        try:
            port = _listening_port(proc, log)
            answers = send_conversation(f"http://127.0.0.1:{port}")
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    assert [a.status_code for a in answers] == [s.status for s in STEPS], log.read_text(errors="replace")
    return cassette, flows


def _listening_port(proc: subprocess.Popen[bytes], log: Path) -> int:
    import time

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        m = re.search(r"listening at (?:http://)?[^\s]+?:(\d+)", log.read_text(errors="replace"))
        if m:
            return int(m.group(1))
        time.sleep(0.1)
    raise AssertionError("mitmdump did not start:\n" + log.read_text(errors="replace"))


@pytest.mark.slow
def test_exported_flows_are_marked_and_commented_as_live_recording_does(live_recording: tuple[Path, Path],
                                                                       tmp_path: Path) -> None:
    cassette, live_flows = live_recording
    live = _read(live_flows)
    exported = _export(cassette, tmp_path / "exported.mitm")
    assert len(exported) == len(live) == len(STEPS)
    assert [(f.marked, f.comment) for f in exported] == [(f.marked, f.comment) for f in live]
    # Graph's documentation: the calls it rejects are errors, a read-only property a warning.
    assert [f.marked for f in exported] == [MARK_OF_WORST[s.worst] for s in STEPS]
    assert all(f.comment for f, s in zip(exported, STEPS, strict=True) if s.worst)
    assert [(f.request.method, f.request.content, f.response.status_code) for f in exported] == [
        (s.method, s.body, s.status) for s in STEPS]
    assert all(f.response is not None for f in exported)


@pytest.mark.slow
def test_mitmdump_reads_the_exported_file(conversation_cassette: Path, tmp_path: Path) -> None:
    flows = tmp_path / "conversation.mitm"
    _export(conversation_cassette, flows)
    proc = subprocess.run([MITMDUMP, "-n", "-r", str(flows), "--set", f"confdir={tmp_path / 'conf'}"],
                          capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    requests = re.findall(r": (POST|PUT) https?://\S+", proc.stdout)
    assert requests == [s.method for s in STEPS], proc.stdout


# ---------------------------------------------------------------- and back through graphtape import


def _odd_cassette(path: Path) -> Path:
    """Interactions a flow file has to work to carry exactly (no secrets in them: import redacts)."""
    created = json.dumps({"@odata.type": "#microsoft.graph.fileAttachment", "id": "AAMk=", "name": "a.txt",
                          "size": 5}).encode()
    odd_finding = Finding(Severity.WARNING, "unexpected-status", "response", "$status", "201",
                          "a value with \u2028 and ü", "seen as sent")
    interactions = [
        Interaction(  # the default port written out, and a gzip answer
            Request("POST", "https://graph.microsoft.com:443/v1.0/me/messages/AAMk=/attachments",
                    Headers.of([("Content-Type", "application/json")]), b'{"name": "a.txt"}'),
            Response(201, "Created", Headers.of([("Content-Type", "application/json"), ("Content-Encoding", "gzip")]),
                     gzip.compress(created, mtime=0)),
            InteractionMeta(route="user-message", route_template="/me/messages/{message-id}/attachments",
                            recorded_at="2026-03-01T09:00:00.123456Z", findings=(odd_finding,),
                            extra=(("upload_session", {"session": "s1", "step": "chunk", "chunk": 0,
                                                       "range": "bytes 0-3/10"}), ("note", [1, None, {"k": True}])))),
        Interaction(  # a header that is not UTF-8, binary bodies, an odd reason, repeated headers, no time
            Request("PUT", "http://127.0.0.1:9/upload/%C3%A9t%C3%A9?x=1&x=2",
                    Headers.of([("X-Name", "caf\udce9"), ("X-Twice", "1"), ("x-twice", "2")]), bytes(range(256))),
            Response(599, "Strange Reason", Headers.of([("Content-Type", "application/octet-stream")]),
                     bytes(range(255, -1, -1)))),
        Interaction(  # a URI with characters mitmproxy must have %-encoded, and an empty answer
            Request("POST", "http://[::1]:8080/beta/me/messages/ä/attachments", Headers.of([]), b""),
            Response(204, "", Headers.of([]), b"")),
    ]
    save_cassette(path, Cassette(interactions=interactions))
    return path


@pytest.mark.slow
@pytest.mark.parametrize("scope", [(), ("--scope", "all")], ids=["attachments-scope", "all-scope"])
def test_import_of_an_export_gives_the_same_interactions(conversation_cassette: Path, tmp_path: Path,
                                                         scope: tuple[str, ...]) -> None:
    # Every interaction of the conversation is attachment traffic (chunk PUTs included), so both scopes keep all.
    assert _round_trip(conversation_cassette, tmp_path, *scope) == load_cassette(conversation_cassette).interactions


@pytest.mark.parametrize("source", ["example", "odd"])
def test_import_of_an_export_gives_the_same_bytes_headers_and_data(tmp_path: Path, source: str) -> None:
    cassette = example_cassette() if source == "example" else _odd_cassette(tmp_path / "odd.yaml")
    assert _round_trip(cassette, tmp_path, "--scope", "all") == load_cassette(cassette).interactions


def _rewrite(path: Path, change: dict[int, object]) -> None:
    flows = _read(path)
    for n, edit in change.items():
        edit(flows[n])  # type: ignore[operator]
    with open(path, "wb") as fh:
        writer = io.FlowWriter(fh)
        for flow in flows:
            writer.add(flow)


def test_a_flow_edited_after_export_is_validated_afresh(tmp_path: Path) -> None:
    """Carried findings describe the exported exchange only: an edit (in mitmweb, say) drops them."""
    flows = tmp_path / "out.mitm"
    _export(example_cassette(), flows)

    def size_as_string(flow: http.HTTPFlow) -> None:
        assert flow.response is not None
        body = json.loads(flow.response.content or b"")
        flow.response.content = json.dumps({**body, "size": str(body["size"])}).encode()

    def garbage_metadata(flow: http.HTTPFlow) -> None:
        flow.metadata[INTERACTION_METADATA_KEY] = "{not json"

    _rewrite(flows, {0: size_as_string, 1: garbage_metadata})
    back = tmp_path / "back.yaml"
    assert _cli("import", str(flows), "--cassette", str(back))[0] == 0
    original, imported = load_cassette(example_cassette()).interactions, load_cassette(back).interactions
    # fileAttachment.size is Edm.Int32 (CSDL): the edited answer now has a wrong-type finding there.
    assert [(f.code, f.where, f.path) for f in imported[0].meta.findings] == [("wrong-type", "response", "$.size")]
    assert imported[1].request == original[1].request and imported[1].meta.findings == original[1].meta.findings
    assert imported[2:] == original[2:]


def test_a_uri_mitmproxy_cannot_hold_is_named(tmp_path: Path) -> None:
    cassette = tmp_path / "bad.yaml"
    first = load_cassette(example_cassette()).interactions[0]
    save_cassette(cassette, Cassette(interactions=[first, replace(first, request=replace(
        first.request, uri="http://bad host/v1.0/me/messages/X/attachments"))]))
    code, output = _cli("export", "--cassette", str(cassette), "--mitm", str(tmp_path / "out.mitm"))
    assert code == 2 and f"{cassette}: interactions[1].request.uri" in output, output
    assert not (tmp_path / "out.mitm").exists()


def test_export_needs_a_target(tmp_path: Path) -> None:
    code, output = _cli("export", "--cassette", str(example_cassette()))
    assert code == 2 and "--har" in output and "--mitm" in output
