"""The one-screen summary a server prints when it stops."""

from __future__ import annotations

from typing import Any

from graphtape.cassettes.findings import Severity
from graphtape.cassettes.session import TapeSession

__all__ = ["session_summary"]


def session_summary(label: str, sessions: list[TapeSession], close_errors: list[str]) -> str:
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
    return "\n".join(lines)
