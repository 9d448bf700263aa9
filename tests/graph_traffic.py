"""A conversation with Graph (or the simulator) that touches every kind of thing a viewer must show.

The shipped examples (file, item and reference attachments; a 422 and a 400), requests
with an undocumented property, a read-only one and ``size`` as a string, attachments whose file names
are hostile to HTML, and a small upload session with a chunk sent out of order. Each step
says what Graph's documentation expects of it, so tests take their answers from there.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import httpx

from graphtape.cli.examples.example_requests import EXAMPLES, FAKE_TOKEN, SEED_ROUTES

__all__ = ["HOSTILE_NAMES", "STEPS", "UPLOAD_SIZE", "Step", "send_conversation"]

MESSAGE_ROUTE = SEED_ROUTES["message"]
SESSION_ROUTE = "/v1.0/me/messages/AAMkAGI2TG93AAA=/attachments/createUploadSession"
MIB = 1024 * 1024
# Graph refuses an upload session for a file under 3 MB (ErrorAttachmentSizeShouldNotBeLessThanMinimumSize;
# "Attach large files to Outlook messages"): the smallest file a session takes, and a little more.
UPLOAD_SIZE = 3 * MIB + 10
AUTH = {"Authorization": f"Bearer {FAKE_TOKEN}", "Content-Type": "application/json"}

# Would run as script, break out of an attribute or a <pre>/<style>, ring a bell or flip text direction
# if a report printed them as they are. Each sets document.title if it ever runs.
HOSTILE_NAMES = (
    "<script>document.title='pwned'</script>.txt",
    "\"><img src=x onerror=\"document.title='pwned'\"></pre></style>\x07\u202egnp.txt",
)


@dataclass(frozen=True)
class Step:
    name: str
    method: str
    path: str  # a path on the server, or "{upload}" for the upload session's URL
    body: bytes
    status: int  # what Graph answers, per its documentation (and the simulator, which follows it)
    headers: tuple[tuple[str, str], ...] = ()
    # The level of the worst finding Graph's documentation implies for the step ("" for none
    # above info): a rejected call is an error; an undocumented property Graph ignores a warning.
    worst: str = ""


def _file(name: str, **extra: object) -> bytes:
    return json.dumps({"@odata.type": "#microsoft.graph.fileAttachment", "name": name,
                       "contentBytes": "aGVsbG8=", **extra}).encode()


def _chunk(start: int, end: int) -> tuple[tuple[str, str], ...]:
    return (("Content-Range", f"bytes {start}-{end}/{UPLOAD_SIZE}"),)


# The file: each byte is its offset modulo 251 (a prime), so a chunk sent for the wrong range shows.
_FILE = bytes(range(251)) * (UPLOAD_SIZE // 251 + 1)


def _bytes(start: int, end: int) -> bytes:
    """The file's bytes start..end (inclusive)."""
    return _FILE[start:end + 1]


STEPS: tuple[Step, ...] = (
    *(Step(ex.name, "POST", ex.path, ex.body, ex.expected_status, worst="error" if ex.expected_status >= 400 else "")
      for ex in EXAMPLES),
    # fileAttachment has no "colour" (CSDL): Graph refuses a property its model lacks with 400.
    Step("undocumented property", "POST", MESSAGE_ROUTE, _file("notes.txt", colour="red"), 400, worst="error"),
    # id is the one property the docs mark read-only: sending it is suspect, not refused.
    Step("read-only property", "POST", MESSAGE_ROUTE, _file("notes.txt", id="AAMkAGI2TG93AAE="), 201,
         worst="warning"),
    # size is Edm.Int32 (CSDL); the seed documentation's own example sends "Integer".
    Step("size as a string", "POST", MESSAGE_ROUTE, _file("sized.txt", size="Integer"), 400, worst="error"),
    *(Step(f"hostile name {n}", "POST", MESSAGE_ROUTE, _file(name), 201) for n, name in enumerate(HOSTILE_NAMES)),
    # Upload sessions (Graph docs, "Attach large files"): byte ranges in order; a range past the
    # next expected one is refused with 416.
    Step("upload: create", "POST", SESSION_ROUTE,
         json.dumps({"AttachmentItem": {"attachmentType": "file", "name": "report.bin", "size": UPLOAD_SIZE}}).encode(),
         201),
    Step("upload: chunk 0-2MiB", "PUT", "{upload}", _bytes(0, 2 * MIB - 1), 200, _chunk(0, 2 * MIB - 1)),
    Step("upload: last chunk too early", "PUT", "{upload}", _bytes(3 * MIB, UPLOAD_SIZE - 1), 416,
         _chunk(3 * MIB, UPLOAD_SIZE - 1), worst="error"),
    Step("upload: chunk 2MiB-3MiB", "PUT", "{upload}", _bytes(2 * MIB, 3 * MIB - 1), 200,
         _chunk(2 * MIB, 3 * MIB - 1)),
    Step("upload: last chunk", "PUT", "{upload}", _bytes(3 * MIB, UPLOAD_SIZE - 1), 201,
         _chunk(3 * MIB, UPLOAD_SIZE - 1)),
)


def send_conversation(base_url: str) -> list[httpx.Response]:
    """Send every step to ``base_url`` (a reverse proxy or the simulator), in order."""
    answers: list[httpx.Response] = []
    upload_url = ""
    with httpx.Client(trust_env=False, timeout=30) as client:
        for step in STEPS:
            if step.path == "{upload}":
                answer = client.request(step.method, upload_url, content=step.body, headers=dict(step.headers))
            else:
                answer = client.request(step.method, base_url + step.path, content=step.body,
                                        headers={**AUTH, **dict(step.headers)})
            if step.path == SESSION_ROUTE:
                upload_url = answer.json()["uploadUrl"]
            answers.append(answer)
    return answers
