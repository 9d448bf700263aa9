"""Replay is offline whatever arrives: many shapes of traffic, and not one upstream connection.

Every shape below is sent to a replaying proxy whose cassette names loopback sockets
that count the connections made to them (``CountingListener``): a tunnel carrying
bytes that are not HTTP (garbage, an SSH banner, TLS to an unknown name, HTTP/2),
CONNECT to many ports, WebSocket upgrades (a recorded ``101 Switching Protocols``
among them), h2c upgrades, ``Expect: 100-continue``, requests mitmproxy streams
before any addon sees them, and clients that vanish. Each runs against:

- ``graphtape replay`` in forward mode and in reverse mode (separate processes);
- the pytest plugin's in-process proxy (both its ports), replaying a test's cassette
  and with no cassette at all;
- ``mitmdump -s`` with graphtape's addon script, record mode ``none``, with request
  and response streaming switched on (mitmproxy then connects before the request hook).

The listeners must count zero connections, every HTTP request must get graphtape's
answer (a recorded one or a 599), and each proxy must still answer a normal request
afterwards with no traceback in its output.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from reliability_helpers import CountingListener

from graphtape.cassettes.model import Cassette, Headers, Interaction, Request, Response
from graphtape.cassettes.storage import save_cassette

pytestmark = pytest.mark.slow

PATH = "/v1.0/me/messages/AAMkAGI2THVSAAA=/attachments"
BODY = json.dumps({"@odata.type": "#microsoft.graph.fileAttachment", "name": "a.txt", "contentBytes": "YQ=="})
JSON_H = {"Content-Type": "application/json", "Authorization": "Bearer fake-token-123"}
WS_KEY = "dGhlIHNhbXBsZSBub25jZQ=="
LISTENERS = 4  # upstream sockets on distinct ports; tunnels are aimed at all of them


@dataclass
class Target:
    """A running replaying proxy: where to send, in which mode, what the cassette names."""

    host_port: str  # the first counting listener, as "127.0.0.1:PORT"
    ports: list[int]  # every counting listener
    proxy_port: int
    forward: bool


def _complete(out: bytes) -> bool:
    """Whether ``out`` holds a whole final HTTP response (headers and Content-Length bytes of body)."""
    while out.startswith(b"HTTP/1.1 100"):
        out = out.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in out else b""
    head, sep, body = out.partition(b"\r\n\r\n")
    if not sep:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value.strip() or 0)
    return head.startswith(b"HTTP/1.1 200 Connection established")


def _raw(port: int, data: bytes, *, wait: float = 1.5, then: bytes = b"") -> bytes:
    """Send bytes as they are; read until a whole answer came, the server closed, or it went quiet."""
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as sock:
        sock.sendall(data)
        out = b""
        try:
            if then:
                out += sock.recv(65536)
                sock.sendall(then)
            while len(out) < 1 << 20:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                out += chunk
                if _complete(out) and not out.startswith(b"HTTP/1.1 200 Connection established"):
                    break
        except (TimeoutError, ConnectionError):
            pass
        return out


def _tunnel(t: Target, port: int, payload: bytes) -> bytes:
    head = f"CONNECT 127.0.0.1:{port} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()
    return _raw(t.proxy_port, head + payload)


def _tls_through(t: Target, port: int, sni: str, alpn: list[str], request: bytes) -> bytes:
    """CONNECT, then TLS (any certificate accepted: the point is where bytes go, not trust)."""
    sock = socket.create_connection(("127.0.0.1", t.proxy_port), timeout=5)
    try:
        if t.forward:
            sock.sendall(f"CONNECT {sni}:{port} HTTP/1.1\r\nHost: {sni}:{port}\r\n\r\n".encode())
            reply = sock.recv(4096)
            if not reply.startswith(b"HTTP/1.1 200"):
                return reply
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        ctx.set_alpn_protocols(alpn)
        try:
            tls = ctx.wrap_socket(sock, server_hostname=sni)
        except (ssl.SSLError, OSError) as exc:
            return f"tls refused: {type(exc).__name__}".encode()
        if tls.selected_alpn_protocol() == "h2":
            tls.close()
            return b"h2 negotiated"
        tls.sendall(request)
        out = b""
        try:
            while b"\r\n\r\n" not in out:
                chunk = tls.recv(65536)
                if not chunk:
                    break
                out += chunk
        except (TimeoutError, ssl.SSLError, OSError):
            pass
        tls.close()
        return out
    finally:
        sock.close()


def _http(t: Target, method: str, path: str, headers: dict[str, str], body: bytes = b"") -> bytes:
    target = f"http://{t.host_port}{path}" if t.forward else path
    lines = [f"{method} {target} HTTP/1.1", f"Host: {t.host_port}"] + [f"{k}: {v}" for k, v in headers.items()]
    if body:
        lines.append(f"Content-Length: {len(body)}")
    return _raw(t.proxy_port, ("\r\n".join(lines) + "\r\n\r\n").encode() + body)


def _ws(path: str) -> Callable[[Target], bytes]:
    return lambda t: _http(t, "GET", path, {"Upgrade": "websocket", "Connection": "Upgrade",
                                            "Sec-WebSocket-Key": WS_KEY, "Sec-WebSocket-Version": "13"})


def _status(answer: bytes) -> int | None:
    first = answer.split(b"\r\n", 1)[0].split()
    return int(first[1]) if len(first) >= 2 and first[0].startswith(b"HTTP/") and first[1].isdigit() else None


def _graphtape_answer(answer: bytes) -> bool:
    """graphtape answered (a recorded 201, or its own 599), or the proxy refused/closed: never relayed."""
    return _status(answer) in (201, 599) or b"599" in answer


def _closed_or_answered(answer: bytes) -> bool:
    return _status(answer) in (None, 201, 400, 502, 599)


def _httpx_h2(t: Target) -> bytes:
    proxy = f"http://127.0.0.1:{t.proxy_port}"
    url = f"https://unknown.example:{t.ports[1]}{PATH}"
    with httpx.Client(proxy=proxy, verify=False, http2=True, http1=False, trust_env=False, timeout=10) as client:
        r = client.post(url, content=BODY, headers=JSON_H)
        return f"HTTP/1.1 {r.status_code} via {r.http_version}\r\n\r\n".encode()


@dataclass(frozen=True)
class Shape:
    name: str
    send: Callable[[Target], bytes]
    ok: Callable[[bytes], bool]
    forward_only: bool = False
    reverse_only: bool = False


def _each_port(payload: bytes) -> Callable[[Target], bytes]:
    return lambda t: b"|".join(_tunnel(t, port, payload) for port in t.ports)


SHAPES = [
    Shape("a recorded request (hit)", lambda t: _http(t, "POST", PATH, JSON_H, BODY.encode()),
          lambda a: _status(a) == 201),
    Shape("a miss", lambda t: _http(t, "POST", PATH, JSON_H, BODY.replace("a.txt", "b.txt").encode()),
          lambda a: _status(a) == 599),
    Shape("raw garbage after CONNECT, to every port", _each_port(os.urandom(64) + b"\r\n\r\n"),
          lambda a: b"599" not in a, forward_only=True),
    Shape("an SSH banner after CONNECT", _each_port(b"SSH-2.0-OpenSSH_9.6\r\n"),
          lambda a: True, forward_only=True),
    Shape("SMTP-like text after CONNECT", _each_port(b"EHLO x\r\nMAIL FROM:<a@b>\r\n"), lambda a: True,
          forward_only=True),
    Shape("TLS to an unknown name, HTTP/1.1 inside", lambda t: _tls_through(
        t, t.ports[0], "unknown.example", ["http/1.1"], f"GET {PATH} HTTP/1.1\r\nHost: unknown.example\r\n\r\n".encode()),
        lambda a: _status(a) == 599 or a.startswith(b"tls refused"), forward_only=True),
    Shape("TLS with ALPN h2 only", lambda t: _tls_through(t, t.ports[2], "h2.unknown.example", ["h2"], b""),
          lambda a: a in (b"h2 negotiated",) or a.startswith(b"tls refused"), forward_only=True),
    Shape("HTTP/2 over a tunnel (httpx)", _httpx_h2, lambda a: _status(a) in (201, 599) and b"HTTP/2" in a,
          forward_only=True),
    Shape("plain HTTP inside a tunnel", lambda t: _tunnel(
        t, t.ports[3], f"POST {PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\n\r\n{{}}".encode()),
        lambda a: b"599" in a, forward_only=True),
    Shape("CONNECT to a closed loopback port", lambda t: _raw(
        t.proxy_port, b"CONNECT 127.0.0.1:9 HTTP/1.1\r\n\r\n" + os.urandom(32)), lambda a: True, forward_only=True),
    Shape("CONNECT then silence", lambda t: _raw(
        t.proxy_port, f"CONNECT {t.host_port} HTTP/1.1\r\n\r\n".encode(), wait=1.0), lambda a: True,
        forward_only=True),
    Shape("a WebSocket upgrade whose 101 was recorded", _ws("/ws"), lambda a: _status(a) == 599),
    Shape("a WebSocket upgrade that was never recorded", _ws("/chat"), lambda a: _status(a) == 599),
    Shape("an h2c upgrade", lambda t: _http(t, "GET", PATH, {
        "Upgrade": "h2c", "Connection": "Upgrade, HTTP2-Settings", "HTTP2-Settings": "AAMAAABkAARAAAAAAAIAAAAA"}),
        lambda a: _status(a) == 599),
    Shape("HTTP/2 with prior knowledge (h2c)", lambda t: _raw(
        t.proxy_port, b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + bytes.fromhex("000000040000000000")), _closed_or_answered),
    Shape("Expect: 100-continue", lambda t: _raw(
        t.proxy_port, (f"POST {'http://' + t.host_port if t.forward else ''}{PATH} HTTP/1.1\r\nHost: {t.host_port}\r\n"
                       f"Content-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: {len(BODY)}\r\n\r\n"
                       ).encode(), then=BODY.encode()), lambda a: b"599" in a or b" 201 " in a),
    Shape("chunked body", lambda t: _http(t, "POST", PATH, {"Transfer-Encoding": "chunked"}, b""),
          _closed_or_answered),
    Shape("TRACE and OPTIONS *", lambda t: _http(t, "TRACE", PATH, {}) + _raw(
        t.proxy_port, b"OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n", wait=1.0), lambda a: True),
    Shape("a 4 MB body", lambda t: _http(t, "POST", PATH, JSON_H, b'{"x":"' + b"a" * 4_000_000 + b'"}'),
          lambda a: _status(a) == 599),
    Shape("garbage instead of HTTP", lambda t: _raw(t.proxy_port, os.urandom(200), wait=1.0), lambda a: True),
    Shape("TLS straight to the proxy port", lambda t: _tls_through(
        Target(t.host_port, t.ports, t.proxy_port, False), t.ports[0], "unknown.example", ["http/1.1"],
        f"GET {PATH} HTTP/1.1\r\nHost: x\r\n\r\n".encode()), lambda a: True),
    Shape("a client that vanishes mid-request", lambda t: _raw(
        t.proxy_port, f"POST {PATH} HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{{".encode(), wait=0.3),
        lambda a: True),
]


def _cassette(folder: Path, listeners: list[CountingListener]) -> Path:
    path = folder / "offline-shapes.yaml"
    base = listeners[0].url
    hit = Interaction(Request("POST", base + PATH, Headers(tuple(JSON_H.items())), BODY.encode()),
                      Response(201, "Created", Headers((("Content-Type", "application/json"),
                                                        ("Content-Length", "17"))), b'{"id":"recorded"}'))
    ws = Interaction(Request("GET", base + "/ws", Headers((("Upgrade", "websocket"),)), b""),
                     Response(101, "Switching Protocols", Headers((("Upgrade", "websocket"), ("Connection", "Upgrade"),
                                                                   ("Sec-WebSocket-Accept", "x"))), b""))
    save_cassette(path, Cassette([hit, ws]))
    return path


@pytest.fixture
def listeners() -> Iterator[list[CountingListener]]:
    made = [CountingListener() for _ in range(LISTENERS)]
    yield made
    for listener in made:
        listener.close()


def _run_shapes(target: Target, listeners: list[CountingListener], label: str) -> list[str]:
    failures: list[str] = []
    tried = 0
    for shape in SHAPES:
        started = time.monotonic()
        if (shape.forward_only and not target.forward) or (shape.reverse_only and target.forward):
            continue
        tried += 1
        try:
            answer = shape.send(target)
        except (OSError, httpx.HTTPError) as exc:
            answer = f"client error {type(exc).__name__}".encode()
        if not shape.ok(answer):
            failures.append(f"{label}: {shape.name}: unexpected answer {answer[:120]!r}")
        after = _http(target, "POST", PATH, JSON_H, BODY.encode())
        if _status(after) != 201:
            failures.append(f"{label}: after {shape.name}: a recorded request got {after[:80]!r}")
        if os.environ.get("GRAPHTAPE_SHAPE_TIMES"):
            print(f"  {shape.name}: {time.monotonic() - started:.2f}s")
    time.sleep(0.5)  # a late connection attempt would have been accepted by now
    connections = sum(listener.accepted for listener in listeners)
    if connections:
        failures.append(f"{label}: {connections} upstream connection(s) opened")
    print(f"{label}: {tried} shapes, {connections} upstream connections")
    return failures


@pytest.mark.parametrize("mode", ["forward", "reverse"])
def test_replay_opens_no_connection_whatever_arrives(tmp_path: Path, listeners: list[CountingListener], mode: str,
                                                     run_graphtape) -> None:
    cassette = _cassette(tmp_path, listeners)
    args = ["replay", "--cassette", str(cassette), "--port", "0", "--confdir", str(tmp_path / "conf")]
    args += ["--mode", "forward"] if mode == "forward" else ["--upstream", listeners[0].url]
    rep = run_graphtape(*args)
    host_port = f"127.0.0.1:{listeners[0].port}"
    failures = _run_shapes(Target(host_port, [lst.port for lst in listeners], rep.port, mode == "forward"),
                           listeners, f"graphtape replay --mode {mode}")
    assert rep.stop() == 0, rep.stderr[-3000:]
    assert "Traceback" not in rep.stderr and "has crashed" not in rep.stderr, rep.stderr[-3000:]
    assert failures == []


def test_the_pytest_plugin_proxy_opens_no_connection(tmp_path: Path, listeners: list[CountingListener]) -> None:
    from graphtape.cli.runtime.inprocess import InProcessProxy, ProxySpec

    cassette = _cassette(tmp_path, listeners)
    proxy = InProcessProxy(ProxySpec(upstream=listeners[0].url, confdir=tmp_path / "conf")).start()
    try:
        failures: list[str] = []
        for with_cassette in (True, False):
            proxy.configure(graphtape_cassette=str(cassette) if with_cassette else "", graphtape_record_mode="none",
                            graphtape_scope="all")
            for forward, url in ((True, proxy.proxy_url), (False, proxy.url)):
                target = Target(f"127.0.0.1:{listeners[0].port}", [lst.port for lst in listeners],
                                int(url.rsplit(":", 1)[1]), forward)
                label = f"pytest plugin proxy ({'forward' if forward else 'reverse'}, " \
                        f"{'replaying' if with_cassette else 'no cassette'})"
                if with_cassette:
                    failures += _run_shapes(target, listeners, label)
                else:  # no cassette: nothing answers, and still nothing connects
                    for shape in SHAPES[2:]:
                        if not (shape.forward_only and not forward):
                            try:
                                shape.send(target)
                            except (OSError, httpx.HTTPError):
                                pass
                    time.sleep(0.5)
                    if sum(lst.accepted for lst in listeners):
                        failures.append(f"{label}: connected upstream")
        assert proxy.stack.offline_guard.refused > 0
    finally:
        proxy.stop()
    assert failures == []


@pytest.mark.skipif(shutil.which("mitmdump", path=str(Path(sys.executable).parent)) is None,
                    reason="mitmdump is not installed beside this Python")
def test_mitmdump_script_replay_opens_no_connection(tmp_path: Path, listeners: list[CountingListener]) -> None:
    from graphtape.cli.runtime.processes import READY_LINE  # noqa: F401  (same loopback conventions)

    cassette = _cassette(tmp_path, listeners)
    script = Path(__file__).resolve().parents[2] / "addons" / "mitmdump_addon.py"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "mitmdump"), "-s", str(script), "--listen-host", "127.0.0.1",
         "--listen-port", str(port), "--set", f"confdir={tmp_path / 'conf'}", "--set",
         f"graphtape_cassette={cassette}", "--set", "graphtape_record_mode=none", "--set", "stream_large_bodies=1",
         "-q"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        target = Target(f"127.0.0.1:{listeners[0].port}", [lst.port for lst in listeners], port, True)
        for shape in SHAPES:
            try:
                shape.send(target)
            except (OSError, httpx.HTTPError):
                pass
        time.sleep(0.5)
        assert sum(lst.accepted for lst in listeners) == 0
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    assert b"Traceback" not in out, out[-3000:]
    print(f"mitmdump -s (streaming on): {len(SHAPES)} shapes, 0 upstream connections")
