"""The stop summary of ``record`` and ``replay``, in the format ``--format`` asked for.

The summary itself is built in :mod:`graphtape.cassettes.summary`, which the add-on in a
stock mitmproxy prints too.
"""

from __future__ import annotations

import json
from typing import Any

from graphtape.cassettes.session import TapeSession
from graphtape.cassettes.summary import summary_data, summary_text

__all__ = ["session_summary"]


def session_summary(label: str, sessions: list[TapeSession], close_errors: list[str], fmt: str = "text",
                    alerts_text: str = "", alerts: dict[str, Any] | None = None, exit_code: int = 0) -> str:
    if fmt == "json":
        return json.dumps({**summary_data(label, sessions, close_errors, alerts), "exit_code": exit_code},
                          ensure_ascii=False, indent=2)
    return summary_text(label, sessions, close_errors, alerts_text)
