"""mitmproxy flow files (what ``mitmdump -w`` and mitmweb save, ``mitmweb -r`` opens) and cassettes.

Reading gives the captured exchanges for ``graphtape import``. Writing (``graphtape export
--mitm``, and ``graphtape view``'s flows) turns each interaction into a flow marked and
commented with its findings as live recording does, and carries graphtape's own data for
the interaction (route, recorded time, findings, upload-session place, the exact URI) in
``flow.metadata["graphtape_interaction"]`` as JSON text, with a fingerprint of the exchange.
On import, data whose fingerprint still matches the flow is restored as it was; a flow
edited since (in mitmweb, say) is validated afresh like any other capture.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from mitmproxy import http, io
from mitmproxy.exceptions import FlowReadException

from graphtape.addons.proxy.flow_convert import flow_from_interaction, request_from_flow, response_from_flow
from graphtape.addons.proxy.flow_marks import mark_flow
from graphtape.cassettes.errors import CaptureFormatError, InputError
from graphtape.cassettes.findings import Finding
from graphtape.cassettes.har import MAX_CAPTURE_BYTES, Exchange
from graphtape.cassettes.model import Cassette, InteractionMeta, Request, Response, body_digest
from graphtape.cassettes.safe_files import open_regular
from graphtape.cassettes.storage import write_atomic_stream

__all__ = ["INTERACTION_METADATA_KEY", "flows_from_cassette", "read_flow_file", "write_flow_file"]

# Not "graphtape": the replayer marks the flows it serves under that key.
INTERACTION_METADATA_KEY = "graphtape_interaction"
_CARRIED_FORMAT = 1


# ---------------------------------------------------------------- cassette -> flows


def _timestamp(recorded_at: str | None) -> float | None:
    if not recorded_at:
        return None
    try:
        moment = datetime.fromisoformat(recorded_at.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def _fingerprint(request: Request, response: Response) -> str:
    """What a flow says about its exchange, reduced to one digest (bodies by their own digests)."""
    doc = [request.method, request.uri, [list(p) for p in request.headers], body_digest(request.body),
           response.status_code, response.reason, [list(p) for p in response.headers], body_digest(response.body)]
    return body_digest(json.dumps(doc, ensure_ascii=True).encode("ascii"))


def _carried(flow: http.HTTPFlow, uri: str, meta: InteractionMeta) -> str:
    doc: dict[str, Any] = {
        "format": _CARRIED_FORMAT,
        "fingerprint": _fingerprint(request_from_flow(flow), response_from_flow(flow)),
        "uri": uri,
        "route": meta.route,
        "route_template": meta.route_template,
        "recorded_at": meta.recorded_at,
        "findings": [f.to_dict() for f in meta.findings],
        "extra": [[k, v] for k, v in meta.extra],
    }
    # ASCII JSON: a flow file stores text as UTF-8, which a lone surrogate (from a non-UTF-8
    # header a finding quotes) cannot be; escaped, it survives and reads back the same.
    return json.dumps(doc, ensure_ascii=True, default=str)


def flows_from_cassette(cassette: Cassette, source: str = "cassette") -> list[http.HTTPFlow]:
    """Every interaction as a finished flow, in cassette order, marked and commented with its findings.

    A flow's time is its interaction's ``recorded_at``, never earlier than the flow before it,
    so viewers that sort by time (mitmweb does) keep the cassette's order.
    """
    flows: list[http.HTTPFlow] = []
    previous = 0.0
    for n, interaction in enumerate(cassette.interactions):
        moment = max(previous, _timestamp(interaction.meta.recorded_at) or previous)
        previous = moment
        try:
            flow = flow_from_interaction(interaction, moment)
        except ValueError as exc:
            raise InputError(f"{source}: interactions[{n}].request.uri: mitmproxy cannot hold "
                             f"{interaction.request.uri!r}: {exc}") from None
        mark_flow(flow, interaction.meta.findings)
        flow.metadata[INTERACTION_METADATA_KEY] = _carried(flow, interaction.request.uri, interaction.meta)
        flows.append(flow)
    return flows


def write_flow_file(path: Path, cassette: Cassette, source: str = "cassette") -> int:
    """Write the cassette as a mitmproxy flow file (atomically); returns how many flows it holds."""
    flows = flows_from_cassette(cassette, source)

    def write(fh: BinaryIO) -> None:
        writer = io.FlowWriter(fh)
        for flow in flows:
            writer.add(flow)

    write_atomic_stream(path, write)
    return len(flows)


# ---------------------------------------------------------------- flow file -> exchanges


def _restored(flow: http.HTTPFlow, request: Request, response: Response) -> tuple[str, InteractionMeta] | None:
    """The URI and data graphtape carried in ``flow``, if any and if the flow still matches them."""
    text = flow.metadata.get(INTERACTION_METADATA_KEY)
    if not isinstance(text, str):
        return None
    try:
        doc = json.loads(text)
        if (not isinstance(doc, dict) or doc.get("format") != _CARRIED_FORMAT
                or doc.get("fingerprint") != _fingerprint(request, response)):
            return None
        meta = InteractionMeta(
            route=_optional_str(doc.get("route")),
            route_template=_optional_str(doc.get("route_template")),
            recorded_at=_optional_str(doc.get("recorded_at")),
            findings=tuple(Finding.from_dict(f) for f in doc.get("findings") or []),
            extra=tuple((str(k), v) for k, v in doc.get("extra") or []),
        )
        uri = doc["uri"]
    except (ValueError, TypeError, KeyError, AttributeError):
        return None  # not what graphtape wrote: the flow is imported as any other capture
    return (uri, meta) if isinstance(uri, str) else None


def _optional_str(value: object) -> str | None:
    if value is not None and not isinstance(value, str):
        raise TypeError(f"expected a string, found {type(value).__name__}")
    return value


def _answered(fh: BinaryIO) -> Iterator[tuple[int, http.HTTPFlow]]:
    """The answered HTTP flows of a flow file, each with its place among all the file's flows."""
    for n, flow in enumerate(io.FlowReader(fh).stream()):
        if isinstance(flow, http.HTTPFlow) and flow.response is not None:
            yield n, flow


