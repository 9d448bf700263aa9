"""The benchmarks are scripts, not tests: keep pytest from collecting anything here."""

from __future__ import annotations

collect_ignore_glob = ["*.py"]
