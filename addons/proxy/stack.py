"""The addon stack, in the order mitmproxy must call it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from graphtape.addons.proxy.alerts import Alerts
from graphtape.addons.proxy.hook_dispatch import HookDispatcher
from graphtape.addons.proxy.latency import ReplayLatency
from graphtape.addons.proxy.offline_guard import OfflineGuard
from graphtape.addons.proxy.prefer_http2 import PreferHttp2
from graphtape.addons.proxy.recorder import Recorder
from graphtape.addons.proxy.replayer import Replayer
from graphtape.addons.proxy.script_mode import ScriptGuard, StopSummary
from graphtape.addons.proxy.simulator import Simulator
from graphtape.addons.proxy.tape import Tape
from graphtape.addons.proxy.upload_routing import UploadUrlRouting

if TYPE_CHECKING:
    from graphtape.addons.simulation.engine import GraphSimulation

__all__ = ["GraphtapeStack", "build_stack"]


class GraphtapeStack:
    """Tape (options + cassette session), OfflineGuard, Replayer, Recorder, Alerts, Simulator, PreferHttp2,
    UploadUrlRouting.

    The guard keeps a run that does not record from opening any upstream connection;
    the replayer answers first; the recorder validates what is left before it goes
    upstream (or to the simulator, when ``graphtape_simulate`` is on) and records
    the answer; Alerts turns the recorder's findings into grouped alerts.
    """

    def __init__(self, simulation: GraphSimulation | None = None, offline_without_cassette: bool = False,
                 script: bool = False) -> None:
        self.tape = Tape()
        self.offline_guard = OfflineGuard(self.tape, offline_without_cassette)
        self.alerts = Alerts(self.tape)
        # In a stock mitmproxy: the project configuration, misspelt options and the stop summary.
        self.script: tuple[ScriptGuard, StopSummary] | None = None
        self.replayer = Replayer(self.tape)
        self.replay_latency = ReplayLatency()  # right after the replayer: holds its answers when asked to
        self.recorder = Recorder(self.tape)
        self.simulator = Simulator(simulation)
        self.prefer_http2 = PreferHttp2()  # lazy connections would otherwise keep tunnelled clients on HTTP/1.1
        # Last, so it rewrites an uploadUrl after the recorder kept the upstream's.
        self.upload_routing = UploadUrlRouting(self.tape)
        if script:
            self.script = (ScriptGuard(self.tape, self._core()), StopSummary(self.tape, self.alerts))

    def _core(self) -> list[Any]:
        return [self.tape, self.offline_guard, self.replayer, self.replay_latency, self.recorder, self.alerts,
                self.simulator,
                self.prefer_http2, self.upload_routing]

    @property
    def addons(self) -> list[Any]:
        """The members, in order (each a mitmproxy addon of its own, as tests load them)."""
        core = self._core()
        return [self.script[0], *core, self.script[1]] if self.script else core

    def host_addons(self) -> list[Any]:
        """What a mitmproxy host loads: one dispatcher that hands each event to the members that handle them."""
        return [HookDispatcher(self.addons)]


def build_stack(simulation: GraphSimulation | None = None, offline_without_cassette: bool = False,
                script: bool = False) -> GraphtapeStack:
    """The addon stack. ``offline_without_cassette``: no upstream connection while no cassette is set;
    ``script=True`` for a stock mitmproxy (``mitmdump -s``), where graphtape's commands are not there
    to read the configuration file, check options and print the summary."""
    return GraphtapeStack(simulation, offline_without_cassette, script)
