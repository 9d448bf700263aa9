"""The one place where an error becomes an exit code.

Commands raise; they never print a traceback or pick an exit status for an error
themselves. The codes follow the public contract: 0 clean, 1 "found something" (a
finding or drift at error level, a miss under ``--strict``) or "the work was done but
could not be saved", 2 bad usage, unreadable input, or a server that cannot start.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from graphtape.cassettes.errors import CassetteWriteError, GraphtapeError
from graphtape.cli.commands.demo import DemoFailedError

if TYPE_CHECKING:
    from graphtape.cassettes.session import TapeSession
    from graphtape.cli.output.reports import ReportCase

__all__ = ["EXIT_FOUND", "EXIT_OK", "EXIT_USAGE", "exit_code_for", "is_user_facing", "report_exit_code",
           "server_exit_code"]

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
    if isinstance(exc, DemoFailedError):
        return EXIT_FOUND  # the demo ran and found graphtape not doing what it says
    return EXIT_USAGE


def report_exit_code(cases: list[ReportCase]) -> int:
    """``validate``, ``drift``, ``verify``: 2 when an input could not be read, 1 on an error-level
    finding or drift, else 0."""
    if any(c.error for c in cases):
        return EXIT_USAGE
    return EXIT_FOUND if any(c.failed for c in cases) else EXIT_OK


def server_exit_code(sessions: list[TapeSession], close_errors: list[str], strict: bool) -> int:
    """``record`` and ``replay`` after a clean stop: 1 when a cassette could not be written (or, with
    ``--strict``, on a miss or an error-level finding), else 0."""
    if close_errors or any(s.counts.get("write_failures") for s in sessions):
        return EXIT_FOUND
    if strict and any(s.counts.get("misses") or s.error_findings() for s in sessions):
        return EXIT_FOUND
    return EXIT_OK
