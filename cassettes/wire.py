"""What a replayed response must be to go over the wire as it is: checked when a cassette loads.

Replay sends a recorded answer byte for byte, so a cassette (a file anyone can edit)
must not be able to make graphtape send a malformed or smuggling response: a header
value holding CR, LF or NUL (a forged header or a second response), a header name
that is not an HTTP token, a body longer or shorter than its Content-Length,
conflicting framing (Transfer-Encoding other than ``chunked``, or together with
Content-Length), or a status outside 100-599. The loader refuses such a cassette,
naming the file and the key; graphtape itself never writes one.
"""

from __future__ import annotations

import re

from graphtape.cassettes.model import Response

__all__ = ["response_problems", "servable"]

_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
# Control characters other than horizontal tab end or split a header line somewhere along the way.
_BAD_VALUE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_BODYLESS = frozenset({204, 304})


def response_problems(response: Response, method: str) -> list[tuple[str, str]]:
    """``(key, problem)`` for everything that keeps ``response`` from being sent as recorded.

    ``key`` is relative to the response (``status.code``, ``headers.X-Name``, ``body``);
    ``method`` is the request's (a HEAD answer announces a length it does not carry).
    """
    problems: list[tuple[str, str]] = []
    code = response.status_code
    if not 100 <= code <= 599:
        problems.append(("status.code", f"status {code} is not an HTTP status (100-599)"))
    if _BAD_VALUE.search(response.reason):
        problems.append(("status.message", "holds a control character (CR, LF, NUL...)"))
    lengths: list[str] = []
    codings: list[str] = []
    for name, value in response.headers:
        if not _TOKEN.fullmatch(name):
            problems.append((f"headers.{name}", "is not a valid HTTP header name"))
        if _BAD_VALUE.search(value):
            problems.append((f"headers.{name}", "value holds a control character (CR, LF, NUL...)"))
        lname = name.lower()
        if lname == "content-length":
            lengths.append(value.strip())
        elif lname == "transfer-encoding":
            codings.extend(c.strip().lower() for c in value.split(",") if c.strip())
    if codings:
        if codings != ["chunked"]:
            problems.append(("headers.Transfer-Encoding", f"{', '.join(codings)!r}: graphtape replays a body "
                             "as recorded and frames it only as chunked"))
        if lengths:
            problems.append(("headers.Content-Length", "sent together with Transfer-Encoding (conflicting framing)"))
    elif lengths:
        if len(set(lengths)) > 1:
            problems.append(("headers.Content-Length", f"given {len(lengths)} times with different values"))
        elif not lengths[0].isdigit():
            problems.append(("headers.Content-Length", f"{lengths[0]!r} is not a length"))
        elif int(lengths[0]) != len(response.body) and not (
                not response.body and (method.upper() == "HEAD" or code in _BODYLESS or code < 200)):
            problems.append(("body", f"{len(response.body)} bytes, but Content-Length says {lengths[0]}"))
    if response.body and (code in _BODYLESS or code < 200):
        problems.append(("body", f"a {code} answer carries no body"))
    return problems


def servable(response: Response, method: str) -> tuple[Response, list[str]]:
    """``response`` made sendable as recorded (what a live upstream sent may not be), and what changed.

    Headers with a bad name or value are dropped, and framing is made to agree with the
    body: the recorder and ``verify --update`` write only what the loader accepts.
    """
    problems = response_problems(response, method)
    if not problems:
        return response, []
    pairs = [(n, v) for n, v in response.headers if _TOKEN.fullmatch(n) and not _BAD_VALUE.search(v)]
    framing = {"content-length", "transfer-encoding"}
    kept = [(n, v) for n, v in pairs if n.lower() not in framing]
    had_length = any(n.lower() in framing for n, _ in pairs)
    code = response.status_code if 100 <= response.status_code <= 599 else 502
    body = b"" if code in _BODYLESS or code < 200 else response.body
    if had_length and body:
        kept.append(("Content-Length", str(len(body))))
    fixed = Response(code, _BAD_VALUE.sub(" ", response.reason), type(response.headers)(tuple(kept)), body)
    return fixed, [f"{key}: {problem}" for key, problem in problems]
