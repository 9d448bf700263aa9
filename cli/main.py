"""The ``graphtape`` command: simulate, record, replay, validate (DESIGN.md's contract)."""

from __future__ import annotations

import sys
from importlib import resources
from pathlib import Path
from typing import Any

import click

from graphtape.cassettes.blobs import DEFAULT_BLOB_THRESHOLD
from graphtape.cassettes.matching import Exhausted
from graphtape.cassettes.record_modes import RecordMode
from graphtape.cli.alert_options import alert_options, alert_settings
from graphtape.cli.server import ServerSpec, StartupError, run_server
from graphtape.cli.summary import exit_code, session_summary

__all__ = ["main", "example_cassette"]

DEFAULT_UPSTREAM = "https://graph.microsoft.com"


def example_cassette() -> Path:
    """The example cassette shipped with graphtape (recorded from the simulator)."""
    return Path(str(resources.files("graphtape.cassettes") / "examples" / "attachments.yaml"))


def _mode_spec(mode: str, upstream: str) -> str:
    if mode == "forward":
        return "regular"
    if not upstream.startswith(("http://", "https://")):
        raise click.BadParameter(f"{upstream!r} is not an http(s) URL", param_hint="--upstream")
    return f"reverse:{upstream.rstrip('/')}"


def _server_options(f: Any) -> Any:
    f = click.option("--confdir", type=click.Path(file_okay=False), default=None,
                     help="mitmproxy's configuration folder (its CA for forward mode). Default ~/.mitmproxy.")(f)
    f = click.option("--verbose", "-v", is_flag=True, help="Log each flow and graphtape's info messages.")(f)
    f = click.option("--mode", type=click.Choice(["reverse", "forward"]), default="reverse", show_default=True,
                     help="reverse: clients use http://HOST:PORT as Graph's base URL; forward: clients set "
                          "HTTPS_PROXY and trust mitmproxy's CA.")(f)
    f = click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True,
                     help="Port to listen on; 0 picks a free one.")(f)
    f = click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")(f)
    return f


def _tape_options(f: Any) -> Any:
    f = click.option("--cassette-dir", type=click.Path(file_okay=False), default=None,
                     help="Folder the cassette must lie in; --cassette is taken relative to it and cannot "
                          "escape it (.., absolute paths, symlinks).")(f)
    f = click.option("--redact-field", "redact_fields", multiple=True,
                     help="Extra JSON/form body field to redact (repeatable).")(f)
    f = click.option("--redact-query", multiple=True, help="Extra query parameter to redact (repeatable).")(f)
    f = click.option("--redact-header", multiple=True, help="Extra header to redact (repeatable).")(f)
    f = click.option("--match-header", multiple=True, help="Header that takes part in matching (repeatable).")(f)
    f = click.option("--ignore-body", multiple=True,
                     help="JSON path ($.a.b) left out of body matching (repeatable).")(f)
    f = click.option("--exhausted", type=click.Choice([e.value for e in Exhausted]), default="repeat",
                     show_default=True,
                     help="After the last recorded answer to a repeated request: repeat it, or answer a miss.")(f)
    f = click.option("--strict", is_flag=True, help="Exit 1 if a miss or an error-level finding occurred.")(f)
    f = click.option("--drop-unplayed", is_flag=True,
                     help="Remove the cassette's interactions this run never played (when it keeps them).")(f)
    return f


def _tape_settings(cassette: Path, record_mode: str, scope: str, kw: dict[str, Any]) -> dict[str, Any]:
    return {
        "graphtape_cassette": str(cassette),
        "graphtape_record_mode": record_mode,
        "graphtape_scope": scope,
        "graphtape_strict": kw["strict"],
        "graphtape_exhausted": kw["exhausted"],
        "graphtape_match_headers": list(kw["match_header"]),
        "graphtape_ignore_body": list(kw["ignore_body"]),
        "graphtape_redact_headers": list(kw["redact_header"]),
        "graphtape_redact_query": list(kw["redact_query"]),
        "graphtape_redact_fields": list(kw["redact_fields"]),
        "graphtape_cassette_dir": kw["cassette_dir"] or "",
        "graphtape_drop_unplayed": kw["drop_unplayed"],
    }


def _run_tape(label: str, mode_spec: str, host: str, port: int, settings: dict[str, Any], confdir: str | None,
              verbose: bool, strict: bool, detail: str) -> None:
    from graphtape.addons.stack import build_stack

    stack = build_stack()
    spec = ServerSpec(label=label, mode=mode_spec, host=host, port=port, options=settings, confdir=confdir,
                      verbosity="info" if verbose else "warn")
    try:
        run_server(spec, stack.addons, lambda: detail)
    except StartupError as exc:
        click.echo(f"graphtape {label}: cannot start: {exc}", err=True)
        sys.exit(2)
    tape = stack.tape
    click.echo(session_summary(label, tape.closed_sessions, tape.close_errors))
    if stack.alerts.summary():
        click.echo(stack.alerts.summary())
    sys.exit(exit_code(tape.closed_sessions, tape.close_errors, strict))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="graphtape")
