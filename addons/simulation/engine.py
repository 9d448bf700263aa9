"""A Microsoft Graph look-alike for the attachment lifecycle, as pure logic.

No sockets and no mitmproxy: ``GraphSimulation.handle`` takes a request and returns a
:class:`SimulatedResponse`, so the same object can sit behind an HTTP server, a mitmproxy
addon or a test. What Graph accepts or rejects on create is decided by
``graph_validation`` (one source of truth); this module turns its findings into the status
codes and error bodies Graph answers with.

What it serves (each row of the README's "What the simulator reproduces" names its source):
parents (messages, events, group posts, To Do tasks, Outlook tasks) created by their
documented POSTs or, unless ``strict_parents``, on first use; attachments created, listed
(``$select``, ``$top``, ``$skip``), read (``$expand`` of an item attachment's ``item``),
read raw (``/$value``) and deleted; a parent with ``$expand=attachments``; upload sessions
in Outlook's and To Do's documented shapes (:mod:`graphtape.addons.simulation.uploads`).

**The request pipeline.** Every request passes through ``stages`` before it is routed:
a stage is ``stage(request, next) -> SimulatedResponse`` and may answer itself (a fault, a
throttled 429, a ``$batch`` that calls ``next`` per item) or call ``next(request)``. A
:class:`GraphRejection` raised anywhere becomes Graph's error envelope.
"""

from __future__ import annotations

import base64
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import quote, unquote, urlsplit

from graphtape.addons.graph.models import NAMESPACE, AttachmentType, type_info
from graphtape.addons.graph.routes import (
    Operation,
    RouteMatch,
    match_path,
    split_api_version,
    unmatched_segment,
)
from graphtape.addons.graph.upload_urls import (
    GRAPH_ORIGIN,
    OUTLOOK_ORIGIN,
    UploadUrlMatch,
    alternate_loopback_host,
    match_upload_url,
    outlook_upload_path,
    todo_upload_path,
)
from graphtape.addons.graph.validation import MAX_FILE_BYTES, check_request, header_value
from graphtape.addons.simulation.batch import BatchStage
from graphtape.addons.simulation.entities import (
    ATTACHMENT_OVERHEAD_BYTES,
    attachment_entity,
    content_type_for_name,
    decoded_content,
    item_as_mime,
    parent_entity,
    selected,
)
from graphtape.addons.simulation.mailbox import Mailbox, StoredParent
from graphtape.addons.simulation.paths import (
    ParentRef,
    QueryOptionError,
    QueryOptions,
    attachment_target,
    collection_of,
    match_parent,
    match_parent_collection,
    normalise_path,
    odata_segments,
    parent_of,
)
from graphtape.addons.simulation.rejections import reject_like_graph
from graphtape.addons.simulation.responses import (
    GRAPH_JSON_CONTENT_TYPE,
    Exchange,
    GraphRejection,
    SimulatedResponse,
    dumps,
    error_answer,
    json_answer,
    method_not_allowed,
    no_content,
    not_found,
    raw_answer,
)
from graphtape.addons.simulation.uploads import ChunkAccepted, UploadSession, UploadSessions

__all__ = [
    "ATTACHMENT_OVERHEAD_BYTES",
    "DEFAULT_ME_USER_ID",
    "GRAPH_JSON_CONTENT_TYPE",
    "MAX_OUTLOOK_SESSION_BYTES",
    "MAX_TODO_SESSION_BYTES",
    "MIN_OUTLOOK_SESSION_BYTES",
    "Exchange",
    "GraphRejection",
    "GraphSimulation",
    "Next",
    "RequestContext",
    "SimRequest",
    "SimulatedResponse",
    "Stage",
    "content_type_for_name",
]

# Who "/me" is: Graph resolves /me to the signed-in user's id in @odata.context.
DEFAULT_ME_USER_ID = "5f7c2ad1-0c3e-4b6a-9f51-3d2e8b7a6c40"
# outlook-large-attachments: sessions are for files of 3 MB to 150 MB (MB read as MiB, as the
# validator reads the 3 MB direct-POST limit); taskfileattachment-createuploadsession: To Do
# takes 0 to 25 MB.
MIN_OUTLOOK_SESSION_BYTES = MAX_FILE_BYTES
MAX_OUTLOOK_SESSION_BYTES = 150 * 1024 * 1024
MAX_TODO_SESSION_BYTES = 25 * 1024 * 1024

