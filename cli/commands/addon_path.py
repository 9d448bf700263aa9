"""``graphtape addon-path``: the script to load graphtape's addons into a plain mitmproxy."""

from __future__ import annotations

from pathlib import Path

import click

__all__ = ["addon_path"]


@click.command("addon-path")
def addon_path() -> None:
    """Print the path of the script for `mitmdump -s` (graphtape's addons in a plain mitmproxy)."""
    import graphtape.addons

    click.echo(Path(graphtape.addons.__file__).with_name("mitmdump_addon.py"))
