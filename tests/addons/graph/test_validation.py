"""Findings for attachment requests and responses, from real and broken examples."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graphtape.addons.graph.routes import RouteMatch, match_route
from graphtape.addons.graph.validation import (
    MAX_FILE_BYTES,
    describe_value,
    json_path,
    parse_json_body,
    validate_json_body,
    validate_request,
    validate_response,
)
from graphtape.cassettes.findings import Finding, Severity

SEED = Path(__file__).resolve().parents[2] / "fixtures" / "seed-create-attachments.md"  # the project's seed page
JSON = {"Content-Type": "application/json"}
GRAPH_JSON = {
    "Content-Type": "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"
}

MESSAGE_V1 = "/v1.0/me/messages/AAMkAGI2THVSAAA%3D/attachments"
MESSAGE_BETA = "/beta/users/{usersId}/messages/{messageId}/attachments"
EVENT_V1 = "/v1.0/users/u1/events/e1/attachments"
TODO_V1 = "/v1.0/me/todo/lists/l1/tasks/t1/attachments"
OUTLOOK_TASK_BETA = "/beta/me/outlook/tasks/t1/attachments"
UPLOAD_V1 = "/v1.0/me/messages/m1/attachments/createUploadSession"
TODO_UPLOAD_V1 = "/v1.0/me/todo/lists/l1/tasks/t1/attachments/createUploadSession"

CLEAN_FILE = {
    "@odata.type": "#microsoft.graph.fileAttachment",
    "name": "a.txt",
    "contentType": "text/plain",
    "contentBytes": "SGVsbG8=",
}


def _route(path: str) -> RouteMatch:
    match = match_route("POST", path)
    assert match is not None, path
    return match


def _body(data: Any) -> bytes:
    return data if isinstance(data, bytes) else json.dumps(data).encode()


def _codes(findings: list[Finding]) -> set[tuple[str, str, Severity]]:
    return {(f.code, f.path, f.severity) for f in findings}


def _loud(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity is not Severity.INFO]


# The seed page's example bodies, verbatim (its own table says size is an Int32).
SEED_REQUEST = b"""{
  "@odata.type": "#microsoft.graph.attachment",
  "name": "String",
  "contentType": "String",
  "size": "Integer",
  "isInline": "Boolean"
}"""
SEED_RESPONSE = b"""{
  "@odata.type": "#microsoft.graph.attachment",
  "id": "6c1aa742-a742-6c1a-42a7-1a6c42a71a6c",
  "lastModifiedDateTime": "String (timestamp)",
  "name": "String",
  "contentType": "String",
  "size": "Integer",
  "isInline": "Boolean"
}"""


def _seed_example(kind: str) -> bytes:
    """The JSON body of the seed page's example request or response."""
    body = SEED_REQUEST if kind == "request" else SEED_RESPONSE
    assert body.decode() in SEED.read_text()  # the copy above is the page's, character for character
    return body


