"""``graphtape drift BASELINE CANDIDATE``: schema drift between two cassettes (or folders of them).

Responses are grouped by (route, requested ``@odata.type`` subtype); each candidate
group is compared with the baseline's group of the same key, and every response of
both sides with the documented schema. One report case per group and side.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import click

from graphtape.addons.drift.compare import (
    ResponseSample,
    compare_samples,
    group_key,
    sample_from_interaction,
    schema_drift,
)
from graphtape.addons.drift.config import (
    DriftConfig,
    DriftConfigError,
    DriftKind,
    load_drift_config,
)
from graphtape.cassettes.errors import CassetteFormatError, GraphtapeError
from graphtape.cassettes.findings import Finding
from graphtape.cassettes.serialization import load_cassette
from graphtape.cli.exit_codes import report_exit_code
from graphtape.cli.output.reports import (
    ReportCase,
    ShapeDiff,
    report_options,
    write_report,
)

__all__ = ["DriftInputError", "config_from_options", "drift", "drift_cases", "drift_config_options", "group_shapes",
           "load_samples"]

_CASSETTE_SUFFIXES = {".yaml", ".yml"}


class DriftInputError(GraphtapeError):
    """A baseline or candidate that cannot be read as cassettes."""


def load_samples(path: Path) -> list[ResponseSample]:
    """Every response in a cassette, or in every cassette under a folder."""
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.suffix.lower() in _CASSETTE_SUFFIXES)
        if not files:
            raise DriftInputError(f"{path}: no .yaml cassettes in this folder")
    elif path.exists():
        files = [path]
    else:
        raise DriftInputError(f"{path}: no such file or folder")
    samples: list[ResponseSample] = []
    for f in files:
        try:
            cassette = load_cassette(f)
        except CassetteFormatError as exc:
            raise DriftInputError(str(exc)) from None
        except OSError as exc:
            raise DriftInputError(f"{f}: cannot be read: {exc.strerror or exc}") from None
        samples.extend(sample_from_interaction(it, f"{f} interactions[{i}]")
                       for i, it in enumerate(cassette.interactions))
    return samples


def _grouped(samples: Iterable[ResponseSample]) -> dict[tuple[str, str], list[ResponseSample]]:
    groups: dict[tuple[str, str], list[ResponseSample]] = {}
    for s in samples:
        groups.setdefault(group_key(s), []).append(s)
    return groups


def _unique(findings: Iterable[Finding]) -> list[Finding]:
    seen: dict[tuple[str, str, str, str], Finding] = {}
    for f in findings:
        seen.setdefault((f.code, f.path, f.expected, f.seen), f)
    return list(seen.values())


def _schema_findings(samples: list[ResponseSample], config: DriftConfig) -> list[Finding]:
    return [f for s in samples for f in schema_drift(s, config)]


def _merged_shape(samples: list[ResponseSample]) -> dict[str, set[str]]:
    shape: dict[str, set[str]] = {}
    for s in samples:
        for path, types in s.shape.items():
            shape.setdefault(path, set()).update(types)
    return shape


def group_shapes(baseline: list[ResponseSample], candidate: list[ResponseSample] | None, config: DriftConfig,
                 labels: tuple[str, str] = ("baseline", "candidate")) -> ShapeDiff:
    """The two groups' shapes side by side (the baseline alone when ``candidate`` is None), for the HTML report."""
    before = _merged_shape(baseline)
    after = _merged_shape(candidate) if candidate is not None else None
    paths = set(before) | set(after or {})
    return ShapeDiff(labels[0], before, labels[1], after, tuple(s.status for s in baseline),
                     tuple(s.status for s in candidate or []), frozenset(p for p in paths if config.is_volatile(p)))


def drift_cases(baseline: list[ResponseSample], candidate: list[ResponseSample], config: DriftConfig,
                baseline_label: str = "baseline", candidate_label: str = "candidate") -> list[ReportCase]:
    """One case per candidate group (vs its baseline group and the schema), then per baseline group (schema)."""
    base_groups, cand_groups = _grouped(baseline), _grouped(candidate)
    base_routes = {route for route, _ in base_groups}
    cases: list[ReportCase] = []
    for key in sorted(cand_groups):
        route, subtype = key
        samples = cand_groups[key]
        findings: list[Finding] = []
        if route not in base_routes:
            severity = config.severity_of(DriftKind.NEW_ROUTE)
            if severity is not None:
                findings.append(Finding(severity, "new-route", "response", "$route", "a route in the baseline",
                                        samples[0].request_line, "vs baseline: a route the baseline never saw"))
        else:
            findings += compare_samples(base_groups.get(key, []), samples, config)
        findings += _schema_findings(samples, config)
        cases.append(ReportCase(candidate_label, f"{route} [{subtype}]", _unique(findings),
                                shapes=group_shapes(base_groups.get(key, []), samples, config)))
    for key in sorted(base_groups):
        route, subtype = key
        cases.append(ReportCase(baseline_label, f"{route} [{subtype}]",
                                _unique(_schema_findings(base_groups[key], config)),
                                shapes=group_shapes(base_groups[key], None, config)))
    return cases


def drift_config_options(f: Any) -> Any:
    """--config, --severity and --volatile, shared by drift and verify."""
    f = click.option("--volatile", "volatile", multiple=True, metavar="PATH",
                     help="Another JSON path never compared, e.g. '$..createdDateTime' (repeatable).")(f)
    f = click.option("--severity", "severities", multiple=True, metavar="KIND=LEVEL",
                     help="Severity of a drift kind: error, warning, info or off (repeatable), "
                          "e.g. undocumented-property=error.")(f)
    f = click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
                     help="Drift config (YAML or JSON): severity per kind, volatile JSON paths.")(f)
    return f


def config_from_options(config_path: Path | None, severities: tuple[str, ...],
                        volatile: tuple[str, ...]) -> DriftConfig:
    pairs: dict[str, str] = {}
    for item in severities:
        kind, sep, level = item.partition("=")
        if not sep:
            raise DriftConfigError(f"--severity {item!r}: expected KIND=LEVEL, e.g. undocumented-property=error")
        pairs[kind.strip()] = level.strip()
    return load_drift_config(config_path).with_overrides(pairs, volatile)


@click.command()
@click.argument("baseline", type=click.Path(path_type=Path))
@click.argument("candidate", type=click.Path(path_type=Path))
@report_options
@drift_config_options
def drift(baseline: Path, candidate: Path, fmt: str, output: Path | None, colour: bool | None,
          config_path: Path | None, severities: tuple[str, ...], volatile: tuple[str, ...]) -> None:
    """Schema drift from BASELINE to CANDIDATE (cassettes or folders of cassettes), and against the schema.

    Compared route by route and @odata.type subtype by subtype; ids, timestamps and
    other volatile values are never compared. Exit 0 when clean, 1 on error-level
    drift, 2 when an input or the config cannot be read.
    """
    config = config_from_options(config_path, severities, volatile)
    base_samples = load_samples(baseline)
    cand_samples = load_samples(candidate)
    cases = drift_cases(base_samples, cand_samples, config, str(baseline), str(candidate))
    write_report(cases, fmt, "graphtape drift", output, colour)
    sys.exit(report_exit_code(cases))
