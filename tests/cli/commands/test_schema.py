"""``graphtape schema``: the routes and types graphtape knows, in text and JSON.

Truth: msgraph-sdk 1.62.0's request builders (the v1.0 routes, tests/addons/graph/metadata/data/)
and the CSDL (types, their properties and flags).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from click.testing import CliRunner

from graphtape.addons.graph.routes import match_route
from graphtape.cli.main import main

SDK_ROUTES = Path(__file__).resolve().parents[2] / "addons" / "graph" / "metadata" / "data" / "msgraph_sdk_routes.txt"


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["schema", *args])
    return result.exit_code, result.output


def test_every_sdk_route_is_listed_for_v1() -> None:
    code, out = _run("--version", "v1.0", "--format", "json")
    assert code == 0
    doc = json.loads(out)
    listed = {(r["operation"], r["template"]) for r in doc["routes"]}
    for line in SDK_ROUTES.read_text().splitlines():
        if line and not line.startswith("#"):
            operation, template = line.split("\t")
            match = match_route("POST", "/v1.0" + re.sub(r"\{[^}]*\}", "x", template))
            assert match is not None and (operation, match.route.template) in listed, template
    assert all("v1.0" in r["versions"] for r in doc["routes"])
    assert doc["sources"]["v1.0"]["repository"] == "microsoftgraph/msgraph-metadata"
    assert any(limit["key"] == "upload_session_max" for limit in doc["rules"]["limits"])


def test_grep_and_version_filter_routes() -> None:
    code, out = _run("--grep", "sendMail")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["VERSIONS", "OPERATION", "NAME", "TEMPLATE"]
    assert [line.split()[2] for line in lines[1:-1]] == ["users-sendmail"]
    assert lines[-1].startswith("1 routes (v1.0: 1, beta: 1)")
    code, out = _run("--version", "v1.0", "--grep", "taskGroups")
    assert (code, out.strip()) == (0, "no route matches 'taskGroups' on v1.0")
    code, out = _run("--version", "beta", "--grep", "taskGroups")
    assert "users-outlook-taskgroups-taskfolders-tasks-attachments" in out and "deprecated" in out


def test_a_type_with_its_properties() -> None:
    code, out = _run("--type", "fileAttachment", "--version", "v1.0")
    assert code == 0
    assert out.splitlines()[:3] == [
        "microsoft.graph.fileAttachment (v1.0, entity)",
        "  base chain: attachment -> entity",
        "  abstract: no   open: no   subtypes: (none)",
    ]
    row = next(line.split() for line in out.splitlines() if line.split()[:1] == ["contentBytes"])
    assert row == ["contentBytes", "Edm.Binary", "no", "yes", "no", "yes", "fileAttachment"]
    row = next(line.split() for line in out.splitlines() if line.split()[:1] == ["id"])
    assert row == ["id", "Edm.String", "no", "no", "yes", "no", "entity"]


def test_a_type_differs_by_version_in_json() -> None:
    code, out = _run("--type", "#microsoft.graph.referenceAttachment", "--format", "json")
    assert code == 0
    by_version = {t["api_version"]: {p["name"] for p in t["properties"]} for t in json.loads(out)["types"]}
    assert "sourceUrl" not in by_version["v1.0"] and "sourceUrl" in by_version["beta"]


def test_abstract_open_and_enum_types() -> None:
    code, out = _run("--type", "outlookItem", "--version", "v1.0", "--format", "json")
    (described,) = json.loads(out)["types"]
    assert described["abstract"] and not described["open"]
    assert "microsoft.graph.mailboxItem" in described["subtypes"]
    code, out = _run("--type", "message", "--version", "v1.0")
    assert "open: yes" in out and "attachments" in out and "(navigation)" in out
    code, out = _run("--type", "attachmentType")
    assert code == 0 and "members: file | item | reference" in out


def test_an_unknown_type_is_a_usage_error_with_a_hint() -> None:
    result = CliRunner().invoke(main, ["schema", "--type", "Attachmnt"])
    assert result.exit_code == 2
    assert "graphtape schema: no type 'Attachmnt'" in result.output
    result = CliRunner().invoke(main, ["schema", "--type", "attachmentitem", "--version", "v1.0"])
    assert result.exit_code == 2 and "did you mean attachmentItem" in result.output
