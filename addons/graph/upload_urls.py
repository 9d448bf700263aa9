"""Upload-session URLs: recognising a chunk's target, and the origins a session URL lives on.

Graph hands out two kinds of ``uploadUrl`` (see the Outlook and To Do large-attachment
pages of Microsoft's documentation):

- **Outlook** (messages, events, group posts, Outlook tasks): a pre-authenticated URL on
  another service, ``https://outlook.office.com/api/v2.0/Users('u')/Messages('m')/AttachmentSessions('s')?authtoken=...``;
  chunks are sent *without* an Authorization header.
- **To Do** (``todoTask``): a URL on the Graph host itself,
  ``https://graph.microsoft.com/v1.0/users/u/todo/lists/l/tasks/t/attachmentSessions/s``;
  chunks are sent *with* Authorization, to that URL or to its ``/content`` stream (the
  walkthrough's form).

Recognition is anchored at the start of the path: a URL that merely *ends* like a session
(``/v1.0/http://host/api/v2.0/...`` from a client that mangled an absolute URL) is not one.
The query (which carries the token) plays no part in recognising a session.

Cassettes name every upload URL on a canonical origin (:func:`canonical_upload_url`):
Outlook sessions on ``https://outlook.office.com``, To Do sessions on Graph's, whatever
loopback port the upstream listened on, so a re-recording writes the same bytes and a
replay maps the URL back to whatever address graphtape listens on.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from typing import Literal
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from graphtape.cassettes.model import Request, Response

__all__ = [
    "GRAPH_ORIGIN",
    "OUTLOOK_ORIGIN",
    "UPLOAD_ROUTE_NAME",
    "UPLOAD_ROUTE_TEMPLATE",
    "UploadKind",
    "UploadUrlMatch",
    "alternate_loopback_host",
    "canonical_session_answer",
    "canonical_upload_request",
    "canonical_upload_url",
    "match_upload_url",
    "origin_of",
    "outlook_upload_path",
    "session_key",
    "todo_upload_path",
    "with_origin",
]

# How a chunk PUT is named in a cassette (meta.route), so reports and drift group them.
UPLOAD_ROUTE_NAME = "upload-session-chunk"
UPLOAD_ROUTE_TEMPLATE = "{uploadUrl}"

# Where Graph's sessions live: the Outlook REST service, or Graph itself (To Do).
OUTLOOK_ORIGIN = "https://outlook.office.com"
GRAPH_ORIGIN = "https://graph.microsoft.com"

UploadKind = Literal["outlook", "todo"]

_KEY = r"\('((?:[^']|'')*)'\)"
# /api/v2.0/Users('u')/Messages('m')/AttachmentSessions('s') (Groups('g') for group posts).
_OUTLOOK_PATH = re.compile(rf"^/api/v2\.0/(?:users|groups){_KEY}/([a-z]+){_KEY}/attachmentsessions{_KEY}/?$",
                           re.IGNORECASE)
# /v1.0/users/u/todo/lists/l/tasks/t/attachmentSessions/s[/content] (or /me/...).
_TODO_PATH = re.compile(r"^/(?:v1\.0|beta)/(?:users/[^/]+|me)/todo/lists/[^/]+/tasks/[^/]+"
                        r"/attachmentsessions/([^/]+)(/content)?/?$", re.IGNORECASE)

# Outlook REST collection names by the container of the Graph route that opened the session.
_OUTLOOK_COLLECTIONS = {"message": "Messages", "event": "Events", "post": "Posts", "outlookTask": "Tasks"}


@dataclass(frozen=True)
class UploadUrlMatch:
    """A path recognised as an upload session's URL."""

    session_id: str
    path: str  # the path as sent, without query
    kind: UploadKind = "outlook"
    content: bool = False  # a To Do chunk sent to the session's /content stream

    @property
    def session_path(self) -> str:
        """The session's own path: the To Do ``/content`` suffix removed."""
        return self.path.rstrip("/").removesuffix("/content") if self.content else self.path.rstrip("/")