_UNREADABLE_JSON = (
    "Unable to read JSON request payload. Please ensure Content-Type header is set and"
    " payload is of valid JSON format."
)
# Where createUploadSession bodies carry the file's description (docs spell the first two ways).
_SESSION_ITEM_KEYS = ("AttachmentItem", "attachmentItem", "attachmentInfo")
# The Outlook id prefix ("AAMkA...") so generated ids look like the ones Graph sends.
_OUTLOOK_ID_PREFIX = b"\x00\x03\x24\x00"
_ITEM_EXPAND = "microsoft.graph.itemattachment/item"


@dataclass(frozen=True)
class RequestContext:
    """How the client reached the simulator, as the server in front of it knows."""

    scheme: str = "http"
    # Where Outlook upload URLs point (the simulator's own upload listener, same scheme as the
    # client's). None: the alternate loopback hostname on the port the client used.
    upload_origin: str | None = None
    # Which listener answered: Graph's, Outlook's upload service, or unknown (a test or embedding).
    listener: Literal["graph", "upload"] | None = None


@dataclass
class SimRequest:
    """One request on its way through the pipeline; ``headers`` have lower-cased names."""

    method: str
    path: str  # normalised (no empty segments), query kept
    headers: dict[str, str]
    body: bytes
    context: RequestContext
    exchange: Exchange

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


Next = Callable[[SimRequest], SimulatedResponse]
Stage = Callable[[SimRequest, Next], SimulatedResponse]


def _default_clock() -> datetime:
    return datetime.now(UTC)


@dataclass
class _Upload:
    """What a session needs when its last chunk arrives."""

    parent: ParentRef
    api_version: str
    extra: dict[str, Any] = field(default_factory=dict)


