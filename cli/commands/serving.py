"""What ``simulate``, ``record`` and ``replay`` share: their options and how a tape server runs."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from graphtape.cassettes.config_file import DEFAULT_GRAPH_URL, ProjectConfig, graph_origin
from graphtape.cassettes.errors import ConfigError
from graphtape.cassettes.matching import Exhausted
from graphtape.cli.commands.project_config import passthrough_options
from graphtape.cli.exit_codes import server_exit_code
from graphtape.cli.output.summary import session_summary
from graphtape.cli.runtime.server import ServerSpec, run_server

__all__ = ["DEFAULT_UPSTREAM", "mode_spec", "run_tape", "server_options", "tape_options", "tape_settings"]

DEFAULT_UPSTREAM = DEFAULT_GRAPH_URL

F = TypeVar("F", bound=Callable[..., Any])


def mode_spec(mode: str, upstream: str) -> str:
    """mitmproxy's mode for ``--mode``: forward is "regular", reverse targets the upstream."""
    if mode == "forward":
        return "regular"
    if not upstream.startswith(("http://", "https://")):
        raise click.BadParameter(f"{upstream!r} is not an http(s) URL", param_hint="--upstream")
    return f"reverse:{upstream.rstrip('/')}"


def server_options(f: F) -> F:
    """--host, --port, --mode, --verbose, --confdir."""
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


def tape_options(f: F) -> F:
    """The cassette options ``record`` and ``replay`` share (matching, redaction, strictness, output)."""
    f = click.option("--format", "summary_format", type=click.Choice(["text", "json"]), default="text",
                     show_default=True, help="How the summary is printed when the server stops.")(f)
    f = click.option("--graph-url", default=DEFAULT_GRAPH_URL, show_default=True, metavar="URL",
                     help="In reverse mode, the origin the cassette records requests under (the URI the client "
                          "meant), whatever --upstream is.")(f)
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


def tape_settings(cassette: Path, record_mode: str, scope: str, kw: dict[str, Any]) -> dict[str, Any]:
    """The ``graphtape_*`` mitmproxy options for the tape options above."""
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
        "graphtape_graph_url": _graph_url(kw["graph_url"]),
    }


def _graph_url(value: str) -> str:
    try:
        return graph_origin(value, "--graph-url")
    except ConfigError as exc:
        raise click.BadParameter(str(exc).removeprefix("--graph-url: "), param_hint="--graph-url") from None


def run_tape(label: str, mode: str, host: str, port: int, settings: dict[str, Any], confdir: str | None,
             verbose: bool, strict: bool, detail: str, summary_format: str = "text") -> None:
    """Serve graphtape's addon stack until stopped; print the summary and exit with its status."""
    from graphtape.addons.proxy.stack import build_stack

    ctx = click.get_current_context()
    if isinstance(ctx.find_root().obj, ProjectConfig):  # keys this command has no option of its own for
        settings = passthrough_options(ctx.find_root().obj, ctx.command.name or "") | settings
    stack = build_stack()
    spec = ServerSpec(label=label, mode=mode, host=host, port=port, options=settings, confdir=confdir,
                      verbosity="info" if verbose else "warn")
    run_server(spec, stack.host_addons(), lambda: detail)
    tape = stack.tape
    code = server_exit_code(tape.closed_sessions, tape.close_errors, strict)
    click.echo(session_summary(label, tape.closed_sessions, tape.close_errors, summary_format,
                               alerts_text=stack.alerts.summary(), alerts=stack.alerts.summary_data(), exit_code=code))
    sys.exit(code)
