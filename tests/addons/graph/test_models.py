"""The pydantic models generated from Graph's metadata, and the type facts beside them.

Truth: the CSDL (v1.0.csdl.xml and beta-usnat.csdl.xml at msgraph-metadata f54f11b) for types,
nullability, open/abstract flags and enum members; msgraph-sdk 1.62.0's discriminators for
which subtypes a value may be; the documentation pages cited in limits.py for read-only and
required properties.
"""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from graphtape.addons.graph.metadata import UnknownGraphTypeError, load_schema
from graphtape.addons.graph.models import (
    READ_ONLY_PROPERTIES,
    GraphModel,
    OpenGraphModel,
    choose_type,
    enum_values,
    is_annotation,
    model_for,
    normalise_odata_type,
    parameters_model,
    resolve_odata_type,
    type_info,
    validate_choice,
)


def _errors(version: str, declared: str, data: dict[str, Any]) -> list[tuple[str, tuple[Any, ...]]]:
    """(error type, loc) of every problem a value declared as ``declared`` has."""
    schema = load_schema(version)
    try:
        validate_choice(choose_type(schema, declared, data), data, version)
    except ValidationError as exc:
        return sorted((e["type"], tuple(e["loc"])) for e in exc.errors())
    return []


FILE = {"@odata.type": "#microsoft.graph.fileAttachment", "name": "a.txt", "contentBytes": "SGVsbG8="}


@pytest.mark.parametrize("version", ["v1.0", "beta"])
def test_every_structured_type_has_a_model_with_every_property(version: str) -> None:
    schema = load_schema(version)
    for info in schema.types.values():
        if info.kind == "enum":
            continue
        model = model_for(info.name, version)
        aliases = [field.alias for field in model.model_fields.values()]
        assert aliases == list(schema.all_properties(info.name)), info.name
        assert issubclass(model, OpenGraphModel) is schema.is_open(info.name), info.name
        assert model.graph_type == info.name and model.api_version == version
        assert model_for(info.short_name, version) is model  # built once


def test_unknown_types_and_enums_have_no_model() -> None:
    with pytest.raises(UnknownGraphTypeError):
        model_for("microsoft.graph.driveItem", "v1.0")
    with pytest.raises(TypeError):
        model_for("microsoft.graph.attachmentType", "v1.0")


