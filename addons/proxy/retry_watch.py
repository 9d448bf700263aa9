"""Retry findings while recording: one :class:`RetryTracker` per cassette session.

The recorder asks :meth:`RetryWatch.observe` for the findings an interaction earns as a
retry (too soon, after a success, after an unknown outcome) before it writes it, so they are
stored with it; when a session closes, :meth:`RetryWatch.closing` names the answers that
were never retried (which only the end of a recording can tell). Interactions are numbered
as they stand in the cassette: after the ones a run keeps (``new_episodes``).
"""

from __future__ import annotations

import threading

from graphtape.addons.graph.retry_checks import RetryTracker
from graphtape.cassettes.findings import Finding
from graphtape.cassettes.model import Interaction
from graphtape.cassettes.session import TapeSession

__all__ = ["RetryWatch"]


class RetryWatch:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sessions: dict[int, tuple[RetryTracker, list[int]]] = {}

    def observe(self, session: TapeSession, interaction: Interaction) -> list[Finding]:
        """The retry findings of ``interaction``, about to be recorded in ``session``."""
        with self._lock:
            entry = self._sessions.get(id(session))
            if entry is None:
                kept = len(session.writer.base) if session.writer is not None else 0
                entry = self._sessions[id(session)] = (RetryTracker(), [kept])
            tracker, counter = entry
            number = counter[0]
            counter[0] += 1
        return tracker.observe(number, interaction)

    def closing(self, session: TapeSession) -> list[tuple[int, Finding]]:
        """(interaction number, finding) for each answer of ``session`` that asked for a retry and got none."""
        with self._lock:
            entry = self._sessions.pop(id(session), None)
        return entry[0].given_up() if entry is not None else []
