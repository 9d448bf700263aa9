"""HTTP messages written as text: ``.http`` files and ```` ```http ```` blocks in Markdown.

Graph's documentation pages (the seed among them) show requests and responses this
way; ``graphtape validate`` checks them as they are written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["HttpMessage", "parse_http_document"]

_FENCE = re.compile(r"^```\s*http\s*$(.*?)^```\s*$", re.MULTILINE | re.DOTALL | re.IGNORECASE)
_REQUEST_LINE = re.compile(r"^(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS)\s+(\S+)(?:\s+HTTP/[\d.]+)?\s*$", re.I)
# Graph's pages also write status lines without the version ("HTTP 201 Created").
_STATUS_LINE = re.compile(r"^HTTP(?:/[\d.]+)?\s+(\d{3})(?:\s+(.*))?$", re.I)
_HEADER = re.compile(r"^([A-Za-z0-9!#$%&'*+.^_`|~-]+):\s*(.*)$")


@dataclass(frozen=True)
class HttpMessage:
    kind: str  # "request" | "response"
    line: int  # 1-based line of the start line in the source file
    method: str = ""
    target: str = ""
    status: int = 0
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""


def _parse_block(block: str, first_line: int) -> HttpMessage | None:
    lines = block.splitlines()
    i = 0
    while i < len(lines) and not lines[i].strip():
        i += 1
    if i == len(lines):
        return None
    start = lines[i].strip()
    line_no = first_line + i
    request = _REQUEST_LINE.match(start)
    status = _STATUS_LINE.match(start)
    if not request and not status:
        return None
    i += 1
    headers: list[tuple[str, str]] = []
    while i < len(lines):
        m = _HEADER.match(lines[i].strip())
        if not m:
            break
        headers.append((m.group(1), m.group(2).strip()))
        i += 1
    while i < len(lines) and not lines[i].strip():
        i += 1
    body = "\n".join(lines[i:]).strip().encode("utf-8")
    if request:
        return HttpMessage("request", line_no, method=request.group(1).upper(), target=request.group(2),
                           headers=tuple(headers), body=body)
    assert status is not None
    return HttpMessage("response", line_no, status=int(status.group(1)), headers=tuple(headers), body=body)


def parse_http_document(text: str) -> list[HttpMessage]:
    """Every HTTP message in ``text``: fenced ```http blocks if any, else ``###``-separated messages."""
    messages: list[HttpMessage] = []
    fences = list(_FENCE.finditer(text))
    if fences:
        for m in fences:
            first_line = text.count("\n", 0, m.start(1)) + 1
            msg = _parse_block(m.group(1), first_line)
            if msg:
                messages.append(msg)
        return messages
    offset = 0
    for chunk in re.split(r"^###.*$", text, flags=re.MULTILINE):
        first_line = text.count("\n", 0, text.find(chunk, offset)) + 1 if chunk else 1
        offset = text.find(chunk, offset) + len(chunk)
        msg = _parse_block(chunk, first_line)
        if msg:
            messages.append(msg)
    return messages
