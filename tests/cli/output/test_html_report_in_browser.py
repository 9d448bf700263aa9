"""The HTML report opened in a real headless Chromium: what a reader of the CI artifact sees.

The DOM is Chromium's, after loading the page (``--dump-dom``). Expected figures come from
outside graphtape: how many requests were sent and which of them Graph's documentation says
it rejects (graph_traffic.STEPS), the CSDL's types (``size`` is Edm.Int32; fileAttachment has
no ``isDownloadable``), and RFC 9110's Content-Range for the upload bar. The screenshots the
README shows are written to tests/output/ from inputs that do not change between runs.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from graph_traffic import HOSTILE_NAMES, STEPS
from html_dom import Element, parse

from graphtape.cassettes.findings import Finding, Severity
from graphtape.cassettes.model import Headers, Request, Response
from graphtape.cli.examples.example_requests import EXAMPLES
from graphtape.cli.output.reports import ReportCase, render

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[3]
SCREENSHOTS = ROOT / "tests" / "output"
FIXTURE = ROOT / "tests" / "fixtures" / "report-conversation.yaml"


def _graphtape(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "graphtape.cli", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120, stdin=subprocess.DEVNULL)


def _count(dom: Element, element_id: str) -> int:
    return int(dom.by_id(element_id).find_all("b")[0].text)


def _fetched_hosts(net_log: Path) -> set[str]:
    """Hosts of every URL Chromium's network stack saw while it had the page open."""
    events = json.loads(net_log.read_text())["events"]
    return {urlsplit(e["params"]["url"]).hostname or "" for e in events if "url" in e.get("params", {})}


def _mentioned_hosts(page: str) -> set[str]:
    import re

    return {urlsplit(u).hostname or "" for u in re.findall(r"https?://[^\s\"'<>&]+", page)}


# ---------------------------------------------------------------- validate


