"""Synthetic traffic and cassettes for the benchmarks.

Every interaction is answered by graphtape's own Graph simulation (in process, no
network), so the cassettes look like recorded ones: real routes, real response
shapes, ``contentBytes`` echoed back as Graph does.
"""

from __future__ import annotations

import base64
import json
import random
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from graphtape.addons.simulation.engine import GraphSimulation
from graphtape.cassettes.model import (
    Cassette,
    Headers,
    Interaction,
    InteractionMeta,
    Request,
    Response,
)
from graphtape.cassettes.storage import save_cassette

__all__ = ["UPSTREAM", "TrafficRequest", "interactions_for", "traffic", "write_cassette", "write_flows"]

UPSTREAM = "https://graph.microsoft.com"
FAKE_TOKEN = "fake-token-123"  # obviously fake; redacted before it reaches a cassette anyway
_PATHS = (
    "/v1.0/users/adele@contoso.com/messages/AAMkAGI2THVSAA{n}=/attachments",
    "/v1.0/me/events/AAMkAGI2TGuLAA{n}=/attachments",
    "/beta/me/todo/lists/AAMkADJmZ{n}=/tasks/AAMkAGI2TG{n}=/attachments",
    "/v1.0/groups/1848753d-185d-4c08-a4e4-6ee40521d115/threads/AAQkADJU{n}=/posts/AAMkADJHV{n}=/attachments",
)


@dataclass(frozen=True)
class TrafficRequest:
    """One request as the load generator sends it (path relative to the server under test)."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


def _file_body(n: int, file_bytes: int, rng: random.Random) -> bytes:
    content = rng.randbytes(file_bytes)
    odata_type = "#microsoft.graph.fileAttachment" if n % 4 != 2 else "#microsoft.graph.taskFileAttachment"
    body = {"@odata.type": odata_type, "name": f"report-{n:05d}.bin",
            "contentBytes": base64.b64encode(content).decode("ascii")}
    if n % 4 != 2:
        body["contentType"] = "application/octet-stream"
    return json.dumps(body).encode("utf-8")


def traffic(count: int, file_bytes: int = 512, seed: int = 6) -> list[TrafficRequest]:
    """``count`` distinct attachment uploads over several Graph routes."""
    rng = random.Random(seed)
    out = []
    for n in range(count):
        path = _PATHS[n % len(_PATHS)].format(n=f"{n:05d}")
        headers = {"Authorization": f"Bearer {FAKE_TOKEN}", "Content-Type": "application/json"}
        out.append(TrafficRequest("POST", path, headers, _file_body(n, file_bytes, rng)))
    return out


def interactions_for(requests: list[TrafficRequest]) -> list[Interaction]:
    """Each request answered by the simulation, as a (redacted) recorded interaction."""
    sim = GraphSimulation(base_url=UPSTREAM)
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    out = []
    for req in requests:
        answer = sim.handle(req.method, req.path, req.headers, req.body)
        headers = {**req.headers, "Authorization": "REDACTED"}
        # As recorded through the simulator addon, which frames every answer with a length.
        resp_headers = [*answer.headers, ("Content-Length", str(len(answer.body)))]
        out.append(Interaction(
            request=Request(req.method, UPSTREAM + req.path, Headers.of(headers), req.body),
            response=Response(answer.status, "Created" if answer.status == 201 else "",
                              Headers.of(resp_headers), answer.body),
            meta=InteractionMeta(route="benchmark", recorded_at=stamp),
        ))
    return out


def write_cassette(path: Path, interactions: list[Interaction], blob_threshold: int = 0) -> int:
    """Write a cassette (inline when ``blob_threshold`` is 0); returns its size on disk with blob files."""
    save_cassette(path, Cassette(interactions=list(interactions)), blob_threshold)
    return size_on_disk(path)


def size_on_disk(path: Path) -> int:
    blobs = path.with_name(path.name + ".blobs")
    extra = sum(p.stat().st_size for p in blobs.iterdir()) if blobs.is_dir() else 0
    return path.stat().st_size + extra


def write_flows(path: Path, interactions: list[Interaction]) -> None:
    """The same interactions as a mitmproxy flow file, for ``mitmdump --server-replay``."""
    from mitmproxy import http, io
    from mitmproxy.test import tflow

    with open(path, "wb") as fh:
        writer = io.FlowWriter(fh)
        for i in interactions:
            req = http.Request.make(i.request.method, i.request.uri, i.request.body, _fields(i.request.headers))
            resp = http.Response.make(i.response.status_code, i.response.body, _fields(i.response.headers))
            resp.reason = i.response.reason
            writer.add(tflow.tflow(req=req, resp=resp))


def _fields(headers: Headers) -> list[tuple[bytes, bytes]]:
    return [(k.encode(), v.encode()) for k, v in headers]
