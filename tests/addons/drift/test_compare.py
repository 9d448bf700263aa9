"""The drift model: shapes, volatile paths, per-subtype comparison, config, drifting simulation."""

from __future__ import annotations

import json

import pytest

from graphtape.addons.drift.compare import (
    compare_samples,
    sample_from_exchange,
    schema_drift,
)
from graphtape.addons.drift.config import (
    DriftConfig,
    DriftConfigError,
    DriftKind,
    config_from_data,
    path_pattern,
)
from graphtape.addons.simulation.drift_variants import (
    DRIFT_VARIANTS,
    DriftingSimulation,
    UnknownDriftError,
)
from graphtape.addons.simulation.engine import GraphSimulation
from graphtape.cli.examples.example_requests import EXAMPLES, FAKE_TOKEN

ROUTE = "https://graph.microsoft.com/v1.0/me/messages/AAMk=/attachments"
FILE_REQUEST = json.dumps({"@odata.type": "#microsoft.graph.fileAttachment", "name": "a.txt",
                           "contentBytes": "aGk="}).encode()
FILE_RESPONSE = {
    "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users('x')/messages('AAMk=')/attachments/$entity",
    "@odata.type": "#microsoft.graph.fileAttachment", "id": "AAMkA1", "lastModifiedDateTime": "2026-11-26T20:00:00Z",
    "name": "a.txt", "contentType": "text/plain", "size": 162, "isInline": False, "contentBytes": "aGk=",
    "contentId": None, "contentLocation": None,
}
JSON = {"content-type": "application/json;odata.metadata=minimal"}


def _sample(body: dict, status: int = 201, headers: dict | None = None):
    return sample_from_exchange("t", "POST", ROUTE, FILE_REQUEST, status, headers or JSON, json.dumps(body).encode())


@pytest.mark.parametrize(("pattern", "path", "matches"), [
    ("$..id", "$.id", True),
    ("$..id", "$.item.id", True),
    ("$..id", "$.contentId", False),
    ("$.error.innerError", "$.error.innerError", True),
    ("$.value[*].name", "$.value[*].name", True),
    ("$.item.*", "$.item.subject", True),
    ("$.item.*", "$.item", False),
])
def test_path_patterns(pattern: str, path: str, matches: bool) -> None:
    assert bool(path_pattern(pattern).match(path)) is matches


def test_volatile_covers_what_is_under_it() -> None:
    assert DriftConfig().is_volatile("$.error.innerError.date")
    assert not DriftConfig().is_volatile("$.size")


@pytest.mark.parametrize("change", [
    {"id": 12345},  # an id that became a number
    {"lastModifiedDateTime": None, "@odata.context": None},
])
def test_volatile_fields_never_drift_unless_configured(change: dict) -> None:
    before, after = _sample(FILE_RESPONSE), _sample({**FILE_RESPONSE, **change})
    after_missing = _sample({k: v for k, v in FILE_RESPONSE.items() if k not in change})
    for candidate in (after, after_missing):
        assert compare_samples([before], [candidate], DriftConfig()) == []
    strict = config_from_data({"replace_default_volatile": True}, "test")
    drifted = compare_samples([before], [after], strict) + compare_samples([before], [after_missing], strict)
    assert drifted  # the same changes count once the paths are no longer volatile


@pytest.mark.parametrize(("change", "kind", "path"), [
    ({"size": "162"}, DriftKind.TYPE_CHANGE, "$.size"),
    ({"isDownloadable": True}, DriftKind.UNDOCUMENTED_PROPERTY, "$.isDownloadable"),
    ({"sourceUrl": "https://x"}, DriftKind.UNDOCUMENTED_PROPERTY, "$.sourceUrl"),
    ({"@odata.type": "#microsoft.graph.itemAttachment"}, DriftKind.ODATA_TYPE_CHANGE, "$.@odata.type"),
])
def test_each_change_is_drift_against_baseline_and_schema(change: dict, kind: DriftKind, path: str) -> None:
    candidate = _sample({**FILE_RESPONSE, **change})
    against_baseline = compare_samples([_sample(FILE_RESPONSE)], [candidate], DriftConfig())
    assert (kind.value, path) in {(f.code, f.path) for f in against_baseline}
    assert (kind.value, path) in {(f.code, f.path) for f in schema_drift(candidate, DriftConfig())}


def test_status_and_content_type_changes() -> None:
    candidate = _sample(FILE_RESPONSE, status=200, headers={"content-type": "text/plain"})
    found = {f.code for f in compare_samples([_sample(FILE_RESPONSE)], [candidate], DriftConfig())}
    assert found == {"status-change", "content-type-change"}


def test_a_clean_response_has_no_schema_drift() -> None:
    assert schema_drift(_sample(FILE_RESPONSE), DriftConfig()) == []


def test_unknown_attachment_route_is_a_new_route() -> None:
    s = sample_from_exchange("t", "POST", "https://graph.microsoft.com/v1.0/me/chats/1/attachments", b"{}", 201,
                             JSON, b"{}")
    assert [f.code for f in schema_drift(s, DriftConfig())] == ["new-route"]
    assert s.request_line == "POST /v1.0/me/chats/{id}/attachments"  # ids never leave in an alert


@pytest.mark.parametrize(("data", "needle"), [
    ({"severity": {"nope": "error"}}, "nope"),
    ({"severity": {"type-change": "loud"}}, "loud"),
    ({"volatile": ["id"]}, "'$'"),
    ({"volatiles": []}, "volatiles"),
    (["a"], "mapping"),
])
def test_bad_config_names_the_problem(data: object, needle: str) -> None:
    with pytest.raises(DriftConfigError, match=None) as info:
        config_from_data(data, "cfg.yaml")
    assert needle in str(info.value) and "cfg.yaml" in str(info.value)


def test_severity_off_drops_a_kind() -> None:
    config = config_from_data({"severity": {"type-change": "off"}}, "t")
    assert compare_samples([_sample(FILE_RESPONSE)], [_sample({**FILE_RESPONSE, "size": "1"})], config) == []


@pytest.mark.parametrize("name", sorted(DRIFT_VARIANTS))
def test_every_drift_variant_changes_some_answer(name: str) -> None:
    plain, drifting = GraphSimulation(), DriftingSimulation([name])
    headers = {"authorization": f"Bearer {FAKE_TOKEN}", "content-type": "application/json"}
    changed = False
    for ex in EXAMPLES[:3]:
        a = plain.handle("POST", ex.path, headers, ex.body)
        b = drifting.handle("POST", ex.path, headers, ex.body)
        body_a = {k: v for k, v in a.json().items() if k not in ("id", "lastModifiedDateTime")}
        body_b = {k: v for k, v in b.json().items() if k not in ("id", "lastModifiedDateTime")}
        changed |= (a.status, body_a, a.header("content-type")) != (b.status, body_b, b.header("content-type"))
    assert changed


def test_drift_names_are_checked_and_comma_lists_accepted() -> None:
    assert DriftingSimulation(["size-as-string,status-200", "size-as-string"]).drifts == ("size-as-string",
                                                                                          "status-200")
    with pytest.raises(UnknownDriftError, match="rename-property"):
        DriftingSimulation(["renamed"])
