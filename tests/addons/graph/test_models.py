"""The pydantic models of the Graph attachment types and their metadata."""

from __future__ import annotations

import typing
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from graphtape.addons.graph.models import (
    ATTACHMENT_TYPES,
    ENUM_VALUES,
    INT32_MAX,
    INT32_MIN,
    PROPERTY_TYPES,
    READ_ONLY_PROPERTIES,
    Attachment,
    AttachmentBase,
    AttachmentItem,
    FileAttachment,
    ItemAttachment,
    MessageUploadSessionRequest,
    ReferenceAttachmentBeta,
    ReferenceAttachmentV1,
    TaskFileAttachment,
    TaskUploadSessionRequest,
    UploadSession,
    base64_decoded_length,
    base64_problem,
    concrete_types_for_base,
    datetime_offset_problem,
    is_annotation,
    model_for,
    type_info,
)


def _errors(model: type[BaseModel], data: dict[str, Any]) -> list[tuple[str, tuple[Any, ...]]]:
    try:
        model.model_validate(data)
    except ValidationError as exc:
        return [(e["type"], tuple(e["loc"])) for e in exc.errors()]
    return []


@pytest.mark.parametrize(
    ("odata_type", "version", "model"),
    [
        ("#microsoft.graph.fileAttachment", "v1.0", FileAttachment),
        ("microsoft.graph.fileAttachment", "beta", FileAttachment),
        ("#microsoft.graph.itemAttachment", "v1.0", ItemAttachment),
        ("#microsoft.graph.referenceAttachment", "v1.0", ReferenceAttachmentV1),
        ("#microsoft.graph.referenceAttachment", "beta", ReferenceAttachmentBeta),
        ("#microsoft.graph.attachment", "v1.0", Attachment),
        ("#microsoft.graph.attachmentBase", "v1.0", AttachmentBase),
        ("#microsoft.graph.taskFileAttachment", "v1.0", TaskFileAttachment),
        ("#microsoft.graph.FileAttachment", "v1.0", None),  # type names are case-sensitive
        ("#microsoft.graph.driveItem", "v1.0", None),
        ("", "v1.0", None),
        ("#microsoft.graph.fileAttachment", "v2.0", None),
    ],
)
def test_model_for_picks_the_subtype(odata_type: str, version: str, model: type[BaseModel] | None) -> None:
    assert model_for(odata_type, version) is model