@pytest.fixture(scope="module")
def validate_report(conversation_cassette: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    folder = tmp_path_factory.mktemp("validate-report")
    report = folder / "validate.html"
    done = _graphtape("validate", str(conversation_cassette), "--format", "html", "--output", str(report), cwd=folder)
    assert done.returncode == 1, done.stderr  # 1: error-level findings
    as_json = _graphtape("validate", str(conversation_cassette), "--format", "json", cwd=folder)
    return report, json.loads(as_json.stdout)


def test_the_summary_counts_what_was_sent_and_what_graph_rejects(validate_report: tuple[Path, dict],
                                                                 chromium, tmp_path: Path) -> None:
    report, as_json = validate_report
    net_log = tmp_path / "net.json"
    dom = parse(chromium.dump_dom(report, net_log))
    assert dom.find_all("title")[0].text == "graphtape validate: FAIL"  # no hostile script retitled it
    assert _count(dom, "stat-interactions") == len(STEPS)
    assert _count(dom, "stat-failed") == sum(1 for s in STEPS if s.worst == "error")
    for level in ("error", "warning", "info"):  # the same totals as the JSON report
        assert _count(dom, f"stat-{level}") == as_json["totals"][level]
    assert dom.by_id("verdict").text == "FAIL"
    chips = {c.attrs["data-kind"]: int(c.find_all("b")[0].text) for c in dom.by_id("kind-by-kind").find_all("span")
             if c.attrs.get("data-kind")}
    # CSDL: attachment.id is the only read-only property (Core.Permissions/Read), sent by one step.
    assert chips["wrong-type"] == 1 and chips["read-only-property"] == 1 and chips["upload-range-gap"] == 1
    # Nothing the page mentions was fetched (its CSP forbids it; Chromium's own traffic aside).
    assert not (_fetched_hosts(net_log) & _mentioned_hosts(report.read_text()))


def test_the_list_shows_every_interaction_in_order_with_status_and_route(validate_report: tuple[Path, dict],
                                                                         chromium) -> None:
    dom = parse(chromium.dump_dom(validate_report[0]))
    rows = dom.by_id("list").find_all("tr")[1:]
    assert len(rows) == len(STEPS)
    for row, step in zip(rows, STEPS, strict=True):
        cells = [c.text for c in row.find_all("td")]
        method, path = cells[2].split(" ", 1)
        assert method == step.method
        assert cells[3] == str(step.status)
        assert cells[4]  # every step is on a documented route (or an upload URL)
        if step.path != "{upload}":
            assert path == step.path.split("?")[0]
        assert ("sev-error" in row.classes()) == (step.worst == "error")


def test_a_finding_is_highlighted_at_its_path_in_the_body(validate_report: tuple[Path, dict], chromium) -> None:
    dom = parse(chromium.dump_dom(validate_report[0]))
    index = next(n for n, s in enumerate(STEPS) if s.name == "size as a string")
    case = dom.by_id(f"case-{index}")
    (finding,) = [li for li in case.find_all("li") if li.attrs.get("data-code") == "wrong-type"]
    target = finding.find_all("a")[0].attrs["href"].lstrip("#")
    mark = case.by_id(target)
    # fileAttachment.size is Edm.Int32 in the CSDL: the string sent there is what is marked.
    assert mark.tag == "mark" and mark.attrs["data-path"] == "$.size" and "sev-error" in mark.classes()
    assert mark.text.strip() == '"size": "Integer"'
    assert any(mark is m for pre in case.find_all("pre") for m in pre.iter())


def test_hostile_file_names_are_text_not_markup(validate_report: tuple[Path, dict], chromium) -> None:
    dom = parse(chromium.dump_dom(validate_report[0]))
    assert not dom.find_all("script") and not dom.find_all("img") and not dom.find_all("svg")
    assert dom.find_all("title")[0].text == "graphtape validate: FAIL"
    text = dom.text
    assert text.count(HOSTILE_NAMES[0]) == 2  # in the request and in the answer that echoes it
    visible = json.dumps(HOSTILE_NAMES[1], ensure_ascii=False).replace("\u202e", "\\u202e")
    assert text.count(visible) == 2  # the bell and the right-to-left override shown as escapes


def test_the_upload_session_is_drawn_from_its_content_ranges(validate_report: tuple[Path, dict], chromium) -> None:
    dom = parse(chromium.dump_dom(validate_report[0]))
    uploads = dom.by_id("uploads")
    segments = [a for a in uploads.find_all("a") if "seg" in a.classes()]
    chunks = [s for s in STEPS if s.path == "{upload}"]
    assert len(segments) == len(chunks)
    lanes = [d for d in uploads.find_all("div") if "lane" in d.classes()]
    assert len(lanes) == 2  # the last chunk was sent twice: refused out of order, then accepted
    refused = [a for a in segments if "bad" in a.classes()]
    assert [a.text for a in refused] == ["1"] and "416" in (refused[0].attrs["title"] or "")


# ---------------------------------------------------------------- drift


@pytest.fixture(scope="module")
def drift_report(record_from_simulator, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("drift-report")
    examples = EXAMPLES[:3]  # a file, an item and a reference attachment
    shutil.copy(record_from_simulator(examples=examples), folder / "baseline.yaml")
    shutil.copy(record_from_simulator("size-as-string", "extra-property", examples=examples), folder / "candidate.yaml")
    done = _graphtape("drift", "baseline.yaml", "candidate.yaml", "--format", "html", "--output", "drift.html",
                      cwd=folder)
    assert done.returncode == 1, done.stderr
    return folder / "drift.html"


def test_drift_shows_both_shapes_side_by_side(drift_report: Path, chromium) -> None:
    dom = parse(chromium.dump_dom(drift_report))
    assert dom.find_all("title")[0].text == "graphtape drift: FAIL"
    assert _count(dom, "stat-responses") == 2 * 3
    kinds = {c.attrs["data-kind"] for c in dom.by_id("drift-by-kind").find_all("span") if c.attrs.get("data-kind")}
    assert kinds == {"type-change", "undocumented-property"}
    (file_case,) = [a for a in dom.find_all("article") if "[fileAttachment]" in a.text and "candidate.yaml" in a.text]
    rows = {r.find_all("td")[0].text: r for r in file_case.find_all("tr") if r.find_all("td")}
    size = rows["$.size"]
    assert "changed" in size.classes() and [c.text for c in size.find_all("td")[1:]] == ["number", "string"]
    assert size.find_all("mark")[0].attrs["data-path"] == "$.size"
    extra = rows["$.isDownloadable"]  # not a fileAttachment property in the CSDL
    assert "added" in extra.classes() and [c.text for c in extra.find_all("td")[1:]] == ["—", "boolean"]
    assert "ignored" in rows["$.id"].classes()  # ids are volatile: shown, never compared


# ---------------------------------------------------------------- nothing leaves the page


class _Beacon:
    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.port = self.sock.getsockname()[1]
        self.hits = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.hits += 1
            conn.close()


def test_markup_in_a_body_loads_nothing(chromium, tmp_path: Path) -> None:
    beacon = _Beacon()
    try:
        url = f"http://127.0.0.1:{beacon.port}"
        hostile = (f'<img src="{url}/img"><link rel=stylesheet href="{url}/css"><iframe src="{url}/frame"></iframe>'
                   f'<style>@import url({url}/import);</style><meta http-equiv="refresh" content="0;url={url}/go">'
                   f"<script src='{url}/js'></script><script>document.title='pwned'</script>")
        finding = Finding(Severity.ERROR, hostile, "response", "$.name", hostile, hostile, hostile)
        case = ReportCase(hostile, hostile, [finding], request=Request("POST", url + "/x", Headers.of([]), b""),
                          response=Response(201, hostile, Headers.of([(hostile, hostile)]),
                                            json.dumps({"name": hostile}).encode() + b"\n" + hostile.encode()))
        page = tmp_path / "hostile.html"
        page.write_text(render([case, ReportCase("x", "y", response=Response(200, body=hostile.encode()))], "html",
                               title="report"), encoding="utf-8")
        dom = parse(chromium.dump_dom(page))
    finally:
        beacon.sock.close()
    assert beacon.hits == 0
    assert dom.find_all("title")[0].text == "report: FAIL"
    assert not dom.find_all("img") and not dom.find_all("iframe") and not dom.find_all("script")


# ---------------------------------------------------------------- the README's screenshots


def test_screenshots_for_the_readme(chromium, drift_report: Path, tmp_path: Path) -> None:
    """From inputs that do not change between runs (a committed cassette, drift without ids), so the
    files in tests/output/ change only when the report does."""
    folder = tmp_path / "fixture"
    folder.mkdir()
    shutil.copy(FIXTURE, folder / FIXTURE.name)
    done = _graphtape("validate", FIXTURE.name, "--format", "html", "--output", "validate.html", cwd=folder)
    assert done.returncode == 1, done.stderr
    chromium.screenshot(folder / "validate.html", SCREENSHOTS / "html-report-validate.png", 1280, 1700)
    chromium.screenshot(drift_report, SCREENSHOTS / "html-report-drift.png", 1280, 1100)
    for name in ("html-report-validate.png", "html-report-drift.png"):
        assert (SCREENSHOTS / name).stat().st_size > 20_000  # a page, not a blank
