"""Hostile traffic through a real recording proxy: recorded or refused, never a crash.

Each case in the table is sent through one ``graphtape record`` process, followed by
an ordinary request that must still be answered (the proxy keeps serving). Then the
recorder is stopped (exit 0, no traceback), the cassette must load and hold every
case that reached the upstream exactly as it went over the wire, and a replay
process (with the upstream gone) must answer each of them with the recorded bytes.

The upstream is a loopback server of the test's own: it echoes the sha256 of the
body it received (so the test sees that the proxy forwarded the bytes untouched)
and encodes or chunks its answer when asked to.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import os
import socket
import ssl
import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from http.client import HTTPResponse
from pathlib import Path

import brotli
import httpx
import pytest
from reliability_helpers import Answer

from graphtape.cassettes.serialization import load_cassette

pytestmark = pytest.mark.slow

ROUTE = "/v1.0/me/messages/AAMkAGI2THVSAAA=/attachments"
AUTH = {"Authorization": "Bearer fake-token-123"}


def _attachment(name: str, content: bytes = b"hello") -> bytes:
    return json.dumps({"@odata.type": "#microsoft.graph.fileAttachment", "name": name, "contentType": "text/plain",
                       "contentBytes": base64.b64encode(content).decode()}).encode()


_ENCODERS: dict[str, Callable[[bytes], bytes]] = {
    "gzip": lambda b: gzip.compress(b, mtime=0),
    "deflate": zlib.compress,
    "br": brotli.compress,
}


def echo_upstream(method: str, path: str, headers: Mapping[str, str], body: bytes) -> Answer:
    """Graph-like 201 naming what arrived; encoded/chunked on request (X-Want-Encoding/X-Want-Chunked)."""
    lower = {k.lower(): v for k, v in headers.items()}
    payload = json.dumps({"@odata.type": "#microsoft.graph.fileAttachment", "id": "AAMk" + path[-6:],
                          "received_sha256": hashlib.sha256(body).hexdigest(), "received_bytes": len(body),
                          "method": method}).encode()
    out = [("Content-Type", "application/json")]
    coding = lower.get("x-want-encoding")
    if coding:
        payload = _ENCODERS[coding](payload)
        out.append(("Content-Encoding", coding))
    if lower.get("x-want-chunked"):
        out.append(("Transfer-Encoding", "chunked"))
    if lower.get("x-want-binary"):
        payload = bytes(range(256)) * 8
        out = [("Content-Type", "application/octet-stream"), ("X-Odd", "caf\u00e9 \u00ff")]
    return 201, out, payload


class _PreferH2(ssl.SSLContext):
    """httpx offers ALPN "http/1.1" before "h2", and mitmproxy honours the client's order."""

    def set_alpn_protocols(self, alpn_protocols: object) -> None:
        offers = list(alpn_protocols)  # type: ignore[call-overload]
        super().set_alpn_protocols((["h2"] if "h2" in offers else []) + [p for p in offers if p != "h2"])


@dataclass
class Seen:
    """What a client observed: status, the body bytes as received (still encoded), content-encoding."""

    status: int
    raw_body: bytes
    content_encoding: str | None = None


def _httpx(method: str, url: str, **kw: object) -> Seen:
    http2 = bool(kw.pop("http2", False))
    verify = kw.pop("verify", True)
    with httpx.Client(trust_env=False, timeout=60, http2=http2, http1=not http2 or "https" in url,
                      verify=verify) as client:  # type: ignore[arg-type]
        with client.stream(method, url, **kw) as r:  # type: ignore[arg-type]
            raw = b"".join(r.iter_raw())
            if http2:
                assert r.http_version == "HTTP/2", f"expected HTTP/2, got {r.http_version}"
            return Seen(r.status_code, raw, r.headers.get("content-encoding"))


def _raw(port: int, request: bytes) -> Seen:
    """Send bytes as they are; parse the answer with the standard library."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(request)
        resp = HTTPResponse(sock)
        resp.begin()
        return Seen(resp.status, resp.read(), resp.getheader("content-encoding"))


def _drop(port: int, request: bytes) -> None:
    """Send part of a request, then vanish (RST, not a polite FIN)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    sock.sendall(request)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    sock.close()


def _chunks(data: bytes) -> Iterator[bytes]:
    for start in range(0, len(data), 7000):
        yield data[start:start + 7000]


