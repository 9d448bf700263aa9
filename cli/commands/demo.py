"""``graphtape demo``: the whole loop on this machine, no network and no setup.

1. Replay the shipped example cassette offline and check every answer against it.
2. Start the built-in simulator, record a few calls through ``graphtape record``,
   stop the simulator, replay the fresh cassette, and check the answers are
   byte-identical; then send a changed request and show the miss report.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import click

from graphtape.cassettes.serialization import load_cassette
from graphtape.cli.examples import example_cassette
from graphtape.cli.examples.example_requests import (
    EXAMPLES,
    FILE_BODY,
    SEED_ROUTES,
    ExampleRequest,
)
from graphtape.cli.runtime.processes import GraphtapeProcess
from graphtape.cli.runtime.traffic import send, send_example

__all__ = ["demo"]


def _brief(body: bytes) -> str:
    try:
        data = json.loads(body)
    except ValueError:
        return body[:60].decode(errors="replace")
    if isinstance(data, dict) and "error" in data:
        return f"error {data['error'].get('code')}"
    if isinstance(data, dict):
        return f"{data.get('@odata.type', '?')} id={str(data.get('id', '?'))[:16]}... size={data.get('size')}"
    return str(data)[:60]


def _replay_examples(cassette: Path) -> bool:
    recorded = load_cassette(cassette).interactions
    ok = True
    with GraphtapeProcess("replay", "--cassette", str(cassette), "--port", "0") as rep:
        click.echo(f"  {rep.stdout.strip()}")
        for example, interaction in zip(EXAMPLES, recorded, strict=False):
            answer = send_example(rep.url, example)
            same = answer.status == interaction.response.status_code and answer.body == interaction.response.body
            ok &= same
            click.echo(f"  POST {example.name:<32} -> {answer.status} {_brief(answer.body):<70} "
                       f"{'identical' if same else 'DIFFERENT'}")
    return ok


@click.command()
@click.option("--keep", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Keep the freshly recorded cassette in this folder.")
def demo(keep: Path | None) -> None:
    """Run the record -> replay loop end to end on the built-in simulator and the shipped examples."""
    ok = True
    click.echo(f"1. Replaying the shipped example cassette, offline ({example_cassette()}):")
    ok &= _replay_examples(example_cassette())

    folder = keep or Path(tempfile.mkdtemp(prefix="graphtape-demo-"))
    folder.mkdir(parents=True, exist_ok=True)
    cassette = folder / "demo.yaml"
    picks: list[ExampleRequest] = [EXAMPLES[0], EXAMPLES[1], EXAMPLES[2], EXAMPLES[-2]]
    click.echo("\n2. Recording from the built-in simulator through graphtape record:")
    with GraphtapeProcess("simulate", "--port", "0") as sim:
        click.echo(f"  {sim.stdout.strip()}")
        with GraphtapeProcess("record", "--cassette", str(cassette), "--upstream", sim.url, "--port", "0",
                              "--record-mode", "rewrite") as rec:
            click.echo(f"  {rec.stdout.strip()}")
            live = [send_example(rec.url, ex) for ex in picks]
            for ex, answer in zip(picks, live, strict=False):
                click.echo(f"  POST {ex.name:<32} -> {answer.status} {_brief(answer.body)}")
    click.echo("\n".join("  " + line for line in rec.stdout.splitlines()[1:]))
    click.echo("\n3. Simulator stopped; replaying the new cassette offline:")
    with GraphtapeProcess("replay", "--cassette", str(cassette), "--port", "0") as rep:
        for ex, before in zip(picks, live, strict=False):
            again = send_example(rep.url, ex)
            same = (again.status, again.body) == (before.status, before.body)
            ok &= same
            click.echo(f"  POST {ex.name:<32} -> {again.status} {'byte-identical' if same else 'DIFFERENT'}")
        changed = dict(FILE_BODY, name="menu-v2.txt")
        miss = send("POST", rep.url + SEED_ROUTES["message"], {"Content-Type": "application/json",
                                                               "Authorization": "Bearer fake"},
                    json.dumps(changed).encode())
        message = json.loads(miss.body)["error"]["message"]
        click.echo(f"  a changed request -> {miss.status}: {message}")
        ok &= miss.status == 599
    click.echo(f"\nCassette: {cassette}")
    click.echo("demo: OK" if ok else "demo: FAILED")
    raise SystemExit(0 if ok else 1)
