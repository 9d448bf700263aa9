"""Read Microsoft's CSDL (OData v4 XML metadata) into a small, typed, in-memory model.

Only what the generator needs is kept: entity, complex and enum types with their
properties and navigation properties; bound actions; the entity container's entity sets
and singletons; and the few annotations that decide what a URL or a body may hold:

- ``Capabilities.NavigationRestrictions/Navigability`` ``None``: a path cannot walk
  through the navigation property (Graph marks ``event/exceptionOccurrences`` so);
- ``Capabilities.IndexableByKey`` false: the collection cannot be followed by a key
  (``calendarView``, ``instances`` on v1.0), so nothing below it is addressable;
- ``Capabilities.InsertRestrictions/Insertable`` false: no POST creates items there;
- ``Core.Revisions`` of kind ``Deprecated`` (beta Outlook tasks);
- ``Core.Computed`` and ``Core.Immutable`` on properties (read-only facts).

Annotations count whether written inside the element or in an ``<Annotations
Target="...">`` block. When the two disagree (Graph's v1.0 file says ``None`` inline and
``Single`` out of line for ``event/exceptionOccurrences``), the stricter one wins.
Aliases (``graph.message``) are resolved to namespaces (``microsoft.graph.message``).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from graphtape.addons.graph.metadata.errors import GraphMetadataError

__all__ = [
    "Action",
    "Csdl",
    "EnumType",
    "NavigationProperty",
    "Parameter",
    "Property",
    "Revision",
    "StructuredType",
    "TypeRef",
    "read_csdl",
]

EDM = "{http://docs.oasis-open.org/odata/ns/edm}"

_CAPABILITIES = "Org.OData.Capabilities.V1."
_CORE = "Org.OData.Core.V1."
# Navigability values from least to most permissive; the stricter of two readings wins.
_NAVIGABILITY_ORDER = ("None", "Single", "Recursive")


@dataclass(frozen=True)
class TypeRef:
    """A property's or parameter's type: a qualified name, maybe a collection of it."""

    name: str  # "Edm.String", "microsoft.graph.recipient"
    collection: bool = False

    def __str__(self) -> str:
        return f"Collection({self.name})" if self.collection else self.name


@dataclass(frozen=True)
class Revision:
    """One ``Core.Revisions`` record (Graph uses them to announce deprecations)."""

    kind: str  # "Deprecated", "Added", "Modified"
    date: str | None
    removal_date: str | None
    description: str | None
    version: str | None


@dataclass(frozen=True)
class Property:
    name: str
    type: TypeRef
    nullable: bool  # CSDL: true when the attribute is absent
    computed: bool = False  # Core.Computed: the service sets it, a client cannot
    immutable: bool = False  # Core.Immutable: set on create, never changed


@dataclass(frozen=True)
class NavigationProperty:
    name: str
    owner: str  # qualified name of the declaring type
    type: TypeRef
    nullable: bool
    containment: bool  # ContainsTarget="true"
    navigability: str | None = None  # "None" | "Single" | "Recursive" | None (unannotated)
    indexable_by_key: bool = True
    insertable: bool = True
    deprecation: Revision | None = None

    @property
    def navigable(self) -> bool:
        return self.navigability != "None"


@dataclass(frozen=True)
class StructuredType:
    """An entity or complex type, as declared (inherited members are not copied in)."""

    name: str  # qualified
    kind: str  # "entity" | "complex"
    base: str | None
    abstract: bool
    open: bool
    has_stream: bool
    key: tuple[str, ...]
    properties: tuple[Property, ...]
    navigation: tuple[NavigationProperty, ...]
    deprecation: Revision | None = None


@dataclass(frozen=True)
class EnumType:
    name: str
    members: tuple[tuple[str, int], ...]
    flags: bool
    underlying: str


@dataclass(frozen=True)
class Parameter:
    name: str
    type: TypeRef
    nullable: bool


@dataclass(frozen=True)
class Action:
    """A bound action: ``binding`` is its first parameter, the entity or collection it acts on."""

    name: str  # qualified: "microsoft.graph.createUploadSession"
    binding: Parameter
    parameters: tuple[Parameter, ...]  # without the binding parameter
    returns: TypeRef | None


@dataclass(frozen=True)
class Csdl:
    """One CSDL document, with the lookups the generator asks for over and over."""

    path: Path
    structured: dict[str, StructuredType]
    enums: dict[str, EnumType]
    actions: tuple[Action, ...]
    entity_sets: dict[str, str]  # name -> entity type
    singletons: dict[str, str]  # name -> entity type
    _derived: dict[str, tuple[str, ...]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        derived: dict[str, list[str]] = {}
        for info in self.structured.values():
            if info.base is not None:
                derived.setdefault(info.base, []).append(info.name)
        self._derived.update({base: tuple(sorted(names)) for base, names in derived.items()})

    def type(self, name: str, *, referenced_by: str = "") -> StructuredType:
        """The structured type ``name``; a clear error when the document lacks it."""
        info = self.structured.get(name)
        if info is None:
            where = f"referenced by {referenced_by}" if referenced_by else ""
            raise GraphMetadataError(self.path, where, f"structured type {name} is not defined")
        return info

    def is_defined(self, name: str) -> bool:
        return name in self.structured or name in self.enums or name.startswith("Edm.")

    def direct_subtypes(self, name: str) -> tuple[str, ...]:
        return self._derived.get(name, ())

    def subtypes(self, name: str) -> list[str]:
        """Every type derived from ``name``, transitively, in a stable order."""
        found: list[str] = []
        pending = list(self.direct_subtypes(name))
        while pending:
            current = pending.pop(0)
            found.append(current)
            pending.extend(self.direct_subtypes(current))
        return found

    def base_chain(self, name: str) -> list[str]:
        """``name`` and its base types, nearest first."""
        chain: list[str] = []
        current: str | None = name
        while current is not None:
            if current in chain:
                raise GraphMetadataError(self.path, f"type {name}", "its base types form a cycle")
            chain.append(current)
            current = self.type(current, referenced_by=chain[-2] if len(chain) > 1 else "").base
        return chain

    def is_a(self, name: str, ancestor: str) -> bool:
        """True when ``name`` is ``ancestor`` or derives from it."""
        if name not in self.structured:
            return name == ancestor
        return ancestor in self.base_chain(name)

    def all_navigation(self, name: str) -> list[NavigationProperty]:
        """Navigation properties of ``name`` including inherited ones, base types' first."""
        navs: list[NavigationProperty] = []
        for type_name in reversed(self.base_chain(name)):
            navs.extend(self.structured[type_name].navigation)
        return navs

    def all_properties(self, name: str) -> list[Property]:
        props: list[Property] = []
        for type_name in reversed(self.base_chain(name)):
            props.extend(self.structured[type_name].properties)
        return props


