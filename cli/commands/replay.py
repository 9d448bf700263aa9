"""``graphtape replay``: answer from a cassette, offline."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from graphtape.cassettes.record_modes import RecordMode
from graphtape.cli.commands.serving import (
    DEFAULT_UPSTREAM,
    mode_spec,
    run_tape,
    server_options,
    tape_options,
    tape_settings,
)
from graphtape.cli.examples import example_cassette

__all__ = ["replay"]


@click.command()
@click.option("--cassette", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Cassette to replay. Default: the example cassette shipped with graphtape.")
@click.option("--upstream", default=DEFAULT_UPSTREAM, show_default=True,
              help="The service the cassette stands in for (never contacted).")
@click.option("--honour-latency", is_flag=True,
              help="Hold each answer for the upstream latency recorded with it (default: answer at once).")
@server_options
@tape_options
def replay(cassette: Path | None, upstream: str, host: str, port: int, mode: str, confdir: str | None,
           verbose: bool, honour_latency: bool, **kw: Any) -> None:
    """Answer from CASSETTE, offline: the upstream is never contacted."""
    cassette = cassette or example_cassette()
    settings = tape_settings(cassette, RecordMode.NONE.value, "all", kw)
    settings["graphtape_replay_latency"] = honour_latency
    run_tape("replayer", mode_spec(mode, upstream), host, port, settings, confdir, verbose, kw["strict"],
             f"offline, cassette {cassette}")
