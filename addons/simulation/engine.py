"""A Microsoft Graph look-alike for the attachment routes, as pure logic.

No sockets and no mitmproxy: ``GraphSimulation.handle`` takes a request and returns
a :class:`SimulatedResponse`, so the same object can sit behind an HTTP server, a
mitmproxy addon or a test. What Graph accepts or rejects is decided by
``graph_validation`` (one source of truth); this module turns its findings into the
status codes and error bodies Graph answers with, and keeps created attachments in
memory so they can be listed and read back.

Room to grow: responses to a create pass through ``_present_created``, where drift
variants (a renamed property, size as a string, 200 instead of 201...) can be
applied; each route operation has its own handler in ``_handlers``. Upload sessions
(createUploadSession, then chunk PUTs to the upload URL, which carry no bearer token)
are kept by ``upload_simulation``.
"""

from __future__ import annotations

import base64
import json
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, unquote

from graphtape.addons.graph.models import (
    NAMESPACE,
    READ_ONLY_PROPERTIES,
    AttachmentType,
    is_annotation,
    type_info,
)
from graphtape.addons.graph.routes import (
    Operation,
    RouteMatch,
    match_attachment_item,
    match_path,
    route_segments,
    split_api_version,
    unmatched_segment,
)
from graphtape.addons.graph.upload_urls import (
    UploadUrlMatch,
    match_upload_url,
    upload_path,
)
from graphtape.addons.graph.validation import RequestCheck, check_request, header_value
from graphtape.addons.simulation.uploads import ChunkAccepted, UploadSessions
from graphtape.cassettes.findings import Finding, Severity

__all__ = [
    "ATTACHMENT_OVERHEAD_BYTES",
    "DEFAULT_ME_USER_ID",
    "GRAPH_JSON_CONTENT_TYPE",
    "Exchange",
    "GraphSimulation",
    "SimulatedResponse",
]

GRAPH_JSON_CONTENT_TYPE = (
    "application/json;odata.metadata=minimal;odata.streaming=true;"
    "IEEE754Compatible=false;charset=utf-8"
)
# Who "/me" is: Graph resolves /me to the signed-in user's id in @odata.context.
DEFAULT_ME_USER_ID = "5f7c2ad1-0c3e-4b6a-9f51-3d2e8b7a6c40"
# Outlook reports an attachment's size as the stored item's, a little over the file's.
ATTACHMENT_OVERHEAD_BYTES = 160

_UNREADABLE_JSON = (
    "Unable to read JSON request payload. Please ensure Content-Type header is set and"
    " payload is of valid JSON format."
)
_TOO_LARGE = "Maximum request length exceeded."
# Where createUploadSession bodies carry the file's description (docs spell the first two ways).
_SESSION_ITEM_KEYS = ("AttachmentItem", "attachmentItem", "attachmentInfo")
# The Outlook id prefix ("AAMkA...") so generated ids look like the ones Graph sends.
_OUTLOOK_ID_PREFIX = b"\x00\x03\x24\x00"

