"""graphtape's benchmark: replay, record, cassette load/lookup and big attachments, side by side.

    python tests/benchmarks/run_benchmarks.py [--quick] [--json]

Everything measured runs in its own process on loopback (servers, the load
generator, each load/lookup probe); each comparison is repeated in interleaved
rounds and reported as medians, with ratios against baselines measured in the
same run. The targets are checked at the end (PASS/MISS); the exit code is 0
either way, since the figures depend on the machine.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import synth
from report import Row, Target, as_json, median, render_table
from servers import (
    HERE,
    Server,
    cpu_seconds,
    graphtape_server,
    lean_server,
    mitmdump_server,
    peak_rss_mb,
    run_json,
)

MB = 1024 * 1024


@dataclass(frozen=True)
class Plan:
    rounds: int
    replay_requests: int
    record_requests: int
    concurrency: int
    distinct: int  # distinct requests in the replayed/recorded traffic
    sizes: tuple[int, ...]  # cassette sizes for load/lookup
    big_count: int  # interactions carrying a big file
    big_file_bytes: int
    big_rounds: int
    time_cap: float  # seconds, per load-generator run
    pytest_tests: int  # tests per pytest run (bench_pytest.py)
    pytest_rounds: int
    pytest_clients: tuple[str, ...]
    quick: bool = False


FULL = Plan(rounds=3, replay_requests=3000, record_requests=1500, concurrency=8, distinct=64,
            sizes=(10, 1000, 10000), big_count=100, big_file_bytes=3_000_000, big_rounds=2, time_cap=60,
            pytest_tests=50, pytest_rounds=5, pytest_clients=("requests", "httpx"))
QUICK = Plan(rounds=1, replay_requests=400, record_requests=200, concurrency=8, distinct=16,
             sizes=(10, 1000), big_count=10, big_file_bytes=3_000_000, big_rounds=1, time_cap=20,
             pytest_tests=10, pytest_rounds=1, pytest_clients=("requests",), quick=True)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def load(server: Server, plan: Plan, count: int, file_bytes: int, total: int, work: Path, warmup: int = 50,
         concurrency: int | None = None) -> dict[str, Any]:
    spec = {"host": "127.0.0.1", "port": server.port, "count": count, "file_bytes": file_bytes, "total": total,
            "concurrency": concurrency or plan.concurrency, "time_cap": plan.time_cap, "warmup": warmup}
    spec_file = work / "load-spec.json"
    spec_file.write_text(json.dumps(spec))
    cpu_before = cpu_seconds(server.pid)
    result = run_json([str(HERE / "loadgen.py"), str(spec_file)], timeout=plan.time_cap + 120)
    # CPU the server spent per answer: steadier than req/s on a shared machine.
    result["cpu_ms"] = (cpu_seconds(server.pid) - cpu_before) * 1000 / max(1, result["completed"] + warmup)
    return result


def _check_statuses(name: str, result: dict[str, Any], want: str) -> str:
    other = {k: v for k, v in result["statuses"].items() if k != want}
    if other or result["error_count"] or result["capped"]:
        return f"{name}: statuses {result['statuses']}, {result['error_count']} errors, capped={result['capped']}"
    return ""


_LABELS = {"rps": "throughput", "p50_ms": "latency p50", "p99_ms": "latency p99", "cpu_ms": "server CPU"}


def _throughput_rows(section: str, results: dict[str, list[dict[str, Any]]], order: list[str],
                     baselines: dict[str, str], notes: list[str]) -> list[Row]:
    rows = []
    for name in order:
        runs = results[name]
        for metric, unit in (("rps", "req/s"), ("p50_ms", "ms"), ("cpu_ms", "ms CPU/req")):
            base = baselines.get(name, "") if metric in ("rps", "cpu_ms") else ""
            ratio = float("nan")
            if base:
                ratio = median([r[metric] / b[metric] for r, b in zip(runs, results[base], strict=False)])
            rows.append(Row(section, f"{name} {_LABELS[metric]}", unit, median([r[metric] for r in runs]),
                            base, median([b[metric] for b in results[base]]) if base else float("nan"), ratio))
    rows[-1].note = "; ".join(n for n in notes if n)
    return rows


ServerFactory = Callable[[int], AbstractContextManager[Server]]  # round number -> a started server


def _rounds(section: str, servers: dict[str, ServerFactory], plan: Plan, total: int,
            work: Path) -> tuple[dict[str, list[dict[str, Any]]], list[str]]:
    """Each server in turn, round after round, so drift on the machine hits them all alike.

    The order rotates by one each round: no server always runs first after a pause, or
    right after the heaviest one.
    """
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in servers}
    notes: list[str] = []
    names = list(servers)
    for rnd in range(plan.rounds):
        for name in names[rnd % len(names):] + names[:rnd % len(names)]:
            log(f"{section} round {rnd + 1}/{plan.rounds}: {name}")
            with servers[name](rnd) as server:
                result = load(server, plan, plan.distinct, 512, total, work)
            results[name].append(result)
            notes.append(_check_statuses(name, result, "201"))
    return results, notes


def _ratio(results: dict[str, list[dict[str, Any]]], a: str, b: str, metric: str) -> float:
    """Median over rounds of a's figure over b's, each pair from the same round."""
    return median([x[metric] / y[metric] for x, y in zip(results[a], results[b], strict=True)])


# Labels: "lean" is graphtape's own host (its reduced set of mitmproxy built-ins, what
# `graphtape replay`/`record` run); "mitmdump" is stock mitmdump with all of its built-ins,
# where `-s` scripts and `--server-replay` run.
GT_REPLAY = "graphtape replay (lean)"
LEAN_SR = "server_replay addon (lean)"
LEAN_FIXED = "fixed response (lean)"
STOCK_GT = "graphtape addon (mitmdump -s)"
STOCK_SR = "mitmdump --server-replay"
STOCK_FIXED = "fixed response (mitmdump -s)"
SHIM = str(HERE.parent.parent / "addons" / "mitmdump_addon.py")


def bench_replay(plan: Plan, work: Path) -> tuple[list[Row], list[Target]]:
    log("replay: synthesising the cassette and its mitmproxy flows")
    interactions = synth.interactions_for(synth.traffic(plan.distinct))
    cassette, flows, fixed = work / "replay.yaml", work / "replay.flows", work / "fixed-body.json"
    synth.write_cassette(cassette, interactions)
    synth.write_flows(flows, interactions)
    fixed.write_bytes(interactions[0].response.body)
    reverse = f"reverse:{synth.UPSTREAM}"
    lazy = ("--set", "connection_strategy=lazy")
    servers: dict[str, ServerFactory] = {
        # The product, as shipped; it is also graphtape's engine in graphtape's host.
        GT_REPLAY: lambda _: graphtape_server("replay", "--cassette", str(cassette)),
        LEAN_SR: lambda _: lean_server("server_replay", reverse, {
            "server_replay": [str(flows)], "server_replay_reuse": True, "server_replay_extra": "404",
            "connection_strategy": "lazy"}),
        LEAN_FIXED: lambda _: lean_server("fixed", reverse, {"fixed_body": str(fixed), "connection_strategy": "lazy"}),
        STOCK_GT: lambda _: mitmdump_server(
            "--mode", reverse, "-s", SHIM, "--set", f"graphtape_cassette={cassette}",
            "--set", "graphtape_record_mode=none", "--set", "graphtape_scope=all", *lazy),
        # What a user would run instead of `graphtape replay`, and mitmproxy's engine in its own host.
        STOCK_SR: lambda _: mitmdump_server(
            "--mode", reverse, "--server-replay", str(flows), "--set", "server_replay_reuse=true",
            "--set", "server_replay_extra=404", *lazy),
        STOCK_FIXED: lambda _: mitmdump_server(
            "--mode", reverse, "-s", str(HERE / "fixed_response.py"), "--set", f"fixed_body={fixed}", *lazy),
    }
    results, notes = _rounds("replay", servers, plan, plan.replay_requests, work)
    baselines = {GT_REPLAY: LEAN_SR, LEAN_SR: LEAN_FIXED, STOCK_GT: STOCK_SR, STOCK_SR: STOCK_FIXED}
    rows = _throughput_rows("replay", results, list(servers), baselines, notes)
    rows += [
        Row("replay", "engine: graphtape vs fixed response (lean)", "x CPU/req", _ratio(results, GT_REPLAY, LEAN_FIXED, "cpu_ms")),
        Row("replay", "engine: graphtape vs fixed response (mitmdump -s)", "x CPU/req",
            _ratio(results, STOCK_GT, STOCK_FIXED, "cpu_ms")),
        Row("replay", "host: mitmdump -s vs lean, graphtape", "x CPU/req", _ratio(results, STOCK_GT, GT_REPLAY, "cpu_ms")),
        Row("replay", "host: mitmdump vs lean, server_replay", "x CPU/req", _ratio(results, STOCK_SR, LEAN_SR, "cpu_ms")),
        Row("replay", "host: mitmdump -s vs lean, fixed response", "x CPU/req",
            _ratio(results, STOCK_FIXED, LEAN_FIXED, "cpu_ms")),
    ]
    targets = [
        Target("engine: replay vs server_replay, lean host (CPU/req)", _ratio(results, GT_REPLAY, LEAN_SR, "cpu_ms"),
               "<= 0.95"),
        Target("engine: replay vs server_replay, mitmdump -s (CPU/req)", _ratio(results, STOCK_GT, STOCK_SR, "cpu_ms"),
               "<= 0.95"),
        Target("engine: replay vs fixed response, lean host (CPU/req)", _ratio(results, GT_REPLAY, LEAN_FIXED, "cpu_ms"),
               "<= 1.05"),
        Target("engine: replay vs fixed response, mitmdump -s (CPU/req)",
               _ratio(results, STOCK_GT, STOCK_FIXED, "cpu_ms"), "<= 1.05"),
        Target("product: graphtape replay vs mitmdump --server-replay (req/s)",
               _ratio(results, GT_REPLAY, STOCK_SR, "rps"), ">= 1.2",
               f"CPU/req ratio {_ratio(results, GT_REPLAY, STOCK_SR, 'cpu_ms'):.2f}"),
    ]
    return rows, targets


GT_RECORD = "graphtape record (lean)"
LEAN_PLAIN = "plain reverse proxy (lean)"
STOCK_RECORD = "graphtape addon recording (mitmdump -s)"
STOCK_PLAIN = "plain reverse proxy (mitmdump)"
NO_FSYNC = "graphtape record --no-fsync (lean)"
DIRECT = "direct to simulator"


def bench_record(plan: Plan, work: Path) -> tuple[list[Row], list[Target]]:
    # "--no-fsync" is a diagnosis row, not a target: it shows how much of the gap to the plain
    # proxy is the wait for each interaction's fsync before its answer is released.
    with graphtape_server("simulate") as sim:
        upstream = f"http://127.0.0.1:{sim.port}"
        reverse = f"reverse:{upstream}"

        def fresh(name: str, rnd: int) -> str:  # a new cassette each round: every request is recorded
            return str(work / f"recorded-{name}-{rnd}.yaml")

        servers: dict[str, ServerFactory] = {
            DIRECT: lambda _: _already_running(sim),
            GT_RECORD: lambda rnd: graphtape_server("record", "--cassette", fresh("lean", rnd), "--upstream", upstream),
            LEAN_PLAIN: lambda _: lean_server("none", reverse),
            STOCK_RECORD: lambda rnd: mitmdump_server(
                "--mode", reverse, "-s", SHIM, "--set", f"graphtape_cassette={fresh('stock', rnd)}",
                "--set", "graphtape_record_mode=all", "--set", "connection_strategy=lazy"),
            STOCK_PLAIN: lambda _: mitmdump_server("--mode", reverse),
        }
        if not plan.quick:
            servers[NO_FSYNC] = lambda rnd: graphtape_server(
                "record", "--cassette", fresh("nofsync", rnd), "--upstream", upstream, "--no-fsync")
        results, notes = _rounds("record", servers, plan, plan.record_requests, work)
    baselines = {LEAN_PLAIN: DIRECT, GT_RECORD: LEAN_PLAIN, STOCK_PLAIN: DIRECT, STOCK_RECORD: STOCK_PLAIN,
                 NO_FSYNC: LEAN_PLAIN}
    rows = _throughput_rows("record", results, list(servers), baselines, notes)
    targets = [
        Target("record vs plain reverse proxy, lean host (req/s)", _ratio(results, GT_RECORD, LEAN_PLAIN, "rps"),
               ">= 0.9", f"CPU/req ratio {_ratio(results, GT_RECORD, LEAN_PLAIN, 'cpu_ms'):.2f}"),
        Target("record vs plain reverse proxy, mitmdump -s (req/s)", _ratio(results, STOCK_RECORD, STOCK_PLAIN, "rps"),
               ">= 0.9", f"CPU/req ratio {_ratio(results, STOCK_RECORD, STOCK_PLAIN, 'cpu_ms'):.2f}"),
    ]
    return rows, targets


class _already_running:
    def __init__(self, server: Server) -> None:
        self.server = server

    def __enter__(self) -> Server:
        return self.server

    def __exit__(self, *exc: object) -> None:
        return None


def bench_cassettes(plan: Plan, work: Path) -> tuple[list[Row], list[Target]]:
    rows: list[Row] = []
    lookups: dict[int, dict[str, list[float]]] = {}
    load_ratios: dict[int, float] = {}
    for size in plan.sizes:
        log(f"cassettes: synthesising {size} interactions")
        path = work / f"cassette-{size}.yaml"
        synth.write_cassette(path, synth.interactions_for(synth.traffic(size)))
        loads: dict[str, list[float]] = {"graphtape": [], "vcr": []}
        lookups[size] = {"graphtape": [], "vcr": []}
        for rnd in range(plan.rounds):
            for lib in ("graphtape", "vcr"):
                log(f"cassettes {size} round {rnd + 1}/{plan.rounds}: {lib}")
                iterations = 20 if size <= 10 else 3 if size <= 1000 else 1
                cap = 10.0 if lib == "vcr" else 30.0
                count = 2000 if lib == "graphtape" else 200
                probe = run_json(["probe.py", "lookup", lib, str(path), str(iterations), str(count), str(cap)], 900)
                loads[lib].append(probe["load_s"])
                lookups[size][lib].append(probe["lookup_us"])
        ratio = median([g / v for g, v in zip(loads["graphtape"], loads["vcr"], strict=False)])
        load_ratios[size] = ratio
        rows.append(Row("cassette load", f"{size} interactions ({path.stat().st_size / MB:.1f} MB)", "ms",
                        median(loads["graphtape"]) * 1000, "VCR.py", median(loads["vcr"]) * 1000, ratio))
    for size in plan.sizes:
        g, v = lookups[size]["graphtape"], lookups[size]["vcr"]
        speedup = median([b / a for a, b in zip(g, v, strict=False)])
        rows.append(Row("lookup per request", f"{size} interactions", "us", median(g), "VCR.py", median(v),
                        median([a / b for a, b in zip(g, v, strict=False)]), f"{speedup:,.0f}x faster than VCR.py"))
    smallest, largest = plan.sizes[0], plan.sizes[-1]
    scaling = median(lookups[largest]["graphtape"]) / median(lookups[smallest]["graphtape"])
    mid = 1000 if 1000 in lookups else largest
    speedup = median([v / g for g, v in zip(lookups[mid]["graphtape"], lookups[mid]["vcr"], strict=False)])
    targets = [
        Target(f"lookup at {largest:,} vs at {smallest} (time ratio)", scaling, "<= 2"),
        Target(f"lookup speed-up over VCR.py at {mid:,}", speedup, ">= 20"),
    ]
    for size, ratio in load_ratios.items():
        targets.append(Target(f"load time vs VCR.py at {size:,} (time ratio)", ratio, "<= 1.0"))
    return rows, targets


def bench_big(plan: Plan, work: Path) -> tuple[list[Row], list[Target]]:
    log(f"big attachments: synthesising {plan.big_count} interactions with {plan.big_file_bytes:,}-byte files")
    interactions = synth.interactions_for(synth.traffic(plan.big_count, plan.big_file_bytes))
    variants = {"inline": (work / "big-inline.yaml", 0), "blob files": (work / "big-blobs.yaml", 1 * MB)}
    sizes = {}
    for name, (path, threshold) in variants.items():
        sizes[name] = synth.write_cassette(path, interactions, threshold)
    del interactions
    rows: list[Row] = []
    targets: list[Target] = []
    for name, (path, _) in variants.items():
        load_s, load_peak, replay_peak = [], [], []
        for rnd in range(plan.big_rounds):
            log(f"big attachments round {rnd + 1}/{plan.big_rounds}: {name}")
            probe = run_json(["probe.py", "load", "graphtape", str(path), "1"], 900)
            load_s.append(probe["load_s"])
            load_peak.append(probe["peak_rss_mb"] - probe["base_rss_mb"])
            with graphtape_server("replay", "--cassette", str(path)) as server:
                result = load(server, plan, plan.big_count, plan.big_file_bytes, plan.big_count, work, warmup=0,
                              concurrency=2)
                replay_peak.append(peak_rss_mb(server.pid))
            if _check_statuses(name, result, "201"):
                log(f"warning: {_check_statuses(name, result, '201')}")
        disk = sizes[name] / MB
        rows.append(Row("big attachments", f"{name}: size on disk", "MB", disk))
        rows.append(Row("big attachments", f"{name}: load time", "s", median(load_s)))
        rows.append(Row("big attachments", f"{name}: load peak RSS over interpreter", "MB", median(load_peak),
                        "size on disk", disk, median(load_peak) / disk))
        rows.append(Row("big attachments", f"{name}: replay peak RSS", "MB", median(replay_peak),
                        "size on disk", disk, median(replay_peak) / disk))
        targets.append(Target(f"replay peak memory / size on disk ({name})", median(replay_peak) / disk, "< 3"))
    # VCR.py can read only the inline cassette; its figures put graphtape's in context.
    vcr = [run_json(["probe.py", "load", "vcr", str(variants["inline"][0]), "1"], 900) for _ in range(plan.big_rounds)]
    disk = sizes["inline"] / MB
    rows.append(Row("big attachments", "inline: VCR.py load time", "s", median([p["load_s"] for p in vcr])))
    vcr_peak = median([p["peak_rss_mb"] - p["base_rss_mb"] for p in vcr])
    rows.append(Row("big attachments", "inline: VCR.py load peak RSS over interpreter", "MB", vcr_peak,
                    "size on disk", disk, vcr_peak / disk))
    return rows, targets


def bench_pytest(plan: Plan, work: Path) -> tuple[list[Row], list[Target]]:
    log(f"pytest: {plan.pytest_tests} tests, {plan.pytest_rounds} round(s), clients {', '.join(plan.pytest_clients)}")
    args = ["bench_pytest.py", "--json", "--tests", str(plan.pytest_tests), "--rounds", str(plan.pytest_rounds)]
    for client in plan.pytest_clients:
        args += ["--client", client]
    result = run_json(args, 3600)
    rows: list[Row] = []
    targets: list[Target] = []
    for client, tools in result["clients"].items():
        vcr, gt = tools["pytest-recording"], tools["graphtape"]
        rows += [
            Row("pytest", f"{client}: per test, no tool", "ms", tools["base"]["per_test_ms"]),
            Row("pytest", f"{client}: per test, pytest-recording", "ms", vcr["per_test_ms"], "no tool",
                tools["base"]["per_test_ms"], vcr["per_test_ms"] / tools["base"]["per_test_ms"]),
            Row("pytest", f"{client}: per test, graphtape", "ms", gt["per_test_ms"], "pytest-recording",
                vcr["per_test_ms"], tools["per_test_ratio"]),
            Row("pytest", f"{client}: overhead per test, pytest-recording", "ms", vcr["overhead_per_test_ms"]),
            Row("pytest", f"{client}: overhead per test, graphtape", "ms", gt["overhead_per_test_ms"]),
            Row("pytest", f"{client}: first test's extra, pytest-recording", "s", vcr["first_test_extra_s"]),
            Row("pytest", f"{client}: first test's extra, graphtape", "s", gt["first_test_extra_s"]),
            Row("pytest", f"{client}: whole run, graphtape", "s", gt["run_s"], "pytest-recording", vcr["run_s"],
                tools["run_ratio"]),
        ]
        targets.append(Target(f"pytest ({client}): per-test time vs pytest-recording", tools["per_test_ratio"],
                              "<= 1.0", f"overhead {gt['overhead_per_test_ms']:.1f} vs "
                              f"{vcr['overhead_per_test_ms']:.1f} ms"))
        targets.append(Target(f"pytest ({client}): first test's start-up (s)", gt["first_test_extra_s"], "< 0.5"))
    b = result["breakdown"]
    for key, label in (("import_ms", "import of the in-process proxy"), ("proxy_start_ms", "proxy start"),
                       ("open_cassette_ms", "switch to a test's cassette"), ("close_cassette_ms", "switch away"),
                       ("request_requests_ms", "one request (requests)"), ("request_httpx_ms", "one request (httpx)")):
        rows.append(Row("pytest", f"graphtape plugin: {label}", "ms", b[key]))
    return rows, targets


def machine() -> dict[str, Any]:
    import mitmproxy.version
    import vcr

    cpu = "unknown"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            cpu = next((line.split(":", 1)[1].strip() for line in fh if line.startswith("model name")), cpu)
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "cpu": cpu, "python": platform.python_version(),
            "mitmproxy": mitmproxy.version.VERSION, "vcrpy": vcr.__version__}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short smoke run (fewer requests, one round)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON instead of a table")
    parser.add_argument("--only", choices=["replay", "record", "pytest", "cassettes", "big"], action="append",
                        help="run only this part (repeatable)")
    parser.add_argument("--keep", type=Path, default=None, help="keep the work files in this folder")
    parser.add_argument("--rounds", type=int, default=None,
                        help="rounds of each comparison (default: 3 full, 1 quick)")
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    if args.rounds:
        plan = dataclasses.replace(plan, rounds=args.rounds, pytest_rounds=args.rounds)
    parts = {"replay": bench_replay, "record": bench_record, "pytest": bench_pytest, "cassettes": bench_cassettes,
             "big": bench_big}
    work = Path(tempfile.mkdtemp(prefix="graphtape-bench-")) if args.keep is None else args.keep
    work.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    rows: list[Row] = []
    targets: list[Target] = []
    try:
        for name, part in parts.items():
            if args.only and name not in args.only:
                continue
            part_rows, part_targets = part(plan, work)
            rows.extend(part_rows)
            targets.extend(part_targets)
            # Each part's figures as soon as it ends (a long run stopped early keeps what it measured).
            print(render_table(part_rows, part_targets, f"[{name} done]"), file=sys.stderr, flush=True)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    info = machine()
    info["duration_s"] = round(time.monotonic() - started, 1)
    info["plan"] = "quick" if args.quick else "full"
    if args.json:
        print(json.dumps(as_json(rows, targets, info), indent=2))
    else:
        header = (f"graphtape benchmark ({info['plan']}, {info['duration_s']} s): {info['nproc']} CPUs, {info['cpu']}, "
                  f"Python {info['python']}, mitmproxy {info['mitmproxy']}, vcrpy {info['vcrpy']}\n"
                  f"{plan.rounds} round(s); replay {plan.replay_requests} and record {plan.record_requests} requests "
                  f"at concurrency {plan.concurrency}; medians over rounds, ratios are medians of per-round ratios")
        print(render_table(rows, targets, header))
    return 0


if __name__ == "__main__":
    sys.exit(main())
