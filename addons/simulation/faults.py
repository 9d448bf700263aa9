"""Graph's bad days as pipeline stages: throttling per mailbox, a fault schedule, latency, and
upload sessions that fail mid-way (see :mod:`graphtape.addons.simulation.fault_config` for
the configuration).

:func:`install_faults` adds them to a :class:`GraphSimulation` in this order, after its
``$batch`` stage (so each request of a batch meets them on its own, and a throttled one is
answered 429 inside the batch):

1. :class:`MailboxThrottle`: requests per window, requests in flight and bytes uploaded per
   window, per mailbox (the user or group a request addresses; ``/me`` is the signed-in
   user). Every request counts, refused ones too: Graph keeps counting while it throttles
   (throttling guidance: "all requests accrue against your usage limits"), so a client that
   retries before ``Retry-After`` stays throttled longer. A rate refusal's ``Retry-After``
   is the whole seconds until the window has room again.
2. :class:`Latency`: waits before the request is served (inside the throttle's in-flight
   count, as a slow service holds its slot).
3. :class:`FaultSchedule`: rules answering chosen requests with 429/500/502/503/504.
4. :class:`UploadFaults`: a session's Nth chunk PUT refused (its bytes not stored), or the
   session expiring after N accepted chunks.

**Determinism.** Which request a rule fails is a pure function of the seed, the rule's
position in the configuration and how many requests the rule has matched so far
(:func:`draw`), so the same seed, configuration and request sequence give the same faults,
and a failing test reruns exactly. Random latency is drawn the same way from the request's
number. Only the throttle depends on the clock, as Graph's does.

**Answers.** Graph's error envelope (``error.code``, ``error.message``, ``innerError``) with:

====== ========================= ==================================================== =============
status code                      message                                               Retry-After
====== ========================= ==================================================== =============
429    TooManyRequests           Please retry again later. (throttling guidance)       yes
429    ApplicationThrottled      Application is over its MailboxConcurrency limit.     yes
500    generalException          An unspecified error has occurred.                   no
502    BadGateway                (the reason phrase; Graph's error table lists no code) no
503    serviceNotAvailable       (errors page: try again after a delay)               yes
504    GatewayTimeout            (the reason phrase; Graph's error table lists no code) no
====== ========================= ==================================================== =============

(https://learn.microsoft.com/en-us/graph/throttling, https://learn.microsoft.com/en-us/graph/errors;
the MailboxConcurrency answer is the one users report for a fifth parallel request to one
mailbox, e.g. Microsoft Q&A 1660054.)
"""

from __future__ import annotations

import fnmatch
import hashlib
import math
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import unquote

from graphtape.addons.graph.routes import API_VERSIONS
from graphtape.addons.graph.upload_urls import match_upload_url
from graphtape.addons.simulation.fault_config import (
    FaultConfig,
    LatencyConfig,
    ScheduleRule,
    ThrottleConfig,
    UploadFaultConfig,
)
from graphtape.addons.simulation.responses import GraphRejection, SimulatedResponse

if TYPE_CHECKING:
    from graphtape.addons.simulation.engine import GraphSimulation, SimRequest, Stage

__all__ = [
    "FaultSchedule",
    "Latency",
    "MailboxThrottle",
    "UploadFaults",
    "draw",
    "fault_rejection",
    "install_faults",
    "mailbox_of",
    "rule_fires",
]

NextStage = Callable[["SimRequest"], SimulatedResponse]

_FAULTS: dict[int, tuple[str, str]] = {
    429: ("TooManyRequests", "Please retry again later."),
    500: ("generalException", "An unspecified error has occurred."),
    502: ("BadGateway", "The server, acting as a gateway, received an invalid answer from the service behind it."),
    503: ("serviceNotAvailable", "The service is temporarily unavailable. Try the request again after a delay."),
    504: ("GatewayTimeout", "The server, acting as a gateway, did not get an answer from the service behind it "
                            "in time."),
}
_CONCURRENCY = ("ApplicationThrottled", "Application is over its MailboxConcurrency limit.")
_UPLOAD_METHODS = frozenset({"PATCH", "POST", "PUT"})


def draw(seed: int, *where: object) -> float:
    """A number in [0, 1) that depends only on ``seed`` and ``where`` (same inputs, same number,
    in every process and on every Python: a SHA-256 of their text, not Python's hash)."""
    text = "/".join(str(part) for part in (seed, *where))
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big") / 2.0 ** 64


def fault_rejection(status: int, retry_after: int | None) -> GraphRejection:
    """Graph's answer for a fault of ``status``."""
    code, message = _FAULTS[status]
    headers = [("Retry-After", str(retry_after))] if retry_after is not None else []
    return GraphRejection(status, code, message, headers)