_CONTENT_TYPES_BY_EXTENSION: dict[str, str] = {
    "txt": "text/plain",
    "csv": "text/csv",
    "htm": "text/html",
    "html": "text/html",
    "ics": "text/calendar",
    "xml": "application/xml",
    "json": "application/json",
    "pdf": "application/pdf",
    "zip": "application/zip",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "bmp": "image/bmp",
    "svg": "image/svg+xml",
    "eml": "message/rfc822",
    "doc": "application/msword",
    "xls": "application/vnd.ms-excel",
    "ppt": "application/vnd.ms-powerpoint",
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


@dataclass
class SimulatedResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        return header_value(self.headers, name)

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Exchange:
    """Per-request facts every answer carries (request ids, the time); drift variants see it too."""

    request_id: str
    client_request_id: str
    timestamp: str
    extra_headers: list[tuple[str, str]] = field(default_factory=list)


# A route operation's handler: (verb, match, headers, body, exchange) -> answer.
_Handler = Callable[[str, RouteMatch, Mapping[str, str], bytes, Exchange], SimulatedResponse]


class _Rejection(Exception):
    """A Graph error answer, raised inside a handler."""

    def __init__(
        self, status: int, code: str, message: str, headers: list[tuple[str, str]] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or []


def _default_clock() -> datetime:
    return datetime.now(UTC)


def _dumps(data: object) -> bytes:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _odata_key(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


class GraphSimulation:
    """Answers attachment calls as Graph does; thread-safe, state kept in memory."""

    def __init__(
        self,
        *,
        clock: Callable[[], datetime] | None = None,
        id_factory: Callable[[], str] | None = None,
        request_id_factory: Callable[[], str] | None = None,
        base_url: str = "https://graph.microsoft.com",
        me_user_id: str = DEFAULT_ME_USER_ID,
    ) -> None:
        self._clock = clock or _default_clock
        self._id_factory = id_factory or self._outlook_id
        self._request_id_factory = request_id_factory or (lambda: str(uuid.uuid4()))
        self._base_url = base_url.rstrip("/")
        self._me_user_id = me_user_id
        self._lock = threading.Lock()
        self._counter = 0
        # Attachments by collection (its canonical segments), in creation order.
        self._collections: dict[tuple[tuple[str, str | None], ...], dict[str, dict[str, Any]]] = {}
        self._handlers: dict[Operation, _Handler] = {
            Operation.CREATE: self._attachments_collection,
            Operation.CREATE_UPLOAD_SESSION: self._upload_session,
        }
        self._uploads = UploadSessions()

    # --- entry point ---------------------------------------------------------------

    def handle(
        self, method: str, path_with_query: str, headers: Mapping[str, str], body: bytes
    ) -> SimulatedResponse:
        """Answer one request as Graph would."""
        exchange = Exchange(
            request_id=self._request_id_factory(),
            client_request_id=header_value(headers, "client-request-id")
            or self._request_id_factory(),
            timestamp=self._now(),
        )
        try:
            verb = method.upper()
            upload = match_upload_url(path_with_query)
            if upload is not None:  # pre-authenticated by its authtoken: no bearer token
                query = path_with_query.split("?", 1)[1] if "?" in path_with_query else ""
                return self._upload_chunk(verb, upload, query, headers, body, exchange)
            self._check_authorization(headers)
            match = match_path(path_with_query)
            if match is not None:
                handler = self._handlers[match.route.operation]
                return handler(verb, match, headers, body, exchange)
            item = match_attachment_item(path_with_query)
            if item is not None:
                return self._attachment_item(verb, item[0], item[1], exchange)
            raise self._not_found_segment(path_with_query)
        except _Rejection as rejection:
            return self._error(rejection, exchange)
        except Exception as exc:
            internal = _Rejection(
                500, "InternalServerError", f"graphtape's simulator failed: {type(exc).__name__}"
            )
            return self._error(internal, exchange)

    # --- handlers ------------------------------------------------------------------

    def _attachments_collection(
        self,
        verb: str,
        match: RouteMatch,
        headers: Mapping[str, str],
        body: bytes,
        exchange: Exchange,
    ) -> SimulatedResponse:
        if verb == "POST":
            return self._create(match, headers, body, exchange)
        if verb == "GET":
            with self._lock:
                entities = list(self._collections.get(self._collection_key(match), {}).values())
            listing = {"@odata.context": self._context_url(match, entity=False), "value": entities}
            return self._json(200, listing, exchange)
        raise self._method_not_allowed(verb, "GET, POST")

    def _upload_session(
        self,
        verb: str,
        match: RouteMatch,
        headers: Mapping[str, str],
        body: bytes,
        exchange: Exchange,
    ) -> SimulatedResponse:
        if verb != "POST":
            raise self._method_not_allowed(verb, "POST")
        check = check_request(match, "POST", headers, body)
        self._reject_like_graph(check, match, headers)
        data = check.data or {}
        item = next((data[k] for k in _SESSION_ITEM_KEYS if isinstance(data.get(k), dict)), None)
        if item is None or not isinstance(item.get("size"), int):  # defensive: validation said it is there
            raise _Rejection(400, "BadRequest", _UNREADABLE_JSON)
        with self._lock:
            session_id = self._id_factory()
        session = self._uploads.open(session_id, item, item["size"], match, self._clock())
        host = header_value(headers, "host")
        # The URL points back at whoever answered (this simulator, as the client reached it).
        origin = f"http://{host}" if host else self._base_url
        pairs = self._canonical_segments(match)
        user_id = pairs[0][1] or self._me_user_id
        item_id = match.params.get(match.route.placeholders[-1], "")
        path = upload_path(user_id, match.route.container, item_id, session_id)
        answer = {
            "@odata.context": f"{self._base_url}/{match.api_version}/$metadata#microsoft.graph.uploadSession",
            "uploadUrl": f"{origin}{path}?authtoken={session.token}",
            "expirationDateTime": session.expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "nextExpectedRanges": ["0-"],
        }
        return self._json(201, answer, exchange)

    def _upload_chunk(
        self,
        verb: str,
        upload: UploadUrlMatch,
        query: str,
        headers: Mapping[str, str],
        body: bytes,
        exchange: Exchange,
    ) -> SimulatedResponse:
        if verb != "PUT":
            raise self._method_not_allowed(verb, "PUT")
        lowered = {str(k).lower(): v for k, v in headers.items()}
        outcome = self._uploads.put(upload.session_id, query, lowered, body, self._clock())
        if not isinstance(outcome, ChunkAccepted):
            raise _Rejection(outcome.status, outcome.code, outcome.message)
        session = outcome.session
        if not outcome.complete:
            progress = {
                "expirationDateTime": session.expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "nextExpectedRanges": outcome.next_expected_ranges,
            }
            return self._json(200, progress, exchange)
        return self._finish_upload(session.owner, session.declared, bytes(session.received), exchange)

    def _finish_upload(
        self, match: RouteMatch, declared: dict[str, Any], content: bytes, exchange: Exchange
    ) -> SimulatedResponse:
        """The last chunk arrived: the file becomes an attachment; 201, Location, no body."""
        type_name = "taskFileAttachment" if match.route.base_type == "attachmentBase" else "fileAttachment"
        attachment_type = type_info(NAMESPACE + type_name, match.api_version)
        assert attachment_type is not None
        posted = {k: v for k, v in declared.items() if k not in ("attachmentType", "size")}
        posted["contentBytes"] = base64.b64encode(content).decode("ascii")
        with self._lock:
            attachment_id = self._id_factory()
        entity = self._entity(attachment_type, posted, attachment_id, exchange.timestamp)
        key = self._collection_key(match)[:-1]  # the attachments collection, not createUploadSession
        with self._lock:
            self._collections.setdefault(key, {})[attachment_id] = entity
        collection = match.path.rstrip("/").rsplit("/", 1)[0]
        location = f"{self._base_url}{collection}/{quote(attachment_id, safe='=')}"
        headers = [h for h in self._headers(exchange) if h[0] != "Content-Type"]
        return SimulatedResponse(201, [*headers, ("Location", location), ("Content-Length", "0")], b"")

    def _attachment_item(
        self, verb: str, match: RouteMatch, attachment_id: str, exchange: Exchange
    ) -> SimulatedResponse:
        if verb != "GET":
            raise self._method_not_allowed(verb, "GET")
        with self._lock:
            entity = self._collections.get(self._collection_key(match), {}).get(attachment_id)
        if entity is None:
            raise _Rejection(
                404, "ErrorItemNotFound", "The specified object was not found in the store."
            )
        context = self._context_url(match, entity=True)
        return self._json(200, {"@odata.context": context, **entity}, exchange)

    def _create(
        self, match: RouteMatch, headers: Mapping[str, str], body: bytes, exchange: Exchange
    ) -> SimulatedResponse:
        check = check_request(match, "POST", headers, body)
        self._reject_like_graph(check, match, headers)
        if check.attachment_type is None or check.data is None:  # defensive: nothing to create
            raise _Rejection(400, "BadRequest", _UNREADABLE_JSON)
        with self._lock:
            attachment_id = self._id_factory()
        entity = self._entity(check.attachment_type, check.data, attachment_id, exchange.timestamp)
        with self._lock:
            self._collections.setdefault(self._collection_key(match), {})[attachment_id] = entity
        location = f"{self._base_url}{match.path.rstrip('/')}/{quote(attachment_id, safe='=')}"
        status, body_out = self._present_created(
            201, {"@odata.context": self._context_url(match, entity=True), **entity}
        )
        exchange.extra_headers.append(("Location", location))
        return self._json(status, body_out, exchange)

    def _present_created(self, status: int, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """Last step before a created attachment is answered: drift variants go here."""
        return status, body

    # --- what Graph rejects, and how ---------------------------------------------------

    def _reject_like_graph(
        self, check: RequestCheck, match: RouteMatch, headers: Mapping[str, str]
    ) -> None:
        """Raise the answer Graph gives to the first request problem it would refuse."""
        errors = [f for f in check.findings if f.severity is Severity.ERROR]
        if not errors:
            return
        first: dict[str, Finding] = {}
        for finding in errors:
            first.setdefault(finding.code, finding)
        base_name = NAMESPACE + match.route.base_type

        if "non-json-content-type" in first:
            if header_value(headers, "content-type") is None:
                raise _Rejection(400, "BadRequest", _UNREADABLE_JSON)
            raise _Rejection(
                415,
                "UnsupportedMediaType",
                f"The content type '{first['non-json-content-type'].seen}' is not supported;"
                " send application/json.",
            )
        if "request-too-large" in first:
            raise _Rejection(400, "BadRequest", _TOO_LARGE)
        if "invalid-json" in first or "body-not-object" in first:
            raise _Rejection(400, "BadRequest", _UNREADABLE_JSON)
        top_type = [f for f in errors if f.path == "$.@odata.type"]
        for finding in top_type:
            if finding.code in ("missing-odata-type", "abstract-odata-type"):
                raise _Rejection(
                    422, "UnprocessableType", f"Cannot process input of abstract type '{base_name}'"
                )
        for finding in top_type:
            declared = check.data.get("@odata.type") if check.data else None
            if finding.code == "unknown-odata-type":
                raise _Rejection(
                    400,
                    "RequestBodyRead",
                    f"A type named '{declared}' could not be resolved by the model. When a model"
                    " is available, each type name must resolve to a valid type.",
                )
            if finding.code == "odata-type-not-allowed-on-route":
                raise _Rejection(
                    400,
                    "RequestBodyRead",
                    f"A resource with type '{str(declared).lstrip('#')}' was found, but it is not"
                    f" assignable to the expected type '{base_name}'. The type specified in the"
                    " resource must be equal to either the expected type or a derived type.",
                )
            if finding.code == "wrong-type":
                raise _Rejection(
                    400, "RequestBodyRead", "The @odata.type annotation must be a string."
                )
        if "file-too-large" in first:
            raise _Rejection(400, "BadRequest", _TOO_LARGE)
        for finding in errors:
            rejection = self._property_rejection(finding)
            if rejection is not None:
                raise rejection

    @staticmethod
    def _property_rejection(finding: Finding) -> _Rejection | None:
        prop = finding.path.removeprefix("$.")
        if finding.code == "unknown-property":
            type_name = finding.expected.removeprefix("a property of ")
            return _Rejection(
                400,
                "RequestBodyRead",
                f"The property '{prop}' does not exist on type '{type_name}'."
                " Make sure to only use property names that are defined by the type.",
            )
        if finding.code == "wrong-type":
            return _Rejection(
                400,
                "RequestBodyRead",
                f"Cannot convert the value of property '{prop}' ({finding.seen}) to the"
                f" expected type '{finding.expected}'.",
            )
        if finding.code == "enum-value":
            return _Rejection(
                400,
                "RequestBodyRead",
                f"The value of property '{prop}' ({finding.seen}) is not a valid enumeration"
                " type constant.",
            )
        if finding.code == "invalid-base64":
            return _Rejection(
                400, "ErrorInvalidProperty", f"The value of property '{prop}' is not valid base64."
            )
        if finding.code == "missing-required-property":
            return _Rejection(
                400,
                "ErrorInvalidProperty",
                f"The property '{prop}' is required: {finding.message}.",
            )
        if finding.code in ("missing-odata-type", "unknown-odata-type"):
            return _Rejection(
                400, "RequestBodyRead", f"Invalid value for '{prop}': {finding.message}."
            )
        return None

    # --- building entities ---------------------------------------------------------------

    def _entity(
        self, attachment_type: AttachmentType, posted: dict[str, Any], attachment_id: str, now: str
    ) -> dict[str, Any]:
        """The created attachment as Graph returns it: every documented property, in the
        model's order, service-set ones filled in, absent ones null."""
        sent = {
            k: v
            for k, v in posted.items()
            if k != "@odata.type" and not is_annotation(k) and k not in READ_ONLY_PROPERTIES
        }
        service_set: dict[str, Any] = {
            "id": attachment_id,
            "lastModifiedDateTime": now,
            "size": self._size(attachment_type, sent),
        }
        defaults: dict[str, Any] = {"isInline": False}
        if "contentBytes" in attachment_type.properties:
            defaults["contentType"] = content_type_for_name(sent.get("name"))
        entity: dict[str, Any] = {"@odata.type": "#" + attachment_type.name}
        for prop in attachment_type.properties:
            if prop == "@odata.type":
                continue
            if prop in service_set:
                entity[prop] = service_set[prop]
            elif sent.get(prop) is not None:
                entity[prop] = sent[prop]
            elif prop in defaults:
                entity[prop] = defaults[prop]
            elif prop != "item":  # navigation properties only come back when expanded
                entity[prop] = None
        return entity

    @staticmethod
    def _size(attachment_type: AttachmentType, sent: dict[str, Any]) -> int:
        content = sent.get("contentBytes")
        if isinstance(content, str):
            decoded = len(base64.b64decode(content.translate(str.maketrans("", "", " \t\r\n"))))
            if attachment_type.base == "attachmentBase":  # To Do reports the file's size
                return decoded
            return decoded + ATTACHMENT_OVERHEAD_BYTES
        item = sent.get("item")
        if item is not None:
            return len(_dumps(item)) + ATTACHMENT_OVERHEAD_BYTES
        return ATTACHMENT_OVERHEAD_BYTES

    def _outlook_id(self) -> str:
        # Called under the lock. Random part for uniqueness across instances, counter
        # for uniqueness within one even if the random source repeats.
        self._counter += 1
        raw = _OUTLOOK_ID_PREFIX + uuid.uuid4().bytes + self._counter.to_bytes(3, "big")
        return base64.urlsafe_b64encode(raw).decode("ascii")

    def _now(self) -> str:
        moment = self._clock()
        if moment.tzinfo is not None:
            moment = moment.astimezone(UTC)
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")

    # --- URLs --------------------------------------------------------------------------

    def _canonical_segments(self, match: RouteMatch) -> tuple[tuple[str, str | None], ...]:
        pairs = route_segments(match)
        if match.via_me and pairs and pairs[0][0] == "users":
            pairs[0] = ("users", self._me_user_id)
        return tuple(pairs)

    def _collection_key(self, match: RouteMatch) -> tuple[tuple[str, str | None], ...]:
        # No API version: v1.0 and beta see the same mailbox.
        return self._canonical_segments(match)

    def _context_url(self, match: RouteMatch, *, entity: bool) -> str:
        parts = [
            name if key is None else f"{name}({_odata_key(key)})"
            for name, key in self._canonical_segments(match)
        ]
        suffix = "/$entity" if entity else ""
        return f"{self._base_url}/{match.api_version}/$metadata#{'/'.join(parts)}{suffix}"

    # --- answers -------------------------------------------------------------------------

    def _headers(self, exchange: Exchange) -> list[tuple[str, str]]:
        return [
            ("Content-Type", GRAPH_JSON_CONTENT_TYPE),
            ("request-id", exchange.request_id),
            ("client-request-id", exchange.client_request_id),
            ("Cache-Control", "private"),
        ]

    def _json(self, status: int, data: dict[str, Any], exchange: Exchange) -> SimulatedResponse:
        headers = [*self._headers(exchange), ("OData-Version", "4.0"), *exchange.extra_headers]
        return SimulatedResponse(status, headers, _dumps(data))

    def _error(self, rejection: _Rejection, exchange: Exchange) -> SimulatedResponse:
        envelope = {
            "error": {
                "code": rejection.code,
                "message": rejection.message,
                "innerError": {
                    "date": exchange.timestamp,
                    "request-id": exchange.request_id,
                    "client-request-id": exchange.client_request_id,
                },
            }
        }
        return SimulatedResponse(
            rejection.status, self._headers(exchange) + rejection.headers, _dumps(envelope)
        )

    @staticmethod
    def _check_authorization(headers: Mapping[str, str]) -> None:
        value = (header_value(headers, "authorization") or "").strip()
        scheme, _, token = value.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            challenge = (
                'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/'
                'oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"'
            )
            raise _Rejection(
                401,
                "InvalidAuthenticationToken",
                "Access token validation failure." if token.strip() else "Access token is empty.",
                [("WWW-Authenticate", challenge)],
            )

    @staticmethod
    def _method_not_allowed(verb: str, allowed: str) -> _Rejection:
        return _Rejection(
            405,
            "MethodNotAllowed",
            f"The HTTP method '{verb}' is not allowed on this resource.",
            [("Allow", allowed)],
        )

    @staticmethod
    def _not_found_segment(path: str) -> _Rejection:
        segment = unmatched_segment(path)
        if segment is None:  # a prefix of a route: name its last segment
            _, _, segments = split_api_version(path)
            segment = unquote(segments[-1]) if segments else ""
        return _Rejection(400, "BadRequest", f"Resource not found for the segment '{segment}'.")
