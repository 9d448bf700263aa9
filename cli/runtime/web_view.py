"""mitmweb, in this process, showing a cassette: read-only, on loopback, without a proxy.

mitmproxy's own WebMaster serves its web UI with the cassette's flows in its view. What
makes it a viewer and not a proxy:

- no proxy listener (mitmproxy's ``server`` option off), so nothing reaches any upstream;
- only GET, HEAD and OPTIONS reach mitmweb: replaying, editing, intercepting, clearing or
  changing options is refused (405), whoever asks;
- the web UI answers only requests whose ``Host`` names the loopback address it listens
  on (a page elsewhere that rebinds its name to 127.0.0.1 gets 403);
- a secret token: mitmproxy 12 checks its own (``web_password``'s random default);
  mitmproxy 11.0 has none, so graphtape adds one (URL ``?token=``, then a cookie);
- mitmproxy's configuration folder (its CA, its command history) is a temporary one, removed
  at the end: viewing leaves nothing behind.

The web server listens on a socket bound before mitmproxy starts, so ``--port 0`` gets a
free port that the URL, the cookie name and the ready line all agree on.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import secrets
import signal
import socket
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import tornado.httpserver
import tornado.ioloop
import tornado.netutil
import tornado.web
from mitmproxy import exceptions, http, master, options
from mitmproxy.addons import termlog
from mitmproxy.tools.web import app as web_app
from mitmproxy.tools.web import webaddons
from mitmproxy.tools.web.master import WebMaster

from graphtape.cli.runtime.server import ServerStartError, format_url

__all__ = ["ViewSpec", "is_loopback", "run_viewer"]

# mitmproxy 12 protects the web UI with a token of its own; 11.0 does not.
_MITMPROXY_CHECKS_TOKEN = hasattr(webaddons, "WebAuth")
_READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class ViewSpec:
    host: str = "127.0.0.1"
    port: int = 0
    open_browser: bool = False


def is_loopback(host: str) -> bool:
    """``localhost`` or a loopback address (127.0.0.0/8, ::1)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class _Refused(tornado.web.RequestHandler):
    """The answer to a request the viewer does not serve."""

    def initialize(self, status: int, message: str) -> None:
        self._status, self._message = status, message

    def check_xsrf_cookie(self) -> None:
        """Refused anyway: the refusal, not a missing XSRF cookie, is what the client should read."""

    def prepare(self) -> None:
        self.set_status(self._status)
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.finish(f"graphtape view: {self._message}\n")


class _SetTokenCookie(tornado.web.RequestHandler):
    """mitmproxy 11.0 only: a valid ``?token=`` becomes a cookie, then the same URL without it."""

    def initialize(self, cookie: str, token: str, target: str) -> None:
        self._cookie, self._token, self._target = cookie, token, target

    def prepare(self) -> None:
        self.set_cookie(self._cookie, self._token, httponly=True, samesite="Strict")
        self.redirect(self._target)


Refusal = tuple[type[tornado.web.RequestHandler], dict[str, Any]]


class _Guard:
    """Decides, per request, whether mitmweb gets to answer it (see the module's docstring)."""

    def __init__(self, host: str, port: int, token: str | None) -> None:
        names = {host.lower(), "localhost", "127.0.0.1", "[::1]"}
        self.hosts = {f"[{n}]:{port}" if ":" in n and not n.startswith("[") else f"{n}:{port}" for n in names}
        self.token = token
        self.cookie = f"graphtape-view-{port}"

    def _valid(self, offered: str | None) -> bool:
        return bool(offered) and self.token is not None and hmac.compare_digest(offered or "", self.token)

    def check(self, request: Any) -> Refusal | None:
        if (request.headers.get("Host") or "").lower() not in self.hosts:
            return _Refused, {"status": 403, "message": "this address serves loopback clients only"}
        if request.method not in _READ_ONLY_METHODS:
            return _Refused, {"status": 405, "message": "read-only: nothing can be replayed, edited or changed"}
        if self.token is None:
            return None  # mitmproxy checks its own token
        cookie = request.cookies.get(self.cookie)
        if self._valid(cookie.value if cookie is not None else None):
            return None
        scheme, _, credentials = (request.headers.get("Authorization") or "").partition(" ")
        if scheme == "Bearer" and self._valid(credentials):
            return None
        offered = [v.decode("utf-8", "replace") for v in request.query_arguments.get("token", [])]
        if offered and self._valid(offered[0]):
            rest = [(k, v.decode("utf-8", "replace")) for k, values in request.query_arguments.items()
                    if k != "token" for v in values]
            target = request.path + ("?" + urlencode(rest) if rest else "")
            return _SetTokenCookie, {"cookie": self.cookie, "token": self.token, "target": target}
        return _Refused, {"status": 403, "message": "open the URL graphtape view printed (it carries the token)"}


