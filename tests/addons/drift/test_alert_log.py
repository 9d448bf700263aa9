"""Alert grouping, the JSON Lines file and webhook delivery against a real loopback receiver."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import pytest

from graphtape.addons.drift.alert_log import Alert, AlertLog, scrubbed
from graphtape.addons.drift.webhook import WebhookSender, safe_url
from graphtape.cassettes.findings import Finding, Severity


def _alert(path: str = "$.size", seen: str = 'string "185"', subtype: str = "fileAttachment") -> Alert:
    finding = Finding(Severity.ERROR, "type-change", "response", path, "Int32", seen, "vs schema: size")
    return Alert(finding, "POST /v1.0/users/{user-id}/messages/{message-id}/attachments", "POST v1.0 /users/...",
                 subtype, 201)


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_repeats_are_grouped_and_rolled_up(tmp_path: Path) -> None:
    clock = FakeClock()
    log = AlertLog(tmp_path / "alerts.jsonl", rollup_seconds=60, clock=clock)
    firsts = [log.add(_alert(seen=f'string "{n}"')) for n in range(1000)]
    assert firsts == [True] + [False] * 999  # the seen value differs; the drift is the same
    assert log.add(_alert(subtype="itemAttachment")) is True  # another subtype is another alert
    clock.now = 61
    log.add(_alert())  # past the interval: the repeats so far go out as one record
    log.close()
    records = _records(tmp_path / "alerts.jsonl")
    assert [r["type"] for r in records] == ["alert", "alert", "repeat"]
    assert records[2]["repeats"] == 1000 and records[2]["total"] == 1001
    assert log.occurrences == 1002 and len(log.groups) == 2


def test_close_rolls_up_what_is_left(tmp_path: Path) -> None:
    log = AlertLog(tmp_path / "a.jsonl", rollup_seconds=3600, clock=FakeClock())
    for _ in range(5):
        log.add(_alert())
    log.close()
    assert [(r["type"], r.get("repeats")) for r in _records(tmp_path / "a.jsonl")] == [("alert", None),
                                                                                         ("repeat", 4)]


def test_webhook_receives_each_record(webhook_receiver, tmp_path: Path) -> None:
    log = AlertLog(None, WebhookSender(webhook_receiver.url), rollup_seconds=3600, clock=FakeClock())
    log.add(_alert())
    log.add(_alert())
    log.add(_alert(path="$.name"))
    log.close()
    bodies = webhook_receiver.wait_for(3)
    assert [(b["type"], b.get("finding", {}).get("path", b.get("path"))) for b in bodies] == [
        ("alert", "$.size"), ("alert", "$.name"), ("repeat", "$.size")]
    assert log.webhook is not None and log.webhook.sent == 3 and log.webhook.failed == 0


def test_a_refused_webhook_is_retried_then_given_up(caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as s:  # a port that was free a moment ago: nothing listens there
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    sender = WebhookSender(f"http://127.0.0.1:{port}/x?token=fake-token-123", retries=2, backoff=0.01)
    started = time.monotonic()
    assert sender.send({"type": "alert"}) is True
    assert time.monotonic() - started < 1.0  # send never waits for delivery
    sender.close(wait=10)
    assert (sender.sent, sender.failed) == (0, 1)
    assert "fake-token-123" not in caplog.text and f"127.0.0.1:{port}" in caplog.text


def test_a_full_queue_drops_instead_of_blocking() -> None:
    hang = socket.socket()
    hang.bind(("127.0.0.1", 0))
    hang.listen(16)  # accepts connections (in the backlog) and never answers
    try:
        sender = WebhookSender(f"http://127.0.0.1:{hang.getsockname()[1]}/", queue_size=2, timeout=5, retries=0)
        results = [sender.send({"n": i}) for i in range(50)]
        assert results.count(True) <= 3 and sender.dropped >= 47  # 1 in flight, 2 queued
        sender.close(wait=0.2)
    finally:
        hang.close()


@pytest.mark.parametrize(("url", "shown"), [
    ("https://hooks.example.com/services/T000/B000/fake-secret", "https://hooks.example.com/…"),
    ("http://user:fake-pass@127.0.0.1:8123/x?sig=fake", "http://127.0.0.1:8123/…"),
    ("http://[::1]:9000/a", "http://[::1]:9000/…"),
])
def test_webhook_urls_are_logged_without_secrets(url: str, shown: str) -> None:
    assert safe_url(url) == shown


@pytest.mark.parametrize(("path", "seen", "kept", "gone"), [
    ("$.client_secret", 'string "fake-secret-123"', "REDACTED", "fake-secret-123"),
    ("$.uploadLink", 'string "https://x/up?authtoken=fake-token-123&x=1"', "authtoken=REDACTED&x=1",
     "fake-token-123"),
    ("$.note", 'string "Bearer fake-token-123"', "Bearer REDACTED", "fake-token-123"),
    ("$.size", 'string "185"', 'string "185"', "REDACTED"),
])
def test_alerts_scrub_secrets_from_what_they_quote(path: str, seen: str, kept: str, gone: str) -> None:
    finding = Finding(Severity.WARNING, "unknown-property", "request", path, "x", seen, "m")
    assert kept in scrubbed(finding).seen and gone not in scrubbed(finding).seen
