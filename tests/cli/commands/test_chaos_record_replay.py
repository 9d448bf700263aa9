"""A bad day, recorded and replayed: `graphtape simulate --faults` behind `graphtape record`, then
offline `graphtape replay` answering the same clients the same way.

One simulator (the faults file below), one recording run and one replay run serve every
scenario; each client must see, byte for byte, the same answers in replay as while recording,
and send the same number of requests.

| scenario | client | fault | expected (truth source) |
|---|---|---|---|
| four file attachments POSTed to /me | msgraph-sdk 1.x with its own retry handler (kiota RetryHandler) | every 2nd POST to the message's attachments answered 429, then 503, with Retry-After 1 | the SDK waits Retry-After and re-sends, marked with `Retry-Attempt` (kiota's retry handler; https://learn.microsoft.com/en-us/graph/throttling: wait Retry-After, retry); 7 POSTs, 4 attachments, no retry finding |
| a 3.5 MiB upload session, 1 MiB chunks | httpx, chunks sent by hand (kiota never retries application/octet-stream) | the session's 2nd chunk PUT answered 503 with Retry-After | the client resumes at the session's `nextExpectedRanges` (https://learn.microsoft.com/en-us/graph/outlook-large-attachments; https://learn.microsoft.com/en-us/graph/api/resources/uploadsession: a single start value for Outlook) and ends 201 with Location |
| a JSON batch of 5 attachment POSTs, one with contentBytes that is not base64 | httpx, the batch as https://learn.microsoft.com/en-us/graph/json-batching writes it | none | 200 with one answer per id; exactly one finding, naming `$.requests[2](id=3)` (the CSDL: contentBytes is Edm.Binary, base64) |
| a JSON batch of 2 attachment POSTs | msgraph-sdk's `client.batch.post` (msgraph-core BatchRequestContent) | none | 201 each; one warning per item for the `depends_on` the SDK sends, since Graph reads `dependsOn` (https://learn.microsoft.com/en-us/graph/json-batching; msgraph-sdk-python-core PR #996) |
| the same seed twice | httpx against two `graphtape simulate --seed 5 --failure-rate 0.4` | a seeded random share of 429/5xx | the same statuses in the same order (the issue's contract) |
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sdk_support import FixedTokenCredential, free_port

from graphtape.cassettes.serialization import load_cassette
from graphtape.cli.runtime.processes import GraphtapeProcess

pytestmark = pytest.mark.slow

msgraph = pytest.importorskip("msgraph", reason="msgraph-sdk is in the test extra")

MiB = 1024 * 1024
TOKEN = "fake-token-for-tests"
SDK_MESSAGE = "AAMkAGI2TG93AAA="
UPLOAD = bytes(range(241)) * (3 * MiB // 2 // 241 * 2 + 1000)  # a little over 3.5 MiB: 4 chunks of 1 MiB
BATCH_USER = "megan@contoso.com"
FAULTS = """\
seed: 11
schedule:
  - every: 2
    status: [429, 503]
    methods: [POST]
    paths: ["/v1.0/me/messages/*/attachments"]
    retry_after: 1
uploads:
  fail_chunks: [2]
  status: 503
  retry_after: 1
