"""Benchmark: the cost of recording one interaction does not grow with the cassette.

Not a test (pytest does not collect ``bench_*.py``): it prints figures and ratios
measured in the same run, against the small cassette as the baseline.

    .venv/bin/python tests/benchmarks/bench_journal_append.py [--appends 300]

For each cassette size it opens a CassetteWriter on a cassette already holding that
many interactions and times blocking appends (each one written and fsync'd to the
journal before it returns, as the recorder waits for it). The open (which reads the
cassette) and the close (which rewrites it once, atomically) are printed too: they
are paid once per run, not per request.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from graphtape.cassettes.model import Cassette, Headers, Interaction, Request, Response
from graphtape.cassettes.storage import CassetteWriter, save_cassette

SIZES = (10, 10_000)


def _interaction(n: int) -> Interaction:
    body = b'{"@odata.type":"#microsoft.graph.fileAttachment","name":"f%d.txt","contentBytes":"aGVsbG8="}' % n
    return Interaction(
        Request("POST", f"https://graph.microsoft.com/v1.0/me/messages/AAMk{n}=/attachments",
                Headers((("Content-Type", "application/json"), ("Authorization", "Bearer REDACTED"))), body),
        Response(201, "Created", Headers((("Content-Type", "application/json"),)), b'{"id":"AAMkA%d=","size":165}' % n),
    )


def measure(appends: int, folder: Path) -> dict[int, dict[str, float]]:
    """Append timings per cassette size; the sizes take turns so disk noise hits them alike."""
    writers: dict[int, CassetteWriter] = {}
    results: dict[int, dict[str, float]] = {}
    timings: dict[int, list[float]] = {size: [] for size in SIZES}
    for size in SIZES:
        path = folder / f"bench-{size}.yaml"
        save_cassette(path, Cassette([_interaction(n) for n in range(size)]))
        writers[size] = CassetteWriter(path, keep_existing=True)
        started = time.perf_counter()
        writers[size].open()
        results[size] = {"open": time.perf_counter() - started}
    for n in range(appends):
        # Alternate who goes first: an fsync right after another one is cheaper.
        order = list(writers.items()) if n % 2 == 0 else list(reversed(writers.items()))
        for size, writer in order:
            t0 = time.perf_counter()
            writer.append(_interaction(size + n))
            timings[size].append(time.perf_counter() - t0)
    for size, writer in writers.items():
        started = time.perf_counter()
        writer.close()
        results[size]["close"] = time.perf_counter() - started
        ordered = sorted(timings[size])
        results[size]["median"] = statistics.median(ordered)
        results[size]["p95"] = ordered[int(len(ordered) * 0.95)]
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--appends", type=int, default=300, help="appends timed per cassette size")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        results = measure(args.appends, Path(tmp))
    base = results[SIZES[0]]
    print(f"journal append (write + fsync), {args.appends} appends per size")
    print(f"{'existing':>9} {'median ms':>10} {'p95 ms':>8} {'ratio':>6} {'open s':>8} {'close s':>8}")
    for size, r in results.items():
        print(f"{size:>9} {r['median'] * 1e3:>10.3f} {r['p95'] * 1e3:>8.3f} {r['median'] / base['median']:>6.2f} "
              f"{r['open']:>8.3f} {r['close']:>8.3f}")
    ratio = results[SIZES[-1]]["median"] / base["median"]
    print(f"append cost ratio {SIZES[-1]} vs {SIZES[0]} existing interactions: {ratio:.2f}")


if __name__ == "__main__":
    main()
