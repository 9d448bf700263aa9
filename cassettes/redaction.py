"""Secret redaction, applied identically to what is recorded and to live requests.

Because replay redacts each live request the same way before computing its match
key, a cassette whose tokens were scrubbed still matches (the pain VCR.py users hit
when a before_record hook rewrites what they later try to match).
"""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import parse_qsl, unquote_plus, urlencode, urlsplit, urlunsplit

from graphtape.cassettes.encoding import decode_body
from graphtape.cassettes.errors import BodyDecodeError
from graphtape.cassettes.model import Headers, Request, Response

__all__ = ["DEFAULT_BODY_FIELDS", "DEFAULT_HEADERS", "DEFAULT_QUERY_PARAMS", "REDACTED", "Redactor"]

REDACTED = "REDACTED"

DEFAULT_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})
DEFAULT_QUERY_PARAMS = frozenset({"authtoken", "access_token", "sig", "code", "client_secret"})
DEFAULT_BODY_FIELDS = frozenset({"client_secret", "refresh_token", "access_token", "password"})

# Auth schemes whose name is kept so a reader still sees what kind of credential it was.
_AUTH_SCHEMES = frozenset({"bearer", "basic", "digest", "ntlm", "negotiate", "pop"})


def _lower(names: Iterable[str]) -> frozenset[str]:
    return frozenset(n.strip().lower() for n in names if n.strip())


