"""The HTML report: one self-contained page for a CI artifact (``--format html``).

No network fetches and no script: inline CSS only, and a Content-Security-Policy that lets
nothing else run or load, so the page is the same offline, in a mail client or behind a
strict viewer. What it shows, in order: a summary bar (interactions, findings by severity,
drift and other findings by kind), upload sessions' chunk ranges as bars, the list of what
was checked (method, path, status, route), then each case: its findings beside the JSON
bodies, pretty-printed, with the node each finding's path names highlighted and numbered,
and for drift (and verify) the two sides' shapes side by side.

Everything printed comes from traffic and is untrusted: every string goes through
:func:`_e`, which makes control, bidi and other invisible characters visible as ``\\uXXXX``
and escapes HTML (quotes included); numbers in inline styles are computed, never copied.
"""

from __future__ import annotations

import html
import json
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from graphtape.addons.drift.config import DriftKind
from graphtape.addons.graph.validation import json_path
from graphtape.cassettes.encoding import decode_body
from graphtape.cassettes.errors import BodyDecodeError
from graphtape.cassettes.findings import Finding, Severity
from graphtape.cassettes.model import UPLOAD_SESSION_KEY, Headers
from graphtape.cli.output.reports import ReportCase, ShapeDiff

__all__ = ["render_html"]

MAX_BODY_SHOWN = 256 * 1024  # bytes of a decoded body shown; a bigger one is summarised
MAX_STRING_SHOWN = 160  # characters of one JSON string; the rest is counted, not shown
MAX_DEPTH = 48  # JSON nesting shown; deeper values are elided
_DRIFT_KINDS = frozenset(k.value for k in DriftKind)
_SEVERITIES = (Severity.ERROR, Severity.WARNING, Severity.INFO)

# C0/C1 controls (but tab and newline), zero-width and bidi controls, line/paragraph separators,
# BOM, and lone surrogates (a non-UTF-8 header read with surrogateescape).
_INVISIBLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ud800-\udfff]")
_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+)")

_CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src 'none'; script-src 'none'; "
        "base-uri 'none'; form-action 'none'")


def _visible(text: str) -> str:
    return _INVISIBLE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _e(value: object) -> str:
    """``value`` as text safe anywhere in the page: inside elements and inside quoted attributes."""
    return html.escape(_visible(str(value)), quote=True)


def _worst(findings: Iterable[Finding]) -> Severity | None:
    ranked = sorted(findings, key=lambda f: -f.severity.rank)
    return ranked[0].severity if ranked else None


def _counts(findings: Sequence[Finding]) -> str:
    c = Counter(f.severity for f in findings)
    return ", ".join(f"{c[s]} {s.value}" for s in _SEVERITIES if c[s]) or "clean"


# ---------------------------------------------------------------- where a finding points


def _parent(path: str) -> str | None:
    """The path one level up (``$.a['b c'][2]`` -> ``$.a['b c']``), or None at the root."""
    if path in ("$", ""):
        return None
    depth, cut = 0, -1
    for i, ch in enumerate(path):
        if ch == "[":
            if depth == 0:
                cut = i
            depth += 1
        elif ch == "]":
            depth -= 1
        elif ch == "." and depth == 0:
            cut = i
    # A key such as "@odata.type" holds dots: prefer the longest prefix that is a real node,
    # which the caller checks; here, one syntactic level up.
    return path[:cut] if cut > 0 else "$"


def _target(path: str, nodes: set[str]) -> str:
    """The node a finding's path names: itself, or (for a missing property) its nearest ancestor."""
    if path in nodes:
        return path
    if path == "$body":
        return "$"
    prefixes = [n for n in nodes if path.startswith(n) and path[len(n):len(n) + 1] in (".", "[")]
    if prefixes:
        return max(prefixes, key=len)
    up = _parent(path)
    while up is not None:
        if up in nodes:
            return up
        up = _parent(up)
    return "$"


