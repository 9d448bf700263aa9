"""Shared by the Graph metadata tests: Microsoft's sources as the tests read them.

- ``metadata_folder``: where Microsoft's CSDL files are (``$GRAPHTAPE_GRAPH_METADATA``,
  else the shared folder beside the repository); only the regeneration test reads it.
- ``sdk_lines``/``SDK_MODELS``: the committed msgraph-sdk extraction in ``data/``.
- ``FACTS``: Graph type facts, each with its source; rows sourced from the CSDL can be
  checked against the CSDL text with plain regular expressions (``csdl_problems``),
  independently of graphtape's XML reader, and so can every step of every generated URL.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graphtape.addons.graph.metadata import API_VERSIONS, GraphSchema, Operation, load_schema
from graphtape.addons.graph.metadata.generate import ENV_VAR
from graphtape.addons.graph.metadata.segments import CastSegment, KeySegment, LiteralSegment, RepeatSegment, Segment

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[3]
CSDL_FILES = {"v1.0": "v1.0.csdl.xml", "beta": "beta-usnat.csdl.xml"}
SDK = "msgraph-sdk 1.62.0 models (data/msgraph_sdk_discriminators.txt)"
CSDL = "CSDL"


def metadata_folder() -> Path:
    """Microsoft's CSDL files: $GRAPHTAPE_GRAPH_METADATA, else the shared folder beside the repository."""
    configured = os.environ.get(ENV_VAR)
    return Path(configured) if configured else Path(REPO.parent, "shared", "graph-metadata")


def sdk_lines(name: str) -> list[list[str]]:
    """The tab-separated rows of a committed msgraph-sdk extraction, without its header."""
    text = (HERE / "data" / name).read_text(encoding="utf-8")
    return [line.split("\t") for line in text.splitlines() if line and not line.startswith("#")]


def _sdk_discriminators() -> dict[str, set[str]]:
    table: dict[str, set[str]] = {}
    for model, *values in sdk_lines("msgraph_sdk_discriminators.txt"):
        table[model] = {v.removeprefix("#microsoft.graph.") for v in " ".join(values).split()}
    return table


# --- reading the CSDL text directly (independent of graphtape's XML reader) --------


def _element(text: str, name: str) -> tuple[str, str]:
    """(opening tag, body) of the first entity/complex/enum type ``name`` in the main schema."""
    match = re.search(
        rf'<(EntityType|ComplexType|EnumType)\b[^>]*\bName="{name}"[^>]*?(/>|>(.*?)</\1>)', text, flags=re.DOTALL
    )
    assert match is not None, f"{name} not in the CSDL text"
    opening = match.group(0).split(">", 1)[0]
    return opening, match.group(3) or ""


def _csdl_property(text: str, type_name: str, prop: str) -> dict[str, Any]:
    _, body = _element(text, type_name)
    tag = re.search(rf'<Property Name="{prop}" Type="([^"]+)"([^>]*)/>', body)
    assert tag is not None, f"{type_name}.{prop} not in the CSDL text"
    raw_type = tag.group(1)
    return {
        "type": raw_type.removeprefix("Collection(").removesuffix(")").replace("graph.", "microsoft.graph."),
        "collection": raw_type.startswith("Collection("),
        "nullable": 'Nullable="false"' not in tag.group(2),
    }


def _csdl_subtypes(text: str, base: str) -> set[str]:
    """Concrete types derived from ``base`` (transitively), from EntityType opening tags."""
    parents: dict[str, str] = {}
    abstract: set[str] = set()
    for tag in re.findall(r"<EntityType\b[^>]*>", text):
        name = re.search(r'\bName="(\w+)"', tag)
        parent = re.search(r'\bBaseType="graph\.(\w+)"', tag)
        if name and parent:
            parents[name.group(1)] = parent.group(1)
        if name and 'Abstract="true"' in tag:
            abstract.add(name.group(1))
    found: set[str] = set()
    for child in parents:
        current: str | None = child
        while current is not None and current != base:
            current = parents.get(current)
        if current == base:
            found.add(child)
    return found - abstract


