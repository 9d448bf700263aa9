"""``graphtape view CASSETTE``: the cassette in mitmweb, read-only, with each flow's findings."""

from __future__ import annotations

from pathlib import Path

import click

from graphtape.cassettes.serialization import load_cassette

__all__ = ["view"]


@click.command()
@click.argument("cassette", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Loopback address the web UI listens on (127.0.0.1, ::1 or localhost).")
@click.option("--port", type=click.IntRange(0, 65535), default=0, show_default=True,
              help="Web UI port; 0 picks a free one.")
@click.option("--open", "open_browser", is_flag=True, help="Open the web UI in a browser.")
def view(cassette: Path, host: str, port: int, open_browser: bool) -> None:
    """Show CASSETTE in mitmweb: every interaction as a flow, marked and commented with its findings.

    Read-only and offline: no proxy listens, nothing is replayed or changed. Prints one line
    with the web UI's URL (its token included) and serves until SIGINT or SIGTERM.
    """
    from graphtape.addons.proxy.flow_files import flows_from_cassette
    from graphtape.cli.runtime.web_view import ViewSpec, is_loopback, run_viewer

    if not is_loopback(host):
        raise click.BadParameter(f"{host!r} is not a loopback address (the viewer serves this machine only)",
                                 param_hint="--host")
    flows = flows_from_cassette(load_cassette(cassette), str(cassette))
    run_viewer(ViewSpec(host, port, open_browser), flows,
               f"read-only, {len(flows)} interactions from {cassette}")
    click.echo("graphtape viewer stopped.")
