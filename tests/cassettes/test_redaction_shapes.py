"""Redaction on meaning, in many shapes: the secret never survives, and replay still matches.

Each shape plants a secret the way a client or a server could really send it (the
truth source per row: RFC 8259 for JSON escapes, duplicate names and UTF-16/32
detection; the WHATWG URL standard for form bodies and percent-encoding; RFC 7578
for multipart/form-data; RFC 6750 for bearer tokens; RFC 7519 for the JWT shape;
RFC 6749 for the OAuth field names; RFC 9110 for Content-Encoding). For every shape
and every coding, with hypothesis choosing the secret:

- the secret appears nowhere in the redacted message, decoded or not;
- a second request in the same shape with another secret redacts to the same match
  key (replay redacts the live request before looking it up);
- redacting again changes nothing (record and replay agree);
- what cannot be checked is withheld, with a marker validation reports.
"""

from __future__ import annotations

import codecs
import gzip
import json
import zlib
from collections.abc import Callable

import brotli
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graphtape.cassettes.encoding import MAX_DECODED_BYTES, decode_body, decode_for_validation
from graphtape.cassettes.matching import request_key
from graphtape.cassettes.model import Headers, Request, Response
from graphtape.cassettes.redaction import Redactor
from graphtape.cassettes.withheld import withheld_reason

URI = "https://graph.microsoft.com/v1.0/me/messages/AAMk=/attachments"
JWT_HEAD = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9"


def _utf16(text: str) -> bytes:
    return codecs.BOM_UTF16_LE + text.encode("utf-16-le")


# (name, content type, body builder from a secret): a secret in a body, as a receiver would read it.
BODY_SHAPES: list[tuple[str, str, Callable[[str], bytes]]] = [
    ("json", "application/json", lambda s: json.dumps({"password": s}).encode()),
    ("json escaped key", "application/json", lambda s: b'{"pass\\u0077ord": "' + s.encode() + b'"}'),
    ("json escaped value", "application/json", lambda s: b'{"client_secret": "\\u0041' + s.encode() + b'"}'),
    ("json duplicate keys", "application/json", lambda s: b'{"password": "x", "password": "' + s.encode() + b'"}'),
    ("json nested in lists", "application/json", lambda s: json.dumps({"a": [[{"b": {"refresh_token": s}}]]}).encode()),
    ("json deep nesting", "application/json",
     lambda s: b"[" * 3000 + json.dumps({"password": s}).encode() + b"]" * 3000),
    ("json trailing comma", "application/json", lambda s: b'{"password": "' + s.encode() + b'",}'),
    ("json single quotes", "application/json", lambda s: b"{'password': '" + s.encode() + b"'}"),
    ("json unquoted key", "application/json", lambda s: b"{password: \"" + s.encode() + b"\"}"),
    ("json utf-16 with bom", "application/json", lambda s: _utf16(json.dumps({"password": s}))),
    ("json utf-16 without bom", "application/json", lambda s: json.dumps({"password": s}).encode("utf-16-be")),
    ("json utf-32", "application/json", lambda s: json.dumps({"access_token": s}).encode("utf-32")),
    ("json utf-8 bom", "application/json", lambda s: codecs.BOM_UTF8 + json.dumps({"password": s}).encode()),
    ("json without content type", "", lambda s: json.dumps({"client_secret": s}).encode()),
    ("json as text/plain", "text/plain", lambda s: json.dumps({"client_secret": s}).encode()),
    ("json camelCase name", "application/json", lambda s: json.dumps({"clientSecret": s}).encode()),
    ("json string holding json", "application/json",
     lambda s: json.dumps({"payload": json.dumps({"password": s})}).encode()),
    ("json id_token", "application/json", lambda s: json.dumps({"id_token": s}).encode()),
    ("json client_assertion", "application/json", lambda s: json.dumps({"client_assertion": s}).encode()),
    ("json bearer string", "application/json", lambda s: json.dumps({"note": f"Bearer {s}"}).encode()),
    ("json jwt anywhere", "application/json", lambda s: json.dumps({"x": f"{JWT_HEAD}.{s}.sig"}).encode()),
    ("json url with token", "application/json",
     lambda s: json.dumps({"uploadUrl": f"https://outlook.office.com/x?authtoken={s}"}).encode()),
    ("json url fragment", "application/json",
     lambda s: json.dumps({"next": f"https://x/cb#access_token={s}&state=1"}).encode()),
    ("json url user info", "application/json", lambda s: json.dumps({"u": f"https://user:{s}@host/x"}).encode()),
    ("form", "application/x-www-form-urlencoded", lambda s: f"grant_type=password&password={s}".encode()),
    ("form without content type", "", lambda s: f"grant_type=refresh_token&refresh_token={s}".encode()),
    ("form percent-encoded name", "application/x-www-form-urlencoded",
     lambda s: f"client%5Fsecret={s}&x=1".encode()),
    ("form oauth code", "application/x-www-form-urlencoded",
     lambda s: f"grant_type=authorization_code&code={s}".encode()),
    ("form assertion", "application/x-www-form-urlencoded", lambda s: f"assertion={s}&scope=x".encode()),
    ("multipart", "multipart/form-data; boundary=XyZ",
     lambda s: f'--XyZ\r\nContent-Disposition: form-data; name="password"\r\n\r\n{s}\r\n--XyZ--\r\n'.encode()),
    ("multipart without content type", "",
     lambda s: f'--b1\r\nContent-Disposition: form-data; name="client_secret"\r\n\r\n{s}\r\n--b1--\r\n'.encode()),
    ("multipart json part", "multipart/mixed; boundary=q",
     lambda s: f"--q\r\nContent-Type: application/json\r\n\r\n{json.dumps({'password': s})}\r\n--q--\r\n".encode()),
    ("multipart base64 part", "multipart/mixed; boundary=q",
     lambda s: b"--q\r\nContent-Transfer-Encoding: base64\r\n\r\n"
     + __import__("base64").b64encode(f"password={s}".encode()) + b"\r\n--q--\r\n"),
    ("multipart unterminated", "multipart/form-data; boundary=XyZ",
     lambda s: f'--XyZ\r\nContent-Disposition: form-data; name="password"\r\n\r\n{s}\r\n'.encode()),
    ("text pair", "text/plain", lambda s: f"login ok, password: {s} (do not share)".encode()),
    ("xml bearer", "application/xml", lambda s: f"<a><auth>Bearer {s}</auth></a>".encode()),
]