"""
Answer = tuple[int, list[tuple[str, str]], bytes]




def _answer(response: httpx.Response) -> Answer:
    return response.status_code, [(k.decode(), v.decode()) for k, v in response.headers.raw], response.content


async def _sdk_attachments(base_url: str) -> dict[str, Any]:
    """msgraph-sdk as GraphServiceClient(credentials=...) builds it, base URL replaced; its retry handler on."""
    from kiota_authentication_azure.azure_identity_authentication_provider import (
        AzureIdentityAuthenticationProvider,
    )
    from msgraph import GraphRequestAdapter, GraphServiceClient
    from msgraph.generated.models.file_attachment import FileAttachment

    adapter = GraphRequestAdapter(AzureIdentityAuthenticationProvider(FixedTokenCredential(TOKEN)))  # type: ignore[arg-type]
    adapter.base_url = base_url
    client = GraphServiceClient(request_adapter=adapter)
    answers: list[Answer] = []

    async def on_response(response: httpx.Response) -> None:  # what the caller gets, after the SDK's retries
        await response.aread()
        answers.append(_answer(response))

    adapter._http_client.event_hooks = {"response": [on_response]}
    attachments = client.me.messages.by_message_id(SDK_MESSAGE).attachments
    created = []
    for n in range(4):
        created.append(await attachments.post(FileAttachment(
            odata_type="#microsoft.graph.fileAttachment", name=f"part-{n}.txt", content_type="text/plain",
            content_bytes=f"part {n}\n".encode())))
    return {"answers": answers, "created": [(c.id, c.name, c.size) for c in created]}


def _upload_with_resume(base: str) -> dict[str, Any]:
    """createUploadSession, then 1 MiB chunks; a refused chunk is sent again after Retry-After, from the
    start the session last named in nextExpectedRanges."""
    answers: list[Answer] = []
    with httpx.Client(trust_env=False, timeout=60) as http:
        created = http.post(
            f"{base}/v1.0/users/adele@contoso.com/messages/AAMkAGI2TG93AAB=/attachments/createUploadSession",
            headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
            json={"AttachmentItem": {"attachmentType": "file", "name": "report.bin", "size": len(UPLOAD)}})
        answers.append(_answer(created))
        session = created.json()
        url, expected = session["uploadUrl"], session["nextExpectedRanges"]
        refused = 0
        for _ in range(20):  # bounded: 4 chunks and a retry need 5
            start = int(expected[0].split("-")[0])
            end = min(start + MiB, len(UPLOAD)) - 1
            put = http.put(url, content=UPLOAD[start:end + 1], headers={
                "Content-Range": f"bytes {start}-{end}/{len(UPLOAD)}", "Content-Type": "application/octet-stream"})
            answers.append(_answer(put))
            if put.status_code == 201:
                return {"answers": answers, "refused": refused, "location": put.headers.get("location")}
            if put.status_code >= 400:
                refused += 1
                time.sleep(float(put.headers.get("retry-after", "1")))
                continue  # resume where the session said it stands
            expected = put.json()["nextExpectedRanges"]
    return {"answers": answers, "refused": refused, "location": None}


def _batch_body() -> dict[str, Any]:
    def item(n: int, content: str) -> dict[str, Any]:
        return {"id": str(n), "method": "POST", "url": f"/users/{BATCH_USER}/messages/AAMkAGI2TG93AAC=/attachments",
                "headers": {"Content-Type": "application/json"},
                "body": {"@odata.type": "#microsoft.graph.fileAttachment", "name": f"note-{n}.txt",
                         "contentType": "text/plain", "contentBytes": content}}

    ok = base64.b64encode(b"a note\n").decode()
    return {"requests": [item(1, ok), item(2, ok), item(3, "not base64 at all!"), item(4, ok), item(5, ok)]}


async def _sdk_batch(base_url: str) -> dict[str, Any]:
    from kiota_authentication_azure.azure_identity_authentication_provider import (
        AzureIdentityAuthenticationProvider,
    )
    from msgraph import GraphRequestAdapter, GraphServiceClient
    from msgraph.generated.models.file_attachment import FileAttachment
    from msgraph_core.requests.batch_request_content import BatchRequestContent
    from msgraph_core.requests.batch_request_item import BatchRequestItem

    adapter = GraphRequestAdapter(AzureIdentityAuthenticationProvider(FixedTokenCredential(TOKEN)))  # type: ignore[arg-type]
    adapter.base_url = base_url
    client = GraphServiceClient(request_adapter=adapter)
    attachments = client.users.by_user_id(BATCH_USER).messages.by_message_id("AAMkAGI2TG93AAD=").attachments
    content = BatchRequestContent()
    for n in (1, 2):
        model = FileAttachment(odata_type="#microsoft.graph.fileAttachment", name=f"sdk-{n}.txt",
                               content_type="text/plain", content_bytes=b"from the SDK\n")
        content.add_request(str(n), BatchRequestItem(attachments.to_post_request_information(model), id=str(n)))
    answer = await client.batch.post(batch_request_content=content)
    return {"statuses": answer.get_response_status_codes()}


def _batch(base: str) -> Answer:
    with httpx.Client(trust_env=False, timeout=60) as http:
        return _answer(http.post(f"{base}/v1.0/$batch", content=json.dumps(_batch_body()).encode(), headers={
            "Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}))


@dataclass
class Runs:
    recorded: dict[str, Any]
    replayed: dict[str, Any]
    cassette: Path
    record: GraphtapeProcess
    replay: GraphtapeProcess


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runs]:
    tmp = tmp_path_factory.mktemp("chaos")
    faults = tmp / "bad-day.yaml"
    faults.write_text(FAULTS)
    cassette, port = tmp / "bad-day-cassette.yaml", free_port()

    def scenarios(base: str) -> dict[str, Any]:
        return {"sdk": asyncio.run(_sdk_attachments(f"{base}/v1.0")), "upload": _upload_with_resume(base),
                "batch": _batch(base), "sdk_batch": asyncio.run(_sdk_batch(f"{base}/v1.0"))}

    with GraphtapeProcess("simulate", "--port", "0", "--faults", str(faults)) as sim:
        assert "faults:" in sim.stdout and "seed 11" in sim.stdout, sim.stdout
        record = GraphtapeProcess("record", "--cassette", str(cassette), "--upstream", sim.url, "--port", str(port))
        with record:
            recorded = scenarios(record.url)
    replay = GraphtapeProcess("replay", "--cassette", str(cassette), "--port", str(port))
    with replay:
        replayed = scenarios(replay.url)
    yield Runs(recorded, replayed, cassette, record, replay)


def _summary_count(process: GraphtapeProcess, label: str) -> int:
    line = next(x for x in process.stdout.splitlines() if x.strip().startswith(label))
    return int(line.split()[-1])


def test_the_replay_answers_every_request_it_got_while_recording_and_no_other(runs: Runs) -> None:
    interactions = load_cassette(runs.cassette).interactions
    assert runs.record.returncode == 0 and runs.replay.returncode == 0, runs.replay.stderr
    assert _summary_count(runs.record, "recorded") == len(interactions)
    assert _summary_count(runs.replay, "replayed") == len(interactions)  # the same number of requests
    assert _summary_count(runs.replay, "misses") == 0, runs.replay.stdout


def test_msgraph_sdk_retries_through_throttling_and_the_replay_gives_the_same_outcome(runs: Runs) -> None:
    recorded, replayed = runs.recorded["sdk"], runs.replayed["sdk"]
    assert [a[0] for a in recorded["answers"]] == [201] * 4
    assert replayed == recorded  # the same attachments, the same bytes
    posts = [it for it in load_cassette(runs.cassette).interactions
             if it.request.method == "POST" and f"/me/messages/{SDK_MESSAGE.rstrip('=')}" in it.request.uri
             .replace("%3D", "=")]
    assert [it.response.status_code for it in posts] == [201, 429, 201, 503, 201, 429, 201]
    assert [it.request.headers.get("retry-attempt") for it in posts] == [None, None, "1", None, "1", None, "1"]
    assert "never sent again" not in runs.record.stdout  # nothing given up
    for it in posts:
        assert not [f for f in it.meta.findings if f.code.startswith("retry-")], it.meta.findings
    throttled = json.loads(posts[1].response.body)["error"]
    assert throttled["code"] == "TooManyRequests" and posts[1].response.headers.get("retry-after") == "1"


def test_a_refused_chunk_is_resumed_from_next_expected_ranges_and_replayed_the_same(runs: Runs) -> None:
    recorded, replayed = runs.recorded["upload"], runs.replayed["upload"]
    assert recorded["refused"] == 1 and recorded["location"]
    assert [a[0] for a in recorded["answers"]] == [201, 200, 503, 200, 200, 201]
    assert replayed == recorded
    chunks = [it for it in load_cassette(runs.cassette).interactions if it.request.method == "PUT"]
    ranges = [it.request.headers.get("content-range") for it in chunks]
    assert ranges[1] == ranges[2]  # the refused chunk, sent again from the same byte
    assert not [f for it in chunks for f in it.meta.findings if f.severity.value != "info"]


def test_a_batch_with_one_invalid_attachment_has_exactly_one_finding_naming_its_id(runs: Runs) -> None:
    recorded, replayed = runs.recorded["batch"], runs.replayed["batch"]
    assert recorded[0] == 200
    statuses = {r["id"]: r["status"] for r in json.loads(recorded[2])["responses"]}
    assert statuses == {"1": 201, "2": 201, "3": 400, "4": 201, "5": 201}
    assert replayed == recorded  # byte-identical
    batch = [it for it in load_cassette(runs.cassette).interactions if it.request.uri.endswith("/$batch")]
    assert len(batch) == 2 and batch[0].meta.route == "batch"
    findings = [f for f in batch[0].meta.findings if f.severity.value != "info"]
    assert len(findings) == 1, findings
    assert findings[0].path.startswith("$.requests[2](id=3).body.contentBytes"), findings[0]


def _seeded_statuses(seed: str) -> list[int]:
    with GraphtapeProcess("simulate", "--port", "0", "--seed", seed, "--failure-rate", "0.4") as sim:
        with httpx.Client(trust_env=False, timeout=30) as http:
            return [http.get(f"{sim.url}/v1.0/me/messages/AAMkAGI2TG93AAA=/attachments",
                             headers={"Authorization": f"Bearer {TOKEN}"}).status_code for _ in range(25)]


def test_the_same_seed_gives_the_same_schedule_twice() -> None:
    first, second = _seeded_statuses("5"), _seeded_statuses("5")
    assert first == second
    assert {s for s in first if s != 200} and 200 in first  # faults and successes both drawn
    assert {s for s in first if s != 200} <= {429, 500, 502, 503, 504}


MISBEHAVING = """\
schedule:
  - at: [1, 2]
    status: 429
    methods: [POST]
    paths: ["*/attachments"]
    retry_after: 2