# --- the facts ---------------------------------------------------------------------


@dataclass(frozen=True)
class Fact:
    """One fact: ``actual`` reads it from the schema, ``in_csdl`` from the CSDL text (None:
    the row's source is not the CSDL)."""

    row: str
    api_version: str
    expected: Any
    source: str
    actual: Callable[[GraphSchema], Any]
    in_csdl: Callable[[str], Any] | None


def prop_fact(version: str, type_name: str, prop: str, expected: dict[str, Any]) -> Fact:
    def actual(schema: GraphSchema) -> dict[str, Any]:
        info = schema.all_properties(type_name)[prop]
        return {k: getattr(info, k) for k in expected}

    def in_csdl(text: str) -> dict[str, Any]:
        found = _csdl_property(text, type_name, prop)
        return {k: found[k] for k in expected}

    return Fact(f"{version} {type_name}.{prop} {expected}", version, expected, CSDL, actual, in_csdl)


def open_fact(version: str, type_name: str, expected: bool) -> Fact:
    return Fact(
        f"{version} {type_name} open={expected}",
        version,
        expected,
        CSDL,
        lambda schema: schema.is_open(type_name),
        lambda text: 'OpenType="true"' in _element(text, type_name)[0],
    )


def own_properties_fact(version: str, type_name: str, expected: set[str]) -> Fact:
    return Fact(
        f"{version} {type_name} declares {sorted(expected)}",
        version,
        expected,
        CSDL,
        lambda schema: {p.name for p in schema.require(type_name).properties.values() if not p.navigation},
        lambda text: set(re.findall(r'<Property Name="(\w+)"', _element(text, type_name)[1])),
    )


def members_fact(version: str, enum: str, expected: list[str]) -> Fact:
    return Fact(
        f"{version} enum {enum}",
        version,
        expected,
        CSDL,
        lambda schema: sorted(schema.require(enum).members, key=schema.require(enum).members.__getitem__),
        lambda text: re.findall(r'<Member Name="(\w+)"', _element(text, enum)[1]),
    )


def concrete_fact(version: str, base: str, expected: set[str], source: str) -> Fact:
    return Fact(
        f"{version} concrete {base} ({source.split()[0]})",
        version,
        expected,
        source,
        lambda schema: {t.short_name for t in schema.concrete_subtypes(base)},
        (lambda text: _csdl_subtypes(text, base)) if source == CSDL else None,
    )


def upload_parameter_fact(version: str, element: str, expected: str) -> Fact:
    def in_csdl(text: str) -> str:
        action = re.search(
            r'<Action Name="createUploadSession" IsBound="true">\s*<Parameter Name="bindingParameter" '
            rf'Type="Collection\(graph\.{element}\)" />\s*<Parameter Name="(\w+)"',
            text,
        )
        assert action is not None
        return action.group(1)

    return Fact(
        f"{version} createUploadSession on {element} takes {expected}",
        version,
        expected,
        CSDL,
        lambda schema: next(iter(schema.upload_session_action(element).parameters)),  # type: ignore[union-attr]
        in_csdl,
    )


SDK_MODELS = _sdk_discriminators()
NULLABLE = {"nullable": True}
UPLOAD_SESSION = ("expirationDateTime", "nextExpectedRanges", "uploadUrl")
OUTLOOK_ITEMS_V1 = {
    "calendarSharingMessage",
    "contact",
    "event",
    "eventMessage",
    "eventMessageRequest",
    "eventMessageResponse",
    "mailboxItem",
    "message",
    "post",
}
REFERENCE_BETA = {"isFolder", "permission", "previewUrl", "providerType", "sourceUrl", "thumbnailUrl"}