# (row, version, declared type, value, expected (error type, loc)): CSDL types and facets.
STRICT_TYPES: list[tuple[str, str, str, dict[str, Any], list[tuple[str, tuple[Any, ...]]]]] = [
    ("CSDL attachment.size Edm.Int32: a string", "v1.0", "attachment", {**FILE, "size": "5"}, [("int_type", ("size",))]),
    ("Int32: a float", "v1.0", "attachment", {**FILE, "size": 5.0}, [("int_type", ("size",))]),
    ("Int32: a boolean", "v1.0", "attachment", {**FILE, "size": True}, [("int_type", ("size",))]),
    ("Int32: the largest", "v1.0", "attachment", {**FILE, "size": 2**31 - 1}, []),
    ("Int32: one over", "v1.0", "attachment", {**FILE, "size": 2**31}, [("less_than_equal", ("size",))]),
    ("Int32: one under", "v1.0", "attachment", {**FILE, "size": -(2**31) - 1}, [("greater_than_equal", ("size",))]),
    ("CSDL attachment.size Nullable=false", "v1.0", "attachment", {**FILE, "size": None}, [("int_type", ("size",))]),
    ("CSDL attachment.contentType nullable", "v1.0", "attachment", {**FILE, "contentType": None}, []),
    ("CSDL attachmentItem.size Edm.Int64: 3 GB", "v1.0", "attachmentItem",
     {"attachmentType": "file", "name": "big.iso", "size": 3 * 2**30}, []),
    ("Int64: over", "v1.0", "attachmentItem", {"size": 2**63}, [("less_than_equal", ("size",))]),
    ("CSDL attachment.isInline Edm.Boolean: \"True\"", "v1.0", "attachment", {**FILE, "isInline": "True"},
     [("bool_type", ("isInline",))]),
    ("Edm.Binary: base64url", "v1.0", "attachment", {**FILE, "contentBytes": "_-8="}, [("invalid_base64", ("contentBytes",))]),
    ("Edm.DateTimeOffset: no offset", "v1.0", "attachment", {**FILE, "lastModifiedDateTime": "2020-01-01T00:00:00"},
     [("datetime_offset", ("lastModifiedDateTime",))]),
    ("Edm.DateTimeOffset: 7 fraction digits", "v1.0", "uploadSession",
     {"expirationDateTime": "2019-09-25T01:09:30.7671707Z"}, []),
    ("CSDL uploadSession.nextExpectedRanges Collection(Edm.String)", "v1.0", "uploadSession",
     {"nextExpectedRanges": [0]}, [("string_type", ("nextExpectedRanges", 0))]),
    ("a collection is never null (OData)", "v1.0", "uploadSession", {"nextExpectedRanges": None},
     [("list_type", ("nextExpectedRanges",))]),
    ("Edm.Double: an integer is a number", "v1.0", "outlookGeoCoordinates", {"latitude": 47, "longitude": -122.1}, []),
    ("Edm.Double: INF as OData writes it", "v1.0", "outlookGeoCoordinates", {"altitude": "INF"}, []),
    ("Edm.Double: a numeric string", "v1.0", "outlookGeoCoordinates", {"altitude": "12"}, [("number_type", ("altitude",))]),
    ("CSDL beta calendarGroup.classId Edm.Guid", "beta", "calendarGroup",
     {"classId": "0006f0b7-0000-0000-c000-000000000046"}, []),
    ("Edm.Guid: not one", "beta", "calendarGroup", {"classId": "0006f0b7"}, [("guid", ("classId",))]),
    ("beta emailAddress may be a typedEmailAddress", "beta", "emailAddress",
     {"@odata.type": "#microsoft.graph.typedEmailAddress", "address": "a@b.c", "type": "main"}, []),
    ("Edm.Date", "v1.0", "recurrenceRange", {"startDate": "2017-09-04", "endDate": "2017-02-30"}, [("date", ("endDate",))]),
    ("CSDL enum attachmentType: a member", "v1.0", "attachmentItem", {"attachmentType": "file"}, []),
    ("enum members are case-sensitive", "v1.0", "attachmentItem", {"attachmentType": "File"},
     [("enum_value", ("attachmentType",))]),
    ("enum: a number is not a name", "v1.0", "attachmentItem", {"attachmentType": 0}, [("string_type", ("attachmentType",))]),
    ("enum by value, as OData's ABNF allows", "v1.0", "attachmentItem", {"attachmentType": "1"}, []),
    ("closed type: undeclared property", "v1.0", "attachment", {**FILE, "sourceUrl": "https://x"},
     [("extra_forbidden", ("sourceUrl",))]),
    ("OData annotations are not properties", "v1.0", "attachment",
     {**FILE, "@odata.context": "x", "contentBytes@odata.mediaContentType": "text/plain"}, []),
    ("CSDL message OpenType=true: undeclared ok, declared typed", "v1.0", "message",
     {"subject": 5, "x-custom": {"any": 1}}, [("string_type", ("subject",))]),
    ("open types' subtypes are open (eventMessage)", "v1.0", "message",
     {"@odata.type": "#microsoft.graph.eventMessage", "x-custom": 1, "meetingMessageType": "nope"},
     [("enum_value", ("meetingMessageType",))]),
]


@pytest.mark.parametrize(("row", "version", "declared", "data", "expected"), STRICT_TYPES,
                         ids=[r[0] for r in STRICT_TYPES])
def test_values_are_checked_by_their_documented_type(
    row: str, version: str, declared: str, data: dict[str, Any], expected: list[tuple[str, tuple[Any, ...]]]
) -> None:
    assert _errors(version, f"microsoft.graph.{declared}", data) == expected


