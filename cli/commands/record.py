"""``graphtape record``: proxy to the upstream, validating and recording attachment calls."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from graphtape.cassettes.blobs import DEFAULT_BLOB_THRESHOLD
from graphtape.cassettes.errors import CassetteExistsError, CassetteNotFoundError
from graphtape.cassettes.paths import resolve_cassette_path
from graphtape.cassettes.record_modes import RecordMode
from graphtape.cli.commands.alert_options import alert_options, alert_settings
from graphtape.cli.commands.serving import (
    DEFAULT_UPSTREAM,
    mode_spec,
    run_tape,
    server_options,
    tape_options,
    tape_settings,
)

__all__ = ["record"]


def _record_mode(cassette: Path, cassette_dir: str | None, asked: str | None) -> str:
    """The record mode to run with. Without one asked for, a new cassette is recorded and an existing
    one is refused: a command named record neither replaces it (all) nor only replays it (once)."""
    path = resolve_cassette_path(cassette_dir, cassette)
    if asked is None:
        if path.exists():
            raise CassetteExistsError(
                f"{path} exists, and graphtape record never replaces a cassette unless asked: add to it with "
                "--record-mode new_episodes, or replace it with --record-mode all (when the run ends) or "
                "--record-mode rewrite (now)")
        return RecordMode.ONCE.value  # on a new cassette: record everything
    if asked == RecordMode.NONE.value and not path.exists():
        raise CassetteNotFoundError(f"{path}: cassette not found, and record mode none only replays; "
                                    "create it with another --record-mode, such as once")
    return asked


@click.command()
@click.option("--cassette", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Cassette file to write.")
@click.option("--upstream", default=DEFAULT_UPSTREAM, show_default=True,
              help="Service to forward to in reverse mode (graphtape simulate's URL for offline work).")
@server_options
@click.option("--record-mode", type=click.Choice([m.value for m in RecordMode]), default=None,
              help="none | once | new_episodes (add to the cassette) | all (replace it at the end) | rewrite "
                   "(delete it first). Default: record a new cassette; refuse an existing one.")
@click.option("--scope", type=click.Choice(["attachments", "all"]), default="attachments", show_default=True,
              help="attachments: record attachment-creating calls, pass the rest through; all: record all.")
@click.option("--blob-threshold", type=click.IntRange(min=0), default=DEFAULT_BLOB_THRESHOLD, show_default=True,
              help="Bodies larger than this many bytes go to content-addressed files beside the cassette "
                   "(such cassettes are graphtape's own, not loadable by VCR.py); 0 keeps every body inline.")
@click.option("--upstream-ca", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="PEM file of the CA that signed a private upstream's certificate (e.g. graphtape simulate's "
                   "over TLS), trusted when graphtape connects to it.")
@click.option("--fsync/--no-fsync", default=True, show_default=True,
              help="fsync each interaction before its answer is released (--no-fsync: faster, but a crash of the "
                   "machine, not just of graphtape, may lose the last interactions).")
@tape_options
@alert_options
def record(cassette: Path, upstream: str, host: str, port: int, mode: str, confdir: str | None, verbose: bool,
           record_mode: str | None, scope: str, blob_threshold: int, upstream_ca: Path | None, fsync: bool,
           **kw: Any) -> None:
    """Proxy to the upstream, validating and recording attachment calls into CASSETTE."""
    record_mode = _record_mode(cassette, kw["cassette_dir"], record_mode)
    settings = tape_settings(cassette, record_mode, scope, kw) | alert_settings(kw)
    if upstream_ca is not None:
        settings["ssl_verify_upstream_trusted_ca"] = str(upstream_ca.resolve())
    settings["graphtape_blob_threshold"] = blob_threshold
    settings["graphtape_fsync"] = fsync
    target = "forward proxy" if mode == "forward" else f"upstream {upstream}"
    run_tape("recorder", mode_spec(mode, upstream), host, port, settings, confdir, verbose, kw["strict"],
             f"{target}, cassette {cassette}, record mode {record_mode}", kw["summary_format"])
