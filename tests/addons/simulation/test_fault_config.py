"""Reading fault files and the command-line shorthands; every error names file, line and key.

| table | truth source |
|---|---|
| the outlook preset | https://learn.microsoft.com/en-us/graph/throttling-limits#outlook-service-limits (10,000 requests in 10 minutes, 4 concurrent, 150 MB uploaded in 5 minutes, per app and mailbox) |
| default Retry-After | https://learn.microsoft.com/en-us/graph/throttling (429 carries Retry-After) and https://learn.microsoft.com/en-us/graph/errors (503: "may be specified in a Retry-After header"); 500/502/504 rows say nothing of one |
| BAD_FILES | the format this module documents |
"""

from __future__ import annotations

from pathlib import Path

import pytest

from graphtape.addons.simulation.fault_config import (
    OUTLOOK_THROTTLE,
    FaultConfigError,
    LatencyConfig,
    ThrottleConfig,
    default_retry_after,
    load_fault_config,
    parse_failure_rate,
    parse_latency,
    parse_rate_limit,
)
from graphtape.cassettes.errors import GraphtapeError

FULL = """\
seed: 7
throttle:
  requests: 20
  window: 60
  concurrent: 4
  retry_after: 2
schedule:
  - every: 3
    status: 429
    methods: [post]
    paths: ["*/attachments"]
    retry_after: 1
  - share: 0.25
    status: [500, 503]
    limit: 2
  - at: [1, 4]
    status: 504
    processed: true
    retry_after: null
latency:
  min: 0.05
  max: 0.3
uploads:
  fail_chunks: [2]
  retry_after: 1
  expire_after: 3
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "chaos.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_full_file_is_read(tmp_path: Path) -> None:
    config = load_fault_config(_write(tmp_path, FULL))
    assert config.seed == 7
    assert config.throttle == ThrottleConfig(requests=20, window=60.0, concurrent=4, retry_after=2)
    every, share, at = config.schedule
    assert (every.every, every.statuses, every.methods, every.paths, every.retry_after_for(429)) == (
        3, (429,), frozenset({"POST"}), ("*/attachments",), 1)
    assert (share.share, share.statuses, share.limit, share.retry_after_for(503), share.retry_after_for(500)) == (
        0.25, (500, 503), 2, 2, None)
    assert (at.at, at.processed, at.retry_after_for(504)) == (frozenset({1, 4}), True, None)
    assert config.latency == LatencyConfig(0.05, 0.3)
    assert config.uploads is not None and (config.uploads.fail_chunks, config.uploads.status,
                                           config.uploads.retry_after, config.uploads.expire_after) == (
        frozenset({2}), 503, 1, 3)
    assert config.describe() == "throttle, 3 schedule rules, latency, upload faults"


def test_the_outlook_preset_is_microsofts_documented_limits(tmp_path: Path) -> None:
    config = load_fault_config(_write(tmp_path, "throttle: outlook\n"))
    assert config.throttle == OUTLOOK_THROTTLE
    assert (OUTLOOK_THROTTLE.requests, OUTLOOK_THROTTLE.window, OUTLOOK_THROTTLE.concurrent,
            OUTLOOK_THROTTLE.upload_bytes, OUTLOOK_THROTTLE.upload_window) == (10_000, 600, 4, 150 * 1024 ** 2, 300)


@pytest.mark.parametrize(("status", "seconds"), [(429, 2), (503, 2), (500, None), (502, None), (504, None)])
def test_retry_after_is_sent_by_default_where_graph_sends_it(status: int, seconds: int | None) -> None:
    assert default_retry_after(status) == seconds


def test_an_empty_file_injects_nothing(tmp_path: Path) -> None:
    assert load_fault_config(_write(tmp_path, "# nothing yet\n")).empty


# (case, file text, the message's end: "line N: key: problem")
BAD_FILES: list[tuple[str, str, str]] = [
    ("unknown top key", "seed: 1\nthrotle: outlook\n", "line 2: throtle: unknown key; expected one of seed, "
                                                        "throttle, schedule, latency, uploads"),
    ("a word for a number", "schedule:\n  - every: two\n    status: 429\n",
     "line 2: schedule[0].every: must be a whole number of at least 1 (found 'two')"),
    ("zero", "schedule:\n  - every: 0\n    status: 429\n",
     "line 2: schedule[0].every: must be a whole number of at least 1 (found 0)"),
    ("two ways to fire", "schedule:\n  - every: 2\n    share: 0.5\n    status: 429\n",
     "line 2: schedule[0]: needs exactly one of every, share or at (found every, share)"),
    ("no way to fire", "schedule:\n  - status: 429\n", "line 2: schedule[0]: needs exactly one of every, share or at"),
    ("no status", "schedule:\n  - every: 2\n", "line 2: schedule[0].status: missing; one of 429, 500, 502, 503, 504 "
                                               "(or a list)"),
    ("a status Graph's faults do not use", "schedule:\n  - every: 2\n    status: [503, 404]\n",
     "line 3: schedule[0].status: must be one of 429, 500, 502, 503, 504 (found 404)"),
    ("share above 1", "schedule:\n  - share: 1.5\n    status: 500\n",
     "line 2: schedule[0].share: must be a number from 0 to 1 (found 1.5)"),
    ("unknown rule key", "schedule:\n  - every: 2\n    status: 429\n    path: '*'\n",
     "line 4: schedule[0].path: unknown key; expected one of every, share, at, status, methods, paths, "
     "retry_after, limit, processed"),
    ("schedule not a list", "schedule:\n  every: 2\n", "line 1: schedule: expected a list of rules, found a mapping"),
    ("negative latency", "latency: -1\n", "line 1: latency: must be a number of seconds, 0 or more (found -1)"),
    ("max below min", "latency:\n  min: 0.5\n  max: 0.1\n", "line 3: latency.max: must not be below min (0.5)"),
    ("unknown preset", "throttle: exchange\n", "line 1: throttle: unknown preset 'exchange'; use 'outlook' or a "
                                                "mapping"),
    ("a throttle without a limit", "throttle:\n  window: 60\n",
     "line 1: throttle: sets no limit; give requests, concurrent or upload_bytes"),
    ("a zero window", "throttle:\n  requests: 5\n  window: 0\n",
     "line 3: throttle.window: must be a number of seconds above 0 (found 0)"),
    ("upload faults without a fault", "uploads:\n  status: 503\n",
     "line 1: uploads: sets no fault; give fail_chunks or expire_after"),
    ("not a mapping", "- every: 2\n", "line 1: expected a mapping of seed, throttle, schedule, latency, uploads, "
                                      "found a list"),
]


@pytest.mark.parametrize(("case", "text", "message"), BAD_FILES, ids=[c[0] for c in BAD_FILES])
def test_errors_name_the_file_the_line_and_the_key(tmp_path: Path, case: str, text: str, message: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(FaultConfigError) as caught:
        load_fault_config(path)
    assert isinstance(caught.value, GraphtapeError)
    assert str(caught.value).startswith(f"{path}: ")
    assert str(caught.value).endswith(message), str(caught.value)


def test_broken_yaml_and_missing_files_are_named(tmp_path: Path) -> None:
    broken = _write(tmp_path, "schedule: [\n")
    with pytest.raises(FaultConfigError, match=rf"^{broken}: line 2: not valid YAML"):
        load_fault_config(broken)
    with pytest.raises(FaultConfigError, match=r"nope\.yaml: cannot be read"):
        load_fault_config(tmp_path / "nope.yaml")


@pytest.mark.parametrize(("text", "expected"), [("0.2", LatencyConfig(0.2, 0.2)), ("0.05-0.3", LatencyConfig(0.05, 0.3)),
                                                ("1", LatencyConfig(1.0, 1.0))])
def test_latency_shorthand(text: str, expected: LatencyConfig) -> None:
    assert parse_latency(text) == expected


@pytest.mark.parametrize("text", ["fast", "0.3-0.1", "-1", ""])
def test_bad_latency_shorthand(text: str) -> None:
    with pytest.raises(FaultConfigError, match=r"^--latency: "):
        parse_latency(text)


def test_rate_limit_shorthand() -> None:
    assert parse_rate_limit("20/60") == ThrottleConfig(requests=20, window=60.0)
    assert parse_rate_limit("5/2.5s") == ThrottleConfig(requests=5, window=2.5)
    assert parse_rate_limit("Outlook") == OUTLOOK_THROTTLE
    for bad in ("20", "0/60", "20/0", "a/b"):
        with pytest.raises(FaultConfigError, match=r"^--rate-limit: "):
            parse_rate_limit(bad)


def test_failure_rate_shorthand() -> None:
    rule = parse_failure_rate(0.1)
    assert (rule.share, rule.statuses) == (0.1, (429, 500, 502, 503, 504))
    with pytest.raises(FaultConfigError, match=r"^--failure-rate: "):
        parse_failure_rate(2)
