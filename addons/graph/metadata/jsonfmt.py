"""Deterministic, compact and readable JSON: what fits on a line stays on one line.

``json.dumps(indent=...)`` puts every scalar on a line of its own, which makes a type
with thirty properties a hundred lines long; one line per property reads better and
diffs better. Keys are sorted everywhere, so the same data always gives the same bytes.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["dumps"]

_INDENT = "  "


def dumps(value: Any, width: int = 160) -> str:
    """``value`` as JSON text ending with a newline; containers wider than ``width`` break."""
    return _render(value, 0, 0, width) + "\n"


def _inline(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(", ", ": "))


def _render(value: Any, level: int, used: int, width: int) -> str:
    """``value`` starting at column ``used`` of a line indented ``level`` times."""
    flat = _inline(value)
    if not isinstance(value, (dict, list)) or not value or used + len(flat) <= width:
        return flat
    inner = _INDENT * (level + 1)
    if isinstance(value, dict):
        items = []
        for key in sorted(value):
            head = f"{inner}{_inline(str(key))}: "
            items.append(head + _render(value[key], level + 1, len(head), width))
        return "{\n" + ",\n".join(items) + "\n" + _INDENT * level + "}"
    items = [inner + _render(item, level + 1, len(inner), width) for item in value]
    return "[\n" + ",\n".join(items) + "\n" + _INDENT * level + "]"
