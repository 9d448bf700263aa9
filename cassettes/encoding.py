"""Content-Encoding decoding with a hard cap: the one decoder every part of graphtape uses.

Redaction, validation, matching, alerts, HAR export and the proxy's own look at upload
sessions all read bodies through :func:`decode_body`. It never holds more than the cap
(plus one bounded step) in memory, whatever the body claims: a gzip, deflate or brotli
"bomb" of a few hundred bytes that would inflate to gigabytes is refused once it passes
``limit``. Every coding is decoded in bounded steps:

- gzip and deflate: zlib with ``max_length`` on every call, so one call never returns
  more than the room left under the cap; concatenated gzip members are all decoded
  (a reader that stopped at the first would miss what the later ones hold);
- brotli: the streaming ``Decompressor``, with ``output_buffer_limit`` where the
  installed brotli has it (1.2 and later) and otherwise fed 64 input bytes at a time,
  which bounds one step's output to a few tens of MiB.

What was sent is stored as sent; decoding is only ever for reading.
"""

from __future__ import annotations

import zlib
from typing import Any

from graphtape.cassettes.errors import BodyDecodeError
from graphtape.cassettes.findings import Finding, Severity
from graphtape.cassettes.withheld import withheld_reason

__all__ = ["MAX_DECODED_BYTES", "BodyTooLargeError", "decode_body", "decode_for_validation", "is_encoded"]

# A compressed body is never inflated past this. Graph's attachment bodies are far smaller (a
# direct POST carries at most a 3 MB file, about 4 MB of JSON; an upload chunk is under 4 MiB),
# and every reader of a body (redaction, validation, matching, alerts) may inflate it once.
MAX_DECODED_BYTES = 16 * 1024 * 1024
# Brotli without output_buffer_limit: input bytes per step. One brotli command of a few
# bytes can produce up to 16 MiB, so a step of 64 input bytes yields at most a few of those.
_BROTLI_SLICE = 64
_BROTLI_STEP = 1024 * 1024  # output per step where brotli can bound it itself


class BodyTooLargeError(BodyDecodeError):
    """A body inflates past the decoding cap (a compression bomb, or simply too big to read)."""


def is_encoded(content_encoding: str | None) -> bool:
    """Whether a Content-Encoding value names any coding other than identity."""
    return bool(content_encoding) and any(
        c.strip().lower() not in ("", "identity") for c in (content_encoding or "").split(","))


def _too_big(limit: int) -> BodyTooLargeError:
    return BodyTooLargeError(f"decoded body exceeds {limit} bytes")


def _inflate(data: bytes, wbits: int, limit: int, members: bool) -> bytes:
    """zlib-decode ``data``; ``members``: keep decoding concatenated gzip members."""
    out = bytearray()
    while True:
        d = zlib.decompressobj(wbits)
        pending = data
        while True:
            out += d.decompress(pending, limit - len(out) + 1)  # never more than the room left, plus one byte
            if len(out) > limit:
                raise _too_big(limit)
            pending = d.unconsumed_tail
            if d.eof or not pending:
                break
        if not d.eof:  # a decompressor waits quietly for more input: a cut-off body raises nothing
            raise zlib.error("the compressed stream ends before its end marker (truncated or corrupt)")
        rest = d.unused_data
        if not rest.strip(b"\0"):  # some servers pad a gzip stream with zeros
            return bytes(out)
        if not members:
            raise zlib.error(f"{len(rest)} bytes follow the end of the compressed stream")
        data = rest


def _brotli(data: bytes, limit: int) -> bytes:
    try:
        import brotli  # mitmproxy depends on it
    except ImportError:  # pragma: no cover - mitmproxy always brings brotli
        raise BodyDecodeError("brotli body, but the brotli module is not installed") from None
    d: Any = brotli.Decompressor()
    out = bytearray()
    try:
        if hasattr(d, "can_accept_more_data"):  # brotli 1.2+: the decoder bounds each step itself
            out += d.process(data, output_buffer_limit=_BROTLI_STEP)
            while not d.is_finished() and not d.can_accept_more_data():
                if len(out) > limit:
                    raise _too_big(limit)
                out += d.process(b"", output_buffer_limit=_BROTLI_STEP)
        else:
            view = memoryview(data)
            for start in range(0, len(data), _BROTLI_SLICE):
                out += d.process(view[start:start + _BROTLI_SLICE].tobytes())
                if len(out) > limit:
                    raise _too_big(limit)
    except brotli.error as exc:
        raise BodyDecodeError(f"corrupt brotli body: {exc}") from None
    if len(out) > limit:
        raise _too_big(limit)
    if not d.is_finished():
        raise BodyDecodeError("corrupt brotli body: the stream ends before its last block (truncated)")
    return bytes(out)


def decode_body(body: bytes, content_encoding: str | None, limit: int = MAX_DECODED_BYTES) -> bytes:
    """``body`` with its Content-Encoding undone (gzip, deflate, br, identity, chained).

    Raises BodyDecodeError (a ValueError) for an unknown coding or corrupt data, and
    BodyTooLargeError (one of those) for a body inflating past ``limit``; callers turn
    that into a finding, and redaction withholds such a body.
    """
    if not content_encoding or not body:
        return body
    codings = [c.strip().lower() for c in content_encoding.split(",") if c.strip()]
    for coding in reversed(codings):  # the last coding listed was applied last
        if coding in ("identity", ""):
            continue
        if coding in ("gzip", "x-gzip"):
            try:
                body = _inflate(body, 16 + zlib.MAX_WBITS, limit, members=True)
            except zlib.error as exc:
                raise BodyDecodeError(f"corrupt gzip body: {exc}") from None
        elif coding == "deflate":
            try:
                body = _inflate(body, zlib.MAX_WBITS, limit, members=False)
            except zlib.error:
                try:  # raw deflate, as some servers send it
                    body = _inflate(body, -zlib.MAX_WBITS, limit, members=False)
                except zlib.error as exc:
                    raise BodyDecodeError(f"corrupt deflate body: {exc}") from None
        elif coding == "br":
            body = _brotli(body, limit)
        else:
            raise BodyDecodeError(f"unknown content-encoding {coding!r}")
    return body


def decode_for_validation(body: bytes, content_encoding: str | None, where: str) -> tuple[bytes, list[Finding]]:
    """The decoded body to validate, or no body and the finding that says why it cannot be decoded.

    A body redaction withheld (it could not be checked for secrets) is not validated
    either: its finding says it was withheld and why.
    """
    reason = withheld_reason(body)
    if reason is not None:
        return b"", [Finding(Severity.WARNING, "body-withheld", where, "$body",
                             "a body graphtape could check for secrets", "withheld",
                             f"the body was not stored: {reason}")]
    try:
        return decode_body(body, content_encoding), []
    except BodyDecodeError as exc:
        return b"", [Finding(Severity.ERROR, "undecodable-body", where, "$body",
                             "a body matching its Content-Encoding", content_encoding or "", str(exc))]
