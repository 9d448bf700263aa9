from __future__ import annotations

import gzip
import json
import zlib

import brotli
import pytest

from graphtape.cassettes.encoding import decode_body
from graphtape.cassettes.model import Headers, Request, Response
from graphtape.cassettes.redaction import REDACTED, Redactor


@pytest.mark.parametrize("name, value, expected", [
    ("Authorization", "Bearer fake-jwt-header.fake-payload.fake-sig", "Bearer REDACTED"),
    ("authorization", "Basic dXNlcjpwYXNz", "Basic REDACTED"),
    ("Proxy-Authorization", "Bearer abc", "Bearer REDACTED"),
    ("Cookie", "session=abc; other=def", REDACTED),
    ("X-Other", "kept", "kept"),
])
def test_request_headers(name: str, value: str, expected: str) -> None:
    req = Request("GET", "https://x/y", Headers(((name, value),)))
    assert Redactor().request(req).headers.get(name) == expected


@pytest.mark.parametrize("uri, expected", [
    ("https://outlook.office.com/up?authtoken=abc.def&x=1", "https://outlook.office.com/up?authtoken=REDACTED&x=1"),
    ("https://x/y?access_token=1&sig=2&code=3&client_secret=4",
     "https://x/y?access_token=REDACTED&sig=REDACTED&code=REDACTED&client_secret=REDACTED"),
    ("https://x/y?AuthToken=1", "https://x/y?AuthToken=REDACTED"),
    ("https://user:pw@x/y", "https://REDACTED@x/y"),
    ("https://x/y?keep=1", "https://x/y?keep=1"),
])
def test_query_parameters(uri: str, expected: str) -> None:
    assert Redactor().redact_uri(uri) == expected


def test_json_and_form_fields() -> None:
    r = Redactor()
    body = json.dumps({"a": {"client_secret": "s1", "list": [{"password": "p"}]}, "keep": "k"}).encode()
    out = json.loads(r.redact_body(body, "application/json"))
    assert out == {"a": {"client_secret": REDACTED, "list": [{"password": REDACTED}]}, "keep": "k"}
    form = r.redact_body(b"grant_type=refresh_token&refresh_token=abc&client_id=1", "application/x-www-form-urlencoded")
    assert form == b"grant_type=refresh_token&refresh_token=REDACTED&client_id=1"


def test_untouched_bodies_keep_their_bytes() -> None:
    body = b'{ "name" :  "a.txt" }'
    assert Redactor().redact_body(body, "application/json") is body


def test_user_additions_and_response() -> None:
    r = Redactor.with_extra(headers=["X-Api-Key"], query_params=["token"], body_fields=["apiKey"])
    req = Request("POST", "https://x/y?token=1", Headers((("X-Api-Key", "k"),)), b'{"apiKey":"v"}')
    out = r.request(req)
    assert out.uri == "https://x/y?token=REDACTED"
    assert out.headers.get("x-api-key") == REDACTED
    assert json.loads(out.body) == {"apiKey": REDACTED}
    resp = r.response(Response(200, "OK", Headers((("Set-Cookie", "a=b"),)), b'{"access_token":"t"}'))
    assert resp.headers.get("set-cookie") == REDACTED
    assert json.loads(resp.body) == {"access_token": REDACTED}


def test_redaction_is_idempotent() -> None:
    r = Redactor()
    req = Request("POST", "https://x/y?sig=1", Headers((("Authorization", "Bearer t"),)), b'{"password":"p"}')
    once = r.request(req)
    assert r.request(once) == once


@pytest.mark.parametrize("body, expected_url", [
    ({"uploadUrl": "https://outlook.office.com/api/v2.0/Users('u')/AttachmentSessions('s')?authtoken=fake-1"},
     "https://outlook.office.com/api/v2.0/Users('u')/AttachmentSessions('s')?authtoken=REDACTED"),
    ({"nested": [{"href": "https://x/y?sig=fake-2&keep=1"}]}, "https://x/y?sig=REDACTED&keep=1"),
])
def test_urls_in_json_responses_lose_their_tokens_and_the_length_follows(body: dict, expected_url: str) -> None:
    raw = json.dumps(body).encode()
    resp = Redactor().response(Response(201, "Created", Headers((("Content-Length", str(len(raw))),)), raw))
    assert b"fake-" not in resp.body
    assert expected_url in resp.body.decode()
    assert resp.headers.get("content-length") == str(len(resp.body))


def test_urls_without_token_parameters_keep_their_bytes() -> None:
    body = b'{"uploadUrl": "https://x/y?keep=1", "note": "authtoken= is only mentioned"}'
    assert Redactor().redact_body(body, "application/json") is body


_CODINGS = {
    "gzip": lambda b: gzip.compress(b, mtime=0),
    "deflate": zlib.compress,
    "br": brotli.compress,
}


@pytest.mark.parametrize("coding", ["gzip", "deflate", "br", "gzip, br"])
@pytest.mark.parametrize("content_type, plain, secret", [
    ("application/json", b'{"name": "a.txt", "password": "fake-pw-123"}', b"fake-pw-123"),
    ("application/x-www-form-urlencoded", b"grant_type=refresh_token&refresh_token=fake-rt-456", b"fake-rt-456"),
])
def test_secrets_inside_encoded_bodies_are_redacted(coding: str, content_type: str, plain: bytes,
                                                    secret: bytes) -> None:
    encoded = plain
    for c in coding.split(", "):
        encoded = _CODINGS[c](encoded)
    headers = Headers((("Content-Type", content_type), ("Content-Encoding", coding)))
    req = Redactor().request(Request("POST", "https://x/token", headers, encoded))
    resp = Redactor().response(Response(200, "OK", headers, encoded))
    for body in (req.body, resp.body):
        decoded = decode_body(body, coding)
        assert secret not in decoded and REDACTED.encode() in decoded
    # a body with no secret in it keeps its exact bytes
    clean = _CODINGS["gzip"](b'{"name": "b.txt"}')
    clean_headers = Headers((("Content-Type", content_type), ("Content-Encoding", "gzip")))
    assert Redactor().request(Request("POST", "https://x/", clean_headers, clean)).body is clean
