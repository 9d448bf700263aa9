"""``graphtape demo``: the whole loop on this machine, no network and no setup.

1. Replay the shipped example cassette offline and check every answer against it.
2. Start the built-in simulator, record a few calls through ``graphtape record``, and
   check the cassette holds each of them.
3. Stop the simulator, replay the fresh cassette, and check the answers are
   byte-identical; then send a changed request and check it gets the miss answer.

Each step checks that it did what it says; the first one that did not ends the demo
with :class:`DemoFailedError`, naming the step (exit 1 through the CLI's error path).
Project configuration files play no part: the demo is the same everywhere.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from graphtape.cassettes.config_file import CONFIG_ENV
from graphtape.cassettes.errors import GraphtapeError
from graphtape.cassettes.serialization import load_cassette
from graphtape.cli.examples import example_cassette
from graphtape.cli.examples.example_requests import (
    EXAMPLES,
    FILE_BODY,
    SEED_ROUTES,
    ExampleRequest,
)
from graphtape.cli.runtime.processes import GraphtapeProcess
from graphtape.cli.runtime.traffic import Answer, send, send_example

__all__ = ["STEPS", "DemoFailedError", "check_miss", "check_replayed", "demo", "record_from_simulator",
           "replay_example"]

STEPS = {
    1: "replaying the shipped example cassette",
    2: "recording from the simulator",
    3: "replaying the new cassette",
}
MISS_STATUS = 599  # graphtape's answer when nothing recorded matches
_ENV = {CONFIG_ENV: os.devnull}


class DemoFailedError(GraphtapeError, RuntimeError):
    """A demo step did not do what it says."""

    def __init__(self, step: int, problem: str) -> None:
        super().__init__(f"demo FAILED at step {step} ({STEPS[step]}): {problem}")
        self.step = step


def _brief(body: bytes) -> str:
    try:
        data = json.loads(body)
    except ValueError:
        return body[:60].decode(errors="replace")
    if isinstance(data, dict) and isinstance(data.get("error"), dict):
        return f"error {data['error'].get('code')}"
    if isinstance(data, dict):
        return f"{data.get('@odata.type', '?')} id={str(data.get('id', '?'))[:16]}... size={data.get('size')}"
    return str(data)[:60]


@contextmanager
def _running(step: int, *args: str) -> Iterator[GraphtapeProcess]:
    """``graphtape ARGS`` as a ready child process, stopped (and its output collected) on leaving."""
    try:
        proc = GraphtapeProcess(*args, env=_ENV).wait_ready()
    except GraphtapeError as exc:
        raise DemoFailedError(step, f"graphtape {args[0]} did not start: {' '.join(str(exc).split())}") from None
    try:
        yield proc
    finally:
        proc.stop()


def check_replayed(step: int, url: str, examples: list[ExampleRequest], expected: list[Answer]) -> None:
    """Send each example to ``url``; each answer must be ``expected``'s, status and bytes."""
    different = []
    for example, want in zip(examples, expected, strict=True):
        got = send_example(url, example)
        same = (got.status, got.body) == (want.status, want.body)
        click.echo(f"  POST {example.name:<32} -> {got.status} {_brief(got.body):<70} "
                   f"{'identical' if same else 'DIFFERENT'}")
        if not same:
            different.append(f"{example.name} (answered {got.status}, recorded {want.status})")
    if different:
        raise DemoFailedError(step, f"{len(different)} of {len(examples)} answers differ from the cassette: "
                                    + "; ".join(different))


def replay_example(cassette: Path) -> None:
    """Step 1: the shipped example, replayed offline, answers every example request as recorded."""
    recorded = load_cassette(cassette).interactions
    if len(recorded) != len(EXAMPLES):
        raise DemoFailedError(1, f"{cassette} holds {len(recorded)} interactions; the example has "
                                 f"{len(EXAMPLES)} requests")
    expected = [Answer(i.response.status_code, [], i.response.body) for i in recorded]
    with _running(1, "replay", "--cassette", str(cassette), "--port", "0") as rep:
        click.echo(f"  {rep.stdout.strip()}")
        check_replayed(1, rep.url, list(EXAMPLES), expected)


