"""pydantic v2 models of Graph's types, built from graphtape's Graph metadata, one per type.

A model is made on first use (``pydantic.create_model``) from the type's metadata and kept:
every property of the type and its base types, with its JSON name, its type (strict
primitives from :mod:`graphtape.addons.graph.edm`, enums by member name, nested complex and
entity values, collections) and its nullability. Closed types forbid properties they do not
declare; open types (message, event, contact, post, extensions) allow them and still type
the ones they declare. OData annotations (``@odata.context``, ``contentBytes@odata.mediaContentType``)
are set aside before a model sees the body.

A value declared as a type with subtypes is checked as the type its ``@odata.type`` names
(:func:`choose_type`): ``itemAttachment.item`` naming ``#microsoft.graph.event`` is checked by
the event model, with event's own rules. What that choice finds wrong (a missing, unknown,
abstract or unassignable ``@odata.type``) is reported as an error at ``<value>.@odata.type``,
next to the chosen model's own errors.

What a model cannot know because it depends on the direction of the call (read-only
properties, properties required on create) comes from :mod:`graphtape.addons.graph.limits`
and is exposed with the model by :func:`type_info`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, ClassVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    Strict,
    ValidationError,
    create_model,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from graphtape.addons.graph.edm import (
    INT32_MAX,
    INT32_MIN,
    base64_decoded_length,
    base64_problem,
    datetime_offset_problem,
    primitive_annotation,
    primitive_label,
)
from graphtape.addons.graph.limits import read_only_properties, required_on_create
from graphtape.addons.graph.metadata import ActionInfo, GraphSchema, PropertyInfo, TypeInfo, load_schema

__all__ = [
    "INT32_MAX",
    "INT32_MIN",
    "NAMESPACE",
    "READ_ONLY_PROPERTIES",
    "AttachmentType",
    "GraphModel",
    "GraphType",
    "TypeChoice",
    "base64_decoded_length",
    "base64_problem",
    "choose_type",
    "datetime_offset_problem",
    "enum_values",
    "is_annotation",
    "model_for",
    "normalise_odata_type",
    "parameters_model",
    "property_label",
    "resolve_odata_type",
    "type_info",
]

NAMESPACE = "microsoft.graph."
_ALIAS = "graph."

# The properties a client never sets (the service does) on any attachment type; see limits.py.
READ_ONLY_PROPERTIES: frozenset[str] = read_only_properties("attachment", ("v1.0", "beta"))

_ANNOTATION_KEY = re.compile(r"^[^@]*@[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)+$")


def is_annotation(key: str) -> bool:
    """True for an OData annotation: ``@odata.context``, ``@ns.term``, ``prop@odata.x``.

    ``@odata.type`` is an annotation too; the models read it to choose a subtype.
    """
    return "@" in key and _ANNOTATION_KEY.match(key) is not None


def normalise_odata_type(value: str) -> str:
    """``#microsoft.graph.fileAttachment`` -> ``microsoft.graph.fileAttachment``."""
    return value[1:] if value.startswith("#") else value


def resolve_odata_type(schema: GraphSchema, value: str) -> tuple[str | None, bool]:
    """The qualified type an ``@odata.type`` value names, and whether it named it only by
    a case-insensitive comparison. ``#`` is optional; the namespace (or its alias ``graph``)
    is not, as OData requires a qualified name."""
    bare = normalise_odata_type(value)
    if bare.startswith(_ALIAS):
        bare = NAMESPACE + bare[len(_ALIAS) :]
    if bare in schema.types:
        return bare, False
    folded = _folded_names(schema.api_version).get(bare.casefold())
    return folded, folded is not None


@functools.cache
def _folded_names(api_version: str) -> dict[str, str]:
    return {name.casefold(): name for name in load_schema(api_version).types}


