"""The simulator's ``$batch``: Graph's JSON batching as a pipeline stage.

``POST /v1.0/$batch`` (or ``/beta/$batch``) is answered as the json-batching page describes:
a batch Graph cannot read (not JSON, no ``requests`` array, more than 20 requests, an item
without ``id``, ``method`` or ``url``, an absolute URL, an id used twice, a body without a
``Content-Type`` header, ``dependsOn`` naming an unknown id or forming a cycle) is refused
whole with 400 ``BadRequest``; otherwise the batch is answered 200 with one response per
request, each with its own ``status``, ``headers`` and ``body``.

Each item is made a request of its own, with the batch's credentials and a request id of
its own, and sent down the rest of the pipeline: so the stages after this one (throttling,
faults, latency) see every item as Graph's throttling does ("Requests in a batch are
evaluated individually against the applicable throttling limits"), and a throttled item is
answered 429 with its ``Retry-After`` in the item's headers while the batch itself is 200.

Order: items run one at a time, each after the requests it ``dependsOn`` and otherwise in
the order sent (Graph may run independent items in parallel; the simulator's order is
deterministic). A request whose dependency failed (status 400 or more, or itself 424) is
not run and answers 424 Failed Dependency. Responses are listed in the order of the
requests. A body that is JSON is embedded as JSON; any other body as base64, as the page
documents for requests.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from graphtape.addons.graph.batch import (
    INVALID_BATCH_MESSAGE,
    BatchItem,
    BatchProblem,
    batch_version,
    execution_order,
    parse_batch_request,
)
from graphtape.addons.simulation.responses import (
    GraphRejection,
    SimulatedResponse,
    error_answer,
    json_answer,
    method_not_allowed,
)

if TYPE_CHECKING:
    from graphtape.addons.simulation.engine import SimRequest

__all__ = ["BatchHost", "BatchStage"]

# Per-answer facts the batch response carries once, on the batch itself.
_ENVELOPE_ONLY = frozenset({"date", "request-id", "client-request-id", "content-length", "connection",
                            "transfer-encoding"})


class BatchHost(Protocol):
    """What the stage needs from the simulation: its token check, and a request made on behalf of the batch."""

    def authorize(self, request: SimRequest) -> None: ...

    def sub_request(self, parent: SimRequest, method: str, path_with_query: str, headers: Mapping[str, str],
                    body: bytes) -> SimRequest: ...


def _refusal(problem: BatchProblem) -> GraphRejection:
    """Graph's words for an unreadable batch; for the other problems, what is wrong."""
    if problem.code == "batch-invalid" and not problem.message.startswith("Write request"):
        return GraphRejection(400, "BadRequest", INVALID_BATCH_MESSAGE)
    return GraphRejection(400, "BadRequest", problem.message)


def _item_answer(item: BatchItem, answer: SimulatedResponse) -> dict[str, Any]:
    headers = {k: v for k, v in answer.headers if k.lower() not in _ENVELOPE_ONLY}
    out: dict[str, Any] = {"id": item.id, "status": answer.status, "headers": headers}
    if answer.body:
        content_type = (answer.header("content-type") or "").lower()
        if "json" in content_type:
            try:
                out["body"] = json.loads(answer.body)
            except ValueError:
                out["body"] = base64.b64encode(answer.body).decode("ascii")
        else:
            out["body"] = base64.b64encode(answer.body).decode("ascii")
    return out


class BatchStage:
    """Answers ``$batch`` by running each of its requests through the rest of the pipeline."""

    def __init__(self, host: BatchHost) -> None:
        self._host = host

    def __call__(self, request: SimRequest, next_stage: Callable[[SimRequest], SimulatedResponse]) -> SimulatedResponse:
        version = batch_version(request.method, request.path)
        if version is None or request.context.listener == "upload":
            return next_stage(request)
        self._host.authorize(request)
        if request.method != "POST":
            raise method_not_allowed(request.method, "POST")
        content_type = (request.header("content-type") or "").lower()
        if "json" not in content_type:
            raise GraphRejection(400, "BadRequest", INVALID_BATCH_MESSAGE)
        batch = parse_batch_request(request.body)
        refused = [p for p in batch.problems if p.whole]
        if refused:
            raise _refusal(refused[0])
        order = execution_order(batch.items) or list(batch.items)
        answers: dict[str, SimulatedResponse] = {}
        for item in order:
            failed = next((d for d in item.depends_on if (a := answers.get(d.lower())) is not None and a.status >= 400),
                          None)
            sub = self._host.sub_request(request, item.method, self._path(version, item.url), item.headers,
                                         item.body_bytes())
            if failed is not None:
                rejection = GraphRejection(424, "FailedDependency",
                                           f"The request was not run: it depends on request '{failed}', which failed.")
                answers[item.id.lower()] = error_answer(rejection, sub.exchange)
                continue
            answers[item.id.lower()] = self._run(sub, next_stage)
        body = {"responses": [_item_answer(item, answers[item.id.lower()]) for item in batch.items]}
        return json_answer(200, body, request.exchange)

    @staticmethod
    def _path(version: str, url: str) -> str:
        return f"/{version}{url if url.startswith('/') else '/' + url}"

    @staticmethod
    def _run(sub: SimRequest, next_stage: Callable[[SimRequest], SimulatedResponse]) -> SimulatedResponse:
        try:
            return next_stage(sub)
        except GraphRejection as rejection:
            return error_answer(rejection, sub.exchange)
        except Exception as exc:  # one item's failure is that item's answer, as for a request of its own
            internal = GraphRejection(500, "InternalServerError",
                                      f"graphtape's simulator failed: {type(exc).__name__}")
            return error_answer(internal, sub.exchange)
