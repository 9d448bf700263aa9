"""Deliver alerts to a webhook from a background thread, never holding up the proxy.

The proxy only ever calls :meth:`WebhookSender.send`, which puts the alert on a
bounded queue without blocking (a full queue drops the alert and counts it). One
worker thread POSTs each alert as JSON, retrying a bounded number of times with
back-off; a dead or hanging receiver costs the worker time, not the traffic.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit

__all__ = ["WebhookSender", "safe_url"]

logger = logging.getLogger("graphtape")

_STOP = object()


def safe_url(url: str) -> str:
    """The URL without path, query or credentials: webhook URLs often embed a secret."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}{f':{parts.port}' if parts.port else ''}/…"


class WebhookSender:
    def __init__(self, url: str, *, queue_size: int = 1000, retries: int = 3, timeout: float = 5.0,
                 backoff: float = 0.5) -> None:
        self.url = url
        self.retries = max(0, retries)
        self.timeout = timeout
        self.backoff = backoff
        self.sent = 0
        self.failed = 0
        self.dropped = 0
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=max(1, queue_size))
        self._stopping = threading.Event()
        # Alerts go straight to the receiver, never through HTTP(S)_PROXY (which may be us).
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        self._thread = threading.Thread(target=self._run, name="graphtape-alert-webhook", daemon=True)
        self._thread.start()

    def send(self, alert: dict[str, Any]) -> bool:
        """Queue ``alert`` for delivery; False (and counted as dropped) when the queue is full."""
        try:
            self._queue.put_nowait(alert)
            return True
        except queue.Full:
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 1000 == 0:
                logger.warning(f"graphtape: alert webhook {safe_url(self.url)} is not keeping up; "
                               f"{self.dropped} alert(s) dropped so far")
            return False

    def close(self, wait: float = 3.0) -> None:
        """Give queued alerts up to ``wait`` seconds to go out, then stop retrying."""
        try:
            self._queue.put(_STOP, timeout=wait)
        except queue.Full:
            pass
        self._thread.join(wait)
        self._stopping.set()
        self._thread.join(min(wait, self.timeout + 0.5))
        left = self._queue.qsize()
        if left:
            self.dropped += left
            logger.warning(f"graphtape: {left} alert(s) not delivered to {safe_url(self.url)} before stopping")

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            if self._stopping.is_set():
                self.dropped += 1
                continue
            self._deliver(item)

    def _deliver(self, alert: dict[str, Any]) -> None:
        data = json.dumps(alert, ensure_ascii=False).encode("utf-8")
        problem = ""
        for attempt in range(self.retries + 1):
            request = urllib.request.Request(self.url, data=data, method="POST",
                                             headers={"Content-Type": "application/json",
                                                      "User-Agent": "graphtape-alerts"})
            try:
                with self._opener.open(request, timeout=self.timeout) as answer:
                    answer.read(65536)
                self.sent += 1
                return
            except urllib.error.HTTPError as exc:
                problem = f"HTTP {exc.code}"
                if 400 <= exc.code < 500 and exc.code not in (408, 429):
                    break  # the receiver refuses this alert; sending it again will not help
            except (OSError, ValueError) as exc:  # refused, reset, timed out, bad URL
                problem = str(getattr(exc, "reason", None) or exc) or type(exc).__name__
            if attempt < self.retries and self._stopping.wait(self.backoff * (2 ** attempt)):
                break
        self.failed += 1
        logger.warning(f"graphtape: alert webhook {safe_url(self.url)} failed ({problem}); alert not delivered")
