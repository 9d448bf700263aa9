"""The HTML report as text: escaping, highlighting, the upload bar, and the other formats left unchanged.

What the page looks like in a real browser is tests/cli/output/test_html_report_in_browser.py.
"""

from __future__ import annotations

import html
import json
import re

import pytest
from html_dom import Element, parse
from hypothesis import given, settings
from hypothesis import strategies as st

from graphtape.cassettes.findings import Finding, Severity
from graphtape.cassettes.model import UPLOAD_SESSION_KEY, Headers, InteractionMeta, Request, Response
from graphtape.cli.output.reports import ReportCase, ShapeDiff, render

# Each would become markup (a script, an image, a broken-out attribute or element) if printed raw.
HOSTILE = [
    "<script>document.title='pwned'</script>.txt",
    '"><img src=x onerror="document.title=1">',
    "'><svg onload=alert(1)>",
    "</style><style>body{display:none}</style>",
    "</pre></details></article><h1>injected</h1>",
    "<!-- comment --><![CDATA[x]]>",
    "&lt;already escaped&gt; &amp; &#x3c;",
]
# Invisible or direction-changing: shown as \uXXXX so a reader sees them.
INVISIBLE = ["\x00", "\x07", "\x1b[31m", "\u202e", "\u2066", "\u200b", "\ufeff", "\udce9", "\u2028"]

ALLOWED_TAGS = {"html", "head", "meta", "title", "style", "body", "header", "h1", "h2", "h3", "h4", "section", "main",
                "span", "b", "div", "table", "tr", "th", "td", "caption", "a", "code", "small", "article", "details",
                "summary", "dl", "dt", "dd", "ol", "li", "q", "pre", "mark", "p", "input", "label"}


def _file_body(name: str, **extra: object) -> bytes:
    return json.dumps({"@odata.type": "#microsoft.graph.fileAttachment", "name": name, **extra}).encode()


def _case(text: str, findings: list[Finding] | None = None) -> ReportCase:
    """``text`` in every field a report prints."""
    finding = Finding(Severity.ERROR, text, "response", f"$.{text}", text, text, text)
    return ReportCase(
        source=text, name=text, findings=findings if findings is not None else [finding],
        request=Request("POST", f"http://127.0.0.1/{text}", Headers.of([(text, text)]), _file_body(text, **{text: text})),
        response=Response(201, text, Headers.of([("Content-Type", "application/json"), (text, text)]),
                          json.dumps({text: [text, {text: text}]}).encode()),
        meta=InteractionMeta(route=text, recorded_at=text,
                             extra=((UPLOAD_SESSION_KEY, {"session": text, "step": "chunk", "chunk": 0,
                                                          "range": "bytes 0-3/10"}),)),
        shapes=ShapeDiff(text, {f"$.{text}": {text}}, text, {f"$.{text}": {"string"}}),
    )


def _structure(page: str) -> Element:
    dom = parse(page)
    tags = {e.tag for e in dom.iter()} - {"#document"}
    assert tags <= ALLOWED_TAGS, tags - ALLOWED_TAGS
    assert len(dom.find_all("style")) == 1 and not dom.find_all("script")
    for element in dom.iter():
        for name, value in element.attrs.items():
            assert not name.startswith("on"), (element.tag, name)
            if name in ("href", "src"):
                assert value and value.startswith("#"), (element.tag, name, value)  # nothing outside the page
    return dom


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_text_stays_text_everywhere(text: str) -> None:
    page = render([_case(text)], "html", title=text)
    dom = _structure(page)
    shown = dom.text
    assert shown.count(text) >= 8  # source, name, finding, headers, body keys and values, route, shape ...
    assert "injected" not in {e.text for e in dom.find_all("h1")}


@pytest.mark.parametrize("char", INVISIBLE, ids=lambda c: f"U+{ord(c[0]):04X}")
def test_invisible_characters_are_made_visible(char: str) -> None:
    text = f"a{char}b"
    page = render([_case(text)], "html", title="t")
    page.encode("utf-8")  # every character encodable: a lone surrogate is shown, not written
    _structure(page)
    assert char not in page
    assert f"a\\u{ord(char[0]):04x}" in html.unescape(page)


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=40))
def test_any_text_leaves_the_page_structure_alone(text: str) -> None:
    page = render([_case(text)], "html", title=text)
    page.encode("utf-8")
    _structure(page)


# ---------------------------------------------------------------- highlighting


BODY = {"@odata.type": "#microsoft.graph.fileAttachment", "name": "a.txt", "size": "5",
        "item": {"attendees": [{"type": "required"}, {"type": "x"}]}, "odd key": 1}
HIGHLIGHT_CASES = [
    # (finding path, the text the highlighted element must hold)
    ("$.size", '"size": "5"'),
    ("$.@odata.type", '"@odata.type": "#microsoft.graph.fileAttachment"'),
    ("$.item.attendees[1].type", '"type": "x"'),
    ("$['odd key']", '"odd key": 1'),
    ("$.item.subject", '"item": {'),  # absent: its nearest ancestor is marked
    ("$.item.attendees[*].type", '"type": "required"'),  # drift's any-index paths mark every match
    ("$body", '"@odata.type"'),
]


