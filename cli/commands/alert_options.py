"""The live-alert options of ``graphtape record``: --alerts, --alert-webhook, --drift-config."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

__all__ = ["alert_options", "alert_settings"]


def alert_options(f: Any) -> Any:
    f = click.option("--alert-rollup", type=click.IntRange(1), default=60, show_default=True,
                     help="Seconds between roll-ups of a repeated alert (the first one goes out at once).")(f)
    f = click.option("--drift-config", type=click.Path(dir_okay=False, path_type=Path), default=None,
                     help="Drift config (YAML/JSON): severity per drift kind, volatile JSON paths.")(f)
    f = click.option("--alert-webhook", default=None, metavar="URL",
                     help="POST each alert as JSON to this URL, from a background worker (bounded retries).")(f)
    f = click.option("--alerts", "alerts_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
                     help="Append alerts (findings and schema drift, grouped) to this JSON Lines file.")(f)
    return f


def alert_settings(kw: dict[str, Any]) -> dict[str, Any]:
    """mitmproxy option values (``graphtape_alert*``) for the CLI options above."""
    return {
        "graphtape_alerts": str(kw["alerts_file"] or ""),
        "graphtape_alert_webhook": kw["alert_webhook"] or "",
        "graphtape_drift_config": str(kw["drift_config"] or ""),
        "graphtape_alert_rollup": kw["alert_rollup"],
    }
