"""Benchmark: what the pytest plugin costs per session and per test (run it; pytest does not collect it).

    .venv/bin/python tests/bench_plugin_overhead.py [N_TESTS]

1. In-process: the proxy's start-up, and one cassette switch (open a replay session
   for a test, close it after), averaged.
2. End to end: a module of N tests, each posting one attachment, run by pytest
   (a) against the simulator directly (the baseline: no graphtape), and
   (b) through ``graphtape_proxy`` replaying each test's cassette offline.
   Prints the extra time per test and the ratio to the baseline, both from this run.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from graphtape.cli.runtime.processes import GraphtapeProcess

TESTS = '''
import httpx
import pytest

PATH = "/v1.0/users/adele@contoso.com/messages/AAMkAGI2THVSAAA=/attachments"


@pytest.mark.parametrize("n", range({n}))
def test_attach(graphtape_proxy, n):
    body = {{"@odata.type": "#microsoft.graph.fileAttachment", "name": f"f{{n}}.txt", "contentBytes": "aGVsbG8="}}
    r = httpx.post(graphtape_proxy.url + PATH, json=body, headers={{"Authorization": "Bearer fake-token-123"}},
                   trust_env=False)
    assert r.status_code == 201
'''

# The baseline: same tests, the "proxy" fixture just names the simulator.
BASELINE_CONFTEST = '''
import os
import types
import pytest

@pytest.fixture
def graphtape_proxy():
    return types.SimpleNamespace(url=os.environ["SIM_URL"])
'''


def _pytest(folder: Path, *args: str, env: dict[str, str] | None = None) -> float:
    import os

    started = time.perf_counter()
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args], cwd=folder,
                         capture_output=True, text=True, env={**os.environ, **(env or {})}, timeout=600)
    elapsed = time.perf_counter() - started
    if run.returncode != 0:
        raise SystemExit(f"pytest failed in {folder}:\n{run.stdout}\n{run.stderr}")
    return elapsed


def in_process(switches: int, sim_url: str, folder: Path) -> None:
    from graphtape.cli.runtime.inprocess import InProcessProxy, ProxySpec

    started = time.perf_counter()
    proxy = InProcessProxy(ProxySpec(upstream=sim_url, confdir=folder / "conf")).start()
    start_cost = time.perf_counter() - started
    cassettes = sorted((folder / "cassettes" / "test_bench").glob("*.yaml"))
    costs = []
    for i in range(switches):
        t = time.perf_counter()
        proxy.configure(graphtape_cassette=str(cassettes[i % len(cassettes)]), graphtape_record_mode="none")
        proxy.configure(graphtape_cassette="")
        costs.append(time.perf_counter() - t)
        proxy.stack.tape.closed_sessions.clear()
    proxy.stop()
    print(f"in-process proxy start (reverse + forward servers): {start_cost * 1000:.1f} ms")
    print(f"cassette switch (open replay session + close), median of {switches}: "
          f"{statistics.median(costs) * 1000:.2f} ms")


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    with tempfile.TemporaryDirectory() as tmp, GraphtapeProcess("simulate", "--port", "0") as sim:
        folder = Path(tmp) / "plugin"
        folder.mkdir()
        (folder / "test_bench.py").write_text(TESTS.format(n=n))
        _pytest(folder, "--graphtape-record-mode=once", f"--graphtape-upstream={sim.url}")  # record the cassettes
        in_process(200, sim.url, folder)

        base = Path(tmp) / "baseline"
        base.mkdir()
        (base / "test_bench.py").write_text(TESTS.format(n=n))
        (base / "conftest.py").write_text(BASELINE_CONFTEST)
        runs = 3
        baseline = min(_pytest(base, "-p", "no:graphtape", env={"SIM_URL": sim.url}) for _ in range(runs))
        plugin = min(_pytest(folder, "--graphtape-upstream=http://127.0.0.1:9") for _ in range(runs))
        print(f"pytest, {n} tests, best of {runs}: baseline (simulator directly) {baseline:.2f} s, "
              f"through graphtape_proxy (offline replay) {plugin:.2f} s")
        print(f"plugin overhead: {(plugin - baseline):.2f} s per session incl. start, "
              f"{(plugin - baseline) / n * 1000:.1f} ms per test on average; ratio {plugin / baseline:.2f}x")


if __name__ == "__main__":
    main()
