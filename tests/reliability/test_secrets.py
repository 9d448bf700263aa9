"""Secrets never land anywhere: a property-based test through a real recorder and replayer.

Hypothesis plants random secrets in every place graphtape redacts by default
(Authorization, Proxy-Authorization and Cookie headers; the authtoken, access_token,
sig, code and client_secret query parameters; client_secret, refresh_token,
access_token and password fields in JSON, nested too, and in form bodies; Set-Cookie
in responses) and in places a user adds with --redact-header/--redact-query/
--redact-field. None may appear in the cassette, in the journal while recording, or in
the recorder's or replayer's output (run with -v), nor in the alerts file, nor inside a gzipped body; and
replaying the same requests,
with the same secrets or fresh ones, must still match what was recorded.

To check another output file (an alerts file, a report), add it to the ``outputs``
given to ``find_planted_secrets`` (see reliability_helpers.read_outputs).
"""

from __future__ import annotations

import gzip
import itertools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from reliability_helpers import (
    Answer,
    cassette_outputs,
    find_planted_secrets,
    read_outputs,
)

from graphtape.cassettes.encoding import decode_body
from graphtape.cassettes.serialization import load_cassette
from graphtape.cassettes.storage import journal_path

pytestmark = pytest.mark.slow

ROUTE = "/v1.0/me/messages/AAMkAGI2THVSAAA=/attachments"
EXAMPLES = 25
# Characters a token can hold, including ones that need escaping in URLs, JSON and forms.
_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/="
# A fixed prefix keeps a random secret from matching innocent bytes (hypothesis likes "0000...").
secrets_ = st.text(alphabet=_ALPHABET, min_size=12, max_size=40).map(lambda s: "fake-s3cr3t-" + s)
cookie_secrets = st.text(alphabet=_ALPHABET.replace("=", ""), min_size=12, max_size=40).map(lambda s: "fake-c00k-" + s)


def _spellings(name: str) -> st.SearchStrategy[str]:
    return st.sampled_from([name, name.upper(), name.title()])


@dataclass(frozen=True)
class Planted:
    """One request's secrets, by where they were planted."""

    headers: dict[str, str]  # header name -> full value (the secret inside)
    query: dict[str, str]
    json_fields: dict[str, str]
    form_fields: dict[str, str]
    cookie: str  # sent in Cookie, echoed by the upstream in Set-Cookie

    def altered(self) -> Planted:
        """Other secrets in the same places."""
        def alter(d: dict[str, str]) -> dict[str, str]:
            return {k: v + "Zq9" for k, v in d.items()}
        return Planted(alter(self.headers), alter(self.query), alter(self.json_fields), alter(self.form_fields),
                       self.cookie + "Zq9")

    def all(self) -> list[str]:
        secret_values = [v.split(" ", 1)[-1] for v in self.headers.values()]
        return secret_values + list(self.query.values()) + list(self.json_fields.values()) + \
            list(self.form_fields.values()) + [self.cookie]


planted = st.builds(
    Planted,
    headers=st.fixed_dictionaries({
        "Authorization": secrets_.map(lambda s: f"Bearer {s}"),
        "Proxy-Authorization": secrets_.map(lambda s: f"Basic {s}"),
        "X-Api-Key": secrets_,  # added by the user: --redact-header X-Api-Key
    }),
    query=st.fixed_dictionaries({"authtoken": secrets_, "access_token": secrets_, "sig": secrets_,
                                 "code": secrets_, "client_secret": secrets_, "apikey": secrets_}),
    json_fields=st.fixed_dictionaries({"client_secret": secrets_, "refresh_token": secrets_,
                                       "access_token": secrets_, "password": secrets_, "pin": secrets_}),
    form_fields=st.fixed_dictionaries({"client_secret": secrets_, "refresh_token": secrets_,
                                       "access_token": secrets_, "password": secrets_, "pin": secrets_}),
    cookie=cookie_secrets,
)
spelling = st.fixed_dictionaries({"header": _spellings("authorization"), "query": _spellings("access_token"),
                                  "field": _spellings("password")})


def _requests(n: int, p: Planted, spell: Mapping[str, str]) -> list[tuple[str, bytes, dict[str, str]]]:
    """The example's requests (JSON, form, gzipped JSON), secrets in every default place."""
    query = dict(p.query)
    query[spell["query"]] = query.pop("access_token")
    headers = {k: v for k, v in p.headers.items() if k != "Authorization"}
    headers[spell["header"]] = p.headers["Authorization"]
    headers["Cookie"] = f"session={p.cookie}; theme=dark"
    fields = dict(p.json_fields)
    fields[spell["field"]] = fields.pop("password")
    json_body = {"@odata.type": "#microsoft.graph.fileAttachment", "name": f"example-{n}.txt",
                 "contentBytes": "aGVsbG8=", "client_secret": fields.pop("client_secret"),
                 "credentials": {"refresh_token": fields.pop("refresh_token"),
                                 "more": [{"access_token": fields.pop("access_token")}]},
                 **fields}
    form_body = urlencode({"name": f"example-{n}-form", **p.form_fields}).encode()
    gzipped = gzip.compress(json.dumps({**json_body, "name": f"example-{n}-gz.txt"}).encode(), mtime=0)
    url = f"{ROUTE}?{urlencode(query)}"
    return [
        (url, json.dumps(json_body).encode(), {**headers, "Content-Type": "application/json"}),
        (url, form_body, {**headers, "Content-Type": "application/x-www-form-urlencoded"}),
        (url, gzipped, {**headers, "Content-Type": "application/json", "Content-Encoding": "gzip"}),
    ]


