from __future__ import annotations

import gzip
import zlib

import brotli
import pytest

from graphtape.cassettes.encoding import MAX_DECODED_BYTES, decode_body

PLAIN = b'{"@odata.type": "#microsoft.graph.fileAttachment", "name": "a.txt"}' * 20


def _raw_deflate(data: bytes) -> bytes:
    c = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return c.compress(data) + c.flush()


@pytest.mark.parametrize("coding, encoded", [
    ("gzip", gzip.compress(PLAIN, mtime=0)),
    ("x-gzip", gzip.compress(PLAIN, mtime=0)),
    ("deflate", zlib.compress(PLAIN)),
    ("deflate", _raw_deflate(PLAIN)),  # raw deflate, as some servers send it
    ("br", brotli.compress(PLAIN)),
    ("identity", PLAIN),
    ("gzip, br", brotli.compress(gzip.compress(PLAIN, mtime=0))),  # the last coding listed was applied last
], ids=["gzip", "x-gzip", "deflate", "raw-deflate", "br", "identity", "gzip-then-br"])
def test_encoded_bodies_decode(coding: str, encoded: bytes) -> None:
    assert decode_body(encoded, coding) == PLAIN


@pytest.mark.parametrize("coding, encoded, problem", [
    ("gzip", gzip.compress(PLAIN, mtime=0)[:-30], "gzip"),  # cut off: the decompressor would just wait for more
    ("gzip", b"\x1f\x8b\x08\x00garbage", "gzip"),
    ("gzip", b"not gzip at all", "gzip"),
    ("deflate", zlib.compress(PLAIN)[:-10], "deflate"),
    ("br", brotli.compress(PLAIN)[:-5], "brotli"),
    ("br", b"\xff\xff\xff", "brotli"),
    ("zstd-ish", b"abc", "unknown content-encoding"),
    ("gzip", gzip.compress(b"\0" * (MAX_DECODED_BYTES + 1), mtime=0), "exceeds"),  # a zip bomb stays bounded
], ids=["truncated-gzip", "garbage-gzip", "not-gzip", "truncated-deflate", "truncated-br", "garbage-br",
        "unknown-coding", "gzip-bomb"])
def test_corrupt_truncated_or_oversized_bodies_are_refused(coding: str, encoded: bytes, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        decode_body(encoded, coding)