class _GuardedApplication(web_app.Application):
    guard: _Guard | None = None

    def find_handler(self, request: Any, **kwargs: Any) -> Any:
        refusal = self.guard.check(request) if self.guard is not None else None
        if refusal is not None:
            handler, handler_kwargs = refusal
            return self.get_handler_delegate(request, handler, handler_kwargs)
        return super().find_handler(request, **kwargs)


class _ViewerMaster(WebMaster):
    """mitmproxy's WebMaster serving on a socket bound beforehand, with the cassette's flows."""

    def __init__(self, opts: options.Options, sockets: list[socket.socket], flows: list[http.HTTPFlow],
                 guard: _Guard, on_running: Callable[[], None]) -> None:
        super().__init__(opts, with_termlog=False)
        self.addons.add(termlog.TermLog(out=sys.stderr))
        guarded = _GuardedApplication(self, False)
        guarded.guard = guard
        self.app = guarded
        self._sockets = sockets
        self._flows = flows
        self._on_running = on_running
        self._http_server: tornado.httpserver.HTTPServer | None = None

    async def running(self) -> None:
        tornado.ioloop.IOLoop.current()  # tornado serves on the running asyncio loop
        self.view.add(self._flows)  # straight into the view: no addon sees them as traffic
        self._http_server = tornado.httpserver.HTTPServer(self.app)
        self._http_server.add_sockets(self._sockets)
        await master.Master.running(self)  # WebMaster's own would listen on options.web_port itself
        self._on_running()

    async def done(self) -> None:
        if self._http_server is not None:
            self._http_server.stop()
        await super().done()


def _bind(host: str, port: int) -> list[socket.socket]:
    try:
        return tornado.netutil.bind_sockets(port, address=host.strip("[]"))
    except OSError as exc:
        raise ServerStartError(f"cannot listen on {format_url(host, port)}: {exc.strerror or exc}") from None


def _web_url(viewer: _ViewerMaster, host: str, port: int, token: str | None) -> str:
    if token is not None:
        return f"{format_url(host, port)}/?token={token}"
    return str(getattr(viewer, "web_url", ""))  # mitmproxy 12: its own URL, token included


async def _serve(spec: ViewSpec, flows: list[http.HTTPFlow], detail: str, confdir: str) -> None:
    sockets = _bind(spec.host, spec.port)
    port = int(sockets[0].getsockname()[1])
    token = None if _MITMPROXY_CHECKS_TOKEN else secrets.token_hex(16)
    guard = _Guard(spec.host, port, token)
    url = ""

    def ready() -> None:
        print(f"graphtape viewer listening on {url} ({detail})", flush=True)
        if spec.open_browser and not webaddons.open_browser(url):
            print(f"graphtape view: no browser found; open {url}", file=sys.stderr, flush=True)

    viewer = _ViewerMaster(options.Options(confdir=confdir), sockets, flows, guard, ready)
    try:
        viewer.options.update(server=False, web_host=spec.host.strip("[]"), web_port=port,
                              web_open_browser=False, termlog_verbosity="warn")
    except exceptions.OptionsError as exc:
        for sock in sockets:
            sock.close()
        raise ServerStartError(str(exc)) from None
    url = _web_url(viewer, spec.host, port, token)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, viewer.shutdown)
    try:
        await viewer.run()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


def run_viewer(spec: ViewSpec, flows: list[http.HTTPFlow], detail: str) -> None:
    """Serve mitmweb with ``flows`` until SIGINT/SIGTERM. Raises ServerStartError when it cannot start."""
    with tempfile.TemporaryDirectory(prefix="graphtape-view-") as confdir:
        try:
            asyncio.run(_serve(spec, flows, detail, confdir))
        except SystemExit as exc:  # mitmproxy's errorcheck exits on errors logged at startup
            raise ServerStartError(f"mitmweb could not start (exit {exc.code}); see the errors above") from None