class GraphModel(BaseModel):
    """Strict model of a Graph JSON object; OData annotations are set aside before validation."""

    model_config = ConfigDict(strict=True, extra="forbid", protected_namespaces=(), defer_build=False)

    # The qualified name of the type and the API version whose metadata built the model.
    graph_type: ClassVar[str] = ""
    api_version: ClassVar[str] = ""

    @model_validator(mode="before")
    @classmethod
    def _set_annotations_aside(cls, data: Any) -> Any:
        if isinstance(data, dict) and any("@" in key for key in data):
            return {k: v for k, v in data.items() if not is_annotation(k)}
        return data


class OpenGraphModel(GraphModel):
    """A model of an open type: undeclared properties are allowed, declared ones typed."""

    model_config = ConfigDict(extra="allow")


# --- choosing the type a value is checked as -------------------------------------------------


@dataclass(frozen=True)
class TypeChoice:
    """The type a JSON object is checked as, and what its ``@odata.type`` got wrong."""

    type: TypeInfo  # the type whose model checks the object
    issues: tuple[tuple[str, dict[str, Any]], ...] = ()  # (error type, context) about @odata.type
    tolerated: frozenset[str] = frozenset()  # keys a subtype declares: not reported on the base


@dataclass(frozen=True)
class _Declared:
    """What choosing among a declared type's subtypes needs, computed once per type and version."""

    info: TypeInfo
    types: Mapping[str, TypeInfo]  # every type of the version
    assignable: frozenset[str]  # the type and every type derived from it
    concrete: tuple[tuple[TypeInfo, frozenset[str]], ...]  # concrete candidates and their properties
    allowed: str  # "#a | #b", for findings
    subtype_only: frozenset[str]  # properties only subtypes declare


@functools.cache
def _declared(api_version: str, name: str) -> _Declared:
    schema = load_schema(api_version)
    info = schema.require(name)
    concrete = schema.concrete_subtypes(info.name)
    own = schema.all_properties(info.name)
    return _Declared(
        info=info,
        types=schema.types,
        assignable=frozenset({info.name, *(t.name for t in schema.subtypes(info.name))}),
        concrete=tuple((t, frozenset(schema.all_properties(t.name))) for t in concrete),
        allowed=" | ".join(t.odata_type for t in concrete) or info.odata_type,
        subtype_only=frozenset(
            p for t in schema.subtypes(info.name) for p in schema.all_properties(t.name) if p not in own
        ),
    )


def _inferred(declared: _Declared, data: Mapping[str, Any], hint: str | None) -> TypeChoice:
    """A value without a usable ``@odata.type``: checked as ``hint`` (the type its request
    declared), as the declared type when it is concrete, as the one concrete subtype whose
    properties cover the body's, or else as the declared type with subtypes' properties tolerated."""
    if hint is not None and hint in declared.assignable:
        return TypeChoice(declared.types[hint])
    if not declared.info.abstract:
        return TypeChoice(declared.info)
    keys = {k for k in data if not is_annotation(k)}
    candidates = [t for t, properties in declared.concrete if keys <= properties]
    if len(candidates) == 1:
        return TypeChoice(candidates[0])
    return TypeChoice(declared.info, tolerated=declared.subtype_only)