# (model, body, expected pydantic error (type, loc) or None for valid)
STRICTNESS_CASES: list[tuple[type[BaseModel], dict[str, Any], tuple[str, tuple[Any, ...]] | None]] = [
    (Attachment, {"size": "5"}, ("int_type", ("size",))),
    (Attachment, {"size": "Integer"}, ("int_type", ("size",))),
    (Attachment, {"size": 5.0}, ("int_type", ("size",))),
    (Attachment, {"size": True}, ("int_type", ("size",))),
    (Attachment, {"size": INT32_MAX}, None),
    (Attachment, {"size": INT32_MIN}, None),
    (Attachment, {"size": INT32_MAX + 1}, ("less_than_equal", ("size",))),
    (Attachment, {"size": INT32_MIN - 1}, ("greater_than_equal", ("size",))),
    (Attachment, {"size": None}, ("null_not_allowed", ("size",))),
    (Attachment, {"isInline": "True"}, ("bool_type", ("isInline",))),
    (Attachment, {"isInline": "Boolean"}, ("bool_type", ("isInline",))),
    (Attachment, {"isInline": 1}, ("bool_type", ("isInline",))),
    (Attachment, {"isInline": None}, ("null_not_allowed", ("isInline",))),
    (Attachment, {"isInline": False}, None),
    (Attachment, {"name": 5}, ("string_type", ("name",))),
    (Attachment, {"name": None, "contentType": None}, None),  # nullable
    (Attachment, {"lastModifiedDateTime": "String (timestamp)"}, ("datetime_offset", ("lastModifiedDateTime",))),
    (Attachment, {"lastModifiedDateTime": "2017-07-21T00:38:41Z"}, None),
    (Attachment, {"lastModifiedDateTime": None}, None),
    (FileAttachment, {"sourceUrl": "https://contoso.sharepoint.com/x.docx"}, ("extra_forbidden", ("sourceUrl",))),
    (FileAttachment, {"contentBytes": "SGVsbG8="}, None),
    (FileAttachment, {"contentBytes": "SGVsbG8"}, ("invalid_base64", ("contentBytes",))),
    (FileAttachment, {"contentBytes": "SGV-bG8_"}, ("invalid_base64", ("contentBytes",))),
    (FileAttachment, {"contentBytes": "SGVs\r\nbG8="}, None),  # .NET skips line breaks
    (FileAttachment, {"contentBytes": 12}, ("string_type", ("contentBytes",))),
    (FileAttachment, {"item": {}}, ("extra_forbidden", ("item",))),
    (ItemAttachment, {"item": {"@odata.type": "microsoft.graph.event", "subject": "x"}}, None),
    (ItemAttachment, {"item": {"@odata.type": "#microsoft.graph.contact"}}, None),
    (ItemAttachment, {"item": {"subject": "x"}}, ("item_odata_type_missing", ("item",))),
    (ItemAttachment, {"item": {"@odata.type": "microsoft.graph.driveItem"}}, ("item_odata_type_unknown", ("item",))),
    (ItemAttachment, {"item": {"@odata.type": 3}}, ("item_odata_type_unknown", ("item",))),
    (ItemAttachment, {"item": "a message"}, ("dict_type", ("item",))),
    (ItemAttachment, {"contentBytes": "SGVsbG8="}, ("extra_forbidden", ("contentBytes",))),
    (ReferenceAttachmentV1, {"sourceUrl": "https://x"}, ("extra_forbidden", ("sourceUrl",))),
    (ReferenceAttachmentBeta, {"sourceUrl": "https://x", "permission": "edit", "providerType": "oneDriveBusiness"}, None),
    (ReferenceAttachmentBeta, {"permission": "Edit"}, ("literal_error", ("permission",))),
    (ReferenceAttachmentBeta, {"providerType": "googleDrive"}, ("literal_error", ("providerType",))),
    (ReferenceAttachmentBeta, {"isFolder": "True"}, ("bool_type", ("isFolder",))),
    (ReferenceAttachmentBeta, {"isFolder": None}, None),
    (TaskFileAttachment, {"contentBytes": None}, ("null_not_allowed", ("contentBytes",))),
    (TaskFileAttachment, {"isInline": False}, ("extra_forbidden", ("isInline",))),
    (TaskFileAttachment, {"name": "a.txt", "contentBytes": "SGVsbG8=", "contentType": "text/plain"}, None),
    # OData annotations are allowed everywhere.
    (
        FileAttachment,
        {
            "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users('u')/messages('m')/attachments/$entity",
            "@odata.mediaContentType": "text/plain",
            "@odata.etag": 'W/"x"',
            "@odata.id": "x",
            "contentBytes@odata.mediaContentType": "text/plain",
        },
        None,
    ),
    (FileAttachment, {"@odata.type": "#microsoft.graph.itemAttachment"}, ("odata_type_mismatch", ("@odata.type",))),
]


@pytest.mark.parametrize(("model", "data", "expected"), STRICTNESS_CASES)
def test_models_are_strict_and_closed(
    model: type[BaseModel], data: dict[str, Any], expected: tuple[str, tuple[Any, ...]] | None
) -> None:
    errors = _errors(model, data)
    assert errors == ([] if expected is None else [expected])


def test_annotations_are_kept_aside() -> None:
    model = FileAttachment.model_validate({"@odata.context": "ctx", "contentBytes@odata.mediaContentType": "a/b"})
    assert model.annotations == {"@odata.context": "ctx", "contentBytes@odata.mediaContentType": "a/b"}


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("@odata.context", True),
        ("@odata.type", True),
        ("contentBytes@odata.mediaContentType", True),
        ("@microsoft.graph.downloadUrl", True),
        ("sourceUrl", False),
        ("@", False),
        ("name@", False),
        ("@odata", False),
    ],
)
def test_is_annotation(key: str, expected: bool) -> None:
    assert is_annotation(key) is expected


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("SGVsbG8=", True),
        ("", True),
        ("SGVsbG8gV29ybGQ=", True),
        ("SGVsbG8", False),
        ("SGVsbG8==", False),
        ("SGV-bG8=", False),
        ("SGVsbG8=SGVs", False),
        ("Hello, World!", False),
        ("é===", False),
    ],
)
def test_base64_problem(text: str, ok: bool) -> None:
    assert (base64_problem(text) is None) is ok