_ENCODERS: dict[str, Callable[[bytes], bytes]] = {
    "identity": lambda b: b,
    "gzip": lambda b: gzip.compress(b, mtime=0),
    "two gzip members": lambda b: gzip.compress(b"", mtime=0) + gzip.compress(b, mtime=0),
    "deflate": zlib.compress,
    "br": brotli.compress,
    "gzip, br": lambda b: brotli.compress(gzip.compress(b, mtime=0)),
}

secrets = st.text(alphabet="ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789-_", min_size=10,
                  max_size=30).map(lambda s: "Sx9" + s)


def _coding_header(coding: str) -> str:
    return "gzip" if coding == "two gzip members" else coding


def _request(shape: tuple[str, str, Callable[[str], bytes]], coding: str, secret: str) -> Request:
    _, ctype, build = shape
    headers = [("Content-Type", ctype)] if ctype else []
    if coding != "identity":
        headers.append(("Content-Encoding", _coding_header(coding)))
    return Request("POST", URI, Headers(tuple(headers)), _ENCODERS[coding](build(secret)))


def _readable(message: Request | Response) -> bytes:
    body, findings = decode_for_validation(message.body, message.headers.get("content-encoding"), "request")
    return body if not findings else message.body


def _leaks(secret: str, message: Request) -> bool:
    text = _readable(message)
    readings = [text, text.decode("utf-16-le", "ignore").encode(), text.decode("utf-16-be", "ignore").encode(),
                text.decode("utf-32", "ignore").encode() if len(text) % 4 == 0 else b""]
    needle = secret[3:].encode()  # the random part (JSON or base64 might split off the prefix)
    return any(needle in r for r in readings) or secret.encode() in message.uri.encode()


@pytest.mark.parametrize("coding", list(_ENCODERS))
@pytest.mark.parametrize("shape", BODY_SHAPES, ids=[s[0] for s in BODY_SHAPES])
@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(secret=secrets, other=secrets)
def test_a_secret_in_any_body_shape_is_gone_and_replay_still_matches(shape, coding: str, secret: str,
                                                                     other: str) -> None:
    redactor = Redactor()
    recorded = redactor.request(_request(shape, coding, secret))
    assert not _leaks(secret, recorded), (shape[0], coding, recorded.body[:200])
    replayed = redactor.request(_request(shape, coding, other))  # the same call, another secret
    assert request_key(replayed) == request_key(recorded), (shape[0], coding)
    assert redactor.request(recorded) == recorded  # idempotent: record and replay agree


