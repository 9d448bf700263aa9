"""Cassette paths confined to a cassette folder.

Where a folder is configured (``--cassette-dir``, ``graphtape_cassette_dir``, or a
pytest marker's folder), a cassette name cannot reach outside it: not through
``..``, not through an absolute path elsewhere, not through a symlink pointing out.
The check compares fully resolved paths, so every one of those tricks ends in the
same place: outside the folder, refused.
"""

from __future__ import annotations

import os
from pathlib import Path

from graphtape.cassettes.errors import CassettePathError

__all__ = ["resolve_cassette_path"]


def resolve_cassette_path(folder: str | os.PathLike[str] | None, name: str | os.PathLike[str]) -> Path:
    """The path of cassette ``name``: inside ``folder`` when one is given, else ``name`` as it is.

    A relative ``name`` is taken relative to ``folder``; an absolute one is accepted
    only if it already lies inside ``folder``. Raises :class:`CassettePathError`
    naming both when the result would lie outside the folder.
    """
    text = os.fspath(name)
    if not text or "\x00" in text:
        raise CassettePathError(f"{text!r} is not a usable cassette path")
    if folder is None or not os.fspath(folder):
        return Path(text)
    base = Path(folder).expanduser().resolve()
    candidate = Path(text).expanduser()
    if not candidate.is_absolute():
        candidate = base / candidate
    resolved = candidate.resolve()  # follows symlinks and folds "..": what the OS would open
    if resolved == base or not resolved.is_relative_to(base):
        raise CassettePathError(f"cassette {text!r} lies outside the cassette folder {str(base)!r}; "
                                "give a path inside it")
    return resolved
