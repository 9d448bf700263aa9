"""Every command, driven into bad input or an I/O failure, ends with one line and an exit code.

The commands run as real processes, as a user runs them. A full disk is made real for
the process with RLIMIT_FSIZE (writes past the limit fail with EFBIG, for root too) and
SIGXFSZ ignored, so the failure comes from the kernel, not from a mock.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from graphtape.cassettes.storage import CassetteLock
from graphtape.cli.examples import example_cassette

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Outcome:
    code: int
    stdout: str
    stderr: str


def _run(args: list[str], cwd: Path, max_file_bytes: int | None = None, timeout: float = 60) -> Outcome:
    def limit() -> None:  # runs in the child before exec
        if max_file_bytes is not None:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # an ignored signal stays ignored across exec
            resource.setrlimit(resource.RLIMIT_FSIZE, (max_file_bytes, max_file_bytes))

    proc = subprocess.run([sys.executable, "-m", "graphtape.cli", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, preexec_fn=limit, stdin=subprocess.DEVNULL,
                          env={**os.environ, "GRAPHTAPE_TOKEN": "fake-verify-token"})
    return Outcome(proc.returncode, proc.stdout, proc.stderr)


class _DriftedUpstream:
    """A loopback service whose every answer differs from any recorded one (500, text)."""

    def __init__(self) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                body = b"service unavailable"
                self.send_response(500)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def drifted_upstream() -> Iterator[_DriftedUpstream]:
    server = _DriftedUpstream()
    yield server
    server.close()


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def _broken_cassette(folder: Path) -> Path:
    path = folder / "broken.yaml"
    path.write_text("version: 1\ninteractions:\n  - request: [unclosed\n")
    return path


def _copy_of_example(folder: Path) -> Path:
    path = folder / "example.yaml"
    path.write_bytes(example_cassette().read_bytes())
    return path


# (name, the failure, a function of (tmp folder, fixtures) -> (args, max file bytes), exit code, what stderr says)
Case = tuple[str, Callable[[Path, dict[str, object]], tuple[list[str], int | None]], int, str]

CASES: list[Case] = [
    ("validate", lambda d, f: (["validate", str(d / "nowhere.yaml")], None), 2, ""),
    ("validate", lambda d, f: (["validate", str(_broken_cassette(d))], None), 2, ""),
    ("drift", lambda d, f: (["drift", str(d / "nowhere.yaml"), str(_copy_of_example(d))], None), 2,
     "graphtape drift: "),
    ("drift", lambda d, f: (["drift", str(_broken_cassette(d)), str(_copy_of_example(d))], None), 2,
     "graphtape drift: "),
    ("verify", lambda d, f: (["verify", "--cassette", str(_broken_cassette(d))], None), 2, "graphtape verify: "),
    ("verify", lambda d, f: (["verify", "--cassette", str(_copy_of_example(d)), "--update", "--upstream",
                              str(f["upstream"])], 4096), 1, "graphtape verify: "),
    ("import", lambda d, f: (["import", str(_write(d / "x.har", "{not json")), "--cassette", str(d / "o.yaml")],
                             None), 2, "graphtape import: "),
    ("import", lambda d, f: (["import", str(_write(d / "x.har", _har_of_example())), "--cassette",
                              str(d / "o.yaml")], 200), 1, "graphtape import: "),
    ("export", lambda d, f: (["export", "--cassette", str(_broken_cassette(d)), "--har", str(d / "o.har")], None), 2,
     "graphtape export: "),
    ("export", lambda d, f: (["export", "--cassette", str(_copy_of_example(d)), "--har", str(d / "o.har")], 4096),
     1, "graphtape export: "),
    ("export", lambda d, f: (["export", "--cassette", str(_broken_cassette(d)), "--mitm", str(d / "o.mitm")], None),
     2, "graphtape export: "),
    ("export", lambda d, f: (["export", "--cassette", str(_copy_of_example(d)), "--mitm", str(d / "o.mitm")], 4096),
     1, "graphtape export: "),
    ("export", lambda d, f: (["export", "--cassette", str(_copy_of_example(d))], None), 2, ""),
    ("view", lambda d, f: (["view", str(_broken_cassette(d))], None), 2, "graphtape view: "),
    ("view", lambda d, f: (["view", str(_copy_of_example(d)), "--port", str(f["busy_port"])], None), 2,
     "graphtape view: "),
    ("view", lambda d, f: (["view", str(_copy_of_example(d)), "--host", "0.0.0.0"], None), 2, ""),
    ("validate", lambda d, f: (["validate", str(_copy_of_example(d)), "--format", "html", "--output",
                                str(d / "report.html")], 4096), 2, "graphtape validate: "),
    ("schema", lambda d, f: (["schema", "--type", "noSuchType"], None), 2, "graphtape schema: "),
    ("demo", lambda d, f: (["demo", "--keep", str(_write(d / "a-file", "not a folder") / "sub")], None), 2,
     "graphtape demo: "),
    ("simulate", lambda d, f: (["simulate", "--port", str(f["busy_port"])], None), 2, "graphtape simulate: "),
    ("simulate", lambda d, f: (["simulate", "--port", "0", "--faults",
                                str(_write(d / "faults.yaml", "schedule:\n  - every: 0\n    status: 429\n"))], None), 2,
     "graphtape simulate: "),
    ("simulate", lambda d, f: (["simulate", "--port", "0", "--rate-limit", "many"], None), 2, "graphtape simulate: "),
    ("replay", lambda d, f: (["replay", "--cassette", str(d / "nowhere.yaml"), "--port", "0"], None), 2,
     "graphtape replay: "),
    ("replay", lambda d, f: (["replay", "--cassette", str(_broken_cassette(d)), "--port", "0"], None), 2,
     "graphtape replay: "),
    ("record", lambda d, f: (["record", "--cassette", str(f["locked"]), "--port", "0", "--upstream",
                              str(f["upstream"])], None), 2, "graphtape record: "),
    ("record", lambda d, f: (["record", "--cassette", str(d / "new.yaml"), "--port", "0", "--upstream",
                              str(f["upstream"])], 10), 2, "graphtape record: "),
]


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def _har_of_example() -> str:
    from graphtape.cassettes.har import cassette_to_har
    from graphtape.cassettes.serialization import load_cassette

    return json.dumps(cassette_to_har(load_cassette(example_cassette())))


@pytest.mark.parametrize(("command", "make", "code", "says"), CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_a_failing_command_says_one_line_and_exits_with_its_code(
        tmp_path: Path, command: str, make: Callable[[Path, dict[str, object]], tuple[list[str], int | None]],
        code: int, says: str, drifted_upstream: _DriftedUpstream, busy_port: int) -> None:
    locked = tmp_path / "locked.yaml"
    with CassetteLock(locked):
        args, max_file_bytes = make(tmp_path, {"upstream": drifted_upstream.url, "busy_port": busy_port,
                                               "locked": locked})
        outcome = _run(args, tmp_path, max_file_bytes)
    assert outcome.code == code, outcome
    assert "Traceback" not in outcome.stderr + outcome.stdout
    if says:
        last = outcome.stderr.strip().splitlines()[-1]
        assert last.startswith(says), outcome.stderr
        assert len(last) > len(says) + 10  # says what went wrong, not just who