FACTS: list[Fact] = [
    *(
        fact
        for version in API_VERSIONS
        for fact in (
            prop_fact(version, "attachmentItem", "size", {"type": "Edm.Int64", "nullable": True}),
            prop_fact(version, "attachmentInfo", "size", {"type": "Edm.Int64"}),
            prop_fact(version, "attachment", "size", {"type": "Edm.Int32", "nullable": False}),
            prop_fact(version, "attachment", "isInline", {"type": "Edm.Boolean", "nullable": False}),
            prop_fact(version, "attachment", "lastModifiedDateTime", {"type": "Edm.DateTimeOffset", "nullable": True}),
            prop_fact(version, "attachment", "contentType", NULLABLE),
            prop_fact(version, "attachmentBase", "size", {"type": "Edm.Int32", "nullable": False}),
            prop_fact(version, "taskFileAttachment", "contentBytes", {"type": "Edm.Binary", "nullable": False}),
            prop_fact(version, "fileAttachment", "contentBytes", {"type": "Edm.Binary", "nullable": True}),
            *(prop_fact(version, "uploadSession", p, NULLABLE) for p in UPLOAD_SESSION),
            prop_fact(version, "uploadSession", "nextExpectedRanges", {"type": "Edm.String", "collection": True}),
            *(open_fact(version, t, True) for t in ("message", "event", "contact", "post")),
            *(open_fact(version, t, False) for t in ("attachment", "fileAttachment", "outlookItem")),
            members_fact(version, "attachmentType", ["file", "item", "reference"]),
            upload_parameter_fact(version, "attachment", "AttachmentItem"),
            upload_parameter_fact(version, "attachmentBase", "attachmentInfo"),
        )
    ),
    own_properties_fact("v1.0", "referenceAttachment", set()),
    own_properties_fact("beta", "referenceAttachment", REFERENCE_BETA),
    # The USNat beta file's attachmentItem has no contentId (v1.0's has).
    own_properties_fact(
        "v1.0", "attachmentItem", {"attachmentType", "contentId", "contentType", "isInline", "name", "size"}
    ),
    own_properties_fact("beta", "attachmentItem", {"attachmentType", "contentType", "isInline", "name", "size"}),
    members_fact("beta", "referenceAttachmentProvider", ["other", "oneDriveBusiness", "oneDriveConsumer", "dropbox"]),
    members_fact(
        "beta",
        "referenceAttachmentPermission",
        ["other", "view", "edit", "anonymousView", "anonymousEdit", "organizationView", "organizationEdit"],
    ),
    # What an itemAttachment's item may be: outlookItem's concrete subtypes.
    concrete_fact("v1.0", "outlookItem", OUTLOOK_ITEMS_V1, CSDL),
    concrete_fact("v1.0", "outlookItem", SDK_MODELS["outlook_item"], SDK),
    concrete_fact("beta", "outlookItem", (OUTLOOK_ITEMS_V1 - {"mailboxItem"}) | {"outlookTask"}, CSDL),
    concrete_fact("v1.0", "attachment", SDK_MODELS["attachment"], SDK),
    concrete_fact("v1.0", "attachmentBase", SDK_MODELS["attachment_base"], SDK),
    concrete_fact("v1.0", "message", SDK_MODELS["message"] | {"message"}, SDK),
    concrete_fact("beta", "attachment", {"fileAttachment", "itemAttachment", "referenceAttachment"}, CSDL),
]


# --- every step of a generated URL, checked against the CSDL text -------------------


# type -> {containment navigation -> (target type, collection)}, and type -> base type
Index = tuple[dict[str, dict[str, tuple[str, bool]]], dict[str, str]]


def _navigation_index(text: str) -> Index:
    """From the CSDL text: type -> {containment navigation -> (target, collection)}, and type -> base."""
    main_schema = text.split('<Schema Namespace="microsoft.graph"', 1)[1].split("</Schema>", 1)[0]
    navs: dict[str, dict[str, tuple[str, bool]]] = {}
    bases: dict[str, str] = {}
    for match in re.finditer(r"<EntityType\b([^>]*?)(/>|>(.*?)</EntityType>)", main_schema, flags=re.DOTALL):
        type_name = re.search(r'\bName="(\w+)"', match.group(1))
        assert type_name is not None
        base = re.search(r'\bBaseType="graph\.(\w+)"', match.group(1))
        if base:
            bases[type_name.group(1)] = base.group(1)
        navs[type_name.group(1)] = {
            nav.group(1): (nav.group(3), nav.group(2) is not None)
            for nav in re.finditer(
                r'<NavigationProperty Name="(\w+)" Type="(Collection\()?graph\.(\w+)\)?" ContainsTarget="true"',
                match.group(3) or "",
            )
        }
    return navs, bases


