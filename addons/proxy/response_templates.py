"""Replayed answers: built once per recorded response, copied for each request.

Building a mitmproxy Response type-checks every field (mitmproxy's MessageData runs
a check in ``__post_init__``), and the replay profile showed that as the largest part
of graphtape's own work per answered request. A recorded response never changes, so
it is built once per HTTP version, and every request gets a shallow copy with its
own headers and timestamps (the body bytes are immutable and shared).
"""

from __future__ import annotations

import copy
import time

from mitmproxy import http

from graphtape.addons.proxy.flow_convert import to_mitmproxy_response
from graphtape.cassettes.model import Response

__all__ = ["ResponseTemplates"]


class ResponseTemplates:
    def __init__(self) -> None:
        self._templates: dict[tuple[Response, str], http.Response] = {}

    def __len__(self) -> int:
        return len(self._templates)

    def response_for(self, recorded: Response, flow: http.HTTPFlow) -> http.Response:
        """The recorded answer for ``flow``, as ``to_mitmproxy_response`` would build it."""
        key = (recorded, flow.request.http_version)
        template = self._templates.get(key)
        if template is None:
            template = self._templates[key] = to_mitmproxy_response(recorded, flow)
        data = copy.copy(template.data)
        # Addons may edit headers: each answer gets its own (from the immutable fields; .copy() costs 6x more).
        data.headers = http.Headers(template.data.headers.fields)
        data.timestamp_start = data.timestamp_end = time.time()
        answer = http.Response.__new__(http.Response)
        answer.data = data
        return answer
