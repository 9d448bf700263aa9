"""The entities the simulator stores and answers: attachments and their parents.

Attachments come back as Graph returns them: every documented property of their type, in
the schema's order, service-set ones filled in, absent ones null; an itemAttachment's
``item`` is a navigation property, so it is kept but shown only when expanded
(``$expand=microsoft.graph.itemattachment/item``), as the attachment-get page shows.

Where Graph's documentation leaves a value open, the simulator's choice is stated here:
- ``size``: Outlook reports the stored item's size, a little over the file's. The simulator
  adds a fixed 160 bytes to a file's decoded length (an item's: its JSON's length; a
  reference's: 160); To Do's ``taskFileAttachment`` reports the file's length, as the To Do
  examples do.
- ``contentType`` of a file sent without one: from the file name's extension.
- ids: Outlook-style (``AAMkA...``, URL-safe base64), unique per simulator run.
- parents: the properties posted, plus the service-set ones of the documented resource
  (id, timestamps, ``hasAttachments``...) with the documented defaults.
- ``$value`` of an item attachment: the item as MIME (message), iCalendar (event) or vCard
  (contact), built from the item's JSON; Graph's exact serialisation is not documented.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

from graphtape.addons.graph.models import READ_ONLY_PROPERTIES, is_annotation
from graphtape.addons.simulation.responses import dumps

__all__ = [
    "ATTACHMENT_OVERHEAD_BYTES",
    "PARENT_TYPES",
    "attachment_entity",
    "content_type_for_name",
    "decoded_content",
    "item_as_mime",
    "parent_entity",
    "selected",
]

# Outlook reports an attachment's size as the stored item's, a little over the file's.
ATTACHMENT_OVERHEAD_BYTES = 160
_WHITESPACE = str.maketrans("", "", " \t\r\n")

_CONTENT_TYPES_BY_EXTENSION: dict[str, str] = {
    "txt": "text/plain", "csv": "text/csv", "htm": "text/html", "html": "text/html", "ics": "text/calendar",
    "xml": "application/xml", "json": "application/json", "pdf": "application/pdf", "zip": "application/zip",
    "png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif", "bmp": "image/bmp",
    "svg": "image/svg+xml", "eml": "message/rfc822", "doc": "application/msword",
    "xls": "application/vnd.ms-excel", "ppt": "application/vnd.ms-powerpoint",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}


def content_type_for_name(name: object) -> str:
    """The content type Graph-like services give a file by its extension."""
    if isinstance(name, str) and "." in name:
        extension = name.rsplit(".", 1)[1].lower()
        return _CONTENT_TYPES_BY_EXTENSION.get(extension, "application/octet-stream")
    return "application/octet-stream"


def decoded_content(value: object) -> bytes:
    """``contentBytes`` decoded (whitespace ignored, as .NET's reader does); b"" when absent or bad."""
    if not isinstance(value, str):
        return b""
    try:
        return base64.b64decode(value.translate(_WHITESPACE))
    except (binascii.Error, ValueError):
        return b""


def _size(base: str, sent: Mapping[str, Any]) -> int:
    content = sent.get("contentBytes")
    if isinstance(content, str):
        decoded = len(decoded_content(content))
        return decoded if base == "attachmentBase" else decoded + ATTACHMENT_OVERHEAD_BYTES
    item = sent.get("item")
    if item is not None:
        return len(dumps(item)) + ATTACHMENT_OVERHEAD_BYTES
    return ATTACHMENT_OVERHEAD_BYTES


def attachment_entity(type_name: str, base: str, properties: tuple[str, ...], posted: Mapping[str, Any],
                      attachment_id: str, now: str) -> dict[str, Any]:
    """The stored attachment: ``@odata.type``, then every documented property in order.

    ``item`` (an itemAttachment's navigation property) is stored too; answers show it only when expanded."""
    sent = {k: v for k, v in posted.items()
            if k != "@odata.type" and not is_annotation(k) and k not in READ_ONLY_PROPERTIES}
    service_set: dict[str, Any] = {"id": attachment_id, "lastModifiedDateTime": now, "size": _size(base, sent)}
    defaults: dict[str, Any] = {"isInline": False}
    if "contentBytes" in properties:
        defaults["contentType"] = content_type_for_name(sent.get("name"))
    entity: dict[str, Any] = {"@odata.type": "#" + type_name}
    for prop in properties:
        if prop == "@odata.type":
            continue
        if prop in service_set:
            entity[prop] = service_set[prop]
        elif sent.get(prop) is not None:
            entity[prop] = sent[prop]
        elif prop in defaults:
            entity[prop] = defaults[prop]
        elif prop != "item":
            entity[prop] = None
    return entity


def selected(entity: Mapping[str, Any], select: tuple[str, ...]) -> dict[str, Any]:
    """``$select``: ``@odata.type`` and ``id`` always, then the chosen properties in the
    entity's order; a fileAttachment without its ``contentBytes`` names its media type in
    ``@odata.mediaContentType`` (the outlook-large-attachments page's $select example)."""
    if not select:
        return dict(entity)
    wanted = {s.lower() for s in select}
    out: dict[str, Any] = {}
    if "@odata.type" in entity:
        out["@odata.type"] = entity["@odata.type"]
    is_file = str(entity.get("@odata.type", "")).lower().endswith("fileattachment")
    if is_file and "contentbytes" not in wanted and entity.get("contentType") is not None:
        out["@odata.mediaContentType"] = entity["contentType"]
    for key, value in entity.items():
        if key == "id" or key.lower() in wanted:
            out[key] = value
    return out


# --- parents ----------------------------------------------------------------------------

# By route container: the Graph type and the service-set properties with their documented
# defaults (message, event, todoTask, outlookTask and post resource pages).
PARENT_TYPES: dict[str, tuple[str, dict[str, Any]]] = {
    "message": ("microsoft.graph.message", {
        "categories": [], "receivedDateTime": None, "sentDateTime": None, "hasAttachments": False,
        "subject": None, "bodyPreview": "", "importance": "normal", "isDeliveryReceiptRequested": False,
        "isReadReceiptRequested": False, "isRead": True, "isDraft": True, "inferenceClassification": "focused",
        "body": {"contentType": "text", "content": ""}, "toRecipients": [], "ccRecipients": [],
        "bccRecipients": [], "replyTo": [], "flag": {"flagStatus": "notFlagged"}}),
    "event": ("microsoft.graph.event", {
        "categories": [], "reminderMinutesBeforeStart": 15, "isReminderOn": True, "hasAttachments": False,
        "subject": None, "bodyPreview": "", "importance": "normal", "sensitivity": "normal", "isAllDay": False,
        "isCancelled": False, "isOrganizer": True, "responseRequested": True, "showAs": "busy",
        "type": "singleInstance", "isOnlineMeeting": False, "isDraft": False,
        "body": {"contentType": "text", "content": ""}, "start": None, "end": None, "attendees": []}),
    "todoTask": ("microsoft.graph.todoTask", {
        "importance": "normal", "isReminderOn": False, "status": "notStarted", "title": None,
        "hasAttachments": False, "categories": [], "body": {"content": "", "contentType": "text"}}),
    "outlookTask": ("microsoft.graph.outlookTask", {
        "categories": [], "hasAttachments": False, "importance": "normal", "isReminderOn": False,
        "sensitivity": "normal", "status": "notStarted", "subject": None,
        "body": {"contentType": "text", "content": ""}}),
    "post": ("microsoft.graph.post", {
        "categories": [], "hasAttachments": False, "body": {"contentType": "text", "content": ""},
        "newParticipants": []}),
}

_TIMESTAMPED = ("createdDateTime", "lastModifiedDateTime")


def parent_entity(container: str, posted: Mapping[str, Any], parent_id: str, now: str,
                  change_key: str) -> dict[str, Any]:
    """A created parent: id, timestamps and change key, the documented defaults, then what was posted."""
    type_name, defaults = PARENT_TYPES.get(container, ("microsoft.graph.outlookItem", {}))
    entity: dict[str, Any] = {"@odata.type": "#" + type_name, "id": parent_id}
    for prop in _TIMESTAMPED:
        entity[prop] = now
    if container != "todoTask":
        entity["changeKey"] = change_key
    for prop, value in defaults.items():
        entity[prop] = posted.get(prop, value)
    for prop, value in posted.items():
        if prop not in entity and prop not in ("id", "attachments", "@odata.type") and not is_annotation(prop):
            entity[prop] = value
    return entity


# --- raw contents of item attachments -----------------------------------------------------

def _address(recipient: object) -> str:
    if isinstance(recipient, dict):
        email = recipient.get("emailAddress")
        if isinstance(email, dict):
            name, address = email.get("name"), email.get("address")
            return f"{name} <{address}>" if name else str(address or "")
    return ""


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def item_as_mime(item: Mapping[str, Any]) -> tuple[bytes, str]:
    """An item attachment's raw contents: (bytes, content type)."""
    kind = str(item.get("@odata.type", "")).lstrip("#").lower().removeprefix("microsoft.graph.")
    body = item.get("body")
    content = _text(body.get("content")) if isinstance(body, dict) else ""
    if kind == "event":
        start = item.get("start") if isinstance(item.get("start"), dict) else {}
        end = item.get("end") if isinstance(item.get("end"), dict) else {}
        lines = ["BEGIN:VCALENDAR", "METHOD:PUBLISH", "PRODID:graphtape simulator", "VERSION:2.0", "BEGIN:VEVENT",
                 f"SUMMARY:{_text(item.get('subject'))}",
                 f"DTSTART:{_text(start.get('dateTime') if isinstance(start, dict) else '')}",
                 f"DTEND:{_text(end.get('dateTime') if isinstance(end, dict) else '')}",
                 f"DESCRIPTION:{content}", "END:VEVENT", "END:VCALENDAR"]
        return ("\r\n".join(lines) + "\r\n").encode("utf-8"), "text/calendar"
    if kind == "contact":
        given, surname = _text(item.get("givenName")), _text(item.get("surname"))
        full_name = _text(item.get("displayName")) or f"{given} {surname}".strip()
        lines = ["BEGIN:VCARD", "VERSION:3.0", f"FN:{full_name}",
                 f"N:{surname};{given};;;", "END:VCARD"]
        return ("\r\n".join(lines) + "\r\n").encode("utf-8"), "text/vcard"
    recipients = item.get("toRecipients")
    to = ", ".join(_address(r) for r in recipients) if isinstance(recipients, list) else ""
    headers = [f"From: {_address(item.get('from'))}", f"To: {to}", f"Subject: {_text(item.get('subject'))}",
               "MIME-Version: 1.0", "Content-Type: text/plain; charset=\"utf-8\""]
    return ("\r\n".join(headers) + "\r\n\r\n" + content).encode("utf-8"), "message/rfc822"