@dataclass
class _Marks:
    """Findings pinned to places in one case: nodes of a body, a header, the status line, a shape row.

    A place is a key (``response:$.size``, ``live:h:content-type``, ``shape:$.size``); each marked
    place gets an element id when it is drawn, and each finding links to the first of its places.
    """

    case: int
    numbers: dict[int, int] = field(default_factory=dict)  # id(finding) -> its number in the case
    at: dict[str, list[Finding]] = field(default_factory=dict)  # place -> findings pinned there
    anchors: dict[str, str] = field(default_factory=dict)  # place -> element id, once drawn

    def add(self, key: str, finding: Finding) -> None:
        self.at.setdefault(key, []).append(finding)

    def wrap(self, key: str, inner: str) -> str:
        found = self.at.get(key)
        if not found:
            return inner
        anchor = self.anchors.setdefault(key, f"case-{self.case}-m{len(self.anchors) + 1}")
        worst = _worst(found)
        numbers = ",".join(str(self.numbers[id(f)]) for f in found)
        label = "; ".join(f"{f.severity.value} {f.code}: {f.message}" for f in found)
        return (f'<mark class="hl sev-{worst.value if worst else "info"}" id="{anchor}" '
                f'data-path="{_e(found[0].path)}" data-n="{numbers}" title="{_e(label)}">{inner}</mark>')

    def anchor_of(self, finding: Finding) -> str | None:
        for key, found in self.at.items():
            if key in self.anchors and any(f is finding for f in found):
                return self.anchors[key]
        return None


# ---------------------------------------------------------------- JSON bodies


def _json_nodes(value: Any, loc: tuple[str | int, ...], out: set[str]) -> None:
    out.add(json_path(loc))
    if len(loc) >= MAX_DEPTH:
        return
    if isinstance(value, dict):
        for key, child in value.items():
            _json_nodes(child, (*loc, str(key)), out)
    elif isinstance(value, list):
        for n, child in enumerate(value):
            _json_nodes(child, (*loc, n), out)


def _scalar(value: Any) -> str:
    if isinstance(value, str):
        text = value if len(value) <= MAX_STRING_SHOWN else value[:MAX_STRING_SHOWN]
        shown = json.dumps(text, ensure_ascii=False)
        if len(value) > MAX_STRING_SHOWN:
            return (f'<span class="s">{_e(shown[:-1])}</span><span class="cut">… {len(value):,} characters'
                    f'</span><span class="s">"</span>')
        return f'<span class="s">{_e(shown)}</span>'
    return f'<span class="v">{_e(json.dumps(value))}</span>'


def _pretty(value: Any, loc: tuple[str | int, ...], indent: int, marks: _Marks, prefix: str) -> str:
    """``value`` pretty-printed (two spaces), each marked node wrapped with its findings."""
    pad, inner_pad = "  " * indent, "  " * (indent + 1)
    if len(loc) >= MAX_DEPTH and isinstance(value, (dict, list)) and value:
        body = '<span class="cut">… nested deeper than shown</span>'
    elif isinstance(value, dict) and value:
        members = []
        for key, child in value.items():
            child_loc = (*loc, str(key))
            text = (f'<span class="k">{_e(json.dumps(str(key), ensure_ascii=False))}</span>: '
                    f"{_pretty(child, child_loc, indent + 1, marks, prefix)}")
            members.append(inner_pad + marks.wrap(prefix + json_path(child_loc), text))
        body = "{\n" + ",\n".join(members) + "\n" + pad + "}"
    elif isinstance(value, list) and value:
        items = [inner_pad + marks.wrap(prefix + json_path((*loc, n)),
                                        _pretty(child, (*loc, n), indent + 1, marks, prefix))
                 for n, child in enumerate(value)]
        body = "[\n" + ",\n".join(items) + "\n" + pad + "]"
    elif isinstance(value, (dict, list)):
        body = "{}" if isinstance(value, dict) else "[]"
    else:
        body = _scalar(value)
    return marks.wrap(prefix + "$", body) if not loc else body


def _decoded(body: bytes, headers: Headers) -> tuple[bytes, str]:
    """The body a reader wants (Content-Encoding undone) and a note when that was not possible."""
    try:
        return decode_body(body, headers.get("content-encoding")), ""
    except BodyDecodeError as exc:
        return body, f"shown as sent: {exc}"


