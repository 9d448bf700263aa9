"""``graphtape simulate`` as a real process, answering like Graph."""

from __future__ import annotations

import base64
import json
import signal
import ssl

import httpx
import pytest

from graphtape.cli.examples.example_requests import FILE_BODY, SEED_ROUTES

pytestmark = pytest.mark.slow

AUTH = {"Authorization": "Bearer fake-token-123", "Content-Type": "application/json"}
BIG_FILE = base64.b64encode(b"x" * (3 * 1024 * 1024 + 1)).decode()


@pytest.mark.parametrize("headers, body, status, code", [
    (AUTH, json.dumps(FILE_BODY), 201, None),
    ({"Content-Type": "application/json"}, json.dumps(FILE_BODY), 401, "InvalidAuthenticationToken"),
    (AUTH, json.dumps({k: v for k, v in FILE_BODY.items() if k != "@odata.type"}), 422, "UnprocessableType"),
    (AUTH, '{"name": ', 400, None),
    (AUTH, json.dumps(dict(FILE_BODY, contentBytes=BIG_FILE)), 400, None),
])
def test_answers_like_graph(simulator, headers: dict[str, str], body: str, status: int, code: str | None) -> None:
    r = httpx.post(simulator.url + SEED_ROUTES["message"], content=body.encode(), headers=headers, trust_env=False,
                   timeout=30)
    assert r.status_code == status
    data = r.json()
    if status == 201:
        assert data["id"] and data["lastModifiedDateTime"] and data["@odata.context"].startswith("https://")
        assert data["size"] >= len(base64.b64decode(FILE_BODY["contentBytes"]))
    else:
        assert set(data["error"]) >= {"code", "message"}
        if code:
            assert data["error"]["code"] == code


def test_fresh_ids(simulator) -> None:
    ids = {httpx.post(simulator.url + SEED_ROUTES["message"], json=FILE_BODY, headers=AUTH,
                      trust_env=False).json()["id"] for _ in range(3)}
    assert len(ids) == 3


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_stops_cleanly_on_signals(run_graphtape, sig: int, tmp_path) -> None:
    sim = run_graphtape("simulate", "--port", "0")
    rec = run_graphtape("record", "--cassette", str(tmp_path / "c.yaml"), "--upstream", sim.url, "--port", "0")
    httpx.post(rec.url + SEED_ROUTES["message"], json=FILE_BODY, headers=AUTH, trust_env=False)
    assert rec.stop(sig) == 0
    assert "recorded     1" in rec.stdout
    assert (tmp_path / "c.yaml").exists() and not (tmp_path / "c.yaml.journal").exists()
    assert sim.stop(sig) == 0
    assert "answered 1 requests" in sim.stdout


def test_tls_http2_strict_parents_and_the_upload_service(run_graphtape, tmp_path) -> None:
    """Over TLS the port answers HTTP/2 (as Graph does to an h2 client) with a certificate from the CA it
    names; --strict-parents answers 404 ErrorItemNotFound for a message never created; Outlook upload
    URLs point at the upload service under another hostname, with the client's scheme.

    Truth: https://learn.microsoft.com/en-us/graph/outlook-large-attachments (upload URL on another host,
    pre-authenticated), https://learn.microsoft.com/en-us/graph/errors (404 for a missing item)."""
    ca = tmp_path / "ca.pem"
    sim = run_graphtape("simulate", "--port", "0", "--strict-parents", "--confdir", str(tmp_path / "conf"),
                        "--ca-out", str(ca))
    assert f"TLS CA {ca}" in sim.stdout and "strict parents" in sim.stdout
    upload_port = int(sim.stdout.split("uploads on localhost:", 1)[1].split(";", 1)[0])
    base = sim.url.replace("http://", "https://")
    with httpx.Client(verify=ssl.create_default_context(cafile=str(ca)), http2=True, trust_env=False,
                      timeout=30) as client:
        missing = client.post(base + "/v1.0/me/messages/AAMkNope=/attachments", json=FILE_BODY, headers=AUTH)
        assert (missing.http_version, missing.status_code) == ("HTTP/2", 404)
        assert missing.json()["error"]["code"] == "ErrorItemNotFound"
        message = client.post(base + "/v1.0/me/messages", json={"subject": "strict"}, headers=AUTH).json()
        attachments = f"{base}/v1.0/me/messages/{message['id']}/attachments"
        assert client.post(attachments, json=FILE_BODY, headers=AUTH).status_code == 201
        size = 3 * 1024 * 1024
        session = client.post(attachments + "/createUploadSession", headers=AUTH, json={
            "AttachmentItem": {"attachmentType": "file", "name": "big.bin", "size": size}}).json()
        assert session["uploadUrl"].startswith(f"https://localhost:{upload_port}/api/v2.0/Users(")
        chunk = client.put(session["uploadUrl"], content=b"\0" * 1024, headers={
            "Content-Range": f"bytes 0-1023/{size}"})
        assert (chunk.status_code, chunk.json()["nextExpectedRanges"]) == (200, ["1024"])
        # the upload service is not Graph
        assert client.get(f"https://localhost:{upload_port}/v1.0/me/messages", headers=AUTH).status_code == 404
