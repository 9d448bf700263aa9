"""``graphtape simulate``: a local Graph look-alike for the attachment routes."""

from __future__ import annotations

import click

from graphtape.cli.runtime.server import ServerSpec, run_server

__all__ = ["simulate"]

# mitmproxy's reverse mode needs a target; the simulator answers every request itself and
# connections are lazy, so this address is never contacted.
_NEVER_CONTACTED = "reverse:http://127.0.0.1:9"


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True,
              help="Port to listen on; 0 picks a free one.")
@click.option("--verbose", "-v", is_flag=True, help="Log each request.")
@click.option("--drift", "drifts", multiple=True, metavar="NAME",
              help="Answer creates with a drifted shape (repeatable or comma-separated): rename-property, "
                   "size-as-string, extra-property, new-enum-value, status-200, subtype-property, odata-type, "
                   "content-type.")
def simulate(host: str, port: int, verbose: bool, drifts: tuple[str, ...]) -> None:
    """Serve a local Graph look-alike for the attachment routes (no network needed)."""
    from graphtape.addons.proxy.simulator import Simulator
    from graphtape.addons.simulation.drift_variants import (
        DriftingSimulation,
        UnknownDriftError,
    )

    try:
        drifting = DriftingSimulation(drifts) if drifts else None
    except UnknownDriftError as exc:
        raise click.BadParameter(str(exc), param_hint="--drift") from None
    simulator = Simulator(drifting)
    spec = ServerSpec(label="simulator", mode=_NEVER_CONTACTED, host=host, port=port,
                      options={"graphtape_simulate": True}, verbosity="info" if verbose else "warn")
    detail = "Graph attachment simulator" + (f", drift: {', '.join(drifting.drifts)}" if drifting else "")
    run_server(spec, [simulator], lambda: detail)
    click.echo(f"graphtape simulator stopped: answered {simulator.answered} requests.")
