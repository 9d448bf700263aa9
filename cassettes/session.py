"""One run's use of one cassette: the plan, the replay index, the writer and the tallies.

A session knows nothing of mitmproxy; the addons (and the pytest plugin) drive it.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graphtape.cassettes.blobs import DEFAULT_BLOB_THRESHOLD
from graphtape.cassettes.errors import CassetteLockedError, CassetteNotFoundError, CassetteWriteError
from graphtape.cassettes.findings import Finding, Severity
from graphtape.cassettes.matching import InteractionIndex, MatchConfig, Nearest, RequestKey
from graphtape.cassettes.model import Cassette, Interaction, Request, body_digest
from graphtape.cassettes.record_modes import RecordMode, SessionPlan, plan_session
from graphtape.cassettes.redaction import Redactor
from graphtape.cassettes.serialization import load_cassette
from graphtape.cassettes.storage import (
    CassetteLock,
    CassetteWriter,
    RecoveryReport,
    recover_journal,
    save_cassette,
)

__all__ = ["Miss", "SessionSettings", "TapeSession"]


@dataclass(frozen=True)
class SessionSettings:
    cassette: Path
    record_mode: RecordMode = RecordMode.NONE
    match: MatchConfig = field(default_factory=MatchConfig)
    redactor: Redactor = field(default_factory=Redactor)
    fsync: bool = True
    drop_unplayed: bool = False  # drop the cassette's interactions this run never played (any mode that keeps them)
    blob_threshold: int = DEFAULT_BLOB_THRESHOLD  # bodies above this go to files beside the cassette; 0: inline


@dataclass(frozen=True)
class Miss:
    request: Request
    nearest: Nearest | None

    def describe(self) -> str:
        lines = [f"no recorded interaction matches {self.request.method} {self.request.uri}"]
        if self.nearest is None:
            lines.append("  the cassette holds no interactions")
        else:
            rec = self.nearest.interaction.request
            lines.append(f"  nearest recorded request: #{self.nearest.index} {rec.method} {rec.uri}")
            lines.extend(f"  - {d}" for d in self.nearest.differences)
        return "\n".join(lines)


class TapeSession:
    """Open with :meth:`open`, close with :meth:`close` (writes the cassette when recording)."""

    def __init__(self, settings: SessionSettings) -> None:
        self.settings = settings
        self.path = Path(settings.cassette)
        self.plan: SessionPlan = plan_session(settings.record_mode, self.path.exists())
        self.index = InteractionIndex((), settings.match)
        self.writer: CassetteWriter | None = None
        self.recovery: RecoveryReport | None = None
        self.counts: Counter[str] = Counter()
        self.findings: list[Finding] = []
        self.misses: list[Miss] = []
        self._lock = threading.Lock()
        self.closed = False

    # ------------------------------------------------------------ life cycle

    def open(self) -> TapeSession:
        if self.plan.record:
            self.writer = CassetteWriter(self.path, keep_existing=self.plan.keep_existing,
                                         delete_first=self.plan.delete_first, fsync=self.settings.fsync,
                                         blob_threshold=self.settings.blob_threshold)
            self.writer.open()
            self.recovery = self.writer.recovery
            existing = self.writer.base if self.plan.replay else []
        else:
            self.recovery = self._recover_if_abandoned()
            if self.settings.drop_unplayed:
                self._refuse_if_recording()
            if not self.path.exists():
                raise CassetteNotFoundError(f"{self.path}: cassette not found, and record mode none only replays")
            existing = load_cassette(self.path).interactions
        redact = self.settings.redactor.request
        for interaction in existing:
            # Keyed as a live request will be: redacted by this run's redactor (a no-op for what it wrote itself).
            self.index.add(interaction, redact(interaction.request))
        return self

    def _recover_if_abandoned(self) -> RecoveryReport | None:
        """A journal with no live owner is a killed recording: fold it in before replaying."""
        lock = CassetteLock(self.path)
        try:
            lock.acquire()
        except CassetteLockedError:
            return None  # someone is recording right now; replay what is on disk
        try:
            return recover_journal(self.path)
        finally:
            lock.release()

    def _refuse_if_recording(self) -> None:
        """--drop-unplayed rewrites the cassette at the end: not one a recorder is writing right now."""
        lock = CassetteLock(self.path)
        try:
            lock.acquire()
        except CassetteLockedError as exc:
            raise CassetteLockedError(f"{exc}; a replay with --drop-unplayed would rewrite it") from None
        lock.release()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self.writer is not None:
            if self.settings.drop_unplayed and self.plan.keep_existing:
                played = self.index.played()
                base_count = len(self.writer.base)
                self.writer.base = [i for n, i in enumerate(self.writer.base) if n in played or n >= base_count]
            self.writer.close()
        elif self.settings.drop_unplayed and self.index.unplayed() and self.path.exists():
            self._keep_played_only()

    def _keep_played_only(self) -> None:
        """A replay-only run asked to drop what it never played: rewrite the cassette without it."""
        lock = CassetteLock(self.path)
        lock.acquire()  # CassetteLockedError if a recording owns the file: leave it alone, loudly
        try:
            # The cassette as it is now, not as this run loaded it: a recorder may have added to it
            # since. Only what this run loaded and never played is dropped; everything else stays.
            current = load_cassette(self.path)
            unplayed = Counter(_identity(self.index.interactions[n]) for n in self.index.unplayed())
            kept = []
            for interaction in current.interactions:
                key = _identity(interaction)
                if unplayed[key] > 0:
                    unplayed[key] -= 1
                else:
                    kept.append(interaction)
            save_cassette(self.path, Cassette(interactions=kept, meta=current.meta))
        finally:
            lock.release()

    # ------------------------------------------------------------ traffic

    @property
    def recording(self) -> bool:
        """Whether this session still accepts interactions to record."""
        return self.writer is not None and not self.closed

    def redact(self, request: Request) -> Request:
        return self.settings.redactor.request(request)

    def lookup(self, request: Request, key: RequestKey | None = None) -> Interaction | None:
        """The next recorded answer for an already-redacted request (``key``: its match key, when
        the caller already has it), or None."""
        hit = self.index.lookup(request, key)
        if hit is None:
            return None
        self.count("replayed")
        return hit[1]

    def miss(self, request: Request) -> Miss:
        """Register a miss and name the nearest recorded request (the slow path)."""
        miss = Miss(request=request, nearest=self.index.nearest(request))
        with self._lock:
            self.misses.append(miss)
        self.count("misses")
        return miss

    async def record(self, interaction: Interaction) -> None:
        """Journal ``interaction`` durably; raises CassetteWriteError if it cannot be (closed included)."""
        if self.writer is None:
            raise CassetteWriteError(f"{self.path}: this run does not record")
        await self.writer.append_async(interaction)
        self.count("recorded")

    def count(self, what: str, n: int = 1) -> None:
        with self._lock:
            self.counts[what] += n

    def add_findings(self, findings: list[Finding]) -> None:
        with self._lock:
            self.findings.extend(findings)

    # ------------------------------------------------------------ reporting

    def interactions(self) -> list[Interaction]:
        if self.writer is not None:
            return self.writer.snapshot()
        return self.index.interactions

    def findings_seen(self) -> list[Finding]:
        """Findings of what this run recorded, then those stored with what it replayed (in cassette order)."""
        with self._lock:
            found = list(self.findings)
        if self.plan.replay:
            recorded = self.index.interactions
            for position in sorted(self.index.played()):
                found.extend(recorded[position].meta.findings)
        return found

    def misses_seen(self) -> list[Miss]:
        with self._lock:
            return list(self.misses)

    def error_findings(self) -> list[Finding]:
        with self._lock:
            return [f for f in self.findings if f.severity is Severity.ERROR]

    def summary(self) -> dict[str, Any]:
        with self._lock:
            by_severity = Counter(f.severity.value for f in self.findings)
            counts = dict(self.counts)
        return {
            "cassette": str(self.path),
            "mode": self.settings.record_mode.value,
            "recorded": counts.get("recorded", 0),
            "replayed": counts.get("replayed", 0),
            "misses": counts.get("misses", 0),
            "passed_through": counts.get("passed_through", 0),
            "write_failures": counts.get("write_failures", 0),
            "upstream_errors": counts.get("upstream_errors", 0),
            "findings": {s.value: by_severity.get(s.value, 0) for s in Severity},
            "recovered": self.recovery.recovered if self.recovery else 0,
        }


def _identity(interaction: Interaction) -> tuple[str, ...]:
    """What tells one recorded interaction from another (its request, answer and recording time)."""
    req, resp = interaction.request, interaction.response
    return (req.method, req.uri, body_digest(req.body), str(resp.status_code), body_digest(resp.body),
            interaction.meta.recorded_at or "")