class GraphSimulation:
    """Answers attachment calls as Graph does; thread-safe, state kept in memory for one run."""

    def __init__(
        self,
        *,
        clock: Callable[[], datetime] | None = None,
        id_factory: Callable[[], str] | None = None,
        request_id_factory: Callable[[], str] | None = None,
        base_url: str = GRAPH_ORIGIN,
        me_user_id: str = DEFAULT_ME_USER_ID,
        strict_parents: bool = False,
        stages: Iterable[Stage] = (),
    ) -> None:
        self._clock = clock or _default_clock
        self._id_factory = id_factory or self._outlook_id
        self._request_id_factory = request_id_factory or (lambda: str(uuid.uuid4()))
        self._base_url = base_url.rstrip("/")
        self._me_user_id = me_user_id
        self.strict_parents = strict_parents
        # $batch first: each of its requests then passes every later stage as a request of its own.
        self.stages: list[Stage] = [BatchStage(self), *stages]
        self._lock = threading.Lock()
        self._counter = 0
        self.mailbox = Mailbox()
        self._uploads = UploadSessions()

    @property
    def me_user_id(self) -> str:
        """Who ``/me`` is in this simulation."""
        return self._me_user_id

    def add_stage(self, stage: Stage) -> None:
        """Run ``stage`` for every request, after the stages already added."""
        self.stages.append(stage)

    @property
    def blocking(self) -> bool:
        """True when a stage may wait (latency, a concurrency limit): the server in front should call
        :meth:`handle` off its event loop, so other requests are answered meanwhile."""
        return any(getattr(stage, "blocking", False) for stage in self.stages)

    def sub_request(self, parent: SimRequest, method: str, path_with_query: str, headers: Mapping[str, str],
                    body: bytes) -> SimRequest:
        """A request made on behalf of ``parent`` (a ``$batch`` item): the parent's credentials and
        host unless it names its own, a request id of its own."""
        lowered = {str(k).lower(): str(v) for k, v in headers.items()}
        for inherited in ("authorization", "host"):
            if inherited in parent.headers and inherited not in lowered:
                lowered[inherited] = parent.headers[inherited]
        exchange = Exchange(
            request_id=self._request_id_factory(),
            client_request_id=lowered.get("client-request-id") or self._request_id_factory(),
            moment=self._moment(),
        )
        return SimRequest(method.upper(), normalise_path(path_with_query), lowered, bytes(body), parent.context,
                          exchange)

    def authorize(self, request: SimRequest) -> None:
        """Refuse (401, as Graph) a request without a bearer token."""
        self._check_authorization(request.headers)

    def expire_upload_session(self, session_id: str) -> bool:
        """End an open upload session's validity now (a fault: the session expires mid-upload)."""
        return self._uploads.expire(session_id, self._clock())

    # --- entry point -------------------------------------------------------------------

    def handle(self, method: str, path_with_query: str, headers: Mapping[str, str], body: bytes, *,
               context: RequestContext | None = None) -> SimulatedResponse:
        """Answer one request as Graph would."""
        lowered = {str(k).lower(): str(v) for k, v in headers.items()}
        exchange = Exchange(
            request_id=self._request_id_factory(),
            client_request_id=lowered.get("client-request-id") or self._request_id_factory(),
            moment=self._moment(),
        )
        request = SimRequest(method.upper(), normalise_path(path_with_query), lowered, bytes(body or b""),
                             context or RequestContext(), exchange)
        try:
            return self._through(0, request)
        except GraphRejection as rejection:
            return error_answer(rejection, exchange)
        except Exception as exc:
            internal = GraphRejection(500, "InternalServerError",
                                      f"graphtape's simulator failed: {type(exc).__name__}")
            return error_answer(internal, exchange)

    def _through(self, index: int, request: SimRequest) -> SimulatedResponse:
        if index < len(self.stages):
            return self.stages[index](request, lambda r: self._through(index + 1, r))
        return self._route(request)

    def _route(self, req: SimRequest) -> SimulatedResponse:
        upload = match_upload_url(req.path)
        if req.context.listener == "upload" and (upload is None or upload.kind != "outlook"):
            raise not_found("No such upload session on this service.")
        if upload is not None and (upload.kind == "todo" or req.context.listener != "graph"):
            if upload.kind == "todo":
                self._check_authorization(req.headers)
            return self._upload_request(req, upload)
        self._check_authorization(req.headers)
        match = match_path(req.path)
        if match is not None:
            if match.route.operation is Operation.CREATE_UPLOAD_SESSION:
                return self._create_upload_session(req, match)
            return self._attachments_collection(req, match)
        target = attachment_target(req.path)
        if target is not None:
            return self._attachment(req, *target)
        parent = match_parent(req.path)
        if parent is not None:
            return self._parent(req, parent)
        collection = match_parent_collection(req.path)
        if collection is not None:
            return self._parent_collection(req, collection)
        replied = self._reply_target(req.path)
        if replied is not None:
            return self._reply(req, replied)
        raise self._not_found_segment(req.path)

    # --- attachments -----------------------------------------------------------------------

    def _attachments_collection(self, req: SimRequest, match: RouteMatch) -> SimulatedResponse:
        if req.method == "POST":
            return self._create(match, req.headers, req.body, req.exchange)
        if req.method != "GET":
            raise method_not_allowed(req.method, "GET, POST")
        options = self._options(req.path)
        ref = parent_of(match, self._me_user_id)
        self._parent_entry(ref, req.exchange.timestamp)
        entities = self.mailbox.attachments(ref.key)
        page = entities[options.skip:]
        if options.top is not None:
            page = page[:options.top]
        listing: dict[str, Any] = {
            "@odata.context": self._context(match.api_version, (*ref.pairs, ("attachments", None))),
            "value": [self._present(e, options) for e in page],
        }
        if options.top is not None and options.skip + options.top < len(entities):
            query = f"$top={options.top}&$skip={options.skip + options.top}"
            if options.select:
                query = f"$select={','.join(options.select)}&" + query
            listing["@odata.nextLink"] = f"{self._base_url}{match.path.rstrip('/')}?{query}"
        return json_answer(200, listing, req.exchange)

    def _create(self, match: RouteMatch, headers: Mapping[str, str], body: bytes,
                exchange: Exchange) -> SimulatedResponse:
        check = check_request(match, "POST", headers, body)
        reject_like_graph(check, match, headers)
        if check.attachment_type is None or check.data is None:  # defensive: nothing to create
            raise GraphRejection(400, "BadRequest", _UNREADABLE_JSON)
        ref = parent_of(match, self._me_user_id)
        self._parent_entry(ref, exchange.timestamp)
        entity = self._store_attachment(ref, check.attachment_type, check.data, exchange)
        location = f"{self._base_url}{match.path.rstrip('/')}/{quote(str(entity['id']), safe='=')}"
        context = self._context(match.api_version, (*ref.pairs, ("attachments", None)), entity=True)
        status, body_out = self._present_created(201, {"@odata.context": context,
                                                       **self._present(entity, QueryOptions())})
        exchange.extra_headers.append(("Location", location))
        return json_answer(status, body_out, exchange)

    def _present_created(self, status: int, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """Last step before a created attachment is answered: drift variants go here."""
        return status, body

    def _store_attachment(self, ref: ParentRef, attachment_type: AttachmentType, posted: Mapping[str, Any],
                          exchange: Exchange) -> dict[str, Any]:
        with self._lock:
            attachment_id = self._id_factory()
        entity = attachment_entity(attachment_type.name, attachment_type.base or "", attachment_type.properties,
                                   posted, attachment_id, exchange.timestamp)
        self.mailbox.add_attachment(ref.key, entity)
        return entity

    def _attachment(self, req: SimRequest, match: RouteMatch, attachment_id: str, raw: bool) -> SimulatedResponse:
        ref = parent_of(match, self._me_user_id)
        self._parent_entry(ref, req.exchange.timestamp)
        if req.method == "DELETE" and not raw:
            if not self.mailbox.remove_attachment(ref.key, attachment_id):
                raise not_found()
            return no_content(204, req.exchange)
        if req.method != "GET":
            raise method_not_allowed(req.method, "GET" if raw else "GET, DELETE")
        entity = self.mailbox.attachment(ref.key, attachment_id)
        if entity is None:
            raise not_found()
        if raw:
            return self._raw_value(entity, req.exchange)
        options = self._options(req.path)
        answer = {"@odata.context": self._context(match.api_version, (*ref.pairs, ("attachments", None)),
                                                  entity=True)}
        answer.update(self._present(entity, options, item_context=self._context(
            match.api_version, (*ref.pairs, ("attachments", attachment_id)))))
        return json_answer(200, answer, req.exchange)

    def _raw_value(self, entity: Mapping[str, Any], exchange: Exchange) -> SimulatedResponse:
        """attachment-get: a file's bytes with its content type; an item as MIME; a reference 405."""
        if "contentBytes" in entity:
            content_type = str(entity.get("contentType") or "application/octet-stream")
            return raw_answer(200, decoded_content(entity.get("contentBytes")), content_type, exchange)
        item = entity.get("item")
        if isinstance(item, dict):
            data, content_type = item_as_mime(item)
            return raw_answer(200, data, content_type, exchange)
        raise method_not_allowed("GET", "")

    def _present(self, entity: Mapping[str, Any], options: QueryOptions,
                 item_context: str | None = None) -> dict[str, Any]:
        """An attachment as answered: ``item`` only when expanded, then ``$select``."""
        shown = {k: v for k, v in entity.items() if k != "item"}
        shown = selected(shown, options.select)
        if "item" in entity and options.expands(_ITEM_EXPAND):
            if item_context is not None:
                shown["item@odata.context"] = f"{item_context}/microsoft.graph.itemAttachment/item/$entity"
            item = entity["item"] if isinstance(entity["item"], dict) else {}
            shown["item"] = {"@odata.type": item.get("@odata.type"), "id": "",
                             **{k: v for k, v in item.items() if k not in ("@odata.type", "id")}}
        return shown

    # --- parents -----------------------------------------------------------------------------

    def _parent_entry(self, ref: ParentRef, now: str, *, create: bool = True) -> StoredParent:
        """The stored parent; created on first use unless ``strict_parents`` (then 404)."""
        stored = self.mailbox.get(ref.key)
        if stored is not None:
            return stored
        if self.strict_parents or not create:
            if ref.key.suffix and self._base_item_exists(ref):
                pass  # a message's event exists when the message does
            else:
                raise not_found()
        implicit = self._new_parent(ref.container, {}, now, ref.key.item_id)
        return self.mailbox.add_parent(StoredParent(ref.key, ref.collection, implicit))

    def _base_item_exists(self, ref: ParentRef) -> bool:
        from graphtape.addons.simulation.paths import ParentKey

        for container in ("message", "event", "post", "todoTask", "outlookTask"):
            if self.mailbox.get(ParentKey(ref.key.owner, container, ref.key.item_id, ())) is not None:
                return True
        return False

    def _new_parent(self, container: str, posted: Mapping[str, Any], now: str,
                    parent_id: str | None = None) -> dict[str, Any]:
        with self._lock:
            new_id = parent_id or self._id_factory()
            change_key = base64.b64encode(uuid.uuid4().bytes[:12]).decode("ascii")
        return parent_entity(container, posted, new_id, now, change_key)

    def _parent(self, req: SimRequest, attachments: RouteMatch) -> SimulatedResponse:
        ref = parent_of(attachments, self._me_user_id)
        if req.method == "DELETE":
            self._parent_entry(ref, req.exchange.timestamp, create=not self.strict_parents)
            self.mailbox.remove_parent(ref.key)
            return no_content(204, req.exchange)
        if req.method not in ("GET", "PATCH"):
            raise method_not_allowed(req.method, "GET, PATCH, DELETE")
        stored = self._parent_entry(ref, req.exchange.timestamp)
        if req.method == "PATCH":
            changes = self._json_object(req)
            stored.entity.update({k: v for k, v in changes.items() if k not in ("id", "@odata.type", "attachments")})
            stored.entity["lastModifiedDateTime"] = req.exchange.timestamp
        entity = {**stored.entity, "id": ref.key.item_id} if ref.key.suffix else dict(stored.entity)
        options = self._options(req.path)
        answer: dict[str, Any] = {"@odata.context": self._context(
            attachments.api_version, (*ref.pairs[:-1], (ref.pairs[-1][0], None)), entity=True)}
        answer.update(selected(entity, options.select))
        if options.expands("attachments"):
            answer["attachments@odata.context"] = self._context(attachments.api_version,
                                                                (*ref.pairs, ("attachments", None)))
            answer["attachments"] = [self._present(a, QueryOptions()) for a in self.mailbox.attachments(ref.key)]
        return json_answer(200, answer, req.exchange)

    def _parent_collection(self, req: SimRequest, probe: RouteMatch) -> SimulatedResponse:
        collection = collection_of(probe, self._me_user_id)
        context = self._context(probe.api_version, collection)
        if req.method == "GET":
            options = self._options(req.path)
            parents = self.mailbox.in_collection(collection)[options.skip:]
            if options.top is not None:
                parents = parents[:options.top]
            return json_answer(200, {"@odata.context": context,
                                     "value": [selected(p.entity, options.select) for p in parents]}, req.exchange)
        if req.method != "POST":
            raise method_not_allowed(req.method, "GET, POST")
        posted = self._json_object(req)
        entity = self._new_parent(probe.route.container, posted, req.exchange.timestamp)
        parent_id = str(entity["id"])
        _, _, segments = split_api_version(req.path)
        created = match_parent(f"/{probe.api_version}/{'/'.join(segments)}/{quote(parent_id, safe='=')}")
        if created is None:  # defensive: the probe said this is a collection
            raise GraphRejection(500, "InternalServerError", "graphtape's simulator could not place the item")
        ref = parent_of(created, self._me_user_id)
        inline = self._inline_attachments(created, posted)
        self.mailbox.add_parent(StoredParent(ref.key, ref.collection, entity))
        for attachment_type, data in inline:
            self._store_attachment(ref, attachment_type, data, req.exchange)
        location = f"{self._base_url}/{probe.api_version}/{odata_segments(ref.pairs)}"
        req.exchange.extra_headers.append(("Location", location))
        return json_answer(201, {"@odata.context": f"{context}/$entity", **entity}, req.exchange)

    def _inline_attachments(self, attachments_match: RouteMatch,
                            posted: Mapping[str, Any]) -> list[tuple[AttachmentType, dict[str, Any]]]:
        """Attachments sent inside a parent's body, checked as if POSTed one by one."""
        inline = posted.get("attachments")
        if inline is None:
            return []
        if not isinstance(inline, list):
            raise GraphRejection(400, "RequestBodyRead", "The property 'attachments' must be a collection.")
        checked = []
        for item in inline:
            check = check_request(attachments_match, "POST", {"content-type": "application/json"}, dumps(item))
            reject_like_graph(check, attachments_match, {"content-type": "application/json"})
            if check.attachment_type is None or check.data is None:
                raise GraphRejection(400, "BadRequest", _UNREADABLE_JSON)
            checked.append((check.attachment_type, check.data))
        return checked

    def _reply_target(self, path: str) -> RouteMatch | None:
        """``.../threads/{id}/reply`` (conversationthread-reply): the thread's posts collection."""
        bare = path.split("?", 1)[0].rstrip("/")
        if not bare.lower().endswith("/reply"):
            return None
        probe = match_parent_collection(bare[: -len("/reply")] + "/posts")
        return probe if probe is not None and probe.route.container == "post" else None

    def _reply(self, req: SimRequest, posts: RouteMatch) -> SimulatedResponse:
        if req.method != "POST":
            raise method_not_allowed(req.method, "POST")
        body = self._json_object(req)
        found = body.get("post")
        post: dict[str, Any] = found if isinstance(found, dict) else {}
        entity = self._new_parent("post", post, req.exchange.timestamp)
        _, _, segments = split_api_version(req.path.split("?", 1)[0].rstrip("/")[: -len("/reply")])
        created = match_parent(f"/{posts.api_version}/{'/'.join(segments)}/posts/{quote(str(entity['id']), safe='=')}")
        if created is None:
            raise GraphRejection(500, "InternalServerError", "graphtape's simulator could not place the post")
        ref = parent_of(created, self._me_user_id)
        inline = self._inline_attachments(created, post)
        self.mailbox.add_parent(StoredParent(ref.key, ref.collection, entity))
        for attachment_type, data in inline:
            self._store_attachment(ref, attachment_type, data, req.exchange)
        return no_content(202, req.exchange)

    # --- upload sessions ------------------------------------------------------------------------

    def _create_upload_session(self, req: SimRequest, match: RouteMatch) -> SimulatedResponse:
        if req.method != "POST":
            raise method_not_allowed(req.method, "POST")
        check = check_request(match, "POST", req.headers, req.body)
        reject_like_graph(check, match, req.headers)
        data = check.data or {}
        item = next((data[k] for k in _SESSION_ITEM_KEYS if isinstance(data.get(k), dict)), None)
        if item is None or not isinstance(item.get("size"), int):  # defensive: validation said it is there
            raise GraphRejection(400, "BadRequest", _UNREADABLE_JSON)
        todo = match.route.base_type == "attachmentBase"
        self._check_session_size(int(item["size"]), todo)
        ref = parent_of(match, self._me_user_id)
        self._parent_entry(ref, req.exchange.timestamp)
        with self._lock:
            session_id = self._id_factory()
        session = self._uploads.open(session_id, item, int(item["size"]), _Upload(ref, match.api_version),
                                     self._clock(), "todo" if todo else "outlook")
        if todo:
            url = self._graph_origin(req) + todo_upload_path(match.api_version, self._canonical_path(ref), session_id)
        else:
            path = outlook_upload_path(ref.key.owner, ref.container, ref.key.item_id, session_id)
            url = f"{self._upload_origin(req)}{path}?authtoken={session.token}"
        answer = {
            "@odata.context": f"{self._base_url}/{match.api_version}/$metadata#microsoft.graph.uploadSession",
            "uploadUrl": url,
            "expirationDateTime": _graph_datetime(session.expires),
            "nextExpectedRanges": ["0-"],
        }
        # attachment-createuploadsession answers 201; taskfileattachment-createuploadsession 200.
        return json_answer(200 if todo else 201, answer, req.exchange)

    @staticmethod
    def _check_session_size(size: int, todo: bool) -> None:
        limit = MAX_TODO_SESSION_BYTES if todo else MAX_OUTLOOK_SESSION_BYTES
        if not todo and size < MIN_OUTLOOK_SESSION_BYTES:
            raise GraphRejection(400, "ErrorAttachmentSizeShouldNotBeLessThanMinimumSize",
                                 f"The attachment size {size} is less than the minimum size "
                                 f"{MIN_OUTLOOK_SESSION_BYTES} for an upload session; attach it with one POST.")
        if size > limit:
            raise GraphRejection(400, "ErrorMessageSizeExceeded",
                                 f"The message exceeds the maximum supported size: {size} bytes, at most {limit} "
                                 "in an upload session.")

    def _upload_request(self, req: SimRequest, upload: UploadUrlMatch) -> SimulatedResponse:
        query = req.path.split("?", 1)[1] if "?" in req.path else ""
        if req.method == "DELETE" and not upload.content:
            refusal = self._uploads.cancel(upload.session_id, query, req.headers, self._clock())
            if refusal is not None:
                raise GraphRejection(refusal.status, refusal.code, refusal.message)
            return no_content(204, req.exchange)
        if req.method != "PUT":
            raise method_not_allowed(req.method, "PUT" if upload.content else "PUT, DELETE")
        outcome = self._uploads.put(upload.session_id, query, req.headers, req.body, self._clock())
        if not isinstance(outcome, ChunkAccepted):
            raise GraphRejection(outcome.status, outcome.code, outcome.message)
        session = outcome.session
        if not outcome.complete:
            return json_answer(200, self._progress(session), req.exchange)
        return self._finish_upload(session, req.exchange)

    @staticmethod
    def _progress(session: UploadSession) -> dict[str, Any]:
        """An accepted chunk's answer, as each large-attachment page shows it."""
        expires = _graph_datetime(session.expires)
        ranges = [str(len(session.received))]
        if session.kind == "todo":
            return {"ExpirationDateTime": expires, "NextExpectedRanges": ranges}
        owner: _Upload = session.owner
        ref = owner.parent
        root = "Groups" if ref.key.owner[0] == "groups" else "Users"
        path = outlook_upload_path(ref.key.owner, ref.container, ref.key.item_id, session.session_id)
        collection = path.split("/")[4].split("(")[0]
        context = (f"{OUTLOOK_ORIGIN}/api/v2.0/$metadata#{root}('{quote(ref.key.owner[1], safe='')}')"
                   f"/{collection}('{quote(ref.key.item_id, safe='')}')/AttachmentSessions/$entity")
        return {"@odata.context": context, "ExpirationDateTime": expires, "nextExpectedRanges": ranges}

    def _finish_upload(self, session: UploadSession, exchange: Exchange) -> SimulatedResponse:
        """The last chunk arrived: the file becomes an attachment; 201, ``Location``, no body."""
        owner: _Upload = session.owner
        ref = owner.parent
        type_name = "taskFileAttachment" if session.kind == "todo" else "fileAttachment"
        attachment_type = type_info(NAMESPACE + type_name, owner.api_version)
        assert attachment_type is not None
        posted = {k: v for k, v in session.declared.items() if k not in ("attachmentType", "size", "@odata.type")}
        posted["contentBytes"] = base64.b64encode(bytes(session.received)).decode("ascii")
        if self.mailbox.get(ref.key) is None:  # the parent was deleted meanwhile
            raise not_found()
        entity = self._store_attachment(ref, attachment_type, posted, exchange)
        attachment_id = str(entity["id"])
        if session.kind == "todo":
            location = (f"{self._base_url}/{owner.api_version}{self._canonical_path(ref)}/Attachments/"
                        f"{quote(attachment_id, safe='=')}")
        else:
            session_path = outlook_upload_path(ref.key.owner, ref.container, ref.key.item_id, session.session_id)
            item_path = session_path.rsplit("/AttachmentSessions(", 1)[0]
            location = f"{OUTLOOK_ORIGIN}{item_path}/Attachments('{attachment_id.replace(chr(39), chr(39) * 2)}')"
        exchange.extra_headers.append(("Location", location))
        return no_content(201, exchange)

    # --- helpers -------------------------------------------------------------------------------

    def _graph_origin(self, req: SimRequest) -> str:
        host = req.header("host")
        return f"{req.context.scheme}://{host}" if host else self._base_url

    def _upload_origin(self, req: SimRequest) -> str:
        if req.context.upload_origin:
            return req.context.upload_origin.rstrip("/")
        host = req.header("host")
        if not host:
            return OUTLOOK_ORIGIN
        parts = urlsplit(f"//{host}")
        other = alternate_loopback_host(parts.hostname or "")
        return f"{req.context.scheme}://{other}" + (f":{parts.port}" if parts.port else "")

    @staticmethod
    def _canonical_path(ref: ParentRef) -> str:
        return "".join(f"/{name}" if key is None else f"/{name}/{quote(key, safe='=@')}" for name, key in ref.pairs)

    def _context(self, api_version: str, pairs: Iterable[tuple[str, str | None]], *, entity: bool = False) -> str:
        suffix = "/$entity" if entity else ""
        return f"{self._base_url}/{api_version}/$metadata#{odata_segments(tuple(pairs))}{suffix}"

    @staticmethod
    def _options(path: str) -> QueryOptions:
        try:
            return QueryOptions.parse(path)
        except QueryOptionError as exc:
            raise GraphRejection(400, "BadRequest", str(exc)) from None

    @staticmethod
    def _json_object(req: SimRequest) -> dict[str, Any]:
        import json

        content_type = req.header("content-type") or ""
        if "json" not in content_type.lower():
            raise GraphRejection(400, "BadRequest", _UNREADABLE_JSON)
        try:
            data = json.loads(req.body or b"{}")
        except (ValueError, RecursionError):
            raise GraphRejection(400, "BadRequest", _UNREADABLE_JSON) from None
        if not isinstance(data, dict):
            raise GraphRejection(400, "BadRequest", _UNREADABLE_JSON)
        return data

    def _outlook_id(self) -> str:
        # Called under the lock. Random part for uniqueness across instances, counter
        # for uniqueness within one even if the random source repeats.
        self._counter += 1
        raw = _OUTLOOK_ID_PREFIX + uuid.uuid4().bytes + self._counter.to_bytes(3, "big")
        return base64.urlsafe_b64encode(raw).decode("ascii")

    def _moment(self) -> datetime:
        moment = self._clock()
        return moment.astimezone(UTC) if moment.tzinfo is not None else moment.replace(tzinfo=UTC)

    @staticmethod
    def _check_authorization(headers: Mapping[str, str]) -> None:
        value = (header_value(headers, "authorization") or "").strip()
        scheme, _, token = value.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            challenge = (
                'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/'
                'oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"'
            )
            raise GraphRejection(
                401,
                "InvalidAuthenticationToken",
                "Access token validation failure." if token.strip() else "Access token is empty.",
                [("WWW-Authenticate", challenge)],
            )

    @staticmethod
    def _not_found_segment(path: str) -> GraphRejection:
        segment = unmatched_segment(path)
        if segment is None:  # a prefix of a route: name its last segment
            _, _, segments = split_api_version(path)
            segment = unquote(segments[-1]) if segments else ""
        return GraphRejection(400, "BadRequest", f"Resource not found for the segment '{segment}'.")


def _graph_datetime(moment: datetime) -> str:
    """A DateTimeOffset with seven fractional digits, as Graph writes ``expirationDateTime``."""
    moment = moment.astimezone(UTC) if moment.tzinfo is not None else moment
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond:06d}0Z"

