"""`graphtape drift` on cassettes recorded through real simulator and recorder processes."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from graphtape.cassettes.serialization import load_cassette
from graphtape.cli.examples.example_requests import EXAMPLES
from graphtape.cli.main import main

pytestmark = pytest.mark.slow

# One route, every subtype: file, item and (beta) reference attachments on a message.
MESSAGE_CREATES = EXAMPLES[:3]
# drift variant -> the (kind, JSON path) findings it must cause, and nothing else.
VARIANTS: list[tuple[str, set[tuple[str, str]]]] = [
    ("rename-property", {("undocumented-property", "$.mediaType"), ("missing-property", "$.contentType")}),
    ("size-as-string", {("type-change", "$.size")}),
    ("extra-property", {("undocumented-property", "$.isDownloadable")}),
    ("new-enum-value", {("enum-value", "$.providerType")}),
    ("status-200", {("status-change", "$status")}),
    ("content-type", {("content-type-change", "$headers.content-type")}),
    ("odata-type", {("odata-type-change", "$.@odata.type")}),
    ("subtype-property", {("undocumented-property", "$.sourceUrl")}),
]


def _drift(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["drift", *args])
    return result.exit_code, result.output


def _found(report: dict) -> set[tuple[str, str]]:
    return {(f["code"], f["path"]) for c in report["cases"] for f in c["findings"]}


@pytest.fixture(scope="module")
def baseline(record_from_simulator) -> Path:
    return record_from_simulator(examples=MESSAGE_CREATES)


@pytest.mark.parametrize(("variant", "expected"), VARIANTS, ids=[v for v, _ in VARIANTS])
def test_each_drift_variant_is_detected_and_nothing_else(record_from_simulator, baseline: Path, variant: str,
                                                         expected: set[tuple[str, str]]) -> None:
    candidate = record_from_simulator(variant, examples=MESSAGE_CREATES)
    code, out = _drift(str(baseline), str(candidate), "--format", "json")
    report = json.loads(out)
    assert _found(report) == expected
    errors = report["totals"]["error"]
    assert code == (1 if errors else 0)
    # both comparisons see it: against the baseline and against the documented schema
    messages = {f["message"].split(":")[0] for c in report["cases"] for f in c["findings"]}
    if variant not in ("status-200",):  # the same fact twice is reported once
        assert messages == {"vs baseline", "vs schema"}


def test_two_recordings_of_the_same_calls_do_not_drift(record_from_simulator, baseline: Path) -> None:
    again = record_from_simulator(examples=MESSAGE_CREATES, fresh=True)
    ids = [{json.loads(i.response.body)["id"] for i in load_cassette(p).interactions} for p in (baseline, again)]
    assert not ids[0] & ids[1]  # fresh ids and timestamps every time
    code, out = _drift(str(baseline), str(again), "--format", "json")
    assert code == 0
    assert _found(json.loads(out)) == set()


def test_a_wrong_subtype_property_is_caught_per_subtype(record_from_simulator, baseline: Path) -> None:
    candidate = record_from_simulator("subtype-property", examples=MESSAGE_CREATES)
    report = json.loads(_drift(str(baseline), str(candidate), "--format", "json")[1])
    flagged = {c["name"] for c in report["cases"] if c["findings"]}
    assert flagged == {n for n in flagged if n.endswith("[fileAttachment]")} and flagged
    # comparing against the base type alone would miss it: referenceAttachments carry sourceUrl
    reference = [json.loads(i.response.body) for i in load_cassette(baseline).interactions
                 if b"referenceAttachment" in i.request.body]
    assert reference and all("sourceUrl" in body for body in reference)


def test_a_new_route_is_reported(record_from_simulator, baseline: Path) -> None:
    candidate = record_from_simulator(examples=EXAMPLES[:6])  # message and message-event routes
    code, out = _drift(str(baseline), str(candidate), "--format", "json")
    report = json.loads(out)
    assert {k for k, _ in _found(report)} == {"new-route"}
    assert code == 0  # new routes warn by default
    assert _drift(str(baseline), str(candidate), "--severity", "new-route=error")[0] == 1


def test_severity_is_configurable_by_file_and_option(record_from_simulator, baseline: Path, tmp_path: Path) -> None:
    candidate = record_from_simulator("extra-property", examples=MESSAGE_CREATES)
    assert _drift(str(baseline), str(candidate))[0] == 0  # undocumented properties warn by default
    assert _drift(str(baseline), str(candidate), "--severity", "undocumented-property=error")[0] == 1
    config = tmp_path / "drift.yaml"
    config.write_text("severity:\n  undocumented-property: error\n")
    assert _drift(str(baseline), str(candidate), "--config", str(config))[0] == 1
    config.write_text("severity:\n  undocumented-property: off\n")
    code, out = _drift(str(baseline), str(candidate), "--config", str(config), "--format", "json")
    assert code == 0 and _found(json.loads(out)) == set()
    as_json = tmp_path / "drift.json"
    as_json.write_text(json.dumps({"volatile": ["$.isDownloadable"]}))
    code, out = _drift(str(baseline), str(candidate), "--config", str(as_json), "--format", "json")
    assert code == 0 and _found(json.loads(out)) == set()


@pytest.mark.parametrize("fmt", ["text", "json", "junit", "markdown"])
def test_every_format_parses_and_exit_codes_hold(record_from_simulator, baseline: Path, fmt: str,
                                                 tmp_path: Path) -> None:
    candidate = record_from_simulator("size-as-string", examples=MESSAGE_CREATES)
    out_file = tmp_path / f"report.{fmt}"
    code, _ = _drift(str(baseline), str(candidate), "--format", fmt, "--output", str(out_file))
    assert code == 1
    text = out_file.read_text()
    assert "\x1b[" not in text
    if fmt == "json":
        assert json.loads(text)["ok"] is False
    elif fmt == "junit":
        suite = ET.fromstring(text).find("testsuite")
        assert suite is not None and int(suite.get("failures", "0")) >= 1
        assert any("type-change" in (f.text or "") for f in suite.iter("failure"))
    elif fmt == "markdown":
        assert text.startswith("### graphtape drift: ❌ failed") and "| error |" in text
    else:
        assert "type-change" in text and "FAIL:" in text.splitlines()[-1]
    clean_code, _ = _drift(str(baseline), str(baseline), "--format", fmt)
    assert clean_code == 0


def test_colour_on_request_only(record_from_simulator, baseline: Path) -> None:
    candidate = record_from_simulator("size-as-string", examples=MESSAGE_CREATES)
    assert "\x1b[31m" in _drift(str(baseline), str(candidate), "--color")[1]
    assert "\x1b[" not in _drift(str(baseline), str(candidate))[1]  # not a terminal


@pytest.mark.parametrize(("make", "needle"), [
    (lambda d: d / "missing.yaml", "no such file"),
    (lambda d: d / "empty-folder", "no .yaml cassettes"),
    (lambda d: d / "broken.yaml", "broken.yaml"),
])
def test_unreadable_input_exits_2(baseline: Path, tmp_path: Path, make, needle: str) -> None:
    (tmp_path / "empty-folder").mkdir()
    (tmp_path / "broken.yaml").write_text("interactions: [unclosed\n")
    code, out = _drift(str(baseline), str(make(tmp_path)))
    assert code == 2 and needle in out


def test_bad_config_exits_2(baseline: Path, tmp_path: Path) -> None:
    config = tmp_path / "drift.yaml"
    config.write_text("severity:\n  no-such-kind: error\n")
    code, out = _drift(str(baseline), str(baseline), "--config", str(config))
    assert code == 2 and "no-such-kind" in out and str(config) in out


def test_folders_are_compared_as_a_whole(record_from_simulator, baseline: Path, tmp_path: Path) -> None:
    candidate = record_from_simulator("size-as-string", examples=MESSAGE_CREATES)
    for name, src in (("base", baseline), ("cand", candidate)):
        (tmp_path / name / "nested").mkdir(parents=True)
        (tmp_path / name / "nested" / "x.yaml").write_bytes(src.read_bytes())
    code, out = _drift(str(tmp_path / "base"), str(tmp_path / "cand"), "--format", "json")
    assert code == 1 and {k for k, _ in _found(json.loads(out))} == {"type-change"}


@pytest.mark.parametrize(("env", "coloured"), [({}, True), ({"NO_COLOR": "1"}, False)])
def test_text_is_coloured_on_a_real_terminal(record_from_simulator, baseline: Path, env: dict[str, str],
                                             coloured: bool) -> None:
    candidate = record_from_simulator("size-as-string", examples=MESSAGE_CREATES)
    controller, terminal = pty.openpty()
    full_env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"} | env
    proc = subprocess.run([sys.executable, "-m", "graphtape.cli", "drift", str(baseline), str(candidate)],
                          stdout=terminal, stderr=subprocess.PIPE, env=full_env, timeout=60)
    os.close(terminal)
    out = b""
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # the terminal is closed and drained
            break
        if not chunk:
            break
        out += chunk
    os.close(controller)
    assert proc.returncode == 1
    assert (b"\x1b[31m" in out) is coloured and b"type-change" in out
