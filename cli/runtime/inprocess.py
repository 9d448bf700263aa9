"""One mitmproxy with graphtape's addons, run in a background thread of this process.

The pytest plugin starts it once per test session (once per xdist worker) and
switches cassettes per test by updating the ``graphtape_*`` options. Option updates
run on the proxy's own event loop thread, because addons' ``configure`` hooks and
the flows they serve share state; :meth:`InProcessProxy.configure` blocks until the
update (and so the Tape's cassette switch) is complete.

It listens in two modes at once: reverse (the client uses ``url`` as Graph's base
URL) and regular (the client uses ``proxy_url`` as its HTTP(S) proxy).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from mitmproxy import exceptions, options
from mitmproxy.master import Master
from mitmproxy.proxy import mode_specs

from graphtape.addons.proxy.stack import GraphtapeStack, build_stack
from graphtape.cassettes.errors import ConfigError
from graphtape.cli.runtime.proxy_addons import proxy_addons
from graphtape.cli.runtime.server import format_url

__all__ = ["InProcessProxy", "ProxySpec", "ProxyStartError"]

T = TypeVar("T")


class ProxyStartError(ConfigError):
    """The in-process proxy could not start or could not apply an option."""


@dataclass(frozen=True)
class ProxySpec:
    upstream: str  # reverse mode's target
    host: str = "127.0.0.1"
    confdir: Path | None = None  # mitmproxy's CA lives here (forward mode's TLS)
    options: dict[str, Any] = field(default_factory=dict)  # extra mitmproxy/graphtape options
    timeout: float = 30.0


class _Running:
    """Completes a future once mitmproxy has called every addon's ``running``."""

    def __init__(self, started: concurrent.futures.Future[None]) -> None:
        self.started = started

    def running(self) -> None:
        if not self.started.done():
            self.started.set_result(None)


