"""The limit: a mitmproxy addon that answers every request with one fixed response.

Loaded with ``mitmdump -s fixed_response.py --set fixed_body=FILE``; it does nothing
else, so its requests/s is the most any addon on this mitmproxy can reach.
"""

from __future__ import annotations

from typing import Any

from mitmproxy import ctx, http


class FixedResponse:
    def __init__(self) -> None:
        self.body = b"{}"

    def load(self, loader: Any) -> None:
        loader.add_option("fixed_body", str, "", "File whose bytes every answer carries.")

    def configure(self, updated: set[str]) -> None:
        if "fixed_body" in updated and ctx.options.fixed_body:
            with open(ctx.options.fixed_body, "rb") as fh:
                self.body = fh.read()

    def request(self, flow: http.HTTPFlow) -> None:
        flow.response = http.Response.make(201, self.body, {"Content-Type": "application/json"})


addons = [FixedResponse()]
