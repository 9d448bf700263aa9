from __future__ import annotations

import pytest

from graphtape.cassettes.record_modes import RecordMode, plan_session


@pytest.mark.parametrize("mode, exists, replay, record, keep, delete", [
    (RecordMode.NONE, True, True, False, True, False),
    (RecordMode.NONE, False, True, False, True, False),
    (RecordMode.ONCE, False, False, True, False, False),
    (RecordMode.ONCE, True, True, False, True, False),
    (RecordMode.NEW_EPISODES, True, True, True, True, False),
    (RecordMode.ALL, True, False, True, False, False),
    (RecordMode.REWRITE, True, False, True, False, True),
])
def test_plans(mode: RecordMode, exists: bool, replay: bool, record: bool, keep: bool, delete: bool) -> None:
    plan = plan_session(mode, exists)
    assert (plan.replay, plan.record, plan.keep_existing, plan.delete_first) == (replay, record, keep, delete)
