"""Offline means offline: replay never opens a connection to the upstream, not even for a miss.

The upstream is a loopback socket that counts every connection it accepts; replay
runs against it in reverse mode and in forward mode (plain HTTP and HTTPS through
CONNECT), answering hits and misses alike, and the count must stay at zero.
"""

from __future__ import annotations

import json
import ssl
import time
from pathlib import Path

import httpx
import pytest
from reliability_helpers import CountingListener

from graphtape.cassettes.model import Cassette, Headers, Interaction, Request, Response
from graphtape.cassettes.storage import save_cassette

pytestmark = pytest.mark.slow

PATH = "/v1.0/me/messages/AAMkAGI2THVSAAA=/attachments"
BODY = json.dumps({"@odata.type": "#microsoft.graph.fileAttachment", "name": "a.txt", "contentBytes": "YQ=="})
JSON = {"Content-Type": "application/json", "Authorization": "Bearer fake-token-123"}

# (label, method, path, body): the first is in the cassette, the rest are misses of every kind.
REQUESTS = [
    ("hit", "POST", PATH, BODY),
    ("miss: other body", "POST", PATH, BODY.replace("a.txt", "b.txt")),
    ("miss: other attachment route", "POST", "/v1.0/me/events/AAMkAE=/attachments", BODY),
    ("miss: a read", "GET", PATH, ""),
    ("miss: not Graph at all", "GET", "/favicon.ico", ""),
    ("miss: delete", "DELETE", PATH + "/AAMkAT=", ""),
]


def _cassette(tmp_path: Path, *bases: str) -> Path:
    path = tmp_path / "offline.yaml"
    interactions = [Interaction(Request("POST", base + PATH, Headers(tuple(JSON.items())), BODY.encode()),
                                Response(201, "Created", Headers((("Content-Type", "application/json"),)),
                                         b'{"id":"recorded"}'))
                    for base in bases]
    save_cassette(path, Cassette(interactions))
    return path


def _send_all(client: httpx.Client, base: str) -> list[tuple[str, int]]:
    return [(label, client.request(method, base + path, content=body, headers=JSON).status_code)
            for label, method, path, body in REQUESTS]


def _expected() -> list[tuple[str, int]]:
    return [(label, 201 if label == "hit" else 599) for label, *_ in REQUESTS]


def _settled(listener: CountingListener) -> int:
    time.sleep(0.5)  # a late connection attempt would have been accepted by now
    return listener.accepted


def test_reverse_replay_never_connects_upstream(tmp_path: Path, counting_upstream: CountingListener,
                                                run_graphtape) -> None:
    cassette = _cassette(tmp_path, counting_upstream.url)
    rep = run_graphtape("replay", "--cassette", str(cassette), "--upstream", counting_upstream.url, "--port", "0")
    with httpx.Client(trust_env=False, timeout=30) as client:
        assert _send_all(client, rep.url) == _expected()
    assert rep.stop() == 0
    assert _settled(counting_upstream) == 0
    assert f"misses       {len(REQUESTS) - 1}" in rep.stdout


def test_forward_replay_never_connects_upstream(tmp_path: Path, counting_upstream: CountingListener,
                                                run_graphtape) -> None:
    https_base = f"https://127.0.0.1:{counting_upstream.port}"
    cassette = _cassette(tmp_path, counting_upstream.url, https_base)
    confdir = tmp_path / "mitmproxy"
    rep = run_graphtape("replay", "--cassette", str(cassette), "--mode", "forward", "--port", "0",
                        "--confdir", str(confdir))
    with httpx.Client(proxy=rep.url, trust_env=False, timeout=30) as client:
        assert _send_all(client, counting_upstream.url) == _expected()
    trust_ca = ssl.create_default_context(cafile=confdir / "mitmproxy-ca-cert.pem")
    with httpx.Client(proxy=rep.url, trust_env=False, timeout=30, verify=trust_ca) as client:
        assert _send_all(client, https_base) == _expected()  # through CONNECT, TLS ended at the proxy
    assert rep.stop() == 0
    assert _settled(counting_upstream) == 0
