"""Findings reports in text, JSON, JUnit XML, Markdown and HTML (the last in html_report.py)."""

from __future__ import annotations

import json
import os
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from graphtape.cassettes.findings import Finding, Severity
from graphtape.cassettes.model import Interaction, InteractionMeta, Request, Response

__all__ = ["FORMATS", "ReportCase", "ShapeDiff", "colour_wanted", "render", "report_options", "write_report"]

FORMATS = ("text", "json", "junit", "markdown", "html")


@dataclass
class ShapeDiff:
    """Two sides' JSON shapes (path -> JSON types) put side by side: drift's baseline and candidate,
    or verify's recorded and live answer. ``after`` None: one side only (a baseline checked alone)."""

    before_label: str
    before: dict[str, set[str]]
    after_label: str = ""
    after: dict[str, set[str]] | None = None
    before_statuses: tuple[int, ...] = ()
    after_statuses: tuple[int, ...] = ()
    ignored: frozenset[str] = frozenset()  # paths drift never compares (volatile)


@dataclass
class ReportCase:
    """One thing checked (a request, a response, an interaction) and what was found.

    The exchange itself (``request``, ``response``, graphtape's ``meta``; verify's ``live``
    answer; drift's ``shapes``) is optional: only the HTML report shows it.
    """

    source: str  # file
    name: str  # "interactions[2] request", "line 55 request"
    findings: list[Finding] = field(default_factory=list)
    error: str | None = None  # the source could not be read at all
    request: Request | None = None
    response: Response | None = None
    meta: InteractionMeta | None = None  # route, recorded time, upload-session place
    live: Response | None = None  # verify: the live answer to ``request``
    shapes: ShapeDiff | None = None

    @classmethod
    def of_interaction(cls, source: str, name: str, findings: list[Finding], interaction: Interaction,
                       live: Response | None = None, shapes: ShapeDiff | None = None) -> ReportCase:
        return cls(source, name, findings, request=interaction.request, response=interaction.response,
                   meta=interaction.meta, live=live, shapes=shapes)

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
    by_code = Counter(f.code for c in cases for f in c.findings)
    if by_code:
        out.append("by kind: " + ", ".join(f"{code} {n}" for code, n in sorted(by_code.items())))
    line = (f"{verdict}: {len(cases)} checked, {failed} failed; findings: {t['error']} error, "
            f"{t['warning']} warning, {t['info']} info")
    out.append(_colour(colour, Severity.ERROR if failed else Severity.INFO, line) if colour else line)
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
            failure.text = "\n".join(f"{f} [{f.code}]" for f in c.findings)
        elif c.findings:
            ET.SubElement(tc, "system-out").text = "\n".join(f"{f} [{f.code}]" for f in c.findings)
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
        lines += ["| severity | kind | where | path | message | expected | seen |", "|---|---|---|---|---|---|---|"]
        for c, f in rows:
            lines.append(f"| {f.severity.value} | {f.code} | {_md_cell(c.source)}: {_md_cell(c.name)} | "
                         f"`{_md_cell(f.path)}` | "
                         f"{_md_cell(f.message)} | {_md_cell(f.expected)} | {_md_cell(f.seen)} |")
    for c in unreadable:
        lines.append(f"- **{_md_cell(c.source)}** unreadable: {_md_cell(c.error or '')}")
    return "\n".join(lines) + "\n"


def colour_wanted(stream: IO[str] | None, forced: bool | None = None) -> bool:
    """Colour on a terminal (unless NO_COLOR is set), or as ``--color/--no-color`` says."""
    if forced is not None:
        return forced
    return stream is not None and hasattr(stream, "isatty") and stream.isatty() and "NO_COLOR" not in os.environ


def render(cases: list[ReportCase], fmt: str, *, title: str = "graphtape", stream: IO[str] | None = None,
           colour: bool | None = None) -> str:
    if fmt == "json":
        return render_json(cases)
    if fmt == "junit":
        return render_junit(cases, title)
    if fmt == "markdown":
        return render_markdown(cases, title)
    if fmt == "html":
        from graphtape.cli.output.html_report import render_html

        return render_html(cases, title)
    return render_text(cases, colour_wanted(stream, colour))


def write_report(cases: list[ReportCase], fmt: str, title: str, output: Path | None,
                 colour: bool | None = None) -> None:
    """Render to ``output``, or to stdout (coloured text on a terminal)."""
    import click

    if output is not None:
        output.write_text(render(cases, fmt, title=title, colour=bool(colour)), encoding="utf-8")
        return
    use_colour = colour_wanted(sys.stdout, colour)
    click.echo(render(cases, fmt, title=title, colour=use_colour), nl=False, color=use_colour)


def report_options(f: Any) -> Any:
    """--format, --output and --color/--no-color, as every report-writing command takes them."""
    import click

    f = click.option("--color/--no-color", "colour", default=None,
                     help="Colour the text report. Default: only on a terminal, and not when NO_COLOR is set.")(f)
    f = click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
                     help="Write the report to this file instead of stdout.")(f)
    f = click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
                     help="Report format.")(f)
    return f
