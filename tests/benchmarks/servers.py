"""The servers under test, each in its own process: graphtape commands and plain mitmdump."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from graphtape.cli.runtime.processes import GraphtapeProcess

__all__ = ["HERE", "Server", "cpu_seconds", "free_port", "graphtape_server", "lean_server", "mitmdump_server",
           "peak_rss_mb", "run_json"]

HERE = Path(__file__).resolve().parent
MITMDUMP = str(Path(sys.executable).with_name("mitmdump"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args[0]} exited with {proc.returncode} before listening: "
                               f"{proc.stderr.read().decode()[-2000:] if proc.stderr else ''}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{proc.args[0]} did not listen on {port} within {timeout}s")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident set (VmHWM), read before it exits."""
    with open(f"/proc/{pid}/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


class Server:
    def __init__(self, pid: int, port: int) -> None:
        self.pid = pid
        self.port = port


@contextmanager
def graphtape_server(*args: str) -> Iterator[Server]:
    """``graphtape ARGS --port 0``, ready to serve; stopped (cassette written) on exit."""
    proc = GraphtapeProcess(*args, "--port", "0")
    proc.wait_ready()
    try:
        yield Server(proc.proc.pid, proc.port)
    finally:
        code = proc.stop()
        if code not in (0, -signal.SIGTERM):
            print(f"warning: graphtape {args[0]} exited with {code}: {proc.stderr[-2000:]}", file=sys.stderr)


@contextmanager
def mitmdump_server(*args: str) -> Iterator[Server]:
    """Plain ``mitmdump -q ARGS`` on a free loopback port: stock mitmproxy, all its built-in addons."""
    port = free_port()
    with _process([MITMDUMP, "-q", "--listen-host", "127.0.0.1", "--listen-port", str(port), *args], port) as server:
        yield server


@contextmanager
def lean_server(engine: str, mode: str, options: dict[str, Any] | None = None) -> Iterator[Server]:
    """``engine`` served by graphtape's own host (lean_host.py) on a free loopback port."""
    port = free_port()
    cmd = [sys.executable, str(HERE / "lean_host.py"), engine, str(port), mode, json.dumps(options or {})]
    with _process(cmd, port) as server:
        yield server


@contextmanager
def _process(cmd: list[str], port: int) -> Iterator[Server]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                            env=env)
    try:
        _wait_port(port, proc)
        yield Server(proc.pid, port)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()


def run_json(args: list[str], timeout: float) -> dict[str, Any]:
    """Run a Python helper script in a child process; its last stdout line is JSON."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=timeout, env=env,
                          cwd=HERE)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({done.returncode}): {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])
