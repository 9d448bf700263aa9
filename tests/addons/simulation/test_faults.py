"""Faults as pipeline stages: throttling per mailbox, the seeded schedule, latency, upload faults.

| table / test | truth source |
|---|---|
| MAILBOXES | Graph's URL forms: /me is the signed-in user, /users/{id|userPrincipalName}, /groups/{id}, key syntax users('x') (OData); Outlook upload URLs name Users('x') (https://learn.microsoft.com/en-us/graph/outlook-large-attachments) |
| rate and Retry-After | https://learn.microsoft.com/en-us/graph/throttling: 429 with Retry-After, "all requests accrue against your usage limits"; the body's code and message are the page's sample |
| concurrency | https://learn.microsoft.com/en-us/graph/throttling-limits#outlook-service-limits (4 concurrent requests per mailbox); the 429 ApplicationThrottled "Application is over its MailboxConcurrency limit." users report (Microsoft Q&A 1660054) |
| batch items | https://learn.microsoft.com/en-us/graph/json-batching: requests in a batch are throttled individually, a throttled one is 429 in the batch, the batch 200 |
| determinism | the issue's contract: the schedule is a pure function of seed, configuration and request sequence |
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from typing import Any

import pytest

from graphtape.addons.simulation.engine import DEFAULT_ME_USER_ID, GraphSimulation
from graphtape.addons.simulation.fault_config import (
    FaultConfig,
    LatencyConfig,
    ScheduleRule,
    ThrottleConfig,
    UploadFaultConfig,
)
from graphtape.addons.simulation.faults import (
    FaultSchedule,
    Latency,
    draw,
    install_faults,
    mailbox_of,
    rule_fires,
)

AUTH = {"Authorization": "Bearer fake-token-for-tests", "Content-Type": "application/json"}
FILE = {"@odata.type": "#microsoft.graph.fileAttachment", "name": "a.txt", "contentBytes": "SGVsbG8="}
MESSAGE = "/v1.0/me/messages/AAMkAGI2THVSAAA%3D/attachments"
OTHER = "/v1.0/users/adele@contoso.com/messages/m1/attachments"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _sim(config: FaultConfig, seed: int = 7, clock: Clock | None = None, **kw: Any) -> GraphSimulation:
    sim = GraphSimulation(clock=lambda: datetime(2026, 11, 26, 20, 40, tzinfo=UTC))
    install_faults(sim, config, seed, clock=clock or Clock(), **kw)
    return sim


def _post(sim: GraphSimulation, path: str = MESSAGE, body: Any = FILE) -> Any:
    return sim.handle("POST", path, AUTH, json.dumps(body).encode())


MAILBOXES = [
    ("/v1.0/me/messages/m/attachments", f"users/{DEFAULT_ME_USER_ID}"),
    (f"/v1.0/users/{DEFAULT_ME_USER_ID.upper()}/messages", f"users/{DEFAULT_ME_USER_ID}"),
    ("/beta/users/Adele@Contoso.com/events/e/attachments?$top=1", "users/adele@contoso.com"),
    ("/v1.0/users('adele%40contoso.com')/messages", "users/adele@contoso.com"),
    ("/v1.0/groups/g1/threads/t/posts/p/attachments", "groups/g1"),
    ("/api/v2.0/Users('u%40x.com')/Messages('m')/AttachmentSessions('s')", "users/u@x.com"),
    ("/v1.0/$batch", None),
    ("/v1.0/users", None),
    ("/other", None),
]


@pytest.mark.parametrize(("path", "mailbox"), MAILBOXES)
def test_a_request_counts_against_the_mailbox_it_addresses(path: str, mailbox: str | None) -> None:
    assert mailbox_of(path, DEFAULT_ME_USER_ID) == mailbox


def test_a_mailbox_over_its_rate_is_answered_429_with_the_seconds_until_there_is_room() -> None:
    clock = Clock()
    sim = _sim(FaultConfig(throttle=ThrottleConfig(requests=3, window=10)), clock=clock)
    statuses = []
    for moment in (0, 1, 2, 3):
        clock.now = 1000 + moment
        statuses.append(_post(sim).status)
    assert statuses == [201, 201, 201, 429]
    refused = _post(sim)
    body = refused.json()["error"]
    assert (body["code"], body["message"]) == ("TooManyRequests", "Please retry again later.")
    # Refused requests count too: five in the window (t=0, 1, 2, 3, 3), so there is room for one more
    # once the three oldest have left, at t=12.
    assert refused.header("Retry-After") == "9"
    assert _post(sim, OTHER).status == 201  # another mailbox has its own limit
    clock.now = 1000 + 3 + 8  # a second early
    early = _post(sim)
    assert (early.status, early.header("Retry-After")) == (429, "2")  # it counted: t=3 must leave first
    clock.now += 2
    assert _post(sim).status == 201


def test_retrying_before_retry_after_keeps_a_client_throttled() -> None:
    clock = Clock()
    sim = _sim(FaultConfig(throttle=ThrottleConfig(requests=2, window=10)), clock=clock)
    assert [_post(sim).status for _ in range(3)] == [201, 201, 429]
    waits = []
    for _ in range(3):  # an impatient client, once a second: each early retry moves the horizon on
        clock.now += 1
        answer = _post(sim)
        waits.append((answer.status, answer.header("Retry-After")))
    assert waits == [(429, "9"), (429, "9"), (429, "9")]
    clock.now += 9
    assert _post(sim).status == 201


def test_uploaded_bytes_are_limited_per_window() -> None:
    clock = Clock()
    body = json.dumps(FILE).encode()
    sim = _sim(FaultConfig(throttle=ThrottleConfig(upload_bytes=len(body) + 10, upload_window=300)), clock=clock)
    assert _post(sim).status == 201
    clock.now += 100
    second = _post(sim)
    assert (second.status, second.header("Retry-After")) == (429, "200")
    assert sim.handle("GET", MESSAGE, AUTH, b"").status == 200  # reading uploads nothing


def test_a_fifth_request_in_flight_to_one_mailbox_is_refused() -> None:
    entered = threading.Semaphore(0)
    release = threading.Event()

    def slow(seconds: float) -> None:
        entered.release()
        release.wait(10)

    sim = _sim(FaultConfig(throttle=ThrottleConfig(concurrent=4), latency=LatencyConfig(1, 1)), sleep=slow)
    answers: list[Any] = []
    threads = [threading.Thread(target=lambda: answers.append(_post(sim))) for _ in range(4)]
    for t in threads:
        t.start()
    for _ in range(4):
        assert entered.acquire(timeout=10)
    fifth = _post(sim)
    assert fifth.status == 429
    assert fifth.json()["error"]["code"] == "ApplicationThrottled"
    assert fifth.json()["error"]["message"] == "Application is over its MailboxConcurrency limit."
    assert fifth.header("Retry-After") == "1"
    other = threading.Thread(target=lambda: answers.append(_post(sim, OTHER)))
    other.start()
    assert entered.acquire(timeout=10)  # another mailbox is not held back
    release.set()
    for t in [*threads, other]:
        t.join(10)
    assert sorted(a.status for a in answers) == [201] * 5
    assert _post(sim).status == 201  # the slots are free again


def test_requests_in_a_batch_are_throttled_one_by_one_and_the_batch_is_200() -> None:
    sim = _sim(FaultConfig(throttle=ThrottleConfig(requests=2, window=60)))
    items = [{"id": str(i), "method": "POST", "url": "/me/messages/AAMkAGI2THVSAAA%3D/attachments",
              "headers": {"Content-Type": "application/json"}, "body": FILE} for i in range(1, 4)]
    answer = sim.handle("POST", "/v1.0/$batch", AUTH, json.dumps({"requests": items}).encode())
    assert answer.status == 200
    responses = answer.json()["responses"]
    assert [r["status"] for r in responses] == [201, 201, 429]
    assert responses[2]["headers"]["Retry-After"] == "60"
    assert responses[2]["body"]["error"]["code"] == "TooManyRequests"


def test_a_rule_fires_on_every_nth_matching_request_only() -> None:
    rule = ScheduleRule(statuses=(503,), every=2, methods=frozenset({"POST"}), paths=("*/messages/aamk*/attachments",),
                        retry_after=1, retry_after_set=True)
    sim = _sim(FaultConfig(schedule=(rule,)))
    statuses = []
    for path in (MESSAGE, OTHER, MESSAGE, MESSAGE, MESSAGE):
        statuses.append(_post(sim, path).status)
    assert statuses == [201, 201, 503, 201, 503]
    assert sim.handle("GET", MESSAGE, AUTH, b"").status == 200  # a GET does not match
    answer = _post(sim, MESSAGE)
    assert answer.status == 201
    failed = _post(sim, MESSAGE)
    assert (failed.status, failed.header("Retry-After"), failed.json()["error"]["code"]) == (
        503, "1", "serviceNotAvailable")


def test_at_limit_and_statuses_in_turn() -> None:
    sim = _sim(FaultConfig(schedule=(ScheduleRule(statuses=(500, 502, 504), every=1, limit=3),
                                     ScheduleRule(statuses=(429,), at=frozenset({4})))))
    answers = [_post(sim) for _ in range(5)]
    assert [a.status for a in answers] == [500, 502, 504, 429, 201]
    assert [a.header("Retry-After") for a in answers[:4]] == [None, None, None, "2"]


def test_a_processed_fault_does_the_work_and_loses_the_answer() -> None:
    sim = _sim(FaultConfig(schedule=(ScheduleRule(statuses=(504,), at=frozenset({1}), processed=True),)))
    assert _post(sim).status == 504
    listed = sim.handle("GET", MESSAGE, AUTH, b"").json()["value"]
    assert [a["name"] for a in listed] == ["a.txt"]  # created all the same: a retry would make a second one


def _schedule(seed: int, n: int = 60) -> list[int]:
    sim = _sim(FaultConfig(schedule=(ScheduleRule(statuses=(429, 500, 503), share=0.3),)), seed=seed)
    return [_post(sim).status for _ in range(n)]


def test_the_same_seed_gives_the_same_schedule_and_another_seed_another() -> None:
    first, again, other = _schedule(7), _schedule(7), _schedule(8)
    assert first == again
    assert first != other
    faults = [s for s in first if s != 201]
    assert 8 <= len(faults) <= 30  # about 30% of 60
    assert set(faults) == {429, 500, 503}


def test_the_schedule_is_a_pure_function_of_seed_rule_and_count() -> None:
    rule = ScheduleRule(statuses=(503,), share=0.5)
    picks = [rule_fires(rule, 11, 0, n, 0) for n in range(1, 40)]
    assert picks == [rule_fires(rule, 11, 0, n, 0) for n in range(1, 40)]
    assert picks != [rule_fires(rule, 11, 1, n, 0) for n in range(1, 40)]  # another rule position draws anew
    assert draw(11, "schedule", 0, 1) == draw(11, "schedule", 0, 1) < 1.0


def test_the_schedule_logs_what_it_did() -> None:
    sim = _sim(FaultConfig(schedule=(ScheduleRule(statuses=(429,), every=2),)))
    for _ in range(3):
        _post(sim)
    schedule = next(s for s in sim.stages if isinstance(s, FaultSchedule))
    assert [(n, status) for n, _, _, status in schedule.log] == [(1, None), (2, 429), (3, None)]


def test_latency_is_fixed_or_drawn_from_the_seed() -> None:
    waits: list[float] = []
    sim = _sim(FaultConfig(latency=LatencyConfig(0.1, 0.5)), seed=3, sleep=waits.append)
    for _ in range(20):
        _post(sim)
    assert len(waits) == 20 and all(0.1 <= w <= 0.5 for w in waits) and len(set(waits)) > 10
    stage = Latency(LatencyConfig(0.1, 0.5), 3)
    assert waits == [stage.delay(n) for n in range(1, 21)]
    assert Latency(LatencyConfig(0.2, 0.2), 3).delay(5) == 0.2
    assert sim.blocking and not GraphSimulation().blocking


SIZE = 3 * 1024 * 1024 + 10


def _session(sim: GraphSimulation) -> str:
    body = {"AttachmentItem": {"attachmentType": "file", "name": "big.bin", "size": SIZE}}
    answer = sim.handle("POST", MESSAGE + "/createUploadSession", AUTH, json.dumps(body).encode())
    assert answer.status == 201
    return str(answer.json()["uploadUrl"]).split("://", 1)[1].split("/", 1)[1]


def _put(sim: GraphSimulation, url: str, start: int, end: int) -> Any:
    return sim.handle("PUT", "/" + url, {"Content-Range": f"bytes {start}-{end}/{SIZE}"}, b"x" * (end - start + 1))


def test_a_chunk_refused_mid_session_is_not_stored_and_the_client_resumes() -> None:
    sim = _sim(FaultConfig(uploads=UploadFaultConfig(fail_chunks=frozenset({2}), status=503, retry_after=1)))
    url = _session(sim)
    half = SIZE // 2
    first = _put(sim, url, 0, half - 1)
    assert (first.status, first.json()["nextExpectedRanges"]) == (200, [str(half)])
    refused = _put(sim, url, half, SIZE - 1)
    assert (refused.status, refused.header("Retry-After")) == (503, "1")
    assert _put(sim, url, half, SIZE - 1).status == 201  # the same range again: nothing was stored


def test_a_session_expires_after_its_chunks_as_configured() -> None:
    sim = _sim(FaultConfig(uploads=UploadFaultConfig(expire_after=1)))
    url = _session(sim)
    assert _put(sim, url, 0, 99).status == 200
    expired = _put(sim, url, 100, 199)
    assert expired.status == 401
    assert "expired" in expired.json()["error"]["message"]
