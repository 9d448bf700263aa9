"""Re-record the shipped example cassette from graphtape's own simulator.

    python -m graphtape.cli.examples.record [OUT]

Starts ``graphtape simulate`` and ``graphtape record`` as processes, sends every
example request through the recorder, and stops both cleanly.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from graphtape.cassettes.config_file import CONFIG_ENV
from graphtape.cassettes.errors import GraphtapeError
from graphtape.cli.examples.example_requests import EXAMPLES
from graphtape.cli.runtime.processes import GraphtapeProcess
from graphtape.cli.runtime.traffic import send_example

__all__ = ["ExampleRecordingError", "record_examples"]


class ExampleRecordingError(GraphtapeError, RuntimeError):
    """The simulator or the recorder did not do what the example expects."""


def record_examples(out: Path) -> list[int]:
    """Record every example into ``out``; returns the statuses the simulator answered."""
    statuses: list[int] = []
    # The example is graphtape's own: no project configuration file takes part.
    env = {CONFIG_ENV: os.devnull}
    with GraphtapeProcess("simulate", "--port", "0", env=env) as sim:
        recorder = GraphtapeProcess("record", "--cassette", str(out), "--upstream", sim.url, "--port", "0",
                                    "--record-mode", "rewrite", env=env)
        with recorder:
            for example in EXAMPLES:
                answer = send_example(recorder.url, example)
                if answer.status != example.expected_status:
                    raise ExampleRecordingError(f"{example.name}: expected {example.expected_status}, "
                                                f"got {answer.status}: {answer.body[:300]!r}")
                statuses.append(answer.status)
        if recorder.returncode != 0:
            raise ExampleRecordingError(f"recorder exited {recorder.returncode}:\n{recorder.stdout}\n{recorder.stderr}")
    return statuses


def main() -> None:
    default = Path(__file__).resolve().parents[2] / "cassettes" / "examples" / "attachments.yaml"
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else default
    statuses = record_examples(out)
    print(f"recorded {len(statuses)} interactions into {out}")


if __name__ == "__main__":
    main()
