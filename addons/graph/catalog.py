"""What graphtape knows about Graph, as plain data: its routes, a type's properties, the rules.

Read by ``graphtape schema`` (text and JSON); everything comes from the generated metadata,
the route table and the hand-written rules, so what it shows is what validation uses.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from graphtape.addons.graph.limits import LIMITS, PROPERTY_RULES, STATUS_RULES
from graphtape.addons.graph.metadata import API_VERSIONS, load_schema
from graphtape.addons.graph.models import type_info
from graphtape.addons.graph.routes import Route, all_routes
from graphtape.cassettes.errors import GraphtapeError

__all__ = ["UnknownTypeError", "describe_route", "describe_type", "describe_types", "find_routes", "rules", "sources"]


class UnknownTypeError(GraphtapeError, LookupError):
    """A type name no API version's metadata holds."""


def find_routes(api_version: str | None = None, grep: str | None = None) -> list[Route]:
    """Routes of one version (or all), whose name or template holds ``grep`` (case-insensitive)."""
    wanted = grep.lower() if grep else None
    found = [
        r for r in all_routes()
        if (api_version is None or api_version in r.versions)
        and (wanted is None or wanted in r.name.lower() or wanted in r.template.lower())
    ]
    return sorted(found, key=lambda r: (r.name, r.template))


def describe_route(route: Route) -> dict[str, Any]:
    return {
        "name": route.name,
        "operation": route.operation.value,
        "versions": [v for v in API_VERSIONS if v in route.versions],
        "template": route.template,
        "container": route.container,
        "base_type": route.base_type,
        "placeholders": list(route.placeholders),
        "deprecated": route.deprecated,
        "deprecation": route.deprecation or None,
        "action": route.action,
        "body_type": route.body_type,
        "attachment_paths": [location.path for location in route.attachment_paths],
    }


def describe_type(name: str, api_version: str) -> dict[str, Any] | None:
    """A type of one version with every property (inherited ones included), or None when the
    version has no such type. Accepts ``fileAttachment``, ``#microsoft.graph.fileAttachment``..."""
    schema = load_schema(api_version)
    info = schema.resolve(name)
    if info is None:
        return None
    described: dict[str, Any] = {
        "name": info.name,
        "api_version": api_version,
        "kind": info.kind,
    }
    if info.kind == "enum":
        described["members"] = sorted(info.members, key=info.members.__getitem__)
        described["flags"] = info.flags
        return described
    graph_type = type_info(info.name, api_version)
    assert graph_type is not None  # a structured type of this version
    read_only, required = graph_type.read_only, graph_type.required_on_create
    chain = [t.name for t in schema.base_chain(info.name)[1:]]
    described.update(
        base_chain=chain,
        abstract=info.abstract,
        open=graph_type.open,
        subtypes=[t.name for t in schema.concrete_subtypes(info.name) if t.name != info.name],
        properties=[
            {
                "name": prop.name,
                "type": prop.type,
                "collection": prop.collection,
                "nullable": prop.nullable,
                "navigation": prop.navigation,
                "read_only": prop.name in read_only,
                "required_on_create": prop.name in required,
                "declared_by": prop.declared_by,
            }
            for prop in schema.all_properties(info.name).values()
        ],
        rules=[
            {"kind": rule.kind, "type": rule.type, "properties": sorted(rule.properties), "source": rule.source}
            for rule in PROPERTY_RULES
            if api_version in rule.versions and rule.type in {info.short_name, *(c.rsplit(".", 1)[-1] for c in chain)}
        ],
    )
    return described


def describe_types(name: str, api_version: str | None = None) -> list[dict[str, Any]]:
    """``describe_type`` for each version asked for that has the type; raises UnknownTypeError if none has."""
    versions = [api_version] if api_version else list(API_VERSIONS)
    found = [d for d in (describe_type(name, v) for v in versions) if d is not None]
    if not found:
        where = api_version or " or ".join(API_VERSIONS)
        near = sorted({t.short_name for v in versions for t in load_schema(v).types.values()
                       if name.lower().removeprefix("#microsoft.graph.") in t.short_name.lower()})[:5]
        hint = f" (did you mean {', '.join(near)}?)" if near else ""
        raise UnknownTypeError(f"no type {name!r} in the {where} metadata{hint}")
    return found


def sources() -> dict[str, dict[str, Any]]:
    """Where each version's data comes from (repository, commit, file)."""
    return {v: load_schema(v).source._asdict() for v in API_VERSIONS}


def rules() -> dict[str, list[dict[str, Any]]]:
    """The hand-written rules (limits.py), with their sources."""
    return {
        "limits": [dataclasses.asdict(limit) for limit in LIMITS],
        "properties": [
            {**dataclasses.asdict(rule), "properties": sorted(rule.properties),
             "versions": [v for v in API_VERSIONS if v in rule.versions]}
            for rule in PROPERTY_RULES
        ],
        "statuses": [{**dataclasses.asdict(rule), "statuses": list(rule.statuses)} for rule in STATUS_RULES],
    }
