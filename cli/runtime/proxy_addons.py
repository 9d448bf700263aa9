"""The mitmproxy built-in addons graphtape's servers run with.

mitmproxy dispatches every event (client connect, request headers, request,
response, ...) to every loaded addon, so each addon costs something on every
request. mitmdump loads about thirty; graphtape's servers need only those that
make proxying, TLS and the safety checks work. Features graphtape does not offer
from its own commands (client/server playback, flow saving, scripts, header and
body rewriting, sticky cookies, the console's commands) stay out. ``mitmdump -s``
users keep all of mitmproxy, since they run mitmdump itself.
"""

from __future__ import annotations

from typing import Any

from mitmproxy.addons import (
    block,
    core,
    disable_h2c,
    dns_resolver,
    errorcheck,
    next_layer,
    proxyserver,
    strip_dns_https_records,
    tlsconfig,
    update_alt_svc,
    upstream_auth,
)

__all__ = ["proxy_addons"]


def proxy_addons(stop_on_startup_errors: bool = True, test_session: bool = False) -> list[Any]:
    """Fresh instances of the built-in addons a graphtape server needs, in mitmproxy's order.

    ``stop_on_startup_errors`` adds mitmproxy's ErrorCheck, which exits the process
    when an error is logged during start-up: right for a command, wrong inside a test
    session, where the in-process proxy reports start-up failures itself.
    ``test_session`` leaves out what only a person at a proxy uses: the mitm.it pages
    (a test gets the CA certificate's path from its fixture) and proxy authentication
    (the test proxy listens on loopback for this process's tests). Their imports (a web
    framework, LDAP and htpasswd libraries) were a large part of a test session's start-up.
    """
    addons: list[Any] = [
        core.Core(),
        block.Block(),  # refuses clients from outside the machine unless told otherwise
        strip_dns_https_records.StripDnsHttpsRecords(),
        disable_h2c.DisableH2C(),
    ]
    if not test_session:
        from mitmproxy.addons import onboarding, proxyauth

        addons += [
            onboarding.Onboarding(),  # http://mitm.it: where forward-mode users fetch the CA certificate
            proxyauth.ProxyAuth(),
        ]
    addons += [
        proxyserver.Proxyserver(),
        dns_resolver.DnsResolver(),
        next_layer.NextLayer(),
        tlsconfig.TlsConfig(),
        upstream_auth.UpstreamAuth(),
        update_alt_svc.UpdateAltSvc(),
    ]
    if stop_on_startup_errors:
        addons.append(errorcheck.ErrorCheck())
    return addons
