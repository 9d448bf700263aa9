"""Upload-session URLs: recognising a chunk PUT's target and moving a URL to another origin.

Graph's createUploadSession answers an ``uploadUrl`` on another service, shaped like
``https://outlook.office.com/api/v2.0/Users('u')/Messages('m')/AttachmentSessions('s')?authtoken=...``.
The session is named by the last segment, ``AttachmentSessions('s')``; the path
before it names the mailbox item. ``attachmentSessions/{id}`` (the REST form) is
accepted too. The query (which carries the token) plays no part in recognising it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit, urlunsplit

__all__ = [
    "UPLOAD_ROUTE_NAME",
    "UPLOAD_ROUTE_TEMPLATE",
    "UploadUrlMatch",
    "match_upload_url",
    "origin_of",
    "session_key",
    "upload_path",
    "with_origin",
]

# How a chunk PUT is named in a cassette (meta.route), so reports and drift group them.
UPLOAD_ROUTE_NAME = "upload-session-chunk"
UPLOAD_ROUTE_TEMPLATE = "{uploadUrl}"

# AttachmentSessions('id') with OData's doubled quotes inside the id.
_KEYED_SEGMENT = re.compile(r"^attachmentsessions\('((?:[^']|'')*)'\)$", re.IGNORECASE)


@dataclass(frozen=True)
class UploadUrlMatch:
    """A path recognised as an upload session's URL."""

    session_id: str
    path: str  # the path as sent, without query


def _odata_key(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def match_upload_url(url_or_path: str) -> UploadUrlMatch | None:
    """The upload session a URL (or path) targets, or None."""
    path = urlsplit(url_or_path).path if "://" in url_or_path else url_or_path.split("?", 1)[0]
    segments = [s for s in path.rstrip("/").split("/") if s]
    if not segments:
        return None
    keyed = _KEYED_SEGMENT.match(unquote(segments[-1]))
    if keyed is not None:
        return UploadUrlMatch(keyed.group(1).replace("''", "'"), path)
    if len(segments) >= 2 and unquote(segments[-2]).lower() == "attachmentsessions":
        return UploadUrlMatch(unquote(segments[-1]), path)
    return None


def upload_path(user_id: str, container: str, item_id: str, session_id: str) -> str:
    """The Outlook REST path of an upload session: ``/api/v2.0/Users('u')/Messages('m')/AttachmentSessions('s')``."""
    collection = {"message": "Messages", "event": "Events", "todoTask": "Tasks"}.get(container, "Items")
    return (f"/api/v2.0/Users({_odata_key(user_id)})/{collection}({_odata_key(item_id)})"
            f"/AttachmentSessions({_odata_key(session_id)})")


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of an absolute URL."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def with_origin(url: str, origin: str) -> str:
    """``url`` with its scheme and host[:port] replaced by ``origin``'s; path and query kept."""
    parts = urlsplit(url)
    target = urlsplit(origin)
    return urlunsplit((target.scheme, target.netloc, parts.path, parts.query, parts.fragment))


def session_key(url: str) -> str:
    """What identifies one session across requests: the URL's path (token and host left out).

    The host is left out because in reverse mode a client reaches the session through
    graphtape's address while the cassette names the upstream's.
    """
    return urlsplit(url).path if "://" in url else url.split("?", 1)[0]