@dataclass(frozen=True)
class Case:
    """One hostile request: how to send it (to a base URL / port), and whether it reaches the upstream."""

    name: str
    send: Callable[[str, int, object], Seen | None]
    sent_body: bytes | None  # what the upstream must receive (None: nothing reaches it)
    refused_with: int | None = None  # the proxy's own answer when it refuses the request
    withheld: bool = False  # redaction cannot read it, so the cassette holds the withheld marker instead


BIG = _attachment("big.bin", os.urandom(3 * 1024 * 1024 + 100_000))  # 4.2 MB of JSON around a 3.1 MB file
assert len(BIG) > 4 * 1024 * 1024
BINARY = bytes(range(256)) * 64
NOT_UTF8 = b'{"name": "caf\xe9 \xff\xfe", "@odata.type": "#microsoft.graph.fileAttachment"}'
JSON_H = {**AUTH, "Content-Type": "application/json"}


def _post(body: bytes, headers: dict[str, str | bytes] | None = None, **kw: object) -> Callable[..., Seen]:
    return lambda base, port, ca: _httpx("POST", base + ROUTE, content=body, headers=headers or JSON_H, **kw)


def _encoded(coding: str) -> Case:
    body = _attachment(f"{coding}.txt")
    headers = {**JSON_H, "Content-Encoding": coding, "X-Want-Encoding": coding}
    return Case(f"{coding} request and response", _post(_ENCODERS[coding](body), headers), _ENCODERS[coding](body))


CASES = [
    Case("invalid JSON", _post(b'{"@odata.type": "#microsoft.graph.file'), b'{"@odata.type": "#microsoft.graph.file'),
    Case("JSON that is not an object", _post(b"[1, 2, 3]"), b"[1, 2, 3]"),
    Case("non-UTF-8 body", _post(NOT_UTF8), NOT_UTF8),
    Case("non-UTF-8 header value", _post(_attachment("h.txt"), {**JSON_H, "X-Odd": b"caf\xe9 \xff"}),
         _attachment("h.txt")),
    Case("non-UTF-8 header name (raw socket)",
         lambda base, port, ca: _raw(port, b"POST " + ROUTE.encode() + b" HTTP/1.1\r\nHost: x\r\nX-\xff\xfe: 1\r\n"
                                     b"Authorization: Bearer fake-token-123\r\nContent-Length: 2\r\n\r\n{}"),
         None, refused_with=400),  # mitmproxy's request-smuggling guard names the header
    _encoded("gzip"),
    _encoded("deflate"),
    _encoded("br"),
    Case("corrupt gzip body", _post(b"\x1f\x8b\x08\x00garbage", {**JSON_H, "Content-Encoding": "gzip"}),
         b"\x1f\x8b\x08\x00garbage", withheld=True),
    Case("unknown content-encoding", _post(b"abc", {**JSON_H, "Content-Encoding": "zstd-ish"}), b"abc",
         withheld=True),
    Case("chunked request and response",
         lambda base, port, ca: _httpx("POST", base + ROUTE, content=_chunks(_attachment("chunked.txt", b"x" * 20000)),
                                       headers={**JSON_H, "X-Want-Chunked": "1"}),
         _attachment("chunked.txt", b"x" * 20000)),
    Case("empty body", _post(b""), b""),
    Case("4 MB+ body", _post(BIG), BIG),
    Case("binary body and answer", _post(BINARY, {**AUTH, "Content-Type": "application/octet-stream",
                                                  "X-Want-Binary": "1"}), BINARY),
    Case("HTTP/2 over TLS", lambda base, port, ca: _httpx(
        "POST", base.replace("http://", "https://") + ROUTE, content=_attachment("h2.txt"), headers=JSON_H,
        http2=True, verify=ca), _attachment("h2.txt")),
    Case("HTTP/1.1 over TLS", lambda base, port, ca: _httpx(
        "POST", base.replace("http://", "https://") + ROUTE, content=_attachment("tls.txt"), headers=JSON_H,
        verify=ca), _attachment("tls.txt")),
    # mitmproxy does not speak h2c: the connection is refused (reset), and the proxy carries on.
    Case("HTTP/2 cleartext (prior knowledge)", _post(_attachment("h2c.txt"), http2=True), None),
    Case("client drops mid-body", lambda base, port, ca: _drop(
        port, b"POST " + ROUTE.encode() + b" HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n{\"name\": \"cut"),
        None),
    Case("client drops mid-headers", lambda base, port, ca: _drop(
        port, b"POST " + ROUTE.encode() + b" HTTP/1.1\r\nHost: x\r\nContent-Len"), None),
    Case("garbage instead of HTTP", lambda base, port, ca: _drop(port, b"\x16\x03\x01\x00\xff" + os.urandom(300)),
         None),
]


