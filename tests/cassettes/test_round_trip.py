"""Property: any interaction saved and loaded comes back equal, and saves to the same bytes.

Bodies are arbitrary bytes; header values are arbitrary bytes decoded the way
mitmproxy hands them over (UTF-8 with surrogate escapes); headers repeat and
interleave; status codes and reasons are odd (within what replay can send: see graphtape.cassettes.wire). The journal (JSON lines) is held to
the same standard, since recovery rebuilds a cassette from it.
"""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graphtape.cassettes.findings import Finding, Severity
from graphtape.cassettes.model import (
    Cassette,
    Headers,
    Interaction,
    InteractionMeta,
    Request,
    Response,
)
from graphtape.cassettes.serialization import (
    dump_cassette,
    interaction_from_data,
    interaction_to_data,
    parse_cassette,
)
from graphtape.cassettes.storage import _from_jsonable, _journal_line

_TOKEN_CHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _wire_text(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


# Header names: HTTP tokens (mixed case, so "X-A" and "x-a" interleave as distinct
# spellings), plus names that look like YAML scalars of other types.
header_names = st.one_of(
    st.text(alphabet=_TOKEN_CHARS, min_size=1, max_size=12),
    st.sampled_from(["Set-Cookie", "set-cookie", "X-A", "x-a", "true", "null", "123", "~", "On", "0x1F", "<<"]),
    st.binary(min_size=1, max_size=12).map(_wire_text),  # what a misbehaving client can put on the wire
)
# Header values: any bytes a server could send (mitmproxy surrogate-escapes the non-UTF-8 ones).
header_values = st.one_of(
    st.binary(max_size=40).map(_wire_text),
    st.text(max_size=30),
    st.sampled_from(["", " ", "null", "123", "- a", ": x", "#c", "&a", "*a", "!!python/object", "'q'", '"q"',
                     "caf\u00e9", "\u2028", "\x85", "\ufeff", "a\tb"]),
)
headers = st.lists(st.tuples(header_names, header_values), max_size=8).map(lambda p: Headers(tuple(p)))
bodies = st.one_of(st.binary(max_size=300), st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")))
reasons = st.one_of(st.text(max_size=30), st.sampled_from(["", "OK", "null", "123", "Created", "\u00e9t\u00e9"]))
methods = st.one_of(st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "M-SEARCH"]),
                    st.text(alphabet=_TOKEN_CHARS.upper(), min_size=1, max_size=10).map(str.upper))
uris = st.one_of(
    st.text(max_size=80).map(lambda t: "https://graph.microsoft.com/v1.0/" + t),
    st.sampled_from(["https://h/v1.0/me/messages/AAMk%3D/attachments?a=1&a=2&$select=x#frag", "", "x"]),
)
findings = st.lists(st.builds(Finding, st.sampled_from(list(Severity)), st.text(max_size=10),
                              st.sampled_from(["request", "response"]), st.text(max_size=10),
                              st.text(max_size=10), st.text(max_size=10), st.text(max_size=20)), max_size=2)
metas = st.builds(InteractionMeta, route=st.one_of(st.none(), st.text(max_size=10)),
                  route_template=st.one_of(st.none(), st.text(max_size=20)),
                  recorded_at=st.one_of(st.none(), st.text(max_size=20)),
                  findings=findings.map(tuple))
# Responses are what replay sends as they are, so the loader holds them to HTTP's rules (see
# graphtape.cassettes.wire): token names, no control characters, statuses 100-599, framing that
# agrees with the body. Within those rules, anything goes.
_CONTROL = set(chr(c) for c in range(32) if c != 9) | {"\x7f"}
_FRAMING = {"content-length", "transfer-encoding"}
response_headers = st.lists(st.tuples(
    st.one_of(st.text(alphabet=_TOKEN_CHARS, min_size=1, max_size=12),
              st.sampled_from(["Set-Cookie", "set-cookie", "X-A", "x-a", "true", "null", "123", "~", "On"])
              ).filter(lambda n: n.lower() not in _FRAMING),
    header_values.filter(lambda v: not _CONTROL & set(v))), max_size=8).map(lambda p: Headers(tuple(p)))
servable_reasons = reasons.filter(lambda r: not _CONTROL & set(r))
responses = st.one_of(
    st.builds(Response, st.integers(200, 599).filter(lambda c: c not in (204, 304)), servable_reasons,
              response_headers, bodies),
    st.builds(Response, st.sampled_from([100, 101, 103, 204, 304]), servable_reasons, response_headers),
)
interactions = st.builds(
    Interaction,
    request=st.builds(Request, methods, uris, headers, bodies),
    response=responses,
    meta=metas,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(interactions, min_size=1, max_size=3))
def test_saved_then_loaded_is_equal_and_saves_to_the_same_bytes(items: list[Interaction]) -> None:
    cassette = Cassette(items)
    data = dump_cassette(cassette)
    loaded = parse_cassette(data, "mem.yaml")
    assert loaded.interactions == items
    assert dump_cassette(loaded) == data


@settings(max_examples=200, deadline=None)
@given(interactions)
def test_a_journal_line_rebuilds_the_same_interaction(item: Interaction) -> None:
    line = _journal_line({"interaction": interaction_to_data(item)})
    assert line.endswith(b"\n") and line.count(b"\n") == 1  # one record per line, whatever the bytes
    back = interaction_from_data(_from_jsonable(json.loads(line))["interaction"], "line 2", "mem.journal")
    assert back == item
