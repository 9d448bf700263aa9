"""The project configuration file as defaults for ``record`` and ``replay``.

Each configuration key becomes the default of the command's own option (so ``--help``
shows it and the command line overrides it); keys for which a command has no option but
the add-on does (``ignore_query``, the alert queue's limits) go to the add-on as they are.
Keys a command has no use for (``record_mode`` for ``replay``) are left out.
"""

from __future__ import annotations

from typing import Any

from graphtape.cassettes.config_file import ProjectConfig

__all__ = ["CONFIGURED_COMMANDS", "command_defaults", "passthrough_options"]

_SHARED = {
    "upstream": "upstream", "graph_url": "graph_url", "strict": "strict", "exhausted": "exhausted",
    "match_headers": "match_header", "ignore_body": "ignore_body", "redact_headers": "redact_header",
    "redact_query": "redact_query", "redact_fields": "redact_fields", "cassette_dir": "cassette_dir",
    "drop_unplayed": "drop_unplayed",
}
# configuration key -> the command's parameter name
_PARAMS: dict[str, dict[str, str]] = {
    "record": {**_SHARED, "record_mode": "record_mode", "scope": "scope", "blob_threshold": "blob_threshold",
               "fsync": "fsync", "alerts": "alerts_file", "alert_webhook": "alert_webhook",
               "drift_config": "drift_config", "alert_rollup": "alert_rollup"},
    "replay": {**_SHARED, "replay_latency": "honour_latency"},
}
# keys with no option of the command's own that still mean something to it
_PASSTHROUGH: dict[str, tuple[str, ...]] = {
    "record": ("ignore_query", "alert_queue", "alert_retries", "alert_timeout"),
    "replay": ("ignore_query",),
}
CONFIGURED_COMMANDS = tuple(_PARAMS)


def command_defaults(config: ProjectConfig) -> dict[str, dict[str, Any]]:
    """click's ``default_map``: per command, its parameters' defaults from the configuration."""
    return {command: {param: config.values[key] for key, param in params.items() if key in config.values}
            for command, params in _PARAMS.items()}


def passthrough_options(config: ProjectConfig, command: str) -> dict[str, Any]:
    """``graphtape_*`` add-on options for the configured keys ``command`` has no option of its own for."""
    return {f"graphtape_{key}": config.values[key] for key in _PASSTHROUGH.get(command, ())
            if key in config.values}