def main() -> None:
    """graphtape: record, validate and replay Microsoft Graph attachment traffic."""


@main.command()
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
    from graphtape.addons.simulation_drift import DriftingSimulation, UnknownDriftError
    from graphtape.addons.simulator import Simulator

    try:
        drifting = DriftingSimulation(drifts) if drifts else None
    except UnknownDriftError as exc:
        raise click.BadParameter(str(exc), param_hint="--drift") from None
    simulator = Simulator(drifting)
    # The reverse target is never contacted: the simulator answers every request and
    # connections to the upstream are lazy.
    spec = ServerSpec(label="simulator", mode="reverse:http://127.0.0.1:9", host=host, port=port,
                      options={"graphtape_simulate": True}, verbosity="info" if verbose else "warn")
    try:
        run_server(spec, [simulator], lambda: "Graph attachment simulator"
                   + (f", drift: {', '.join(drifting.drifts)}" if drifting else ""))
    except StartupError as exc:
        click.echo(f"graphtape simulator: cannot start: {exc}", err=True)
        sys.exit(2)
    click.echo(f"graphtape simulator stopped: answered {simulator.answered} requests.")


@main.command()
@click.option("--cassette", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Cassette file to write.")
@click.option("--upstream", default=DEFAULT_UPSTREAM, show_default=True,
              help="Service to forward to in reverse mode (graphtape simulate's URL for offline work).")
@_server_options
@click.option("--record-mode", type=click.Choice([m.value for m in RecordMode]), default=RecordMode.ALL.value,
              show_default=True, help="none | once | new_episodes | all (replace at the end) | rewrite "
                                      "(delete first).")
@click.option("--scope", type=click.Choice(["attachments", "all"]), default="attachments", show_default=True,
              help="attachments: record attachment-creating calls, pass the rest through; all: record all.")
@click.option("--blob-threshold", type=click.IntRange(min=0), default=DEFAULT_BLOB_THRESHOLD, show_default=True,
              help="Bodies larger than this many bytes go to content-addressed files beside the cassette "
                   "(such cassettes are graphtape's own, not loadable by VCR.py); 0 keeps every body inline.")
@click.option("--fsync/--no-fsync", default=True, show_default=True,
              help="fsync each interaction before its answer is released (--no-fsync: faster, but a crash of the "
                   "machine, not just of graphtape, may lose the last interactions).")
@_tape_options
@alert_options
def record(cassette: Path, upstream: str, host: str, port: int, mode: str, confdir: str | None, verbose: bool,
           record_mode: str, scope: str, blob_threshold: int, fsync: bool, **kw: Any) -> None:
    """Proxy to the upstream, validating and recording attachment calls into CASSETTE."""
    settings = _tape_settings(cassette, record_mode, scope, kw) | alert_settings(kw)
    settings["graphtape_blob_threshold"] = blob_threshold
    settings["graphtape_fsync"] = fsync
    target = "forward proxy" if mode == "forward" else f"upstream {upstream}"
    _run_tape("recorder", _mode_spec(mode, upstream), host, port, settings, confdir, verbose, kw["strict"],
              f"{target}, cassette {cassette}, record mode {record_mode}")


@main.command()
@click.option("--cassette", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Cassette to replay. Default: the example cassette shipped with graphtape.")
@click.option("--upstream", default=DEFAULT_UPSTREAM, show_default=True,
              help="The service the cassette stands in for (never contacted).")
@_server_options
@_tape_options
def replay(cassette: Path | None, upstream: str, host: str, port: int, mode: str, confdir: str | None,
           verbose: bool, **kw: Any) -> None:
    """Answer from CASSETTE, offline: the upstream is never contacted."""
    cassette = cassette or example_cassette()
    settings = _tape_settings(cassette, RecordMode.NONE.value, "all", kw)
    _run_tape("replayer", _mode_spec(mode, upstream), host, port, settings, confdir, verbose, kw["strict"],
              f"offline, cassette {cassette}")


@main.command("addon-path")
def addon_path() -> None:
    """Print the path of the script for `mitmdump -s` (graphtape's addons in a plain mitmproxy)."""
    import graphtape.addons

    click.echo(Path(graphtape.addons.__file__).with_name("mitmdump_addon.py"))


def _register_more() -> None:
    from graphtape.cli import demo, drift_command, import_export, validate_command, verify_command

    main.add_command(validate_command.validate)
    main.add_command(drift_command.drift)
    main.add_command(verify_command.verify)
    main.add_command(demo.demo)
    main.add_command(import_export.import_capture)
    main.add_command(import_export.export)


_register_more()
