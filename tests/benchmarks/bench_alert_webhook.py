"""Request latency through `graphtape record` with no alert webhook, a refused one and a hanging one.

Not a test (pytest does not collect it): run `python tests/benchmarks/bench_alert_webhook.py`.
Prints each case's median and worst latency over 90 requests (after 10 warm-up ones), its ratio
to the no-webhook baseline measured in the same run, and how long the recorder took to stop.
"""

from __future__ import annotations

import os
import socket
import statistics
import tempfile
import time

import httpx

from graphtape.cli.examples.example_requests import EXAMPLES
from graphtape.cli.runtime.processes import GraphtapeProcess

REQUESTS = 100
WARM_UP = 10


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(sim_url: str, folder: str, name: str, hook: str | None) -> tuple[float, float, float]:
    args = ["record", "--cassette", os.path.join(folder, f"{name}.yaml"), "--record-mode", "all", "--upstream", sim_url,
            "--port", "0",
            "--alerts", os.path.join(folder, f"{name}.jsonl"), "--alert-rollup", "1"]
    rec = GraphtapeProcess(*args, *(["--alert-webhook", hook] if hook else [])).wait_ready()
    latencies = []
    with httpx.Client(trust_env=False, timeout=30) as client:
        for i in range(REQUESTS):
            ex = EXAMPLES[i % 3]
            started = time.monotonic()
            client.post(rec.url + ex.path, content=ex.body, headers=ex.all_headers())
            latencies.append(time.monotonic() - started)
    started = time.monotonic()
    rec.stop()
    measured = latencies[WARM_UP:]
    return statistics.median(measured), max(measured), time.monotonic() - started


def main() -> None:
    hanging = socket.socket()  # accepts connections into its backlog, never answers
    hanging.bind(("127.0.0.1", 0))
    hanging.listen(64)
    folder = tempfile.mkdtemp(prefix="graphtape-bench-")
    cases = {"none": None, "refused": f"http://127.0.0.1:{_closed_port()}/x",
             "hanging": f"http://127.0.0.1:{hanging.getsockname()[1]}/x"}
    with GraphtapeProcess("simulate", "--port", "0", "--drift", "size-as-string,extra-property") as sim:
        results = {name: _run(sim.url, folder, name, hook) for name, hook in cases.items()}
    hanging.close()
    base = results["none"][0]
    for name, (median, worst, stop) in results.items():
        print(f"{name:8} median {median * 1000:6.1f} ms  max {worst * 1000:6.1f} ms  "
              f"ratio {median / base:4.2f}  stop {stop:4.1f} s")


if __name__ == "__main__":
    main()