def read_flow_file(path: Path) -> list[Exchange]:
    """Every answered HTTP flow in ``path``, in file order; other flows (TCP, DNS, errors) are left out."""
    out: list[Exchange] = []
    n = 0

    def fail(problem: str) -> CaptureFormatError:
        return CaptureFormatError(path, "", problem)

    try:
        with open_regular(path, fail, MAX_CAPTURE_BYTES) as fh:
            for n, flow in _answered(fh):
                try:
                    request, response = request_from_flow(flow), response_from_flow(flow)
                except (ValueError, AttributeError) as exc:
                    raise CaptureFormatError(path, f"flow {n}", f"unusable HTTP flow: {exc}") from None
                restored = _restored(flow, request, response)
                if restored is not None:
                    uri, meta = restored
                    out.append(Exchange(request=replace(request, uri=uri), response=response,
                                        started=meta.recorded_at, where=f"flow {n}", meta=meta))
                else:
                    out.append(Exchange(request=request, response=response,
                                        started=_iso(flow.request.timestamp_start), where=f"flow {n}"))
    except CaptureFormatError:
        raise
    except FileNotFoundError:
        raise CaptureFormatError(path, "", "cannot read: no such file") from None
    except OSError as exc:
        raise CaptureFormatError(path, "", f"cannot read: {exc.strerror or exc}") from None
    except FlowReadException as exc:
        raise CaptureFormatError(path, f"after {len(out)} flows", f"not a mitmproxy flow file: {exc}") from None
    except Exception as exc:  # a hostile file can break mitmproxy's reader in any way it likes
        raise CaptureFormatError(path, f"flow {n}", f"unusable flow: {type(exc).__name__}: "
                                 f"{str(exc)[:200]}") from None
    return out


def _iso(timestamp: float | None) -> str | None:
    if not timestamp:
        return None
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
