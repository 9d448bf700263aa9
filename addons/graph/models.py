"""pydantic v2 models of the documented Graph attachment types, and their metadata.

One model per type, chosen by ``@odata.type``; each subtype forbids properties it
does not document (so ``sourceUrl`` on a fileAttachment is caught, which checking
against the base type alone would miss). Types are strict, as Graph's OData reader
is: ``"5"`` is not an Int32 and ``1`` or ``"True"`` is not a Boolean. OData
annotations (``@odata.context``, ``contentBytes@odata.mediaContentType``...) are
allowed everywhere and kept aside in ``GraphModel.annotations``.

What a model cannot know because it depends on the direction of the call (read-only
properties, properties required on create) lives in :class:`AttachmentType`.
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

__all__ = [
    "ATTACHMENT_TYPES",
    "ENUM_VALUES",
    "INT32_MAX",
    "INT32_MIN",
    "NAMESPACE",
    "OUTLOOK_ITEM_TYPES",
    "PROPERTY_TYPES",
    "READ_ONLY_PROPERTIES",
    "Attachment",
    "AttachmentBase",
    "AttachmentInfo",
    "AttachmentItem",
    "AttachmentType",
    "FileAttachment",
    "GraphModel",
    "ItemAttachment",
    "MessageUploadSessionRequest",
    "ReferenceAttachmentBeta",
    "ReferenceAttachmentV1",
    "TaskFileAttachment",
    "TaskUploadSessionRequest",
    "UploadSession",
    "base64_decoded_length",
    "base64_problem",
    "concrete_types_for_base",
    "datetime_offset_problem",
    "is_annotation",
    "model_for",
    "normalise_odata_type",
    "type_info",
    "upload_session_request_model",
]

INT32_MIN = -(2**31)
INT32_MAX = 2**31 - 1
NAMESPACE = "microsoft.graph."

# Set by the service: a client sending them on create is at best ignored.
READ_ONLY_PROPERTIES: frozenset[str] = frozenset({"id", "lastModifiedDateTime", "size"})

ENUM_VALUES: dict[str, tuple[str, ...]] = {
    "providerType": ("other", "oneDriveBusiness", "oneDriveConsumer", "dropbox"),
    "permission": (
        "other",
        "view",
        "edit",
        "anonymousView",
        "anonymousEdit",
        "organizationView",
        "organizationEdit",
    ),
    "attachmentType": ("file", "item", "reference"),
}

# The documented type of every property any model declares, by JSON name. One table
# serves all models because Graph gives a property name the same type everywhere here.
PROPERTY_TYPES: dict[str, str] = {
    "@odata.type": "String",
    "id": "String",
    "lastModifiedDateTime": "DateTimeOffset",
    "name": "String",
    "contentType": "String",
    "size": "Int32",
    "isInline": "Boolean",
    "contentBytes": "Binary (base64)",
    "contentId": "String",
    "contentLocation": "String",
    "item": "microsoft.graph.outlookItem (object)",
    "sourceUrl": "String",
    "providerType": "microsoft.graph.referenceAttachmentProvider",
    "thumbnailUrl": "String",
    "previewUrl": "String",
    "permission": "microsoft.graph.referenceAttachmentPermission",
    "isFolder": "Boolean",
    "attachmentType": "microsoft.graph.attachmentType",
    "AttachmentItem": "microsoft.graph.attachmentItem (object)",
    "attachmentInfo": "microsoft.graph.attachmentInfo (object)",
    "uploadUrl": "String",
    "expirationDateTime": "DateTimeOffset",
    "nextExpectedRanges": "Collection(String)",
}

# Types an itemAttachment's ``item`` may declare (outlookItem and its descendants).
OUTLOOK_ITEM_TYPES: frozenset[str] = frozenset(
    NAMESPACE + name
    for name in (
        "message",
        "eventMessage",
        "eventMessageRequest",
        "eventMessageResponse",
        "calendarSharingMessage",
        "event",
        "contact",
        "post",
        "outlookTask",
    )
)

_ANNOTATION_KEY = re.compile(r"^[^@]*@[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)+$")


def is_annotation(key: str) -> bool:
    """True for an OData annotation: ``@odata.context``, ``@ns.term``, ``prop@odata.x``.

    ``@odata.type`` is an annotation too; models declare it as a field of its own.
    """
    return "@" in key and _ANNOTATION_KEY.match(key) is not None


def normalise_odata_type(value: str) -> str:
    """``#microsoft.graph.fileAttachment`` -> ``microsoft.graph.fileAttachment``."""
    return value[1:] if value.startswith("#") else value


