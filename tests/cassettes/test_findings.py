"""Findings quote what they saw; whatever that was, every writer can store them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from graphtape.cassettes.findings import Finding, Severity
from graphtape.cassettes.model import Cassette, Headers, Interaction, InteractionMeta, Request, Response
from graphtape.cassettes.serialization import load_cassette
from graphtape.cassettes.storage import save_cassette

# Text a finding may quote: a header that was not UTF-8 reaches graphtape as lone surrogates
# (mitmproxy decodes header bytes with surrogateescape); the others are valid text that must stay as it is.
QUOTED = [
    ("latin-1 header", "caf\udce9", "caf\\udce9"),
    ("two bad bytes", "\udcff\udcfe", "\\udcff\\udcfe"),
    ("surrogate beside text", "ü \udc80 \u2028", "ü \\udc80 \u2028"),
    ("plain ascii", "Integer", "Integer"),
    ("valid unicode", "résumé 📎", "résumé 📎"),
]


@pytest.mark.parametrize("seen, kept", [(q[1], q[2]) for q in QUOTED], ids=[q[0] for q in QUOTED])
def test_a_finding_keeps_text_every_utf8_writer_can_store(seen: str, kept: str, tmp_path: Path) -> None:
    finding = Finding(Severity.WARNING, "unexpected-status", "request", f"$headers.{seen}", seen, seen, f"saw {seen}")
    assert (finding.seen, finding.expected, finding.path) == (kept, kept, f"$headers.{kept}")
    json.dumps(finding.to_dict(), ensure_ascii=False).encode("utf-8")  # a report writes it as UTF-8
    str(finding).encode("utf-8")  # a log line
    cassette = tmp_path / "c.yaml"
    interaction = Interaction(Request("GET", "http://127.0.0.1/x", Headers.of([("X-Name", seen)]), b""),
                              Response(200, "OK", Headers.of([]), b""), InteractionMeta(findings=(finding,)))
    save_cassette(cassette, Cassette(interactions=[interaction]))
    back = load_cassette(cassette).interactions[0]
    assert back.meta.findings == (finding,)
    assert back.request.headers.get("x-name") == seen  # the header itself round-trips exactly
