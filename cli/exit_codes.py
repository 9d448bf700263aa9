"""The one place where an error becomes an exit code.

Commands raise; they never print a traceback or pick an exit status for an error
themselves. The codes follow the public contract: 0 clean, 1 "found something" (a
finding or drift at error level, a miss under ``--strict``) or "the work was done but
could not be saved", 2 bad usage, unreadable input, or a server that cannot start.
"""

from __future__ import annotations

from graphtape.cassettes.errors import CassetteWriteError, GraphtapeError

__all__ = ["EXIT_FOUND", "EXIT_OK", "EXIT_USAGE", "exit_code_for", "is_user_facing"]

EXIT_OK = 0
EXIT_FOUND = 1
EXIT_USAGE = 2


def is_user_facing(exc: BaseException) -> bool:
    """Errors a user can act on from their one-line message: graphtape's own and the OS's."""
    return isinstance(exc, (GraphtapeError, OSError))


def exit_code_for(exc: BaseException) -> int:
    """The exit status for an error that ended a command."""
    if isinstance(exc, CassetteWriteError):
        return EXIT_FOUND  # the run happened; its result could not be written
    return EXIT_USAGE
