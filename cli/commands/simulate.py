"""``graphtape simulate``: a local Graph look-alike for the attachment lifecycle."""

from __future__ import annotations

import secrets
import shutil
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import click

from graphtape.cli.runtime.server import ServerSpec, run_server

if TYPE_CHECKING:
    from graphtape.addons.simulation.fault_config import FaultConfig

__all__ = ["simulate"]

# The CA certificate mitmproxy keeps in its confdir (created on first start).
CA_CERT_NAME = "mitmproxy-ca-cert.pem"


def _confdir(confdir: str | None) -> Path:
    return Path(confdir).expanduser() if confdir else Path("~/.mitmproxy").expanduser()


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True,
              help="Port to listen on; 0 picks a free one.")
@click.option("--upload-port", type=click.IntRange(0, 65535), default=0, show_default=True,
              help="Port of the upload service Outlook upload URLs point to (another listener, as "
                   "outlook.office.com is another host than Graph's); 0 picks a free one.")
@click.option("--strict-parents", is_flag=True,
              help="A message, event, post or task that was never created answers 404 ErrorItemNotFound "
                   "(default: created on first use).")
@click.option("--confdir", type=click.Path(file_okay=False), default=None,
              help="mitmproxy's configuration folder, whose CA signs the certificates of TLS clients. "
                   "Default ~/.mitmproxy.")
@click.option("--ca-out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Copy the CA certificate (PEM) that TLS clients must trust to this file once ready.")
@click.option("--verbose", "-v", is_flag=True, help="Log each request.")
@click.option("--drift", "drifts", multiple=True, metavar="NAME",
              help="Answer creates with a drifted shape (repeatable or comma-separated): rename-property, "
                   "size-as-string, extra-property, new-enum-value, status-200, subtype-property, odata-type, "
                   "content-type.")
@click.option("--faults", "faults_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              metavar="FILE", help="YAML file of faults to inject: throttle (per mailbox), schedule (429/5xx by "
                                   "rule), latency, uploads (a failing chunk, an expiring session).")
@click.option("--seed", type=click.IntRange(min=0), default=None,
              help="Seed of the fault schedule and random latency: the same seed, faults and requests give the "
                   "same faults. Default: the file's seed, else a new one (shown in the ready line).")
@click.option("--latency", metavar="SECONDS|MIN-MAX", default=None,
              help="Delay every answer: a fixed time (0.2) or one drawn from the seed (0.05-0.3).")
@click.option("--rate-limit", metavar="REQUESTS/SECONDS", default=None,
              help="Answer 429 once a mailbox gets more than REQUESTS in any SECONDS (20/60), or 'outlook' for "
                   "Outlook's documented limits (10,000 in 10 minutes, 4 at once, 150 MB in 5 minutes).")
@click.option("--failure-rate", type=float, metavar="SHARE", default=None,
              help="Answer this share (0 to 1) of requests with 429, 500, 502, 503 or 504, drawn from the seed.")
def simulate(host: str, port: int, upload_port: int, strict_parents: bool, confdir: str | None,
             ca_out: Path | None, verbose: bool, drifts: tuple[str, ...], faults_file: Path | None, seed: int | None,
             latency: str | None, rate_limit: str | None, failure_rate: float | None) -> None:
    """Serve a local Graph look-alike for the attachment routes (no network needed).

    The port speaks plain HTTP and TLS (https://HOST:PORT) alike; TLS clients trust the CA
    certificate named in the ready line (or copied to --ca-out).
    """
    from graphtape.addons.proxy.prefer_http2 import PreferHttp2
    from graphtape.addons.proxy.simulator import NEVER_CONTACTED, Simulator
    from graphtape.addons.simulation.drift_variants import (
        DriftingSimulation,
        UnknownDriftError,
    )
    from graphtape.addons.simulation.engine import GraphSimulation
    from graphtape.addons.simulation.faults import install_faults

    try:
        drifting = DriftingSimulation(drifts) if drifts else None
    except UnknownDriftError as exc:
        raise click.BadParameter(str(exc), param_hint="--drift") from None
    faults = _fault_config(faults_file, latency, rate_limit, failure_rate)
    simulation = drifting or GraphSimulation()
    fault_seed = seed if seed is not None else faults.seed if faults.seed is not None else secrets.randbelow(2 ** 31)
    if not faults.empty:
        install_faults(simulation, faults, fault_seed)
    simulator = Simulator(simulation)
    ca_cert = _confdir(confdir) / CA_CERT_NAME
    options = {"graphtape_simulate": True, "graphtape_upload_port": upload_port,
               "graphtape_strict_parents": strict_parents}
    spec = ServerSpec(label="simulator", mode=f"reverse:{NEVER_CONTACTED}", host=host, port=port, options=options,
                      confdir=confdir, verbosity="info" if verbose else "warn")

    def detail() -> str:
        if ca_out is not None:
            ca_out.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(ca_cert, ca_out)
        uploads = simulator.upload_origin("http", host)
        parts = ["Graph attachment simulator"]
        if drifting:
            parts.append(f"drift: {', '.join(drifting.drifts)}")
        if strict_parents:
            parts.append("strict parents")
        if not faults.empty:
            source = f"{faults_file} " if faults_file else ""
            parts.append(f"faults: {source}({faults.describe()}), seed {fault_seed}")
        if uploads:
            parts.append(f"uploads on {uploads.removeprefix('http://')}")
        parts.append(f"TLS CA {ca_out or ca_cert}")
        return "; ".join(parts)

    run_server(spec, [simulator, PreferHttp2()], detail)
    click.echo(f"graphtape simulator stopped: answered {simulator.answered} requests.")


def _fault_config(path: Path | None, latency: str | None, rate_limit: str | None,
                  failure_rate: float | None) -> FaultConfig:
    """The faults of ``--faults FILE``, with the command-line shorthands taking precedence."""
    from graphtape.addons.simulation.fault_config import (
        FaultConfig,
        load_fault_config,
        parse_failure_rate,
        parse_latency,
        parse_rate_limit,
    )

    config = load_fault_config(path) if path is not None else FaultConfig()
    if latency is not None:
        config = replace(config, latency=parse_latency(latency))
    if rate_limit is not None:
        config = replace(config, throttle=parse_rate_limit(rate_limit))
    if failure_rate is not None:
        config = replace(config, schedule=(*config.schedule, parse_failure_rate(failure_rate)))
    return config
