"""What the pytest plugin costs a test suite, side by side with pytest-recording (VCR.py), in one run.

    python tests/benchmarks/bench_pytest.py [--tests 50] [--rounds 5] [--json]

The same N tests (each posts one attachment and checks the 201), written three ways
and run by pytest in fresh processes, in interleaved rounds (base, vcr, graphtape,
base, ...), for each client (``requests`` and ``httpx``):

- base: straight to graphtape's simulator (no recording tool loaded at all);
- pytest-recording: ``@pytest.mark.vcr``, replaying cassettes it recorded first
  (``--record-mode=none``), with graphtape's plugin disabled;
- graphtape: the ``graphtape_proxy`` fixture, replaying cassettes it recorded first,
  with pytest-recording disabled and an upstream nothing listens on.

A small timing plugin (bench_timing.py) writes each test's setup+call+teardown time.
"per test" is the mean over tests 2..N (the first one pays the start-up); "first test" is
the first test's time less the baseline's per-test time; "run" is the whole pytest
process's wall time. Medians over rounds; ratios are medians of per-round ratios.
A breakdown of the graphtape plugin's costs (import, proxy start, cassette switch,
a request through it) comes from one extra process.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from graphtape.cli.runtime.processes import GraphtapeProcess  # noqa: E402

CLIENTS = ("requests", "httpx")
TOOLS = ("base", "pytest-recording", "graphtape")
PATH = "/v1.0/users/adele@contoso.com/messages/AAMkAGI2THVSAAA=/attachments"

_POST = {
    "requests": "requests.post({url} + PATH, json=body, headers=HEADERS)",
    "httpx": "CLIENT.post({url} + PATH, json=body, headers=HEADERS)",
}
# A module-level httpx.Client, as suites use it: httpx.post() builds a TLS context per call
# (about 100 ms), which would drown what is measured here.
_CLIENT_SETUP = {"requests": "", "httpx": "CLIENT = httpx.Client(trust_env=False)\n"}
_URL = {"base": 'os.environ["SIM_URL"]', "pytest-recording": 'os.environ["SIM_URL"]', "graphtape": "graphtape_proxy.url"}
_FIXTURE = {"base": "", "pytest-recording": "", "graphtape": "graphtape_proxy, "}
_MARK = {"base": "", "pytest-recording": "@pytest.mark.vcr\n", "graphtape": ""}
# Each tool without the other loaded, as a user of one of them runs it.
_PLUGINS = {"base": ["-p", "no:graphtape", "-p", "no:recording"], "pytest-recording": ["-p", "no:graphtape"],
            "graphtape": ["-p", "no:recording"]}

TEST_MODULE = '''import os

import {client}
import pytest

PATH = "{path}"
HEADERS = {{"Authorization": "Bearer fake-token-123"}}
{client_setup}

{mark}@pytest.mark.parametrize("n", range({n}))
def test_attach({fixture}n):
    body = {{"@odata.type": "#microsoft.graph.fileAttachment", "name": f"f{{n}}.txt", "contentBytes": "aGVsbG8="}}
    r = {post}
    assert r.status_code == 201
'''


def _env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}  # loopback only, no proxies
    env["PYTHONPATH"] = os.pathsep.join([str(HERE), env.get("PYTHONPATH", "")])
    env.update(extra)
    return env


def _pytest(folder: Path, args: list[str], env: dict[str, str]) -> tuple[float, list[float]]:
    """Run pytest in ``folder``; the process's wall time and each test's time, in order."""
    timings = folder / "timings.json"
    timings.unlink(missing_ok=True)
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "bench_timing", *args]
    started = time.perf_counter()
    run = subprocess.run(cmd, cwd=folder, capture_output=True, text=True, timeout=600,
                         env={**env, "BENCH_TIMINGS": str(timings)})
    wall = time.perf_counter() - started
    if run.returncode != 0:
        raise SystemExit(f"pytest failed in {folder} ({' '.join(args)}):\n{run.stdout[-3000:]}\n{run.stderr[-2000:]}")
    return wall, json.loads(timings.read_text())


def _project(root: Path, client: str, tool: str, n: int) -> Path:
    folder = root / f"{client}-{tool}"
    folder.mkdir()
    url = _URL[tool]
    (folder / "test_bench.py").write_text(TEST_MODULE.format(
        client=client, client_setup=_CLIENT_SETUP[client], path=PATH, mark=_MARK[tool], n=n, fixture=_FIXTURE[tool], post=_POST[client].format(url=url)))
    return folder


def _record(folder: Path, tool: str, sim_url: str, env: dict[str, str]) -> list[str]:
    """Record the tool's cassettes; returns the arguments that replay them offline."""
    if tool == "pytest-recording":
        _pytest(folder, [*_PLUGINS[tool], "--record-mode=once"], env)
        return [*_PLUGINS[tool], "--record-mode=none"]
    if tool == "graphtape":
        _pytest(folder, [*_PLUGINS[tool], "--graphtape-record-mode=once", f"--graphtape-upstream={sim_url}"], env)
        return [*_PLUGINS[tool], "--graphtape-upstream=http://127.0.0.1:9"]  # nothing listens: replay is offline
    return _PLUGINS[tool]


