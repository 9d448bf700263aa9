"""Run a flow's heavy body work (decoding, redaction, validation) off mitmproxy's event loop.

Every client shares the proxy's one event loop. Reading a small JSON body takes
microseconds and stays on the loop; inflating a compressed body (up to graphtape's
decoding cap) or parsing megabytes of JSON takes long enough to stall every other
client, so that work goes to a worker thread and the hook awaits it. zlib and brotli
release the GIL while they inflate, so the loop keeps answering meanwhile.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

from graphtape.cassettes.encoding import is_encoded
from graphtape.cassettes.model import Headers

__all__ = ["HEAVY_BODY_BYTES", "is_heavy", "off_loop"]

T = TypeVar("T")

# A body bigger than this (or any content-encoded body) is read in a worker thread.
HEAVY_BODY_BYTES = 256 * 1024


def is_heavy(headers: Headers, body: bytes) -> bool:
    """Whether reading this body may take long enough to stall the event loop."""
    return len(body) > HEAVY_BODY_BYTES or (bool(body) and is_encoded(headers.get("content-encoding")))


async def off_loop(heavy: bool, fn: Callable[[], T]) -> T:
    """``fn()``, in a worker thread when ``heavy``, else right here."""
    if heavy:
        return await asyncio.to_thread(fn)
    return fn()