def choose_type(
    schema: GraphSchema, declared_name: str, data: Mapping[str, Any], hint: str | None = None
) -> TypeChoice:
    """The type ``data`` (a value declared as ``declared_name``) is checked as, by its ``@odata.type``.

    Issues (pydantic error types, reported at ``@odata.type``): ``odata_type_missing`` (the
    declared type is abstract: Graph needs the subtype), ``odata_type_not_string``,
    ``odata_type_unknown``, ``odata_type_case`` (names a type only case-insensitively: the
    value is checked as that type), ``odata_type_abstract``, ``odata_type_not_assignable``
    (a real type, but not the declared one or a subtype of it).
    """
    declared = _declared(schema.api_version, declared_name)
    raw = data.get("@odata.type")
    if raw is None and "@odata.type" not in data:
        choice = _inferred(declared, data, hint)
        if declared.info.abstract:
            return TypeChoice(choice.type, (("odata_type_missing", _context(declared)),), choice.tolerated)
        return choice
    if not isinstance(raw, str):
        choice = _inferred(declared, data, hint)
        return TypeChoice(choice.type, (("odata_type_not_string", _context(declared)),), choice.tolerated)
    named, by_case = resolve_odata_type(schema, raw)
    if named is None:
        choice = _inferred(declared, data, hint)
        return TypeChoice(choice.type, (("odata_type_unknown", _context(declared, raw)),), choice.tolerated)
    info = schema.types[named]
    if not by_case and named in declared.assignable and not info.abstract:
        return TypeChoice(info)  # the common case: a type the value may be, named as documented
    issues: list[tuple[str, dict[str, Any]]] = []
    if by_case:
        issues.append(("odata_type_case", _context(declared, raw, info)))
    if named not in declared.assignable:
        issues.append(("odata_type_not_assignable", _context(declared, raw, info)))
        if info.kind == "enum":
            return TypeChoice(_inferred(declared, data, hint).type, tuple(issues))
        return TypeChoice(info, tuple(issues))
    if info.abstract:
        issues.append(("odata_type_abstract", _context(declared, raw, info)))
        return TypeChoice(info, tuple(issues), _declared(schema.api_version, info.name).subtype_only)
    return TypeChoice(info, tuple(issues))


def _context(declared: _Declared, seen: str | None = None, named: TypeInfo | None = None) -> dict[str, Any]:
    """What a finding about @odata.type says: the declared type, the allowed ones, what was sent."""
    context: dict[str, Any] = {"declared": declared.info.name, "allowed": declared.allowed}
    if seen is not None:
        context["seen"] = seen
    if named is not None:
        context["named"] = named.odata_type
    return context


# --- building models --------------------------------------------------------------------------


def _issue_details(issues: tuple[tuple[str, dict[str, Any]], ...], raw: object) -> list[InitErrorDetails]:
    return [
        InitErrorDetails(
            type=PydanticCustomError(kind, "@odata.type: {kind}", {**context, "kind": kind}),
            loc=("@odata.type",),
            input=raw,
        )
        for kind, context in issues
    ]


def _error_details(exc: ValidationError) -> list[InitErrorDetails]:
    """A ValidationError's errors, as details that can be raised again with others."""
    details: list[InitErrorDetails] = []
    for error in exc.errors():
        context = dict(error.get("ctx") or {})
        details.append(
            InitErrorDetails(
                type=PydanticCustomError(error["type"], "{message}", {**context, "message": error["msg"]}),
                loc=tuple(error["loc"]),
                input=error.get("input"),
            )
        )
    return details


def validate_choice(choice: TypeChoice, data: Mapping[str, Any], api_version: str) -> None:
    """Check ``data`` with the model of the chosen type; raises one ValidationError holding
    the choice's issues and the model's errors (None when both are empty)."""
    body = {k: v for k, v in data.items() if k not in choice.tolerated} if choice.tolerated else data
    model = model_for(choice.type.name, api_version)
    try:
        model.__pydantic_validator__.validate_python(body)
    except ValidationError as exc:
        if not choice.issues:
            raise
        raise ValidationError.from_exception_data(
            "graph", _issue_details(choice.issues, data.get("@odata.type")) + _error_details(exc)
        ) from None
    if choice.issues:
        raise ValidationError.from_exception_data("graph", _issue_details(choice.issues, data.get("@odata.type")))


class _StructuredValue:
    """Validates a property holding a complex or entity value: picks the model by ``@odata.type``."""

    def __init__(self, api_version: str, declared: str, nullable: bool) -> None:
        self.api_version = api_version
        self.declared = declared
        self.nullable = nullable

    def __call__(self, value: Any) -> Any:
        if value is None:
            if self.nullable:
                return None
            raise PydanticCustomError("null_not_allowed", "null is not allowed here")
        if not isinstance(value, dict):
            raise PydanticCustomError("object_expected", "Input should be a JSON object")
        schema = load_schema(self.api_version)
        validate_choice(choose_type(schema, self.declared, value), value, self.api_version)
        return value