# Nested values: each object checked by the type its @odata.type names (msgraph-sdk's discriminators).
NESTED: list[tuple[str, str, dict[str, Any], list[tuple[str, tuple[Any, ...]]]]] = [
    ("item: an event, checked as event", "v1.0",
     {"@odata.type": "#microsoft.graph.itemAttachment", "item": {"@odata.type": "microsoft.graph.event",
                                                                  "isAllDay": "no", "showAs": "busy"}},
     [("bool_type", ("item", "isAllDay"))]),
    ("item: a contact's own properties", "v1.0",
     {"@odata.type": "#microsoft.graph.itemAttachment",
      "item": {"@odata.type": "#microsoft.graph.contact", "emailAddresses": [{"address": 1}]}},
     [("string_type", ("item", "emailAddresses", 0, "address"))]),
    ("item: mailboxItem is v1.0's", "v1.0",
     {"@odata.type": "#microsoft.graph.itemAttachment", "item": {"@odata.type": "#microsoft.graph.mailboxItem"}}, []),
    ("item: no outlookTask on v1.0", "v1.0",
     {"@odata.type": "#microsoft.graph.itemAttachment", "item": {"@odata.type": "#microsoft.graph.outlookTask"}},
     [("odata_type_unknown", ("item", "@odata.type"))]),
    ("item: outlookTask is beta's", "beta",
     {"@odata.type": "#microsoft.graph.itemAttachment", "item": {"@odata.type": "#microsoft.graph.outlookTask",
                                                                  "status": "completed"}}, []),
    ("item: an abstract outlookItem needs its type", "v1.0",
     {"@odata.type": "#microsoft.graph.itemAttachment", "item": {"subject": "s"}},
     [("odata_type_missing", ("item", "@odata.type"))]),
    ("item: an attachment is not an outlookItem", "v1.0",
     {"@odata.type": "#microsoft.graph.itemAttachment", "item": {"@odata.type": "#microsoft.graph.fileAttachment"}},
     [("odata_type_not_assignable", ("item", "@odata.type"))]),
    ("item: a string is no object", "v1.0", {"@odata.type": "#microsoft.graph.itemAttachment", "item": "x"},
     [("object_expected", ("item",))]),
    ("a message's attachments, each by its own type", "v1.0",
     {"@odata.type": "#microsoft.graph.itemAttachment",
      "item": {"@odata.type": "#microsoft.graph.message",
               "attachments": [FILE, {"@odata.type": "#microsoft.graph.referenceAttachment", "sourceUrl": "x"}]}},
     [("extra_forbidden", ("item", "attachments", 1, "sourceUrl"))]),
    ("recipient may be an attendee (subtype's own enum)", "v1.0",
     {"@odata.type": "#microsoft.graph.itemAttachment",
      "item": {"@odata.type": "#microsoft.graph.event",
               "attendees": [{"type": "mandatory", "emailAddress": {"address": "a@b.c"}}]}},
     [("enum_value", ("item", "attendees", 0, "type"))]),
]


@pytest.mark.parametrize(("row", "version", "data", "expected"), NESTED, ids=[r[0] for r in NESTED])
def test_nested_values_are_checked_as_their_own_type(
    row: str, version: str, data: dict[str, Any], expected: list[tuple[str, tuple[Any, ...]]]
) -> None:
    assert _errors(version, "microsoft.graph.attachment", data) == expected


@pytest.mark.parametrize(
    ("declared", "data", "chosen", "issues"),
    [
        ("attachment", {"@odata.type": "#microsoft.graph.fileAttachment"}, "fileAttachment", []),
        ("attachment", {"@odata.type": "microsoft.graph.fileAttachment"}, "fileAttachment", []),  # '#' optional
        ("attachment", {"@odata.type": "#graph.fileAttachment"}, "fileAttachment", []),  # the CSDL alias
        ("attachment", {"@odata.type": "#fileAttachment"}, "attachment", ["odata_type_unknown"]),  # not qualified
        ("attachment", {"@odata.type": "#microsoft.graph.FileAttachment"}, "fileAttachment", ["odata_type_case"]),
        ("attachment", {"@odata.type": "#microsoft.graph.attachment"}, "attachment", ["odata_type_abstract"]),
        ("attachment", {"@odata.type": 7}, "attachment", ["odata_type_not_string"]),
        ("attachment", {"name": "a", "contentBytes": "SGVsbG8="}, "fileAttachment", ["odata_type_missing"]),
        ("attachment", {"name": "a"}, "attachment", ["odata_type_missing"]),  # ambiguous: checked as the base
        ("attachmentBase", {"name": "a"}, "taskFileAttachment", ["odata_type_missing"]),  # the only subtype
        ("uploadSession", {"uploadUrl": "u"}, "uploadSession", []),  # no subtypes: @odata.type optional
        ("recipient", {"@odata.type": "#microsoft.graph.attendee"}, "attendee", []),
        ("outlookItem", {"@odata.type": "#microsoft.graph.attachmentType"}, "outlookItem",
         ["odata_type_not_assignable"]),
    ],
)
def test_choose_type(declared: str, data: dict[str, Any], chosen: str, issues: list[str]) -> None:
    choice = choose_type(load_schema("v1.0"), f"microsoft.graph.{declared}", data)
    assert choice.type.short_name == chosen
    assert [kind for kind, _ in choice.issues] == issues


def test_a_typeless_value_is_checked_as_the_type_its_request_declared() -> None:
    schema = load_schema("beta")
    body = {"name": "a", "sourceUrl": "https://x"}
    assert choose_type(schema, "microsoft.graph.attachment", body).type.short_name == "referenceAttachment"
    hinted = choose_type(schema, "microsoft.graph.attachment", body, hint="microsoft.graph.fileAttachment")
    assert hinted.type.short_name == "fileAttachment"