def _parse_json(raw: bytes) -> tuple[bool, Any]:
    stripped = raw.lstrip()
    if not stripped or stripped[:1] not in (b"{", b"["):
        return False, None
    try:
        return True, json.loads(raw)
    except (ValueError, RecursionError):
        return False, None


def _body_block(title: str, body: bytes, headers: Headers, findings: list[Finding], marks: _Marks,
                prefix: str) -> str:
    """One body, pretty-printed where it is JSON, with ``findings`` (of this body) pinned to their nodes."""
    raw, note = _decoded(body, headers)
    head = f'<h4>{_e(title)} <small>{len(body):,} bytes{", " + _e(note) if note else ""}</small></h4>'
    if not raw:
        for f in findings:
            marks.add(prefix + "$", f)
        return head + f'<pre class="body">{marks.wrap(prefix + "$", "<span class=cut>(empty)</span>")}</pre>'
    if len(raw) > MAX_BODY_SHOWN:
        for f in findings:
            marks.add(prefix + "$", f)
        shown = f'<span class="cut">{len(raw):,} bytes: too big to show here</span>'
        return head + f'<pre class="body">{marks.wrap(prefix + "$", shown)}</pre>'
    is_json, value = _parse_json(raw)
    if is_json:
        nodes: set[str] = set()
        _json_nodes(value, (), nodes)
        for f in findings:
            marks.add(prefix + _target(f.path, nodes), f)
        return head + f'<pre class="body json">{_pretty(value, (), 0, marks, prefix)}</pre>'
    for f in findings:
        marks.add(prefix + "$", f)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        preview = raw[:64].hex(" ")
        shown = f'<span class="cut">binary, {len(raw):,} bytes; first {min(64, len(raw))}: {preview}</span>'
    else:
        shown = _e(text)
    return head + f'<pre class="body">{marks.wrap(prefix + "$", shown)}</pre>'


def _headers_block(title: str, headers: Headers, marks: _Marks, prefix: str) -> str:
    if not len(headers):
        return ""
    rows = "".join(f"<tr><th>{_e(k)}</th><td>{marks.wrap(prefix + k.lower(), _e(v))}</td></tr>" for k, v in headers)
    return f'<table class="headers"><caption>{_e(title)}</caption>{rows}</table>'


# ---------------------------------------------------------------- upload sessions


@dataclass
class _Chunk:
    case: int
    index: int
    start: int
    end: int
    total: int
    status: int | None
    worst: Severity | None


def _upload_place(case: ReportCase) -> dict[str, Any] | None:
    if case.meta is None:
        return None
    for key, value in case.meta.extra:
        if key == UPLOAD_SESSION_KEY and isinstance(value, dict):
            return value
    return None


def _sessions(cases: list[ReportCase]) -> dict[str, list[_Chunk]]:
    sessions: dict[str, list[_Chunk]] = {}
    for n, case in enumerate(cases):
        place = _upload_place(case)
        if place is None:
            continue
        session = str(place.get("session", "?"))
        chunks = sessions.setdefault(session, [])
        m = _RANGE.fullmatch(str(place.get("range") or ""))
        if place.get("step") == "chunk" and m:
            start, end, total = (int(g) for g in m.groups())
            chunk = place.get("chunk")
            chunks.append(_Chunk(n, chunk if isinstance(chunk, int) else len(chunks), start, end, total,
                                 case.response.status_code if case.response else None, _worst(case.findings)))
    return {s: c for s, c in sessions.items() if c}


def _lanes(chunks: list[_Chunk]) -> list[list[_Chunk]]:
    """Chunks in rows where none overlaps another: one row for a clean upload, more when ranges repeat."""
    lanes: list[list[_Chunk]] = []
    for chunk in chunks:
        for lane in lanes:
            if all(chunk.end < c.start or chunk.start > c.end for c in lane):
                lane.append(chunk)
                break
        else:
            lanes.append([chunk])
    return lanes