# (name, header name, value builder): secrets in headers and URLs.
HEADER_SHAPES: list[tuple[str, str, Callable[[str], str]]] = [
    ("authorization", "Authorization", lambda s: f"Bearer {s}"),
    ("x-api-key", "X-API-Key", lambda s: s),
    ("apim key", "Ocp-Apim-Subscription-Key", lambda s: s),
    ("x-ms-token", "X-MS-TOKEN-AAD-ID-TOKEN", lambda s: s),
    ("any -token header", "X-Csrf-Token", lambda s: s),
    ("bearer in another header", "X-Forwarded-Authorization", lambda s: f"Bearer {s}"),
    ("jwt in any header", "X-Debug", lambda s: f"{JWT_HEAD}.{s}.sig"),
    ("location query", "Location", lambda s: f"https://x/cb?code={s}&state=1"),
    ("location fragment", "Location", lambda s: f"https://x/cb#access_token={s}&token_type=bearer"),
    ("content-location jwt", "Content-Location", lambda s: f"/items/{JWT_HEAD}.{s}.sig"),
    ("link header", "Link", lambda s: f"<https://x/next?sig={s}>; rel=\"next\""),
    ("cookie", "Cookie", lambda s: f"session={s}"),
]

QUERY_SHAPES = ["authtoken", "access_token", "token", "sig", "code", "api_key", "api-key", "subscription-key",
                "X-Amz-Signature", "X-Amz-Security-Token", "client_secret", "id_token", "Access%5Ftoken"]


@pytest.mark.parametrize("shape", HEADER_SHAPES, ids=[s[0] for s in HEADER_SHAPES])
@settings(max_examples=5, deadline=None)
@given(secret=secrets, other=secrets)
def test_a_secret_in_any_header_is_gone_on_requests_and_responses(shape, secret: str, other: str) -> None:
    _, name, build = shape
    redactor = Redactor()
    req = redactor.request(Request("GET", URI, Headers(((name, build(secret)),))))
    resp = redactor.response(Response(302, "Found", Headers(((name, build(secret)),))))
    assert secret not in req.headers.get(name, "") and secret not in resp.headers.get(name, "")
    again = redactor.request(Request("GET", URI, Headers(((name, build(other)),))))
    assert again.headers == req.headers  # another secret, the same redacted headers


@pytest.mark.parametrize("param", QUERY_SHAPES)
@settings(max_examples=5, deadline=None)
@given(secret=secrets, other=secrets)
def test_a_secret_query_parameter_is_gone_and_replay_still_matches(param: str, secret: str, other: str) -> None:
    redactor = Redactor()
    sent = redactor.request(Request("GET", f"{URI}?$select=id&{param}={secret}"))
    assert secret not in sent.uri
    assert request_key(redactor.request(Request("GET", f"{URI}?$select=id&{param}={other}"))) == request_key(sent)


def test_a_body_that_cannot_be_checked_is_withheld_with_a_finding() -> None:
    bomb = gzip.compress(b'{"password": "' + b"a" * (MAX_DECODED_BYTES + 10) + b'"}', mtime=0)
    cases = [
        (bomb, "gzip", "inflating past"),
        (b"\x1f\x8b\x08\x00garbage", "gzip", "could not be undone"),
        (b"opaque", "zstd-ish", "could not be undone"),
        (b'{"password": "x",}', None, "could not be parsed"),
    ]
    for body, coding, reason in cases:
        headers = Headers((("Content-Type", "application/json"),) + ((("Content-Encoding", coding),) if coding else ()))
        out = Redactor().response(Response(200, "OK", headers, body))
        assert reason in (withheld_reason(out.body) or ""), (coding, out.body[:80])
        assert out.headers.get("content-encoding") is None
        _, findings = decode_for_validation(out.body, None, "response")
        assert [f.code for f in findings] == ["body-withheld"]


def test_clean_bodies_keep_their_exact_bytes() -> None:
    for body, ctype in [(b'{ "name" :  "a.txt", "size": 1.0e2 }', "application/json"),
                        (b'{"@odata.type": "#microsoft.graph.fileAttachment", "name": "caf\xc3\xa9"}', ""),
                        (b"\x00\x01binary", "application/octet-stream"),
                        (b'{"error": {"code": "ErrorItemNotFound", "message": "basic information"}}', "")]:
        assert Redactor().redact_body(body, ctype) is body


def test_two_gzip_members_are_both_read() -> None:
    body = gzip.compress(b'{"a": ', mtime=0) + gzip.compress(b'"b"}', mtime=0)
    assert decode_body(body, "gzip") == b'{"a": "b"}'
