"""``graphtape view``: a real process serving mitmweb with a cassette, read through mitmweb's own API.

The flows API is mitmweb's (``GET /flows``); the token or cookie it needs comes from the ready
line's URL, as a user's browser gets it. Read-only and offline are checked from outside: the
process's listening sockets (from /proc) and a loopback listener the cassette's URIs point at.
"""

from __future__ import annotations

import os
import socket
import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from graph_traffic import STEPS

from graphtape.addons.proxy.flow_marks import findings_comment
from graphtape.cassettes.model import Cassette
from graphtape.cassettes.serialization import load_cassette
from graphtape.cassettes.storage import save_cassette
from graphtape.cli.runtime.processes import READY_LINE, GraphtapeProcess

pytestmark = pytest.mark.slow


@contextmanager
def _client(url: str) -> Iterator[httpx.Client]:
    """A browser-like client that has opened the printed URL (so holds mitmweb's cookie)."""
    with httpx.Client(trust_env=False, timeout=30, follow_redirects=True) as client:
        opened = client.get(url)
        assert opened.status_code == 200 and "mitmproxy" in opened.text.lower(), opened.text[:300]
        yield client


def _base(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


class _CountingListener:
    """A loopback socket that counts the connections made to it (a replay would be one)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            conn.close()


@pytest.fixture
def listener() -> Iterator[_CountingListener]:
    counting = _CountingListener()
    yield counting
    counting.sock.close()


def _pointing_at(cassette: Path, port: int, target: Path) -> Path:
    """The cassette with every URI's host:port replaced by 127.0.0.1:``port``."""
    loaded = load_cassette(cassette)
    moved = [replace(i, request=replace(i.request, uri=urlsplit(i.request.uri)._replace(
        netloc=f"127.0.0.1:{port}").geturl())) for i in loaded.interactions]
    save_cassette(target, Cassette(interactions=moved, meta=loaded.meta))
    return target


def _listening_ports(pid: int) -> set[int]:
    """TCP ports process ``pid`` listens on: its socket inodes, looked up in /proc/net/tcp{,6}."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            link = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if link.startswith("socket:["):
            inodes.add(link[len("socket:["):-1])
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as fh:
            for line in fh.readlines()[1:]:
                fields = line.split()
                if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                    ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def test_view_lists_the_cassettes_interactions_in_order(conversation_cassette: Path, run_graphtape) -> None:
    viewer: GraphtapeProcess = run_graphtape("view", str(conversation_cassette), "--port", "0")
    line = viewer.stdout.strip().splitlines()[-1]
    assert READY_LINE.search(line) and line.startswith("graphtape viewer listening on http://127.0.0.1:"), line
    with _client(viewer.url) as client:
        flows = client.get(_base(viewer.url) + "/flows").json()
    interactions = load_cassette(conversation_cassette).interactions
    assert len(flows) == len(interactions) == len(STEPS)
    for flow, interaction, step in zip(flows, interactions, STEPS, strict=True):
        sent = urlsplit(interaction.request.uri)
        assert (flow["request"]["method"], flow["request"]["path"]) == (step.method, interaction.request.path +
                                                                        (f"?{sent.query}" if sent.query else ""))
        assert flow["response"]["status_code"] == step.status
        assert bool(flow["marked"]) == (step.worst in ("error", "warning"))
        assert flow["comment"] == findings_comment(interaction.meta.findings)
    assert viewer.stop() == 0
    assert viewer.stdout.strip().endswith("graphtape viewer stopped."), viewer.stdout


def test_view_is_read_only_and_offline(conversation_cassette: Path, run_graphtape, tmp_path: Path,
                                       listener: _CountingListener) -> None:
    cassette = _pointing_at(conversation_cassette, listener.port, tmp_path / "here.yaml")
    viewer: GraphtapeProcess = run_graphtape("view", str(cassette), "--port", "0")
    base = _base(viewer.url)
    assert _listening_ports(viewer.proc.pid) == {viewer.port}  # the web UI only: no proxy listener
    with _client(viewer.url) as client:
        flow_id = client.get(base + "/flows").json()[0]["id"]
        attempts = [
            client.post(f"{base}/flows/{flow_id}/replay"),
            client.post(f"{base}/commands/replay.client", json={"arguments": ["@all"]}),
            client.put(f"{base}/flows/{flow_id}", json={"request": {"path": "/elsewhere"}}),
            client.delete(f"{base}/flows/{flow_id}"),
            client.post(f"{base}/clear"),
            client.put(f"{base}/options", json={"intercept": "~q"}),
        ]
        assert [r.status_code for r in attempts] == [405] * len(attempts)
        assert "read-only" in attempts[0].text
        after = client.get(base + "/flows").json()
    assert len(after) == len(STEPS) and after[0]["request"]["path"] == urlsplit(
        load_cassette(cassette).interactions[0].request.uri).path
    assert listener.connections == 0


def test_view_answers_only_with_its_token_and_its_own_host_name(conversation_cassette: Path, run_graphtape) -> None:
    viewer: GraphtapeProcess = run_graphtape("view", str(conversation_cassette), "--port", "0")
    base = _base(viewer.url)
    with httpx.Client(trust_env=False, timeout=30) as stranger:
        assert stranger.get(base + "/flows").status_code == 403
        assert stranger.get(base + "/flows?token=not-the-token").status_code == 403
    with _client(viewer.url) as client:
        # A page elsewhere whose name was rebound to 127.0.0.1 sends its own name as Host.
        assert client.get(base + "/flows", headers={"Host": f"attacker.example:{viewer.port}"}).status_code == 403
    token = parse_qs(urlsplit(viewer.url).query)["token"][0]
    with httpx.Client(trust_env=False, timeout=30) as script:  # the token as a bearer, under the other name
        bearer = {"Authorization": f"Bearer {token}"}
        assert script.get(f"http://localhost:{viewer.port}/flows", headers=bearer).status_code == 200


@pytest.mark.parametrize("asked", [True, False], ids=["--open", "default"])
def test_view_opens_a_browser_only_when_asked(conversation_cassette: Path, run_graphtape, tmp_path: Path,
                                              asked: bool) -> None:
    """mitmproxy's browser opener tries ``wslview URL`` early on: a stand-in records what it was given."""
    opened = tmp_path / "opened.txt"
    fake = tmp_path / "bin" / "wslview"
    fake.parent.mkdir()
    fake.write_text(f'#!/bin/sh\necho "$1" >> {opened}\n')
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    env = {"PATH": f"{fake.parent}{os.pathsep}{os.environ['PATH']}"}
    args = ["view", str(conversation_cassette), "--port", "0", *(["--open"] if asked else [])]
    viewer: GraphtapeProcess = run_graphtape(*args, env=env)
    assert viewer.stop() == 0
    if asked:
        assert opened.read_text().split() == [viewer.url]
    else:
        assert not opened.exists()


@pytest.mark.parametrize("host", ["127.0.0.1", "::1"])
def test_view_listens_on_the_loopback_address_asked_for(conversation_cassette: Path, run_graphtape,
                                                        host: str) -> None:
    viewer: GraphtapeProcess = run_graphtape("view", str(conversation_cassette), "--host", host, "--port", "0")
    assert urlsplit(viewer.url).hostname == host
    with _client(viewer.url) as client:
        assert len(client.get(_base(viewer.url) + "/flows").json()) == len(STEPS)
