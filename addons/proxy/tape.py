"""The Tape addon: graphtape's options and the cassette session they describe.

Every option lives under the ``graphtape_`` prefix (``mitmdump --set
graphtape_cassette=x.yaml``). The session opens in ``configure`` so a broken or
locked cassette stops mitmproxy before it serves anything, and closes in ``done``,
which writes the cassette.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from mitmproxy import ctx, exceptions

from graphtape.cassettes.blobs import DEFAULT_BLOB_THRESHOLD
from graphtape.cassettes.errors import GraphtapeError
from graphtape.cassettes.matching import Exhausted, MatchConfig
from graphtape.cassettes.paths import resolve_cassette_path
from graphtape.cassettes.record_modes import RecordMode
from graphtape.cassettes.redaction import Redactor
from graphtape.cassettes.session import SessionSettings, TapeSession

__all__ = ["SCOPES", "Tape"]

logger = logging.getLogger("graphtape")

SCOPES = ("attachments", "all")
_SESSION_OPTIONS = {
    "graphtape_cassette", "graphtape_record_mode", "graphtape_exhausted", "graphtape_match_headers",
    "graphtape_ignore_query", "graphtape_ignore_body", "graphtape_redact_headers", "graphtape_redact_query",
    "graphtape_redact_fields", "graphtape_fsync", "graphtape_drop_unplayed", "graphtape_blob_threshold",
    "graphtape_cassette_dir",
}


class Tape:
    def __init__(self) -> None:
        self.session: TapeSession | None = None
        self.closed_sessions: list[TapeSession] = []
        self.close_errors: list[str] = []
        # Called with a session just before it closes (what only a complete recording shows).
        self.closing: list[Callable[[TapeSession], None]] = []

    def load(self, loader: Any) -> None:
        loader.add_option("graphtape_cassette", str, "", "Cassette file (YAML) to record into or replay from.")
        loader.add_option("graphtape_cassette_dir", str, "",
                          "Folder cassettes must lie in; graphtape_cassette is taken relative to it and "
                          "cannot escape it.")
        loader.add_option("graphtape_record_mode", str, RecordMode.ONCE.value,
                          "none | once | new_episodes | all | rewrite.")
        loader.add_option("graphtape_scope", str, "attachments",
                          "attachments: record only attachment-creating calls; all: every call to the upstream.")
        loader.add_option("graphtape_strict", bool, False,
                          "A miss or an error-level finding makes the run fail.")
        loader.add_option("graphtape_exhausted", str, Exhausted.REPEAT.value,
                          "After the last recorded answer to a repeated request: repeat it, or miss.")
        loader.add_option("graphtape_match_headers", Sequence[str], [], "Header names that take part in matching.")
        loader.add_option("graphtape_ignore_query", Sequence[str], [], "Query parameters left out of matching.")
        loader.add_option("graphtape_ignore_body", Sequence[str], [],
                          "JSON paths ($.a.b) left out of body matching.")
        loader.add_option("graphtape_redact_headers", Sequence[str], [], "Extra header names to redact.")
        loader.add_option("graphtape_redact_query", Sequence[str], [], "Extra query parameters to redact.")
        loader.add_option("graphtape_redact_fields", Sequence[str], [], "Extra JSON/form body fields to redact.")
        loader.add_option("graphtape_fsync", bool, True, "fsync each recorded interaction before answering.")
        loader.add_option("graphtape_drop_unplayed", bool, False,
                          "When a run keeps old interactions, drop those it never played.")
        loader.add_option("graphtape_blob_threshold", int, DEFAULT_BLOB_THRESHOLD,
                          "Bodies larger than this many bytes are kept in content-addressed files beside the "
                          "cassette (not loadable by VCR.py); 0 keeps every body inline.")

    def configure(self, updated: set[str]) -> None:
        opts = ctx.options
        if "graphtape_record_mode" in updated:
            _choice(opts.graphtape_record_mode, [m.value for m in RecordMode], "graphtape_record_mode")
        if "graphtape_scope" in updated:
            _choice(opts.graphtape_scope, SCOPES, "graphtape_scope")
        if "graphtape_blob_threshold" in updated and opts.graphtape_blob_threshold < 0:
            raise exceptions.OptionsError("graphtape_blob_threshold: must be 0 (inline) or a number of bytes")
        if "graphtape_exhausted" in updated:
            _choice(opts.graphtape_exhausted, [e.value for e in Exhausted], "graphtape_exhausted")
        if updated & _SESSION_OPTIONS:
            self.reopen()
            if self.session is not None:
                require_lazy_connections()

    def settings(self) -> SessionSettings | None:
        opts = ctx.options
        if not opts.graphtape_cassette:
            return None
        try:
            cassette = resolve_cassette_path(opts.graphtape_cassette_dir or None, opts.graphtape_cassette)
        except GraphtapeError as exc:
            raise exceptions.OptionsError(str(exc)) from exc
        return SessionSettings(
            cassette=cassette,
            record_mode=RecordMode(opts.graphtape_record_mode),
            match=MatchConfig(
                match_headers=tuple(opts.graphtape_match_headers),
                ignore_query=tuple(opts.graphtape_ignore_query),
                ignore_body_paths=tuple(opts.graphtape_ignore_body),
                exhausted=Exhausted(opts.graphtape_exhausted),
            ),
            redactor=Redactor.with_extra(opts.graphtape_redact_headers, opts.graphtape_redact_query,
                                         opts.graphtape_redact_fields),
            fsync=opts.graphtape_fsync,
            drop_unplayed=opts.graphtape_drop_unplayed,
            blob_threshold=opts.graphtape_blob_threshold,
        )

    def reopen(self) -> None:
        """Close the current session (writing its cassette) and open one for the current options."""
        self.close_session()
        settings = self.settings()
        if settings is None:
            return
        try:
            self.session = TapeSession(settings).open()
        except (GraphtapeError, OSError) as exc:
            raise exceptions.OptionsError(str(exc)) from exc
        s = self.session
        what = "recording into" if s.plan.record else "replaying"
        logger.info(f"graphtape: {what} {s.path} ({settings.record_mode.value}, {len(s.index)} interactions loaded)")
        if s.recovery and s.recovery.recovered:
            logger.warning(f"graphtape: recovered {s.recovery.recovered} interactions from the journal of an "
                           f"interrupted recording of {s.path}")

    def close_session(self) -> None:
        if self.session is not None:
            session, self.session = self.session, None
            self.closed_sessions.append(session)
            for hook in self.closing:
                hook(session)
            try:
                session.close()
            except (GraphtapeError, OSError) as exc:
                # The cassette could not be written: say so as loudly as we can.
                self.close_errors.append(str(exc))
                logger.error(f"graphtape: {exc}")

    def done(self) -> None:
        self.close_session()


def require_lazy_connections() -> None:
    """Make mitmproxy connect upstream only when a request needs it.

    mitmproxy's default ("eager") connects to the upstream as soon as a client
    connects, before any addon has seen a request: a replayed or simulated answer
    would still touch the network, and fail where there is none.
    """
    if ctx.options.connection_strategy != "lazy":
        ctx.options.update(connection_strategy="lazy")


def _choice(value: str, choices: Sequence[str], name: str) -> None:
    if value not in choices:
        raise exceptions.OptionsError(f"{name}: {value!r} is not one of {', '.join(choices)}")
