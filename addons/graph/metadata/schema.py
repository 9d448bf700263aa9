"""Typed, read-only access to graphtape's Graph data (generated from Microsoft's CSDL).

One :class:`GraphSchema` per API version, loaded once from the package's data files
(``data/v1.0.json``, ``data/beta.json``) by :func:`load_schema`::

    schema = load_schema("v1.0")
    schema.require("attachmentItem").properties["size"].type        # "Edm.Int64"
    [t.name for t in schema.concrete_subtypes("outlookItem")]     # what itemAttachment.item may be
    schema.all_properties("fileAttachment")                        # with attachment's and entity's
    schema.match_route("/users('a%40b.com')/messages('m')/attachments")

Names resolve in every form a body or a reader uses: qualified
(``microsoft.graph.message``), ``@odata.type`` style (``#microsoft.graph.message``),
alias-qualified (``graph.message``) or short (``message``).
"""

from __future__ import annotations

import enum
import functools
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from types import MappingProxyType
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from graphtape.addons.graph.metadata.errors import GraphMetadataError
from graphtape.addons.graph.metadata.segments import (
    ActionSegment,
    CastSegment,
    KeySegment,
    LiteralSegment,
    PathToken,
    RepeatSegment,
    Segment,
    match_segments,
    split_path,
)
from graphtape.cassettes.errors import GraphtapeError

__all__ = [
    "API_VERSIONS",
    "ActionInfo",
    "AttachmentLocation",
    "CarrierMatch",
    "Deprecation",
    "GraphSchema",
    "InlineCarrier",
    "Operation",
    "ParameterInfo",
    "PropertyInfo",
    "RouteMatch",
    "RoutePattern",
    "SourceInfo",
    "TypeInfo",
    "UnknownGraphTypeError",
    "load_schema",
    "split_api_version",
]

API_VERSIONS: tuple[str, ...] = ("v1.0", "beta")
FORMAT_VERSION = 1
NAMESPACE = "microsoft.graph"
_PACKAGE = "graphtape.addons.graph.metadata"
_ALIAS = "graph"
_EMPTY: Mapping[str, Any] = MappingProxyType({})


class UnknownGraphTypeError(GraphtapeError, KeyError):
    """A type name that the schema of an API version does not hold."""

    def __init__(self, name: str, api_version: str) -> None:
        self.name = name
        self.api_version = api_version
        super().__init__(f"{api_version} schema has no type {name!r}")

    def __str__(self) -> str:  # KeyError would quote the whole message
        return str(self.args[0])


class Operation(str, enum.Enum):
    CREATE = "create"
    CREATE_UPLOAD_SESSION = "createUploadSession"


# Frozen dataclasses for the schema's main objects; NamedTuples for the small records that
# are built in bulk or per match: defining and building them costs a fraction of a
# dataclass's, which keeps importing and loading the metadata near 20 ms.


@dataclass(frozen=True)
class PropertyInfo:
    """A structural or navigation property as declared by ``declared_by``."""

    name: str
    type: str  # qualified: "Edm.Int64", "microsoft.graph.recipient"
    collection: bool
    nullable: bool  # CSDL's default is true; for a collection it is about its items
    declared_by: str
    navigation: bool = False
    containment: bool = False
    computed: bool = False  # Core.Computed: set by the service
    immutable: bool = False  # Core.Immutable: set on create only


@dataclass(frozen=True)
class TypeInfo:
    name: str  # qualified
    kind: str  # "entity" | "complex" | "enum"
    base: str | None
    abstract: bool
    open: bool  # as declared; GraphSchema.is_open also looks at base types
    has_stream: bool
    key: tuple[str, ...]
    properties: Mapping[str, PropertyInfo]  # declared here, structural and navigation
    members: Mapping[str, int]  # enum members and values
    flags: bool

    @property
    def short_name(self) -> str:
        return self.name.rsplit(".", 1)[-1]

    @property
    def odata_type(self) -> str:
        """The ``@odata.type`` value naming this type: ``#microsoft.graph.fileAttachment``."""
        return f"#{self.name}"


class ParameterInfo(NamedTuple):
    name: str  # as the CSDL spells it: "AttachmentItem", "attachmentInfo", "Message"
    type: str
    collection: bool
    nullable: bool


