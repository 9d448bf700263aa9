"""One mitmproxy addon that hands each event to graphtape's addons in order.

mitmproxy hands every event of every flow (request headers, request, response
headers, response, and an ``update`` after each) to every addon in its chain, each
through a coroutine, a context manager that logs its errors and a walk over the
addon's children, whether or not the addon handles that event. graphtape's stack is
eight addons, so in a replay most of that per-request work was spent offering events
to addons with nothing to do (the recorder and the alerts, while replaying). The
dispatcher is one addon in the chain: it has a method only for the events some
member handles, and calls just those members, in the stack's order, with
mitmproxy's rules: an ``AddonHalt`` stops the event, an ``OptionsError`` goes back to
whoever changed the options, and any other error is logged and the next member
still gets the event.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Sequence
from typing import Any

from mitmproxy import addonmanager, eventsequence, exceptions, hooks

__all__ = ["HookDispatcher"]

logger = logging.getLogger("graphtape")

_PASSED_ON = (exceptions.AddonHalt, exceptions.OptionsError)


def _log_error(member: Any, event: str, exc: Exception) -> None:
    logger.error(f"Addon error: {exc} (graphtape {type(member).__name__}.{event})", exc_info=exc)


def _sync_handler(event: str, handlers: Sequence[tuple[Any, Callable[..., Any]]]) -> Callable[..., None]:
    def dispatch(*args: Any) -> None:
        for member, handler in handlers:
            try:
                handler(*args)
            except _PASSED_ON:
                raise
            except Exception as exc:
                _log_error(member, event, exc)

    return dispatch


def _async_handler(event: str, handlers: Sequence[tuple[Any, Callable[..., Any]]]) -> Callable[..., Any]:
    async def dispatch(*args: Any) -> None:
        for member, handler in handlers:
            try:
                result = handler(*args)
                if result is not None and inspect.isawaitable(result):
                    await result
            except _PASSED_ON:
                raise
            except Exception as exc:
                _log_error(member, event, exc)

    return dispatch


class HookDispatcher:
    """Stands in mitmproxy's chain for ``members``, which must not be added to it themselves."""

    name = "graphtape"

    def __init__(self, members: Sequence[Any]) -> None:
        self._members = tuple(members)  # not "addons": mitmproxy would then offer every event to each again
        assert addonmanager and eventsequence  # imported for their side effect: every hook class is registered
        for event in hooks.all_hooks:
            handlers = [(m, h) for m in self._members if callable(h := getattr(m, event, None))]
            if not handlers:
                continue
            if any(inspect.iscoroutinefunction(h) for _, h in handlers):
                setattr(self, event, _async_handler(event, handlers))
            else:
                setattr(self, event, _sync_handler(event, handlers))

    @property
    def members(self) -> tuple[Any, ...]:
        return self._members