def _upload_section(cases: list[ReportCase]) -> str:
    sessions = _sessions(cases)
    if not sessions:
        return ""
    out = ['<section id="uploads"><h2>Upload sessions</h2>']
    for session, chunks in sessions.items():
        total = max(c.total for c in chunks) or 1
        accepted = sum(c.end - c.start + 1 for c in chunks if c.status is not None and 200 <= c.status < 300)
        out.append(f'<div class="session"><h3>session <code>{_e(session)}</code> <small>{total:,} bytes declared, '
                   f"{len(chunks)} chunk PUTs, {accepted:,} bytes accepted</small></h3>")
        out.append(f'<div class="bar" aria-label="chunk ranges of session {_e(session)}">')
        for lane in _lanes(chunks):
            out.append('<div class="lane">')
            for c in lane:
                left = 100.0 * c.start / total
                width = max(100.0 * (c.end - c.start + 1) / total, 0.6)
                ok = c.status is not None and 200 <= c.status < 300
                kind = "ok" if ok else "bad"
                if c.worst is not None and c.worst is not Severity.INFO:
                    kind += f" sev-{c.worst.value}"
                label = f"chunk {c.index}: bytes {c.start}-{c.end}/{c.total} answered {c.status}"
                out.append(f'<a class="seg {kind}" href="#case-{c.case}" style="left:{left:.3f}%;width:{width:.3f}%" '
                           f'title="{_e(label)}">{c.index}</a>')
            out.append("</div>")
        out.append("</div>")
        rows = "".join(
            f'<tr class="{"ok" if c.status and 200 <= c.status < 300 else "bad"}"><td>{c.index}</td>'
            f"<td>bytes {c.start:,}–{c.end:,} of {c.total:,}</td><td>{_e(c.status)}</td>"
            f'<td><a href="#case-{c.case}">{_e(_counts(cases[c.case].findings))}</a></td></tr>' for c in chunks)
        out.append(f'<table class="chunks"><tr><th>chunk</th><th>range</th><th>status</th><th>findings</th></tr>'
                   f"{rows}</table></div>")
    out.append("</section>")
    return "".join(out)


# ---------------------------------------------------------------- shapes side by side


def _types(shape: dict[str, set[str]] | None, path: str) -> str:
    if shape is None or path not in shape:
        return "—"
    return " | ".join(sorted(shape[path]))


def _shape_block(shapes: ShapeDiff, marks: _Marks) -> str:
    before, after = shapes.before, shapes.after
    paths = sorted(set(before) | set(after or {}))
    two = after is not None
    head = (f"<tr><th>path</th><th>{_e(shapes.before_label)} <small>{_e(_statuses(shapes.before_statuses))}"
            f"</small></th>")
    if two:
        head += f"<th>{_e(shapes.after_label)} <small>{_e(_statuses(shapes.after_statuses))}</small></th>"
    rows = []
    for path in paths:
        if not two:
            kind = "same"
        elif path not in before:
            kind = "added"
        elif after is not None and path not in after:
            kind = "removed"
        elif after is not None and before[path] != after[path]:
            kind = "changed"
        else:
            kind = "same"
        if path in shapes.ignored:
            kind += " ignored"
        cells = f"<td>{_e(_types(before, path))}</td>" + (f"<td>{_e(_types(after, path))}</td>" if two else "")
        rows.append(f'<tr class="{kind}"><td><code>{marks.wrap("shape:" + path, _e(path))}</code></td>{cells}</tr>')
    legend = ('<p class="legend"><span class="added">only in the second</span> <span class="removed">only in the '
              'first</span> <span class="changed">types differ</span> <span class="ignored">never compared '
              "(volatile)</span></p>") if two else ""
    return (f'<div class="shapes"><h4>JSON shape{"s side by side" if two else ""}</h4>{legend}'
            f'<table class="shape">{head}</tr>{"".join(rows)}</table></div>')


def _statuses(statuses: tuple[int, ...]) -> str:
    if not statuses:
        return ""
    counted = Counter(statuses)
    return "status " + ", ".join(f"{s}" + (f" ×{n}" if n > 1 else "") for s, n in sorted(counted.items()))


