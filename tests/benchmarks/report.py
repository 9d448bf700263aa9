"""Rows of medians and ratios, the targets they are checked against, and the printed table."""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["Row", "Target", "as_json", "median", "render_table"]


def median(values: list[float]) -> float:
    values = [v for v in values if v == v]  # drop NaN
    return statistics.median(values) if values else float("nan")


@dataclass
class Row:
    """One measured figure: its median over the rounds and, when it has one, a baseline."""

    section: str
    name: str
    unit: str
    value: float
    baseline_name: str = ""
    baseline: float = float("nan")
    ratio: float = float("nan")  # median of per-round value/baseline
    note: str = ""


@dataclass
class Target:
    name: str
    figure: float
    want: str  # ">= 0.9", "<= 2", "< 3"
    note: str = ""
    met: bool = field(init=False)

    def __post_init__(self) -> None:
        op, limit = self.want.split()
        bound = float(limit)
        checks = {">=": self.figure >= bound, "<=": self.figure <= bound, "<": self.figure < bound,
                  ">": self.figure > bound}
        self.met = bool(checks[op]) and self.figure == self.figure

    @property
    def verdict(self) -> str:
        return "PASS" if self.met else "MISS"


def _fmt(value: float) -> str:
    if value != value:
        return "-"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    if abs(value) >= 0.1:
        return f"{value:.2f}"
    return f"{value:.3g}"


def render_table(rows: list[Row], targets: list[Target], header: str) -> str:
    out = [header, ""]
    section = None
    table = [("measure", "median", "unit", "vs", "baseline", "ratio", "note")]
    for r in rows:
        if r.section != section:
            section = r.section
            table.append((f"[{section}]", "", "", "", "", "", ""))
        table.append((r.name, _fmt(r.value), r.unit, r.baseline_name, _fmt(r.baseline) if r.baseline_name else "",
                      _fmt(r.ratio) + "x" if r.baseline_name else "", r.note))
    out.extend(_columns(table))
    out.append("")
    ttable = [("target", "measured", "wanted", "result", "note")]
    for t in targets:
        ttable.append((t.name, _fmt(t.figure), t.want, t.verdict, t.note))
    out.extend(_columns(ttable))
    return "\n".join(out)


def _columns(table: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    lines = []
    for n, row in enumerate(table):
        lines.append("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False)).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return lines


def _no_nan(record: dict[str, Any]) -> dict[str, Any]:
    # NaN is not JSON: a figure with no baseline is null.
    return {k: (None if isinstance(v, float) and v != v else v) for k, v in record.items()}


def as_json(rows: list[Row], targets: list[Target], machine: dict[str, Any]) -> dict[str, Any]:
    return {
        "machine": machine,
        "rows": [_no_nan(asdict(r)) for r in rows],
        "targets": [_no_nan({**asdict(t), "result": t.verdict}) for t in targets],
    }