class InProcessProxy:
    """``start()`` it, read ``url`` / ``proxy_url``, ``configure(...)`` per test, ``stop()``."""

    def __init__(self, spec: ProxySpec) -> None:
        self.spec = spec
        self.stack: GraphtapeStack = build_stack(offline_without_cassette=True)
        self.master: Master | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.url = ""
        self.proxy_url = ""
        self._thread: threading.Thread | None = None
        self._started: concurrent.futures.Future[None] = concurrent.futures.Future()
        self._finished: concurrent.futures.Future[None] = concurrent.futures.Future()

    # ------------------------------------------------------------ life cycle

    def start(self) -> InProcessProxy:
        self._thread = threading.Thread(target=self._main, name="graphtape-proxy", daemon=True)
        self._thread.start()
        try:
            self._started.result(timeout=self.spec.timeout)
        except concurrent.futures.TimeoutError:
            self.stop()
            raise ProxyStartError(f"the graphtape proxy did not start within {self.spec.timeout:.0f}s") from None
        except ProxyStartError:
            self.stop()
            raise
        self._add_forward_server()
        self._read_addresses()
        return self

    def _reverse_spec(self) -> str:
        return f"reverse:{self.spec.upstream.rstrip('/')}@0"

    def _add_forward_server(self) -> None:
        """Start the regular (forward) server beside the reverse one, both on OS-picked ports.

        The ``mode`` option cannot hold two specs with port 0 (mitmproxy refuses what
        looks like the same address twice), so the second server is added through the
        proxyserver's server set directly; the OS then picks a distinct free port for each.
        """
        assert self.loop is not None
        proxyserver = self._master().addons.get("proxyserver")
        modes = [mode_specs.ProxyMode.parse(self._reverse_spec()), mode_specs.ProxyMode.parse("regular@0")]
        done = asyncio.run_coroutine_threadsafe(proxyserver.servers.update(modes), self.loop)
        if not done.result(timeout=self.spec.timeout):
            self.stop()
            raise ProxyStartError("the graphtape proxy could not open its forward-mode port")

    def _main(self) -> None:
        loop = asyncio.new_event_loop()
        self.loop = loop
        try:
            loop.run_until_complete(self._serve())
            _cancel_leftover_tasks(loop)
        except BaseException as exc:
            if not self._started.done():
                self._started.set_exception(ProxyStartError(f"the graphtape proxy could not start: {exc}"))
        finally:
            if not self._started.done():
                self._started.set_exception(ProxyStartError("the graphtape proxy stopped during start-up"))
            loop.close()
            self._finished.set_result(None)

    async def _serve(self) -> None:
        master = Master(options.Options(), event_loop=asyncio.get_running_loop())
        master.addons.add(*proxy_addons(stop_on_startup_errors=False, test_session=True))
        master.addons.add(*self.stack.host_addons(), _Running(self._started))
        self.master = master
        update: dict[str, Any] = {
            "mode": [self._reverse_spec()],
            "listen_host": self.spec.host,
            # Never open an upstream connection before a request needs one (replay is offline).
            "connection_strategy": "lazy",
        }
        if self.spec.confdir is not None:
            update["confdir"] = str(self.spec.confdir)
        update.update(self.spec.options)
        try:
            master.options.update(**update)
        except (exceptions.OptionsError, KeyError) as exc:
            raise ProxyStartError(f"bad proxy option: {exc}") from None
        await master.run()

    def _read_addresses(self) -> None:
        proxyserver = self.call(lambda: self._master().addons.get("proxyserver"))
        by_mode: dict[str, tuple[str, int]] = {}
        for server in proxyserver.servers:
            addrs = server.listen_addrs
            if addrs:
                by_mode[type(server.mode).__name__] = (addrs[0][0], addrs[0][1])
        try:
            reverse, regular = by_mode["ReverseMode"], by_mode["RegularMode"]
        except KeyError:
            raise ProxyStartError(f"the graphtape proxy is not listening in both modes ({by_mode})") from None
        self.url = format_url(self.spec.host, reverse[1])
        self.proxy_url = format_url(self.spec.host, regular[1])

    def stop(self) -> None:
        """Stop serving; mitmproxy's ``done`` closes the open cassette session."""
        if self.master is not None and self.loop is not None and not self.loop.is_closed():
            self.master.shutdown()
        if self._thread is not None:
            self._thread.join(timeout=self.spec.timeout)
            self._thread = None

    # ------------------------------------------------------------ on the loop thread

    def _master(self) -> Master:
        assert self.master is not None
        return self.master

    def call(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` on the proxy's event loop thread and return its result (or raise its error)."""
        if self.loop is None or self.loop.is_closed():
            raise ProxyStartError("the graphtape proxy is not running")
        result: concurrent.futures.Future[T] = concurrent.futures.Future()

        def run() -> None:
            try:
                result.set_result(fn())
            except BaseException as exc:
                result.set_exception(exc)

        self.loop.call_soon_threadsafe(run)
        return result.result(timeout=self.spec.timeout)

    def configure(self, **opts: Any) -> None:
        """Update options on the loop thread; returns once every addon has applied them.

        An option the Tape rejects (a missing cassette in record mode ``none``, a locked
        one) raises ProxyStartError; mitmproxy rolls the options back.
        """
        try:
            self.call(lambda: _update_options(self._master().options, opts))
        except exceptions.OptionsError as exc:
            raise ProxyStartError(str(exc)) from None


def _update_options(opts: options.Options, values: dict[str, Any]) -> None:
    """``opts.update(**values)`` with a rollback of just the options it changes.

    mitmproxy's own update deep-copies every option (about eighty, each re-checking its
    type and re-wrapping its help text) to roll back on an error; the pytest plugin updates
    options twice per test, and that copy was most of a cassette switch's cost. On an
    OptionsError the options named here get their previous values back and every addon is
    told, as mitmproxy does.
    """
    known = getattr(opts, "_options", None)
    if not isinstance(known, dict) or any(name not in known for name in values):
        opts.update(**values)  # not the OptManager this was written for, or an unknown name: mitmproxy's way
        return
    before = {name: known[name].value for name in values}
    try:
        for name, value in values.items():
            known[name].set(value)
        opts.changed.send(updated=set(values))
    except exceptions.OptionsError as exc:
        opts.errored.send(exc=exc)
        for name, value in before.items():
            known[name].value = value
        opts.changed.send(updated=set(values))
        raise



def _cancel_leftover_tasks(loop: asyncio.AbstractEventLoop) -> None:
    """Finish client handlers still open at shutdown (keep-alive connections) before the loop closes."""
    tasks = [t for t in asyncio.all_tasks(loop) if not t.done()]

    def quiet_cancellations(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        # asyncio's stream callback reports a cancelled handler as an error; here it is the plan.
        if not isinstance(context.get("exception"), asyncio.CancelledError):
            loop.default_exception_handler(context)

    loop.set_exception_handler(quiet_cancellations)
    for task in tasks:
        task.cancel()
    if tasks:
        loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