# ---------------------------------------------------------------- cases


def _request_line(case: ReportCase) -> str:
    if case.request is None:
        return ""
    return f"{case.request.method} {urlsplit(case.request.uri).path or case.request.uri}"


def _route(case: ReportCase) -> str:
    return case.meta.route if case.meta is not None and case.meta.route else ""


def _status(case: ReportCase) -> str:
    answer = case.live or case.response
    return str(answer.status_code) if answer is not None else ""


def _place(case: ReportCase, finding: Finding) -> str:
    """The key of the place ``finding`` is pinned to (pseudo paths: the status line, a header, the route)."""
    side = "live" if case.live is not None and finding.where == "response" else finding.where
    if finding.path == "$status":
        return f"{side}:status"
    if finding.path.startswith("$headers."):
        return f"{side}:h:" + finding.path.removeprefix("$headers.").lower()
    if finding.path == "$route":
        return "route"
    return ""


def _case_block(n: int, case: ReportCase) -> str:
    marks = _Marks(n)
    for k, f in enumerate(case.findings, start=1):
        marks.numbers[id(f)] = k
    worst = _worst(case.findings)
    state = "unreadable" if case.error else (f"sev-{worst.value}" if worst else "clean")
    by_side: dict[str, list[Finding]] = {"request": [], "response": [], "live": []}
    shape_nodes = set(case.shapes.before) | set(case.shapes.after or {}) if case.shapes is not None else set()
    for f in case.findings:
        key = _place(case, f)
        if key:
            marks.add(key, f)
            continue
        if shape_nodes and f.where == "response":
            marks.add("shape:" + _target(f.path, shape_nodes), f)
        if f.where == "request":
            by_side["request"].append(f)
        elif case.response is not None or case.live is not None:
            by_side["live" if case.live is not None else "response"].append(f)
    bodies = []
    if case.request is not None:
        bodies.append(_body_block("request body", case.request.body, case.request.headers, by_side["request"], marks,
                                  "request:"))
    if case.response is not None:
        bodies.append(_body_block("recorded response body" if case.live is not None else "response body",
                                  case.response.body, case.response.headers, by_side["response"], marks, "response:"))
    if case.live is not None:
        bodies.append(_body_block("live response body", case.live.body, case.live.headers, by_side["live"], marks,
                                  "live:"))
    shapes = _shape_block(case.shapes, marks) if case.shapes is not None else ""
    headers = "".join(block for block in (
        _headers_block("request headers", case.request.headers, marks, "request:h:") if case.request else "",
        _headers_block("response headers", case.response.headers, marks, "response:h:") if case.response else "",
        _headers_block("live response headers", case.live.headers, marks, "live:h:") if case.live else "",
    ) if block)
    facts = []
    if case.request is not None:
        facts.append(f"<dt>request</dt><dd><code>{_e(case.request.method)} {_e(case.request.uri)}</code></dd>")
    for label, answer, side in (("status", case.response, "response"), ("live status", case.live, "live")):
        if answer is not None:
            status = _e(f"{answer.status_code} {answer.reason}".strip())
            facts.append(f"<dt>{label}</dt><dd>{marks.wrap(side + ':status', status)}</dd>")
    if _route(case) or "route" in marks.at:
        facts.append(f"<dt>route</dt><dd>{marks.wrap('route', _e(_route(case) or '(none)'))}</dd>")
    if case.meta is not None and case.meta.recorded_at:
        facts.append(f"<dt>recorded</dt><dd>{_e(case.meta.recorded_at)}</dd>")
    place = _upload_place(case)
    if place is not None:
        where = f"chunk {place.get('chunk')} ({place.get('range')})" if place.get("step") == "chunk" else "created"
        facts.append(f"<dt>upload session</dt><dd><code>{_e(place.get('session'))}</code> {_e(where)}</dd>")
    findings = "".join(_finding_item(marks, f) for f in case.findings)
    error = f'<p class="error">cannot be read: {_e(case.error)}</p>' if case.error else ""
    opened = " open" if case.findings or case.error else ""
    return (f'<article class="case {state}" id="case-{n}"><details{opened}><summary>'
            f'<span class="n">#{n}</span> <span class="name">{_e(case.name)}</span> '
            f'<span class="src">{_e(case.source)}</span> <span class="badge {state}">'
            f'{_e(_counts(case.findings) if not case.error else "unreadable")}</span></summary>'
            f'{error}<dl class="facts">{"".join(facts)}</dl>'
            f'<div class="grid"><ol class="findings">{findings or "<li class=none>no findings</li>"}</ol>'
            f'<div class="bodies">{"".join(bodies)}{shapes}</div></div>'
            f'{"<details class=hdrs><summary>headers</summary>" + headers + "</details>" if headers else ""}'
            "</details></article>")


