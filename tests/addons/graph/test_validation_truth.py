"""Request and response bodies judged against the truth of a Microsoft artifact.

Every row names where its expected answer comes from: a Graph documentation page (its
published example, flaws included), an msgraph-sdk 1.62.0 model class (how the official SDK
serializes a body), or the CSDL type the body is declared as (v1.0.csdl.xml / beta-usnat.csdl.xml,
msgraph-metadata f54f11b). The expected findings are the exact set graphtape must report:
(code, JSON path, severity); an empty set means the body is clean.

Severities: error where Graph refuses the call (or the CSDL type cannot hold the value),
warning where Graph's own examples do it and its service accepts it but the schema says
otherwise (enum members in another case), info for what answers legitimately leave out
(``@odata.type`` in a response).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from graphtape.addons.graph.routes import match_route
from graphtape.addons.graph.validation import validate_request, validate_response
from graphtape.cassettes.findings import Severity

E, W, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO
JSON = {"content-type": "application/json"}
SEED = Path(__file__).resolve().parents[2] / "fixtures" / "seed-create-attachments.md"

DOCS = "https://learn.microsoft.com/en-us/graph/api/"
ADD_V1 = DOCS + "message-post-attachments?view=graph-rest-1.0"
ADD_BETA = DOCS + "message-post-attachments?view=graph-rest-beta"
TODO_ADD = DOCS + "todotask-post-attachments"
SESSION = DOCS + "attachment-createuploadsession"
TODO_SESSION = DOCS + "taskfileattachment-createuploadsession"
SENDMAIL = DOCS + "user-sendmail"
POST_REPLY = DOCS + "post-reply"
SDK = "msgraph-sdk 1.62.0 "
CSDL_V1 = "CSDL v1.0 "
CSDL_BETA = "CSDL beta "

MSG_V1 = "/v1.0/me/messages/AAMkpsDRVK/attachments"
MSG_BETA = "/beta/me/messages/AAMkpsDRVK/attachments"
EVENT_V1 = "/v1.0/me/events/AAMkAGI1AAAt9AHjAAA=/attachments"
TODO_V1 = "/v1.0/me/todo/lists/AAMkpsDRVK=/tasks/AAKdfjhgsjhgJ=/attachments"
SESSION_V1 = "/v1.0/me/messages/AAMkADI5MAAIT3drCAAA=/attachments/createUploadSession"
TODO_SESSION_V1 = "/v1.0/me/todo/lists/AAMDiFkfh=/tasks/AAMkADliMm=/attachments/createUploadSession"

SDK_FILE = {"@odata.type": "#microsoft.graph.fileAttachment", "name": "menu.txt", "contentType": "text/plain",
            "contentBytes": "SGVsbG8gV29ybGQh"}
SDK_TASK_FILE = {"@odata.type": "#microsoft.graph.taskFileAttachment", "name": "smile", "contentType": "image/gif",
                 "contentBytes": "R0lGODdhEAYEAA7A"}
BIG = base64.b64encode(b"\0" * (3 * 1024 * 1024 + 1)).decode()

# The seed page's example bodies, verbatim (its own table says size is an Int32).
SEED_REQUEST = """{
  "@odata.type": "#microsoft.graph.attachment",
  "name": "String",
  "contentType": "String",
  "size": "Integer",
  "isInline": "Boolean"
}"""
SEED_RESPONSE = """{
  "@odata.type": "#microsoft.graph.attachment",
  "id": "6c1aa742-a742-6c1a-42a7-1a6c42a71a6c",
  "lastModifiedDateTime": "String (timestamp)",
  "name": "String",
  "contentType": "String",
  "size": "Integer",
  "isInline": "Boolean"
}"""

ITEM_EVENT_BETA = {  # the beta "Add attachment" page's item attachment example
    "@odata.type": "#microsoft.graph.itemAttachment",
    "name": "Holiday event",
    "item": {
        "@odata.type": "microsoft.graph.event",
        "subject": "Discuss gifts for children",
        "body": {"contentType": "HTML", "content": "Let's look for funding!"},
        "start": {"dateTime": "2016-12-02T18:00:00", "timeZone": "Pacific Standard Time"},
        "end": {"dateTime": "2016-12-02T19:00:00", "timeZone": "Pacific Standard Time"},
    },
}
REFERENCE_BETA = {  # the same page's reference attachment example
    "@odata.type": "#microsoft.graph.referenceAttachment",
    "name": "Personal pictures",
    "sourceUrl": "https://contoso.com/personal/mario_contoso_net/Documents/Pics",
    "providerType": "oneDriveConsumer",
    "permission": "Edit",
    "isFolder": "True",
}
SENDMAIL_WITH_FILE = {  # user-sendmail, example 3
    "message": {
        "subject": "Meet for lunch?",
        "body": {"contentType": "Text", "content": "The new cafeteria is open."},
        "toRecipients": [{"emailAddress": {"address": "meganb@contoso.com"}}],
        "attachments": [{"@odata.type": "#microsoft.graph.fileAttachment", "name": "attachment.txt",
                         "contentType": "text/plain", "contentBytes": "SGVsbG8gV29ybGQh"}],
    }
}
POST_REPLY_EXAMPLE = {  # post-reply's example, as published (placeholder values included)
    "post": {
        "body": {"contentType": "", "content": "content-value"},
        "receivedDateTime": "datetime-value",
        "hasAttachments": True,
        "from": {"emailAddress": {"name": "name-value", "address": "address-value"}},
        "sender": {"emailAddress": {"name": "name-value", "address": "address-value"}},
        "conversationThreadId": "conversationThreadId-value",
        "newParticipants": [{"emailAddress": {"name": "name-value", "address": "address-value"}}],
        "conversationId": "conversationId-value",
        "createdDateTime": "datetime-value",
        "lastModifiedDateTime": "datetime-value",
        "changeKey": "changeKey-value",
        "categories": ["categories-value"],
        "id": "id-value",
        "inReplyTo": {},
        "attachments": [{"lastModifiedDateTime": "datetime-value", "name": "name-value",
                         "contentType": "contentType-value", "size": 99, "isInline": True, "id": "id-value"}],
    }
}
CREATED_MESSAGE = {  # a draft as createReply answers it: every value as the CSDL message type has it
    "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users('u')/messages/$entity",
    "@odata.etag": 'W/"CQAAABYAAAC4ofQHEIqCSbQPot83AFcbAAAW4dzS"',
    "id": "AAMkADA1MTAAAAqldOAAA=",
    "createdDateTime": "2018-03-21T08:36:41Z",
    "lastModifiedDateTime": "2018-03-21T08:36:41Z",
    "changeKey": "CQAAABYAAAC4ofQHEIqCSbQPot83AFcbAAAW4dzS",
    "categories": [],
    "receivedDateTime": "2018-03-21T08:36:41Z",
    "sentDateTime": "2018-03-21T08:36:41Z",
    "hasAttachments": False,
    "internetMessageId": "<MWHPR130MB1358@MWHPR130MB1358.namprd13.prod.outlook.com>",
    "subject": "RE: Meet for lunch?",
    "bodyPreview": "",
    "importance": "normal",
    "parentFolderId": "AAMkADA1MTAAAAEPAAA=",
    "conversationId": "AAQkADA1MTUkOCf4bA1EnY=",
    "conversationIndex": "AdPA6Pm4sR6dzG6W",
    "isDeliveryReceiptRequested": False,
    "isReadReceiptRequested": False,
    "isRead": True,
    "isDraft": True,
    "webLink": "https://outlook.office365.com/owa/?ItemID=AAMkADA1MTAAAAqldOAAA%3D&exvsurl=1&viewmodel=ReadMessageItem",
    "inferenceClassification": "focused",
    "body": {"contentType": "html", "content": "<html><body></body></html>"},
    "sender": {"emailAddress": {"name": "Adele Vance", "address": "AdeleV@contoso.com"}},
    "from": {"emailAddress": {"name": "Adele Vance", "address": "AdeleV@contoso.com"}},
    "toRecipients": [{"emailAddress": {"name": "Megan Bowen", "address": "MeganB@contoso.com"}}],
    "ccRecipients": [],
    "bccRecipients": [],
    "replyTo": [],
    "flag": {"flagStatus": "notFlagged"},
}


@dataclass(frozen=True)
class Case:
    id: str
    truth: str  # the Microsoft artifact the expected answer comes from
    route: str  # the path POSTed to
    body: Any  # dict, or the JSON text as published
    expected: set[tuple[str, str, Severity]] = field(default_factory=set)
    status: int | None = None  # set: a response with this status
    request: Any = None  # a response's request body


def _bytes(body: Any) -> bytes:
    if body is None:
        return b""
    return body.encode() if isinstance(body, str) else json.dumps(body).encode()


CASES: list[Case] = [
    # --- direct POSTs to an attachments collection -------------------------------------------------
    Case("v1.0 docs file example: contentBytes is 15 characters", ADD_V1, MSG_V1,
         {"@odata.type": "#microsoft.graph.fileAttachment", "name": "smile", "contentBytes": "R0lGODdhEAYEAA7"},
         {("invalid-base64", "$.contentBytes", E)}),
    Case("beta docs file example: contentBytes is 13 characters", ADD_BETA, MSG_BETA,
         {"@odata.type": "#microsoft.graph.fileAttachment", "name": "smile", "contentBytes": "a0b1c76de9f7="},
         {("invalid-base64", "$.contentBytes", E)}),
    Case("beta docs item example: body contentType HTML (bodyType is html)", ADD_BETA + "; " + CSDL_BETA + "bodyType",
         MSG_BETA, ITEM_EVENT_BETA, {("enum-value", "$.item.body.contentType", W)}),
    Case("beta docs reference example: isFolder \"True\", permission \"Edit\"",
         ADD_BETA + "; " + CSDL_BETA + "referenceAttachment", MSG_BETA, REFERENCE_BETA,
         {("wrong-type", "$.isFolder", E), ("enum-value", "$.permission", W)}),
    Case("To Do docs example: contentBytes is 13 characters", TODO_ADD, TODO_V1,
         {"@odata.type": "#microsoft.graph.taskFileAttachment", "name": "smile", "contentBytes": "a0b1c76de9f7=",
          "contentType": "image/gif"}, {("invalid-base64", "$.contentBytes", E)}),
    Case("the seed page's request: abstract type, size \"Integer\", isInline \"Boolean\"",
         "the seed 'Create attachments' page; " + CSDL_V1 + "attachment (Abstract, size Int32)", MSG_BETA,
         SEED_REQUEST, {("abstract-odata-type", "$.@odata.type", E), ("wrong-type", "$.size", E),
                        ("wrong-type", "$.isInline", E)}),
    Case("SDK FileAttachment as it serializes", SDK + "models/file_attachment.py", MSG_V1, SDK_FILE),
    Case("SDK FileAttachment to an event", SDK + "models/file_attachment.py", EVENT_V1, {**SDK_FILE, "isInline": True,
                                                                                        "contentId": "logo"}),
    Case("SDK TaskFileAttachment to a To Do task", SDK + "models/task_file_attachment.py", TODO_V1, SDK_TASK_FILE),
    Case("SDK ItemAttachment holding a message", SDK + "models/item_attachment.py", MSG_V1,
         {"@odata.type": "#microsoft.graph.itemAttachment", "name": "fwd",
          "item": {"@odata.type": "#microsoft.graph.message", "subject": "s", "importance": "high",
                   "toRecipients": [{"emailAddress": {"address": "a@contoso.com"}}]}}),
    Case("no @odata.type: attachment is abstract (Graph answers 422)", CSDL_V1 + "attachment Abstract=true", MSG_V1,
         {"name": "a.txt", "contentBytes": "SGVsbG8="}, {("missing-odata-type", "$.@odata.type", E)}),
    Case("a fileAttachment on a To Do task", CSDL_V1 + "todoTask.attachments Collection(attachmentBase)", TODO_V1,
         SDK_FILE, {("odata-type-not-allowed-on-route", "$.@odata.type", E)}),
    Case("a taskFileAttachment on a message", CSDL_V1 + "message.attachments Collection(attachment)", MSG_V1,
         SDK_TASK_FILE, {("odata-type-not-allowed-on-route", "$.@odata.type", E)}),
    Case("an Outlook task item on v1.0", CSDL_V1 + "(no outlookTask type)", MSG_V1,
         {"@odata.type": "#microsoft.graph.itemAttachment", "name": "t",
          "item": {"@odata.type": "#microsoft.graph.outlookTask", "subject": "s"}},
         {("unknown-odata-type", "$.item.@odata.type", E)}),
    Case("an Outlook task item on beta", CSDL_BETA + "outlookTask derives from outlookItem", MSG_BETA,
         {"@odata.type": "#microsoft.graph.itemAttachment", "name": "t",
          "item": {"@odata.type": "#microsoft.graph.outlookTask", "subject": "s", "status": "notStarted"}}),
    Case("a mailboxItem item on v1.0", SDK + "models/outlook_item.py discriminator", MSG_V1,
         {"@odata.type": "#microsoft.graph.itemAttachment", "name": "m",
          "item": {"@odata.type": "#microsoft.graph.mailboxItem", "size": 10, "type": "IPM.Note"}}),
    Case("an event item's attendee of type mandatory", CSDL_V1 + "attendeeType (required, optional, resource)",
         EVENT_V1, {"@odata.type": "#microsoft.graph.itemAttachment", "name": "e",
                    "item": {"@odata.type": "#microsoft.graph.event",
                             "attendees": [{"type": "mandatory", "emailAddress": {"address": "a@b.c"}}]}},
         {("enum-value", "$.item.attendees[0].type", E)}),
    Case("sourceUrl on v1.0's referenceAttachment", CSDL_V1 + "referenceAttachment (no own properties)", MSG_V1,
         {"@odata.type": "#microsoft.graph.referenceAttachment", "name": "x", "sourceUrl": "https://x"},
         {("unknown-property", "$.sourceUrl", E)}),
    Case("attachment size of 3 GB", CSDL_V1 + "attachment.size Edm.Int32", MSG_V1, {**SDK_FILE, "size": 3 * 2**30},
         {("wrong-type", "$.size", E)}),
    Case("a 3 MB file in one POST (4 MB of base64)", ADD_V1 + " (under 3 MB); 4 MB request limit (limits.py)", MSG_V1,
         {**SDK_FILE, "contentBytes": BIG}, {("file-too-large", "$.contentBytes", E), ("request-too-large", "$body", E)}),
    # --- upload sessions -----------------------------------------------------------------------------
    Case("createUploadSession docs example", SESSION, SESSION_V1,
         {"AttachmentItem": {"attachmentType": "file", "name": "flower", "size": 3483322}}),
    Case("createUploadSession docs inline example", SESSION, SESSION_V1,
         {"AttachmentItem": {"attachmentType": "file", "name": "scenary", "size": 7208534, "isInline": True,
                             "contentId": "my_inline_picture"}}),
    Case("parameter spelled in lower case", CSDL_V1 + "createUploadSession(AttachmentItem); names match case-insensitively",
         SESSION_V1, {"attachmentItem": {"attachmentType": "file", "name": "flower", "size": 3483322}}),
    Case("a 3 GB session: an Int64, but over 150 MB", CSDL_V1 + "attachmentItem.size Edm.Int64; " + SESSION,
         SESSION_V1, {"AttachmentItem": {"attachmentType": "file", "name": "big.iso", "size": 3 * 2**30}},
         {("upload-session-too-large", "$.AttachmentItem.size", E)}),
    Case("a 1 KB session (ErrorAttachmentSizeShouldNotBeLessThanMinimumSize)",
         "https://learn.microsoft.com/en-us/graph/outlook-large-attachments", SESSION_V1,
         {"AttachmentItem": {"attachmentType": "file", "name": "a.pdf", "size": 1024}},
         {("upload-session-small-file", "$.AttachmentItem.size", E)}),
    Case("To Do session docs example", TODO_SESSION, TODO_SESSION_V1,
         {"attachmentInfo": {"attachmentType": "file", "name": "flower", "size": 3483322}}),
    Case("To Do session without the file's name", TODO_SESSION + " (at minimum: type, name, size)", TODO_SESSION_V1,
         {"attachmentInfo": {"attachmentType": "file", "size": 5}}, {("missing-required-property", "$.attachmentInfo.name", E)}),
    Case("session without its parameter", CSDL_V1 + "createUploadSession AttachmentItem Nullable=false", SESSION_V1,
         {"name": "flower"}, {("missing-required-property", "$.AttachmentItem", E), ("unknown-property", "$.name", E)}),
    # --- attachments sent inline -----------------------------------------------------------------------
    Case("sendMail docs example 3: a file inline, body contentType Text", SENDMAIL + " (example 3); " + CSDL_V1 + "bodyType",
         "/v1.0/me/sendMail", SENDMAIL_WITH_FILE, {("enum-value", "$.message.body.contentType", W)}),
    Case("sendMail docs example 1: saveToSentItems \"false\"", SENDMAIL + " (example 1); " + CSDL_V1 + "sendMail(SaveToSentItems Edm.Boolean)",
         "/v1.0/me/sendMail",
         {"message": {"subject": "Meet for lunch?", "body": {"contentType": "text", "content": "x"},
                      "toRecipients": [{"emailAddress": {"address": "frannis@contoso.com"}}]},
          "saveToSentItems": "false"}, {("wrong-type", "$.saveToSentItems", E)}),
    Case("sendMail docs example 5: the message not wrapped in message", SENDMAIL + " (example 5); " + CSDL_V1 + "sendMail(Message Nullable=false)",
         "/v1.0/me/sendMail",
         {"subject": "Please respond by Friday", "toRecipients": [{"emailAddress": {"address": "meganb@contoso.com"}}],
          "flag": {"flagStatus": "flagged"}},
         {("missing-required-property", "$.Message", E), ("unknown-property", "$.subject", E),
          ("unknown-property", "$.toRecipients", E), ("unknown-property", "$.flag", E)}),
    Case("sendMail: the second attachment's contentBytes is not base64", SENDMAIL + "; " + ADD_V1, "/v1.0/users/u/sendMail",
         {"Message": {**SENDMAIL_WITH_FILE["message"], "body": {"contentType": "text", "content": "x"},
                      "attachments": [SDK_FILE, {**SDK_FILE, "contentBytes": "R0lGODdhEAYEAA7"}]}},
         {("invalid-base64", "$.Message.attachments[1].contentBytes", E)}),
    Case("sendMail: an inline attachment without @odata.type", CSDL_V1 + "message.attachments Collection(attachment), Abstract",
         "/v1.0/me/sendMail", {"message": {"attachments": [{"name": "a.txt", "contentBytes": "SGVsbG8="}]}},
         {("missing-odata-type", "$.message.attachments[0].@odata.type", E)}),
    Case("sendMail: an inline attachment sending its id", "https://learn.microsoft.com/en-us/graph/api/resources/attachment (id read-only)",
         "/v1.0/me/sendMail", {"message": {"attachments": [{**SDK_FILE, "id": "AAMk="}]}},
         {("read-only-property", "$.message.attachments[0].id", W)}),
    Case("sendMail: a 3 MB file inline", ADD_V1 + " (under 3 MB, inline too); 4 MB request limit", "/v1.0/me/sendMail",
         {"message": {"attachments": [{**SDK_FILE, "contentBytes": BIG}]}},
         {("file-too-large", "$.message.attachments[0].contentBytes", E), ("request-too-large", "$body", E)}),
    Case("post reply docs example, placeholders and all", POST_REPLY + "; " + CSDL_V1 + "post, bodyType, attachment",
         "/v1.0/groups/g1/threads/t1/posts/p1/reply", POST_REPLY_EXAMPLE,
         {("enum-value", "$.post.body.contentType", E), ("wrong-type", "$.post.receivedDateTime", E),
          ("wrong-type", "$.post.createdDateTime", E), ("wrong-type", "$.post.lastModifiedDateTime", E),
          ("missing-odata-type", "$.post.attachments[0].@odata.type", E),
          ("wrong-type", "$.post.attachments[0].lastModifiedDateTime", E),
          ("read-only-property", "$.post.attachments[0].id", W)}),
    Case("SDK reply body (Message, Comment)", SDK + "users/item/messages/item/reply/reply_post_request_body.py",
         "/v1.0/users/u/messages/m/reply", {"Comment": "See attached.", "Message": {"attachments": [SDK_FILE]}}),
    Case("docs-cased createReply body (message, comment)", DOCS + "message-createreply", "/v1.0/me/messages/m/createReply",
         {"comment": "Thanks!", "message": {"attachments": [SDK_FILE]}}),
    Case("forward: a recipient's address is a number", CSDL_V1 + "emailAddress.address Edm.String",
         "/v1.0/me/mailFolders/inbox/messages/m/forward",
         {"ToRecipients": [{"emailAddress": {"address": 5}}], "Comment": "fyi"},
         {("wrong-type", "$.ToRecipients[0].emailAddress.address", E)}),
    Case("a new event with a file attachment", CSDL_V1 + "event.attachments (contained, deep insert)", "/v1.0/me/events",
         {"subject": "Lunch", "attachments": [SDK_FILE]}),
    Case("a new message with a To Do attachment", CSDL_V1 + "message.attachments Collection(attachment)", "/v1.0/me/messages",
         {"subject": "x", "attachments": [SDK_TASK_FILE]},
         {("odata-type-not-assignable", "$.attachments[0].@odata.type", E)}),
    Case("a new thread whose post's attachment has no type", CSDL_V1 + "conversationThread.posts, post.attachments",
         "/v1.0/groups/g/threads", {"topic": "t", "posts": [{"attachments": [{"name": "a"}]}]},
         {("missing-odata-type", "$.posts[0].attachments[0].@odata.type", E)}),
    Case("a new To Do task with a broken file", CSDL_V1 + "todoTask.attachments Collection(attachmentBase)",
         "/v1.0/me/todo/lists/l/tasks", {"title": "t", "attachments": [{**SDK_TASK_FILE, "contentBytes": "a0b1c76de9f7="}]},
         {("invalid-base64", "$.attachments[0].contentBytes", E)}),
    # --- answers ------------------------------------------------------------------------------------------
    Case("beta docs file answer: no @odata.type, contentBytes not base64", ADD_BETA, MSG_BETA,
         {"id": "AAMkADNkN2R", "lastModifiedDateTime": "2017-01-26T08:48:28Z", "name": "smile", "contentType": "image/gif",
          "size": 1008, "isInline": False, "contentId": None, "contentLocation": None, "contentBytes": "a0b1c76de9f7="},
         {("missing-odata-type", "$.@odata.type", INFO), ("invalid-base64", "$.contentBytes", E)}, status=201,
         request={"@odata.type": "#microsoft.graph.fileAttachment", "name": "smile", "contentBytes": "a0b1c76de9f7="}),
    Case("beta docs item answer: no @odata.type", ADD_BETA, MSG_BETA,
         {"id": "AAMkADNkNJp5JVnQIe9r0=", "lastModifiedDateTime": "2016-12-01T22:27:13Z", "name": "Holiday event",
          "contentType": None, "size": 2473, "isInline": False},
         {("missing-odata-type", "$.@odata.type", INFO)}, status=201, request=ITEM_EVENT_BETA),
    Case("beta docs reference answer (status line \"HTTP 201 Created\")", ADD_BETA, MSG_BETA,
         {"@odata.context": "https://graph.microsoft.com/beta/$metadata#users/ddfcd489-628b-40d7-b48b-57002df800e5/"
                            "messages/AAMkAGE1M88AADUv0uFAAA%3D/attachments/$entity",
          "@odata.type": "#microsoft.graph.referenceAttachment", "id": "AAMkAGE1Mg72tgf7hJp0PICVGCc0g=",
          "lastModifiedDateTime": "2016-03-12T06:04:38Z", "name": "Personal pictures", "contentType": None,
          "size": 382, "isInline": False, "sourceUrl": "https://contoso.com/personal/mario_contoso_net/Documents/Pics",
          "providerType": "oneDriveConsumer", "thumbnailUrl": None, "previewUrl": None, "permission": "edit",
          "isFolder": True}, status=201, request=REFERENCE_BETA),
    Case("To Do docs answer, shortened (no contentBytes)", TODO_ADD, TODO_V1,
         {"@odata.type": "#microsoft.graph.taskFileAttachment", "id": "AAMkADNkN2R",
          "lastModifiedDateTime": "2017-01-26T08:48:28Z", "name": "smile", "contentType": "image/gif", "size": 1008},
         status=201),
    Case("the seed page's answer", "the seed 'Create attachments' page; " + CSDL_V1 + "attachment", MSG_BETA, SEED_RESPONSE,
         {("abstract-odata-type", "$.@odata.type", E), ("wrong-type", "$.lastModifiedDateTime", E),
          ("wrong-type", "$.size", E), ("wrong-type", "$.isInline", E)}, status=201),
    Case("an answer with a property the schema lacks", CSDL_V1 + "fileAttachment (closed)", MSG_V1,
         {**SDK_FILE, "id": "AAMk=", "size": 5, "isInline": False, "sensitivityLabel": "general"},
         {("unknown-property", "$.sensitivityLabel", W)}, status=201),
    Case("an answer without its size", CSDL_V1 + "attachment.size Nullable=false", MSG_V1,
         {**SDK_FILE, "id": "AAMk=", "isInline": False}, {("missing-required-property", "$.size", E)}, status=201),
    Case("createUploadSession docs answer", SESSION, SESSION_V1,
         {"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#microsoft.graph.uploadSession",
          "uploadUrl": "https://outlook.office.com/api/v1.0/Users('a8e8e219@72aa88bf')/Messages('AAMkADI5MAAIT3drCAAA=')/"
                       "AttachmentSessions('AAMkADI5MAAIT3k0uAAA=')?authtoken=fake-token-in-place-of-the-docs-jwt",
          "expirationDateTime": "2019-09-25T01:09:30.7671707Z", "nextExpectedRanges": ["0-"]}, status=201),
    Case("To Do session answered 200", TODO_SESSION + " (200 OK)", TODO_SESSION_V1,
         {"uploadUrl": "https://graph.microsoft.com/v1.0/users/u/todo/lists/l/tasks/t/attachmentSessions/s/content",
          "expirationDateTime": "2020-11-28T18:27:27.2525181Z", "nextExpectedRanges": ["0-"]}, status=200),
    Case("sendMail answered 202 without a body", SENDMAIL, "/v1.0/me/sendMail", None, status=202),
    Case("sendMail answered 201", SENDMAIL + " (202 Accepted)", "/v1.0/me/sendMail", None,
         {("unexpected-success-status", "$status", E)}, status=201),
    Case("createReply answers the draft", DOCS + "message-createreply; " + CSDL_V1 + "message", "/v1.0/me/messages/m/createReply",
         CREATED_MESSAGE, status=201),
    Case("Graph's 422 for a missing @odata.type", "microsoftgraph/msgraph-typescript-typings#104 (the service's answer)",
         MSG_V1, {"error": {"code": "UnprocessableType",
                            "message": "Cannot process input of abstract type 'Microsoft.OutlookServices.Attachment'"}},
         status=422),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_judged_as_microsoft_says(case: Case) -> None:
    match = match_route("POST", case.route)
    assert match is not None, case.route
    if case.status is None:
        findings = validate_request(match, "POST", JSON, _bytes(case.body))
    else:
        findings = validate_response(match, case.status, JSON, _bytes(case.body),
                                     None if case.request is None else _bytes(case.request))
    assert {(f.code, f.path, f.severity) for f in findings} == case.expected, [str(f) for f in findings]


def test_the_table_is_large_and_sourced() -> None:
    assert len(CASES) >= 40
    assert len({c.id for c in CASES}) == len(CASES)
    assert all(c.truth for c in CASES)
    flawed_published = [c for c in CASES if c.expected and ("learn.microsoft.com" in c.truth or "seed" in c.truth)]
    assert len(flawed_published) >= 10


def test_the_seed_copies_are_the_pages() -> None:
    text = SEED.read_text()
    assert SEED_REQUEST in text and SEED_RESPONSE in text
