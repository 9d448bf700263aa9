"""Pick HTTP/2 for a TLS client that offers it while no upstream connection exists yet.

graphtape runs mitmproxy with lazy upstream connections (a replayed answer must not
touch the network). mitmproxy then has no server ALPN to mirror and takes the
client's first preference, and httpx/httpcore list ``http/1.1`` before ``h2``
inside a proxy tunnel, so such a client would never speak HTTP/2 through graphtape.
A real server (Graph included) chooses by its own preference, which is h2; this
addon makes the proxy answer the same way. mitmproxy translates between an h2
client and an HTTP/1.1 upstream when it records.
"""

from __future__ import annotations

from mitmproxy import ctx, tls

__all__ = ["PreferHttp2"]


class PreferHttp2:
    def tls_start_client(self, tls_start: tls.TlsData) -> None:
        # Runs after mitmproxy's tlsconfig addon, which attached the ALPN choice data.
        if tls_start.ssl_conn is None or not ctx.options.http2:
            return
        data = tls_start.ssl_conn.get_app_data()
        if not isinstance(data, dict) or data.get("client_alpn") is not None or data.get("server_alpn") is not None:
            return  # an upstream answer or a forced protocol decides, as mitmproxy does
        if b"h2" in (tls_start.context.client.alpn_offers or ()):
            data["client_alpn"] = b"h2"
