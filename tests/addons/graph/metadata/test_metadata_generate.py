"""The generator: its rules on a small hand-written CSDL, its errors, and the committed data
regenerated from Microsoft's CSDL byte for byte."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from graph_metadata_truth import csdl_problems, metadata_folder

from graphtape.addons.graph.metadata.errors import GraphMetadataError
from graphtape.addons.graph.metadata.generate import ENV_VAR, data_dir, generate, main

HERE = Path(__file__).resolve().parent
MINI = HERE / "data" / "mini"


@pytest.fixture(scope="module")
def mini(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The data generated from the hand-written CSDL."""
    out = tmp_path_factory.mktemp("mini")
    return generate(MINI, out)["v1.0"]


def _templates(entries: list[dict[str, Any]], **where: str) -> set[str]:
    return {e["template"] for e in entries if all(e.get(k) == v for k, v in where.items())}


# --- the walk's rules, each exercised by one element of the hand-written CSDL ------

MINI_CREATE_ROUTES = {
    # plain containment: users -> messages -> attachments
    "/users/{user-id}/messages/{message-id}/attachments",
    # navigation on a derived type, through an optional cast
    "/users/{user-id}/messages/{message-id}[/microsoft.graph.eventMessage]/event/attachments",
    # a containment cycle becomes a repeat, not a fixed depth
    "/users/{user-id}/mailFolders/{mailFolder-id}(/childFolders/{mailFolder-id})*/messages/{message-id}/attachments",
    (
        "/users/{user-id}/mailFolders/{mailFolder-id}(/childFolders/{mailFolder-id})*/messages/{message-id}"
        "[/microsoft.graph.eventMessage]/event/attachments"
    ),
    "/users/{user-id}/events/{event-id}/attachments",
    "/users/{user-id}/outlook/tasks/{outlookTask-id}/attachments",
    # a single-valued self containment repeats without a key
    "/groups/{group-id}/threads/{conversationThread-id}/posts/{post-id}(/inReplyTo)*/attachments",
}


def test_mini_create_routes_follow_containment_rules(mini: dict[str, Any]) -> None:
    expected = MINI_CREATE_ROUTES | {
        t.replace("/users/{user-id}", "/me") for t in MINI_CREATE_ROUTES if t.startswith("/users/")
    }
    assert _templates(mini["routes"], operation="create") == expected


@pytest.mark.parametrize(
    ("absent", "why"),
    [
        ("calendarView", "IndexableByKey=false: no key may follow"),
        ("exceptionOccurrences", "Navigability None (inline) beats Single (out of line)"),
        ("joinedGroups", "containment into a type the container serves on its own"),
        ("manager", "not containment"),
        ("/item/", "walks stop at attachments"),
    ],
)
def test_mini_walk_does_not_go_where_the_metadata_forbids(mini: dict[str, Any], absent: str, why: str) -> None:
    offenders = [e["template"] for e in (*mini["routes"], *mini["inline_carriers"]) if absent in e["template"]]
    assert offenders == [], why


def test_mini_upload_session_routes_mirror_create_routes(mini: dict[str, Any]) -> None:
    creates = _templates(mini["routes"], operation="create")
    uploads = _templates(mini["routes"], operation="createUploadSession")
    assert uploads == {f"{t}/createUploadSession" for t in creates}


def test_mini_deprecation_comes_from_core_revisions(mini: dict[str, Any]) -> None:
    deprecated = {r["template"] for r in mini["routes"] if r["deprecated"]}
    assert deprecated == {t for t in _templates(mini["routes"]) if "/outlook/" in t}
    assert mini["deprecations"]["microsoft.graph.user/outlook"]["removal_date"] == "2023-02-20"


def test_mini_inline_carriers(mini: dict[str, Any]) -> None:
    found = {
        (c["kind"], c["template"], tuple(a["path"] for a in c["attachments"]))
        for c in mini["inline_carriers"]
        if not c["template"].startswith("/me/")
    }
    assert found == {
        ("action", "/users/{user-id}/sendMail", ("$.Message.attachments",)),
        ("action", "/groups/{group-id}/threads/{conversationThread-id}/reply", ("$.Post.attachments",)),
        ("create", "/users/{user-id}/messages", ("$.attachments",)),
        (
            "create",
            "/users/{user-id}/mailFolders/{mailFolder-id}(/childFolders/{mailFolder-id})*/messages",
            ("$.attachments",),
        ),
        ("create", "/users/{user-id}/events", ("$.attachments",)),
        ("create", "/users/{user-id}/outlook/tasks", ("$.attachments",)),
        # posts cannot be POSTed on their own (Insertable=false), so they travel in the thread
        ("create", "/groups/{group-id}/threads", ("$.posts[*].attachments",)),
    }


def test_mini_types_are_the_reachable_closure(mini: dict[str, Any]) -> None:
    assert set(mini["types"]) == {
        f"microsoft.graph.{name}"
        for name in (
            # attachment types and upload-session shapes, with what they reference
            "attachment",
            "fileAttachment",
            "itemAttachment",
            "attachmentBase",
            "attachmentItem",
            "attachmentInfo",
            "attachmentType",
            "uploadSession",
            # what an itemAttachment's item may be, and the route owners
            "outlookItem",
            "message",
            "eventMessage",
            "event",
            "post",
            "outlookTask",
            "itemBody",
            # a carrier's body type, and everyone's base
            "conversationThread",
            "entity",
        )
    }


