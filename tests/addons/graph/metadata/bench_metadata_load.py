"""How long importing graphtape's Graph metadata and loading both API versions takes.

    python tests/addons/graph/metadata/bench_metadata_load.py [RUNS]

Each run is a fresh interpreter that has already imported the standard-library modules
a graphtape process always has (json, re, dataclasses, pathlib...), so the figures are
what the metadata package itself adds. Prints the best and the median of RUNS runs.
Target: import + load of one version under about 20 ms.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys

# The standard-library modules preloaded here are all in sys.modules of a process that
# imported graphtape.cli.main (zipfile and threading come with mitmproxy).
PROBE = """
import dataclasses, enum, functools, importlib.resources, json, pathlib, re, types, typing, urllib.parse
import threading, zipfile
import time
t0 = time.perf_counter()
from graphtape.addons.graph.metadata import load_schema
t1 = time.perf_counter()
load_schema("v1.0")
t2 = time.perf_counter()
load_schema("beta")
t3 = time.perf_counter()
print((t1 - t0) * 1e3, (t2 - t1) * 1e3, (t3 - t2) * 1e3)
"""


def main() -> int:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    # Bytecode caching on, as for any installed package; the first run writes the .pyc files.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    probe = [sys.executable, "-c", PROBE]
    subprocess.run(probe, check=True, capture_output=True, env=env)
    samples = [
        [float(x) for x in subprocess.run(probe, check=True, capture_output=True, text=True, env=env).stdout.split()]
        for _ in range(runs)
    ]
    for label, column in (("import", 0), ("load v1.0", 1), ("load beta", 2)):
        values = [s[column] for s in samples]
        print(f"{label:10} best {min(values):6.1f} ms   median {statistics.median(values):6.1f} ms")
    totals = [s[0] + s[1] for s in samples]
    print(f"{'import+v1.0':10} best {min(totals):6.1f} ms   median {statistics.median(totals):6.1f} ms  ({runs} runs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
