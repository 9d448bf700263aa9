"""Measurements that run in a fresh child process each, so they start from the same state.

``python probe.py load LIB CASSETTE ITERATIONS``: load time (median) and peak RSS.
``python probe.py lookup LIB CASSETTE ITERATIONS LOOKUPS TIME_CAP``: the same load time, then
per-request lookup time (median) in the cassette loaded last.
LIB is ``graphtape`` (load_cassette + InteractionIndex) or ``vcr`` (VCR.py's own
Cassette.load and play_response with match_on method/path/query/body). Prints one
JSON line.
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def _status_mb(field: str) -> float:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _rss_mb() -> float:
    return _status_mb("VmRSS")


def _peak_rss_mb() -> float:
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent across exec.
    return _status_mb("VmHWM")


def _graphtape_loader(path: Path) -> Callable[[], Any]:
    from graphtape.cassettes.serialization import load_cassette

    return lambda: load_cassette(path)


def _vcr_loader(path: Path) -> Callable[[], Any]:
    from vcr import matchers
    from vcr.cassette import Cassette

    match_on = (matchers.method, matchers.path, matchers.query, matchers.body)
    return lambda: Cassette.load(path=str(path), match_on=match_on, allow_playback_repeats=True)


LOADERS = {"graphtape": _graphtape_loader, "vcr": _vcr_loader}


def measure_load(lib: str, path: Path, iterations: int) -> tuple[dict[str, Any], Any]:
    load = LOADERS[lib](path)
    base = _rss_mb()
    times = []
    cassette = None
    for _ in range(iterations):
        cassette = None
        t0 = time.perf_counter()
        cassette = load()
        times.append(time.perf_counter() - t0)
    return {"load_s": statistics.median(times), "base_rss_mb": base, "peak_rss_mb": _peak_rss_mb()}, cassette


def _graphtape_lookup(cassette: Any) -> tuple[int, Callable[[int], bool]]:
    from graphtape.cassettes.matching import InteractionIndex
    from graphtape.cassettes.model import Headers, Request

    interactions = cassette.interactions
    index = InteractionIndex(interactions)
    # Fresh objects, as a live request would bring: no identity shortcuts.
    live = [Request(i.request.method, i.request.uri, Headers(tuple(i.request.headers)), bytes(bytearray(i.request.body)))
            for i in interactions]
    return len(live), lambda n: index.lookup(live[n]) is not None


def _vcr_lookup(cassette: Any) -> tuple[int, Callable[[int], bool]]:
    from vcr.request import Request as VcrRequest

    live = [VcrRequest(r.method, r.uri, bytes(bytearray(r.body or b"")), dict(r.headers)) for r in cassette.requests]
    return len(live), lambda n: cassette.play_response(live[n]) is not None


LOOKUPS = {"graphtape": _graphtape_lookup, "vcr": _vcr_lookup}


def measure_lookup(lib: str, cassette: Any, lookups: int, time_cap: float) -> dict[str, Any]:
    size, lookup = LOOKUPS[lib](cassette)
    rng = random.Random(6)
    order = [rng.randrange(size) for _ in range(lookups)]
    times = []
    deadline = time.monotonic() + time_cap
    for n in order:
        t0 = time.perf_counter()
        hit = lookup(n)
        times.append(time.perf_counter() - t0)
        if not hit:
            raise SystemExit(f"{lib}: lookup of recorded request #{n} missed")
        if time.monotonic() > deadline:
            break
    return {"lookup_us": statistics.median(times) * 1e6, "lookups": len(times)}


def main() -> None:
    what, lib, path = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    result, cassette = measure_load(lib, path, int(sys.argv[4]))
    if what == "lookup":
        result.update(measure_lookup(lib, cassette, int(sys.argv[5]), float(sys.argv[6])))
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
