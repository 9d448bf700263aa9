"""``graphtape validate``: exit codes and formats on real inputs."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from graphtape.cli.examples import example_cassette
from graphtape.cli.examples.example_requests import FILE_BODY
from graphtape.cli.main import main

SEED = Path(__file__).resolve().parents[2] / "fixtures" / "seed-create-attachments.md"  # the project's seed page

SEED_REQUEST = """POST https://graph.microsoft.com/beta/users/{usersId}/messages/{messageId}/attachments
Content-Type: application/json
Content-length: 149

{
  "@odata.type": "#microsoft.graph.attachment",
  "name": "String",
  "contentType": "String",
  "size": "Integer",
  "isInline": "Boolean"
}
"""


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["validate", *args])
    return result.exit_code, result.output


def test_seed_example_request_fails(tmp_path: Path) -> None:
    path = tmp_path / "seed-request.http"
    path.write_text(SEED_REQUEST)
    code, out = _run(str(path))
    assert code == 1
    assert "$.size" in out and "$.isInline" in out and "abstract" in out


def test_seed_page_itself_fails() -> None:
    code, out = _run(str(SEED))
    assert code == 1
    assert "line 5" not in out.splitlines()[0]  # findings are reported per http block
    assert "request POST" in out and "response 201" in out


# The beta "Add attachment" page's reference-attachment example, as published
# (https://learn.microsoft.com/en-us/graph/api/message-post-attachments?view=graph-rest-beta): its request
# sends "isFolder": "True" and "permission": "Edit"; its answer's status line has no HTTP version
# (the answer is shortened here: the properties it has are the page's).
DOCS_PAGE = """```http
POST https://graph.microsoft.com/beta/me/messages/AAMkAGE1M88AADUv0uFAAA=/attachments
Content-type: application/json

{
    "@odata.type": "#microsoft.graph.referenceAttachment",
    "name": "Personal pictures",
    "sourceUrl": "https://contoso.com/personal/mario_contoso_net/Documents/Pics",
    "providerType": "oneDriveConsumer",
    "permission": "Edit",
    "isFolder": "True"
}
```

```http
HTTP 201 Created

{
  "@odata.type": "#microsoft.graph.referenceAttachment",
  "id": "AAMkAGE1Mg72tgf7hJp0PICVGCc0g=",
  "lastModifiedDateTime": "2016-03-12T06:04:38Z",
  "name": "Personal pictures",
  "contentType": null,
  "size": 382,
  "isInline": false,
  "sourceUrl": "https://contoso.com/personal/mario_contoso_net/Documents/Pics",
  "providerType": "oneDriveConsumer",
  "thumbnailUrl": null,
  "previewUrl": null,
  "permission": "edit",
  "isFolder": true
}
```
"""


def test_a_docs_page_answer_without_http_version_is_checked(tmp_path: Path) -> None:
    path = tmp_path / "page.md"
    path.write_text(DOCS_PAGE)
    code, out = _run(str(path), "--format", "json")
    assert code == 1
    cases = json.loads(out)["cases"]
    # The answer is read (it was skipped while only "HTTP/x.y" status lines were); its body is
    # clean, and the page gives it no Content-Type header.
    assert [c["name"].split(" ")[2] for c in cases] == ["request", "response"]
    assert [f["code"] for f in cases[1]["findings"]] == ["non-json-content-type"]
    request = {(f["code"], f["path"], f["severity"]) for f in cases[0]["findings"]}
    assert request == {("wrong-type", "$.isFolder", "error"), ("enum-value", "$.permission", "warning")}


def test_clean_sdk_style_body_passes(tmp_path: Path) -> None:
    path = tmp_path / "body.json"
    path.write_text(json.dumps(FILE_BODY))
    code, out = _run(str(path))
    assert code == 0, out
    assert out.startswith("OK")


def test_shipped_examples_hold_only_the_expected_errors() -> None:
    code, out = _run(str(example_cassette()), "--format", "json")
    doc = json.loads(out)
    failed = [c["name"] for c in doc["cases"] if c["failed"]]
    assert len(failed) == 2 and code == 1  # the two deliberate error cases


@pytest.mark.parametrize("args, expected_code", [
    (["/nonexistent/cassette.yaml"], 2),
    ([], 2),
])
def test_unreadable_input_exits_2(args: list[str], expected_code: int) -> None:
    code, _ = _run(*args)
    assert code == expected_code


def test_broken_cassette_exits_2_and_names_the_key(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("version: 1\ninteractions:\n- request: {method: POST, uri: x}\n")
    code, out = _run(str(path))
    assert code == 2
    assert "broken.yaml" in out and "interactions[0]" in out


@pytest.mark.parametrize("fmt", ["json", "junit", "markdown", "text"])
def test_formats_parse(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / "seed.http"
    path.write_text(SEED_REQUEST)
    code, out = _run(str(path), "--format", fmt)
    assert code == 1
    if fmt == "json":
        assert json.loads(out)["totals"]["error"] >= 3
    elif fmt == "junit":
        root = ET.fromstring(out.split("?>", 1)[1])
        assert root.find("testsuite/testcase/failure") is not None
    elif fmt == "markdown":
        assert "| error |" in out
    else:
        assert out.rstrip().splitlines()[-1].startswith("FAIL")


@pytest.mark.parametrize(("args", "coloured"), [([], False), (["--color"], True), (["--no-color"], False)])
def test_colour_only_when_asked_or_on_a_terminal(tmp_path: Path, args: list[str], coloured: bool) -> None:
    path = tmp_path / "seed.http"
    path.write_text(SEED_REQUEST)
    code, out = _run(str(path), *args)  # CliRunner's stdout is not a terminal
    assert code == 1
    assert ("\x1b[31m" in out) is coloured
    report = tmp_path / "report.txt"
    assert _run(str(path), "--output", str(report))[0] == 1
    assert "\x1b[" not in report.read_text() and "FAIL" in report.read_text()


def test_clean_input_exits_0_in_every_format(tmp_path: Path) -> None:
    path = tmp_path / "body.json"
    path.write_text(json.dumps(FILE_BODY))
    for fmt in ("text", "json", "junit", "markdown"):
        assert _run(str(path), "--format", fmt)[0] == 0