def record_from_simulator(cassette: Path, picks: list[ExampleRequest]) -> list[Answer]:
    """Step 2: record ``picks`` from a fresh simulator; every answer as the simulator documents it,
    the recorder stops cleanly, and the cassette holds every one of them."""
    with _running(2, "simulate", "--port", "0") as sim:
        click.echo(f"  {sim.stdout.strip()}")
        with _running(2, "record", "--cassette", str(cassette), "--upstream", sim.url, "--port", "0",
                      "--record-mode", "rewrite") as rec:
            click.echo(f"  {rec.stdout.strip()}")
            live = [send_example(rec.url, ex) for ex in picks]
            for ex, answer in zip(picks, live, strict=True):
                click.echo(f"  POST {ex.name:<32} -> {answer.status} {_brief(answer.body)}")
    click.echo("\n".join("  " + line for line in rec.stdout.splitlines()[1:]))
    wrong = [f"{ex.name} answered {a.status}, expected {ex.expected_status}"
             for ex, a in zip(picks, live, strict=True) if a.status != ex.expected_status]
    if wrong:
        raise DemoFailedError(2, "; ".join(wrong))
    if rec.returncode != 0:
        tail = " ".join(rec.stderr.strip().splitlines()[-1:])
        raise DemoFailedError(2, f"graphtape record exited {rec.returncode}: {tail}")
    try:
        held = len(load_cassette(cassette).interactions)
    except (GraphtapeError, OSError) as exc:
        raise DemoFailedError(2, f"the cassette cannot be read: {exc}") from None
    if held != len(picks):
        raise DemoFailedError(2, f"{cassette} holds {held} interactions; {len(picks)} requests were recorded")
    return live


def check_miss(step: int, url: str) -> None:
    """A request the cassette does not hold gets graphtape's miss answer, naming the difference."""
    changed = dict(FILE_BODY, name="menu-v2.txt")
    miss = send("POST", url + SEED_ROUTES["message"], {"Content-Type": "application/json",
                                                      "Authorization": "Bearer fake"}, json.dumps(changed).encode())
    try:
        message = json.loads(miss.body)["error"]["message"]
    except (ValueError, KeyError, TypeError):
        message = _brief(miss.body)
    click.echo(f"  a changed request -> {miss.status}: {message}")
    if miss.status != MISS_STATUS:
        raise DemoFailedError(step, f"a request the cassette does not hold answered {miss.status}, "
                                    f"not graphtape's miss ({MISS_STATUS})")


@click.command()
@click.option("--keep", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Keep the freshly recorded cassette in this folder.")
def demo(keep: Path | None) -> None:
    """Run the record -> replay loop end to end on the built-in simulator and the shipped examples."""
    click.echo(f"1. Replaying the shipped example cassette, offline ({example_cassette()}):")
    replay_example(example_cassette())

    folder = keep or Path(tempfile.mkdtemp(prefix="graphtape-demo-"))
    folder.mkdir(parents=True, exist_ok=True)
    cassette = folder / "demo.yaml"
    picks: list[ExampleRequest] = [EXAMPLES[0], EXAMPLES[1], EXAMPLES[2], EXAMPLES[-2]]
    click.echo("\n2. Recording from the built-in simulator through graphtape record:")
    live = record_from_simulator(cassette, picks)

    click.echo("\n3. Simulator stopped; replaying the new cassette offline:")
    with _running(3, "replay", "--cassette", str(cassette), "--port", "0") as rep:
        check_replayed(3, rep.url, picks, live)
        check_miss(3, rep.url)
    click.echo(f"\nCassette: {cassette}")
    click.echo("demo: OK")
