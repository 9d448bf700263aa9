"""A Graph simulation whose answers have drifted, in named, documented ways.

``graphtape simulate --drift NAME`` serves these so drift can be seen (and tested)
without Graph. Each variant changes only the answer to a successful create, the
place :class:`GraphSimulation` keeps for it; requests are checked exactly as before.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from graphtape.addons.graph.routes import RouteMatch
from graphtape.addons.simulation.engine import (
    Exchange,
    GraphSimulation,
    SimulatedResponse,
)
from graphtape.cassettes.errors import GraphtapeError

__all__ = ["DRIFT_VARIANTS", "DriftingSimulation", "UnknownDriftError", "parse_drift_names"]


def _rename_property(status: int, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    # contentType -> mediaType: an undocumented property appears, a documented one goes.
    if "contentType" in body:
        body = {("mediaType" if k == "contentType" else k): v for k, v in body.items()}
    return status, body


def _size_as_string(status: int, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    if isinstance(body.get("size"), int):
        body = {**body, "size": str(body["size"])}
    return status, body


def _extra_property(status: int, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    return status, {**body, "isDownloadable": True}


def _new_enum_value(status: int, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    # Only referenceAttachments carry enums; "box" is not a documented providerType.
    if "providerType" in body:
        body = {**body, "providerType": "box"}
    return status, body


def _status_200(status: int, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    return (200 if status == 201 else status), body


def _subtype_property(status: int, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    # A property documented on referenceAttachment only, answered on a fileAttachment.
    if body.get("@odata.type") == "#microsoft.graph.fileAttachment":
        body = {**body, "sourceUrl": "https://contoso.sharepoint.com/sites/x/file.txt"}
    return status, body


def _odata_type(status: int, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    if body.get("@odata.type") == "#microsoft.graph.fileAttachment":
        body = {**body, "@odata.type": "#microsoft.graph.driveItemAttachment"}
    return status, body


_BodyVariant = Callable[[int, dict[str, Any]], tuple[int, dict[str, Any]]]

# name -> (what changes, the body/status change; None when only headers change)
DRIFT_VARIANTS: dict[str, tuple[str, _BodyVariant | None]] = {
    "rename-property": ("contentType is answered as mediaType", _rename_property),
    "size-as-string": ('size is a string ("185") instead of an Int32', _size_as_string),
    "extra-property": ("an undocumented isDownloadable property is added", _extra_property),
    "new-enum-value": ('referenceAttachment.providerType is "box", outside the documented enum', _new_enum_value),
    "status-200": ("a create answers 200 instead of 201", _status_200),
    "subtype-property": ("a fileAttachment comes back with sourceUrl (a referenceAttachment property)",
                         _subtype_property),
    "odata-type": ("a fileAttachment comes back as #microsoft.graph.driveItemAttachment", _odata_type),
    "content-type": ("a create is answered as text/plain instead of application/json", None),
}


class UnknownDriftError(GraphtapeError, ValueError):
    """A drift variant name graphtape does not know."""


def parse_drift_names(values: Iterable[str]) -> tuple[str, ...]:
    """``("a,b", "c")`` -> ``("a", "b", "c")``, each checked against :data:`DRIFT_VARIANTS`."""
    names: list[str] = []
    for value in values:
        for name in (part.strip() for part in value.split(",")):
            if not name:
                continue
            if name not in DRIFT_VARIANTS:
                raise UnknownDriftError(f"unknown drift {name!r}; choose from {', '.join(DRIFT_VARIANTS)}")
            if name not in names:
                names.append(name)
    return tuple(names)


class DriftingSimulation(GraphSimulation):
    """GraphSimulation with drift variants applied to every successful create."""

    def __init__(self, drifts: Iterable[str], **kw: Any) -> None:
        super().__init__(**kw)
        self.drifts = parse_drift_names(drifts)

    def _present_created(self, status: int, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        for name in self.drifts:
            change = DRIFT_VARIANTS[name][1]
            if change is not None:
                status, body = change(status, body)
        return status, body

    def _create(self, match: RouteMatch, headers: Mapping[str, str], body: bytes,
                exchange: Exchange) -> SimulatedResponse:
        answer = super()._create(match, headers, body, exchange)
        if "content-type" in self.drifts:
            answer.headers = [("Content-Type", "text/plain; charset=utf-8") if k.lower() == "content-type"
                              else (k, v) for k, v in answer.headers]
        return answer
