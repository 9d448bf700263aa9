"""A bounded load generator: keep-alive http.client connections on threads, loopback only.

Run as its own process (``python loadgen.py SPEC.json``) so its CPU use never mixes
with the measuring process. Sends a fixed number of requests at a fixed concurrency,
stopping early at a time cap, and prints one JSON line: requests/s, latency
percentiles and the status codes seen.
"""

from __future__ import annotations

import http.client
import itertools
import json
import sys
import threading
import time
from collections import Counter
from typing import Any

__all__ = ["percentile", "run_load"]


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    k = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[k]


def _requests(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, str], bytes]]:
    # The traffic is regenerated from its seed rather than shipped: megabyte bodies stay out of the spec.
    from synth import traffic

    return [(r.method, r.path, r.headers, r.body) for r in traffic(spec["count"], spec["file_bytes"])]


def _send(conn: http.client.HTTPConnection, req: tuple[str, str, dict[str, str], bytes]) -> int:
    method, path, headers, body = req
    conn.request(method, path, body=body, headers=headers)
    resp = conn.getresponse()
    resp.read()
    return resp.status


def run_load(host: str, port: int, requests: list[tuple[str, str, dict[str, str], bytes]], total: int,
             concurrency: int, time_cap: float, warmup: int = 0) -> dict[str, Any]:
    assert host in ("127.0.0.1", "::1", "localhost"), "load tests stay on loopback"
    # Warm-up: open the connections and let the server reach its steady state.
    conns = [http.client.HTTPConnection(host, port, timeout=60) for _ in range(concurrency)]
    for n in range(warmup):
        _send(conns[n % concurrency], requests[n % len(requests)])
    counter = itertools.count()
    latencies: list[list[float]] = [[] for _ in range(concurrency)]
    statuses: list[Counter[int]] = [Counter() for _ in range(concurrency)]
    errors: list[str] = []
    deadline = time.monotonic() + time_cap

    def worker(w: int) -> None:
        conn = conns[w]
        lat, seen = latencies[w], statuses[w]
        while time.monotonic() < deadline:
            n = next(counter)
            if n >= total:
                return
            t0 = time.perf_counter()
            try:
                status = _send(conn, requests[n % len(requests)])
            except (OSError, http.client.HTTPException) as exc:
                errors.append(f"{type(exc).__name__}: {exc}")
                conn.close()
                conn = conns[w] = http.client.HTTPConnection(host, port, timeout=60)
                continue
            lat.append(time.perf_counter() - t0)
            seen[status] += 1

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(concurrency)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    for c in conns:
        c.close()
    all_lat = sorted(x for lat in latencies for x in lat)
    status_total: Counter[int] = Counter()
    for s in statuses:
        status_total.update(s)
    return {
        "completed": len(all_lat),
        "elapsed_s": elapsed,
        "rps": len(all_lat) / elapsed if elapsed > 0 else 0.0,
        "p50_ms": percentile(all_lat, 0.50) * 1000,
        "p99_ms": percentile(all_lat, 0.99) * 1000,
        "statuses": {str(k): v for k, v in sorted(status_total.items())},
        "errors": errors[:5],
        "error_count": len(errors),
        "capped": len(all_lat) + len(errors) < total,
    }


def main() -> None:
    with open(sys.argv[1], encoding="utf-8") as fh:
        spec = json.load(fh)
    result = run_load(spec["host"], spec["port"], _requests(spec), spec["total"], spec["concurrency"],
                      spec["time_cap"], spec.get("warmup", 0))
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
