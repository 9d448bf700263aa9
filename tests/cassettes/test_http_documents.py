"""HTTP messages written as text, in the forms Graph's documentation pages use."""

from __future__ import annotations

import pytest

from graphtape.cassettes.http_documents import parse_http_document

# Graph's reference pages write status lines with and without the HTTP version: the beta "Add
# attachment" page (https://learn.microsoft.com/en-us/graph/api/message-post-attachments?view=graph-rest-beta)
# answers its reference-attachment example with "HTTP 201 Created".
PAGE = """# An example page

```http
POST https://graph.microsoft.com/beta/me/messages/AAMk=/attachments
Content-type: application/json

{"@odata.type": "#microsoft.graph.fileAttachment", "name": "a", "contentBytes": "SGVsbG8="}
```

```http
HTTP 201 Created

{"id": "AAMk="}
```

``` http
HTTP/1.1 202 Accepted
```
"""


def test_every_block_is_read_whatever_its_status_line() -> None:
    messages = parse_http_document(PAGE)
    assert [(m.kind, m.line, m.method or m.status) for m in messages] == [
        ("request", 4, "POST"), ("response", 11, 201), ("response", 17, 202)]
    assert messages[1].body == b'{"id": "AAMk="}'


@pytest.mark.parametrize(
    ("line", "status"),
    [("HTTP/1.1 201 Created", 201), ("HTTP/2 200", 200), ("HTTP 201 Created", 201), ("http 422", 422)],
)
def test_status_lines(line: str, status: int) -> None:
    (message,) = parse_http_document(f"```http\n{line}\n```\n")
    assert message.status == status


def test_not_a_status_line() -> None:
    assert parse_http_document("```http\nHTTPS 201 Created\n```\n") == []
