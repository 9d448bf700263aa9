"""What the add-on does only in a stock mitmproxy (``mitmdump -s "$(graphtape addon-path)"``).

graphtape's own commands read the project configuration, check their options and print a
summary themselves; in mitmdump, mitmweb or mitmproxy, these two addons do it:

- :class:`ScriptGuard` (first in the stack) makes the project configuration file the
  options' defaults (``--set`` still wins), reports a misspelt ``--set graphtape_...``
  with the nearest valid name (mitmproxy keeps unknown ``--set`` names aside, silently,
  for addons that might define them later), and turns a bad option at start-up into one
  error line instead of a traceback. When a recording was clearly intended (a cassette is
  set, or the misspelt name is the cassette's), it refuses: mitmproxy stops at start-up,
  and until then every request is answered with graphtape's 598 error, never proxied
  unrecorded.
- :class:`StopSummary` (last) opens the cassette once every option was checked, and logs
  the same summary ``graphtape record``/``replay`` print when mitmproxy stops.
"""

from __future__ import annotations

import logging
from typing import Any

from mitmproxy import ctx, exceptions, optmanager

from graphtape.addons.proxy.alerts import Alerts
from graphtape.addons.proxy.tape import Tape, configured_options
from graphtape.cassettes.config_file import nearest_name
from graphtape.cassettes.errors import ConfigError
from graphtape.cassettes.summary import summary_text

__all__ = ["ScriptGuard", "StopSummary"]

logger = logging.getLogger("graphtape")

PREFIX = "graphtape_"
# A misspelling of one of these means a cassette was meant to be recorded or replayed.
_CASSETTE_OPTIONS = {"graphtape_cassette", "graphtape_cassette_dir", "graphtape_record_mode"}


class _ScratchLoader:
    """Collects the options addons define, into an OptManager of its own."""

    def __init__(self) -> None:
        self.options = optmanager.OptManager()

    def add_option(self, name: str, typespec: Any, default: Any, help: str, choices: Any = None) -> None:
        self.options.add_option(name, typespec, default, help, choices)


class ScriptGuard:
    def __init__(self, tape: Tape, addons: list[Any]) -> None:
        self.tape = tape
        self.tape.refuse_bad_options = True
        self.tape.hold_session = True
        # The rest of the stack, whose options --set values must fit (not named ``addons``: mitmproxy
        # would take that for sub-addons and call each of them twice).
        self.others = addons
        self.checked = False
        self.problem: str | None = None

    def load(self, loader: Any) -> None:
        """Put the configuration file's values aside like unknown ``--set`` names: mitmproxy applies
        them once the options exist, and a name the command line set keeps the command line's value."""
        deferred = loader.master.options.deferred
        self._check_set_values(deferred)
        try:
            configured = configured_options()
        except ConfigError as exc:
            self.problem = self.problem or str(exc)
            return
        for name, value in configured.items():
            deferred.setdefault(name, value)

    def _check_set_values(self, deferred: dict[str, Any]) -> None:
        """A ``--set`` value of the wrong type (``graphtape_blob_threshold=abc``) would make mitmproxy drop
        the whole script without a word when it applies it; check them first, with the options' own types."""
        scratch = _ScratchLoader()
        for addon in self.others:
            if hasattr(addon, "load"):
                addon.load(scratch)
        for name in [n for n in deferred if n in scratch.options]:
            given = getattr(deferred[name], "val", None)  # mitmproxy keeps --set text unconverted until then
            if not isinstance(given, list):
                continue
            specs = [f"{name}={v}" for v in given] or [name]  # a bare --set NAME is a boolean's true
            try:
                scratch.options.set(*specs)
            except exceptions.OptionsError as exc:
                del deferred[name]
                text = str(exc).replace(f"Failed to parse option {name}: ", "")  # mitmproxy 12 adds it
                self.problem = self.problem or f"{name}: {text}"

    def configure(self, updated: set[str]) -> None:
        if self.checked:
            return
        self.checked = True  # the first call comes once every graphtape option is defined
        if self.problem is not None:
            self.tape.refuse(self.problem)
            return
        known = [name for name in ctx.options.keys() if name.startswith(PREFIX)]
        unknown = sorted(name for name in ctx.options.deferred if name.startswith(PREFIX))
        if not unknown:
            return
        problems = []
        intended = bool(ctx.options.graphtape_cassette)
        for name in unknown:
            near = nearest_name(name, known)
            problems.append(f"unknown option {name}" + (f" (did you mean {near}?)" if near else ""))
            intended |= near in _CASSETTE_OPTIONS
            del ctx.options.deferred[name]
        if intended:
            self.tape.refuse("; ".join(problems) + "; refusing to start rather than proxy traffic unrecorded")
        else:
            for problem in problems:
                logger.warning(f"graphtape: {problem}; it has no effect")

    def running(self) -> None:
        self.tape.refuse_bad_options = False  # from now on, mitmproxy reports option errors itself


class StopSummary:
    """Last in the stack: opens the cassette session once every addon has checked its options
    (unless one refused), and logs the summary when mitmproxy stops."""

    def __init__(self, tape: Tape, alerts: Alerts) -> None:
        self.tape = tape
        self.alerts = alerts

    def configure(self, updated: set[str]) -> None:
        tape = self.tape
        tape.hold_session = False
        if tape.session_held and tape.refusal is None:
            with tape.option_errors():
                tape.open_for_options()

    def done(self) -> None:
        if not self.tape.closed_sessions and not self.tape.close_errors:
            return
        label = "recorder" if any(s.plan.record for s in self.tape.closed_sessions) else "replayer"
        logger.info(summary_text(label, self.tape.closed_sessions, self.tape.close_errors, self.alerts.summary()))
