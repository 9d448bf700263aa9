"""Re-send a recorded request to a live service, with the caller's own credentials.

The cassette's Authorization (redacted anyway) and cookies are never sent: the
bearer token comes from the caller at run time. Uses the standard library only and
never a proxy from the environment (the proxy might be graphtape itself).

Redirects are never followed: a 3xx is the live answer, compared like any other. The
caller's token goes to the one URL it was given for, and to no origin a redirect names.
"""

from __future__ import annotations

import http.client
import ssl
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from graphtape.cassettes.errors import UpstreamError
from graphtape.cassettes.model import Headers, Request, Response

__all__ = ["bearer_value", "resend", "retarget"]

# Not forwarded: credentials (supplied fresh), and what the HTTP client sets itself.
_DROPPED = frozenset({"authorization", "proxy-authorization", "cookie", "host", "content-length", "connection",
                      "transfer-encoding", "accept-encoding", "keep-alive", "te", "upgrade"})


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """Hand a redirect back as the answer instead of following it (with the Authorization header)."""

    def redirect_request(self, req: urllib.request.Request, fp: Any, code: int, msg: str, headers: Any,
                         newurl: str) -> None:
        return None


_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirects())


def bearer_value(token: str) -> str:
    """``"abc"`` or ``"Bearer abc"`` -> ``"Bearer abc"``."""
    token = token.strip()
    return token if token.lower().startswith("bearer ") else f"Bearer {token}"


def retarget(uri: str, upstream: str | None) -> str:
    """The recorded URI with scheme and host replaced by ``upstream``'s (path and query kept)."""
    if not upstream:
        return uri
    base = urlsplit(upstream.rstrip("/"))
    rec = urlsplit(uri)
    return urlunsplit((base.scheme, base.netloc, base.path + rec.path, rec.query, ""))


def _opener(cafile: str | None) -> urllib.request.OpenerDirector:
    if cafile is None:
        return _OPENER
    context = ssl.create_default_context(cafile=cafile)
    return urllib.request.build_opener(urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=context))


def resend(request: Request, upstream: str | None, authorization: str | None, timeout: float,
           cafile: str | None = None) -> Response:
    """Send ``request`` again; the live answer (any status).

    ``cafile``: a PEM of the CA a private upstream's certificate chains to (trusted instead of
    the system's). Raises OSError (UpstreamError for a malformed answer) when nothing usable answers.
    """
    headers = [(k, v) for k, v in request.headers if k.lower() not in _DROPPED]
    if authorization:
        headers.append(("Authorization", authorization))
    req = urllib.request.Request(retarget(request.uri, upstream), data=request.body or None,
                                 method=request.method, headers=dict(headers))
    try:
        with _opener(cafile).open(req, timeout=timeout) as answer:
            return Response(answer.status, answer.reason or "", Headers.of(list(answer.headers.items())),
                            answer.read())
    except urllib.error.HTTPError as exc:  # an error status is an answer, not a failure
        with exc:
            return Response(exc.code, str(exc.reason or ""), Headers.of(list(exc.headers.items())), exc.read())
    except (http.client.HTTPException, ValueError) as exc:  # a malformed status line, a cut-off body, a bad URL
        raise UpstreamError(f"{retarget(request.uri, upstream)}: {type(exc).__name__}: {exc}") from None
