"""The shipped example: the requests behind it, its cassette, and the script that re-records it."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

__all__ = ["example_cassette"]


def example_cassette() -> Path:
    """The example cassette shipped with graphtape (recorded from the simulator)."""
    return Path(str(resources.files("graphtape.cassettes") / "examples" / "attachments.yaml"))