def test_mini_type_entries_keep_csdl_facts(mini: dict[str, Any]) -> None:
    types = mini["types"]
    assert types["microsoft.graph.attachment"]["properties"]["size"] == {
        "type": "Edm.Int32",
        "nullable": False,
        "computed": True,
    }
    assert types["microsoft.graph.message"]["open"] is True
    assert types["microsoft.graph.outlookItem"]["properties"]["categories"] == {
        "type": "Edm.String",
        "collection": True,
        "nullable": True,
    }
    assert types["microsoft.graph.post"]["navigation"]["inReplyTo"] == {
        "type": "microsoft.graph.post",
        "containment": True,
        "nullable": True,
    }
    assert types["microsoft.graph.attachmentType"] == {
        "kind": "enum",
        "members": {"file": 0, "item": 1},
        "flags": False,
    }


def test_mini_source_is_read_from_the_readme(mini: dict[str, Any]) -> None:
    source = mini["source"]
    assert source["commit"] == "0123456789abcdef0123456789abcdef01234567"
    assert source["commit_date"] == "2026-01-01"
    assert source["repository"] == "microsoftgraph/msgraph-metadata"
    assert source["upstream_file"] == "fixtures/mini.csdl.xml"
    assert len(source["sha256"]) == 64


def test_generation_is_deterministic(tmp_path: Path) -> None:
    first = generate(MINI, tmp_path / "a")
    generate(MINI, tmp_path / "b")
    assert (tmp_path / "a" / "v1.0.json").read_bytes() == (tmp_path / "b" / "v1.0.json").read_bytes()
    assert json.loads((tmp_path / "a" / "v1.0.json").read_text(encoding="utf-8")) == first["v1.0"]
    assert not (tmp_path / "a" / "beta.json").exists()  # no beta input, no beta output


# --- errors: named file and spot, no traceback from the command --------------------


def _copy_mini(tmp_path: Path) -> Path:
    folder = tmp_path / "csdl"
    shutil.copytree(MINI, folder)
    return folder


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda d: (d / "v1.0.csdl.xml").unlink(), "v1.0.csdl.xml: file not found"),
        (
            lambda d: (d / "v1.0.csdl.xml").write_text("<edmx:Edmx>\n  <oops>\n</edmx:Edmx>\n", encoding="utf-8"),
            "v1.0.csdl.xml: line 1, column 0: not well-formed XML",
        ),
        (
            lambda d: (d / "README.md").unlink(),
            "README.md: no metadata commit found",
        ),
        (
            lambda d: (d / "v1.0.csdl.xml").write_text(
                (MINI / "v1.0.csdl.xml").read_text(encoding="utf-8").replace('<Property Name="subject" ', "<Property "),
                encoding="utf-8",
            ),
            "v1.0.csdl.xml: Property of microsoft.graph.message: missing attribute Name",
        ),
        (
            lambda d: (d / "v1.0.csdl.xml").write_text(
                (MINI / "v1.0.csdl.xml").read_text(encoding="utf-8").replace('Name="uploadSession"', 'Name="gone"'),
                encoding="utf-8",
            ),
            "structured type microsoft.graph.uploadSession is not defined",
        ),
    ],
    ids=["missing-file", "bad-xml", "no-commit", "missing-attribute", "missing-type"],
)
def test_generator_errors_name_the_file_and_spot(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], damage: Any, message: str
) -> None:
    folder = _copy_mini(tmp_path)
    damage(folder)
    with pytest.raises(GraphMetadataError, match=message.replace("(", r"\(").replace(")", r"\)")):
        generate(folder, tmp_path / "out")
    assert main(["--csdl", str(folder), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_commit_option_replaces_a_missing_readme(tmp_path: Path) -> None:
    folder = _copy_mini(tmp_path)
    (folder / "README.md").unlink()
    data = generate(folder, tmp_path / "out", commit="f" * 40, repository="example/metadata")
    assert data["v1.0"]["source"]["commit"] == "f" * 40
    assert data["v1.0"]["source"]["repository"] == "example/metadata"
    assert "upstream_file" not in data["v1.0"]["source"]


def test_command_reads_the_folder_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(ENV_VAR, str(MINI))
    assert main(["--out", str(tmp_path)]) == 0
    assert "v1.0: 17 types" in capsys.readouterr().out
    monkeypatch.delenv(ENV_VAR)
    with pytest.raises(SystemExit) as exit_info:
        main(["--out", str(tmp_path)])
    assert exit_info.value.code == 2
    assert f"--csdl is required when {ENV_VAR} is not set" in capsys.readouterr().err


# --- the committed data, regenerated from Microsoft's CSDL -------------------------


def test_committed_data_is_what_microsofts_csdl_says(tmp_path: Path) -> None:
    """The one test that reads Microsoft's CSDL (outside the repository): the committed data
    regenerates byte for byte, the facts table's CSDL rows hold in the CSDL text, and every
    step of every generated URL is a containment navigation the CSDL text declares."""
    folder = metadata_folder()
    if not (folder / "v1.0.csdl.xml").is_file():
        pytest.skip(
            f"MICROSOFT CSDL NOT FOUND at {folder}: the committed Graph data was NOT checked against it "
            f"(set {ENV_VAR} to the folder holding v1.0.csdl.xml)"
        )
    written = generate(folder, tmp_path)
    assert set(written) == {path.stem for path in data_dir().glob("*.json")}
    for api_version in written:
        name = f"{api_version}.json"
        fresh = (tmp_path / name).read_bytes()
        committed = (data_dir() / name).read_bytes()
        assert fresh == committed, (
            f"{name} differs from what the CSDL in {folder} generates: run "
            f"python -m graphtape.addons.graph.metadata.generate --csdl {folder}"
        )
    assert csdl_problems(folder) == []