@dataclass(frozen=True)
class Redactor:
    """What to scrub. Names compare case-insensitively."""

    headers: frozenset[str] = DEFAULT_HEADERS
    query_params: frozenset[str] = DEFAULT_QUERY_PARAMS
    body_fields: frozenset[str] = DEFAULT_BODY_FIELDS

    @classmethod
    def with_extra(
        cls,
        headers: Iterable[str] = (),
        query_params: Iterable[str] = (),
        body_fields: Iterable[str] = (),
    ) -> Redactor:
        """The defaults plus the user's own names."""
        return cls(
            headers=DEFAULT_HEADERS | _lower(headers),
            query_params=DEFAULT_QUERY_PARAMS | _lower(query_params),
            body_fields=DEFAULT_BODY_FIELDS | _lower(body_fields),
        )

    # ------------------------------------------------------------ pieces

    def header_value(self, value: str) -> str:
        scheme, sep, _rest = value.strip().partition(" ")
        if sep and scheme.lower() in _AUTH_SCHEMES:
            return f"{scheme} {REDACTED}"
        return REDACTED

    def redact_headers(self, headers: Headers) -> Headers:
        if not any(k.lower() in self.headers for k, _ in headers):
            return headers
        return Headers(tuple(
            (k, self.header_value(v) if k.lower() in self.headers else v) for k, v in headers
        ))

    def redact_uri(self, uri: str) -> str:
        parts = urlsplit(uri)
        netloc = parts.netloc
        if "@" in netloc:  # credentials in the authority: user:password@host
            netloc = f"{REDACTED}@{netloc.rsplit('@', 1)[1]}"
        query = self.redact_query(parts.query)
        if netloc == parts.netloc and query == parts.query:
            return uri
        return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))

    def redact_query(self, query: str) -> str:
        if not query:
            return query
        changed = False
        out: list[str] = []
        for piece in query.split("&"):
            name, _sep, _value = piece.partition("=")
            if unquote_plus(name).lower() in self.query_params and _value != REDACTED:
                out.append(f"{name}={REDACTED}")
                changed = True
            else:
                out.append(piece)
        return "&".join(out) if changed else query

    def redact_body(self, body: bytes, content_type: str | None) -> bytes:
        """Scrub secret fields in JSON and form bodies; other bodies are returned as they are."""
        if not body or not (self.body_fields or self.query_params):
            return body
        ctype = (content_type or "").lower()
        if "x-www-form-urlencoded" in ctype:
            return self._redact_form(body)
        stripped = body.lstrip()[:1]
        if stripped in (b"{", b"[") or "json" in ctype:
            return self._redact_json(body)
        return body

    def redact_encoded_body(self, body: bytes, content_type: str | None, content_encoding: str | None) -> bytes:
        """Like :meth:`redact_body`, for a body that may be gzip/deflate/br encoded.

        An encoded body is decoded to look for secrets; only if one is found is the
        scrubbed body encoded again (so it differs from what was sent). A body without
        secrets, or one that cannot be decoded, is returned exactly as it was.
        """
        if not content_encoding:
            return self.redact_body(body, content_type)
        try:
            plain = decode_body(body, content_encoding)
        except BodyDecodeError:
            return body
        scrubbed = self.redact_body(plain, content_type)
        if scrubbed is plain:
            return body
        return _encode(scrubbed, content_encoding)

    def _redact_json(self, body: bytes) -> bytes:
        # Cheap pre-check: no field name and no token parameter present, nothing to parse.
        lowered = body.lower()
        if not any(f.encode() in lowered for f in self.body_fields) and not any(
            f"{q}=".encode() in lowered for q in self.query_params
        ):
            return body
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):
            return body
        scrubbed, changed = self._scrub(data)
        if not changed:
            return body
        return json.dumps(scrubbed, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    def _scrub(self, node: Any) -> tuple[Any, bool]:
        if isinstance(node, dict):
            changed = False
            out: dict[str, Any] = {}
            for k, v in node.items():
                if isinstance(k, str) and k.lower() in self.body_fields and v != REDACTED:
                    out[k] = REDACTED
                    changed = True
                else:
                    out[k], c = self._scrub(v)
                    changed = changed or c
            return out, changed
        if isinstance(node, list):
            results = [self._scrub(v) for v in node]
            return [r for r, _ in results], any(c for _, c in results)
        if isinstance(node, str) and "://" in node and "?" in node:
            # A URL handed to the client (an upload session's uploadUrl) carries its token in
            # the query: scrub it as a request URI is scrubbed, so it still names the same path.
            scrubbed = self.redact_uri(node)
            return scrubbed, scrubbed != node
        return node, False

    def _redact_form(self, body: bytes) -> bytes:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return body
        pairs = parse_qsl(text, keep_blank_values=True)
        if not any(k.lower() in self.body_fields and v != REDACTED for k, v in pairs):
            return body
        return urlencode([(k, REDACTED if k.lower() in self.body_fields else v) for k, v in pairs]).encode()

    # ------------------------------------------------------------ whole messages

    def request(self, req: Request) -> Request:
        content_type = req.headers.get("content-type")
        headers = self.redact_headers(req.headers)
        uri = self.redact_uri(req.uri)
        body = self.redact_encoded_body(req.body, content_type, req.headers.get("content-encoding"))
        if headers is req.headers and uri == req.uri and body is req.body:
            return req
        return replace(req, headers=headers, uri=uri, body=body)

    def response(self, resp: Response) -> Response:
        headers = self.redact_headers(resp.headers)
        body = self.redact_encoded_body(resp.body, resp.headers.get("content-type"),
                                        resp.headers.get("content-encoding"))
        if headers is resp.headers and body is resp.body:
            return resp
        if body is not resp.body and headers.get("content-length") is not None:
            # A scrubbed body is shorter: a replayed answer must announce its real length.
            headers = headers.replace("content-length", str(len(body)))
        return replace(resp, headers=headers, body=body)


def _encode(body: bytes, content_encoding: str) -> bytes:
    """Apply ``content_encoding``'s codings in the order listed (deterministically: gzip without a timestamp)."""
    import brotli  # mitmproxy's dependency; decode_body imports it the same lazy way

    for coding in (c.strip().lower() for c in content_encoding.split(",")):
        if coding in ("gzip", "x-gzip"):
            body = gzip.compress(body, mtime=0)
        elif coding == "deflate":
            body = zlib.compress(body)
        elif coding == "br":
            body = brotli.compress(body)
    return body
