"""A pytest plugin for bench_pytest.py: each test's setup + call + teardown time, in order, as JSON.

Loaded with ``-p bench_timing`` (tests/benchmarks on PYTHONPATH); writes to $BENCH_TIMINGS.
"""

from __future__ import annotations

import json
import os
from typing import Any

_times: dict[str, float] = {}


def pytest_runtest_logreport(report: Any) -> None:
    _times[report.nodeid] = _times.get(report.nodeid, 0.0) + report.duration


def pytest_sessionfinish(session: Any) -> None:
    path = os.environ.get("BENCH_TIMINGS")
    if path:
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(list(_times.values()), fh)
