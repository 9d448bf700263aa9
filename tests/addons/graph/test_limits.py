"""The hand-written rules: each row cites the Microsoft page it comes from, and everything else
imports its limits from this one table (old names stay importable)."""

from __future__ import annotations

from graphtape.addons.graph import limits, upload_ranges, validation
from graphtape.addons.graph.limits import (
    LIMITS,
    PROPERTY_RULES,
    STATUS_RULES,
    read_only_properties,
    required_on_create,
    success_statuses,
)
from graphtape.addons.graph.metadata import load_schema

MB = 1024 * 1024


def test_every_row_cites_a_microsoft_page() -> None:
    sources = [row.source for row in (*LIMITS, *PROPERTY_RULES, *STATUS_RULES)]
    assert all(source.startswith("https://learn.microsoft.com/") for source in sources), sources


def test_the_limits_graph_documents() -> None:
    # message-post-attachments: under 3 MB; attachment-createuploadsession: 3 MB to 150 MB, up to 4 MB a
    # chunk; taskfileattachment-createuploadsession: up to 25 MB.
    assert (limits.MAX_FILE_BYTES, limits.MAX_REQUEST_BYTES) == (3 * MB, 4 * MB)
    assert (limits.UPLOAD_SESSION_MIN_BYTES, limits.UPLOAD_SESSION_MAX_BYTES) == (3 * MB, 150 * MB)
    assert (limits.TODO_UPLOAD_SESSION_MAX_BYTES, limits.MAX_CHUNK_BYTES) == (25 * MB, 4 * MB)


def test_old_names_are_the_same_numbers() -> None:
    assert validation.MAX_FILE_BYTES is limits.MAX_FILE_BYTES
    assert validation.MAX_REQUEST_BYTES is limits.MAX_REQUEST_BYTES
    assert upload_ranges.MAX_CHUNK_BYTES is limits.MAX_CHUNK_BYTES


def test_property_rules_name_real_properties() -> None:
    for rule in PROPERTY_RULES:
        for version in rule.versions:
            schema = load_schema(version)
            assert rule.properties <= set(schema.all_properties(rule.type)), (rule.type, version)


def test_rules_by_type() -> None:
    assert read_only_properties(("fileAttachment", "attachment", "entity"), ("v1.0",)) == {"id"}
    assert read_only_properties("message", ("v1.0",)) == frozenset()
    assert required_on_create("referenceAttachment", "v1.0") == frozenset()
    assert required_on_create("referenceAttachment", "beta") == {"name", "sourceUrl"}
    assert required_on_create("attachmentInfo", "v1.0") == {"attachmentType", "name", "size"}
    assert success_statuses("create", "message") == (201,)
    assert success_statuses("createUploadSession", "todoTask") == (200, 201)
    assert success_statuses("inlineAction", "message") == (202,)
