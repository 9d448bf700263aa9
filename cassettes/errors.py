"""graphtape's exception tree.

Every error graphtape raises on purpose derives from :class:`GraphtapeError`, so a
caller can catch the whole family with one ``except``. Leaves also subclass the
builtin that best describes them, so generic handlers keep working.
"""

from __future__ import annotations

__all__ = [
    "BodyDecodeError",
    "CaptureFormatError",
    "CassetteError",
    "CassetteExistsError",
    "CassetteFormatError",
    "CassetteLockedError",
    "CassetteNotFoundError",
    "CassettePathError",
    "CassetteWriteError",
    "ConfigError",
    "GraphSchemaError",
    "GraphtapeError",
    "InputError",
    "UpstreamError",
]


class GraphtapeError(Exception):
    """Base class of every error graphtape raises on purpose."""


class ConfigError(GraphtapeError, ValueError):
    """An option or setting has a value graphtape cannot use."""


class GraphSchemaError(GraphtapeError, LookupError):
    """graphtape's own Graph knowledge (route table, schema data) is inconsistent: a graphtape bug."""


class InputError(GraphtapeError, ValueError):
    """A file given to a command is not something graphtape can read (names the file)."""


class UpstreamError(GraphtapeError, ConnectionError):
    """A live service did not give a usable answer (refused, reset, malformed HTTP)."""


class BodyDecodeError(GraphtapeError, ValueError):
    """A body cannot be decoded as its Content-Encoding says: corrupt, unknown coding, or too big."""


class CassetteError(GraphtapeError):
    """Something is wrong with a cassette file."""


class CassetteNotFoundError(CassetteError, FileNotFoundError):
    """A cassette to replay does not exist."""


class CassetteExistsError(CassetteError, FileExistsError):
    """A cassette exists where a command would only create a new one."""


class CassetteFormatError(CassetteError, ValueError):
    """A cassette file cannot be read: bad YAML, wrong version, missing or mistyped keys.

    ``path`` names the file; ``where`` names the line (``line 12``) or the key
    (``interactions[3].response.status.code``) at fault.
    """

    def __init__(self, path: object, where: str, problem: str) -> None:
        self.path = str(path)
        self.where = where
        self.problem = problem
        location = f"{self.path}: {where}" if where else self.path
        super().__init__(f"{location}: {problem}")


class CassetteWriteError(CassetteError, OSError):
    """A cassette (or its journal) could not be written. Recording must stop loudly."""


class CassetteLockedError(CassetteError):
    """Another graphtape process is already recording into this cassette."""


class CassettePathError(CassetteError, ValueError):
    """A cassette path escapes the configured cassette folder."""


class CaptureFormatError(CassetteFormatError):
    """A capture to import (HAR or mitmproxy flow file) cannot be read; names the file and the entry.

    It has a cassette format error's shape (path, where, problem) because it is one
    step removed from being one: the capture is what the cassette would be made of.
    """