def mailbox_of(path: str, me_user_id: str) -> str | None:
    """Whose mailbox a request addresses: ``users/x`` (``/me`` is the signed-in user), ``groups/x``,
    or an Outlook upload URL's ``Users('x')``; None for anything else (``$batch`` itself)."""
    upload = match_upload_url(path)
    bare = path.split("?", 1)[0]
    if upload is not None and upload.kind == "outlook":
        segment = unquote(bare).split("/")[3]  # /api/v2.0/Users('x')/...
        kind, _, rest = segment.partition("(")
        return f"{kind.lower()}/{rest.rstrip(')').strip(chr(39)).replace(chr(39) * 2, chr(39)).lower()}"
    parts = [unquote(p) for p in bare.split("/") if p]
    if len(parts) < 2 or parts[0].lower() not in API_VERSIONS:
        return None
    head = parts[1]
    if head.lower() == "me":
        return f"users/{me_user_id.lower()}"
    name, paren, key = head.partition("(")
    if paren:  # users('x')
        return f"{name.lower()}/{key.rstrip(')').strip(chr(39)).lower()}" if name.lower() in ("users", "groups") \
            else None
    if head.lower() in ("users", "groups") and len(parts) >= 3:
        return f"{head.lower()}/{parts[2].lower()}"
    return None


# ------------------------------------------------------------------ throttling


@dataclass
class _Mailbox:
    requests: deque[float] = field(default_factory=deque)
    uploads: deque[tuple[float, int]] = field(default_factory=deque)
    in_flight: int = 0


class MailboxThrottle:
    """Graph's per-mailbox limits: a sliding window of requests, requests in flight, bytes uploaded."""

    blocking = True  # holds a slot while later stages (latency) wait

    def __init__(self, config: ThrottleConfig, me_user_id: str, clock: Callable[[], float] = time.monotonic) -> None:
        self.config = config
        self._me = me_user_id
        self._clock = clock
        self._lock = threading.Lock()
        self._mailboxes: dict[str, _Mailbox] = defaultdict(_Mailbox)

    def __call__(self, request: SimRequest, next_stage: NextStage) -> SimulatedResponse:
        mailbox = mailbox_of(request.path, self._me)
        if mailbox is None:
            return next_stage(request)
        with self._lock:
            refusal = self._admit(self._mailboxes[mailbox], request)
        if refusal is not None:
            raise refusal
        try:
            return next_stage(request)
        finally:
            with self._lock:
                self._mailboxes[mailbox].in_flight -= 1

    def _admit(self, box: _Mailbox, request: SimRequest) -> GraphRejection | None:
        """Count the request; a refusal when it is over a limit (else it is in flight). Under the lock."""
        config, now = self.config, self._clock()
        while box.requests and box.requests[0] <= now - config.window:
            box.requests.popleft()
        while box.uploads and box.uploads[0][0] <= now - config.upload_window:
            box.uploads.popleft()
        box.requests.append(now)
        size = len(request.body) if request.method in _UPLOAD_METHODS else 0
        if size:
            box.uploads.append((now, size))
        if config.concurrent is not None and box.in_flight >= config.concurrent:
            return GraphRejection(429, *_CONCURRENCY, [("Retry-After", str(config.retry_after))])
        if config.requests is not None and len(box.requests) > config.requests:
            # Room again once enough of the oldest requests have left the window.
            oldest_kept = box.requests[len(box.requests) - config.requests]
            return fault_rejection(429, _whole_seconds(oldest_kept + config.window - now))
        if config.upload_bytes is not None and size:
            total = sum(n for _, n in box.uploads)
            if total > config.upload_bytes:
                freed, wait_until = 0, now
                for moment, n in box.uploads:
                    freed += n
                    wait_until = moment
                    if total - freed <= config.upload_bytes:
                        break
                return fault_rejection(429, _whole_seconds(wait_until + config.upload_window - now))
        box.in_flight += 1
        return None


def _whole_seconds(seconds: float) -> int:
    return max(1, math.ceil(seconds - 1e-9))


# ------------------------------------------------------------------ latency


class Latency:
    """Waits before each request is served: a fixed time, or one drawn from the seed."""

    blocking = True

    def __init__(self, config: LatencyConfig, seed: int, sleep: Callable[[float], None] = time.sleep) -> None:
        self.config = config
        self.seed = seed
        self._sleep = sleep
        self._lock = threading.Lock()
        self._count = 0

    def delay(self, number: int) -> float:
        """The wait before request ``number`` (1-based)."""
        low, high = self.config.low, self.config.high
        return low if self.config.fixed else low + (high - low) * draw(self.seed, "latency", number)

    def __call__(self, request: SimRequest, next_stage: NextStage) -> SimulatedResponse:
        with self._lock:
            self._count += 1
            number = self._count
        wait = self.delay(number)
        if wait > 0:
            self._sleep(wait)
        return next_stage(request)


