"""Read mitmproxy flow files (what ``mitmdump -w`` and mitmweb save) as captured exchanges."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from mitmproxy import http, io
from mitmproxy.exceptions import FlowReadException

from graphtape.addons.proxy.flow_convert import request_from_flow, response_from_flow
from graphtape.cassettes.errors import CaptureFormatError
from graphtape.cassettes.har import MAX_CAPTURE_BYTES, Exchange
from graphtape.cassettes.safe_files import open_regular

__all__ = ["read_flow_file"]


def read_flow_file(path: Path) -> list[Exchange]:
    """Every answered HTTP flow in ``path``, in file order; other flows (TCP, DNS, errors) are left out."""
    out: list[Exchange] = []
    n = 0

    def fail(problem: str) -> CaptureFormatError:
        return CaptureFormatError(path, "", problem)

    try:
        with open_regular(path, fail, MAX_CAPTURE_BYTES) as fh:
            for n, flow in enumerate(io.FlowReader(fh).stream()):
                if not isinstance(flow, http.HTTPFlow) or flow.response is None:
                    continue
                out.append(Exchange(request=request_from_flow(flow), response=response_from_flow(flow),
                                    started=_iso(flow.request.timestamp_start), where=f"flow {n}"))
    except CaptureFormatError:
        raise
    except FileNotFoundError:
        raise CaptureFormatError(path, "", "cannot read: no such file") from None
    except OSError as exc:
        raise CaptureFormatError(path, "", f"cannot read: {exc.strerror or exc}") from None
    except FlowReadException as exc:
        raise CaptureFormatError(path, f"after {len(out)} flows", f"not a mitmproxy flow file: {exc}") from None
    except Exception as exc:  # a hostile file can break mitmproxy's reader in any way it likes
        raise CaptureFormatError(path, f"flow {n}", f"unusable flow: {type(exc).__name__}: "
                                 f"{str(exc)[:200]}") from None
    return out


def _iso(timestamp: float | None) -> str | None:
    if not timestamp:
        return None
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
