"""How a flow shows its findings in mitmweb: a mark for the worst level, the findings as its comment.

One function for every place a flow gets findings (live recording, ``graphtape export --mitm``,
``graphtape view``), so a finding looks the same in mitmweb however the flow got there.
"""

from __future__ import annotations

from collections.abc import Sequence

from mitmproxy import http

from graphtape.cassettes.findings import Finding, Severity

__all__ = ["MARK_ERROR", "MARK_WARNING", "findings_comment", "mark_flow"]

# mitmweb draws marks that are emoji short codes as the emoji.
MARK_ERROR = ":x:"
MARK_WARNING = ":warning:"


def findings_comment(findings: Sequence[Finding]) -> str:
    """The findings, one a line. Characters a flow file cannot hold as text (a lone surrogate from
    a non-UTF-8 header a finding quotes) are written as escapes, so ``mitmdump -w`` never fails on it."""
    text = "\n".join(str(f) for f in findings)
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def mark_flow(flow: http.HTTPFlow, findings: Sequence[Finding]) -> None:
    """Mark ``flow`` with its worst finding (warning or error; info only comments) and comment it."""
    if not findings:
        return
    worst = max(f.severity.rank for f in findings)
    if worst >= Severity.WARNING.rank:
        flow.marked = MARK_WARNING if worst == Severity.WARNING.rank else MARK_ERROR
    flow.comment = findings_comment(findings)
