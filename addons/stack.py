"""The addon stack, in the order mitmproxy must call it."""

from __future__ import annotations

from typing import Any

from graphtape.addons.alerts import Alerts
from graphtape.addons.graph_simulation import GraphSimulation
from graphtape.addons.recorder import Recorder
from graphtape.addons.replayer import Replayer
from graphtape.addons.simulator import Simulator
from graphtape.addons.tape import Tape

__all__ = ["GraphtapeStack", "build_stack"]


class GraphtapeStack:
    """Tape (options + cassette session), Replayer, Recorder, Alerts, Simulator.

    The replayer answers first; the recorder validates what is left before it goes
    upstream (or to the simulator, when ``graphtape_simulate`` is on) and records
    the answer; Alerts turns the recorder's findings into grouped alerts.
    """

    def __init__(self, simulation: GraphSimulation | None = None) -> None:
        self.tape = Tape()
        self.replayer = Replayer(self.tape)
        self.recorder = Recorder(self.tape)
        self.alerts = Alerts(self.tape)
        self.simulator = Simulator(simulation)

    @property
    def addons(self) -> list[Any]:
        return [self.tape, self.replayer, self.recorder, self.alerts, self.simulator]


def build_stack(simulation: GraphSimulation | None = None) -> GraphtapeStack:
    return GraphtapeStack(simulation)