_BASE64_BODY = re.compile(r"[A-Za-z0-9+/]*={0,2}")
# .NET's base64 reader (behind Graph) skips these, so they are not an error.
_BASE64_WHITESPACE = str.maketrans("", "", " \t\r\n")


def base64_problem(value: str) -> str | None:
    """Why ``value`` is not standard base64 (padded, ``+/`` alphabet), or None if it is."""
    compact = value.translate(_BASE64_WHITESPACE) if any(c in value for c in " \t\r\n") else value
    if _BASE64_BODY.fullmatch(compact) is None:
        bad = next(
            (c for c in compact.rstrip("=") if not (c.isascii() and (c.isalnum() or c in "+/"))),
            "=",
        )
        hint = " (base64url alphabet; Graph expects standard base64)" if bad in "-_" else ""
        return f"character {bad!r} is not in the base64 alphabet{hint}"
    if len(compact) % 4:
        return f"length {len(compact)} is not a multiple of 4 (missing padding?)"
    try:
        base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError) as exc:
        return str(exc)
    return None


def base64_decoded_length(value: str) -> int:
    """The decoded size of base64 text, computed without decoding it."""
    compact = value.translate(_BASE64_WHITESPACE) if any(c in value for c in " \t\r\n") else value
    return len(compact) * 3 // 4 - (len(compact) - len(compact.rstrip("=")))


_DATETIME_OFFSET = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?(Z|[+-]\d{2}:\d{2})", re.ASCII
)


def datetime_offset_problem(value: str) -> str | None:
    """Why ``value`` is not an Edm.DateTimeOffset (ISO 8601 with Z or an offset)."""
    if _DATETIME_OFFSET.fullmatch(value) is None:
        return "not an ISO 8601 date-time with Z or a UTC offset"
    try:
        # fromisoformat checks the calendar (month 13, day 32...); it accepts at most
        # 6 fraction digits, and Graph sends 7, so trim the fraction first.
        datetime.fromisoformat(re.sub(r"(\.\d{1,6})\d*", r"\1", value))
    except ValueError as exc:
        return str(exc)
    return None


def _check_base64(value: str) -> str:
    problem = base64_problem(value)
    if problem is not None:
        raise PydanticCustomError(
            "invalid_base64", "invalid base64: {problem}", {"problem": problem}
        )
    return value


def _check_datetime_offset(value: str) -> str:
    problem = datetime_offset_problem(value)
    if problem is not None:
        raise PydanticCustomError(
            "datetime_offset", "invalid DateTimeOffset: {problem}", {"problem": problem}
        )
    return value


Int32 = Annotated[int, Field(ge=INT32_MIN, le=INT32_MAX)]
Base64String = Annotated[str, AfterValidator(_check_base64)]
DateTimeOffset = Annotated[str, AfterValidator(_check_datetime_offset)]
ProviderType = Literal["other", "oneDriveBusiness", "oneDriveConsumer", "dropbox"]
Permission = Literal[
    "other",
    "view",
    "edit",
    "anonymousView",
    "anonymousEdit",
    "organizationView",
    "organizationEdit",
]
AttachmentKind = Literal["file", "item", "reference"]