def _enum_check(info: TypeInfo) -> Any:
    """A validator accepting a member's name (or value, as OData's ABNF allows), comma-separated
    for a flags enum. Members are case-sensitive."""
    members = dict(sorted(info.members.items(), key=lambda item: item[1]))  # in the CSDL's value order
    values = {str(v) for v in members.values()}
    listed = " | ".join(members)

    def check(value: Any) -> Any:
        if not isinstance(value, str):
            raise PydanticCustomError("string_type", "Input should be a valid string")
        parts = value.split(",") if info.flags else [value]
        if all(part.strip() in members or part.strip() in values for part in parts):
            return value
        raise PydanticCustomError("enum_value", "not a member of {enum}", {"enum": info.name, "members": listed})

    return check


def _value_annotation(schema: GraphSchema, type_name: str, nullable: bool) -> Any:
    """The annotation of one value (a single property, or one item of a collection)."""
    if type_name.startswith("Edm."):
        annotation = primitive_annotation(type_name)
    else:
        info = schema.types.get(type_name)
        if info is None:  # a type the metadata leaves out (not reachable from attachments): unchecked
            return Any
        if info.kind != "enum":
            return Annotated[Any, PlainValidator(_StructuredValue(schema.api_version, info.name, nullable))]
        annotation = Annotated[Any, PlainValidator(_enum_check(info))]
    if annotation is Any:
        return Any
    return annotation | None if nullable else annotation


def _field(schema: GraphSchema, type_name: str, collection: bool, nullable: bool, required: bool) -> tuple[Any, Any]:
    """(annotation, default) of a property or parameter."""
    item = _value_annotation(schema, type_name, nullable)
    # A collection is never null (OData): its Nullable facet is about its items.
    annotation = Annotated[list[item], Strict()] if collection else item  # type: ignore[valid-type]
    return annotation, ... if required else None


def _field_definitions(
    schema: GraphSchema, properties: Mapping[str, PropertyInfo | Any], required: frozenset[str] = frozenset()
) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for index, (name, prop) in enumerate(properties.items()):
        annotation, default = _field(schema, prop.type, prop.collection, prop.nullable, name in required)
        fields[f"p{index}"] = (annotation, Field(default, alias=name))
    return fields


def model_for(type_name: str, api_version: str) -> type[GraphModel]:
    """The model of a type (qualified, ``#``-prefixed or short name); built once, then cached.

    Raises ``UnknownGraphTypeError`` for a type the version's metadata does not hold.
    """
    if type_name.startswith(NAMESPACE):
        return _model_for(type_name, api_version)
    return _model_for(load_schema(api_version).require(type_name).name, api_version)


@functools.cache
def _model_for(type_name: str, api_version: str) -> type[GraphModel]:
    schema = load_schema(api_version)
    info = schema.require(type_name)
    if info.kind == "enum":
        raise TypeError(f"{info.name} is an enum type, not a structured one")
    base = OpenGraphModel if schema.is_open(info.name) else GraphModel
    model = create_model(
        f"{info.short_name}_{api_version.replace('.', '_')}",
        __base__=base,
        __module__=__name__,
        **_field_definitions(schema, schema.all_properties(info.name)),
    )
    model.graph_type = info.name
    model.api_version = api_version
    return model


def parameters_model(action: ActionInfo, api_version: str) -> type[GraphModel]:
    """The model of an action's JSON body: one member per parameter, spelled as the CSDL does
    (callers match the body's names case-insensitively first). A parameter that is not
    nullable must be sent: OData lets a client leave out only nullable parameters."""
    return _parameters_model(action.name, action.binding, api_version)


@functools.cache
def _parameters_model(name: str, binding: str, api_version: str) -> type[GraphModel]:
    schema = load_schema(api_version)
    action = schema.action(name, binding)
    if action is None:
        raise LookupError(f"{api_version} has no action {name} bound to {binding}")
    required = frozenset(name for name, p in action.parameters.items() if not p.nullable)
    model = create_model(
        f"{action.short_name}_parameters_{api_version.replace('.', '_')}",
        __base__=GraphModel,
        __module__=__name__,
        **_field_definitions(schema, action.parameters, required),
    )
    model.graph_type = action.name
    model.api_version = api_version
    return model


