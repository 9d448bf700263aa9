"""Findings reports in text, JSON, JUnit XML and Markdown."""

from __future__ import annotations

import json
import os
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass, field
from typing import IO

from graphtape.cassettes.findings import Finding, Severity

__all__ = ["ReportCase", "render", "FORMATS"]

FORMATS = ("text", "json", "junit", "markdown")


@dataclass
class ReportCase:
    """One thing checked (a request, a response, an interaction) and what was found."""

    source: str  # file
    name: str  # "interactions[2] request", "line 55 request"
    findings: list[Finding] = field(default_factory=list)
    error: str | None = None  # the source could not be read at all

    @property
    def failed(self) -> bool:
        return self.error is not None or any(f.severity is Severity.ERROR for f in self.findings)


_COLOURS = {Severity.ERROR: "\x1b[31m", Severity.WARNING: "\x1b[33m", Severity.INFO: "\x1b[36m"}


def _colour(enabled: bool, severity: Severity, text: str) -> str:
    return f"{_COLOURS[severity]}{text}\x1b[0m" if enabled else text


def _totals(cases: list[ReportCase]) -> Counter[str]:
    return Counter(f.severity.value for c in cases for f in c.findings)


def render_text(cases: list[ReportCase], colour: bool) -> str:
    out: list[str] = []
    for case in cases:
        if case.error:
            out.append(f"{case.source}: {_colour(colour, Severity.ERROR, 'unreadable')}: {case.error}")
            continue
        if not case.findings:
            continue
        out.append(f"{case.source}: {case.name}")
        for f in case.findings:
            out.append(f"  {_colour(colour, f.severity, f.severity.value.upper()):<8} {f.path}  {f.message}")
            out.append(f"           expected {f.expected}; seen {f.seen}  [{f.code}]")
    t = _totals(cases)
    failed = sum(1 for c in cases if c.failed)
    verdict = "FAIL" if failed else "OK"
    out.append(f"{verdict}: {len(cases)} checked, {failed} failed; findings: {t['error']} error, "
               f"{t['warning']} warning, {t['info']} info")
    return "\n".join(out) + "\n"


def render_json(cases: list[ReportCase]) -> str:
    t = _totals(cases)
    doc = {
        "ok": not any(c.failed for c in cases),
        "totals": {"checked": len(cases), "failed": sum(1 for c in cases if c.failed),
                   "error": t["error"], "warning": t["warning"], "info": t["info"]},
        "cases": [{"source": c.source, "name": c.name, "failed": c.failed, "error": c.error,
                   "findings": [f.to_dict() for f in c.findings]} for c in cases],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def render_junit(cases: list[ReportCase], suite_name: str) -> str:
    suite = ET.Element("testsuite", name=suite_name, tests=str(len(cases)),
                       failures=str(sum(1 for c in cases if c.failed and not c.error)),
                       errors=str(sum(1 for c in cases if c.error)))
    for c in cases:
        tc = ET.SubElement(suite, "testcase", classname=c.source, name=c.name)
        if c.error:
            ET.SubElement(tc, "error", message=c.error).text = c.error
            continue
        errors = [f for f in c.findings if f.severity is Severity.ERROR]
        if errors:
            failure = ET.SubElement(tc, "failure", message=f"{len(errors)} error finding(s)", type="graphtape")
            failure.text = "\n".join(str(f) for f in c.findings)
        elif c.findings:
            ET.SubElement(tc, "system-out").text = "\n".join(str(f) for f in c.findings)
    suites = ET.Element("testsuites")
    suites.append(suite)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(cases: list[ReportCase], title: str) -> str:
    t = _totals(cases)
    failed = sum(1 for c in cases if c.failed)
    lines = [f"### {title}: {'❌ failed' if failed else '✅ passed'}", "",
             f"{len(cases)} checked, {failed} failed; findings: {t['error']} error, {t['warning']} warning, "
             f"{t['info']} info", ""]
    rows = [(c, f) for c in cases for f in c.findings]
    unreadable = [c for c in cases if c.error]
    if rows:
        lines += ["| severity | where | path | message | expected | seen |", "|---|---|---|---|---|---|"]
        for c, f in rows:
            lines.append(f"| {f.severity.value} | {_md_cell(c.source)}: {_md_cell(c.name)} | `{_md_cell(f.path)}` | "
                         f"{_md_cell(f.message)} | {_md_cell(f.expected)} | {_md_cell(f.seen)} |")
    for c in unreadable:
        lines.append(f"- **{_md_cell(c.source)}** unreadable: {_md_cell(c.error or '')}")
    return "\n".join(lines) + "\n"


def render(cases: list[ReportCase], fmt: str, *, title: str = "graphtape", stream: IO[str] | None = None) -> str:
    stream = stream or sys.stdout
    if fmt == "json":
        return render_json(cases)
    if fmt == "junit":
        return render_junit(cases, title)
    if fmt == "markdown":
        return render_markdown(cases, title)
    colour = hasattr(stream, "isatty") and stream.isatty() and "NO_COLOR" not in os.environ
    return render_text(cases, colour)