class GraphModel(BaseModel):
    """Strict, closed model of a Graph JSON object; OData annotations are set aside."""

    model_config = ConfigDict(
        strict=True,
        extra="forbid",
        alias_generator=to_camel,
        frozen=True,
    )

    # The type's qualified name (None for shapes that are not entity types).
    odata_type_name: ClassVar[str | None] = None
    # JSON names whose value may be absent but, when present, must not be null.
    non_nullable: ClassVar[frozenset[str]] = frozenset()

    odata_type: str | None = Field(default=None, alias="@odata.type")
    _annotations: dict[str, Any] = PrivateAttr(default_factory=dict)

    @property
    def annotations(self) -> dict[str, Any]:
        """The OData annotations the JSON carried, other than ``@odata.type``."""
        return dict(self._annotations)

    @model_validator(mode="wrap")
    @classmethod
    def _set_annotations_aside(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        annotations: dict[str, Any] = {}
        if isinstance(data, dict):
            annotations = {k: v for k, v in data.items() if k != "@odata.type" and is_annotation(k)}
            if annotations:
                data = {k: v for k, v in data.items() if k not in annotations}
        instance = handler(data)
        if annotations and isinstance(instance, GraphModel):
            instance._annotations.update(annotations)
        return instance

    @field_validator("*", mode="before")
    @classmethod
    def _reject_null(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None and info.field_name is not None:
            alias = cls.model_fields[info.field_name].alias or info.field_name
            if alias in cls.non_nullable:
                raise PydanticCustomError("null_not_allowed", "null is not allowed here")
        return value

    @field_validator("odata_type")
    @classmethod
    def _check_own_type(cls, value: str | None) -> str | None:
        if value is not None and cls.odata_type_name is not None:
            if normalise_odata_type(value) != cls.odata_type_name:
                raise PydanticCustomError(
                    "odata_type_mismatch",
                    "@odata.type {seen} does not name {expected}",
                    {"seen": value, "expected": cls.odata_type_name},
                )
        return value

    @classmethod
    @functools.cache  # a class's fields never change; validation asks several times per body
    def json_properties(cls) -> tuple[str, ...]:
        """The JSON property names this model declares (``@odata.type`` included)."""
        return tuple(f.alias or name for name, f in cls.model_fields.items())


class Attachment(GraphModel):
    """``microsoft.graph.attachment``: the abstract base of Outlook attachments."""

    odata_type_name: ClassVar[str | None] = NAMESPACE + "attachment"
    non_nullable: ClassVar[frozenset[str]] = frozenset({"id", "size", "isInline"})

    id: str | None = None
    last_modified_date_time: DateTimeOffset | None = None
    name: str | None = None
    content_type: str | None = None
    size: Int32 | None = None
    is_inline: bool | None = None


class FileAttachment(Attachment):
    odata_type_name: ClassVar[str | None] = NAMESPACE + "fileAttachment"

    content_bytes: Base64String | None = None
    content_id: str | None = None
    content_location: str | None = None


class ItemAttachment(Attachment):
    odata_type_name: ClassVar[str | None] = NAMESPACE + "itemAttachment"

    # Checked loosely: an object naming a known outlookItem type. Its own properties
    # are the business of the message/event/contact schemas, not of this project.
    item: dict[str, Any] | None = None

    @field_validator("item")
    @classmethod
    def _check_item_type(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is None:
            return value
        declared = value.get("@odata.type")
        if declared is None:
            raise PydanticCustomError(
                "item_odata_type_missing",
                "item has no @odata.type",
                {"subpath": "@odata.type"},
            )
        known = isinstance(declared, str) and normalise_odata_type(declared) in OUTLOOK_ITEM_TYPES
        if not known:
            raise PydanticCustomError(
                "item_odata_type_unknown",
                "item @odata.type is not an outlookItem type",
                {"subpath": "@odata.type"},
            )
        return value


class ReferenceAttachmentV1(Attachment):
    """v1.0 documents referenceAttachment with no properties of its own."""

    odata_type_name: ClassVar[str | None] = NAMESPACE + "referenceAttachment"


class ReferenceAttachmentBeta(Attachment):
    odata_type_name: ClassVar[str | None] = NAMESPACE + "referenceAttachment"

    source_url: str | None = None
    provider_type: ProviderType | None = None
    thumbnail_url: str | None = None
    preview_url: str | None = None
    permission: Permission | None = None
    is_folder: bool | None = None


class AttachmentBase(GraphModel):
    """``microsoft.graph.attachmentBase``: the abstract base of To Do attachments."""

    odata_type_name: ClassVar[str | None] = NAMESPACE + "attachmentBase"
    non_nullable: ClassVar[frozenset[str]] = frozenset({"id", "size"})

    id: str | None = None
    last_modified_date_time: DateTimeOffset | None = None
    name: str | None = None
    content_type: str | None = None
    size: Int32 | None = None


class TaskFileAttachment(AttachmentBase):
    odata_type_name: ClassVar[str | None] = NAMESPACE + "taskFileAttachment"
    non_nullable: ClassVar[frozenset[str]] = frozenset({"id", "size", "contentBytes"})

    content_bytes: Base64String | None = None


# --- createUploadSession shapes (request parameters and the uploadSession answer) ---


class AttachmentInfo(GraphModel):
    """What To Do's createUploadSession declares about the file (``attachmentInfo``)."""

    odata_type_name: ClassVar[str | None] = NAMESPACE + "attachmentInfo"
    non_nullable: ClassVar[frozenset[str]] = frozenset({"attachmentType", "name", "size"})

    attachment_type: AttachmentKind
    name: str
    size: Int32
    content_type: str | None = None


class AttachmentItem(AttachmentInfo):
    """Outlook's ``AttachmentItem``: attachmentInfo's properties plus inline placement."""

    odata_type_name: ClassVar[str | None] = NAMESPACE + "attachmentItem"

    is_inline: bool | None = None
    content_id: str | None = None


class MessageUploadSessionRequest(GraphModel):
    """Body of createUploadSession on messages and events (docs spell it both ways)."""

    attachment_item: AttachmentItem = Field(
        alias="AttachmentItem", validation_alias=AliasChoices("AttachmentItem", "attachmentItem")
    )


class TaskUploadSessionRequest(GraphModel):
    """Body of createUploadSession on To Do tasks."""

    attachment_info: AttachmentInfo = Field(
        alias="attachmentInfo", validation_alias=AliasChoices("attachmentInfo", "AttachmentInfo")
    )


class UploadSession(GraphModel):
    odata_type_name: ClassVar[str | None] = NAMESPACE + "uploadSession"

    upload_url: str
    expiration_date_time: DateTimeOffset
    next_expected_ranges: list[str]


# --- per-type metadata --------------------------------------------------------


@dataclass(frozen=True)
class AttachmentType:
    """What the validator needs to know about one attachment type beyond its model."""

    name: str  # qualified, without '#': "microsoft.graph.fileAttachment"
    model: type[GraphModel]
    base: str  # "attachment" | "attachmentBase"
    abstract: bool
    required_on_create: frozenset[str]

    @property
    def short_name(self) -> str:
        return self.name.removeprefix(NAMESPACE)

    @property
    def properties(self) -> tuple[str, ...]:
        return self.model.json_properties()

    @property
    def read_only(self) -> frozenset[str]:
        return READ_ONLY_PROPERTIES & frozenset(self.properties)

    @property
    def required_in_response(self) -> frozenset[str]:
        # The service sets the read-only properties, so a created entity carries them.
        return self.read_only


def _type(
    model: type[GraphModel],
    base: str,
    *,
    abstract: bool = False,
    required: frozenset[str] = frozenset(),
) -> AttachmentType:
    assert model.odata_type_name is not None
    return AttachmentType(model.odata_type_name, model, base, abstract, required)


def _name_and(extra: str) -> frozenset[str]:
    return frozenset({"name", extra})

_COMMON_TYPES: tuple[AttachmentType, ...] = (
    _type(Attachment, "attachment", abstract=True),
    _type(FileAttachment, "attachment", required=_name_and("contentBytes")),
    _type(ItemAttachment, "attachment", required=_name_and("item")),
    _type(AttachmentBase, "attachmentBase", abstract=True),
    _type(TaskFileAttachment, "attachmentBase", required=_name_and("contentBytes")),
)

# By API version, then qualified name. referenceAttachment is the one type whose shape
# differs: v1.0 documents no sourceUrl, so nothing beyond name can be required there.
ATTACHMENT_TYPES: dict[str, dict[str, AttachmentType]] = {
    "v1.0": {
        t.name: t
        for t in (
            *_COMMON_TYPES,
            _type(ReferenceAttachmentV1, "attachment", required=frozenset({"name"})),
        )
    },
    "beta": {
        t.name: t
        for t in (
            *_COMMON_TYPES,
            _type(ReferenceAttachmentBeta, "attachment", required=_name_and("sourceUrl")),
        )
    },
}


def type_info(odata_type: str, api_version: str) -> AttachmentType | None:
    """Metadata of an attachment type by ``@odata.type`` (with or without '#')."""
    types = ATTACHMENT_TYPES.get(api_version)
    if types is None:
        return None
    return types.get(normalise_odata_type(odata_type))


def model_for(odata_type: str, api_version: str) -> type[GraphModel] | None:
    """The model of an attachment type by ``@odata.type``, or None when unknown."""
    info = type_info(odata_type, api_version)
    return info.model if info is not None else None


def concrete_types_for_base(base: str, api_version: str) -> tuple[AttachmentType, ...]:
    """The creatable subtypes of ``attachment`` or ``attachmentBase``."""
    types = ATTACHMENT_TYPES.get(api_version, {})
    return tuple(t for t in types.values() if t.base == base and not t.abstract)


def upload_session_request_model(base: str) -> type[GraphModel]:
    """The createUploadSession body model for a route's base type."""
    return TaskUploadSessionRequest if base == "attachmentBase" else MessageUploadSessionRequest