@pytest.mark.parametrize(("path", "holds"), HIGHLIGHT_CASES, ids=[c[0] for c in HIGHLIGHT_CASES])
def test_a_findings_path_is_highlighted_in_the_body(path: str, holds: str) -> None:
    finding = Finding(Severity.ERROR, "wrong-type", "request", path, "Int32", "string", "size must be a number")
    case = ReportCase("c.yaml", "interactions[0]", [finding],
                      request=Request("POST", "http://h/v1.0/me/messages/m/attachments",
                                      Headers.of([("Content-Type", "application/json")]), json.dumps(BODY).encode()))
    dom = _structure(render([case], "html"))
    marks = [m for m in dom.find_all("mark") if "hl" in m.classes()]
    assert marks and all(m.attrs["data-path"] == path for m in marks)
    assert any(holds in m.text for m in marks), [m.text for m in marks]
    # the finding links to its mark
    (link,) = [a for a in dom.find_all("a") if a.text == path]
    assert link.attrs["href"] == "#" + marks[0].attrs["id"]


def test_pseudo_paths_mark_the_status_line_and_the_header() -> None:
    findings = [Finding(Severity.ERROR, "status-change", "response", "$status", "201", "200", "status changed"),
                Finding(Severity.ERROR, "content-type-change", "response", "$headers.content-type",
                        "application/json", "text/plain", "content type changed")]
    case = ReportCase("c.yaml", "x", findings, request=Request("POST", "http://h/x"),
                      response=Response(200, "OK", Headers.of([("Content-Type", "text/plain")]), b"hello"))
    dom = _structure(render([case], "html"))
    assert {m.text for m in dom.find_all("mark")} == {"200 OK", "text/plain"}


# ---------------------------------------------------------------- upload bar


def test_chunk_ranges_are_drawn_where_content_range_puts_them() -> None:
    """RFC 9110 Content-Range ``bytes first-last/complete``: a chunk covers first..last of complete."""
    cases = []
    for n, (first, last, status) in enumerate([(0, 3, 200), (8, 9, 416), (4, 7, 200), (8, 9, 201)]):
        cases.append(ReportCase("c.yaml", f"chunk {n}", request=Request("PUT", "http://h/up"),
                                response=Response(status), meta=InteractionMeta(extra=((UPLOAD_SESSION_KEY, {
                                    "session": "s", "step": "chunk", "chunk": n,
                                    "range": f"bytes {first}-{last}/10"}),))))
    dom = _structure(render(cases, "html"))
    segments = [a for a in dom.find_all("a") if "seg" in a.classes()]
    geometry = [(a.text, re.findall(r"[\d.]+", a.attrs["style"] or ""), "ok" in a.classes()) for a in segments]
    assert sorted(geometry) == [("0", ["0.000", "40.000"], True), ("1", ["80.000", "20.000"], False),
                                ("2", ["40.000", "40.000"], True), ("3", ["80.000", "20.000"], True)]
    lanes = dom.find_all("div")
    assert len([d for d in lanes if "lane" in d.classes()]) == 2  # the refused 8-9 and the accepted 8-9 overlap


# ---------------------------------------------------------------- the other formats


@pytest.mark.parametrize("fmt", ["text", "json", "junit", "markdown"])
def test_the_other_formats_ignore_what_only_html_shows(fmt: str) -> None:
    finding = Finding(Severity.WARNING, "read-only-property", "request", "$.id", "absent", "string", "id is read-only")
    bare = [ReportCase("c.yaml", "interactions[0]", [finding]), ReportCase("c.yaml", "interactions[1]")]
    full = [_case_like(bare[0]), _case_like(bare[1])]
    assert render(full, fmt, title="t", colour=False) == render(bare, fmt, title="t", colour=False)


def _case_like(case: ReportCase) -> ReportCase:
    return ReportCase(case.source, case.name, list(case.findings), request=Request("POST", "http://h/x", body=b"{}"),
                      response=Response(201, "Created", body=b"{}"), meta=InteractionMeta(route="r"),
                      live=Response(200), shapes=ShapeDiff("a", {"$": {"object"}}, "b", {"$": {"object"}}))


def test_html_is_one_of_the_report_formats() -> None:
    from graphtape.cli.output.reports import FORMATS

    assert "html" in FORMATS
    page = render([ReportCase("c.yaml", "x")], "html", title="graphtape validate")
    dom = _structure(page)
    assert dom.find_all("title")[0].text == "graphtape validate: OK"
    (csp,) = [m for m in dom.find_all("meta") if m.attrs.get("http-equiv") == "Content-Security-Policy"]
    assert "default-src 'none'" in (csp.attrs["content"] or "") and "script-src 'none'" in (csp.attrs["content"] or "")