@dataclass(frozen=True)
class ActionInfo:
    name: str  # qualified
    binding: str  # "microsoft.graph.message" or "Collection(microsoft.graph.attachment)"
    parameters: Mapping[str, ParameterInfo]
    returns: str | None

    @property
    def short_name(self) -> str:
        return self.name.rsplit(".", 1)[-1]


class Deprecation(NamedTuple):
    date: str | None
    removal_date: str | None
    description: str | None


class SourceInfo(NamedTuple):
    """Where a data file's facts come from."""

    repository: str | None
    commit: str
    commit_date: str | None
    file: str
    upstream_file: str | None
    sha256: str
    description: str | None


@dataclass(frozen=True)
class RoutePattern:
    """A URL that POSTs to an attachments collection or calls createUploadSession on one."""

    api_version: str
    operation: Operation
    template: str
    segments: tuple[Segment, ...]
    element_type: str  # microsoft.graph.attachment | microsoft.graph.attachmentBase
    parent_type: str  # the entity owning the collection: message, event, post, todoTask...
    deprecated: tuple[str, ...]  # deprecated navigation properties the URL walks

    @property
    def is_deprecated(self) -> bool:
        return bool(self.deprecated)

    @property
    def root(self) -> str:
        """The first segment: ``users``, ``me`` or ``groups``."""
        first = self.segments[0]
        return first.name if isinstance(first, LiteralSegment) else ""

    def match(self, tokens: Iterable[PathToken]) -> list[tuple[str, str]] | None:
        """The keys (entity type, value) when ``tokens`` fit this pattern, else None."""
        return match_segments(self.segments, tuple(tokens))


class AttachmentLocation(NamedTuple):
    """Where attachments sit in a request body: ``$.Message.attachments``."""

    path: str
    element_type: str
    parent_type: str

    @property
    def steps(self) -> tuple[tuple[str, bool], ...]:
        """(member name, whether it is a collection to iterate) from the body's root."""
        steps: list[tuple[str, bool]] = []
        for part in self.path.removeprefix("$.").split("."):
            collection = part.endswith("[*]")
            steps.append((part.removesuffix("[*]"), collection))
        return tuple(steps)


@dataclass(frozen=True)
class InlineCarrier:
    """A request whose JSON body may carry attachments inline."""

    api_version: str
    kind: str  # "action" (sendMail, reply...) | "create" (POST .../messages, .../events)
    template: str
    segments: tuple[Segment, ...]
    attachments: tuple[AttachmentLocation, ...]
    action: str | None  # for kind "action": the qualified action name
    binding: str | None  # for kind "action": the entity type it is bound to
    body_type: str | None  # for kind "create": the entity type the body creates
    deprecated: tuple[str, ...]

    def match(self, tokens: Iterable[PathToken]) -> list[tuple[str, str]] | None:
        return match_segments(self.segments, tuple(tokens))


class RouteMatch(NamedTuple):
    route: RoutePattern
    keys: tuple[tuple[str, str], ...]  # (entity type, decoded value) in path order
    via_me: bool


class CarrierMatch(NamedTuple):
    carrier: InlineCarrier
    keys: tuple[tuple[str, str], ...]
    via_me: bool


def split_api_version(path: str) -> tuple[str | None, tuple[PathToken, ...] | None]:
    """(API version or None, tokens of the rest) for a path or absolute URL.

    The query and fragment are ignored; the version is matched case-insensitively.
    Tokens are None when the path has an empty segment inside it.
    """
    raw_path = urlsplit(path).path if "://" in path else path.split("?", 1)[0].split("#", 1)[0]
    head, _, rest = raw_path.lstrip("/").partition("/")
    version = next((v for v in API_VERSIONS if v == head.lower()), None)
    if version is None:
        return None, None
    return version, split_path(rest)


