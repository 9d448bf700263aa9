"""The example traffic: what the shipped cassette holds and what ``graphtape demo`` sends.

File, item and reference attachments on each of the seed's four routes, plus two
calls Graph rejects. The shipped cassette is recorded from the simulator by
``python -m graphtape.cli.examples.record``.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field

__all__ = ["EXAMPLES", "FAKE_TOKEN", "SEED_ROUTES", "ExampleRequest"]

# Clearly fake: graphtape redacts it anyway, and the simulator only checks it is a bearer token.
FAKE_TOKEN = "fake-example-token"

SEED_ROUTES = {
    "message": "/v1.0/users/adele@contoso.com/messages/AAMkAGI2THVSAAA=/attachments",
    "message-event": "/v1.0/users/adele@contoso.com/messages/AAMkAGI2THVSAAB=/event/attachments",
    "group-post": "/v1.0/groups/1848753d-185d-4c08-a4e4-6ee40521d115/conversations/AAQkADJUdfolA=/threads/"
                  "AAQkADJUdfolAQ=/posts/AAMkADJHVVAAA=/attachments",
    "outlook-task": "/beta/users/adele@contoso.com/outlook/taskGroups/AAMkAGI2TGuLAAA=/taskFolders/"
                    "AAMkAGI2TGuLAAB=/tasks/AAMkAGI2TGuLAAC=/attachments",
}

FILE_BODY = {
    "@odata.type": "#microsoft.graph.fileAttachment",
    "name": "menu.txt",
    "contentType": "text/plain",
    "contentBytes": base64.b64encode(b"Soup of the day: tomato.\n").decode(),
}
ITEM_BODY = {
    "@odata.type": "#microsoft.graph.itemAttachment",
    "name": "Team lunch",
    "item": {
        "@odata.type": "microsoft.graph.event",
        "subject": "Team lunch",
        "start": {"dateTime": "2026-12-01T12:00:00", "timeZone": "UTC"},
        "end": {"dateTime": "2026-12-01T13:00:00", "timeZone": "UTC"},
    },
}
REFERENCE_BODY = {
    "@odata.type": "#microsoft.graph.referenceAttachment",
    "name": "Budget.xlsx",
    "sourceUrl": "https://contoso.sharepoint.com/sites/finance/Shared%20Documents/Budget.xlsx",
    "providerType": "oneDriveBusiness",
    "permission": "edit",
    "isFolder": False,
}


@dataclass(frozen=True)
class ExampleRequest:
    name: str
    path: str
    body: bytes
    expected_status: int
    headers: dict[str, str] = field(default_factory=dict)

    def all_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {FAKE_TOKEN}", "Content-Type": "application/json",
                "Accept": "application/json", **self.headers}


def _json(data: object) -> bytes:
    return json.dumps(data).encode()


def _build() -> list[ExampleRequest]:
    out: list[ExampleRequest] = []
    for route, path in SEED_ROUTES.items():
        out.append(ExampleRequest(f"{route}: file", path, _json(FILE_BODY), 201))
        out.append(ExampleRequest(f"{route}: item", path, _json(ITEM_BODY), 201))
        # referenceAttachment's sourceUrl/providerType/permission exist only in beta.
        out.append(ExampleRequest(f"{route}: reference", path.replace("/v1.0/", "/beta/", 1),
                                  _json(REFERENCE_BODY), 201))
    message = SEED_ROUTES["message"]
    no_type = {k: v for k, v in FILE_BODY.items() if k != "@odata.type"}
    out.append(ExampleRequest("error: no @odata.type (422)", message, _json(no_type), 422))
    out.append(ExampleRequest("error: malformed JSON (400)", message, b'{"@odata.type": "#microsoft.graph.file', 400))
    return out


EXAMPLES: tuple[ExampleRequest, ...] = tuple(_build())
