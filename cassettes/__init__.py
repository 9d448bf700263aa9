"""Cassettes: the model, YAML I/O, matching, redaction, record modes and durable storage.

No mitmproxy, no click, nothing of ``graphtape.addons`` or ``graphtape.cli``: this layer
can be used on its own to read, match and write cassettes from any Python code.

    from graphtape.cassettes import InteractionIndex, Redactor, load_cassette

    cassette = load_cassette("tests/cassettes/test_mail/test_attach.yaml")
    index = InteractionIndex(cassette.interactions)
    hit = index.lookup(Redactor().request(live_request))  # (position, interaction) or None
"""

from graphtape.cassettes.errors import (
    BodyDecodeError,
    CaptureFormatError,
    CassetteError,
    CassetteExistsError,
    CassetteFormatError,
    CassetteLockedError,
    CassetteNotFoundError,
    CassettePathError,
    CassetteWriteError,
    ConfigError,
    GraphSchemaError,
    GraphtapeError,
    InputError,
    UpstreamError,
)
from graphtape.cassettes.findings import Finding, Severity
from graphtape.cassettes.har import cassette_to_har, read_har
from graphtape.cassettes.matching import Exhausted, InteractionIndex, MatchConfig, Nearest, RequestKey, request_key
from graphtape.cassettes.model import Cassette, Headers, Interaction, InteractionMeta, Request, Response
from graphtape.cassettes.record_modes import RecordMode
from graphtape.cassettes.redaction import REDACTED, Redactor
from graphtape.cassettes.serialization import dump_cassette, load_cassette, parse_cassette
from graphtape.cassettes.storage import CassetteLock, CassetteWriter, save_cassette

__all__ = [
    "REDACTED",
    "BodyDecodeError",
    "CaptureFormatError",
    "Cassette",
    "CassetteError",
    "CassetteExistsError",
    "CassetteFormatError",
    "CassetteLock",
    "CassetteLockedError",
    "CassetteNotFoundError",
    "CassettePathError",
    "CassetteWriteError",
    "CassetteWriter",
    "ConfigError",
    "Exhausted",
    "Finding",
    "GraphSchemaError",
    "GraphtapeError",
    "Headers",
    "InputError",
    "Interaction",
    "InteractionIndex",
    "InteractionMeta",
    "MatchConfig",
    "Nearest",
    "RecordMode",
    "Redactor",
    "Request",
    "RequestKey",
    "Response",
    "Severity",
    "UpstreamError",
    "cassette_to_har",
    "dump_cassette",
    "load_cassette",
    "parse_cassette",
    "read_har",
    "request_key",
    "save_cassette",
]
