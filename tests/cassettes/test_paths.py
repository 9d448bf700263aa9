from __future__ import annotations

import os
from pathlib import Path

import pytest

from graphtape.cassettes.errors import CassettePathError, GraphtapeError
from graphtape.cassettes.paths import resolve_cassette_path


@pytest.mark.parametrize("name, inside", [
    ("a.yaml", "a.yaml"),
    ("sub/b.yaml", "sub/b.yaml"),
    ("sub/../c.yaml", "c.yaml"),  # ".." that stays inside is fine
    ("./d.yaml", "d.yaml"),
])
def test_names_inside_the_folder_resolve_into_it(tmp_path: Path, name: str, inside: str) -> None:
    assert resolve_cassette_path(tmp_path, name) == (tmp_path / inside).resolve()


@pytest.mark.parametrize("name", [
    "../escape.yaml",
    "sub/../../escape.yaml",
    "../../../../../../../../etc/passwd",
    "/etc/passwd",
    "/tmp/elsewhere.yaml",
    ".",  # the folder itself is not a cassette
    "",
    "a\x00.yaml",
])
def test_names_that_escape_are_refused(tmp_path: Path, name: str) -> None:
    folder = tmp_path / "cassettes"
    folder.mkdir()
    with pytest.raises(CassettePathError) as info:
        resolve_cassette_path(folder, name)
    assert isinstance(info.value, GraphtapeError)


def test_an_absolute_path_inside_the_folder_is_accepted(tmp_path: Path) -> None:
    assert resolve_cassette_path(tmp_path, tmp_path / "x" / "y.yaml") == (tmp_path / "x" / "y.yaml").resolve()


def test_a_symlink_pointing_out_of_the_folder_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "cassettes"
    folder.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    os.symlink(outside, folder / "link")
    with pytest.raises(CassettePathError, match="outside the cassette folder"):
        resolve_cassette_path(folder, "link/c.yaml")


def test_without_a_folder_the_name_is_used_as_given(tmp_path: Path) -> None:
    assert resolve_cassette_path(None, "../x.yaml") == Path("../x.yaml")
    assert resolve_cassette_path("", "/abs/x.yaml") == Path("/abs/x.yaml")
