"""The ReplayLatency addon: replayed answers take as long as the recorded ones did, when asked.

Off by default (replay answers at once). With ``graphtape_replay_latency`` (``graphtape
replay --honour-latency``) a replayed answer is held for the upstream latency recorded with
its interaction (``latency`` in the cassette's ``graphtape`` meta), so a client's timeouts,
progress reporting and concurrency meet the same timing as against the service. The wait
is asynchronous: other requests are answered meanwhile.
"""

from __future__ import annotations

import asyncio
from typing import Any

from mitmproxy import ctx, http

__all__ = ["REPLAY_METADATA_KEY", "ReplayLatency"]

# The Replayer's note on a flow it answered: {"replayed": True, "latency": seconds or None}.
REPLAY_METADATA_KEY = "graphtape"


class ReplayLatency:
    def __init__(self) -> None:
        self.waited = 0.0  # seconds held in total, for tests and the curious

    def load(self, loader: Any) -> None:
        loader.add_option("graphtape_replay_latency", bool, False,
                          "Hold each replayed answer for the upstream latency recorded with it.")

    async def request(self, flow: http.HTTPFlow) -> None:
        if not ctx.options.graphtape_replay_latency or flow.response is None:
            return
        note = flow.metadata.get(REPLAY_METADATA_KEY)
        latency = note.get("latency") if isinstance(note, dict) and note.get("replayed") else None
        if isinstance(latency, (int, float)) and latency > 0:
            self.waited += float(latency)
            await asyncio.sleep(float(latency))