@dataclass(frozen=True)
class GraphSchema:
    """The Graph facts graphtape knows for one API version."""

    api_version: str
    source: SourceInfo
    types: Mapping[str, TypeInfo]
    actions: tuple[ActionInfo, ...]
    routes: tuple[RoutePattern, ...]
    inline_carriers: tuple[InlineCarrier, ...]
    deprecations: Mapping[str, Deprecation]
    # Indexes built once at load time.
    _short_names: Mapping[str, str] = field(repr=False, compare=False)
    _subtypes: Mapping[str, tuple[str, ...]] = field(repr=False, compare=False)
    _all_properties: Mapping[str, Mapping[str, PropertyInfo]] = field(repr=False, compare=False)

    # Names --------------------------------------------------------------------------

    def qualify(self, name: str) -> str | None:
        """The qualified name for any accepted spelling, or None when unknown."""
        bare = name.removeprefix("#")
        if bare in self.types:
            return bare
        if bare.startswith(f"{_ALIAS}."):
            aliased = f"{NAMESPACE}.{bare.removeprefix(_ALIAS + '.')}"
            return aliased if aliased in self.types else None
        return self._short_names.get(bare)

    def resolve(self, name: str) -> TypeInfo | None:
        """The type by qualified, ``#``-prefixed, alias-qualified or short name."""
        qualified = self.qualify(name)
        return self.types[qualified] if qualified is not None else None

    def require(self, name: str) -> TypeInfo:
        """Like :meth:`resolve`, but an unknown name raises :class:`UnknownGraphTypeError`."""
        info = self.resolve(name)
        if info is None:
            raise UnknownGraphTypeError(name, self.api_version)
        return info

    # Inheritance ----------------------------------------------------------------------

    def base_chain(self, name: str) -> tuple[TypeInfo, ...]:
        """The type and its base types, nearest first."""
        chain: list[TypeInfo] = []
        current: TypeInfo | None = self.require(name)
        while current is not None:
            chain.append(current)
            current = self.types.get(current.base) if current.base else None
        return tuple(chain)

    def is_a(self, name: str, ancestor: str) -> bool:
        """True when ``name`` is ``ancestor`` or derives from it (both known)."""
        target = self.require(ancestor).name
        return any(info.name == target for info in self.base_chain(name))

    def subtypes(self, name: str) -> tuple[TypeInfo, ...]:
        """Every type derived from ``name``, transitively, sorted by name."""
        return tuple(self.types[sub] for sub in self._subtypes.get(self.require(name).name, ()))

    def concrete_subtypes(self, name: str) -> tuple[TypeInfo, ...]:
        """The type itself (unless abstract) and its non-abstract subtypes: what a value
        declared as ``name`` may actually be (itemAttachment.item, an attachment...)."""
        info = self.require(name)
        candidates = (info, *self.subtypes(info.name))
        return tuple(t for t in candidates if not t.abstract)

    def all_properties(self, name: str) -> Mapping[str, PropertyInfo]:
        """Every property of the type, inherited ones included (base types' first)."""
        return self._all_properties[self.require(name).name]

    def is_open(self, name: str) -> bool:
        """True when the type or a base type is open (OData: a subtype of an open type is open)."""
        return any(info.open for info in self.base_chain(name))

    # Actions and URLs ---------------------------------------------------------------

    def action(self, name: str, binding: str) -> ActionInfo | None:
        """The action ``name`` (short or qualified) bound to ``binding`` (as written in
        the data: ``Collection(microsoft.graph.attachment)`` or an entity type)."""
        short = name.removeprefix("#").rsplit(".", 1)[-1]
        return next((a for a in self.actions if a.short_name == short and a.binding == binding), None)

    def upload_session_action(self, element_type: str) -> ActionInfo | None:
        """createUploadSession bound to a collection of ``element_type``."""
        qualified = self.qualify(element_type) or element_type
        return self.action("createUploadSession", f"Collection({qualified})")

    def match_route(self, path: str) -> RouteMatch | None:
        """The route a request path (``/v1.0/...``, or without the version) matches."""
        tokens = self._tokens(path)
        if tokens is None:
            return None
        for route in self.routes:
            keys = route.match(tokens)
            if keys is not None:
                return RouteMatch(route, tuple(keys), _via_me(tokens))
        return None

    def match_carrier(self, path: str) -> CarrierMatch | None:
        """The inline-attachment carrier a request path matches, if any."""
        tokens = self._tokens(path)
        if tokens is None:
            return None
        for carrier in self.inline_carriers:
            keys = carrier.match(tokens)
            if keys is not None:
                return CarrierMatch(carrier, tuple(keys), _via_me(tokens))
        return None

    def _tokens(self, path: str) -> tuple[PathToken, ...] | None:
        version, tokens = split_api_version(path)
        if version is None:
            raw = path.split("?", 1)[0].split("#", 1)[0]
            return split_path(raw)
        return tokens if version == self.api_version else None


