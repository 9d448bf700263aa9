"""The Graph rules the metadata cannot express, each row with the documentation page it comes from.

Microsoft's CSDL gives types, nullability and routes; sizes, which properties a client may
not or must send, and the success status of each kind of call are documented on the API
reference pages instead. graphtape reads MB as MiB throughout (3 MB = 3 * 1024 * 1024 bytes),
the stricter reading where a limit is an upper bound.

Everything else in graphtape (validation, upload checks, the simulator) imports its limits
from here; ``graphtape schema --format json`` prints this table.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "LIMITS",
    "MAX_CHUNK_BYTES",
    "MAX_FILE_BYTES",
    "MAX_REQUEST_BYTES",
    "PROPERTY_RULES",
    "STATUS_RULES",
    "TODO_UPLOAD_SESSION_MAX_BYTES",
    "UPLOAD_SESSION_MAX_BYTES",
    "UPLOAD_SESSION_MIN_BYTES",
    "Limit",
    "PropertyRule",
    "StatusRule",
    "read_only_properties",
    "required_on_create",
    "success_statuses",
]

MB = 1024 * 1024
_BOTH = frozenset({"v1.0", "beta"})


@dataclass(frozen=True)
class Limit:
    """A size Graph enforces, in bytes."""

    key: str
    bytes: int
    rule: str
    source: str  # the Microsoft documentation page that states it


LIMITS: tuple[Limit, ...] = (
    Limit(
        "inline_file",
        3 * MB,
        "a file attached in one request (POST to attachments, or inline in a message, event or post)"
        " is under 3 MB",
        "https://learn.microsoft.com/en-us/graph/api/message-post-attachments",
    ),
    Limit(
        "request",
        4 * MB,
        "a request body over 4 MB is refused (400 'Maximum request length exceeded.' or 413)",
        "https://learn.microsoft.com/en-us/answers/questions/1824204/graph-api-user-sendmail-request-size-limit",
    ),
    Limit(
        "upload_session_min",
        3 * MB,
        "an Outlook upload session is for a file of 3 MB or more; smaller ones are refused with"
        " ErrorAttachmentSizeShouldNotBeLessThanMinimumSize",
        "https://learn.microsoft.com/en-us/graph/outlook-large-attachments",
    ),
    Limit(
        "upload_session_max",
        150 * MB,
        "an Outlook upload session (message, event, post) takes a file of at most 150 MB",
        "https://learn.microsoft.com/en-us/graph/api/attachment-createuploadsession",
    ),
    Limit(
        "todo_upload_session_max",
        25 * MB,
        "a To Do upload session takes a file of any size up to 25 MB",
        "https://learn.microsoft.com/en-us/graph/api/taskfileattachment-createuploadsession",
    ),
    Limit(
        "upload_chunk",
        4 * MB,
        "each PUT to an upload URL carries under 4 MB",
        "https://learn.microsoft.com/en-us/graph/api/attachment-createuploadsession",
    ),
)

_BY_KEY = {limit.key: limit.bytes for limit in LIMITS}
MAX_FILE_BYTES = _BY_KEY["inline_file"]
MAX_REQUEST_BYTES = _BY_KEY["request"]
UPLOAD_SESSION_MIN_BYTES = _BY_KEY["upload_session_min"]
UPLOAD_SESSION_MAX_BYTES = _BY_KEY["upload_session_max"]
TODO_UPLOAD_SESSION_MAX_BYTES = _BY_KEY["todo_upload_session_max"]
MAX_CHUNK_BYTES = _BY_KEY["upload_chunk"]


@dataclass(frozen=True)
class PropertyRule:
    """Properties of a type (and its subtypes) that are read-only, or required when creating one."""

    kind: str  # "read-only" | "required-on-create"
    type: str  # short name: the rule holds for this type and every type derived from it
    properties: frozenset[str]
    versions: frozenset[str]
    source: str


PROPERTY_RULES: tuple[PropertyRule, ...] = (
    # The attachment pages mark only the id read-only: a client sending size, isInline or
    # lastModifiedDateTime is not at fault (the service sets size regardless).
    PropertyRule("read-only", "attachment", frozenset({"id"}), _BOTH,
                 "https://learn.microsoft.com/en-us/graph/api/resources/attachment"),
    PropertyRule("read-only", "attachmentBase", frozenset({"id"}), _BOTH,
                 "https://learn.microsoft.com/en-us/graph/api/resources/attachmentbase"),
    PropertyRule("required-on-create", "fileAttachment", frozenset({"name", "contentBytes"}), _BOTH,
                 "https://learn.microsoft.com/en-us/graph/api/resources/fileattachment"),
    # Exchange refuses an item attachment without its item (ErrorMissingItemForCreateItemAttachment).
    PropertyRule("required-on-create", "itemAttachment", frozenset({"item"}), _BOTH,
                 "https://learn.microsoft.com/en-us/openspecs/exchange_server_protocols/ms-oxwsatt/46a7d12e-f378-4bbe-beab-8c0f97002685"),
    # v1.0's referenceAttachment has no sourceUrl; beta's page marks name and sourceUrl required.
    PropertyRule("required-on-create", "referenceAttachment", frozenset({"name", "sourceUrl"}), frozenset({"beta"}),
                 "https://learn.microsoft.com/en-us/graph/api/resources/referenceattachment?view=graph-rest-beta"),
    PropertyRule("required-on-create", "taskFileAttachment", frozenset({"name", "contentBytes"}), _BOTH,
                 "https://learn.microsoft.com/en-us/graph/api/todotask-post-attachments"),
    # createUploadSession: "At minimum, specify the attachment type (file), a name, and the size".
    PropertyRule("required-on-create", "attachmentItem", frozenset({"attachmentType", "name", "size"}), _BOTH,
                 "https://learn.microsoft.com/en-us/graph/api/attachment-createuploadsession"),
    PropertyRule("required-on-create", "attachmentInfo", frozenset({"attachmentType", "name", "size"}), _BOTH,
                 "https://learn.microsoft.com/en-us/graph/api/taskfileattachment-createuploadsession"),
)


def read_only_properties(types: str | Iterable[str], versions: Iterable[str]) -> frozenset[str]:
    """Read-only properties of a type, given the short names of it and its base types."""
    names = {types} if isinstance(types, str) else set(types)
    wanted = set(versions)
    return frozenset(
        p for rule in PROPERTY_RULES
        if rule.kind == "read-only" and rule.type in names and rule.versions & wanted
        for p in rule.properties
    )


def required_on_create(type_name: str, api_version: str) -> frozenset[str]:
    """What a request creating a ``type_name`` (short name) must send, not null."""
    return frozenset(
        p for rule in PROPERTY_RULES
        if rule.kind == "required-on-create" and rule.type == type_name and api_version in rule.versions
        for p in rule.properties
    )


@dataclass(frozen=True)
class StatusRule:
    """The status a successful call of one kind answers with."""

    operation: str  # a route Operation value; "inlineAction+returns" for actions that return an entity
    container: str | None  # None: every container; else only routes whose attachments sit on it
    statuses: tuple[int, ...]
    source: str


STATUS_RULES: tuple[StatusRule, ...] = (
    StatusRule("create", None, (201,), "https://learn.microsoft.com/en-us/graph/api/message-post-attachments"),
    StatusRule("createUploadSession", None, (201,),
               "https://learn.microsoft.com/en-us/graph/api/attachment-createuploadsession"),
    # The To Do action's page says 200 OK, its walkthrough 201 Created: both are Graph's.
    StatusRule("createUploadSession", "todoTask", (200, 201),
               "https://learn.microsoft.com/en-us/graph/api/taskfileattachment-createuploadsession"),
    StatusRule("inlineAction", None, (202,), "https://learn.microsoft.com/en-us/graph/api/user-sendmail"),
    StatusRule("inlineAction+returns", None, (201,), "https://learn.microsoft.com/en-us/graph/api/message-createreply"),
    StatusRule("inlineCreate", None, (201,), "https://learn.microsoft.com/en-us/graph/api/user-post-messages"),
)


def success_statuses(operation: str, container: str) -> tuple[int, ...]:
    """The documented success statuses of a call (``operation`` as in :data:`STATUS_RULES`)."""
    specific = [r for r in STATUS_RULES if r.operation == operation and r.container == container]
    general = [r for r in STATUS_RULES if r.operation == operation and r.container is None]
    chosen = (specific or general)
    return chosen[0].statuses if chosen else (201,)
