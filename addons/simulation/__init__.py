"""The embedded Graph simulator as pure logic: requests in, Graph-shaped answers out.

No sockets and no mitmproxy here (``graphtape.addons.proxy.simulator`` serves it);
what it accepts and rejects comes from ``graphtape.addons.graph``.
"""