def _via_me(tokens: tuple[PathToken, ...]) -> bool:
    return bool(tokens) and tokens[0].text.lower() == "me"


# --- loading ------------------------------------------------------------------------


class _Reader:
    """Builds the dataclasses from one data file; errors name the file and the key."""

    def __init__(self, file_name: str, api_version: str) -> None:
        self.file_name = file_name
        self.api_version = api_version

    def fail(self, where: str, problem: str) -> GraphMetadataError:
        return GraphMetadataError(self.file_name, where, problem)

    def text(self) -> str:
        try:
            return resources.files(_PACKAGE).joinpath("data", self.file_name).read_text(encoding="utf-8")
        except FileNotFoundError:
            raise self.fail("", "data file missing from the package (regenerate it)") from None

    def load(self) -> GraphSchema:
        try:
            raw = json.loads(self.text())
        except json.JSONDecodeError as exc:
            raise self.fail(f"line {exc.lineno}", f"not valid JSON ({exc.msg})") from None
        try:
            return self._schema(raw)
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            if isinstance(exc, GraphMetadataError):
                raise
            raise self.fail("", f"unexpected shape ({type(exc).__name__}: {exc})") from None

    def _schema(self, raw: dict[str, Any]) -> GraphSchema:
        if raw.get("format") != FORMAT_VERSION:
            raise self.fail("format", f"format {raw.get('format')!r} is not {FORMAT_VERSION}")
        if raw.get("api_version") != self.api_version:
            raise self.fail("api_version", f"{raw.get('api_version')!r} is not {self.api_version!r}")
        types = {name: self._type(name, entry) for name, entry in raw["types"].items()}
        for info in types.values():
            if info.base is not None and info.base not in types:
                raise self.fail(f"types.{info.name}.base", f"base type {info.base} is not in the file")
        version = self.api_version
        routes = tuple(
            RoutePattern(
                api_version=version,
                operation=Operation(entry["operation"]),
                template=entry["template"],
                segments=self._segments(entry["segments"], f"routes[{index}].segments"),
                element_type=entry["element_type"],
                parent_type=entry["parent_type"],
                deprecated=tuple(entry["deprecated"]),
            )
            for index, entry in enumerate(raw["routes"])
        )
        carriers = tuple(
            InlineCarrier(
                api_version=version,
                kind=entry["kind"],
                template=entry["template"],
                segments=self._segments(entry["segments"], f"inline_carriers[{index}].segments"),
                attachments=tuple(
                    AttachmentLocation(a["path"], a["element_type"], a["parent_type"]) for a in entry["attachments"]
                ),
                action=entry.get("action"),
                binding=entry.get("binding"),
                body_type=entry.get("body_type"),
                deprecated=tuple(entry["deprecated"]),
            )
            for index, entry in enumerate(raw["inline_carriers"])
        )
        actions = tuple(
            ActionInfo(
                name=entry["name"],
                binding=entry["binding"],
                parameters=MappingProxyType(
                    {
                        name: ParameterInfo(name, p["type"], p.get("collection", False), p["nullable"])
                        for name, p in entry["parameters"].items()
                    }
                ),
                returns=entry["returns"],
            )
            for entry in raw["actions"]
        )
        deprecations = {
            target: Deprecation(d.get("date"), d.get("removal_date"), d.get("description"))
            for target, d in raw["deprecations"].items()
        }
        source = raw["source"]
        return GraphSchema(
            api_version=version,
            source=SourceInfo(
                repository=source.get("repository"),
                commit=source["commit"],
                commit_date=source.get("commit_date"),
                file=source["file"],
                upstream_file=source.get("upstream_file"),
                sha256=source["sha256"],
                description=source.get("description"),
            ),
            types=MappingProxyType(types),
            actions=actions,
            routes=routes,
            inline_carriers=carriers,
            deprecations=MappingProxyType(deprecations),
            _short_names=MappingProxyType(_short_names(types)),
            _subtypes=MappingProxyType(_subtype_index(types)),
            _all_properties=MappingProxyType(_inherited_properties(types)),
        )

    def _type(self, name: str, entry: dict[str, Any]) -> TypeInfo:
        kind = entry["kind"]
        if kind == "enum":
            return TypeInfo(
                name,
                kind,
                None,
                False,
                False,
                False,
                (),
                _EMPTY,
                MappingProxyType(dict(entry["members"])),
                entry["flags"],
            )
        if kind not in ("entity", "complex"):
            raise self.fail(f"types.{name}.kind", f"unknown kind {kind!r}")
        properties: dict[str, PropertyInfo] = {
            prop: PropertyInfo(
                name=prop,
                type=p["type"],
                collection=p.get("collection", False),
                nullable=p["nullable"],
                declared_by=name,
                computed=p.get("computed", False),
                immutable=p.get("immutable", False),
            )
            for prop, p in entry["properties"].items()
        }
        for nav, n in entry.get("navigation", {}).items():
            properties[nav] = PropertyInfo(
                name=nav,
                type=n["type"],
                collection=n.get("collection", False),
                nullable=n.get("nullable", True),
                declared_by=name,
                navigation=True,
                containment=n["containment"],
            )
        return TypeInfo(
            name=name,
            kind=kind,
            base=entry["base"],
            abstract=entry["abstract"],
            open=entry["open"],
            has_stream=entry.get("has_stream", False),
            key=tuple(entry.get("key", ())),
            properties=MappingProxyType(properties),
            members=_EMPTY,
            flags=False,
        )

    def _segments(self, raw: list[Any], where: str) -> tuple[Segment, ...]:
        segments: list[Segment] = []
        for index, entry in enumerate(raw):
            spot = f"{where}[{index}]"
            if isinstance(entry, str):
                segments.append(LiteralSegment(entry))
            elif "key" in entry:
                segments.append(KeySegment(entry["key"]))
            elif "cast" in entry:
                segments.append(CastSegment(entry["cast"], bool(entry.get("optional", False))))
            elif "action" in entry:
                segments.append(ActionSegment(entry["action"]))
            elif "repeat" in entry:
                alternatives = tuple(
                    self._segments(alternative, f"{spot}.repeat[{n}]") for n, alternative in enumerate(entry["repeat"])
                )
                for n, alternative in enumerate(alternatives):
                    if not any(isinstance(s, (LiteralSegment, KeySegment, ActionSegment)) for s in alternative):
                        # A repetition that may consume nothing would let a match loop forever.
                        raise self.fail(f"{spot}.repeat[{n}]", "a repeated part must hold a literal or a key")
                segments.append(RepeatSegment(alternatives))
            else:
                raise self.fail(spot, f"unknown segment {entry!r}")
        return tuple(segments)


