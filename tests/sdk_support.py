"""What the end-to-end tests with real SDK clients share: a free loopback port and a fake credential."""

from __future__ import annotations

import socket
import time
from typing import Any

__all__ = ["FixedTokenCredential", "free_port"]


def free_port() -> int:
    """A TCP port nothing listens on right now (on 127.0.0.1)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class FixedTokenCredential:
    """An azure.core TokenCredential that hands out one fake token, valid for an hour."""

    def __init__(self, token: str) -> None:
        self.token = token

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        from azure.core.credentials import AccessToken

        return AccessToken(self.token, int(time.time()) + 3600)
