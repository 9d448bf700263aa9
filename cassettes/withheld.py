"""The marker that stands in for a body redaction could not check.

Redaction fails closed: a body it cannot read safely (an encoding it cannot undo, a
compression bomb, a document it cannot parse while something in it looks like a
secret) is not stored. Its bytes are replaced by one line of text, ``graphtape-withheld:
<why>``, which the cassette holds like any text body, which validation turns into a
``body-withheld`` finding, and which redacting the same request again reproduces
exactly (the reason never depends on the secret), so replay still matches it.
"""

from __future__ import annotations

__all__ = ["WITHHELD_PREFIX", "withheld_body", "withheld_reason"]

WITHHELD_PREFIX = b"graphtape-withheld: "


def withheld_body(reason: str) -> bytes:
    """The marker body for a body withheld because of ``reason`` (a fixed phrase, never the body's content)."""
    return WITHHELD_PREFIX + reason.encode("ascii", "replace")


def withheld_reason(body: bytes) -> str | None:
    """Why ``body`` was withheld, or None when it is a real body."""
    if not body.startswith(WITHHELD_PREFIX) or len(body) > 512:
        return None
    return body[len(WITHHELD_PREFIX):].decode("ascii", "replace")
