"""Compression bombs stay bounded on every path that reads a body, under a memory watchdog.

Each case runs in a child process whose address space is capped (RLIMIT_AS): a
decoder that inflated a bomb whole would die of MemoryError there instead of passing.
Bombs are made on the fly (a few hundred bytes to a few MB that would inflate to
512 MiB-1 GiB): gzip, gzip in several members, deflate, raw deflate, brotli, and chains of
codings. Every reader graphtape has is tried on each: the decoder itself, redaction
(request and response), validation, matching, the drift sample alerts are made from,
and HAR export. The truth source for the codings is RFC 9110 section 8.4 (and RFC
1952 for gzip members, RFC 7932 for brotli).
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.slow

MEMORY_CAP = 512 * 1024 * 1024  # address space for the child: a bomb inflated whole (512 MiB+) cannot fit

CHILD = textwrap.dedent('''
    import gzip, json, resource, sys, time, zlib
    resource.setrlimit(resource.RLIMIT_AS, ({cap}, {cap}))
    import brotli
    from graphtape.addons.drift.compare import sample_from_interaction
    from graphtape.addons.graph.validation import validate_interaction
    from graphtape.cassettes.encoding import BodyTooLargeError, decode_body
    from graphtape.cassettes.har import cassette_to_har
    from graphtape.cassettes.matching import request_key
    from graphtape.cassettes.model import Cassette, Headers, Interaction, Request, Response
    from graphtape.cassettes.redaction import Redactor
    from graphtape.cassettes.withheld import withheld_reason

    def zeros(total, compress, flush):
        chunk = b"\\0" * (1 << 20)
        out = [compress(chunk) for _ in range(total >> 20)]
        return b"".join(out) + flush()

    def gz(total):
        c = zlib.compressobj(6, zlib.DEFLATED, 31)
        return zeros(total, c.compress, c.flush)

    def deflate(total, wbits=15):
        c = zlib.compressobj(6, zlib.DEFLATED, wbits)
        return zeros(total, c.compress, c.flush)

    def br(total):
        c = brotli.Compressor(quality=1)
        return zeros(total, c.process, c.finish)

    GiB = 1 << 30
    bombs = {{
        "gzip 512 MiB": (gz(GiB // 2), "gzip"),
        "gzip in 16 members, 1 GiB": (gz(GiB // 16) * 16, "gzip"),
        "deflate 512 MiB": (deflate(GiB // 2), "deflate"),
        "raw deflate 512 MiB": (deflate(GiB // 2, -15), "deflate"),
        "br 1 GiB": (br(GiB), "br"),
        "gzip then br": (brotli.compress(gz(GiB // 2)), "gzip, br"),
        "gzip declared twice": (gz(GiB // 2), "gzip, gzip"),
    }}
    results = {{}}
    for name, (bomb, coding) in bombs.items():
        started = time.monotonic()
        try:
            decode_body(bomb, coding)
            outcome = "decoded"
        except BodyTooLargeError:
            outcome = "refused"
        except ValueError as exc:
            outcome = "refused: " + str(exc)[:60]
        headers = Headers((("Content-Type", "application/json"), ("Content-Encoding", coding)))
        req = Request("POST", "https://graph.microsoft.com/v1.0/me/messages/A/attachments", headers, bomb)
        resp = Response(201, "Created", headers, bomb)
        red_req, red_resp = Redactor().request(req), Redactor().response(resp)
        withheld = bool(withheld_reason(red_req.body)) and bool(withheld_reason(red_resp.body))
        interaction = Interaction(req, resp)
        findings = [f.code for f in validate_interaction(interaction)]
        request_key(req)
        sample_from_interaction(interaction, "x")
        cassette_to_har(Cassette([interaction]))
        results[name] = {{"decoder": outcome, "withheld": withheld, "undecodable": "undecodable-body" in findings,
                          "seconds": round(time.monotonic() - started, 2)}}
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({{"results": results, "peak": peak}}))
''')


def test_every_reader_refuses_compression_bombs_within_bounded_memory() -> None:
    proc = subprocess.run([sys.executable, "-c", CHILD.format(cap=MEMORY_CAP)], capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    for name, result in report["results"].items():
        assert result["decoder"].startswith("refused"), (name, result)
        assert result["withheld"], (name, result)  # never stored unchecked
        assert result["undecodable"], (name, result)
    assert report["peak"] < MEMORY_CAP
    print(f"bombs: {len(report['results'])} kinds x 6 readers refused; peak RSS "
          f"{report['peak'] / 2**20:.0f} MiB under a {MEMORY_CAP / 2**20:.0f} MiB watchdog; "
          + ", ".join(f"{k} {v['seconds']}s" for k, v in report["results"].items()))