def _odata_key(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _path_of(url_or_path: str) -> str:
    return urlsplit(url_or_path).path if "://" in url_or_path else url_or_path.split("?", 1)[0]


def match_upload_url(url_or_path: str) -> UploadUrlMatch | None:
    """The upload session a URL (or path) targets, or None."""
    path = _path_of(url_or_path)
    decoded = unquote(path)
    outlook = _OUTLOOK_PATH.match(decoded)
    if outlook is not None:
        return UploadUrlMatch(outlook.group(4).replace("''", "'"), path, "outlook")
    todo = _TODO_PATH.match(path)
    if todo is not None:
        return UploadUrlMatch(unquote(todo.group(1)), path, "todo", content=todo.group(2) is not None)
    return None


def outlook_upload_path(owner: tuple[str, str], container: str, item_id: str, session_id: str) -> str:
    """The Outlook REST path of a session: ``/api/v2.0/Users('u')/Messages('m')/AttachmentSessions('s')``.

    ``owner`` is ``("users", id)`` or ``("groups", id)``."""
    root = "Groups" if owner[0] == "groups" else "Users"
    collection = _OUTLOOK_COLLECTIONS.get(container, "Items")
    return (f"/api/v2.0/{root}({_odata_key(owner[1])})/{collection}({_odata_key(item_id)})"
            f"/AttachmentSessions({_odata_key(session_id)})")


def todo_upload_path(api_version: str, task_path: str, session_id: str) -> str:
    """A To Do session on the Graph host: ``/{version}/users/u/todo/lists/l/tasks/t/attachmentSessions/s``.

    ``task_path`` is the task's path without the version (``/users/u/todo/lists/l/tasks/t``)."""
    return f"/{api_version}{task_path.rstrip('/')}/attachmentSessions/{quote(session_id, safe='=')}"


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of an absolute URL."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def with_origin(url: str, origin: str) -> str:
    """``url`` with its scheme and host[:port] replaced by ``origin``'s; path and query kept."""
    parts = urlsplit(url)
    target = urlsplit(origin)
    return urlunsplit((target.scheme, target.netloc, parts.path, parts.query, parts.fragment))


def canonical_upload_url(url: str, graph_origin: str = GRAPH_ORIGIN) -> str:
    """An upload URL as cassettes name it: on ``https://outlook.office.com`` for Outlook sessions,
    on Graph's origin (``graph_origin``: a national cloud's, when configured) for To Do ones;
    path and query kept. Other URLs come back unchanged."""
    found = match_upload_url(url)
    if found is None or "://" not in url:
        return url
    return with_origin(url, OUTLOOK_ORIGIN if found.kind == "outlook" else graph_origin)


def canonical_upload_request(request: Request, graph_origin: str = GRAPH_ORIGIN) -> Request:
    """A chunk PUT (or cancel) as the cassette keeps it and replay looks it up: its URI on the
    canonical origin, and a ``Host`` header naming that origin too (a cassette whose URI and
    ``Host`` disagree would change when mitmproxy rebuilds the flow). Any other request comes
    back unchanged."""
    uri = canonical_upload_url(request.uri, graph_origin)
    if uri == request.uri:
        return request
    headers = request.headers
    if headers.get("host") is not None:
        headers = headers.replace("host", urlsplit(uri).netloc)
    return replace(request, uri=uri, headers=headers)


def canonical_session_answer(response: Response, graph_origin: str = GRAPH_ORIGIN) -> Response:
    """A createUploadSession answer with its ``uploadUrl`` on the canonical origin (``Content-Length``
    follows). Encoded or non-JSON bodies, and answers without an upload URL, come back unchanged."""
    if response.headers.get("content-encoding") or not 200 <= response.status_code < 300:
        return response
    try:
        data = json.loads(response.body)
    except (ValueError, RecursionError):
        return response
    url = data.get("uploadUrl") if isinstance(data, dict) else None
    canonical = canonical_upload_url(url, graph_origin) if isinstance(url, str) else url
    if not isinstance(url, str) or canonical == url:
        return response
    data["uploadUrl"] = canonical
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    headers = response.headers
    if headers.get("content-length") is not None:
        headers = headers.replace("content-length", str(len(body)))
    return replace(response, headers=headers, body=body)


def session_key(url: str) -> str:
    """What identifies one session across requests: its path (token, host and a To Do
    ``/content`` suffix left out).

    The host is left out because in reverse mode a client reaches the session through
    graphtape's address while the cassette names the upstream's.
    """
    found = match_upload_url(url)
    return found.session_path if found is not None else _path_of(url)


def alternate_loopback_host(host: str) -> str:
    """Another name for the same loopback listener, with a different *hostname*.

    Clients decide whether an upload URL gets their bearer token by hostname alone (the
    JavaScript Graph client ignores ports; kiota's Python provider compares hostnames), so
    an upload URL must differ from the Graph base URL in its hostname, as
    ``outlook.office.com`` differs from ``graph.microsoft.com``. ``localhost`` and
    ``127.0.0.1`` both reach an IPv4 loopback listener (``localhost`` resolves to
    127.0.0.1, and clients that try ``::1`` first fall back to it), and both are names
    kiota allows plain http for, so either way round the client behaves as with Graph.
    """
    bare = host.strip("[]").lower()
    return "127.0.0.1" if bare == "localhost" else "localhost"