@pytest.mark.parametrize(("text", "length"), [("", 0), ("SGVsbG8=", 5), ("SGVsbG8h", 6), ("SGVsbA==", 4)])
def test_base64_decoded_length(text: str, length: int) -> None:
    assert base64_decoded_length(text) == length


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("2017-07-21T00:38:41Z", True),
        ("2019-04-16T20:41:37.7136286Z", True),
        ("2019-04-16T20:41:37+02:00", True),
        ("2019-04-16T20:41Z", True),
        ("2019-04-16T20:41:37", False),  # no offset
        ("2019-04-16", False),
        ("2019-13-16T20:41:37Z", False),
        ("String (timestamp)", False),
    ],
)
def test_datetime_offset(text: str, ok: bool) -> None:
    assert (datetime_offset_problem(text) is None) is ok


def test_type_metadata() -> None:
    assert READ_ONLY_PROPERTIES == {"id", "lastModifiedDateTime", "size"}
    v1, beta = ATTACHMENT_TYPES["v1.0"], ATTACHMENT_TYPES["beta"]
    required = {name.removeprefix("microsoft.graph."): t.required_on_create for name, t in beta.items()}
    assert required["fileAttachment"] == {"name", "contentBytes"}
    assert required["itemAttachment"] == {"name", "item"}
    assert required["referenceAttachment"] == {"name", "sourceUrl"}
    assert required["taskFileAttachment"] == {"name", "contentBytes"}
    assert {t.short_name for t in beta.values() if t.abstract} == {"attachment", "attachmentBase"}
    assert {t.short_name for t in concrete_types_for_base("attachment", "v1.0")} == {
        "fileAttachment",
        "itemAttachment",
        "referenceAttachment",
    }
    assert [t.short_name for t in concrete_types_for_base("attachmentBase", "beta")] == ["taskFileAttachment"]
    assert v1["microsoft.graph.referenceAttachment"].model is ReferenceAttachmentV1
    info = type_info("#microsoft.graph.taskFileAttachment", "v1.0")
    assert info is not None and info.required_in_response == {"id", "lastModifiedDateTime", "size"}


ALL_MODELS = [
    Attachment,
    FileAttachment,
    ItemAttachment,
    ReferenceAttachmentV1,
    ReferenceAttachmentBeta,
    AttachmentBase,
    TaskFileAttachment,
    AttachmentItem,
    MessageUploadSessionRequest,
    TaskUploadSessionRequest,
    UploadSession,
]


@pytest.mark.parametrize("model", ALL_MODELS, ids=lambda m: m.__name__)
def test_every_property_has_a_documented_type(model: Any) -> None:
    assert set(model.json_properties()) <= set(PROPERTY_TYPES)


@pytest.mark.parametrize("field", ["providerType", "permission"])
def test_enum_tables_agree_with_the_model(field: str) -> None:
    annotation = ReferenceAttachmentBeta.model_fields[
        {"providerType": "provider_type", "permission": "permission"}[field]
    ].annotation
    literal = next(a for a in typing.get_args(annotation) if a is not type(None))
    assert typing.get_args(literal) == ENUM_VALUES[field]


@pytest.mark.parametrize(
    ("model", "data", "expected"),
    [
        (MessageUploadSessionRequest, {"AttachmentItem": {"attachmentType": "file", "name": "big.pdf", "size": 3483322}}, []),
        (MessageUploadSessionRequest, {"attachmentItem": {"attachmentType": "file", "name": "big.pdf", "size": 1}}, []),
        (
            MessageUploadSessionRequest,
            {"AttachmentItem": {"attachmentType": "File", "size": "1"}},
            [
                ("literal_error", ("AttachmentItem", "attachmentType")),
                ("missing", ("AttachmentItem", "name")),
                ("int_type", ("AttachmentItem", "size")),
            ],
        ),
        (MessageUploadSessionRequest, {}, [("missing", ("AttachmentItem",))]),
        (TaskUploadSessionRequest, {"attachmentInfo": {"attachmentType": "file", "name": "a", "size": 5}}, []),
        (
            UploadSession,
            {
                "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#microsoft.graph.uploadSession",
                "uploadUrl": "https://outlook.office.com/api/v2.0/Users('x')/Messages('y')/AttachmentSessions('z')?authtoken=fake-token",
                "expirationDateTime": "2019-09-25T01:09:30.7671707Z",
                "nextExpectedRanges": ["0-"],
            },
            [],
        ),
        (
            UploadSession,
            {"uploadUrl": "u", "expirationDateTime": "soon", "nextExpectedRanges": [0]},
            [("datetime_offset", ("expirationDateTime",)), ("string_type", ("nextExpectedRanges", 0))],
        ),
    ],
)
def test_upload_session_shapes(model: type[BaseModel], data: dict[str, Any], expected: list[Any]) -> None:
    assert _errors(model, data) == expected
