"""Record modes, with one meaning everywhere (CLI ``--record-mode`` and the pytest plugin)."""

from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = ["RecordMode", "SessionPlan", "plan_session"]


class RecordMode(str, enum.Enum):
    NONE = "none"  # replay only; a miss is a miss
    ONCE = "once"  # record if the cassette does not exist, else replay only
    NEW_EPISODES = "new_episodes"  # replay what matches, record what does not
    ALL = "all"  # send everything upstream; the cassette is replaced at the end
    REWRITE = "rewrite"  # delete the cassette now, then record afresh


@dataclass(frozen=True)
class SessionPlan:
    """What one run does with its cassette, decided once at start."""

    replay: bool  # answer from the cassette when it matches
    record: bool  # send misses (or everything) upstream and record them
    keep_existing: bool  # the written cassette starts with the existing interactions
    delete_first: bool  # remove the cassette before anything else


def plan_session(mode: RecordMode, cassette_exists: bool) -> SessionPlan:
    if mode is RecordMode.NONE:
        return SessionPlan(replay=True, record=False, keep_existing=True, delete_first=False)
    if mode is RecordMode.ONCE:
        if cassette_exists:
            return SessionPlan(replay=True, record=False, keep_existing=True, delete_first=False)
        return SessionPlan(replay=False, record=True, keep_existing=False, delete_first=False)
    if mode is RecordMode.NEW_EPISODES:
        return SessionPlan(replay=True, record=True, keep_existing=True, delete_first=False)
    if mode is RecordMode.ALL:
        # The old cassette stays intact until this run's recording is complete.
        return SessionPlan(replay=False, record=True, keep_existing=False, delete_first=False)
    return SessionPlan(replay=False, record=True, keep_existing=False, delete_first=True)
