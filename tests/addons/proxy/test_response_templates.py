"""Replayed answers copied from a per-response template are independent and exact."""

from __future__ import annotations

import pytest
from mitmproxy import http
from mitmproxy.test import tflow, tutils

from graphtape.addons.proxy.flow_convert import to_mitmproxy_response
from graphtape.addons.proxy.response_templates import ResponseTemplates
from graphtape.cassettes.model import Headers, Response

RECORDED = Response(201, "Created", Headers((("Content-Type", "application/json"), ("Connection", "keep-alive"),
                                              ("request-id", "r-1"), ("request-id", "r-2"))), b'{"id":"AAMk"}')


def _flow(http_version: str) -> http.HTTPFlow:
    return tflow.tflow(req=tutils.treq(http_version=http_version.encode()))


@pytest.mark.parametrize("http_version", ["HTTP/1.1", "HTTP/2.0"])
def test_a_copy_is_what_a_fresh_build_gives(http_version: str) -> None:
    templates = ResponseTemplates()
    for _ in range(2):  # the first builds the template, the second copies it
        flow = _flow(http_version)
        copied, built = templates.response_for(RECORDED, flow), to_mitmproxy_response(RECORDED, flow)
        assert (copied.http_version, copied.status_code, copied.reason, copied.raw_content) == \
               (built.http_version, built.status_code, built.reason, built.raw_content)
        assert copied.headers.fields == built.headers.fields
    assert len(templates) == 1


def test_one_answer_edited_by_an_addon_leaves_the_next_untouched() -> None:
    templates = ResponseTemplates()
    first = templates.response_for(RECORDED, _flow("HTTP/1.1"))
    first.headers["X-Added"] = "1"
    first.status_code = 500
    first.content = b"changed"
    second = templates.response_for(RECORDED, _flow("HTTP/1.1"))
    assert "X-Added" not in second.headers
    assert (second.status_code, second.raw_content) == (201, RECORDED.body)
    assert second.timestamp_start >= first.timestamp_start


def test_http_versions_get_their_own_template() -> None:
    templates = ResponseTemplates()
    h1 = templates.response_for(RECORDED, _flow("HTTP/1.1"))
    h2 = templates.response_for(RECORDED, _flow("HTTP/2.0"))
    assert "Connection" in h1.headers and "Connection" not in h2.headers
    assert len(templates) == 2
