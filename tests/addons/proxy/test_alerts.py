"""The Alerts addon in mitmproxy's test context: what it alerts, marks and leaves alone."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from mitmproxy import exceptions
from mitmproxy.test import taddons, tflow, tutils

from graphtape.addons.proxy.alerts import FINDINGS_METADATA_KEY, Alerts
from graphtape.addons.proxy.tape import Tape
from graphtape.cassettes.findings import Finding, Severity

PATH = "/v1.0/users/adele@contoso.com/messages/AAMkAGI2THVSAAA=/attachments?sig=fake-sig-123"
REQUEST = {"@odata.type": "#microsoft.graph.fileAttachment", "name": "a.txt", "contentBytes": "aGk="}
RESPONSE = {"@odata.type": "#microsoft.graph.fileAttachment", "id": "AAMkA1",
            "lastModifiedDateTime": "2026-11-26T20:00:00Z", "name": "a.txt", "contentType": "text/plain",
            "size": 162, "isInline": False, "contentBytes": "aGk=", "contentId": None, "contentLocation": None}


def _flow(response: dict, findings: list[Finding] | None):
    flow = tflow.tflow(req=tutils.treq(method=b"POST", path=PATH.encode(), content=json.dumps(REQUEST).encode(),
                                       headers=((b"authorization", b"Bearer fake-token-123"),
                                                (b"content-type", b"application/json"))),
                       resp=tutils.tresp(status_code=201, content=json.dumps(response).encode(),
                                         headers=((b"content-type", b"application/json"),)))
    if findings is not None:
        flow.metadata[FINDINGS_METADATA_KEY] = [f.to_dict() for f in findings]
    return flow


def _records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_drift_the_recorder_could_not_see_is_alerted_and_marked(tmp_path: Path) -> None:
    alerts = Alerts(Tape())
    with taddons.context(alerts) as tctx:
        tctx.configure(alerts, graphtape_alerts=str(tmp_path / "a.jsonl"))
        without = {k: v for k, v in RESPONSE.items() if k != "contentType"}  # a documented property gone
        flow = _flow(without, [])
        asyncio.run(alerts.response(flow))
        assert flow.marked == ":x:" and "$.contentType" in flow.comment
        alerts.done()
    (record,) = _records(tmp_path / "a.jsonl")
    assert (record["kind"], record["finding"]["path"], record["subtype"]) == (
        "missing-property", "$.contentType", "fileAttachment")
    text = (tmp_path / "a.jsonl").read_text()
    assert "fake-token-123" not in text and "fake-sig-123" not in text and "adele@contoso.com" not in text


def test_what_the_recorder_marked_is_not_marked_again(tmp_path: Path) -> None:
    recorded = Finding(Severity.ERROR, "wrong-type", "response", "$.size", "Int32", 'string "162"', "size")
    alerts = Alerts(Tape())
    with taddons.context(alerts) as tctx:
        tctx.configure(alerts, graphtape_alerts=str(tmp_path / "a.jsonl"))
        flow = _flow({**RESPONSE, "size": "162"}, [recorded])
        flow.comment, flow.marked = "by the recorder", ":x:"
        asyncio.run(alerts.response(flow))
        assert flow.comment == "by the recorder"  # the same finding is not commented twice
        alerts.done()
    assert [r["kind"] for r in _records(tmp_path / "a.jsonl")] == ["type-change"]


def test_flows_the_recorder_did_not_record_are_left_alone(tmp_path: Path) -> None:
    alerts = Alerts(Tape())
    with taddons.context(alerts) as tctx:
        tctx.configure(alerts, graphtape_alerts=str(tmp_path / "a.jsonl"))
        flow = _flow({**RESPONSE, "size": "1"}, None)  # replayed or out of scope: no findings stored
        asyncio.run(alerts.response(flow))
        assert not flow.marked and not flow.comment
        alerts.done()
    assert (tmp_path / "a.jsonl").read_text() == ""


@pytest.mark.parametrize(("option", "value", "needle"), [
    ("graphtape_alert_webhook", "ftp://127.0.0.1/x", "http(s)"),
    ("graphtape_drift_config", "/nonexistent/drift.yaml", "drift.yaml"),
])
def test_bad_options_are_refused(option: str, value: str, needle: str) -> None:
    alerts = Alerts(Tape())
    with taddons.context(alerts) as tctx:
        with pytest.raises(exceptions.OptionsError, match=None) as info:
            tctx.configure(alerts, **{option: value})
        assert needle in str(info.value)


def test_an_alerts_file_in_a_missing_folder_is_refused(tmp_path: Path) -> None:
    alerts = Alerts(Tape())
    with taddons.context(alerts) as tctx:
        with pytest.raises(exceptions.OptionsError, match="cannot open"):
            tctx.configure(alerts, graphtape_alerts=str(tmp_path / "missing" / "a.jsonl"))
    assert not (tmp_path / "missing").exists()


@pytest.mark.parametrize(("path", "alerted"), [
    ("/v1.0/chats/19:abc/messages/1/attachments", True),  # not in graphtape's route table
    ("/v1.0/me/messages/AAMk=/attachments", False),  # a documented route (the recorder's business)
    ("/v1.0/me/messages", False),  # not an attachment call
    ("/api/v2.0/Users('u')/Messages('m')/AttachmentSessions('s')", False),  # an upload URL, not a route
])
def test_an_unknown_attachment_route_passed_through_is_a_new_route(tmp_path: Path, path: str,
                                                                    alerted: bool) -> None:
    alerts = Alerts(Tape())
    with taddons.context(alerts) as tctx:
        tctx.configure(alerts, graphtape_alerts=str(tmp_path / "a.jsonl"))
        flow = _flow(RESPONSE, None)
        flow.request.path = path
        asyncio.run(alerts.response(flow))
        alerts.done()
    kinds = [r["kind"] for r in _records(tmp_path / "a.jsonl")]
    assert kinds == (["new-route"] if alerted else [])


def test_response_findings_that_are_not_drift_alert_as_they_are(tmp_path: Path) -> None:
    envelope = Finding(Severity.WARNING, "error-envelope", "response", "$.error.code", "String", "absent", "m")
    alerts = Alerts(Tape())
    with taddons.context(alerts) as tctx:
        tctx.configure(alerts, graphtape_alerts=str(tmp_path / "a.jsonl"))
        asyncio.run(alerts.response(_flow(RESPONSE, [envelope])))
        alerts.done()
    assert [r["kind"] for r in _records(tmp_path / "a.jsonl")] == ["error-envelope"]