def _finding_item(marks: _Marks, f: Finding) -> str:
    number = marks.numbers[id(f)]
    anchor = marks.anchor_of(f)
    link = f'<a href="#{anchor}">{_e(f.path)}</a>' if anchor is not None else _e(f.path)
    return (f'<li class="finding sev-{f.severity.value}" data-n="{number}" data-code="{_e(f.code)}">'
            f'<span class="sev">{_e(f.severity.value)}</span> <code class="code">{_e(f.code)}</code> '
            f'<span class="where">{_e(f.where)}</span> <code class="path">{link}</code>'
            f'<div class="msg">{_e(f.message)}</div>'
            f'<div class="exp">expected <q>{_e(f.expected)}</q>; seen <q>{_e(f.seen)}</q></div></li>')


# ---------------------------------------------------------------- the page


def _summary(cases: list[ReportCase], title: str) -> str:
    findings = [f for c in cases for f in c.findings]
    by_severity = Counter(f.severity for f in findings)
    failed = sum(1 for c in cases if c.failed)
    unreadable = sum(1 for c in cases if c.error)
    exchanges = sum(1 for c in cases if c.request is not None or c.response is not None)
    # drift: a candidate case holds its group's candidate responses, a baseline case the baseline's
    compared = sum(len(c.shapes.after_statuses if c.shapes.after is not None else c.shapes.before_statuses)
                   for c in cases if c.shapes is not None and c.request is None)
    verdict = "FAIL" if failed else "OK"
    stats = [f'<span class="verdict {verdict.lower()}" id="verdict">{verdict}</span>']
    if exchanges:
        stats.append(f'<span class="stat" id="stat-interactions"><b>{exchanges}</b> interactions</span>')
    if compared:
        stats.append(f'<span class="stat" id="stat-responses"><b>{compared}</b> responses compared</span>')
    stats.append(f'<span class="stat" id="stat-checked"><b>{len(cases)}</b> checked</span>')
    stats.append(f'<span class="stat" id="stat-failed"><b>{failed}</b> failed</span>')
    if unreadable:
        stats.append(f'<span class="stat sev-error" id="stat-unreadable"><b>{unreadable}</b> unreadable</span>')
    for s in _SEVERITIES:
        stats.append(f'<span class="stat sev-{s.value}" id="stat-{s.value}"><b>{by_severity[s]}</b> {s.value}</span>')
    kinds = Counter(f.code for f in findings)
    groups = []
    for label, key, chosen in (("drift by kind", "drift", {k: n for k, n in kinds.items() if k in _DRIFT_KINDS}),
                               ("findings by kind", "kind",
                                {k: n for k, n in kinds.items() if k not in _DRIFT_KINDS})):
        if chosen:
            chips = "".join(f'<span class="chip" data-kind="{_e(k)}">{_e(k)} <b>{n}</b></span>'
                            for k, n in sorted(chosen.items()))
            groups.append(f'<div class="kinds" id="{key}-by-kind"><span class="label">{label}</span>{chips}</div>')
    return (f'<header><h1>{_e(title)}</h1><section id="summary" class="summary">{"".join(stats)}</section>'
            f'{"".join(groups)}</header>')


