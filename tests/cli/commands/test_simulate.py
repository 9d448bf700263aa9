"""``graphtape simulate`` as a real process, answering like Graph."""

from __future__ import annotations

import base64
import json
import signal

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
