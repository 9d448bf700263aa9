"""HAR 1.2 <-> the cassette model (no mitmproxy): what browsers' network panels and mitmweb open.

Export writes each interaction as a HAR entry whose ``content.text`` is readable
(decoded from its Content-Encoding, base64 where it is not UTF-8) and keeps the exact
wire bytes and graphtape's data in ``_graphtape`` (HAR allows custom fields that
start with an underscore), so a cassette survives export and import byte for byte;
import validates again rather than trusting findings it reads.
Import reads any HAR 1.2 file: browsers' (decoded bodies, HTTP/2 pseudo-headers),
mitmweb's, or graphtape's own.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from graphtape.cassettes.encoding import decode_body
from graphtape.cassettes.errors import BodyDecodeError, CaptureFormatError
from graphtape.cassettes.model import Cassette, Headers, Interaction, InteractionMeta, Request, Response
from graphtape.cassettes.safe_files import read_capped

__all__ = ["Exchange", "cassette_to_har", "exchanges_from_har", "read_har"]

_EPOCH = "1970-01-01T00:00:00.000Z"
MAX_CAPTURE_BYTES = 1 << 30  # a capture to import is never read past this


@dataclass(frozen=True)
class Exchange:
    """One captured request/response pair, before graphtape has filtered, validated or redacted it."""

    request: Request
    response: Response
    started: str | None = None  # ISO 8601 (UTC) when the request was sent
    where: str = ""  # the entry in its capture file ("log.entries[3]", "flow 5"), for error messages
    # graphtape's own data for this exchange, when the capture carries it (a flow file graphtape
    # exported) and it still describes the exchange: import keeps it instead of validating afresh.
    meta: InteractionMeta | None = None


# ---------------------------------------------------------------- export


def _har_headers(headers: Headers) -> list[dict[str, str]]:
    return [{"name": k, "value": v} for k, v in headers]


def _text_or_base64(body: bytes) -> dict[str, str]:
    try:
        return {"text": body.decode("utf-8")}
    except UnicodeDecodeError:
        return {"text": base64.b64encode(body).decode("ascii"), "encoding": "base64"}


def _readable(body: bytes, headers: Headers) -> tuple[bytes, bool]:
    """The body as a viewer wants it (Content-Encoding undone), and whether that changed it."""
    coding = headers.get("content-encoding")
    if not coding or not body:
        return body, False
    try:
        return decode_body(body, coding), True
    except BodyDecodeError:
        return body, False


def _entry(interaction: Interaction) -> dict[str, Any]:
    req, resp, meta = interaction.request, interaction.response, interaction.meta
    own: dict[str, Any] = {"requestBody": base64.b64encode(req.body).decode("ascii"),
                           "responseBody": base64.b64encode(resp.body).decode("ascii")}
    if meta.route:
        own["route"] = meta.route
    if meta.route_template:
        own["routeTemplate"] = meta.route_template
    if meta.findings:
        own["findings"] = [f.to_dict() for f in meta.findings]
    request: dict[str, Any] = {
        "method": req.method, "url": req.uri, "httpVersion": "HTTP/1.1", "cookies": [],
        "headers": _har_headers(req.headers),
        "queryString": [{"name": k, "value": v} for k, v in parse_qsl(req.query, keep_blank_values=True)],
        "headersSize": -1, "bodySize": len(req.body),
    }
    if req.body:
        plain, _ = _readable(req.body, req.headers)
        request["postData"] = {"mimeType": req.headers.get("content-type") or "", **_text_or_base64(plain)}
    plain, decoded = _readable(resp.body, resp.headers)
    content = {"size": len(plain), "mimeType": resp.headers.get("content-type") or "", **_text_or_base64(plain)}
    if decoded:
        content["compression"] = len(plain) - len(resp.body)
    return {
        "startedDateTime": meta.recorded_at or _EPOCH,
        "time": 0,
        "request": request,
        "response": {
            "status": resp.status_code, "statusText": resp.reason, "httpVersion": "HTTP/1.1", "cookies": [],
            "headers": _har_headers(resp.headers), "content": content,
            "redirectURL": resp.headers.get("location") or "", "headersSize": -1, "bodySize": len(resp.body),
        },
        "cache": {},
        "timings": {"send": 0, "wait": 0, "receive": 0},
        "_graphtape": own,
    }


def cassette_to_har(cassette: Cassette, version: str = "") -> dict[str, Any]:
    """A HAR 1.2 document holding every interaction of ``cassette``, in order."""
    return {"log": {
        "version": "1.2",
        "creator": {"name": "graphtape", "version": version or "0"},
        "pages": [],
        "entries": [_entry(i) for i in cassette.interactions],
    }}


# ---------------------------------------------------------------- import


class _HarReader:
    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, problem: str) -> CaptureFormatError:
        return CaptureFormatError(self.source, where, problem)

    def mapping(self, value: Any, where: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(where, f"expected an object, found {type(value).__name__}")
        return value

    def field(self, data: dict[str, Any], key: str, where: str, kind: type | tuple[type, ...]) -> Any:
        if key not in data:
            raise self.fail(where, f"missing {key!r}")
        value = data[key]
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
            raise self.fail(f"{where}.{key}", f"expected {getattr(kind, '__name__', kind)}, "
                                              f"found {type(value).__name__}")
        return value

    def headers(self, value: Any, where: str) -> Headers:
        if not isinstance(value, list):
            raise self.fail(where, "expected a list of {name, value}")
        pairs = []
        for n, item in enumerate(value):
            item = self.mapping(item, f"{where}[{n}]")
            name = self.field(item, "name", f"{where}[{n}]", str)
            if name.startswith(":"):
                continue  # HTTP/2 pseudo-headers: the method, URL and status already say it
            pairs.append((name, str(self.field(item, "value", f"{where}[{n}]", str))))
        return Headers(tuple(pairs))

    def body(self, holder: dict[str, Any] | None, where: str) -> bytes:
        if not holder or "text" not in holder:
            return b""
        text: str = self.field(holder, "text", where, str)
        if holder.get("encoding") == "base64":
            try:
                return base64.b64decode(text, validate=True)
            except (binascii.Error, ValueError) as exc:
                raise self.fail(f"{where}.text", f"not valid base64: {exc}") from None
        if holder.get("encoding") not in (None, ""):
            raise self.fail(f"{where}.encoding", f"unknown encoding {holder['encoding']!r} (HAR knows base64)")
        return text.encode("utf-8", "surrogateescape")

    def own_body(self, own: dict[str, Any], key: str, where: str) -> bytes | None:
        if not isinstance(own.get(key), str):
            return None
        try:
            return base64.b64decode(own[key], validate=True)
        except (binascii.Error, ValueError) as exc:
            raise self.fail(f"{where}._graphtape.{key}", f"not valid base64: {exc}") from None


def _as_sent(body: bytes, headers: Headers) -> Headers:
    """A HAR body is decoded: its headers must no longer claim a Content-Encoding or the old length."""
    if headers.get("content-encoding") is None:
        return headers
    headers = headers.without("content-encoding")
    return headers.replace("content-length", str(len(body))) if "content-length" in headers else headers


def _started(value: Any) -> str | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def exchanges_from_har(data: Any, source: str) -> list[Exchange]:
    """Every answered request in a parsed HAR document; bad structure names the entry and field."""
    r = _HarReader(source)
    log = r.mapping(r.mapping(data, "").get("log"), "log")
    entries = r.field(log, "entries", "log", list)
    out: list[Exchange] = []
    for n, raw in enumerate(entries):
        where = f"log.entries[{n}]"
        try:
            exchange = _exchange(r, raw, where)
        except (ValueError, TypeError, RecursionError) as exc:  # CaptureFormatError is a ValueError
            if isinstance(exc, CaptureFormatError):
                raise
            raise r.fail(where, f"unusable entry: {type(exc).__name__}: {str(exc)[:200]}") from None
        if exchange is not None:
            out.append(exchange)
    return out


def _exchange(r: _HarReader, raw: Any, where: str) -> Exchange | None:
    """One HAR entry as an exchange (None: it was never answered)."""
    entry = r.mapping(raw, where)
    req = r.mapping(r.field(entry, "request", where, dict), f"{where}.request")
    resp = r.mapping(r.field(entry, "response", where, dict), f"{where}.response")
    status = r.field(resp, "status", f"{where}.response", int)
    if status <= 0:
        return None  # the browser never got an answer (blocked, cancelled): nothing to replay
    own_field = entry.get("_graphtape")
    own: dict[str, Any] = own_field if isinstance(own_field, dict) else {}
    req_headers = r.headers(r.field(req, "headers", f"{where}.request", list), f"{where}.request.headers")
    resp_headers = r.headers(r.field(resp, "headers", f"{where}.response", list), f"{where}.response.headers")
    req_body = r.own_body(own, "requestBody", where)
    if req_body is None:
        req_body = r.body(req.get("postData"), f"{where}.request.postData")
        req_headers = _as_sent(req_body, req_headers)
    resp_body = r.own_body(own, "responseBody", where)
    if resp_body is None:
        resp_body = r.body(r.field(resp, "content", f"{where}.response", dict), f"{where}.response.content")
        resp_headers = _as_sent(resp_body, resp_headers)
    url = r.field(req, "url", f"{where}.request", str)
    if not urlsplit(url).scheme:
        raise r.fail(f"{where}.request.url", f"not an absolute URL: {url!r}")
    return Exchange(
        request=Request(method=r.field(req, "method", f"{where}.request", str).upper(), uri=url,
                        headers=req_headers, body=req_body),
        response=Response(status_code=status, reason=str(resp.get("statusText") or ""), headers=resp_headers,
                          body=resp_body),
        started=_started(entry.get("startedDateTime")),
        where=where,
    )


def read_har(path: Path) -> list[Exchange]:
    """The exchanges of a HAR file; CaptureFormatError names the file, and the line or entry at fault."""
    try:
        raw = read_capped(path, MAX_CAPTURE_BYTES, lambda problem: CaptureFormatError(path, "", problem))
    except FileNotFoundError:
        raise CaptureFormatError(path, "", "cannot read: no such file") from None
    try:
        data = json.loads(raw)
    except UnicodeDecodeError as exc:
        raise CaptureFormatError(path, "", f"not UTF-8 text: {exc}") from None
    except json.JSONDecodeError as exc:
        raise CaptureFormatError(path, f"line {exc.lineno}", f"not valid JSON: {exc.msg}") from None
    except RecursionError:
        raise CaptureFormatError(path, "", "not a HAR file: JSON nested too deep") from None
    return exchanges_from_har(data, str(path))