def _list(cases: list[ReportCase]) -> str:
    rows = []
    for n, c in enumerate(cases):
        worst = _worst(c.findings)
        state = "unreadable" if c.error else (f"sev-{worst.value}" if worst else "clean")
        what = _request_line(c) or c.name
        status = _status(c)
        if c.shapes is not None and c.request is None:
            status = _statuses(c.shapes.after_statuses if c.shapes.after is not None else c.shapes.before_statuses)
        rows.append(f'<tr class="{state}"><td><a href="#case-{n}">#{n}</a></td><td>{_e(c.source)}</td>'
                    f"<td><code>{_e(what)}</code></td><td>{_e(status)}</td><td>{_e(_route(c))}</td>"
                    f'<td class="badge {state}">{_e(_counts(c.findings) if not c.error else "unreadable")}</td></tr>')
    return ('<section id="list"><h2>Checked, in order</h2><input type="checkbox" id="only-failing">'
            '<label for="only-failing">only those with findings</label>'
            '<table class="list"><tr><th>#</th><th>source</th><th>what</th><th>status</th><th>route</th>'
            f'<th>findings</th></tr>{"".join(rows)}</table></section>')


_STYLE = """
:root{--err:#c62828;--warn:#b26a00;--info:#1565c0;--ok:#2e7d32;--bg:#fafafa;--line:#ddd;--mono:ui-monospace,
SFMono-Regular,Menlo,Consolas,monospace}
*{box-sizing:border-box}body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#222;
background:var(--bg)}header{background:#fff;border-bottom:1px solid var(--line);padding:12px 20px;position:sticky;top:0;
z-index:2}h1{font-size:18px;margin:0 0 8px}h2{font-size:16px;margin:18px 0 8px}h3{font-size:14px;margin:8px 0}
h4{font-size:13px;margin:10px 0 4px}small{color:#666;font-weight:normal}main{padding:0 20px 40px}
code,pre{font-family:var(--mono);font-size:12.5px}.summary{display:flex;flex-wrap:wrap;gap:8px;align-items:center}
.stat,.verdict,.chip{border:1px solid var(--line);border-radius:12px;padding:2px 10px;background:#fff}
.verdict{font-weight:700;color:#fff;border:0}.verdict.fail{background:var(--err)}.verdict.ok{background:var(--ok)}
.stat.sev-error b{color:var(--err)}.stat.sev-warning b{color:var(--warn)}.stat.sev-info b{color:var(--info)}
.kinds{margin-top:6px;display:flex;flex-wrap:wrap;gap:6px;align-items:center}.kinds .label{color:#555;
margin-right:4px}.chip{font-family:var(--mono);font-size:12px}
table{border-collapse:collapse;background:#fff}td,th{border:1px solid var(--line);padding:3px 8px;text-align:left;
vertical-align:top}th{background:#f0f0f0}.list{width:100%}.list td:nth-child(3){word-break:break-all}
.badge.sev-error,.sev-error>.sev{color:var(--err);font-weight:600}.badge.sev-warning,.sev-warning>.sev{
color:var(--warn);font-weight:600}.badge.sev-info,.sev-info>.sev{color:var(--info)}.badge.clean{color:var(--ok)}
.badge.unreadable{color:var(--err);font-weight:700}
#only-failing:checked~table tr.clean{display:none}
.session{background:#fff;border:1px solid var(--line);border-radius:6px;padding:8px 12px;margin:8px 0}
.bar{border:1px solid #bbb;border-radius:4px;background:repeating-linear-gradient(90deg,#f4f4f4 0 10%,#ececec 10% 20%);
padding:2px 0;margin:6px 0}.lane{position:relative;height:22px;margin:2px 0}.seg{position:absolute;top:0;height:22px;
border-radius:3px;color:#fff;font:11px/22px var(--mono);text-align:center;overflow:hidden;text-decoration:none;
border:1px solid rgba(0,0,0,.25)}.seg.ok{background:var(--ok)}.seg.bad{background:repeating-linear-gradient(45deg,
var(--err) 0 6px,#e57373 6px 12px)}.seg.sev-warning{outline:2px solid var(--warn)}
.chunks{margin-top:4px}.chunks tr.bad td{color:var(--err)}
.case{background:#fff;border:1px solid var(--line);border-left:5px solid var(--ok);border-radius:6px;margin:10px 0;
padding:0 12px}.case.sev-error,.case.unreadable{border-left-color:var(--err)}.case.sev-warning{
border-left-color:var(--warn)}.case.sev-info{border-left-color:var(--info)}.case>details>summary{cursor:pointer;
padding:8px 0;font-weight:600}.case .src{color:#777;font-weight:normal;font-size:12px;margin-left:6px}
.case .n{color:#777}.case .badge{margin-left:8px;font-size:12px}.facts{display:grid;grid-template-columns:max-content
1fr;gap:2px 12px;margin:4px 0 8px}.facts dt{color:#666}.facts dd{margin:0;word-break:break-all}
.grid{display:grid;grid-template-columns:minmax(260px,1fr) minmax(0,2fr);gap:16px}
@media (max-width:900px){.grid{grid-template-columns:1fr}}
.findings{margin:0;padding-left:0;list-style:none}.finding{border:1px solid var(--line);border-radius:6px;
padding:6px 8px;margin:0 0 8px;position:relative;padding-left:34px}.finding::before{content:attr(data-n);
position:absolute;left:6px;top:6px;width:20px;height:20px;border-radius:10px;color:#fff;text-align:center;
font:600 12px/20px system-ui;background:var(--info)}.finding.sev-error::before{background:var(--err)}
.finding.sev-warning::before{background:var(--warn)}.finding .sev{text-transform:uppercase;font-size:11px}
.finding .msg{margin-top:2px}.finding .exp{color:#555;font-size:12.5px}.finding .path a{color:inherit}
.none{color:#777}
pre.body{background:#f7f7f9;border:1px solid var(--line);border-radius:6px;padding:8px;margin:0;overflow:auto;
max-height:560px;white-space:pre-wrap;word-break:break-all}.k{color:#7b1fa2}.s{color:#2e7d32}.v{color:#1565c0}
.cut{color:#888;font-style:italic}
mark.hl{background:#fff3cd;outline:2px solid var(--info);border-radius:3px;color:inherit}mark.hl::before{
content:attr(data-n);font:600 10px/1 system-ui;color:#fff;background:var(--info);border-radius:7px;padding:1px 4px;
margin-right:4px;vertical-align:1px}mark.hl.sev-error{background:#fde2e1;outline-color:var(--err)}
mark.hl.sev-error::before{background:var(--err)}mark.hl.sev-warning{background:#fff0d6;outline-color:var(--warn)}
mark.hl.sev-warning::before{background:var(--warn)}
.shape td,.shape th{font-family:var(--mono);font-size:12px}.shape tr.added td{background:#e8f5e9}
.shape tr.removed td{background:#ffebee}.shape tr.changed td{background:#fff8e1}.shape tr.ignored td{color:#999}
.legend span{padding:0 6px;margin-right:6px;font-size:12px}.legend .added{background:#e8f5e9}.legend .removed{
background:#ffebee}.legend .changed{background:#fff8e1}.legend .ignored{color:#999}
.headers{margin:6px 0;font-family:var(--mono);font-size:12px}.headers caption{text-align:left;font-weight:600}
.headers td{word-break:break-all}.hdrs{margin:8px 0 10px}.error{color:var(--err);font-weight:600}
"""


def render_html(cases: list[ReportCase], title: str) -> str:
    """The whole report as one HTML document (UTF-8 text, every character encodable)."""
    verdict = "FAIL" if any(c.failed for c in cases) else "OK"
    page = (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{_e(title)}: {verdict}</title><style>{_STYLE}</style></head><body>"
        f"{_summary(cases, title)}<main>{_upload_section(cases)}{_list(cases)}"
        '<section id="cases"><h2>Each case</h2>'
        f'{"".join(_case_block(n, c) for n, c in enumerate(cases))}</section></main></body></html>\n'
    )
    return page
