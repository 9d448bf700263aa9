"""Secret redaction, applied identically to what is recorded and to live requests.

Because replay redacts each live request the same way before computing its match
key (and the recorded requests the same way when it indexes them), a cassette whose
tokens were scrubbed still matches (the pain VCR.py users hit when a before_record
hook rewrites what they later try to match).

Redaction works on what the bytes mean, not on how they look:

- a body is read the way its receiver would read it: its Content-Encoding undone
  (bounded, see :mod:`graphtape.cassettes.encoding`), its text decoded from UTF-8,
  UTF-16 or UTF-32 (with or without a byte order mark), JSON parsed with escapes
  resolved and every duplicate key kept, form and multipart bodies split into their
  fields, whether or not a Content-Type says what they are;
- names compare case-insensitively and without ``-``/``_`` (``client_secret``,
  ``client-secret`` and ``clientSecret`` are one name);
- values shaped like a credential are scrubbed wherever they appear: a JWT
  (``eyJ...``), a ``Bearer`` credential, a URL's user info, a token query or fragment
  parameter inside any URL, ``password: ...`` pairs inside text;
- it fails closed: a body that cannot be read safely while something in it looks
  like a secret (JSON that does not parse, nesting too deep, an encoding that cannot
  be undone, a compression bomb) is replaced by a ``graphtape-withheld: <why>`` marker
  (see :mod:`graphtape.cassettes.withheld`) and validation reports ``body-withheld``.
  Nothing is stored that was not checked.

Bodies declared binary (``application/octet-stream``, images, audio, video: file
contents such as upload chunks) are stored as sent.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import fnmatch
import gzip
import json
import re
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any
from urllib.parse import quote, quote_plus, unquote, unquote_plus, urlsplit, urlunsplit

from graphtape.cassettes.encoding import BodyTooLargeError, decode_body, is_encoded
from graphtape.cassettes.errors import BodyDecodeError
from graphtape.cassettes.model import Headers, Request, Response
from graphtape.cassettes.withheld import WITHHELD_PREFIX, withheld_body

__all__ = ["DEFAULT_BODY_FIELDS", "DEFAULT_HEADERS", "DEFAULT_QUERY_PARAMS", "REDACTED", "Redactor",
           "normalise_name"]

REDACTED = "REDACTED"

# Header names redacted whole (a glob where it holds "*"): credentials and API keys.
DEFAULT_HEADERS = frozenset({
    "authorization", "proxy-authorization", "cookie", "set-cookie",
    "x-api-key", "api-key", "ocp-apim-subscription-key", "x-ms-token-*", "*-token", "token",
})
# Query (and URL fragment, and form) parameters whose value is a credential.
DEFAULT_QUERY_PARAMS = frozenset({
    "authtoken", "access_token", "id_token", "refresh_token", "token", "sig", "code", "client_secret",
    "client_assertion", "assertion", "password", "api_key", "api-key", "subscription-key",
    "x-amz-signature", "x-amz-security-token",
})
# JSON, form and multipart fields whose value is a credential.
DEFAULT_BODY_FIELDS = frozenset({
    "client_secret", "refresh_token", "access_token", "id_token", "password", "client_assertion", "assertion",
})

# Auth schemes whose name is kept so a reader still sees what kind of credential it was.
_AUTH_SCHEMES = frozenset({"bearer", "basic", "digest", "ntlm", "negotiate", "pop"})
_BINARY_TYPES = frozenset({"application/octet-stream", "application/zip", "application/gzip", "application/x-gzip",
                           "application/pdf", "application/x-tar", "application/x-7z-compressed"})
_BINARY_MAIN_TYPES = frozenset({"image", "audio", "video", "font", "model"})
_MAX_MULTIPART_DEPTH = 4


def normalise_name(name: str) -> str:
    """A secret's name as compared: lower case, without ``-``, ``_`` or spaces."""
    return re.sub(r"[-_\s]", "", name.strip().lower())


def _names(names: Iterable[str]) -> frozenset[str]:
    return frozenset(n.strip().lower() for n in names if n.strip())