def _short_names(types: Mapping[str, TypeInfo]) -> dict[str, str]:
    """Short name -> qualified name, for short names no two namespaces share."""
    seen: dict[str, list[str]] = {}
    for name in types:
        seen.setdefault(name.rsplit(".", 1)[-1], []).append(name)
    return {short: names[0] for short, names in seen.items() if len(names) == 1}


def _subtype_index(types: Mapping[str, TypeInfo]) -> dict[str, tuple[str, ...]]:
    index: dict[str, list[str]] = {}
    for info in types.values():
        current = info.base
        while current is not None:
            index.setdefault(current, []).append(info.name)
            base_info = types.get(current)
            current = base_info.base if base_info is not None else None
    return {base: tuple(sorted(names)) for base, names in index.items()}


def _inherited_properties(types: Mapping[str, TypeInfo]) -> dict[str, Mapping[str, PropertyInfo]]:
    result: dict[str, Mapping[str, PropertyInfo]] = {}

    def collect(name: str) -> Mapping[str, PropertyInfo]:
        known = result.get(name)
        if known is not None:
            return known
        info = types[name]
        merged: dict[str, PropertyInfo] = dict(collect(info.base)) if info.base in types and info.base else {}
        merged.update(info.properties)
        result[name] = MappingProxyType(merged)
        return result[name]

    for name in types:
        collect(name)
    return result


@functools.cache
def load_schema(api_version: str) -> GraphSchema:
    """The schema of ``api_version`` ("v1.0" or "beta"), read once per process."""
    if api_version not in API_VERSIONS:
        raise GraphMetadataError(
            "graphtape Graph metadata", "api_version", f"{api_version!r} is not one of {', '.join(API_VERSIONS)}"
        )
    return _Reader(f"{api_version}.json", api_version).load()