class CaseInsensitiveHeaders(Mapping[str, str]):
    """Stands in for mitmproxy's Headers: any mapping must do."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self._pairs = pairs

    def __getitem__(self, key: str) -> str:
        for k, v in self._pairs:
            if k.lower() == key.lower():
                return v
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return (k for k, _ in self._pairs)

    def __len__(self) -> int:
        return len(self._pairs)


# --- the seed page and a real client ---------------------------------------------------


def test_seed_request_example_is_caught() -> None:
    findings = validate_request(_route(MESSAGE_BETA), "POST", JSON, _seed_example("request"))
    assert _codes(findings) == {
        ("abstract-odata-type", "$.@odata.type", Severity.ERROR),
        ("wrong-type", "$.size", Severity.ERROR),
        ("wrong-type", "$.isInline", Severity.ERROR),
    }
    size = next(f for f in findings if f.code == "wrong-type" and f.path == "$.size")
    assert (size.expected, size.seen, size.where) == ("Int32", 'string "Integer"', "request")
    inline = next(f for f in findings if f.path == "$.isInline")
    assert (inline.expected, inline.seen) == ("Boolean", 'string "Boolean"')


def test_seed_response_example_is_caught() -> None:
    findings = validate_response(_route(MESSAGE_BETA), 201, JSON, _seed_example("response"))
    assert _codes(findings) == {
        ("abstract-odata-type", "$.@odata.type", Severity.ERROR),
        ("wrong-type", "$.lastModifiedDateTime", Severity.ERROR),
        ("wrong-type", "$.size", Severity.ERROR),
        ("wrong-type", "$.isInline", Severity.ERROR),
    }


@pytest.mark.parametrize("path", [MESSAGE_V1, MESSAGE_BETA, EVENT_V1, OUTLOOK_TASK_BETA.replace("outlook/tasks", "events")])
def test_clean_sdk_body_has_no_errors_or_warnings(path: str) -> None:
    headers = CaseInsensitiveHeaders([("content-type", "application/json"), ("Authorization", "Bearer x")])
    assert _loud(validate_request(_route(path), "POST", headers, _body(CLEAN_FILE))) == []


# --- request findings, one real case per code ----------------------------------------------

BIG_FILE = base64.b64encode(b"\0" * (MAX_FILE_BYTES + 1)).decode()

# (case id, route path, headers, body, expected (code, path, severity) among the findings)
REQUEST_CASES: list[tuple[str, str, dict[str, str], Any, tuple[str, str, Severity]]] = [
    ("no-type", MESSAGE_V1, JSON, {"name": "a.txt", "contentBytes": "SGVsbG8="}, ("missing-odata-type", "$.@odata.type", Severity.ERROR)),
    ("unknown-type", MESSAGE_V1, JSON, {**CLEAN_FILE, "@odata.type": "#microsoft.graph.driveItem"}, ("unknown-odata-type", "$.@odata.type", Severity.ERROR)),
    ("case-of-type", MESSAGE_V1, JSON, {**CLEAN_FILE, "@odata.type": "#microsoft.graph.FileAttachment"}, ("odata-type-case", "$.@odata.type", Severity.WARNING)),
    ("abstract", MESSAGE_V1, JSON, {**CLEAN_FILE, "@odata.type": "#microsoft.graph.attachment"}, ("abstract-odata-type", "$.@odata.type", Severity.ERROR)),
    ("abstract-todo", TODO_V1, JSON, {"@odata.type": "#microsoft.graph.attachmentBase", "name": "a"}, ("abstract-odata-type", "$.@odata.type", Severity.ERROR)),
    ("file-on-todo", TODO_V1, JSON, CLEAN_FILE, ("odata-type-not-allowed-on-route", "$.@odata.type", Severity.ERROR)),
    ("taskfile-on-message", MESSAGE_V1, JSON, {**CLEAN_FILE, "@odata.type": "#microsoft.graph.taskFileAttachment"}, ("odata-type-not-allowed-on-route", "$.@odata.type", Severity.ERROR)),
    ("size-string", MESSAGE_V1, JSON, {**CLEAN_FILE, "size": "5"}, ("wrong-type", "$.size", Severity.ERROR)),
    ("size-range", MESSAGE_V1, JSON, {**CLEAN_FILE, "size": 2**31}, ("wrong-type", "$.size", Severity.ERROR)),
    ("inline-True", MESSAGE_V1, JSON, {**CLEAN_FILE, "isInline": "True"}, ("wrong-type", "$.isInline", Severity.ERROR)),
    ("inline-1", MESSAGE_V1, JSON, {**CLEAN_FILE, "isInline": 1}, ("wrong-type", "$.isInline", Severity.ERROR)),
    ("type-not-string", MESSAGE_V1, JSON, {**CLEAN_FILE, "@odata.type": 7}, ("wrong-type", "$.@odata.type", Severity.ERROR)),
    ("bad-base64", MESSAGE_V1, JSON, {**CLEAN_FILE, "contentBytes": "SGVsbG8"}, ("invalid-base64", "$.contentBytes", Severity.ERROR)),
    # The published To Do example's own contentBytes: 13 characters, not base64.
    ("todo-doc-example", TODO_V1, JSON, {"@odata.type": "#microsoft.graph.taskFileAttachment", "name": "smile", "contentBytes": "a0b1c76de9f7="}, ("invalid-base64", "$.contentBytes", Severity.ERROR)),
    ("base64url", TODO_V1, JSON, {"@odata.type": "#microsoft.graph.taskFileAttachment", "name": "a", "contentBytes": "_-8="}, ("invalid-base64", "$.contentBytes", Severity.ERROR)),
    ("id-sent", MESSAGE_V1, JSON, {**CLEAN_FILE, "id": "AAMk="}, ("read-only-property", "$.id", Severity.WARNING)),
    ("no-content", MESSAGE_V1, JSON, {"@odata.type": "#microsoft.graph.fileAttachment", "name": "a.txt"}, ("missing-required-property", "$.contentBytes", Severity.ERROR)),
    ("null-name", MESSAGE_V1, JSON, {**CLEAN_FILE, "name": None}, ("missing-required-property", "$.name", Severity.ERROR)),
    ("no-item", EVENT_V1, JSON, {"@odata.type": "#microsoft.graph.itemAttachment", "name": "x"}, ("missing-required-property", "$.item", Severity.ERROR)),
    ("no-source", MESSAGE_BETA, JSON, {"@odata.type": "#microsoft.graph.referenceAttachment", "name": "x"}, ("missing-required-property", "$.sourceUrl", Severity.ERROR)),
    ("todo-null-content", TODO_V1, JSON, {"@odata.type": "#microsoft.graph.taskFileAttachment", "name": "a", "contentBytes": None}, ("wrong-type", "$.contentBytes", Severity.ERROR)),
    ("enum", MESSAGE_BETA, JSON, {"@odata.type": "#microsoft.graph.referenceAttachment", "name": "x", "sourceUrl": "https://x", "permission": "Edit"}, ("enum-value", "$.permission", Severity.WARNING)),
    ("provider", MESSAGE_BETA, JSON, {"@odata.type": "#microsoft.graph.referenceAttachment", "name": "x", "sourceUrl": "https://x", "providerType": "box"}, ("enum-value", "$.providerType", Severity.ERROR)),
    ("sourceUrl-on-file", MESSAGE_BETA, JSON, {**CLEAN_FILE, "sourceUrl": "https://contoso.sharepoint.com/a.txt"}, ("unknown-property", "$.sourceUrl", Severity.ERROR)),
    ("sourceUrl-v1", MESSAGE_V1, JSON, {"@odata.type": "#microsoft.graph.referenceAttachment", "name": "x", "sourceUrl": "https://x"}, ("unknown-property", "$.sourceUrl", Severity.ERROR)),
    ("isInline-on-todo", TODO_V1, JSON, {"@odata.type": "#microsoft.graph.taskFileAttachment", "name": "a", "contentBytes": "SGVsbG8=", "isInline": False}, ("unknown-property", "$.isInline", Severity.ERROR)),
    ("pascal-case", MESSAGE_V1, JSON, {**CLEAN_FILE, "ContentId": "cid"}, ("unknown-property", "$.ContentId", Severity.ERROR)),
    ("item-no-type", EVENT_V1, JSON, {"@odata.type": "#microsoft.graph.itemAttachment", "name": "x", "item": {"subject": "s"}}, ("missing-odata-type", "$.item.@odata.type", Severity.ERROR)),
    ("item-bad-type", EVENT_V1, JSON, {"@odata.type": "#microsoft.graph.itemAttachment", "name": "x", "item": {"@odata.type": "microsoft.graph.user"}}, ("unknown-odata-type", "$.item.@odata.type", Severity.ERROR)),
    ("item-not-object", EVENT_V1, JSON, {"@odata.type": "#microsoft.graph.itemAttachment", "name": "x", "item": "x"}, ("wrong-type", "$.item", Severity.ERROR)),
    ("big-file", MESSAGE_V1, JSON, {**CLEAN_FILE, "contentBytes": BIG_FILE}, ("file-too-large", "$.contentBytes", Severity.ERROR)),
    ("text-plain", MESSAGE_V1, {"Content-Type": "text/plain"}, CLEAN_FILE, ("non-json-content-type", "$headers.content-type", Severity.ERROR)),
    ("no-content-type", MESSAGE_V1, {}, CLEAN_FILE, ("non-json-content-type", "$headers.content-type", Severity.ERROR)),
    ("not-utf8", MESSAGE_V1, JSON, b"\xff\xfe{}", ("invalid-json", "$body", Severity.ERROR)),
    ("not-json", MESSAGE_V1, JSON, b"name=a.txt", ("invalid-json", "$body", Severity.ERROR)),
    ("nan", MESSAGE_V1, JSON, b'{"size": NaN}', ("invalid-json", "$body", Severity.ERROR)),
    ("empty", MESSAGE_V1, JSON, b"", ("invalid-json", "$body", Severity.ERROR)),
    ("list", MESSAGE_V1, JSON, [CLEAN_FILE], ("body-not-object", "$", Severity.ERROR)),
    ("null", MESSAGE_V1, JSON, b"null", ("body-not-object", "$", Severity.ERROR)),
    ("deprecated", OUTLOOK_TASK_BETA, JSON, CLEAN_FILE, ("deprecated-route", "$route", Severity.INFO)),
    ("upload-bad", UPLOAD_V1, JSON, {"AttachmentItem": {"attachmentType": "file", "name": "a.pdf", "size": "3483322"}}, ("wrong-type", "$.AttachmentItem.size", Severity.ERROR)),
    ("upload-missing", TODO_UPLOAD_V1, JSON, {"attachmentInfo": {"attachmentType": "file", "size": 5}}, ("missing-required-property", "$.attachmentInfo.name", Severity.ERROR)),
]


@pytest.mark.parametrize(
    ("path", "headers", "body", "expected"),
    [case[1:] for case in REQUEST_CASES],
    ids=[case[0] for case in REQUEST_CASES],
)
def test_request_finding(path: str, headers: dict[str, str], body: Any, expected: tuple[str, str, Severity]) -> None:
    findings = validate_request(_route(path), "POST", headers, _body(body))
    assert expected in _codes(findings), [str(f) for f in findings]
    assert all(f.where == "request" for f in findings)
    assert all(len(f.seen) <= 100 for f in findings)


@pytest.mark.parametrize(
    "body",
    [
        {"AttachmentItem": {"attachmentType": "file", "name": "flower.jpg", "size": 3483322}},
        {"attachmentItem": {"attachmentType": "file", "name": "a.pdf", "size": 3483322, "isInline": False, "contentId": None}},
    ],
)
def test_clean_upload_session_request(body: Any) -> None:
    assert _loud(validate_request(_route(UPLOAD_V1), "POST", JSON, _body(body))) == []


def test_clean_bodies_of_every_subtype_validate_clean() -> None:
    cases = [
        (EVENT_V1, {"@odata.type": "#microsoft.graph.itemAttachment", "name": "Holiday event", "item": {"@odata.type": "microsoft.graph.event", "subject": "Discuss gifts"}}),
        (MESSAGE_BETA, {"@odata.type": "#microsoft.graph.referenceAttachment", "name": "Personal pictures", "sourceUrl": "https://contoso.com/personal/pics", "providerType": "oneDriveConsumer", "permission": "edit", "isFolder": True}),
        (TODO_V1, {"@odata.type": "#microsoft.graph.taskFileAttachment", "name": "smile", "contentBytes": "iVBORw0KGgo="}),
        (MESSAGE_V1, {**CLEAN_FILE, "isInline": True, "contentId": "img1", "@odata.mediaContentType": "text/plain"}),
    ]
    for path, body in cases:
        assert _loud(validate_request(_route(path), "POST", JSON, _body(body))) == [], body


def test_only_id_is_read_only() -> None:
    # The attachment page marks only id read-only: sending size or lastModifiedDateTime is legal.
    body = {**CLEAN_FILE, "size": 5, "isInline": False, "lastModifiedDateTime": "2020-01-01T00:00:00Z"}
    assert _loud(validate_request(_route(MESSAGE_V1), "POST", JSON, _body(body))) == []


def test_enum_case_difference_is_named() -> None:
    body = {"@odata.type": "#microsoft.graph.referenceAttachment", "name": "x", "sourceUrl": "https://x", "permission": "Edit"}
    finding = next(f for f in validate_request(_route(MESSAGE_BETA), "POST", JSON, _body(body)) if f.code == "enum-value")
    assert "differs only by case" in finding.message and "'edit'" in finding.message
    assert finding.seen == 'string "Edit"'


def test_reference_attachment_differs_by_version() -> None:
    body = {"@odata.type": "#microsoft.graph.referenceAttachment", "name": "x", "sourceUrl": "https://x", "isFolder": False}
    beta = validate_request(_route(MESSAGE_BETA), "POST", JSON, _body(body))
    v1 = validate_request(_route(MESSAGE_V1), "POST", JSON, _body(body))
    assert _loud(beta) == []
    assert {(f.code, f.path) for f in v1} == {("unknown-property", "$.sourceUrl"), ("unknown-property", "$.isFolder")}


def test_a_huge_content_bytes_is_never_echoed() -> None:
    body = {**CLEAN_FILE, "contentBytes": "!" + BIG_FILE}
    findings = validate_request(_route(MESSAGE_V1), "POST", JSON, _body(body))
    assert {"invalid-base64", "file-too-large"} <= {f.code for f in findings}
    assert all(len(f.seen) <= 100 and len(f.expected) <= 200 for f in findings)


def test_content_type_parameters_are_fine() -> None:
    findings = validate_request(_route(MESSAGE_V1), "POST", {"CONTENT-TYPE": "Application/JSON; charset=utf-8"}, _body(CLEAN_FILE))
    assert _loud(findings) == []


@pytest.mark.parametrize(
    ("match", "validate"),
    [
        (None, lambda m: validate_request(m, "POST", JSON, b"{}")),
        (None, lambda m: validate_response(m, 201, JSON, b"{}")),
        (None, lambda m: validate_json_body("request", m, {})),
    ],
)
def test_unknown_route_is_one_info_finding(match: None, validate: Any) -> None:
    findings = validate(match)
    assert [(f.code, f.severity, f.path) for f in findings] == [("unknown-route", Severity.INFO, "$route")]


def test_validate_json_body_for_an_already_parsed_body() -> None:
    findings = validate_json_body("request", _route(MESSAGE_V1), {**CLEAN_FILE, "size": "5"})
    assert ("wrong-type", "$.size", Severity.ERROR) in _codes(findings)
    response = validate_json_body(
        "response",
        _route(MESSAGE_V1),
        {"id": "x", "size": 5, "lastModifiedDateTime": None, "contentBytes": "SGVsbG8"},
        declared_type="#microsoft.graph.fileAttachment",
    )
    assert ("invalid-base64", "$.contentBytes", Severity.ERROR) in _codes(response)


# --- responses --------------------------------------------------------------------------

CREATED = {
    "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users('u')/messages('m')/attachments/$entity",
    "@odata.type": "#microsoft.graph.fileAttachment",
    "@odata.mediaContentType": "text/plain",
    "id": "AAMkADI5MAAAFVtUZdAAABEgAQACBfPOT3qrBDhE69ftBwxGY=",
    "lastModifiedDateTime": "2017-07-21T00:38:41Z",
    "name": "a.txt",
    "contentType": "text/plain",
    "size": 5,
    "isInline": False,
    "contentId": None,
    "contentLocation": None,
    "contentBytes": "SGVsbG8=",
}
NO_TYPE = {k: v for k, v in CREATED.items() if k != "@odata.type"}

# (case id, route path, status, headers, body, request body, expected (code, path, severity))
RESPONSE_CASES: list[tuple[str, str, int, dict[str, str], Any, Any, tuple[str, str, Severity] | None]] = [
    ("clean", MESSAGE_V1, 201, GRAPH_JSON, CREATED, None, None),
    ("no-type", MESSAGE_V1, 201, JSON, NO_TYPE, CLEAN_FILE, ("missing-odata-type", "$.@odata.type", Severity.INFO)),
    ("no-type-inferred-bad", MESSAGE_V1, 201, JSON, {**NO_TYPE, "contentBytes": "SGVsbG8"}, None, ("invalid-base64", "$.contentBytes", Severity.ERROR)),
    ("no-type-declared", MESSAGE_BETA, 201, JSON, {**NO_TYPE, "sourceUrl": "https://x"}, CLEAN_FILE, ("unknown-property", "$.sourceUrl", Severity.WARNING)),
    ("new-property", MESSAGE_V1, 201, JSON, {**CREATED, "sensitivityLabel": "general"}, None, ("unknown-property", "$.sensitivityLabel", Severity.WARNING)),
    ("size-string", MESSAGE_V1, 201, JSON, {**CREATED, "size": "5"}, None, ("wrong-type", "$.size", Severity.ERROR)),
    ("no-id", MESSAGE_V1, 201, JSON, {k: v for k, v in CREATED.items() if k != "id"}, None, ("missing-required-property", "$.id", Severity.ERROR)),
    ("no-size", MESSAGE_V1, 201, JSON, {k: v for k, v in CREATED.items() if k != "size"}, None, ("missing-required-property", "$.size", Severity.ERROR)),
    ("file-props-on-reference", MESSAGE_BETA, 201, JSON, {**CREATED, "@odata.type": "#microsoft.graph.referenceAttachment"}, None, ("unknown-property", "$.contentBytes", Severity.WARNING)),
    ("new-enum", MESSAGE_BETA, 201, JSON, {**{k: v for k, v in CREATED.items() if not k.startswith("content")}, "@odata.type": "#microsoft.graph.referenceAttachment", "permission": "restrictedView"}, None, ("enum-value", "$.permission", Severity.ERROR)),
    ("200", MESSAGE_V1, 200, JSON, CREATED, None, ("unexpected-success-status", "$status", Severity.ERROR)),
    ("204", MESSAGE_V1, 204, {}, b"", None, ("unexpected-success-status", "$status", Severity.ERROR)),
    ("302", MESSAGE_V1, 302, {}, b"", None, ("unexpected-status", "$status", Severity.WARNING)),
    ("html", MESSAGE_V1, 201, {"Content-Type": "text/html"}, CREATED, None, ("non-json-content-type", "$headers.content-type", Severity.ERROR)),
    ("html-body", MESSAGE_V1, 201, {"Content-Type": "text/html"}, b"<html>", None, ("invalid-json", "$body", Severity.ERROR)),
    ("empty-201", MESSAGE_V1, 201, JSON, b"", None, ("invalid-json", "$body", Severity.ERROR)),
    ("array", MESSAGE_V1, 201, JSON, [CREATED], None, ("body-not-object", "$", Severity.ERROR)),
    ("error-ok", MESSAGE_V1, 422, JSON, {"error": {"code": "UnprocessableType", "message": "Cannot process input of abstract type 'microsoft.graph.attachment'", "innerError": {"date": "2020-01-01T00:00:00", "request-id": "r", "client-request-id": "c"}}}, None, None),
    ("error-429", MESSAGE_V1, 429, JSON, {"error": {"code": "TooManyRequests", "message": "Too many requests"}}, None, None),
    ("error-no-message", MESSAGE_V1, 400, JSON, {"error": {"code": "BadRequest"}}, None, ("error-envelope", "$.error.message", Severity.WARNING)),
    ("error-flat", MESSAGE_V1, 400, JSON, {"code": "BadRequest", "message": "x"}, None, ("error-envelope", "$.error", Severity.WARNING)),
    ("error-html", MESSAGE_V1, 502, {"Content-Type": "text/html"}, b"<html>Bad gateway</html>", None, ("error-envelope", "$body", Severity.WARNING)),
    ("upload-ok", UPLOAD_V1, 201, JSON, {"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#microsoft.graph.uploadSession", "uploadUrl": "https://outlook.office.com/api/v2.0/x?authtoken=e", "expirationDateTime": "2019-09-25T01:09:30.7671707Z", "nextExpectedRanges": ["0-"]}, None, None),
    ("upload-nullable", UPLOAD_V1, 201, JSON, {"uploadUrl": "https://x", "nextExpectedRanges": ["0-"]}, None, None),
    ("upload-bad-url", UPLOAD_V1, 201, JSON, {"uploadUrl": 5, "nextExpectedRanges": ["0-"]}, None, ("wrong-type", "$.uploadUrl", Severity.ERROR)),
]


@pytest.mark.parametrize(
    ("path", "status", "headers", "body", "request_body", "expected"),
    [case[1:] for case in RESPONSE_CASES],
    ids=[case[0] for case in RESPONSE_CASES],
)
def test_response_finding(
    path: str,
    status: int,
    headers: dict[str, str],
    body: Any,
    request_body: Any,
    expected: tuple[str, str, Severity] | None,
) -> None:
    findings = validate_response(
        _route(path), status, headers, _body(body), None if request_body is None else _body(request_body)
    )
    if expected is None:
        assert _loud(findings) == [], [str(f) for f in findings]
    else:
        assert expected in _codes(findings), [str(f) for f in findings]
    assert all(f.where == "response" for f in findings)


def test_response_without_type_uses_the_request_type() -> None:
    # Without the request, contentBytes + sourceUrl fit no single subtype: nothing is
    # said about sourceUrl; with a fileAttachment request, sourceUrl is drift.
    body = _body({**NO_TYPE, "sourceUrl": "https://x"})
    without = validate_response(_route(MESSAGE_BETA), 201, JSON, body)
    with_request = validate_response(_route(MESSAGE_BETA), 201, JSON, body, _body(CLEAN_FILE))
    assert "unknown-property" not in {f.code for f in without}
    assert ("unknown-property", "$.sourceUrl", Severity.WARNING) in _codes(with_request)


# --- never raise ------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5),
    max_leaves=20,
)
attachment_keys = st.sampled_from(
    ["@odata.type", "name", "size", "isInline", "contentBytes", "item", "sourceUrl", "permission", "id", "x@odata.y", "AttachmentItem"]
)
attachment_like = st.dictionaries(
    attachment_keys,
    json_values
    | st.sampled_from(
        [
            "#microsoft.graph.fileAttachment",
            "#microsoft.graph.itemAttachment",
            "#microsoft.graph.referenceAttachment",
            "#microsoft.graph.taskFileAttachment",
            "#microsoft.graph.attachment",
            "SGVsbG8=",
        ]
    ),
    max_size=6,
)
ROUTE_PATHS = [MESSAGE_V1, MESSAGE_BETA, EVENT_V1, TODO_V1, OUTLOOK_TASK_BETA, UPLOAD_V1, TODO_UPLOAD_V1]
header_maps = st.sampled_from([{}, JSON, {"content-type": "text/plain"}, GRAPH_JSON])


def _assert_well_formed(findings: list[Finding]) -> None:
    assert isinstance(findings, list)
    for finding in findings:
        assert isinstance(finding, Finding)
        assert finding.code != "validator-error", str(finding)
        assert len(finding.seen) <= 100


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    body=st.binary(max_size=200),
    path=st.sampled_from([*ROUTE_PATHS, "/v1.0/me/nothing"]),
    status=st.sampled_from([100, 200, 201, 204, 301, 400, 404, 422, 500]),
    headers=header_maps,
)
def test_never_raises_on_arbitrary_bytes(body: bytes, path: str, status: int, headers: dict[str, str]) -> None:
    match = match_route("POST", path)
    _assert_well_formed(validate_request(match, "POST", headers, body))
    _assert_well_formed(validate_response(match, status, headers, body, body))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=json_values | attachment_like,
    path=st.sampled_from(ROUTE_PATHS),
    status=st.sampled_from([200, 201, 400]),
)
def test_never_raises_on_arbitrary_json(data: Any, path: str, status: int) -> None:
    match = _route(path)
    body = json.dumps(data).encode()
    _assert_well_formed(validate_request(match, "POST", JSON, body))
    _assert_well_formed(validate_response(match, status, JSON, body, body))
    _assert_well_formed(validate_json_body("response", match, data, declared_type="#microsoft.graph.fileAttachment"))


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100 + b"]" * 100,
        b'{"@odata.type":"#microsoft.graph.itemAttachment","name":"x","item":' + b'{"a":' * 100 + b"1" + b"}" * 101,
        b"[" * 100_000 + b"]" * 100_000,
        b'{"size": ' + b"9" * 5000 + b"}",
        b'{"size": 1e400}',
        b'{"size": -0.0, "isInline": 1.5}',
        b'{"name": "' + b"x" * (5 * 1024 * 1024) + b'"}',
        b'{"@odata.type": "' + b"#" * 10_000 + b'"}',
        b'{"a": 1, "a": 2}',
        b"\xef\xbb\xbf{}",
        b"\x00" * 64,
    ],
    ids=["nested-100", "item-nested-100", "nested-100000", "huge-int", "huge-float", "odd-numbers", "5MB-string", "long-type", "dup-keys", "bom", "nul"],
)
def test_never_raises_on_hostile_bodies(body: bytes) -> None:
    for path in (MESSAGE_V1, UPLOAD_V1):
        match = _route(path)
        _assert_well_formed(validate_request(match, "POST", JSON, body))
        for status in (201, 400):
            _assert_well_formed(validate_response(match, status, JSON, body, body))


def test_huge_integer_is_reported_as_wrong_type() -> None:
    findings = validate_request(_route(MESSAGE_V1), "POST", JSON, b'{"size": ' + b"9" * 5000 + b"}")
    size = next(f for f in findings if f.code == "wrong-type")
    assert size.path == "$.size" and size.seen.startswith("number 999")


@pytest.mark.parametrize(
    ("value", "described"),
    [
        (None, "null"),
        (True, "boolean true"),
        (5, "number 5"),
        ("Integer", 'string "Integer"'),
        ({"a": 1}, "object {a}"),
        ([1, 2], "array of 2 items"),
        (10**5000, "number (16610-bit integer)"),
    ],
    ids=["null", "bool", "int", "str", "object", "array", "huge-int"],
)
def test_describe_value(value: object, described: str) -> None:
    assert describe_value(value) == described


def test_json_path() -> None:
    assert json_path(("value", 2, "name")) == "$.value[2].name"
    assert json_path(("item", "@odata.type")) == "$.item.@odata.type"
    assert json_path(("a b",)) == "$['a b']"


def test_parse_json_body() -> None:
    assert parse_json_body(b'{"a": 1}') == ({"a": 1}, None)
    assert parse_json_body(b"")[1] == "empty body"
    assert "UTF-8" in (parse_json_body(b"\xff")[1] or "")


@pytest.mark.parametrize(("path", "body", "expected"), [
    (UPLOAD_V1, {"AttachmentItem": {"attachmentType": "file", "name": "a.pdf", "size": 1024}},
     [("upload-session-small-file", "$.AttachmentItem.size", Severity.ERROR)]),
    (UPLOAD_V1, {"AttachmentItem": {"attachmentType": "file", "name": "a.pdf", "size": 150 * 1024 * 1024 + 1}},
     [("upload-session-too-large", "$.AttachmentItem.size", Severity.ERROR)]),
    (TODO_UPLOAD_V1, {"attachmentInfo": {"attachmentType": "file", "name": "a.pdf", "size": 25 * 1024 * 1024 + 1}},
     [("upload-session-too-large", "$.attachmentInfo.size", Severity.ERROR)]),
    (UPLOAD_V1, {"AttachmentItem": {"attachmentType": "file", "name": "a.pdf", "size": 3 * 1024 * 1024}}, []),
    (TODO_UPLOAD_V1, {"attachmentInfo": {"attachmentType": "file", "name": "a.pdf", "size": 1024}}, []),
], ids=["small-message-file", "3-MiB", "todo-any-size", "over-150-MiB", "todo-over-25-MiB"])
def test_upload_session_outside_its_sizes(path: str, body: Any, expected: list[Any]) -> None:
    findings = validate_request(_route(path), "POST", JSON, _body(body))
    assert [(f.code, f.path, f.severity) for f in findings] == expected