class _Withhold(Exception):
    """A body (or a part of one) cannot be checked safely; ``reason`` never quotes it."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# ---------------------------------------------------------------- credential shapes

# A JWT (JWS or JWE, compact form): base64url segments, the first a JSON header ("eyJ" is '{"').
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{2,}+\.[A-Za-z0-9_-]++(?:\.[A-Za-z0-9_-]*+){1,3}")
# scheme SP token68; an auth-param (realm="...") is a parameter list, not a credential.
_AUTH_VALUE = re.compile(r"(?i)\b(bearer|basic|digest|negotiate|ntlm|pop)([ \t]+)([A-Za-z0-9\-._~+/]++=*+)(?!\")")
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)([^/?#\s@\"'<>]+)@")
# name=value inside a URL's query or fragment, a form, or text.
_PARAM = re.compile(r"(^|[?&#;\s])([^=&#?;\s\"'<>]+)=([^&#\s\"'<>]*)")
# Long runs of base64/hex characters only (file contents): nothing credential-shaped can hide in them.
_OPAQUE = re.compile(r"[A-Za-z0-9+/=\s]*")
# A text holding none of these has no pair, parameter, URL, JWT or "scheme credential" in it.
_HINT_CHARS = ("=", ":", " ", "\t", "eyJ", "%", "\\", "@")
_SQUEEZE = str.maketrans("", "", "-_ \t\r\n")


def _basic_credential(token: str) -> bool:
    try:
        return b":" in base64.b64decode(token + "=" * (-len(token) % 4), validate=True)
    except (binascii.Error, ValueError):
        return False


def _scheme_credential(scheme: str, token: str) -> bool:
    """Whether ``scheme token`` is a credential rather than prose ("basic information")."""
    if token == REDACTED:
        return False
    scheme = scheme.lower()
    if scheme in ("bearer", "pop"):
        return True
    if scheme == "basic":
        return _basic_credential(token)
    return len(token) >= 16  # negotiate / ntlm / digest tokens are long base64


def _lenient_unescape(text: str) -> str:
    """JSON/JavaScript escapes resolved as far as they go (``\\u0077`` -> ``w``), for looking only."""
    text = re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), text)
    text = re.sub(r"\\x([0-9a-fA-F]{2})", lambda m: chr(int(m.group(1), 16)), text)
    return re.sub(r"\\(.)", r"\1", text)


# ---------------------------------------------------------------- JSON kept as written


class _Pairs(list):  # type: ignore[type-arg]
    """A JSON object as its (key, value) pairs: duplicate keys are kept, not collapsed."""


class _Literal(str):
    """A JSON number or constant, kept as written (1.0e2 stays 1.0e2)."""

    __slots__ = ()


def _parse_json(text: str) -> Any:
    return json.loads(text, object_pairs_hook=_Pairs, parse_float=_Literal, parse_int=_Literal,
                      parse_constant=_Literal)


def _dump_json(node: Any, out: list[str], ascii_only: bool) -> None:
    if isinstance(node, _Pairs):
        out.append("{")
        for n, (k, v) in enumerate(node):
            if n:
                out.append(",")
            out.append(json.dumps(k, ensure_ascii=ascii_only))
            out.append(":")
            _dump_json(v, out, ascii_only)
        out.append("}")
    elif isinstance(node, list):
        out.append("[")
        for n, v in enumerate(node):
            if n:
                out.append(",")
            _dump_json(v, out, ascii_only)
        out.append("]")
    elif isinstance(node, _Literal):
        out.append(str.__str__(node))
    else:
        out.append(json.dumps(node, ensure_ascii=ascii_only))


# ---------------------------------------------------------------- text codecs

_BOMS = ((codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"), (codecs.BOM_UTF8, "utf-8"),
         (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))


@dataclass(frozen=True)
class _Text:
    text: str
    codec: str
    bom: bytes

    def encode(self, text: str) -> bytes:
        return self.bom + text.encode(self.codec, "surrogateescape" if self.codec == "utf-8" else "strict")


def _charset(content_type: str) -> str | None:
    m = re.search(r"(?i);\s*charset\s*=\s*\"?([A-Za-z0-9._:-]+)", content_type)
    return m.group(1) if m else None


def _as_text(body: bytes, content_type: str) -> _Text | None:
    """The body as text, the way a JSON or text reader would decode it; None when it is not text."""
    for bom, bom_codec in _BOMS:
        if body.startswith(bom):
            try:
                return _Text(body[len(bom):].decode(bom_codec), bom_codec, bom)
            except UnicodeDecodeError:
                return None
    codec: str | None = _charset(content_type)
    if codec is None and len(body) >= 4:  # RFC 4627's rule: the NULs among the first bytes tell UTF-16/32
        head = body[:4]
        if head[:3] == b"\0\0\0":
            codec = "utf-32-be"
        elif head[1:4] == b"\0\0\0":
            codec = "utf-32-le"
        elif head[0] == 0 and head[2] == 0:
            codec = "utf-16-be"
        elif head[1] == 0 and head[3] == 0:
            codec = "utf-16-le"
    try:
        codecs.lookup(codec or "utf-8")
    except LookupError:
        codec = None
    try:
        return _Text(body.decode(codec or "utf-8"), (codec or "utf-8").lower(), b"")
    except (UnicodeDecodeError, ValueError):
        return None


def _any_text(body: bytes) -> str:
    """Every reading of ``body`` as text a receiver might choose, for looking for secrets only."""
    readings = [body.decode("latin-1")]
    for codec in ("utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"):
        readings.append(body.decode(codec, "ignore"))
    return "\n".join(readings)


# ---------------------------------------------------------------- the redactor


@dataclass(frozen=True)
class Redactor:
    """What to scrub. Names compare case-insensitively and without ``-``/``_``.

    ``headers`` may hold globs (``x-ms-token-*``); ``secrets`` are literal values (a
    token graphtape was given) scrubbed wherever they appear.
    """

    headers: frozenset[str] = DEFAULT_HEADERS
    query_params: frozenset[str] = DEFAULT_QUERY_PARAMS
    body_fields: frozenset[str] = DEFAULT_BODY_FIELDS
    secrets: frozenset[str] = field(default=frozenset(), repr=False)

    @classmethod
    def with_extra(
        cls,
        headers: Iterable[str] = (),
        query_params: Iterable[str] = (),
        body_fields: Iterable[str] = (),
    ) -> Redactor:
        """The defaults plus the user's own names."""
        return cls(
            headers=DEFAULT_HEADERS | _names(headers),
            query_params=DEFAULT_QUERY_PARAMS | _names(query_params),
            body_fields=DEFAULT_BODY_FIELDS | _names(body_fields),
        )

    def with_secrets(self, values: Iterable[str]) -> Redactor:
        """This redactor, also scrubbing these literal values anywhere (a token it was handed)."""
        found = {v.strip() for v in values if len(v.strip()) >= 4}
        return replace(self, secrets=self.secrets | frozenset(found))

    # ------------------------------------------------------------ compiled once per redactor

    @cached_property
    def _header_exact(self) -> frozenset[str]:
        return frozenset(normalise_name(h) for h in self.headers if "*" not in h)

    @cached_property
    def _header_globs(self) -> tuple[str, ...]:
        return tuple(normalise_name(h.replace("*", "\0")).replace("\0", "*") for h in self.headers if "*" in h)

    @cached_property
    def _fields(self) -> frozenset[str]:
        return frozenset(normalise_name(f) for f in self.body_fields)

    @cached_property
    def _params(self) -> frozenset[str]:
        """URL and form parameters: the query names and the body fields (a form is a query string)."""
        return frozenset(normalise_name(q) for q in self.query_params) | self._fields

    @cached_property
    def _secret_list(self) -> tuple[str, ...]:
        return tuple(sorted(self.secrets, key=len, reverse=True))

    @cached_property
    def _pair(self) -> re.Pattern[str]:
        """``name: value`` / ``"name" = value`` pairs inside text, for the secret field names."""
        names = sorted(self._fields, key=len, reverse=True)
        spelled = "|".join("[-_]?".join(re.escape(c) for c in name) for name in names)
        return re.compile(r"(?i)(?<![A-Za-z0-9])([\"']?)(" + spelled + r")\1(\s*[:=]\s*)"
                          r"(\"(?:[^\"\\]|\\.)*+\"|'[^']*+'|[^\s,;&}\]<>\"']++)")

    # ------------------------------------------------------------ what looks like a secret

    def is_secret_header(self, name: str) -> bool:
        n = normalise_name(name)
        return n in self._header_exact or any(fnmatch.fnmatchcase(n, g) for g in self._header_globs)

    def _hint(self, text: str) -> bool:
        """Cheap test: could ``text`` hold anything this redactor scrubs? False means certainly not."""
        if not text or (len(text) > 256 and _OPAQUE.fullmatch(text)):
            return False  # base64 or hex (a file's contentBytes): no name, pair, URL or JWT can hide in it
        if not any(c in text for c in _HINT_CHARS) and not any(s in text for s in self._secret_list):
            return False
        low = text.lower()
        if "\\" in low:
            low = low + "\n" + _lenient_unescape(low)
        if "%" in low:
            low = low + "\n" + unquote_plus(low)
        squeezed = low.translate(_SQUEEZE)
        if any(f in squeezed for f in self._fields):
            return True
        if "=" in squeezed and any(p + "=" in squeezed for p in self._params):
            return True
        if "eyj" in low and _JWT.search(text if "\\" not in text else _lenient_unescape(text)):
            return True
        if "@" in low and "://" in low:
            return True
        if any(s in low for s in _AUTH_SCHEMES) and _AUTH_VALUE.search(low):
            return True
        return any(s in text for s in self._secret_list)

    def scrub_text(self, text: str) -> str:
        """``text`` with every credential-shaped value in it replaced (a header value, a JSON string, prose)."""
        if not self._hint(text):
            return text
        for secret in self._secret_list:
            text = text.replace(secret, REDACTED)
        text = _AUTH_VALUE.sub(
            lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}" if _scheme_credential(m.group(1), m.group(3))
            else m.group(0), text)
        text = _JWT.sub(REDACTED, text)
        text = _USERINFO.sub(lambda m: m.group(0) if m.group(2) == REDACTED else f"{m.group(1)}{REDACTED}@", text)
        text = _PARAM.sub(self._param_sub, text)
        if self._fields:
            text = self._pair.sub(self._pair_sub, text)
        return text

    def _param_sub(self, m: re.Match[str]) -> str:
        lead, name, value = m.group(1), m.group(2), m.group(3)
        if value and normalise_name(unquote_plus(name)) in self._params and unquote_plus(value) != REDACTED:
            return f"{lead}{name}={REDACTED}"
        return m.group(0)

    @staticmethod
    def _pair_sub(m: re.Match[str]) -> str:
        value = m.group(4)
        if value.strip("\"'") == REDACTED:
            return m.group(0)
        quote_char = value[0] if value[:1] in ("\"", "'") else ""
        return f"{m.group(1)}{m.group(2)}{m.group(1)}{m.group(3)}{quote_char}{REDACTED}{quote_char}"

    # ------------------------------------------------------------ headers and URIs

    def header_value(self, value: str) -> str:
        """A secret header's value: the auth scheme kept, the credential replaced."""
        scheme, sep, _rest = value.strip().partition(" ")
        if sep and scheme.lower() in _AUTH_SCHEMES:
            return f"{scheme} {REDACTED}"
        return REDACTED

    def _one_header(self, name: str, value: str) -> str:
        if self.is_secret_header(name):
            return self.header_value(value)
        return self.scrub_text(value)

    def redact_headers(self, headers: Headers) -> Headers:
        pairs = tuple((k, self._one_header(k, v)) for k, v in headers)
        return headers if all(a[1] == b[1] for a, b in zip(pairs, headers.pairs, strict=True)) else Headers(pairs)

    def redact_uri(self, uri: str) -> str:
        """Credentials out of a URI: user info, token parameters in query and fragment, JWTs and known secrets."""
        if "=" not in uri and "@" not in uri and not self._hint(uri):
            return uri
        parts = urlsplit(uri)
        netloc = parts.netloc
        if "@" in netloc and netloc.rsplit("@", 1)[0] != REDACTED:
            netloc = f"{REDACTED}@{netloc.rsplit('@', 1)[1]}"
        path = parts.path
        plain_path = unquote(path)
        if self._hint(plain_path):
            scrubbed = self.scrub_text(plain_path)
            if scrubbed != plain_path:
                path = quote(scrubbed, safe="/:@!$&'()*+,;=-._~")
        query = self.redact_query(parts.query)
        fragment = self.redact_query(parts.fragment)
        if (netloc, path, query, fragment) == (parts.netloc, parts.path, parts.query, parts.fragment):
            return uri
        return urlunsplit((parts.scheme, netloc, path, query, fragment))

    def redact_query(self, query: str) -> str:
        """A query string (or a fragment, or a form body) with secret parameters and values replaced."""
        if not query:
            return query
        changed = False
        out: list[str] = []
        for piece in query.split("&"):
            name, sep, value = piece.partition("=")
            plain_value = unquote_plus(value)
            if sep and normalise_name(unquote_plus(name)) in self._params:
                if plain_value != REDACTED:
                    piece, changed = f"{name}={REDACTED}", True
            elif sep and self._hint(plain_value):
                scrubbed = self.scrub_text(plain_value)
                if scrubbed != plain_value:
                    piece, changed = f"{name}={quote_plus(scrubbed, safe='/:@')}", True
            out.append(piece)
        return "&".join(out) if changed else query

    # ------------------------------------------------------------ bodies

    def redact_body(self, body: bytes, content_type: str | None) -> bytes:
        """Scrub a (not content-encoded) body; one that cannot be checked comes back as the withheld marker."""
        try:
            return self._payload(body, content_type or "", 0)
        except _Withhold as why:
            return withheld_body(why.reason)

    def redact_encoded_body(self, body: bytes, content_type: str | None, content_encoding: str | None) -> bytes:
        """Like :meth:`redact_body`, for a body that may be gzip/deflate/br encoded.

        An encoded body is decoded to look for secrets; only if one is found is the
        scrubbed body encoded again (so it differs from what was sent). One that cannot
        be decoded (corrupt, an unknown coding, inflating past the cap) is withheld.
        """
        return self._body(body, content_type, content_encoding)[0]

    def _body(self, body: bytes, content_type: str | None, content_encoding: str | None) -> tuple[bytes, bool]:
        """The body to keep, and whether it is the withheld marker (then no longer content-encoded)."""
        ctype = content_type or ""
        if not body or body.startswith(WITHHELD_PREFIX) or _declared_binary(ctype):
            return body, False
        try:
            if not is_encoded(content_encoding):
                out = self._payload(body, ctype, 0)
                return out, False
            try:
                plain = decode_body(body, content_encoding)
            except BodyTooLargeError:
                raise _Withhold("compressed body inflating past graphtape's decoding cap") from None
            except BodyDecodeError:
                raise _Withhold("body whose Content-Encoding could not be undone") from None
            scrubbed = self._payload(plain, ctype, 0)
            if scrubbed is plain:
                return body, False
            return _encode(scrubbed, content_encoding or ""), False
        except _Withhold as why:
            return withheld_body(why.reason), True

    def _payload(self, body: bytes, ctype: str, depth: int) -> bytes:
        """Scrub a decoded body by what it is; raises _Withhold when it cannot be checked."""
        if not body or body.startswith(WITHHELD_PREFIX):
            return body
        mime = ctype.split(";", 1)[0].strip().lower()
        if _declared_binary(ctype):
            return body
        if mime.startswith("multipart/") or (not mime and _looks_multipart(body)):
            return self._multipart(body, ctype, depth)
        text = _as_text(body, ctype)
        if text is None:
            # Declared text that does not decode: look at every reading for anything secret-shaped.
            # Undeclared bytes that are not text are a file's contents (an upload chunk): kept as sent.
            if ("json" in mime or "form" in mime or mime.startswith("text/")) and self._hint(_any_text(body)):
                raise _Withhold("text body that is not valid in its character set")
            return body
        stripped = text.text.lstrip()
        if "json" in mime or (not mime.startswith("application/x-www-form") and stripped[:1] in ("{", "[")):
            return self._json(body, text)
        if mime == "application/x-www-form-urlencoded" or (not mime and _looks_form(text.text)):
            scrubbed = self.redact_query(text.text)
            return body if scrubbed is text.text else text.encode(scrubbed)
        scrubbed = self.scrub_text(text.text)
        return body if scrubbed == text.text else text.encode(scrubbed)

    def _json(self, body: bytes, text: _Text) -> bytes:
        try:
            data = _parse_json(text.text)
        except RecursionError:
            return self._unparsed(body, text.text, "JSON nested too deep to check")
        except ValueError:
            return self._unparsed(body, text.text, "JSON that could not be parsed")
        try:
            scrubbed, changed = self._scrub(data)
            if not changed:
                return body
            out: list[str] = []
            _dump_json(scrubbed, out, ascii_only=False)
            try:
                return text.encode("".join(out))
            except UnicodeEncodeError:  # lone surrogates from \\ud800-style escapes: keep them escaped
                out = []
                _dump_json(scrubbed, out, ascii_only=True)
                return text.encode("".join(out))
        except RecursionError:
            raise _Withhold("JSON nested too deep to check") from None

    def _scrub(self, node: Any) -> tuple[Any, bool]:
        if isinstance(node, _Pairs):
            changed = False
            out = _Pairs()
            for k, v in node:
                key = self.scrub_text(k)
                changed = changed or key != k
                if normalise_name(k) in self._fields:
                    if v != REDACTED:
                        v, changed = REDACTED, True
                else:
                    v, c = self._scrub(v)
                    changed = changed or c
                out.append((key, v))
            return out, changed
        if isinstance(node, list):
            results = [self._scrub(v) for v in node]
            return [r for r, _ in results], any(c for _, c in results)
        if isinstance(node, str) and not isinstance(node, _Literal):
            scrubbed = self._string(node)
            return scrubbed, scrubbed != node
        return node, False

    def _string(self, value: str) -> str:
        """A JSON string: a URL, a credential, prose, or JSON inside a string."""
        if not self._hint(value):
            return value
        inner = value.strip()
        if inner[:1] in ("{", "[") and inner[-1:] in ("}", "]"):
            try:
                nested = _parse_json(inner)
            except (ValueError, RecursionError):
                pass
            else:
                scrubbed, changed = self._scrub(nested)
                if changed:
                    out: list[str] = []
                    _dump_json(scrubbed, out, ascii_only=False)
                    return "".join(out)
        if "://" in value and " " not in value.strip():
            return self.redact_uri(value)
        return self.scrub_text(value)

    def _multipart(self, body: bytes, ctype: str, depth: int) -> bytes:
        if depth >= _MAX_MULTIPART_DEPTH:
            raise _Withhold("multipart body nested too deep to check")
        m = re.search(r"(?i);\s*boundary\s*=\s*(\"[^\"]+\"|[^;\s]+)", ctype)
        boundary = m.group(1).strip("\"").encode("latin-1", "replace") if m else _sniffed_boundary(body)
        if not boundary:
            return self._unparsed(body, None, "multipart body without a boundary")
        delimiter = b"--" + boundary
        pieces = body.split(delimiter)
        if len(pieces) < 3 or not pieces[-1].startswith(b"--"):
            return self._unparsed(body, None, "multipart body without its closing boundary")
        out = [self._text_piece(pieces[0])]  # the preamble
        for piece in pieces[1:-1]:
            newline = b"\r\n" if piece.startswith(b"\r\n") else b"\n"
            if not piece.startswith(newline) or not piece.endswith(newline):
                return self._unparsed(body, None, "multipart part that could not be parsed")
            rest = piece[len(newline):-len(newline)]
            if rest.startswith(newline):  # a part without headers
                head, sep, content = b"", newline, rest[len(newline):]
            else:
                head, sep, content = rest.partition(newline * 2)
                if not sep:
                    return self._unparsed(body, None, "multipart part that could not be parsed")
            new_head = self._part_headers(head)
            new_content = self._part(head, content, depth)
            out.append(piece if new_head is head and new_content is content
                       else newline + new_head + sep + new_content + newline)
        out.append(self._text_piece(pieces[-1]))  # "--" and the epilogue
        if all(a is b for a, b in zip(out, pieces, strict=True)):
            return body
        return delimiter.join(out)

    def _text_piece(self, piece: bytes) -> bytes:
        text = piece.decode("latin-1")
        scrubbed = self.scrub_text(text)
        return piece if scrubbed == text else scrubbed.encode("latin-1", "replace")

    def _part_headers(self, head: bytes) -> bytes:
        text = head.decode("utf-8", "surrogateescape")
        lines = []
        for line in text.splitlines(keepends=True):
            name, sep, value = line.partition(":")
            if sep:
                ending = value[len(value.rstrip("\r\n")):]
                new_value = self._one_header(name.strip(), value.strip())
                if new_value != value.strip():
                    line = f"{name}: {new_value}{ending}"
            lines.append(line)
        joined = "".join(lines)
        return head if joined == text else joined.encode("utf-8", "surrogateescape")

    def _part(self, head: bytes, content: bytes, depth: int) -> bytes:
        headers = {}
        for line in head.decode("latin-1").splitlines():
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        disposition = headers.get("content-disposition", "")
        m = re.search(r"(?i)(?:^|;)\s*name\s*=\s*(\"(?:[^\"\\]|\\.)*\"|[^;\s]+)", disposition)
        name = m.group(1).strip("\"") if m else ""
        if name and normalise_name(name) in self._params:
            return content if content == REDACTED.encode() else REDACTED.encode()
        transfer = headers.get("content-transfer-encoding", "").lower()
        if transfer in ("base64", "quoted-printable"):
            if self._hint(_any_text(_mime_decoded(content, transfer))):
                raise _Withhold("multipart part in a transfer encoding that could not be checked")
            return content
        part_type = headers.get("content-type", "text/plain" if "filename" not in disposition.lower() else "")
        coding = headers.get("content-encoding")
        if is_encoded(coding):
            try:
                plain = decode_body(content, coding)
            except BodyDecodeError:
                raise _Withhold("multipart part whose Content-Encoding could not be undone") from None
            scrubbed = self._payload(plain, part_type, depth + 1)
            return content if scrubbed is plain else _encode(scrubbed, coding or "")
        return self._payload(content, part_type, depth + 1)

    def _unparsed(self, body: bytes, text: str | None, reason: str) -> bytes:
        """A body graphtape could not parse: kept if nothing in it looks secret, else withheld."""
        if self._hint(text if text is not None else _any_text(body)):
            raise _Withhold(reason)
        return body

    # ------------------------------------------------------------ whole messages

    def request(self, req: Request) -> Request:
        headers = self.redact_headers(req.headers)
        uri = self.redact_uri(req.uri)
        body, withheld = self._body(req.body, req.headers.get("content-type"), req.headers.get("content-encoding"))
        if withheld:
            headers = _plain_headers(headers, body)
        if headers is req.headers and uri == req.uri and body is req.body:
            return req
        return replace(req, headers=headers, uri=uri, body=body)

    def response(self, resp: Response) -> Response:
        headers = self.redact_headers(resp.headers)
        body, withheld = self._body(resp.body, resp.headers.get("content-type"),
                                    resp.headers.get("content-encoding"))
        if withheld:
            headers = _plain_headers(headers, body)
        if headers is resp.headers and body is resp.body:
            return resp
        if body is not resp.body and headers.get("content-length") is not None:
            # A scrubbed body is shorter: a replayed answer must announce its real length.
            headers = headers.replace("content-length", str(len(body)))
        return replace(resp, headers=headers, body=body)


