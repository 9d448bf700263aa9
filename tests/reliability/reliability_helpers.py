"""Helpers for the reliability and security tests: a connection-counting upstream, a
tiny loopback upstream that answers what it is told, and a secret scanner.

Everything listens on 127.0.0.1 only, and every loop is bounded in count and time.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote, quote_plus


class CountingListener:
    """A loopback TCP socket that accepts, counts and closes every connection."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.sock.settimeout(0.2)
        self.port: int = self.sock.getsockname()[1]
        self.accepted = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            self.accepted += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.sock.close()


Answer = tuple[int, list[tuple[str, str]], bytes]
Handler = Callable[[str, str, Mapping[str, str], bytes], Answer]


class LoopbackUpstream:
    """A plain HTTP/1.1 server on 127.0.0.1 whose answers a test decides (``handler``)."""

    def __init__(self, handler: Handler) -> None:
        outer = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _read_body(self) -> bytes:
                if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
                    chunks = []
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                        if size == 0:
                            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                                pass  # trailers
                            return b"".join(chunks)
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                length = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(length) if length else b""

            def _serve(self) -> None:
                body = self._read_body()
                status, headers, payload = handler(self.command, self.path, dict(self.headers.items()), body)
                outer.requests += 1
                self.send_response(status)
                chunked = any(n.lower() == "transfer-encoding" and "chunked" in v.lower() for n, v in headers)
                for name, value in headers:
                    self.send_header(name, value)
                if not chunked:
                    self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if chunked:  # in pieces of 1,000 bytes, as a streaming server would
                    for start in range(0, len(payload), 1000):
                        piece = payload[start:start + 1000]
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                    self.wfile.write(b"0\r\n\r\n")
                else:
                    self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.requests = 0
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.daemon_threads = True
        self.port: int = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def cassette_outputs(cassette: Path) -> list[Path]:
    """Every file a recording run can leave next to ``cassette`` (the cassette, its journal, ...)."""
    return sorted(p for p in cassette.parent.glob(cassette.name + "*") if p.is_file())


def find_planted_secrets(secrets: Iterable[str], outputs: Mapping[str, bytes]) -> list[str]:
    """``"<secret> in <output>"`` for each planted secret found in any output (empty: none leaked).

    ``outputs`` maps a name (a file path, "stdout", "stderr", an alerts file...) to its
    bytes. Each secret is looked for as written and in the encodings a writer might use
    (URL-encoded, JSON-escaped), so a test can point this at any extra output file.
    """
    found: list[str] = []
    for secret in secrets:
        forms = {secret, quote(secret, safe=""), quote_plus(secret), json.dumps(secret)[1:-1]}
        needles = {f.encode("utf-8", "surrogateescape") for f in forms if f}
        for name, data in outputs.items():
            if any(n in data for n in needles):
                found.append(f"{secret!r} in {name}")
    return found


def read_outputs(paths: Iterable[Path], **texts: str) -> dict[str, bytes]:
    """Files and captured texts (stdout=..., stderr=...) as the mapping find_planted_secrets takes."""
    out = {str(p): p.read_bytes() for p in paths if p.exists()}
    out.update({name: text.encode("utf-8", "surrogateescape") for name, text in texts.items()})
    return out
