"""Microsoft Graph metadata for graphtape: generated from Microsoft's CSDL, loaded as typed data.

``generate`` turns the CSDL files into ``data/v1.0.json`` and ``data/beta.json`` (run
``python -m graphtape.addons.graph.metadata.generate --csdl DIR``); ``schema`` loads them.
"""

from __future__ import annotations

from graphtape.addons.graph.metadata.errors import GraphMetadataError
from graphtape.addons.graph.metadata.schema import (
    API_VERSIONS,
    ActionInfo,
    AttachmentLocation,
    CarrierMatch,
    Deprecation,
    GraphSchema,
    InlineCarrier,
    Operation,
    ParameterInfo,
    PropertyInfo,
    RouteMatch,
    RoutePattern,
    SourceInfo,
    TypeInfo,
    UnknownGraphTypeError,
    load_schema,
    split_api_version,
)

__all__ = [
    "API_VERSIONS",
    "ActionInfo",
    "AttachmentLocation",
    "CarrierMatch",
    "Deprecation",
    "GraphMetadataError",
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