"""


def test_early_unsafe_and_abandoned_retries_are_findings_with_their_interaction_numbers(tmp_path: Path) -> None:
    """A client that re-sends a throttled POST at once and then gives up, and re-sends a POST that
    succeeded (graphtape validate reads the same findings from the cassette; the table of
    tests/addons/graph/test_retry_checks.py gives their truth sources)."""
    faults, cassette = tmp_path / "faults.yaml", tmp_path / "misbehaving.yaml"
    faults.write_text(MISBEHAVING)
    url = "/v1.0/me/messages/AAMkAGI2TG93AAA=/attachments"
    auth = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    first = {"@odata.type": "#microsoft.graph.fileAttachment", "name": "a.txt", "contentBytes": "YQ=="}
    second = {**first, "name": "b.txt"}
    with GraphtapeProcess("simulate", "--port", "0", "--faults", str(faults)) as sim:
        with GraphtapeProcess("record", "--cassette", str(cassette), "--upstream", sim.url, "--port", "0") as rec:
            with httpx.Client(base_url=rec.url, trust_env=False, timeout=30) as http:
                statuses = [http.post(url, json=first, headers=auth).status_code,  # 429, Retry-After 2
                            http.post(url, json=first, headers=auth).status_code,  # at once: too soon; then given up
                            http.post(url, json=second, headers=auth).status_code,  # 201
                            http.post(url, json=second, headers={**auth, "Retry-Attempt": "1"}).status_code]
    assert statuses == [429, 429, 201, 201]
    codes = {i: sorted(f.code for f in it.meta.findings if f.code.startswith("retry-"))
             for i, it in enumerate(load_cassette(cassette).interactions)}
    assert codes == {0: [], 1: ["retry-too-soon"], 2: [], 3: ["retry-after-success"]}
    assert "interactions[1] was answered 429 with Retry-After 2 s and never sent again" in rec.stdout, rec.stdout
    validated = GraphtapeProcess("validate", str(cassette))
    validated.proc.wait(timeout=120)
    out = validated.proc.stdout.read().decode() if validated.proc.stdout else ""
    for code in ("retry-too-soon", "retry-given-up", "retry-after-success"):
        assert code in out, out
    assert validated.proc.returncode != 0  # retry-after-success is an error


def test_replay_can_hold_each_answer_for_its_recorded_latency(tmp_path: Path) -> None:
    cassette = tmp_path / "slow.yaml"
    path = "/v1.0/me/messages/AAMkAGI2TG93AAA=/attachments"
    auth = {"Authorization": f"Bearer {TOKEN}"}
    body = {"@odata.type": "#microsoft.graph.fileAttachment", "name": "a.txt", "contentBytes": "YQ=="}
    with GraphtapeProcess("simulate", "--port", "0", "--latency", "0.8") as sim:
        with GraphtapeProcess("record", "--cassette", str(cassette), "--upstream", sim.url, "--port", "0") as rec:
            with httpx.Client(trust_env=False, timeout=30) as http:
                assert http.post(f"{rec.url}{path}", json=body, headers=auth).status_code == 201
    (interaction,) = load_cassette(cassette).interactions
    assert interaction.meta.latency is not None and interaction.meta.latency >= 0.8
    with GraphtapeProcess("replay", "--cassette", str(cassette), "--port", "0", "--honour-latency") as rep:
        with httpx.Client(trust_env=False, timeout=30) as http:
            started = time.monotonic()
            assert http.post(f"{rep.url}{path}", json=body, headers=auth).status_code == 201
            held = time.monotonic() - started
    assert held >= interaction.meta.latency


def test_msgraph_sdks_batch_is_recorded_with_its_depends_on_flagged_and_replayed(runs: Runs) -> None:
    assert runs.recorded["sdk_batch"] == runs.replayed["sdk_batch"] == {"statuses": {"1": 201, "2": 201}}
    batch = [it for it in load_cassette(runs.cassette).interactions if it.request.uri.endswith("/$batch")][-1]
    findings = [(f.code, f.path) for f in batch.meta.findings if f.severity.value != "info"]
    assert findings == [("batch-unknown-property", "$.requests[0](id=1).depends_on"),
                        ("batch-unknown-property", "$.requests[1](id=2).depends_on")]
