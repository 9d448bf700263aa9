"""Async and HTTP/2 clients through the plugin's proxy: httpx.AsyncClient in reverse mode, and
an HTTP/2 client speaking TLS to the proxy in forward mode, recorded from the simulator over
TLS and then replayed with the simulator gone.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from graphtape.cassettes.serialization import load_cassette
from graphtape.cli.runtime.processes import GraphtapeProcess

pytest_plugins = ["pytester"]
pytestmark = pytest.mark.slow

CLIENT_TESTS = '''
import asyncio
import os

import httpx
import pytest

PATH = "/v1.0/users/adele@contoso.com/messages/AAMkAGI2THVSAAA=/attachments"
HEADERS = {"Authorization": "Bearer fake-token-123"}
SIM_TLS = os.environ["SIM_TLS_URL"]


def body(name):
    return {"@odata.type": "#microsoft.graph.fileAttachment", "name": name, "contentBytes": "aGVsbG8="}


@pytest.mark.graphtape(cassette="async.yaml")
def test_async_client_in_reverse_mode(graphtape_proxy):
    async def send_all():
        async with httpx.AsyncClient(base_url=graphtape_proxy.url, trust_env=False, timeout=30) as client:
            return await asyncio.gather(*(client.post(PATH, json=body(n), headers=HEADERS) for n in "abc"))

    answers = asyncio.run(send_all())
    assert [r.status_code for r in answers] == [201, 201, 201], [r.text for r in answers]
    assert [r.json()["name"] for r in answers] == ["a", "b", "c"]


@pytest.mark.graphtape(cassette="h2.yaml")
def test_http2_client_over_tls_in_forward_mode(graphtape_proxy):
    with httpx.Client(http2=True, proxy=graphtape_proxy.proxy_url, verify=str(graphtape_proxy.ca_cert),
                      trust_env=False, timeout=30) as client:
        answers = [client.post(SIM_TLS + PATH, json=body(n), headers=HEADERS) for n in ("h2-a", "h2-b")]
    assert [r.http_version for r in answers] == ["HTTP/2", "HTTP/2"]
    assert [r.status_code for r in answers] == [201, 201], [r.text for r in answers]
    assert [r.json()["name"] for r in answers] == ["h2-a", "h2-b"]
'''


@pytest.fixture
def tls_sim(tmp_path: Path) -> Iterator[tuple[GraphtapeProcess, Path]]:
    """``graphtape simulate`` with its own mitmproxy CA (HOME points at a temporary folder)."""
    home = tmp_path / "sim-home"
    home.mkdir()
    with GraphtapeProcess("simulate", "--port", "0", env={"HOME": str(home)}) as proc:
        yield proc, home / ".mitmproxy" / "mitmproxy-ca-cert.pem"


def test_async_and_http2_clients_record_then_replay_offline(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch,
                                                             tls_sim: tuple[GraphtapeProcess, Path]) -> None:
    sim, sim_ca = tls_sim
    pytester.makepyfile(test_clients=CLIENT_TESTS)
    # mitmproxy in reverse mode also accepts TLS clients: the simulator over https.
    tls_url = sim.url.replace("http://", "https://")
    monkeypatch.setenv("SIM_TLS_URL", tls_url)
    recording = pytester.runpytest_subprocess("--graphtape-record-mode=once", f"--graphtape-upstream={sim.url}",
                                              f"--graphtape-upstream-ca={sim_ca}", "--graphtape-strict")
    recording.assert_outcomes(passed=2)
    h2 = load_cassette(pytester.path / "h2.yaml").interactions
    assert [i.request.uri for i in h2] == [tls_url + "/v1.0/users/adele@contoso.com/messages/AAMkAGI2THVSAAA=/"
                                           "attachments"] * 2
    assert len(load_cassette(pytester.path / "async.yaml").interactions) == 3
    written = {n: (pytester.path / n).read_bytes() for n in ("h2.yaml", "async.yaml")}

    sim.stop()  # from here on nothing answers at the simulator's address
    replaying = pytester.runpytest_subprocess("--graphtape-upstream=http://127.0.0.1:9", "--graphtape-strict")
    replaying.assert_outcomes(passed=2)
    assert {n: (pytester.path / n).read_bytes() for n in ("h2.yaml", "async.yaml")} == written
