"""Content-Encoding decoding for validation and matching (what was sent is stored as sent)."""

from __future__ import annotations

import zlib

from graphtape.cassettes.errors import BodyDecodeError
from graphtape.cassettes.findings import Finding, Severity

__all__ = ["MAX_DECODED_BYTES", "decode_body", "decode_for_validation"]

# A compressed body is never inflated past this: a zip bomb must not take the proxy down.
MAX_DECODED_BYTES = 64 * 1024 * 1024


def _inflate(body: bytes, wbits: int) -> bytes:
    d = zlib.decompressobj(wbits)
    out = d.decompress(body, MAX_DECODED_BYTES + 1)
    if len(out) > MAX_DECODED_BYTES or d.unconsumed_tail:
        raise BodyDecodeError(f"decoded body exceeds {MAX_DECODED_BYTES} bytes")
    if not d.eof:  # a decompressor waits quietly for more input: a cut-off body raises nothing
        raise zlib.error("the compressed stream ends before its end marker (truncated or corrupt)")
    return out


def decode_body(body: bytes, content_encoding: str | None) -> bytes:
    """``body`` with its Content-Encoding undone (gzip, deflate, br, identity, chained).

    Raises BodyDecodeError (a ValueError) for an unknown coding, corrupt data or a body inflating
    past the cap; callers turn that into a finding.
    """
    if not content_encoding or not body:
        return body
    codings = [c.strip().lower() for c in content_encoding.split(",") if c.strip()]
    for coding in reversed(codings):  # the last coding listed was applied last
        if coding in ("identity", ""):
            continue
        if coding in ("gzip", "x-gzip"):
            try:
                body = _inflate(body, 16 + zlib.MAX_WBITS)
            except zlib.error as exc:
                raise BodyDecodeError(f"corrupt gzip body: {exc}") from None
        elif coding == "deflate":
            try:
                body = _inflate(body, zlib.MAX_WBITS)
            except zlib.error:
                try:  # raw deflate, as some servers send it
                    body = _inflate(body, -zlib.MAX_WBITS)
                except zlib.error as exc:
                    raise BodyDecodeError(f"corrupt deflate body: {exc}") from None
        elif coding == "br":
            try:
                import brotli  # mitmproxy depends on it
            except ImportError:  # pragma: no cover - mitmproxy always brings brotli
                raise BodyDecodeError("brotli body, but the brotli module is not installed") from None
            try:
                body = brotli.decompress(body)
            except brotli.error as exc:
                raise BodyDecodeError(f"corrupt brotli body: {exc}") from None
            if len(body) > MAX_DECODED_BYTES:
                raise BodyDecodeError(f"decoded body exceeds {MAX_DECODED_BYTES} bytes")
        else:
            raise BodyDecodeError(f"unknown content-encoding {coding!r}")
    return body




def decode_for_validation(body: bytes, content_encoding: str | None, where: str) -> tuple[bytes, list[Finding]]:
    """The decoded body to validate, or no body and the finding that says why it cannot be decoded."""
    try:
        return decode_body(body, content_encoding), []
    except BodyDecodeError as exc:
        return b"", [Finding(Severity.ERROR, "undecodable-body", where, "$body",
                             "a body matching its Content-Encoding", content_encoding or "", str(exc))]
