"""Live alerts from a real `graphtape record` in front of a (drifting) simulator."""

from __future__ import annotations

import json
import socket
import statistics
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from graphtape.cli.examples.example_requests import EXAMPLES, FAKE_TOKEN

pytestmark = pytest.mark.slow

MESSAGE_CREATES = EXAMPLES[:3]  # file, item and reference attachments on one message


def _send(url: str, rounds: int) -> list[float]:
    """POST the message creates ``rounds`` times; each request's latency in seconds."""
    latencies = []
    with httpx.Client(trust_env=False, timeout=30) as client:
        for _ in range(rounds):
            for ex in MESSAGE_CREATES:
                started = time.monotonic()
                r = client.post(url + ex.path, content=ex.body, headers=ex.all_headers())
                latencies.append(time.monotonic() - started)
                assert r.status_code == 201
    return latencies


def test_alerts_reach_the_webhook_and_the_file_grouped(run_graphtape, webhook_receiver, tmp_path: Path) -> None:
    sim = run_graphtape("simulate", "--port", "0", "--drift", "size-as-string,rename-property")
    alerts = tmp_path / "alerts.jsonl"
    rec = run_graphtape("record", "--cassette", str(tmp_path / "c.yaml"), "--upstream", sim.url, "--port", "0",
                        "--alerts", str(alerts), "--alert-webhook", webhook_receiver.url)
    _send(rec.url, rounds=10)
    # an attachment route graphtape's table does not know (passed through, not recorded)
    httpx.post(rec.url + "/v1.0/chats/19:abc/messages/1/attachments", content=MESSAGE_CREATES[0].body,
               headers=MESSAGE_CREATES[0].all_headers(), trust_env=False)
    assert rec.stop() == 0
    records = [json.loads(line) for line in alerts.read_text().splitlines()]
    firsts = [r for r in records if r["type"] == "alert"]
    repeats = [r for r in records if r["type"] == "repeat"]
    # one alert per distinct drift and subtype, then one roll-up each: not 10 of everything
    kinds = {(r["kind"], r["finding"]["path"], r["subtype"]) for r in firsts}
    assert ("type-change", "$.size", "fileAttachment") in kinds
    assert ("missing-property", "$.contentType", "itemAttachment") in kinds
    assert ("undocumented-property", "$.mediaType", "referenceAttachment") in kinds
    assert ("new-route", "$route", "fileAttachment") in kinds
    assert len(firsts) == len(kinds) == len(repeats) + 1  # the new route was seen once
    assert all(r["repeats"] == 9 and r["total"] == 10 for r in repeats)
    assert webhook_receiver.wait_for(len(records)) == records  # the same records, in order
    text = alerts.read_text()
    for secret_or_id in (FAKE_TOKEN, "Bearer", "adele@contoso.com", "AAMkAGI2THVSAAA=", "19:abc"):
        assert secret_or_id not in text
    assert f"alerts       {len(firsts)} distinct, {10 * len(repeats) + 1} in all" in rec.stdout
    assert f"webhook    {len(records)} delivered, 0 failed" in rec.stdout
    assert "ALERT type-change" in rec.stderr  # logged at warning level, once per group


def test_no_alerts_when_nothing_drifted(run_graphtape, webhook_receiver, tmp_path: Path) -> None:
    sim = run_graphtape("simulate", "--port", "0")
    alerts = tmp_path / "alerts.jsonl"
    rec = run_graphtape("record", "--cassette", str(tmp_path / "c.yaml"), "--upstream", sim.url, "--port", "0",
                        "--alerts", str(alerts), "--alert-webhook", webhook_receiver.url)
    _send(rec.url, rounds=2)
    assert rec.stop() == 0
    assert alerts.read_text() == "" and webhook_receiver.bodies == []


@pytest.fixture
def hanging_port() -> Iterator[int]:
    """A loopback port that accepts connections and never answers."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(64)
    yield s.getsockname()[1]
    s.close()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_dead_webhook_slows_nothing(run_graphtape, hanging_port: int, tmp_path: Path) -> None:
    sim = run_graphtape("simulate", "--port", "0", "--drift", "size-as-string,extra-property")
    medians: dict[str, float] = {}
    for name, hook in (("none", None), ("refused", f"http://127.0.0.1:{_closed_port()}/x"),
                       ("hanging", f"http://127.0.0.1:{hanging_port}/x")):
        args = ["record", "--cassette", str(tmp_path / f"{name}.yaml"), "--upstream", sim.url, "--port", "0",
                "--alerts", str(tmp_path / f"{name}.jsonl"), "--alert-rollup", "1"]
        rec = run_graphtape(*args, *(["--alert-webhook", hook] if hook else []))
        _send(rec.url, rounds=2)  # warm-up
        medians[name] = statistics.median(_send(rec.url, rounds=10))
        started = time.monotonic()
        assert rec.stop() == 0, rec.stderr
        assert time.monotonic() - started < 30  # a stuck webhook does not hold the shutdown hostage
        assert "recorded     36" in rec.stdout
        if hook:
            assert "alert webhook" in rec.stderr or "not delivered" in rec.stderr or "dropped" in rec.stdout
    # Generous on purpose: a dead webhook must not add its timeouts (seconds) to any request.
    for name in ("refused", "hanging"):
        assert medians[name] < medians["none"] * 5 + 0.5, medians
