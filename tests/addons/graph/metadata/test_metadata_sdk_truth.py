"""Route and carrier truth tables: the generated URL patterns against Microsoft's SDK and CSDL.

- Every v1.0 route msgraph-sdk 1.62.0 can POST an attachment or an upload session to
  (data/msgraph_sdk_routes.txt) matches a generated route, in both key forms and via /me.
- Every generated v1.0 route (each repeat taken 0 or 1 times, optional casts with and
  without) is one the SDK has, or one of the few rows below that the CSDL has and the SDK
  does not generate, each with its reason.
- Inline carriers (sendMail, reply..., POSTs of messages, events, threads) likewise.
The regeneration test (test_metadata_generate.py) also checks every step of every generated
URL against the CSDL text itself.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from graph_metadata_truth import sdk_lines

from graphtape.addons.graph.metadata import API_VERSIONS, Operation, load_schema
from graphtape.addons.graph.metadata.segments import (
    ActionSegment,
    CastSegment,
    KeySegment,
    LiteralSegment,
    Segment,
    split_path,
)

HERE = Path(__file__).resolve().parent
SAMPLE_ID = "AAMkAGI2%2FTG93_x-y%3D%3D"  # an Outlook id with '/' and '=' percent-encoded
PLACEHOLDER = re.compile(r"\{[^}]+\}")


SDK_ROUTES = sdk_lines("msgraph_sdk_routes.txt")
SDK_CARRIERS = sdk_lines("msgraph_sdk_carriers.txt")


def _key_forms(template: str) -> Iterator[tuple[str, str]]:
    """(form name, concrete path) for an SDK template: path-segment keys, OData keys, /me."""
    yield "segment-keys", PLACEHOLDER.sub(SAMPLE_ID, template)
    yield "odata-keys", re.sub(r"/\{[^}]+\}", f"('{SAMPLE_ID}')", template)
    if template.startswith("/users/{user%2Did}/"):
        yield "me", PLACEHOLDER.sub(SAMPLE_ID, "/me" + template.removeprefix("/users/{user%2Did}"))


ROUTE_CASES = [(operation, form, path) for operation, template in SDK_ROUTES for form, path in _key_forms(template)]


def test_the_sdk_table_is_complete() -> None:
    # 14 attachment collections, each with create and createUploadSession (msgraph-sdk 1.62.0).
    assert len(SDK_ROUTES) == 28
    assert {operation for operation, _ in SDK_ROUTES} == {"create", "createUploadSession"}


@pytest.mark.parametrize(("operation", "form", "path"), ROUTE_CASES, ids=[f"{f}:{p}" for _, f, p in ROUTE_CASES])
def test_every_sdk_route_is_a_generated_route(operation: str, form: str, path: str) -> None:
    schema = load_schema("v1.0")
    found = schema.match_route(f"/v1.0{path}")
    assert found is not None, f"no generated v1.0 route matches {path}"
    assert found.route.operation is Operation(operation)
    tokens = split_path(path)
    assert tokens is not None
    assert [r.template for r in schema.routes if r.match(tokens) is not None] == [found.route.template], "ambiguous"
    assert len(found.keys) == path.count(SAMPLE_ID)
    assert all(value == "AAMkAGI2/TG93_x-y==" for _, value in found.keys)


# --- generated routes the SDK does not have must be explained by the CSDL -----------

# (what, regular expression over a normalised path, why the CSDL has it and the SDK does not)
METADATA_ONLY = [
    (
        "an eventMessage's event",
        re.compile(r"/messages/\{\}(/microsoft\.graph\.eventMessage)?/event/attachments(/createUploadSession)?$"),
        (
            "eventMessage.event is a containment navigation on a type derived from message (CSDL), which the "
            "SDKs do not generate; Graph's documentation addresses it without the cast "
            "(/users/{id}/messages/{id}/event/attachments)"
        ),
    ),
]


def _expand(segments: Sequence[Segment]) -> Iterator[str]:
    """Concrete normalised paths (keys as {}): each repeat 0 or 1 times, optional casts both ways."""
    choices: list[list[str]] = []
    for segment in segments:
        if isinstance(segment, LiteralSegment):
            choices.append([f"/{segment.name}"])
        elif isinstance(segment, KeySegment):
            choices.append(["/{}"])
        elif isinstance(segment, CastSegment):
            choices.append(["", f"/{segment.type}"] if segment.optional else [f"/{segment.type}"])
        elif isinstance(segment, ActionSegment):
            choices.append([f"/{segment.short_name}"])
        else:
            choices.append(["", *(path for alternative in segment.alternatives for path in _expand(alternative))])
    for parts in itertools.product(*choices):
        yield "".join(parts)


def _normalise(path: str) -> str:
    path = PLACEHOLDER.sub("{}", path)
    return "/users/{}" + path.removeprefix("/me") if path.startswith("/me/") else path


def test_generated_routes_are_sdk_routes_or_explained() -> None:
    sdk = {_normalise(template) for _, template in SDK_ROUTES}
    unexplained: list[str] = []
    used: set[str] = set()
    for route in load_schema("v1.0").routes:
        for path in _expand(route.segments):
            normalised = _normalise(path)
            if normalised in sdk:
                continue
            reason = next((what for what, pattern, _ in METADATA_ONLY if pattern.search(normalised)), None)
            if reason is None:
                unexplained.append(normalised)
            else:
                used.add(reason)
    assert unexplained == []
    assert used == {what for what, _, _ in METADATA_ONLY}, "an explanation row no longer applies: remove it"


def test_beta_only_routes_are_absent_from_v1() -> None:
    seed_task = "/users/u/outlook/taskGroups/g/taskFolders/f/tasks/t/attachments"
    assert load_schema("v1.0").match_route(f"/v1.0{seed_task}") is None
    assert not [r.template for r in load_schema("v1.0").routes if "/outlook/" in r.template]
    found = load_schema("beta").match_route(f"/beta{seed_task}")
    assert found is not None and found.route.is_deprecated
    assert found.route.parent_type == "microsoft.graph.outlookTask"


# The seed page's four routes (kept from the project's first specification).
SEED_ROUTES = [
    ("/users/u/messages/m/attachments", ("v1.0", "beta"), "microsoft.graph.message"),
    ("/users/u/messages/m/event/attachments", ("v1.0", "beta"), "microsoft.graph.event"),
    ("/groups/g/conversations/c/threads/t/posts/p/attachments", ("v1.0", "beta"), "microsoft.graph.post"),
    ("/users/u/outlook/taskGroups/g/taskFolders/f/tasks/t/attachments", ("beta",), "microsoft.graph.outlookTask"),
]


@pytest.mark.parametrize(("path", "versions", "parent"), SEED_ROUTES)
def test_seed_routes(path: str, versions: tuple[str, ...], parent: str) -> None:
    for version in API_VERSIONS:
        found = load_schema(version).match_route(f"/{version}{path}")
        if version in versions:
            assert found is not None and found.route.parent_type == parent
        else:
            assert found is None


# --- inline carriers against the SDK -----------------------------------------------


CARRIER_CASES = [
    (kind, form, path, body) for kind, template, body in SDK_CARRIERS for form, path in _key_forms(template)
]


@pytest.mark.parametrize(
    ("kind", "form", "path", "body"), CARRIER_CASES, ids=[f"{f}:{p}" for _, f, p, _ in CARRIER_CASES]
)
def test_every_sdk_carrier_is_a_generated_carrier(kind: str, form: str, path: str, body: str) -> None:
    found = load_schema("v1.0").match_carrier(f"/v1.0{path}")
    assert found is not None, f"no generated carrier matches {path}"
    carrier = found.carrier
    assert carrier.kind == kind
    if kind == "action":
        member, _, model = body.partition(":")
        assert [a.path for a in carrier.attachments] == [f"$.{member}.attachments"]
        assert carrier.attachments[0].parent_type == f"microsoft.graph.{model[0].lower()}{model[1:]}"
    else:
        assert carrier.body_type == f"microsoft.graph.{body[0].lower()}{body[1:]}"
        assert carrier.attachments
