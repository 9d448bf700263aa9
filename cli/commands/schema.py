"""``graphtape schema``: what graphtape knows about Graph, from the data it validates with.

    graphtape schema [--version v1.0|beta] [--grep TEXT] [--format text|json]
    graphtape schema --type fileAttachment [--version v1.0|beta] [--format text|json]

The first lists the routes graphtape recognises (attachments collections, their
createUploadSession, the calls carrying attachments inline), the second a type with its
base types, flags and every property.
"""

from __future__ import annotations

import json
from typing import Any

import click

from graphtape.addons.graph.catalog import describe_route, describe_types, find_routes, rules, sources

__all__ = ["schema"]


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _table(rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]


def _routes_text(routes: list[dict[str, Any]], version: str | None, grep: str | None) -> str:
    if not routes:
        return f"no route matches {grep!r}" + (f" on {version}" if version else "")
    rows = [["VERSIONS", "OPERATION", "NAME", "TEMPLATE"]]
    for route in routes:
        note = "  (deprecated: " + route["deprecation"] + ")" if route["deprecated"] else ""
        rows.append([",".join(route["versions"]), route["operation"], route["name"], route["template"] + note])
    commits = {source["commit"][:7] for source in sources().values()}
    counts = ", ".join(
        f"{v}: {sum(v in r['versions'] for r in routes)}" for v in (("v1.0", "beta") if version is None else (version,))
    )
    summary = f"{len(routes)} routes ({counts}), from msgraph-metadata {', '.join(sorted(commits))}"
    return "\n".join([*_table(rows), summary])


def _type_text(described: dict[str, Any]) -> str:
    head = f"{described['name']} ({described['api_version']}, {described['kind']})"
    if described["kind"] == "enum":
        return "\n".join([head, "  members: " + " | ".join(described["members"])])
    chain = " -> ".join(name.rsplit(".", 1)[-1] for name in described["base_chain"]) or "(none)"
    subtypes = ", ".join(name.rsplit(".", 1)[-1] for name in described["subtypes"]) or "(none)"
    lines = [
        head,
        f"  base chain: {chain}",
        f"  abstract: {_yes(described['abstract'])}   open: {_yes(described['open'])}   subtypes: {subtypes}",
    ]
    rows = [["PROPERTY", "TYPE", "COLLECTION", "NULLABLE", "READ-ONLY", "REQUIRED ON CREATE", "DECLARED BY"]]
    for prop in described["properties"]:
        kind = prop["type"] + (" (navigation)" if prop["navigation"] else "")
        rows.append([prop["name"], kind, _yes(prop["collection"]), _yes(prop["nullable"]), _yes(prop["read_only"]),
                     _yes(prop["required_on_create"]), prop["declared_by"].rsplit(".", 1)[-1]])
    lines.extend("  " + line for line in _table(rows))
    for rule in described["rules"]:
        lines.append(f"  {rule['kind']} on {rule['type']}: {', '.join(rule['properties'])} ({rule['source']})")
    return "\n".join(lines)


@click.command()
@click.option("--version", "api_version", type=click.Choice(["v1.0", "beta"]), default=None,
              help="Only this API version (default: both).")
@click.option("--grep", default=None, metavar="TEXT", help="Only routes whose name or template holds TEXT.")
@click.option("--type", "type_name", default=None, metavar="NAME",
              help="Show a type and its properties instead (fileAttachment, #microsoft.graph.message...).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def schema(api_version: str | None, grep: str | None, type_name: str | None, fmt: str) -> None:
    """Show the Graph routes and types graphtape validates against (from Microsoft's metadata)."""
    if type_name is not None:
        described = describe_types(type_name, api_version)
        if fmt == "json":
            click.echo(json.dumps({"types": described}, indent=2))
        else:
            click.echo("\n\n".join(_type_text(d) for d in described))
        return
    routes = [describe_route(r) for r in find_routes(api_version, grep)]
    if fmt == "json":
        click.echo(json.dumps({"sources": sources(), "routes": routes, "rules": rules()}, indent=2))
    else:
        click.echo(_routes_text(routes, api_version, grep))