def _containment(index: Index, type_name: str, nav: str) -> tuple[str, bool] | None:
    navs, bases = index
    current: str | None = type_name
    while current is not None:
        if nav in navs.get(current, {}):
            return navs[current][nav]
        current = bases.get(current)
    return None


def _check_steps(index: Index, segments: Sequence[Segment], at: str | None, where: str) -> str | None:
    """Walk ``segments`` from an entity of type ``at``; fail on a step the CSDL lacks."""
    pending_key: str | None = None
    for segment in segments:
        if isinstance(segment, KeySegment):
            assert pending_key is not None, f"{where}: a key where no collection was walked"
            assert segment.entity_type == f"microsoft.graph.{pending_key}", where
            at, pending_key = pending_key, None
        elif isinstance(segment, CastSegment):
            assert at is not None
            cast = segment.type.removeprefix("microsoft.graph.")
            assert _derives(index, cast, at), f"{where}: {cast} does not derive from {at}"
            at = cast
        elif isinstance(segment, LiteralSegment):
            if at is None and pending_key is None:  # the root: users / me / groups
                at = {"users": None, "me": "user", "groups": None}[segment.name]
                pending_key = {"users": "user", "me": None, "groups": "group"}[segment.name]
                continue
            assert pending_key is None and at is not None, f"{where}: {segment.name} after a collection without a key"
            step = _containment(index, at, segment.name)
            assert step is not None, f"{where}: {at} has no containment navigation {segment.name} in the CSDL"
            target, collection = step
            if collection:
                pending_key, at = target, None
            else:
                at = target
        elif isinstance(segment, RepeatSegment):
            for alternative in segment.alternatives:
                assert _check_steps(index, alternative, at, where) == at, f"{where}: a repeat must come back"
        else:
            assert pending_key is not None or at is not None
    return at if pending_key is None else pending_key


def _derives(index: Index, name: str, ancestor: str) -> bool:
    _, bases = index
    current: str | None = name
    while current is not None and current != ancestor:
        current = bases.get(current)
    return current == ancestor


def csdl_problems(folder: Path) -> list[str]:
    """Where the facts table or the generated URLs disagree with the CSDL text in ``folder``."""
    problems: list[str] = []
    for api_version in API_VERSIONS:
        text = (folder / CSDL_FILES[api_version]).read_text(encoding="utf-8-sig")
        for fact in FACTS:
            if fact.api_version == api_version and fact.in_csdl is not None:
                try:
                    found = fact.in_csdl(text)
                except AssertionError as exc:
                    problems.append(f"{fact.row}: {exc}")
                    continue
                if found != fact.expected:
                    problems.append(f"{fact.row}: the CSDL says {found!r}")
        index = _navigation_index(text)
        schema = load_schema(api_version)
        for route in schema.routes:
            steps = route.segments[:-1] if route.operation is Operation.CREATE_UPLOAD_SESSION else route.segments
            try:
                reached = _check_steps(index, steps, None, f"{api_version} {route.template}")
                assert f"microsoft.graph.{reached}" == route.element_type, f"{route.template} ends at {reached}"
            except AssertionError as exc:
                problems.append(str(exc))
        for carrier in schema.inline_carriers:
            steps = carrier.segments[:-1] if carrier.kind == "action" else carrier.segments
            try:
                _check_steps(index, steps, None, f"{api_version} {carrier.template}")
            except AssertionError as exc:
                problems.append(str(exc))
    return problems
