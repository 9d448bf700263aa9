"""The summary a recording or replaying run prints when it stops, as text or as JSON data.

``graphtape record``/``replay`` and the add-on in a stock mitmproxy print the same one,
from the run's closed sessions; the pytest plugin reports per test instead.
"""

from __future__ import annotations

from typing import Any

from graphtape.cassettes.findings import Severity
from graphtape.cassettes.session import Miss, TapeSession

__all__ = ["summary_data", "summary_text"]


def summary_text(label: str, sessions: list[TapeSession], close_errors: list[str], alerts: str = "") -> str:
    """One screen: per cassette the counts, the first findings and misses; then errors and alerts."""
    lines = [f"graphtape {label} stopped."]
    for s in sessions:
        info: dict[str, Any] = s.summary()
        f = info["findings"]
        lines.append(f"  cassette     {info['cassette']} (record mode {info['mode']})")
        lines.append(f"  recorded     {info['recorded']}")
        lines.append(f"  replayed     {info['replayed']}")
        lines.append(f"  misses       {info['misses']}")
        if info["passed_through"]:
            lines.append(f"  passed through unrecorded (out of scope) {info['passed_through']}")
        if info["upstream_errors"]:
            lines.append(f"  upstream errors (not recorded) {info['upstream_errors']}")
        if info["write_failures"]:
            lines.append(f"  WRITE FAILURES {info['write_failures']} (those answers were withheld)")
        if info["recovered"]:
            lines.append(f"  recovered from an interrupted run {info['recovered']}")
        lines.append(f"  findings     {f['error']} error, {f['warning']} warning, {f['info']} info")
        for finding in [x for x in s.findings if x.severity is not Severity.INFO][:8]:
            lines.append(f"    - {finding}")
        for miss in s.misses[:3]:
            lines.extend("    " + line for line in miss.describe().splitlines())
    for err in close_errors:
        lines.append(f"  ERROR: {err}")
    if alerts:
        lines.append(alerts)
    return "\n".join(lines)


def _miss_data(miss: Miss) -> dict[str, Any]:
    data: dict[str, Any] = {"method": miss.request.method, "uri": miss.request.uri, "nearest": None}
    if miss.nearest is not None:
        rec = miss.nearest.interaction.request
        data["nearest"] = {"index": miss.nearest.index, "method": rec.method, "uri": rec.uri,
                           "differences": list(miss.nearest.differences)}
    return data


def summary_data(label: str, sessions: list[TapeSession], close_errors: list[str],
                 alerts: dict[str, Any] | None = None) -> dict[str, Any]:
    """The same as :func:`summary_text`, complete (every finding and miss), as JSON-ready data."""
    return {
        "stopped": label,
        "sessions": [
            {**s.summary(), "finding_list": [f.to_dict() for f in s.findings],
             "miss_list": [_miss_data(m) for m in s.misses_seen()]}
            for s in sessions
        ],
        "errors": list(close_errors),
        "alerts": alerts,
    }
