"""Real Graph clients through `graphtape record` and offline `graphtape replay`, against `graphtape simulate`.

One simulator (plain HTTP and TLS on one port, its own CA), one recording run and one replay run
per proxy mode serve every client in this module; each client's answers in replay must equal,
byte for byte, what it got while recording.

| client | mode | what it does | truth source |
|---|---|---|---|
| msgraph-sdk 1.x | reverse, http | POST /me/messages, file/item/reference attachments, list, a 10 MB file through the `create_upload_session` request builder then chunk PUTs with httpx (no Authorization) | the SDK itself; https://learn.microsoft.com/en-us/graph/api/attachment-createuploadsession (its Python snippet), https://learn.microsoft.com/en-us/graph/outlook-large-attachments |
| msgraph-sdk 1.x | forward, TLS, HTTP/2 | file/item/reference attachments through HTTPS_PROXY | the SDK (httpx with http2=True, trust_env) |
| msgraph-core LargeFileUploadTask | reverse, http | Microsoft's snippet (msgraph-snippets-python, large_file_upload.py) with the token kept to Graph's host | the client: it fails on Outlook's documented single-value `nextExpectedRanges` (msgraph-sdk-python-core #691/#716/#718); graphtape must change nothing it sees |
| @microsoft/microsoft-graph-client 3.0.7 | reverse, TLS | a file attachment, then LargeFileUploadTask (1 MiB ranges) | the client from npm; https://learn.microsoft.com/en-us/graph/sdks/large-file-upload |
| curl | forward, TLS | a file attachment, createUploadSession, the chunks to the handed URL | curl |
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sdk_support import FixedTokenCredential, free_port

from graphtape.addons.graph.upload_urls import match_upload_url
from graphtape.cassettes.serialization import load_cassette
from graphtape.cli.runtime.processes import GraphtapeProcess

pytestmark = pytest.mark.slow

msgraph = pytest.importorskip("msgraph", reason="msgraph-sdk is in the test extra")

MiB = 1024 * 1024
TOKEN = "fake-token-for-tests"
BIG = bytes(range(256)) * (10 * MiB // 256)  # the 10 MB file of the SDK scenario
LFU_FILE = bytes(range(251)) * (3 * MiB // 251 + 1)  # a little over 3 MiB: the smallest Outlook session
CURL_FILE = bytes(range(199)) * (3 * MiB // 199 + 1)
JS_CLIENT = "@microsoft/microsoft-graph-client@3.0.7"
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "js"

Answer = tuple[int, list[tuple[str, str]], bytes]




@dataclass
class _Sdk:
    client: Any
    answers: list[Answer] = field(default_factory=list)
    requests: list[tuple[str, str, str | None, bool]] = field(default_factory=list)
    versions: set[str] = field(default_factory=set)


def _sdk(base_url: str, allowed_hosts: list[str] | None = None) -> _Sdk:
    """GraphServiceClient as ``GraphServiceClient(credentials=...)`` builds it, with its base URL
    replaced (no trailing slash) and hooks that keep every raw answer and request."""
    from kiota_authentication_azure.azure_identity_authentication_provider import (
        AzureIdentityAuthenticationProvider,
    )
    from msgraph import GraphRequestAdapter, GraphServiceClient

    auth = AzureIdentityAuthenticationProvider(FixedTokenCredential(TOKEN), allowed_hosts=allowed_hosts or [])  # type: ignore[arg-type]
    adapter = GraphRequestAdapter(auth)
    adapter.base_url = base_url
    sdk = _Sdk(GraphServiceClient(request_adapter=adapter))

    async def on_request(request: httpx.Request) -> None:
        sdk.requests.append((request.method, request.url.path, request.headers.get("content-range"),
                             "authorization" in request.headers))

    async def on_response(response: httpx.Response) -> None:
        await response.aread()
        sdk.versions.add(response.http_version)
        sdk.answers.append((response.status_code, [(k.decode(), v.decode()) for k, v in response.headers.raw],
                            response.content))

    http_client = adapter._http_client
    http_client.event_hooks = {"request": [on_request], "response": [on_response]}
    return sdk


def _httpx_answer(response: httpx.Response) -> Answer:
    return response.status_code, [(k.decode(), v.decode()) for k, v in response.headers.raw], response.content


def _attachment_models() -> list[Any]:
    from msgraph.generated.models.file_attachment import FileAttachment
    from msgraph.generated.models.item_attachment import ItemAttachment
    from msgraph.generated.models.message import Message
    from msgraph.generated.models.reference_attachment import ReferenceAttachment

    return [
        FileAttachment(odata_type="#microsoft.graph.fileAttachment", name="menu.txt", content_type="text/plain",
                       content_bytes=b"Soup of the day: tomato.\n"),
        ItemAttachment(odata_type="#microsoft.graph.itemAttachment", name="Lunch",
                       item=Message(odata_type="#microsoft.graph.message", subject="Lunch?")),
        ReferenceAttachment(odata_type="#microsoft.graph.referenceAttachment", name="Plan.docx"),
    ]


def _session_body(name: str, size: int) -> Any:
    from msgraph.generated.models.attachment_item import AttachmentItem
    from msgraph.generated.models.attachment_type import AttachmentType
    from msgraph.generated.users.item.messages.item.attachments.create_upload_session.create_upload_session_post_request_body import (
        CreateUploadSessionPostRequestBody,
    )

    return CreateUploadSessionPostRequestBody(attachment_item=AttachmentItem(
        attachment_type=AttachmentType.File, name=name, size=size, content_type="application/octet-stream"))


async def _sdk_reverse(base_url: str) -> dict[str, Any]:
    """A message, its three kinds of attachment, their listing, and a 10 MB upload session."""
    from msgraph.generated.models.message import Message

    sdk = _sdk(base_url)
    me = sdk.client.me
    message = await me.messages.post(Message(subject="graphtape"))
    attachments = me.messages.by_message_id(message.id).attachments
    created = [await attachments.post(model) for model in _attachment_models()]
    listing = await attachments.get()
    session = await attachments.create_upload_session.post(_session_body("report.bin", len(BIG)))
    chunks: list[Answer] = []
    with httpx.Client(trust_env=False, timeout=60) as http:  # no Authorization: the URL is pre-authenticated
        for start in range(0, len(BIG), 3 * MiB):
            end = min(start + 3 * MiB, len(BIG)) - 1
            chunks.append(_httpx_answer(http.put(session.upload_url, content=BIG[start:end + 1], headers={
                "Content-Range": f"bytes {start}-{end}/{len(BIG)}", "Content-Type": "application/octet-stream"})))
    return {"answers": sdk.answers + chunks, "types": [c.odata_type for c in created],
            "listed": [a.name for a in listing.value], "upload_url": session.upload_url}


async def _sdk_forward(base_url: str) -> dict[str, Any]:
    sdk = _sdk(base_url)
    attachments = sdk.client.me.messages.by_message_id("AAMkAGI2TG93AAA=").attachments
    created = [await attachments.post(model) for model in _attachment_models()]
    return {"answers": sdk.answers, "types": [c.odata_type for c in created], "versions": sdk.versions}


async def _large_file_upload_task(base_url: str) -> dict[str, Any]:
    """Microsoft's snippet, with the token kept to Graph's host (allowed_hosts), as against Graph."""
    from msgraph.generated.models.file_attachment import FileAttachment
    from msgraph_core.tasks.large_file_upload import LargeFileUploadTask

    sdk = _sdk(base_url, allowed_hosts=["127.0.0.1"])
    attachments = sdk.client.me.messages.by_message_id("AAMkAGI2TG93AAB=").attachments
    session = await attachments.create_upload_session.post(_session_body("task.bin", len(LFU_FILE)))
    task = LargeFileUploadTask(upload_session=session, request_adapter=sdk.client.request_adapter,
                               stream=io.BytesIO(LFU_FILE), max_chunk_size=320 * 1024,
                               parsable_factory=FileAttachment)
    try:
        result = await task.upload()
        outcome: tuple[str, str] = ("ok", str(result.location))
    except Exception as exc:
        outcome = (type(exc).__name__, str(exc))
    requests = []
    for method, path, content_range, authorized in sdk.requests:
        found = match_upload_url(path)
        requests.append((method, "{uploadUrl}" if found else path, content_range, authorized))
    return {"outcome": outcome, "requests": requests, "statuses": [a[0] for a in sdk.answers],
            "upload_url": session.upload_url}


def _curl(*args: str) -> bytes:
    done = subprocess.run(["curl", "-s", "-i", "--http2", "--suppress-connect-headers", *args], capture_output=True, timeout=60, check=False)
    return done.stdout


def _curl_scenario(proxy: str, ca: Path, base: str, tmp: Path) -> list[bytes]:
    """curl over forward HTTPS: a file attachment, an upload session, its chunks to the handed URL."""
    common = ["-x", proxy, "--cacert", str(ca), "-H", f"Authorization: Bearer {TOKEN}"]
    path = f"{base}/v1.0/me/messages/AAMkAGI2TG93AAC=/attachments"
    outputs = [_curl(*common, "-X", "POST", path, "-H", "Content-Type: application/json", "--data-binary", json.dumps(
        {"@odata.type": "#microsoft.graph.fileAttachment", "name": "curl.txt",
         "contentBytes": base64.b64encode(b"from curl").decode()}))]
    session = {"AttachmentItem": {"attachmentType": "file", "name": "curl.bin", "size": len(CURL_FILE)}}
    outputs.append(_curl(*common, "-X", "POST", f"{path}/createUploadSession", "-H",
                         "Content-Type: application/json", "--data-binary", json.dumps(session)))
    url = json.loads(outputs[-1].split(b"\r\n\r\n", 1)[1])["uploadUrl"]
    for start in range(0, len(CURL_FILE), 2 * MiB):
        end = min(start + 2 * MiB, len(CURL_FILE)) - 1
        chunk = tmp / f"chunk-{start}"
        chunk.write_bytes(CURL_FILE[start:end + 1])
        outputs.append(_curl("-x", proxy, "--cacert", str(ca), "-X", "PUT", url, "-H",
                             f"Content-Range: bytes {start}-{end}/{len(CURL_FILE)}", "--data-binary", f"@{chunk}"))
    return outputs


def _node_client(cache: Path) -> Path | str:
    """The JS client installed from npm into ``cache``; a reason string when it cannot be."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        return "node and npm are not on PATH"
    if not (cache / "node_modules" / "@microsoft" / "microsoft-graph-client").is_dir():
        cache.mkdir(parents=True, exist_ok=True)
        done = subprocess.run([npm, "install", "--prefix", str(cache), "--no-audit", "--no-fund", "--prefer-offline",
                               JS_CLIENT], capture_output=True, text=True, timeout=300, check=False)
        if done.returncode != 0:
            return f"npm could not install {JS_CLIENT}: {done.stderr.strip()[-500:]}"
    script = cache / "graph_client_scenario.js"
    shutil.copyfile(FIXTURES / "graph_client_scenario.js", script)
    return script


