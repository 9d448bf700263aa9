"""Start-up errors of graphtape's own servers, as one line that names graphtape's options.

mitmproxy's ErrorCheck prints what went wrong at start-up in mitmproxy's terms (a busy port
comes with "Try specifying a different port by using `--mode reverse:...@PORT`", naming an
option graphtape's commands do not have, and for ``simulate`` an internal placeholder
upstream). :class:`StartupCheck` stands in for it: the master calls it by the same name at
the same points, it keeps those errors off the terminal log, and it raises one
:class:`ServerStartError` that says what to change with ``--host`` or ``--port``.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import re

from mitmproxy import log

from graphtape.cassettes.errors import GraphtapeError

__all__ = ["ServerStartError", "StartupCheck", "explain_startup_error"]


class ServerStartError(GraphtapeError):
    """The proxy could not start (bad option, broken or locked cassette, port in use)."""

    def __init__(self, problem: str) -> None:
        super().__init__(f"cannot start: {problem}")

_LISTEN = re.compile(r"failed to listen on (?P<host>\S*?):(?P<port>\d+) with (?:\[Errno (?P<errno>-?\d+)\] )?"
                     r"(?P<why>.*)")


def explain_startup_error(message: str) -> str:
    """What a user of ``graphtape simulate/record/replay`` should change, from mitmproxy's error text."""
    first = message.strip().splitlines()[0] if message.strip() else "unknown error"
    m = _LISTEN.search(first)
    if m is None:
        return first
    host, port = m["host"] or "*", m["port"]
    number = int(m["errno"]) if m["errno"] else None
    if number == errno.EADDRINUSE:
        return f"port {port} on {host} is already in use; choose another with --port (--port 0 picks a free one)"
    why = m["why"].rsplit(": ", 1)[-1] if number == errno.EADDRINUSE else m["why"]
    if number in (errno.EACCES, errno.EPERM):
        return f"not allowed to listen on port {port} ({why}); choose a port above 1023 with --port"
    return f"cannot listen on {host}:{port}: {why}; check --host and --port"


class _Collector(log.MitmLogHandler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)  # type: ignore[no-untyped-call]  # mitmproxy leaves it unannotated
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


class StartupCheck:
    """In place of mitmproxy's ErrorCheck: stop a server that logged an error while starting."""

    name = "errorcheck"  # Master.run looks it up by this name

    def __init__(self) -> None:
        self.collector = _Collector()
        self.collector.install()
        self.starting = True

    def hides(self, record: logging.LogRecord) -> bool:
        """Whether the terminal log should leave ``record`` out (this check reports it instead)."""
        return self.starting and record.levelno >= logging.ERROR

    async def shutdown_if_errored(self) -> None:
        await asyncio.sleep(0)  # let pending log records arrive
        if self.collector.records:
            problems = [explain_startup_error(r.getMessage()) for r in self.collector.records]
            raise ServerStartError("; ".join(dict.fromkeys(problems)))

    def finish(self) -> None:
        self.starting = False
        self.collector.uninstall()
