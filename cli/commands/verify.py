"""``graphtape verify --cassette FILE``: re-send recorded requests and report drift in the live answers.

Each recorded response is compared with the live answer to the same request (shape,
status, content type, ``@odata.type``; volatile values excluded), and the live answer
with the documented schema where the recording did not already depart from it.
``--update`` re-records the interactions that drifted, redacted as the recorder does.
"""

from __future__ import annotations

import os
import sys
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from graphtape.addons.drift.compare import (
    compare_samples,
    sample_from_interaction,
    schema_drift,
)
from graphtape.addons.drift.config import DriftConfig
from graphtape.addons.graph.validation import validate_interaction
from graphtape.cassettes.errors import ConfigError
from graphtape.cassettes.findings import Finding
from graphtape.cassettes.model import Cassette, Interaction, Response
from graphtape.cassettes.redaction import Redactor
from graphtape.cassettes.serialization import load_cassette
from graphtape.cassettes.storage import CassetteLock, save_cassette
from graphtape.cassettes.wire import servable
from graphtape.cli.commands.drift import config_from_options, drift_config_options, group_shapes
from graphtape.cli.exit_codes import report_exit_code
from graphtape.cli.output.reports import (
    ReportCase,
    report_options,
    write_report,
)
from graphtape.cli.runtime.live_requests import bearer_value, resend

__all__ = ["live_drift", "verify"]

DEFAULT_TOKEN_ENV = "GRAPHTAPE_TOKEN"


def live_drift(interaction: Interaction, live: Response, config: DriftConfig, source: str) -> list[Finding]:
    """Drift of the live answer from the recorded one, and new departures from the schema."""
    recorded = sample_from_interaction(interaction, source)
    current = sample_from_interaction(interaction, source, live)
    findings = compare_samples([recorded], [current], config, against="vs recorded")
    already = {(f.code, f.path) for f in schema_drift(recorded, config)}
    seen = {(f.code, f.path, f.expected, f.seen) for f in findings}
    for f in schema_drift(current, config):
        if (f.code, f.path) not in already and (f.code, f.path, f.expected, f.seen) not in seen:
            findings.append(f)
    return findings


def _rerecorded(interaction: Interaction, live: Response) -> Interaction:
    """``interaction`` with the (already redacted) live answer, validated afresh."""
    fresh = replace(interaction, response=servable(live, interaction.request.method)[0])
    meta = replace(interaction.meta, recorded_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                   findings=tuple(validate_interaction(fresh)))
    return replace(fresh, meta=meta)


@click.command()
@click.option("--cassette", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Cassette whose requests are sent again.")
@click.option("--upstream", default=None,
              help="Send to this base URL instead of the recorded one (path and query are kept).")
@click.option("--token-env", default=DEFAULT_TOKEN_ENV, show_default=True, metavar="NAME",
              help="Environment variable holding the bearer token sent as Authorization (never the cassette's).")
@click.option("--upstream-ca", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="PEM file of the CA that signed a private upstream's certificate (trusted for its TLS).")
@click.option("--update", is_flag=True, help="Re-record the interactions whose live answer drifted.")
@click.option("--timeout", type=click.FloatRange(0.1), default=30.0, show_default=True,
              help="Seconds to wait for each live answer.")
@report_options
@drift_config_options
def verify(cassette: Path, upstream: str | None, token_env: str, upstream_ca: Path | None, update: bool,
           timeout: float, fmt: str, output: Path | None, colour: bool | None, **kw: Any) -> None:
    """Re-send CASSETTE's requests to the live service and report drift in its answers.

    The Authorization header is built from the environment variable --token-env at
    run time. Exit 0 when nothing drifted, 1 on error-level drift, 2 when the
    cassette, the config or the service cannot be read.
    """
    if upstream and not upstream.startswith(("http://", "https://")):
        raise click.BadParameter(f"{upstream!r} is not an http(s) URL", param_hint="--upstream")
    config = config_from_options(kw["config_path"], kw["severities"], kw["volatile"])
    loaded = load_cassette(cassette)
    token = os.environ.get(token_env, "").strip()
    if not token and any("authorization" in i.request.headers for i in loaded.interactions):
        raise ConfigError(f"the recorded requests were authorised; set ${token_env} to a bearer token "
                          "(the cassette's own is redacted and never sent)")
    authorization = bearer_value(token) if token else None
    # Whatever the live service sends back is redacted before anything reads it (drift findings, every
    # report format, the re-recorded cassette): by the recorder's rules and by the token's own value,
    # in case the service echoes it.
    redactor = Redactor().with_secrets([token, authorization or ""]) if token else Redactor()
    # --update holds the cassette's lock for the whole run, so a recorder cannot start on it
    # meanwhile, and writes it atomically at the end: a failure leaves the old file whole.
    lock = CassetteLock(cassette) if update else None
    if lock is not None:
        lock.acquire()
    try:
        cafile = str(upstream_ca) if upstream_ca is not None else None
        cases, updated = _verify_all(loaded, cassette, upstream, authorization, timeout, config, update, redactor,
                                     cafile)
        changed = sum(1 for a, b in zip(updated, loaded.interactions, strict=True) if a is not b)
        if lock is not None and changed:
            save_cassette(cassette, Cassette(interactions=updated, meta=loaded.meta))
            click.echo(f"graphtape verify: re-recorded {changed} drifted interaction(s) into {cassette}", err=True)
    finally:
        if lock is not None:
            lock.release()
    write_report(cases, fmt, "graphtape verify", output, colour)
    sys.exit(report_exit_code(cases))


def _verify_all(loaded: Cassette, cassette: Path, upstream: str | None, authorization: str | None, timeout: float,
                config: DriftConfig, update: bool, redactor: Redactor,
                cafile: str | None = None) -> tuple[list[ReportCase], list[Interaction]]:
    """Re-send every interaction: one report case each, and the interactions as ``--update`` would keep them."""
    cases: list[ReportCase] = []
    updated = list(loaded.interactions)
    with click.progressbar(list(enumerate(loaded.interactions)), label="verifying", file=sys.stderr,
                           show_pos=True) as bar:
        for i, interaction in bar:
            name = f"interactions[{i}] {interaction.request.method} {interaction.request.path}"
            try:
                live = redactor.response(resend(interaction.request, upstream, authorization, timeout, cafile))
            except OSError as exc:
                problem = redactor.scrub_text(f"no answer: {getattr(exc, 'reason', exc)}")
                cases.append(ReportCase(str(cassette), name, error=problem, request=interaction.request,
                                        response=interaction.response, meta=interaction.meta))
                continue
            source = f"{cassette} interactions[{i}]"
            findings = live_drift(interaction, live, config, source)
            shapes = group_shapes([sample_from_interaction(interaction, source)],
                                  [sample_from_interaction(interaction, source, live)], config, ("recorded", "live"))
            cases.append(ReportCase.of_interaction(str(cassette), name, findings, interaction, live=live,
                                                   shapes=shapes))
            if update and findings:
                updated[i] = _rerecorded(interaction, live)
    return cases, updated