def _declared_binary(content_type: str) -> bool:
    mime = content_type.split(";", 1)[0].strip().lower()
    return mime in _BINARY_TYPES or mime.split("/", 1)[0] in _BINARY_MAIN_TYPES


def _plain_headers(headers: Headers, body: bytes) -> Headers:
    """Headers for the withheld marker: no longer content-encoded, and its own length."""
    headers = headers.without("content-encoding")
    return headers.replace("content-length", str(len(body))) if "content-length" in headers else headers


def _looks_form(text: str) -> bool:
    return bool(re.fullmatch(r"[^=&\s]+=[^&\s]*(?:&[^=&\s]*=?[^&\s]*)*", text.strip()))


def _sniffed_boundary(body: bytes) -> bytes:
    m = re.match(rb"--([!-~]{1,200})\r?\n", body)
    return m.group(1) if m else b""


def _looks_multipart(body: bytes) -> bool:
    boundary = _sniffed_boundary(body)
    return bool(boundary) and b"--" + boundary + b"--" in body


def _mime_decoded(content: bytes, transfer: str) -> bytes:
    import quopri

    if transfer == "base64":
        try:
            return base64.b64decode(b"".join(content.split()))
        except (binascii.Error, ValueError):
            return content
    return quopri.decodestring(content)


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
