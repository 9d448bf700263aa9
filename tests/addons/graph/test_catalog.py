"""What ``graphtape schema`` shows, as data: routes by version and substring, types with their rules."""

from __future__ import annotations

import pytest

from graphtape.addons.graph.catalog import (
    UnknownTypeError,
    describe_route,
    describe_type,
    describe_types,
    find_routes,
    rules,
    sources,
)


def test_find_routes_filters_by_version_and_substring() -> None:
    assert [r.name for r in find_routes("v1.0", "OUTLOOK")] == []  # v1.0's metadata has no Outlook tasks
    assert len(find_routes("beta", "outlook")) > 0
    names = [r.name for r in find_routes(None, "createUploadSession")]
    assert names == sorted(names) and all(n.endswith("createuploadsession") for n in names)


def test_describe_route() -> None:
    (route,) = [r for r in find_routes("v1.0", "/users/{user-id}/sendMail")]
    assert describe_route(route) == {
        "name": "users-sendmail", "operation": "inlineAction", "versions": ["v1.0", "beta"],
        "template": "/users/{user-id}/sendMail", "container": "message", "base_type": "attachment",
        "placeholders": ["user-id"], "deprecated": False, "deprecation": None, "action": "microsoft.graph.sendMail",
        "body_type": None, "attachment_paths": ["$.Message.attachments"],
    }


def test_describe_type_carries_the_rules_that_apply() -> None:
    described = describe_type("taskFileAttachment", "v1.0")
    assert described is not None
    assert described["base_chain"] == ["microsoft.graph.attachmentBase", "microsoft.graph.entity"]
    assert {(r["kind"], r["type"]) for r in described["rules"]} == {("read-only", "attachmentBase"),
                                                                   ("required-on-create", "taskFileAttachment")}
    assert describe_type("outlookTask", "v1.0") is None
    assert [d["api_version"] for d in describe_types("outlookTask")] == ["beta"]
    with pytest.raises(UnknownTypeError, match="did you mean"):
        describe_types("attachmentitem", "v1.0")


def test_sources_and_rules() -> None:
    assert set(sources()) == {"v1.0", "beta"}
    assert {row["key"] for row in rules()["limits"]} >= {"inline_file", "upload_session_max", "upload_chunk"}
