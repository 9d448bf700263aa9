"""The ``graphtape`` command group: every subcommand, and one error path for all of them."""

from __future__ import annotations

from typing import Any

import click

from graphtape.cassettes.config_file import load_project_config
from graphtape.cassettes.errors import GraphtapeError
from graphtape.cli.commands.addon_path import addon_path
from graphtape.cli.commands.demo import demo
from graphtape.cli.commands.drift import drift
from graphtape.cli.commands.import_export import export, import_capture
from graphtape.cli.commands.project_config import CONFIGURED_COMMANDS, command_defaults
from graphtape.cli.commands.record import record
from graphtape.cli.commands.replay import replay
from graphtape.cli.commands.schema import schema
from graphtape.cli.commands.simulate import simulate
from graphtape.cli.commands.validate import validate
from graphtape.cli.commands.verify import verify
from graphtape.cli.commands.view import view
from graphtape.cli.exit_codes import exit_code_for, is_user_facing

__all__ = ["main"]


def _message(exc: BaseException) -> str:
    """One line for an error: graphtape's own say what and where; the OS's name the file."""
    if isinstance(exc, OSError) and not isinstance(exc, GraphtapeError) and exc.strerror:
        return f"{exc.filename}: {exc.strerror}" if exc.filename is not None else exc.strerror
    return " ".join(str(exc).split()) or type(exc).__name__


class GraphtapeGroup(click.Group):
    """A click group that turns graphtape's errors into one line on stderr and an exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except Exception as exc:
            if not is_user_facing(exc):
                raise
            name = ctx.invoked_subcommand or ctx.info_name or "graphtape"
            click.echo(f"graphtape {name}: {_message(exc)}", err=True)
            ctx.exit(exit_code_for(exc))


@click.group(cls=GraphtapeGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="graphtape")
@click.pass_context
def main(ctx: click.Context) -> None:
    """graphtape: record, validate and replay Microsoft Graph attachment traffic.

    record and replay take their defaults from [tool.graphtape] in pyproject.toml or from
    graphtape.yaml (the nearest, from the working directory up; GRAPHTAPE_CONFIG names
    another file); their command-line options override it.
    """
    if ctx.invoked_subcommand in CONFIGURED_COMMANDS:
        config = load_project_config()
        ctx.default_map = command_defaults(config)
        ctx.obj = config


for _command in (simulate, record, replay, validate, drift, verify, schema, demo, addon_path, import_capture, export,
                 view):
    main.add_command(_command)