def _js_scenario(script: Path, base: str, ca: Path) -> dict[str, Any]:
    env = {**os.environ, "GRAPH_BASE": base, "NODE_EXTRA_CA_CERTS": str(ca)}
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy"):
        env.pop(name, None)
    done = subprocess.run(["node", str(script)], capture_output=True, text=True, env=env, timeout=120, check=False)
    assert done.stdout.strip(), done.stderr
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


@dataclass
class Runs:
    recorded: dict[str, Any]
    replayed: dict[str, Any]
    direct_lfu: dict[str, Any]
    cassettes: dict[str, Path]
    processes: dict[str, GraphtapeProcess]
    js_skip: str | None


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runs]:
    tmp = tmp_path_factory.mktemp("real-clients")
    sim_conf, proxy_conf = tmp / "simulator-conf", tmp / "proxy-conf"
    sim_ca, proxy_ca = tmp / "simulator-ca.pem", proxy_conf / "mitmproxy-ca-cert.pem"
    js = _node_client(tmp / "js")
    js_skip = js if isinstance(js, str) else None
    reverse_port, forward_port = free_port(), free_port()
    cassettes = {"reverse": tmp / "reverse.yaml", "forward": tmp / "forward.yaml"}
    processes: dict[str, GraphtapeProcess] = {}

    def scenarios(reverse: str, forward: str) -> dict[str, Any]:
        out: dict[str, Any] = {
            "sdk_reverse": asyncio.run(_sdk_reverse(f"{reverse}/v1.0")),
            "lfu": asyncio.run(_large_file_upload_task(f"{reverse}/v1.0")),
        }
        if not isinstance(js, str):
            out["js"] = _js_scenario(js, reverse.replace("http://", "https://"), proxy_ca)
        with pytest.MonkeyPatch.context() as env:  # httpx reads the proxy and CA from the environment
            for name in ("NO_PROXY", "no_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
                env.delenv(name, raising=False)
            env.setenv("HTTPS_PROXY", forward)
            env.setenv("SSL_CERT_FILE", str(proxy_ca))
            out["sdk_forward"] = asyncio.run(_sdk_forward(f"{sim_https}/v1.0"))
        out["curl"] = _curl_scenario(forward, proxy_ca, sim_https, tmp)
        return out

    with GraphtapeProcess("simulate", "--port", "0", "--confdir", str(sim_conf), "--ca-out", str(sim_ca)) as sim:
        sim_https = sim.url.replace("http://", "https://")
        direct_lfu = asyncio.run(_large_file_upload_task(f"{sim.url}/v1.0"))
        common = ["--confdir", str(proxy_conf), "--upstream-ca", str(sim_ca)]
        rec = processes["record-reverse"] = GraphtapeProcess(
            "record", "--cassette", str(cassettes["reverse"]), "--upstream", sim.url, "--port", str(reverse_port),
            "--scope", "all", *common)
        # One after the other: both share proxy_conf, and two mitmproxies that find no CA there at the
        # same moment each make one; the client would trust the file while one of them signs with another.
        with rec:
            fwd = processes["record-forward"] = GraphtapeProcess(
                "record", "--cassette", str(cassettes["forward"]), "--mode", "forward", "--port", str(forward_port),
                *common)
            with fwd:
                recorded = scenarios(rec.url, fwd.url)
    rep = processes["replay-reverse"] = GraphtapeProcess(
        "replay", "--cassette", str(cassettes["reverse"]), "--port", str(reverse_port), "--confdir", str(proxy_conf))
    fwd_rep = processes["replay-forward"] = GraphtapeProcess(
        "replay", "--cassette", str(cassettes["forward"]), "--mode", "forward", "--port", str(forward_port),
        "--confdir", str(proxy_conf))
    with rep, fwd_rep:
        replayed = scenarios(rep.url, fwd_rep.url)
    yield Runs(recorded, replayed, direct_lfu, cassettes, processes, js_skip)


def _no_misses(runs: Runs) -> None:
    for name in ("replay-reverse", "replay-forward"):
        proc = runs.processes[name]
        assert proc.returncode == 0, proc.stderr
        assert "misses       0" in proc.stdout, proc.stdout


def test_msgraph_sdk_reverse_mode_replays_byte_identical_answers(runs: Runs) -> None:
    recorded, replayed = runs.recorded["sdk_reverse"], runs.replayed["sdk_reverse"]
    assert recorded["types"] == ["#microsoft.graph.fileAttachment", "#microsoft.graph.itemAttachment",
                                 "#microsoft.graph.referenceAttachment"]
    assert recorded["listed"] == ["menu.txt", "Lunch", "Plan.docx"]
    statuses = [a[0] for a in recorded["answers"]]
    # POST message 201, three creates 201, list 200, createUploadSession 201, chunks 200 200 200 then 201
    assert statuses == [201, 201, 201, 201, 200, 201, 200, 200, 200, 201]
    assert json.loads(recorded["answers"][6][2])["nextExpectedRanges"] == [str(3 * MiB)]
    assert recorded["upload_url"].startswith("http://localhost:")  # graphtape's listener, another hostname
    assert replayed["answers"] == recorded["answers"]
    _no_misses(runs)


def test_msgraph_sdk_forward_mode_over_tls_and_http2_replays_byte_identical_answers(runs: Runs) -> None:
    recorded, replayed = runs.recorded["sdk_forward"], runs.replayed["sdk_forward"]
    assert [a[0] for a in recorded["answers"]] == [201, 201, 201]
    assert recorded["versions"] == replayed["versions"] == {"HTTP/2"}
    assert replayed["answers"] == recorded["answers"]
    uris = [i.request.uri for i in load_cassette(runs.cassettes["forward"]).interactions]
    assert uris and all(u.startswith("https://") for u in uris)


def test_large_file_upload_task_behaves_the_same_direct_recorded_and_replayed(runs: Runs) -> None:
    direct, recorded, replayed = runs.direct_lfu, runs.recorded["lfu"], runs.replayed["lfu"]
    assert direct["outcome"] == recorded["outcome"] == replayed["outcome"]
    assert direct["requests"] == recorded["requests"] == replayed["requests"]
    assert recorded["statuses"] == replayed["statuses"]
    assert all(not authorized for _, path, _, authorized in recorded["requests"] if path == "{uploadUrl}")
    if direct["outcome"][0] == "ok":  # the client was fixed upstream: a plain pass
        assert direct["outcome"][1]
        return
    # msgraph-core 1.5.x: chunk 0 is accepted, then Outlook's single start value ("327680") breaks
    # its range parsing (int('')), as reported upstream (msgraph-sdk-python-core #691, #716, #718).
    assert direct["outcome"][0] == "ValueError", direct["outcome"]
    chunk_puts = [r for r in direct["requests"] if r[1] == "{uploadUrl}"]
    assert [r[2] for r in chunk_puts] == [f"bytes 0-{320 * 1024 - 1}/{len(LFU_FILE)}"]


def test_javascript_client_and_its_large_file_upload_task_replay_identically(runs: Runs) -> None:
    if runs.js_skip is not None:
        pytest.skip(f"JavaScript client unavailable: {runs.js_skip}")
    recorded, replayed = runs.recorded["js"], runs.replayed["js"]
    assert recorded["file"]["status"] == 201
    upload = recorded["upload"]
    assert "error" not in upload, upload
    assert upload["url"].startswith("https://localhost:")  # not the Graph hostname: the client keeps its token
    assert upload["location"].startswith("https://outlook.office.com/api/v2.0/Users(")
    assert [r[0] for r in upload["progress"]] == [0, MiB, 2 * MiB, 3 * MiB]
    assert replayed == recorded


def test_curl_over_forward_https_replays_byte_identical_answers(runs: Runs) -> None:
    recorded, replayed = runs.recorded["curl"], runs.replayed["curl"]
    assert [o.split(b" ", 2)[1] for o in recorded] == [b"201", b"201", b"200", b"201"]
    assert b"https://outlook.office.com/api/v2.0/" in recorded[1]
    assert replayed == recorded
    chunk_uris = [i.request.uri for i in load_cassette(runs.cassettes["forward"]).interactions
                  if i.request.method == "PUT"]
    assert len(chunk_uris) == 2 and all(u.startswith("https://outlook.office.com/api/v2.0/") for u in chunk_uris)
