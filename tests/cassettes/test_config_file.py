"""The project configuration file: where it is found, what it may hold, and how it fails.

Truth from outside graphtape: the TOML and YAML texts are parsed by tomllib and PyYAML; the
``[tool.NAME]`` table is where PEP 518 lets tools keep their settings in pyproject.toml.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from graphtape.cassettes.config_file import (
    CONFIG_ENV,
    KEYS,
    ConfigFileError,
    ProjectConfig,
    find_config_file,
    load_project_config,
)

NO_ENV: dict[str, str] = {}


def _load(folder: Path) -> ProjectConfig:
    return load_project_config(folder, NO_ENV)


def test_pyproject_table_is_found_from_a_subfolder(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n\n[tool.graphtape]\nrecord_mode = "once"\n'
                                             'redact_headers = ["X-Api-Key"]\ncassette_dir = "tests/cassettes"\n')
    sub = tmp_path / "tests" / "unit"
    sub.mkdir(parents=True)
    config = _load(sub)
    assert config.source == tmp_path / "pyproject.toml"
    assert config.values == {"record_mode": "once", "redact_headers": ["X-Api-Key"],
                             "cassette_dir": str(tmp_path / "tests" / "cassettes")}  # relative to the file
    assert config.addon_options() == {"graphtape_record_mode": "once", "graphtape_redact_headers": ["X-Api-Key"],
                                      "graphtape_cassette_dir": str(tmp_path / "tests" / "cassettes")}


def test_a_pyproject_without_the_table_does_not_stop_the_search(tmp_path: Path) -> None:
    (tmp_path / "graphtape.yaml").write_text("graph_url: https://graph.microsoft.us/\nstrict: true\n")
    inner = tmp_path / "pkg"
    inner.mkdir()
    (inner / "pyproject.toml").write_text('[project]\nname = "pkg"\n')
    config = _load(inner)
    assert config.source == tmp_path / "graphtape.yaml"
    assert config.values == {"graph_url": "https://graph.microsoft.us", "strict": True}


def test_no_file_is_an_empty_configuration(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')  # not graphtape's
    assert find_config_file(tmp_path) is None
    assert _load(tmp_path) == ProjectConfig()


def test_the_environment_names_a_file_or_turns_configuration_off(tmp_path: Path) -> None:
    (tmp_path / "graphtape.yaml").write_text("scope: all\n")
    other = tmp_path / "other.yaml"
    other.write_text("scope: attachments\n")
    assert load_project_config(tmp_path, {CONFIG_ENV: str(other)}).values == {"scope": "attachments"}
    assert load_project_config(tmp_path, {CONFIG_ENV: os.devnull}).values == {}
    with pytest.raises(ConfigFileError, match=rf"missing.yaml: no such file \(named by {CONFIG_ENV}\)"):
        load_project_config(tmp_path, {CONFIG_ENV: str(tmp_path / "missing.yaml")})


# (file name, text, the message's telling part)
BAD: list[tuple[str, str, str]] = [
    ("graphtape.yaml", "recod_mode: once\n", "graphtape.yaml: unknown key 'recod_mode'; did you mean 'record_mode'?"),
    ("pyproject.toml", '[tool.graphtape]\ncasette_dir = "x"\n',
     "pyproject.toml [tool.graphtape]: unknown key 'casette_dir'; did you mean 'cassette_dir'?"),
    ("graphtape.yaml", "colour: blue\n", "unknown key 'colour'; valid keys: upstream, graph_url,"),
    ("graphtape.yaml", "record_mode: sometimes\n", "record_mode: 'sometimes' is not one of none, once,"),
    ("graphtape.yaml", "strict: yes please\n", "strict: expected true or false, got a string"),
    ("graphtape.yaml", "redact_headers: X-Api-Key\n", "redact_headers: expected a list of strings, got a string"),
    ("graphtape.yaml", "blob_threshold: -1\n", "blob_threshold: expected a whole number of 0 or more, got -1"),
    ("graphtape.yaml", "upstream: graph.microsoft.com\n", "upstream: 'graph.microsoft.com' is not an http(s) URL"),
    ("graphtape.yaml", "graph_url: https://graph.microsoft.com/v1.0\n", "graph_url: 'https://graph.microsoft.com/v1.0'"
                                                                        " must be an origin only"),
    ("graphtape.yaml", "- a\n- b\n", "expected a mapping of settings, got a list"),
    ("graphtape.yaml", "scope: [unclosed\n", "not valid YAML (line 2)"),
    ("pyproject.toml", "[tool.graphtape\n", "pyproject.toml: not valid TOML"),
]


@pytest.mark.parametrize(("name", "text", "says"), BAD, ids=[b[2][:40] for b in BAD])
def test_a_bad_file_is_one_error_naming_file_and_key(tmp_path: Path, name: str, text: str, says: str) -> None:
    (tmp_path / name).write_text(text)
    with pytest.raises(ConfigFileError) as raised:
        _load(tmp_path)
    assert str(tmp_path / name) in str(raised.value)
    assert says in str(raised.value)


def test_two_files_in_one_folder_are_refused(tmp_path: Path) -> None:
    (tmp_path / "graphtape.yaml").write_text("strict: true\n")
    (tmp_path / "pyproject.toml").write_text("[tool.graphtape]\nstrict = false\n")
    with pytest.raises(ConfigFileError, match="both configure graphtape; keep one of them"):
        _load(tmp_path)


def test_every_key_is_an_addon_option_and_every_addon_option_a_key() -> None:
    """The keys stay in step with the add-on's graphtape_* options (upstream is mitmproxy's --mode there)."""
    script = ("import json; from mitmproxy import optmanager; from graphtape.addons.proxy.stack import build_stack\n"
              "o = optmanager.OptManager()\n"
              "class L:\n"
              "    def add_option(self, name, typespec, default, help, choices=None):\n"
              "        o.add_option(name, typespec, default, help, choices)\n"
              "for a in build_stack().addons:\n"
              "    getattr(a, 'load', lambda l: None)(L())\n"
              "print(json.dumps(sorted(k for k in o.keys() if k.startswith('graphtape_'))))\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60)
    options = {name.removeprefix("graphtape_") for name in json.loads(out.stdout)}
    # per run, not per project: which cassette, and whether to answer with the simulator (and how:
    # the built-in simulator's own settings, as `graphtape simulate` takes them)
    assert set(KEYS) - {"upstream"} == options - {"cassette", "simulate",
                                                  "strict_parents", "upload_port"}
