"""Run mitmproxy in-process with graphtape's addons: ready line, signals, clean stop.

mitmproxy keeps global state (``mitmproxy.ctx``), so one process runs one proxy.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mitmproxy import exceptions, options
from mitmproxy.addons import termlog
from mitmproxy.master import Master

from graphtape.cli.runtime.proxy_addons import proxy_addons
from graphtape.cli.runtime.startup_check import ServerStartError, StartupCheck

__all__ = ["ServerSpec", "ServerStartError", "format_url", "run_server"]


@dataclass
class ServerSpec:
    label: str  # "simulator", "recorder", "replayer"
    mode: str  # mitmproxy mode spec: "reverse:https://graph.microsoft.com" or "regular"
    host: str = "127.0.0.1"
    port: int = 8080
    options: dict[str, Any] = field(default_factory=dict)
    confdir: str | None = None
    verbosity: str = "warn"


def format_url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


class _ReadyLine:
    """Prints the contract's ready line once every server is listening."""

    def __init__(self, label: str, detail: Callable[[], str]) -> None:
        self.label = label
        self.detail = detail
        self.address: tuple[str, int] | None = None

    def running(self) -> None:
        from mitmproxy import ctx

        proxyserver = ctx.master.addons.get("proxyserver")
        addrs = proxyserver.listen_addrs() if proxyserver else []
        if not addrs:
            return
        host, port = addrs[0][0], addrs[0][1]
        want = ctx.options.listen_host
        if want:  # report the host the user asked for, with the real port
            host = want
        self.address = (host, port)
        print(f"graphtape {self.label} listening on {format_url(host, port)} ({self.detail()})", flush=True)


def _quiet_cancellation(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """Stopping with client connections still open cancels their handlers, and asyncio
    reports each cancelled callback with a traceback. That is a normal stop, not an error."""
    if isinstance(context.get("exception"), asyncio.CancelledError):
        return
    loop.default_exception_handler(context)


async def _serve(spec: ServerSpec, addons: list[Any], detail: Callable[[], str]) -> _ReadyLine:
    opts = options.Options()
    master = Master(opts, event_loop=asyncio.get_running_loop())
    terminal = termlog.TermLog(out=sys.stderr)
    check = StartupCheck()  # mitmproxy's start-up errors, said in graphtape's terms instead of logged
    terminal.logger.addFilter(lambda record: not check.hides(record))
    master.addons.add(terminal, *proxy_addons(stop_on_startup_errors=False), check)
    ready = _ReadyLine(spec.label, detail)
    master.addons.add(*addons, ready)
    update: dict[str, Any] = {
        "mode": [spec.mode],
        "listen_host": spec.host,
        "listen_port": spec.port,
        # Never open an upstream connection before a request needs one: a replayed
        # or simulated answer must not touch the network at all.
        "connection_strategy": "lazy",
        "termlog_verbosity": spec.verbosity,
    }
    if spec.confdir:
        update["confdir"] = spec.confdir
    update.update(spec.options)
    try:
        master.options.update(**update)
    except exceptions.OptionsError as exc:
        raise ServerStartError(str(exc)) from None
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(_quiet_cancellation)
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, master.shutdown)
    try:
        await master.run()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
    return ready


def run_server(spec: ServerSpec, addons: list[Any], detail: Callable[[], str] = lambda: "") -> _ReadyLine:
    """Serve until SIGINT/SIGTERM. Raises ServerStartError when it cannot start."""
    try:
        return asyncio.run(_serve(spec, addons, detail))
    except SystemExit as exc:  # mitmproxy's errorcheck exits on errors logged at startup
        raise ServerStartError(f"mitmproxy could not start (exit {exc.code}); see the errors above") from None
