"""Validation findings: what the schema checks report about one request or response.

Findings live here (and not in ``graphtape.addons``) because cassettes store them
and the cassette layer must not depend on the mitmproxy side.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

__all__ = ["Finding", "Severity", "worst_severity"]


class Severity(str, enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"error": 3, "warning": 2, "info": 1}[self.value]


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing a check found.

    ``where`` is ``"request"`` or ``"response"``; ``path`` is a JSON path into the body
    (``$.size``, ``$.item.subject``) or a pseudo path for non-body facts (``$status``,
    ``$headers.content-type``, ``$route``); ``code`` is a stable machine-readable name
    (``wrong-type``, ``unknown-property``...).
    """

    severity: Severity
    code: str
    where: str
    path: str
    expected: str
    seen: str
    message: str

    def __post_init__(self) -> None:
        # A finding quotes what it saw, and a header that was not UTF-8 reaches it as lone
        # surrogates, which no UTF-8 writer (cassette, report, log) can store: kept as escapes.
        for name in ("path", "expected", "seen", "message"):
            text = getattr(self, name)
            if isinstance(text, str) and not text.isascii():
                object.__setattr__(self, name, _printable(text))

    def to_dict(self) -> dict[str, Any]:
        return {
            "severity": self.severity.value,
            "code": self.code,
            "where": self.where,
            "path": self.path,
            "expected": self.expected,
            "seen": self.seen,
            "message": self.message,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        return cls(
            severity=Severity(str(data["severity"])),
            code=str(data["code"]),
            where=str(data["where"]),
            path=str(data["path"]),
            expected=str(data.get("expected", "")),
            seen=str(data.get("seen", "")),
            message=str(data.get("message", "")),
        )

    def __str__(self) -> str:
        return (
            f"{self.severity.value}: {self.where} {self.path}: {self.message}"
            f" (expected {self.expected}, seen {self.seen})"
        )


def _printable(text: str) -> str:
    """``text`` with every lone surrogate written as its ``\\udcXX`` escape (other text unchanged)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def worst_severity(findings: list[Finding]) -> Severity | None:
    """The most severe level among ``findings``, or None when there are none."""
    if not findings:
        return None
    return max(findings, key=lambda f: f.severity.rank).severity
