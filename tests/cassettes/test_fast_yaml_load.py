"""The cassette loader's fast path builds exactly what PyYAML's safe loader builds."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from graphtape.cassettes.errors import CassetteFormatError
from graphtape.cassettes.serialization import _load_plain, load_cassette, parse_cassette

DOCUMENTS = [
    "version: 1\ninteractions: []\n",
    "a: 1\nb: -2\nc: 0x1f\nd: 1_000\ne: 3.5\nf: .inf\n",
    "a: null\nb: ~\nc:\nd: true\ne: no\nf: 'yes'\n",
    "quoted: '123'\ndouble: \"null\"\nplain: 123abc\n",
    "bin: !!binary aGVsbG8=\nstr: !!str 42\nint: !!int '7'\n",
    "when: 2026-11-26\nstamp: 2026-11-26T20:42:34Z\n",
    "list:\n- 1\n- two\n- [3, {four: 4}]\n",
    "base: {a: 1}\nmerged:\n  <<: {a: 2, b: 3}\n  c: 4\n",
    "1: int key\n'1': str key\nnull: null key\n",
    "empty_map: {}\nempty_list: []\nempty_str: ''\n",
    "long: '" + "x" * 200 + "'\nplain_long: " + "y" * 200 + "\n",
    "set: !!set {a, b}\nomap: !!omap [a: 1, b: 2]\n",
]


@pytest.mark.parametrize("text", DOCUMENTS)
def test_same_result_as_the_safe_loader(text: str) -> None:
    assert _load_plain(text.encode()) == yaml.load(text, Loader=yaml.SafeLoader)


@pytest.mark.parametrize("text", [
    "{[1, 2]: unhashable list key}\n",
    "? [1, 2]\n: complex key\n",
    "{{a: 1}: unhashable map key}\n",
    "a: !!python/object:os.system x\n",
])
def test_same_refusals_as_the_safe_loader(text: str) -> None:
    with pytest.raises(yaml.constructor.ConstructorError) as safe:
        yaml.load(text, Loader=yaml.SafeLoader)
    with pytest.raises(yaml.constructor.ConstructorError) as fast:
        _load_plain(text.encode())
    assert fast.value.problem == safe.value.problem


def test_empty_document_is_none() -> None:
    assert _load_plain(b"") is None


CASSETTE = """version: 1
interactions:
- request: {method: POST, uri: 'https://graph.microsoft.com/v1.0/me/messages/1/attachments', body: '{"a": 1}'}
  response: {status: {code: 201, message: Created}, headers: {Size: [3]}, body: {string: !!binary aGVsbG8=}}
"""


@pytest.mark.parametrize("text", [CASSETTE, CASSETTE.replace("Created", "Created & stored")])
def test_a_streamed_file_loads_as_its_bytes_do(tmp_path: Path, text: str) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(text)
    assert load_cassette(path).interactions == parse_cassette(text.encode(), str(path)).interactions


@pytest.mark.parametrize("text, line", [(CASSETTE + "- request: [unclosed\n", 6), ("version: 1\n  bad: indent\n", 2)])
def test_a_streamed_file_reports_the_broken_line(tmp_path: Path, text: str, line: int) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(text)
    with pytest.raises(CassetteFormatError, match=f"line {line}"):
        load_cassette(path)
