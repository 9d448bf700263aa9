"""graphtape commands as child processes: start, wait for the ready line, stop cleanly.

Used by ``graphtape demo``, the example-cassette recorder and the test suite, since
mitmproxy runs one proxy per process.
"""

from __future__ import annotations

import os
import re
import selectors
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

from graphtape.cassettes.errors import GraphtapeError

__all__ = ["READY_LINE", "GraphtapeProcess", "ProcessStartError"]

READY_LINE = re.compile(r"listening on (http://\S+)")


class ProcessStartError(GraphtapeError, RuntimeError):
    """A graphtape child process exited or timed out before printing its ready line."""


class GraphtapeProcess:
    """``python -m graphtape.cli ARGS`` in a child process."""

    def __init__(self, *args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> None:
        self.args = [sys.executable, "-m", "graphtape.cli", *args]
        full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
        self.proc = subprocess.Popen(self.args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=full_env,
                                     cwd=cwd, stdin=subprocess.DEVNULL)
        self.url = ""
        self.stdout = ""
        self.stderr = ""
        self.returncode: int | None = None
        # Once ready, threads keep reading both pipes: a chatty server (-v) would
        # otherwise block on a full pipe and stop answering.
        self._drains: list[threading.Thread] = []
        self._drained: dict[str, list[bytes]] = {"stdout": [], "stderr": []}

    def wait_ready(self, timeout: float = 60.0) -> GraphtapeProcess:
        """Block until the ready line; raise ProcessStartError with the output if it never comes."""
        assert self.proc.stdout is not None
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + timeout
        buf = b""
        try:
            while time.monotonic() < deadline:
                if not sel.select(timeout=0.2):
                    if self.proc.poll() is not None:
                        break
                    continue
                chunk = os.read(self.proc.stdout.fileno(), 65536)
                if not chunk:
                    break
                buf += chunk
                m = READY_LINE.search(buf.decode(errors="replace"))
                if m:
                    self.stdout = buf.decode(errors="replace")
                    self.url = m.group(1)
                    self._start_draining()
                    return self
        finally:
            sel.close()
        self.stdout = buf.decode(errors="replace")
        self.stop()
        raise ProcessStartError(f"{' '.join(self.args)} did not get ready (exit {self.returncode}):\n"
                           f"{self.stdout}{self.stderr}")

    def _start_draining(self) -> None:
        for name, stream in (("stdout", self.proc.stdout), ("stderr", self.proc.stderr)):
            assert stream is not None
            sink = self._drained[name]
            thread = threading.Thread(target=_drain, args=(stream.fileno(), sink), daemon=True)
            thread.start()
            self._drains.append(thread)

    @property
    def port(self) -> int:
        port = urlsplit(self.url).port  # the URL may go on with a path and a query (the viewer's token)
        if port is None:
            raise ValueError(f"no port in {self.url!r}")
        return port

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60.0) -> int:
        """Signal the process, wait for it, and collect the rest of its output."""
        if self.returncode is None:
            if self.proc.poll() is None:
                self.proc.send_signal(sig)
            if self._drains:
                try:
                    self.proc.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
                for thread in self._drains:
                    thread.join(timeout=10)
                for stream in (self.proc.stdout, self.proc.stderr):
                    if stream is not None:
                        stream.close()
                out, err = b"".join(self._drained["stdout"]), b"".join(self._drained["stderr"])
            else:
                try:
                    out, err = self.proc.communicate(timeout=timeout)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    out, err = self.proc.communicate()
            self.stdout += out.decode(errors="replace")
            self.stderr += err.decode(errors="replace")
            self.returncode = self.proc.returncode
        return self.returncode

    def __enter__(self) -> GraphtapeProcess:
        return self.wait_ready()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _drain(fd: int, sink: list[bytes]) -> None:
    """Read ``fd`` until end of file into ``sink``."""
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            return
        if not chunk:
            return
        sink.append(chunk)