# --- reading ----------------------------------------------------------------------


def read_csdl(path: Path) -> Csdl:
    """Parse a CSDL file; errors name the file and the line or element at fault."""
    try:
        root = ET.parse(path).getroot()
    except FileNotFoundError:
        raise GraphMetadataError(path, "", "file not found") from None
    except ET.ParseError as exc:
        line, column = exc.position
        raise GraphMetadataError(path, f"line {line}, column {column}", f"not well-formed XML ({exc})") from None
    except OSError as exc:
        raise GraphMetadataError(path, "", f"cannot be read ({exc.strerror or exc})") from None
    return _Reader(path, root).read()


class _Reader:
    def __init__(self, path: Path, root: ET.Element) -> None:
        self.path = path
        self.root = root
        self.schemas = list(root.iter(f"{EDM}Schema"))
        if not self.schemas:
            raise GraphMetadataError(path, "", "no <Schema> element: not an OData CSDL document")
        self.aliases: dict[str, str] = {}
        for schema in self.schemas:
            namespace = self._attr(schema, "Namespace", "Schema")
            alias = schema.get("Alias")
            if alias:
                self.aliases[alias] = namespace
        # Out-of-line annotations by target ("microsoft.graph.event/instances").
        self.external: dict[str, list[ET.Element]] = {}
        for block in root.iter(f"{EDM}Annotations"):
            target = self._qualify(self._attr(block, "Target", "Annotations"))
            self.external.setdefault(target, []).extend(block.findall(f"{EDM}Annotation"))

    # Helpers -------------------------------------------------------------------------

    def _attr(self, element: ET.Element, name: str, where: str) -> str:
        value = element.get(name)
        if not value:
            label = element.get("Name")
            spot = f"{where} {label}" if label else where
            raise GraphMetadataError(self.path, spot, f"missing attribute {name}")
        return value

    def _qualify(self, name: str) -> str:
        """Resolve an alias prefix: ``graph.message`` -> ``microsoft.graph.message``."""
        head, dot, rest = name.partition(".")
        if dot and head in self.aliases:
            return f"{self.aliases[head]}.{rest}"
        return name

    def _type_ref(self, raw: str) -> TypeRef:
        if raw.startswith("Collection(") and raw.endswith(")"):
            return TypeRef(self._qualify(raw[len("Collection(") : -1]), collection=True)
        return TypeRef(self._qualify(raw))

    def _annotations(self, element: ET.Element, target: str) -> Iterator[ET.Element]:
        yield from element.findall(f"{EDM}Annotation")
        yield from self.external.get(target, ())

    # The document --------------------------------------------------------------------

    def read(self) -> Csdl:
        structured: dict[str, StructuredType] = {}
        enums: dict[str, EnumType] = {}
        actions: list[Action] = []
        entity_sets: dict[str, str] = {}
        singletons: dict[str, str] = {}
        for schema in self.schemas:
            namespace = self._attr(schema, "Namespace", "Schema")
            for element in schema:
                tag = element.tag.removeprefix(EDM)
                if tag in ("EntityType", "ComplexType"):
                    info = self._structured(element, namespace, "entity" if tag == "EntityType" else "complex")
                    structured[info.name] = info
                elif tag == "EnumType":
                    enum = self._enum(element, namespace)
                    enums[enum.name] = enum
                elif tag == "Action" and element.get("IsBound") == "true":
                    actions.append(self._action(element, namespace))
                elif tag == "EntityContainer":
                    for child in element:
                        child_tag = child.tag.removeprefix(EDM)
                        if child_tag == "EntitySet":
                            name = self._attr(child, "Name", "EntitySet")
                            entity_sets[name] = self._qualify(self._attr(child, "EntityType", f"EntitySet {name}"))
                        elif child_tag == "Singleton":
                            name = self._attr(child, "Name", "Singleton")
                            singletons[name] = self._qualify(self._attr(child, "Type", f"Singleton {name}"))
        return Csdl(self.path, structured, enums, tuple(actions), entity_sets, singletons)

    def _structured(self, element: ET.Element, namespace: str, kind: str) -> StructuredType:
        tag = "EntityType" if kind == "entity" else "ComplexType"
        short = self._attr(element, "Name", tag)
        name = f"{namespace}.{short}"
        base = element.get("BaseType")
        key = element.find(f"{EDM}Key")
        key_names = tuple(self._attr(ref, "Name", f"{tag} {short} Key") for ref in (key if key is not None else ()))
        properties: list[Property] = []
        navigation: list[NavigationProperty] = []
        for child in element:
            child_tag = child.tag.removeprefix(EDM)
            if child_tag == "Property":
                properties.append(self._property(child, name))
            elif child_tag == "NavigationProperty":
                navigation.append(self._navigation(child, name))
        return StructuredType(
            name=name,
            kind=kind,
            base=self._qualify(base) if base else None,
            abstract=element.get("Abstract") == "true",
            open=element.get("OpenType") == "true",
            has_stream=element.get("HasStream") == "true",
            key=key_names,
            properties=tuple(properties),
            navigation=tuple(navigation),
            deprecation=self._deprecation(self._annotations(element, name)),
        )

    def _property(self, element: ET.Element, owner: str) -> Property:
        prop = self._attr(element, "Name", f"Property of {owner}")
        target = f"{owner}/{prop}"
        computed = immutable = False
        for annotation in self._annotations(element, target):
            term = annotation.get("Term", "")
            if term == f"{_CORE}Computed":
                computed = annotation.get("Bool", "true") == "true"
            elif term == f"{_CORE}Immutable":
                immutable = annotation.get("Bool", "true") == "true"
        return Property(
            name=prop,
            type=self._type_ref(self._attr(element, "Type", f"Property {target}")),
            nullable=element.get("Nullable", "true") != "false",
            computed=computed,
            immutable=immutable,
        )

    def _navigation(self, element: ET.Element, owner: str) -> NavigationProperty:
        nav = self._attr(element, "Name", f"NavigationProperty of {owner}")
        target = f"{owner}/{nav}"
        navigability: str | None = None
        indexable = insertable = True
        annotations = list(self._annotations(element, target))
        for annotation in annotations:
            term = annotation.get("Term", "")
            if term == f"{_CAPABILITIES}IndexableByKey":
                indexable = indexable and annotation.get("Bool", "true") == "true"
            elif term == f"{_CAPABILITIES}NavigationRestrictions":
                record = annotation.find(f"{EDM}Record")
                if record is None:
                    continue
                value = _record_enum(record, "Navigability")
                if value is not None:
                    navigability = _stricter(navigability, value)
                if _own_restriction(record, "IndexableByKey") is False:
                    indexable = False
            elif term == f"{_CAPABILITIES}InsertRestrictions":
                record = annotation.find(f"{EDM}Record")
                if record is not None and _record_bool(record, "Insertable") is False:
                    insertable = False
        return NavigationProperty(
            name=nav,
            owner=owner,
            type=self._type_ref(self._attr(element, "Type", f"NavigationProperty {target}")),
            nullable=element.get("Nullable", "true") != "false",
            containment=element.get("ContainsTarget") == "true",
            navigability=navigability,
            indexable_by_key=indexable,
            insertable=insertable,
            deprecation=self._deprecation(iter(annotations)),
        )

    def _enum(self, element: ET.Element, namespace: str) -> EnumType:
        short = self._attr(element, "Name", "EnumType")
        members: list[tuple[str, int]] = []
        for index, member in enumerate(element.findall(f"{EDM}Member")):
            member_name = self._attr(member, "Name", f"EnumType {short} Member")
            raw = member.get("Value")
            try:
                value = int(raw) if raw is not None else index
            except ValueError:
                raise GraphMetadataError(
                    self.path, f"EnumType {short} member {member_name}", f"value {raw!r} is not an integer"
                ) from None
            members.append((member_name, value))
        return EnumType(
            name=f"{namespace}.{short}",
            members=tuple(members),
            flags=element.get("IsFlags") == "true",
            underlying=element.get("UnderlyingType", "Edm.Int32"),
        )

    def _action(self, element: ET.Element, namespace: str) -> Action:
        short = self._attr(element, "Name", "Action")
        params = [
            Parameter(
                name=self._attr(p, "Name", f"Action {short} Parameter"),
                type=self._type_ref(self._attr(p, "Type", f"Action {short} Parameter {p.get('Name')}")),
                nullable=p.get("Nullable", "true") != "false",
            )
            for p in element.findall(f"{EDM}Parameter")
        ]
        if not params:
            raise GraphMetadataError(self.path, f"Action {short}", "bound action without a binding parameter")
        returns = element.find(f"{EDM}ReturnType")
        return Action(
            name=f"{namespace}.{short}",
            binding=params[0],
            parameters=tuple(params[1:]),
            returns=self._type_ref(self._attr(returns, "Type", f"Action {short} ReturnType"))
            if returns is not None
            else None,
        )

    def _deprecation(self, annotations: Iterator[ET.Element]) -> Revision | None:
        for annotation in annotations:
            if annotation.get("Term") != f"{_CORE}Revisions":
                continue
            for record in annotation.iter(f"{EDM}Record"):
                kind = _record_enum(record, "Kind")
                if kind == "Deprecated":
                    return Revision(
                        kind=kind,
                        date=_record_scalar(record, "Date"),
                        removal_date=_record_scalar(record, "RemovalDate"),
                        description=_record_scalar(record, "Description"),
                        version=_record_scalar(record, "Version"),
                    )
        return None