_counter = itertools.count()


def _upstream(method: str, path: str, headers: Mapping[str, str], body: bytes) -> Answer:
    """A 201 with a fresh id; the session cookie it was sent comes back in Set-Cookie."""
    cookie = {k.lower(): v for k, v in headers.items()}.get("cookie", "")
    session = cookie.split(";")[0]
    answer = json.dumps({"id": f"AAMk{next(_counter)}=", "name": "attachment"}).encode()
    return 201, [("Content-Type", "application/json"), ("Set-Cookie", f"{session}; Path=/; HttpOnly"),
                 ("Set-Cookie", f"other={session[::-1]}")], answer


_USER_REDACTIONS = ("--redact-header", "X-Api-Key", "--redact-query", "apikey", "--redact-field", "pin")


def test_planted_secrets_are_found_nowhere_and_replay_still_matches(loopback_upstream, run_graphtape,
                                                                     tmp_path: Path) -> None:
    upstream = loopback_upstream(_upstream)
    cassette = tmp_path / "secrets.yaml"
    alerts = tmp_path / "alerts.jsonl"  # findings quote what they saw: they must quote redacted values
    rec = run_graphtape("record", "--cassette", str(cassette), "--upstream", upstream.url, "--port", "0",
                        "--scope", "all", "-v", "--alerts", str(alerts), *_USER_REDACTIONS)
    sent: list[tuple[str, bytes, dict[str, str]]] = []
    answers: list[bytes] = []
    planted_secrets: list[str] = []
    examples: list[tuple[Planted, dict[str, str]]] = []
    journal_leaks: list[str] = []

    # No shrinking: each step costs real requests; a failure still reports its example.
    @settings(max_examples=EXAMPLES, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(p=planted, spell=spelling)
    def record_one(p: Planted, spell: dict[str, str]) -> None:
        n = len(examples)
        for url, body, headers in _requests(n, p, spell):
            r = httpx.post(rec.url + url, content=body, headers=headers, trust_env=False, timeout=30)
            assert r.status_code == 201, r.text
            assert p.cookie in r.headers.get("set-cookie", "")  # the client itself gets the real cookie
            sent.append((url, body, headers))
            answers.append(r.content)
        planted_secrets.extend(p.all())
        examples.append((p, spell))
        # The journal exists only while recording: look at it now.
        journal_leaks.extend(find_planted_secrets(p.all(), read_outputs([journal_path(cassette)])))

    try:
        record_one()
    except Exception:
        rec.stop()
        print("SENT", len(sent), "UPSTREAM", upstream.requests)
        raise
    assert rec.stop() == 0, rec.stderr
    assert len(examples) >= 10  # hypothesis really ran examples
    assert alerts.stat().st_size > 0  # the bodies' undocumented fields did raise alerts
    leaks = journal_leaks + find_planted_secrets(
        planted_secrets, read_outputs([*cassette_outputs(cassette), alerts], recorder_stdout=rec.stdout,
                                      recorder_stderr=rec.stderr))
    assert leaks == [], leaks[:10]
    recorded = load_cassette(cassette).interactions
    assert len(recorded) == len(sent)
    # Compressed bodies hide their bytes from a plain search: look inside them too.
    decoded = {f"interaction {n} {part}": decode_body(m.body, m.headers.get("content-encoding"))
               for n, i in enumerate(recorded) for part, m in (("request", i.request), ("response", i.response))}
    assert find_planted_secrets(planted_secrets, decoded) == []
    assert all(i.response.headers.get_all("set-cookie") == ["REDACTED", "REDACTED"] for i in recorded)

    upstream.close()
    rep = run_graphtape("replay", "--cassette", str(cassette), "--port", "0", "--strict", "-v", *_USER_REDACTIONS)
    for (url, body, headers), answer in zip(sent, answers, strict=False):
        r = httpx.post(rep.url + url, content=body, headers=headers, trust_env=False, timeout=30)
        assert (r.status_code, r.content) == (201, answer)
    # Other secrets in the same places match too: what is redacted is not part of the match.
    for n, (p, spell) in enumerate(examples[:5]):
        per_example = len(sent) // len(examples)
        for (url, body, headers), answer in zip(_requests(n, p.altered(), spell),
                                                answers[per_example * n:per_example * (n + 1)], strict=False):
            r = httpx.post(rep.url + url, content=body, headers=headers, trust_env=False, timeout=30)
            assert (r.status_code, r.content) == (201, answer)
    assert rep.stop() == 0, rep.stdout
    leaks = find_planted_secrets(planted_secrets, read_outputs([], replayer_stdout=rep.stdout,
                                                               replayer_stderr=rep.stderr))
    assert leaks == [], leaks[:10]
    print(f"secrets: {len(planted_secrets)} planted in {len(sent)} requests ({len(examples)} examples), "
          "found 0 times in the cassette, journal, alerts file and logs; replay matched all")
