"""HookDispatcher: graphtape's stack as one mitmproxy addon, with mitmproxy's own dispatch rules.

The expected behaviour is mitmproxy's, observed by loading the same members flat into a
real AddonManager: which members get which event in which order, that an error in one
member is logged and the next still gets the event, that ``AddonHalt`` stops the event
and ``OptionsError`` reaches whoever set the option.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import pytest
from mitmproxy import exceptions, options
from mitmproxy.master import Master
from mitmproxy.proxy.layers.http import HttpRequestHook, HttpResponseHook
from mitmproxy.test import tflow

from graphtape.addons.proxy.hook_dispatch import HookDispatcher
from graphtape.addons.proxy.stack import build_stack


class Member:
    def __init__(self, name: str, calls: list[str], fail: type[BaseException] | None = None,
                 is_async: bool = False) -> None:
        self.name, self.calls, self.fail = name, calls, fail
        if is_async:
            self.request = self._async_request  # type: ignore[method-assign]

    def load(self, loader: Any) -> None:
        loader.add_option(f"opt_{self.name}", int, 0, "")

    def configure(self, updated: set[str]) -> None:
        from mitmproxy import ctx

        if f"opt_{self.name}" in updated and getattr(ctx.options, f"opt_{self.name}") < 0:
            raise exceptions.OptionsError(f"opt_{self.name}: must not be negative")

    def request(self, flow: Any) -> None:
        self.calls.append(f"{self.name}.request")
        if self.fail is not None:
            raise self.fail("boom")

    async def _async_request(self, flow: Any) -> None:
        await asyncio.sleep(0)
        self.calls.append(f"{self.name}.request(async)")


class OnlyResponse:
    def __init__(self, calls: list[str]) -> None:
        self.name, self.calls = "r", calls

    def response(self, flow: Any) -> None:
        self.calls.append("r.response")


Case = Callable[[list[str]], list[Any]]
CASES: dict[str, Case] = {
    "in order": lambda c: [Member("a", c), OnlyResponse(c), Member("b", c)],
    "an error is logged, the next still runs": lambda c: [Member("a", c, ValueError), Member("b", c)],
    "AddonHalt stops the event": lambda c: [Member("a", c, exceptions.AddonHalt), Member("b", c)],
    "async members are awaited": lambda c: [Member("a", c, is_async=True), Member("b", c)],
}


def _master(loop: asyncio.AbstractEventLoop) -> Master:
    master = Master(options.Options(), event_loop=loop)
    # A Master logs through a handler on the root logger bound to its loop; one per test at a time.
    master._legacy_log_events.uninstall()
    return master


def _run(members: Callable[[list[str]], list[Any]], dispatched: bool) -> tuple[list[str], list[str]]:
    calls: list[str] = []
    loop = asyncio.new_event_loop()
    try:
        master = _master(loop)
        made = members(calls)
        master.addons.add(HookDispatcher(made)) if dispatched else master.addons.add(*made)
        errors: list[str] = []

        class Catch(logging.Handler):
            def emit(self, record: logging.LogRecord) -> None:
                if record.levelno >= logging.ERROR:
                    errors.append(record.getMessage().split(" (graphtape")[0].split("\n")[0])

        handler = Catch()
        logging.getLogger().addHandler(handler)
        try:
            flow = tflow.tflow(resp=True)
            loop.run_until_complete(master.addons.handle_lifecycle(HttpRequestHook(flow)))
            loop.run_until_complete(master.addons.handle_lifecycle(HttpResponseHook(flow)))
        finally:
            logging.getLogger().removeHandler(handler)
        return calls, errors
    finally:
        loop.close()


@pytest.mark.parametrize("case", list(CASES))
def test_events_reach_members_as_mitmproxy_would_hand_them(case: str) -> None:
    assert _run(CASES[case], dispatched=True) == _run(CASES[case], dispatched=False)


def test_an_options_error_reaches_the_caller_and_rolls_back() -> None:
    outcomes = []
    for dispatched in (True, False):
        loop = asyncio.new_event_loop()
        master = _master(loop)
        made = [Member("a", []), Member("b", [])]
        master.addons.add(HookDispatcher(made)) if dispatched else master.addons.add(*made)
        with pytest.raises(exceptions.OptionsError, match="opt_b: must not be negative"):
            master.options.update(opt_a=1, opt_b=-1)
        outcomes.append((master.options.opt_a, master.options.opt_b))
        loop.close()
    assert outcomes[0] == outcomes[1] == (0, 0)


def test_only_the_events_some_member_handles_are_offered() -> None:
    dispatcher = HookDispatcher([OnlyResponse([])])
    assert callable(getattr(dispatcher, "response", None))
    for event in ("request", "requestheaders", "responseheaders", "update", "load", "configure"):
        assert getattr(dispatcher, event, None) is None
    assert not hasattr(dispatcher, "addons")  # mitmproxy would walk the members a second time


def test_graphtapes_stack_registers_the_same_options_either_way() -> None:
    keys = []
    for dispatched in (True, False):
        loop = asyncio.new_event_loop()
        master = _master(loop)
        stack = build_stack()
        master.addons.add(*(stack.host_addons() if dispatched else stack.addons))
        keys.append(set(master.options.keys()))
        loop.close()
    assert keys[0] == keys[1]
    assert {"graphtape_cassette", "graphtape_record_mode", "graphtape_alerts"} <= keys[0]