def _property_value(record: ET.Element, name: str) -> ET.Element | None:
    for value in record.findall(f"{EDM}PropertyValue"):
        if value.get("Property") == name:
            return value
    return None


def _own_restriction(record: ET.Element, name: str) -> bool | None:
    """A boolean from NavigationRestrictions/RestrictedProperties that names no nested
    navigation property, so it restricts the annotated property itself."""
    restricted = _property_value(record, "RestrictedProperties")
    if restricted is None:
        return None
    for entry in restricted.iter(f"{EDM}Record"):
        if _property_value(entry, "NavigationProperty") is None:
            flag = _record_bool(entry, name)
            if flag is not None:
                return flag
    return None


def _record_enum(record: ET.Element, name: str) -> str | None:
    """An enum member's name (``.../NavigationType/None`` -> ``None``)."""
    value = _property_value(record, name)
    if value is None:
        return None
    member = value.get("EnumMember")
    if member is None:
        child = value.find(f"{EDM}EnumMember")
        member = child.text if child is not None else None
    return member.rsplit("/", 1)[-1].strip() if member else None


def _record_bool(record: ET.Element, name: str) -> bool | None:
    value = _property_value(record, name)
    if value is None or value.get("Bool") is None:
        return None
    return value.get("Bool") == "true"


def _record_scalar(record: ET.Element, name: str) -> str | None:
    value = _property_value(record, name)
    if value is None:
        return None
    for attribute in ("String", "Date", "DateTimeOffset", "Int", "Bool"):
        if value.get(attribute) is not None:
            return value.get(attribute)
    return value.text


def _stricter(current: str | None, new: str) -> str:
    if current is None or new not in _NAVIGABILITY_ORDER:
        return new if current is None else current
    if current not in _NAVIGABILITY_ORDER:
        return new
    return min(current, new, key=_NAVIGABILITY_ORDER.index)
