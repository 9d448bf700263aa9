"""A minimal stdlib HTTP client for graphtape's own commands (demo, example recording)."""

from __future__ import annotations

import urllib.error
import urllib.request
from dataclasses import dataclass

from graphtape.cli.examples.example_requests import ExampleRequest

__all__ = ["Answer", "send", "send_example"]


@dataclass(frozen=True)
class Answer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def send(method: str, url: str, headers: dict[str, str], body: bytes | None, timeout: float = 30.0) -> Answer:
    req = urllib.request.Request(url, data=body, method=method, headers=headers)
    # No proxy from the environment: these calls go straight to a loopback graphtape.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(req, timeout=timeout) as resp:
            return Answer(resp.status, list(resp.headers.items()), resp.read())
    except urllib.error.HTTPError as err:
        return Answer(err.code, list(err.headers.items()), err.read())


def send_example(base_url: str, example: ExampleRequest) -> Answer:
    return send("POST", base_url.rstrip("/") + example.path, example.all_headers(), example.body)