def test_resolve_odata_type() -> None:
    schema = load_schema("v1.0")
    assert resolve_odata_type(schema, "#microsoft.graph.event") == ("microsoft.graph.event", False)
    assert resolve_odata_type(schema, "#Microsoft.Graph.Event") == ("microsoft.graph.event", True)
    assert resolve_odata_type(schema, "#Microsoft.OutlookServices.Event") == (None, False)
    assert normalise_odata_type("#microsoft.graph.x") == "microsoft.graph.x"


# Type facts: CSDL for shape; limits.py's documentation rows for read-only and required.
def test_type_info_of_the_attachment_types() -> None:
    file_v1 = type_info("#microsoft.graph.fileAttachment", "v1.0")
    assert file_v1 is not None
    assert (file_v1.short_name, file_v1.base, file_v1.abstract, file_v1.open) == ("fileAttachment", "attachment", False, False)
    assert file_v1.properties[0] == "@odata.type"
    assert set(file_v1.properties[1:]) == {"id", "contentType", "isInline", "lastModifiedDateTime", "name", "size",
                                           "contentBytes", "contentId", "contentLocation"}
    assert file_v1.read_only == {"id"} and file_v1.required_on_create == {"name", "contentBytes"}
    assert file_v1.required_in_response == {"id", "size", "isInline"}  # the key, and what cannot be null
    assert file_v1.model is model_for("fileAttachment", "v1.0")
    task = type_info("microsoft.graph.taskFileAttachment", "beta")
    assert task is not None and task.base == "attachmentBase" and task.required_on_create == {"name", "contentBytes"}
    assert task.required_in_response == {"id", "size"}  # contentBytes may be left out of answers
    reference_v1, reference_beta = (type_info("referenceAttachment", v) for v in ("v1.0", "beta"))
    assert reference_v1 is not None and reference_beta is not None
    assert reference_v1.required_on_create == frozenset() and reference_beta.required_on_create == {"name", "sourceUrl"}
    assert "sourceUrl" not in reference_v1.properties and "sourceUrl" in reference_beta.properties
    item = type_info("itemAttachment", "v1.0")
    assert item is not None and item.required_on_create == {"item"}
    prop = item.property_info("item")
    assert prop is not None and prop.navigation
    attachment = type_info("#microsoft.graph.attachment", "v1.0")
    assert attachment is not None and attachment.abstract and attachment.base == "entity"
    assert READ_ONLY_PROPERTIES == {"id"}
    assert type_info("#microsoft.graph.attachmentType", "v1.0") is None  # an enum
    assert type_info("#microsoft.graph.fileAttachment", "v2.0") is None


def test_message_and_event_are_open_with_typed_properties() -> None:
    for name in ("message", "event", "contact", "post", "eventMessage", "openTypeExtension"):
        info = type_info(name, "v1.0")
        assert info is not None and info.open, name
    for name in ("attachment", "fileAttachment", "outlookItem", "itemBody", "uploadSession"):
        info = type_info(name, "v1.0")
        assert info is not None and not info.open, name


def test_parameters_model_follows_the_csdl_spelling_and_nullability() -> None:
    schema = load_schema("v1.0")
    action = schema.upload_session_action("microsoft.graph.attachment")
    assert action is not None
    model = parameters_model(action, "v1.0")
    assert [f.alias for f in model.model_fields.values()] == ["AttachmentItem"]
    assert issubclass(model, GraphModel)
    with pytest.raises(ValidationError) as caught:
        model.model_validate({})
    assert [(e["type"], e["loc"]) for e in caught.value.errors()] == [("missing", ("AttachmentItem",))]
    send = schema.action("sendMail", "microsoft.graph.user")
    assert send is not None
    send_model = parameters_model(send, "v1.0")
    send_model.model_validate({"Message": {"subject": "s"}})  # SaveToSentItems is nullable: may be left out


def test_enum_values_come_from_the_csdl() -> None:
    values = enum_values()
    assert values["attachmentType"] == ("file", "item", "reference")
    assert values["permission"] == ("other", "view", "edit", "anonymousView", "anonymousEdit", "organizationView",
                                    "organizationEdit")
    assert values["providerType"] == ("other", "oneDriveBusiness", "oneDriveConsumer", "dropbox")
    assert "importance" in values and "contentType" in values  # itemBody.contentType is the bodyType enum


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("@odata.context", True),
        ("@odata.type", True),
        ("contentBytes@odata.mediaContentType", True),
        ("@microsoft.graph.conflictBehavior", True),
        ("name", False),
        ("a@b", False),
        ("email@", False),
    ],
)
def test_is_annotation(key: str, expected: bool) -> None:
    assert is_annotation(key) is expected