# ------------------------------------------------------------------ the fault schedule


def _matches(rule: ScheduleRule, request: SimRequest) -> bool:
    if rule.methods and request.method not in rule.methods:
        return False
    if not rule.paths:
        return True
    path = unquote(request.path.split("?", 1)[0]).lower()
    return any(fnmatch.fnmatchcase(path, pattern.lower()) for pattern in rule.paths)


def rule_fires(rule: ScheduleRule, seed: int, position: int, number: int, fired: int) -> int | None:
    """The status rule ``position`` answers its ``number``-th matching request with (1-based), or None.

    ``fired``: how many faults the rule gave before (for ``limit`` and taking statuses in turn)."""
    if rule.limit is not None and fired >= rule.limit:
        return None
    if rule.every is not None:
        fires = number % rule.every == 0
    elif rule.share is not None:
        fires = draw(seed, "schedule", position, number) < rule.share
    else:
        fires = number in rule.at
    if not fires:
        return None
    if rule.share is not None:
        pick = int(draw(seed, "status", position, number) * len(rule.statuses))
        return rule.statuses[min(pick, len(rule.statuses) - 1)]
    return rule.statuses[fired % len(rule.statuses)]


class FaultSchedule:
    """Answers chosen requests with faults; every matching rule counts the request, the first
    that fires answers it."""

    def __init__(self, rules: tuple[ScheduleRule, ...], seed: int) -> None:
        self.rules = rules
        self.seed = seed
        self._lock = threading.Lock()
        self._matched = [0] * len(rules)
        self._fired = [0] * len(rules)
        self.log: list[tuple[int, str, str, int | None]] = []  # (request number, method, path, status or None)
        self._requests = 0

    def __call__(self, request: SimRequest, next_stage: NextStage) -> SimulatedResponse:
        with self._lock:
            self._requests += 1
            chosen: tuple[ScheduleRule, int] | None = None
            for position, rule in enumerate(self.rules):
                if not _matches(rule, request):
                    continue
                self._matched[position] += 1
                if chosen is not None:
                    continue
                status = rule_fires(rule, self.seed, position, self._matched[position], self._fired[position])
                if status is not None:
                    self._fired[position] += 1
                    chosen = (rule, status)
            self.log.append((self._requests, request.method, request.path, chosen[1] if chosen else None))
        if chosen is None:
            return next_stage(request)
        rule, status = chosen
        if rule.processed:
            try:  # carried out; its answer is lost, as behind a failing gateway
                next_stage(request)
            except GraphRejection:
                pass
        raise fault_rejection(status, rule.retry_after_for(status))


# ------------------------------------------------------------------ upload sessions


class UploadFaults:
    """Chunk PUTs refused by number, and sessions that expire after some accepted chunks."""

    def __init__(self, config: UploadFaultConfig, simulation: GraphSimulation) -> None:
        self.config = config
        self._simulation = simulation
        self._lock = threading.Lock()
        self._puts: dict[str, int] = defaultdict(int)
        self._accepted: dict[str, int] = defaultdict(int)

    def __call__(self, request: SimRequest, next_stage: NextStage) -> SimulatedResponse:
        upload = match_upload_url(request.path) if request.method == "PUT" else None
        if upload is None:
            return next_stage(request)
        session = upload.session_id
        with self._lock:
            self._puts[session] += 1
            number = self._puts[session]
            accepted = self._accepted[session]
        if number in self.config.fail_chunks:
            raise fault_rejection(self.config.status, self.config.retry_after)
        if self.config.expire_after is not None and accepted >= self.config.expire_after:
            self._simulation.expire_upload_session(session)
        answer = next_stage(request)
        if 200 <= answer.status < 300:
            with self._lock:
                self._accepted[session] += 1
        return answer


def install_faults(simulation: GraphSimulation, config: FaultConfig, seed: int,
                   clock: Callable[[], float] = time.monotonic,
                   sleep: Callable[[float], None] = time.sleep) -> list[Stage]:
    """Add the configured fault stages to ``simulation``; the stages added, in order."""
    stages: list[Stage] = []
    if config.throttle is not None:
        stages.append(MailboxThrottle(config.throttle, simulation.me_user_id, clock))
    if config.latency is not None:
        stages.append(Latency(config.latency, seed, sleep))
    if config.schedule:
        stages.append(FaultSchedule(config.schedule, seed))
    if config.uploads is not None:
        stages.append(UploadFaults(config.uploads, simulation))
    for stage in stages:
        simulation.add_stage(stage)
    return stages