def breakdown(work: Path, client: str, switches: int = 100) -> dict[str, float]:
    """Where the graphtape plugin's time goes, in a fresh process (milliseconds)."""
    code = r'''
import json, statistics, sys, time
t0 = time.perf_counter()
from graphtape.cli.runtime.inprocess import InProcessProxy, ProxySpec
import_ms = (time.perf_counter() - t0) * 1000
from pathlib import Path
import httpx, requests
work, n = Path(sys.argv[1]), int(sys.argv[2])
t = time.perf_counter()
proxy = InProcessProxy(ProxySpec(upstream="http://127.0.0.1:9", confdir=work / "conf")).start()
start_ms = (time.perf_counter() - t) * 1000
cassettes = sorted((work / sys.argv[4] / "cassettes" / "test_bench").glob("*.yaml"))
client = httpx.Client(trust_env=False)
body = {"@odata.type": "#microsoft.graph.fileAttachment", "name": "f0.txt", "contentBytes": "aGVsbG8="}
switch, close, req_requests, req_httpx = [], [], [], []
for i in range(n):
    t = time.perf_counter()
    proxy.configure(graphtape_cassette=str(cassettes[i % len(cassettes)]), graphtape_record_mode="none")
    switch.append(time.perf_counter() - t)
    t = time.perf_counter()
    requests.post(proxy.url + sys.argv[3], json=body, headers={"Authorization": "Bearer x"})
    req_requests.append(time.perf_counter() - t)
    t = time.perf_counter()
    client.post(proxy.url + sys.argv[3], json=body, headers={"Authorization": "Bearer x"})
    req_httpx.append(time.perf_counter() - t)
    t = time.perf_counter()
    proxy.configure(graphtape_cassette="")
    close.append(time.perf_counter() - t)
    proxy.stack.tape.closed_sessions.clear()
proxy.stop()
ms = lambda xs: statistics.median(xs) * 1000
print(json.dumps({"import_ms": import_ms, "proxy_start_ms": start_ms, "open_cassette_ms": ms(switch),
                  "close_cassette_ms": ms(close), "request_requests_ms": ms(req_requests),
                  "request_httpx_ms": ms(req_httpx)}))
'''
    run = subprocess.run([sys.executable, "-c", code, str(work), str(switches), PATH, f"{client}-graphtape"], capture_output=True, text=True,
                         timeout=300, env=_env({}))
    if run.returncode != 0:
        raise SystemExit(f"breakdown failed: {run.stderr[-3000:]}")
    result: dict[str, float] = json.loads(run.stdout.strip().splitlines()[-1])
    return result


def measure(n: int, rounds: int, clients: tuple[str, ...] = CLIENTS) -> dict[str, Any]:
    out: dict[str, Any] = {"tests": n, "rounds": rounds, "clients": {}}
    with tempfile.TemporaryDirectory(prefix="graphtape-bench-pytest-") as tmp, \
            GraphtapeProcess("simulate", "--port", "0") as sim:
        root = Path(tmp)
        env = _env({"SIM_URL": sim.url})
        for client in clients:
            args = {}
            for tool in TOOLS:
                folder = _project(root, client, tool, n)
                args[tool] = (folder, _record(folder, tool, sim.url, env))
            runs: dict[str, list[tuple[float, list[float]]]] = {tool: [] for tool in TOOLS}
            for rnd in range(rounds):
                order = TOOLS[rnd % 3:] + TOOLS[:rnd % 3]
                for tool in order:
                    print(f"[{time.strftime('%H:%M:%S')}] pytest {client} round {rnd + 1}/{rounds}: {tool}",
                          file=sys.stderr, flush=True)
                    folder, tool_args = args[tool]
                    runs[tool].append(_pytest(folder, tool_args, env))
            out["clients"][client] = _summarise(runs)
        out["breakdown"] = breakdown(root, clients[0])
    return out


def _summarise(runs: dict[str, list[tuple[float, list[float]]]]) -> dict[str, Any]:
    def per_test(times: list[float]) -> float:
        return statistics.fmean(times[1:]) if len(times) > 1 else times[0]

    base = [per_test(t) for _, t in runs["base"]]
    result: dict[str, Any] = {}
    for tool in TOOLS:
        pt = [per_test(t) for _, t in runs[tool]]
        first = [t[0] - b for (_, t), b in zip(runs[tool], base, strict=True)]
        result[tool] = {
            "per_test_ms": statistics.median(pt) * 1000,
            "overhead_per_test_ms": statistics.median([p - b for p, b in zip(pt, base, strict=True)]) * 1000,
            "first_test_extra_s": statistics.median(first),
            "run_s": statistics.median([w for w, _ in runs[tool]]),
        }
    result["per_test_ratio"] = statistics.median(
        [g / v for g, v in zip([per_test(t) for _, t in runs["graphtape"]],
                               [per_test(t) for _, t in runs["pytest-recording"]], strict=True)])
    result["run_ratio"] = statistics.median(
        [g / v for (g, _), (v, _) in zip(runs["graphtape"], runs["pytest-recording"], strict=True)])
    return result


def render(result: dict[str, Any]) -> str:
    lines = [f"pytest, {result['tests']} tests, {result['rounds']} interleaved round(s), medians"]
    lines.append(f"{'client':<9} {'tool':<17} {'per test':>9} {'overhead':>9} {'first test':>11} {'whole run':>10}")
    for client, tools in result["clients"].items():
        for tool in TOOLS:
            t = tools[tool]
            lines.append(f"{client:<9} {tool:<17} {t['per_test_ms']:>7.2f}ms {t['overhead_per_test_ms']:>7.2f}ms "
                         f"{t['first_test_extra_s']:>10.3f}s {t['run_s']:>9.2f}s")
        lines.append(f"{client:<9} graphtape / pytest-recording: per test {tools['per_test_ratio']:.2f}x, "
                     f"whole run {tools['run_ratio']:.2f}x")
    b = result["breakdown"]
    lines.append("graphtape plugin, in process (medians, ms): " + ", ".join(f"{k} {v:.2f}" for k, v in b.items()))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tests", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--client", choices=CLIENTS, action="append", help="only this client (repeatable)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = measure(args.tests, args.rounds, tuple(args.client or CLIENTS))
    print(json.dumps(result) if args.json else render(result), flush=True)


if __name__ == "__main__":
    main()