def _follow_up(base: str, n: int) -> Seen:
    return _httpx("POST", base + ROUTE, content=_attachment(f"follow-up-{n}.txt"), headers=JSON_H)


def test_hostile_traffic_is_recorded_or_refused_and_the_proxy_keeps_serving(loopback_upstream, run_graphtape,
                                                                             tmp_path: Path) -> None:
    upstream = loopback_upstream(echo_upstream)
    cassette = tmp_path / "hostile.yaml"
    confdir = tmp_path / "mitmproxy"
    rec = run_graphtape("record", "--cassette", str(cassette), "--upstream", upstream.url, "--port", "0",
                        "--scope", "all", "--confdir", str(confdir), "-v")
    ca = _PreferH2(ssl.PROTOCOL_TLS_CLIENT)
    ca.load_verify_locations(cafile=confdir / "mitmproxy-ca-cert.pem")
    failures: list[str] = []
    seen: dict[str, Seen] = {}
    for n, case in enumerate(CASES):
        try:
            got = case.send(rec.url, rec.port, ca)
        except (httpx.HTTPError, OSError) as exc:
            got = None
            if case.sent_body is not None:
                failures.append(f"{case.name}: the client failed: {exc!r}")
        if case.refused_with is not None and (got is None or got.status != case.refused_with):
            failures.append(f"{case.name}: expected the proxy to refuse it with {case.refused_with}, got {got}")
        if got is not None:
            seen[case.name] = got
            if case.sent_body is not None and got.status == 201:
                body = _decoded(got)
                if json.loads(body).get("received_sha256", hashlib.sha256(case.sent_body).hexdigest()) != \
                        hashlib.sha256(case.sent_body).hexdigest():
                    failures.append(f"{case.name}: the upstream did not receive the bytes sent")
        follow = _follow_up(rec.url, n)
        if follow.status != 201:
            failures.append(f"after {case.name}: the follow-up request got {follow.status}")
    assert rec.stop() == 0, rec.stderr
    assert not failures, failures
    assert "Traceback" not in rec.stderr, rec.stderr[-3000:]

    recorded = load_cassette(cassette).interactions
    bodies = [i.request.body for i in recorded]
    for case in CASES:
        if case.sent_body is not None and not case.withheld:
            assert case.sent_body in bodies, f"{case.name}: not recorded as sent"
        elif case.withheld:
            assert case.sent_body not in bodies, f"{case.name}: stored although it could not be checked"
    assert len(recorded) == sum(c.sent_body is not None for c in CASES) + len(CASES)  # + the follow-ups
    upstream.close()
    by_body = {i.request.body: i for i in recorded}
    findings = {c.name: {f.code for f in by_body[c.sent_body].meta.findings} for c in CASES
                if c.sent_body and not c.withheld}
    assert "invalid-json" in findings["invalid JSON"]
    withheld = [i for i in recorded if i.request.body.startswith(b"graphtape-withheld: ")]
    assert len(withheld) == sum(c.withheld for c in CASES)
    assert all("body-withheld" in {f.code for f in i.meta.findings} for i in withheld)
    assert "file-too-large" in findings["4 MB+ body"]
    for coding in _ENCODERS:  # validated decoded: the JSON inside was read, so no decode or JSON finding
        assert not findings[f"{coding} request and response"] & {"undecodable-body", "invalid-json"}

    rep = run_graphtape("replay", "--cassette", str(cassette), "--upstream", upstream.url, "--port", "0",
                        "--confdir", str(confdir))
    for case in CASES:
        if case.sent_body is None or case.name not in seen:
            continue
        again = case.send(rep.url, rep.port, ca)
        assert again == seen[case.name], f"{case.name}: replay answered differently"
    assert rep.stop() == 0
    assert "misses       0" in rep.stdout
    recorded_cases = sum(c.sent_body is not None for c in CASES)
    print(f"hostile traffic: {len(CASES)} cases, {recorded_cases} recorded and replayed byte for byte, "
          f"{len(CASES) - recorded_cases} refused or dropped, {len(CASES)} follow-ups answered")


def _decoded(seen: Seen) -> bytes:
    if seen.content_encoding == "gzip":
        return gzip.decompress(seen.raw_body)
    if seen.content_encoding == "deflate":
        return zlib.decompress(seen.raw_body)
    if seen.content_encoding == "br":
        return brotli.decompress(seen.raw_body)
    return seen.raw_body if seen.raw_body.startswith(b"{") else b"{}"