# --- what the validator and the simulator ask about a type --------------------------------------


@dataclass(frozen=True)
class GraphType:
    """A Graph type as graphtape checks it: its metadata, its model and the rules beside them."""

    name: str  # qualified, without '#': "microsoft.graph.fileAttachment"
    api_version: str
    base: str | None  # the direct base type's short name ("attachment", "attachmentBase")
    abstract: bool
    open: bool
    properties: tuple[str, ...]  # "@odata.type", then every JSON property name, base types' first
    read_only: frozenset[str]
    required_on_create: frozenset[str]
    info: TypeInfo = field(repr=False, compare=False)

    @property
    def short_name(self) -> str:
        return self.name.removeprefix(NAMESPACE)

    @property
    def odata_type(self) -> str:
        return f"#{self.name}"

    @property
    def model(self) -> type[GraphModel]:
        return model_for(self.name, self.api_version)

    @functools.cached_property
    def required_in_response(self) -> frozenset[str]:
        """What an answer carrying this type always has: its key, and the single-valued
        properties that cannot be null, content aside (Binary/Stream: answers may leave the
        file out, as the To Do attachment page's own example does)."""
        schema = load_schema(self.api_version)
        keys = {k for t in schema.base_chain(self.name) for k in t.key}
        return frozenset(
            name
            for name, prop in schema.all_properties(self.name).items()
            if name in keys
            or not (prop.navigation or prop.nullable or prop.collection or prop.type in ("Edm.Binary", "Edm.Stream"))
        )

    def property_info(self, name: str) -> PropertyInfo | None:
        return load_schema(self.api_version).all_properties(self.name).get(name)


# The attachment types keep their old name for callers of the hand-written models.
AttachmentType = GraphType


@functools.cache
def type_info(odata_type: str, api_version: str) -> GraphType | None:
    """A structured type by ``@odata.type`` (with or without '#'), qualified or short name;
    None for an unknown type, an enum or an unknown API version."""
    try:
        schema = load_schema(api_version)
    except Exception:  # an API version the metadata does not have
        return None
    qualified, by_case = resolve_odata_type(schema, odata_type)
    if qualified is None or by_case:
        qualified = schema.qualify(odata_type)
    if qualified is None:
        return None
    info = schema.types[qualified]
    if info.kind == "enum":
        return None
    chain = tuple(t.short_name for t in schema.base_chain(info.name))
    base_info = schema.types.get(info.base) if info.base else None
    return GraphType(
        name=info.name,
        api_version=api_version,
        base=base_info.short_name if base_info else None,
        abstract=info.abstract,
        open=schema.is_open(info.name),
        properties=("@odata.type", *schema.all_properties(info.name)),
        read_only=read_only_properties(chain, (api_version,)),
        required_on_create=required_on_create(chain[0], api_version),
        info=info,
    )


def property_label(schema: GraphSchema, prop: PropertyInfo | Any) -> str:
    """How findings name a property's type: ``Int32``, ``microsoft.graph.itemBody (object)``."""
    if prop.type.startswith("Edm."):
        label = primitive_label(prop.type)
    else:
        info = schema.types.get(prop.type)
        label = prop.type if info is not None and info.kind == "enum" else f"{prop.type} (object)"
    return f"Collection({label})" if prop.collection else label


@functools.cache
def enum_values() -> dict[str, tuple[str, ...]]:
    """Every enum-typed property name (any type, v1.0 and beta) -> the members its enums
    allow; where one name has different enums on different types, their union."""
    found: dict[str, dict[str, None]] = {}
    for version in ("v1.0", "beta"):
        schema = load_schema(version)
        for info in schema.types.values():
            for name, prop in info.properties.items():
                target = schema.types.get(prop.type)
                if target is not None and target.kind == "enum":
                    ordered = sorted(target.members, key=target.members.__getitem__)
                    found.setdefault(name, {}).update(dict.fromkeys(ordered))
    return {name: tuple(members) for name, members in found.items()}
