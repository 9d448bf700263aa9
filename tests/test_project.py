"""The project's shape: imports run one way, the public API is what ``__all__`` says, every
package ships, and the code stands alone (it cites no file outside the repository)."""

from __future__ import annotations

import ast
import importlib
import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# The three folders are installed as graphtape.<folder>.
PACKAGES = {"addons": "graphtape.addons", "cassettes": "graphtape.cassettes", "cli": "graphtape.cli"}


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT)
    parts = [PACKAGES[rel.parts[0]], *rel.parts[1:-1]]
    if rel.stem != "__init__":
        parts.append(rel.stem)
    return ".".join(parts)


def _source_files() -> list[Path]:
    return sorted(p for folder in PACKAGES for p in (ROOT / folder).rglob("*.py"))


def _imports(path: Path) -> list[tuple[int, str]]:
    """Every module an import statement names (functions' lazy imports included), with its line."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                found.append((node.lineno, "." * node.level + (node.module or "")))
            elif node.module:
                found.append((node.lineno, node.module))
    return found


# (package prefix of the importing module, forbidden prefixes, why)
CONTRACTS: list[tuple[str, tuple[str, ...], str]] = [
    ("graphtape.cassettes", ("mitmproxy", "click", "pydantic", "graphtape.addons", "graphtape.cli"),
     "the cassette layer stands on its own"),
    ("graphtape.addons", ("graphtape.cli", "click"), "addons never reach up into the command line"),
    ("graphtape.addons.graph", ("mitmproxy", "graphtape.addons.simulation", "graphtape.addons.drift",
                                "graphtape.addons.proxy"), "Graph knowledge is the base of addons"),
    ("graphtape.addons.simulation", ("mitmproxy", "graphtape.addons.drift", "graphtape.addons.proxy"),
     "the simulator is pure logic over the Graph knowledge"),
    ("graphtape.addons.drift", ("mitmproxy", "graphtape.addons.simulation", "graphtape.addons.proxy"),
     "drift is pure logic over the Graph knowledge"),
]


def _violations() -> list[str]:
    out: list[str] = []
    for path in _source_files():
        module = _module_name(path)
        for line, imported in _imports(path):
            where = f"{path.relative_to(ROOT)}:{line} imports {imported}"
            if imported.startswith("."):
                out.append(f"{where}: relative import (mitmdump -s loads addons by path; use graphtape.*)")
                continue
            for owner, forbidden, why in CONTRACTS:
                if module == owner or module.startswith(owner + "."):
                    for bad in forbidden:
                        if imported == bad or imported.startswith(bad + "."):
                            out.append(f"{where}: {why}")
    return out


def test_imports_run_one_way() -> None:
    assert _violations() == []


def test_the_contract_check_sees_a_wrong_import(tmp_path: Path) -> None:
    """The checker itself: a cassettes module importing mitmproxy inside a function is caught."""
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    import mitmproxy.http\n    from graphtape.cli import main\n")
    assert [name for _, name in _imports(bad)] == ["mitmproxy.http", "graphtape.cli"]


def test_no_module_in_addons_shadows_a_top_level_package() -> None:
    """mitmdump -s puts addons/ on sys.path while it loads the shim."""
    taken = {"graphtape", "yaml", "http", "json", "mitmproxy", "click", "pydantic", "email", "logging", "types",
             "typing", "asyncio", "ssl", "socket", "select", "queue", "string", "enum", "io", "test", "tests"}
    names = {p.stem for p in (ROOT / "addons").iterdir() if p.suffix == ".py"} | {
        p.name for p in (ROOT / "addons").iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert not names & taken


@pytest.mark.parametrize("package", ["graphtape.cassettes", "graphtape.addons.graph"])
def test_public_api_is_complete_and_sorted(package: str) -> None:
    module = importlib.import_module(package)
    exported = list(module.__all__)
    assert exported == sorted(exported, key=lambda n: (not n.isupper(), n))  # constants, classes, functions
    for name in exported:
        assert getattr(module, name) is not None
    public = {name for name, value in vars(module).items()
              if not name.startswith("_") and not isinstance(value, type(importlib))}
    assert public <= set(exported) | {"annotations"}, public - set(exported)


def test_every_package_folder_is_listed_for_the_wheel() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    found = {_module_name(init) for folder in PACKAGES for init in (ROOT / folder).rglob("__init__.py")}
    assert found == listed
    mapped = config["package-dir"]
    assert {k: v for k, v in mapped.items()} == {v: k for k, v in PACKAGES.items()}


def test_the_code_cites_no_file_outside_the_repository() -> None:
    cites = re.compile(r"\.\./shared|DESIGN\.md|/work/")
    offenders = [str(p.relative_to(ROOT)) for p in [*_source_files(), *(ROOT / d for d in DOCUMENTS)]
                 if cites.search(p.read_text(encoding="utf-8"))]
    assert offenders == []


def test_the_readme_python_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    """The README's "Use it from Python" example, run on the shipped example cassette."""
    from graphtape.cli.examples import example_cassette

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Use it from Python", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    assert len(code.strip().splitlines()) <= 12
    assert '"cassettes/examples/attachments.yaml"' in code  # the shipped example, from the repository's root
    code = code.replace('"cassettes/examples/attachments.yaml"', repr(str(example_cassette())))
    scope: dict[str, object] = {}
    exec(compile(code, "README.md", "exec"), scope)
    cassette = scope["cassette"]
    assert scope["position"] == 0 and scope["recorded"] is cassette.interactions[0]  # type: ignore[attr-defined]
    printed = capsys.readouterr().out.splitlines()
    assert printed and all(line.split()[1] in ("error", "warning", "info") for line in printed)


# The project's documents, and the folders their relative paths are taken from (the README's
# prose names repository paths from the root; a link is relative to its document).
DOCUMENTS = ["README.md", "tests/benchmarks/README.md", "tests/reliability/README.md", "addons/graph/README.md",
             "addons/drift/README.md", "addons/simulation/README.md",
             "cassettes/README.md"]
_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
_INLINE = re.compile(r"(?<!`)`([^`\n]+)`(?!`)")
_PATHLIKE = re.compile(r"^\.?[\w.-]+(/[\w.-]+)*(/|\.[A-Za-z0-9]+)$")
_REPO_TOP = ("addons/", "cassettes/", "cli/", "tests/", ".ci/")


def _referenced_paths(document: str) -> list[str]:
    text = (ROOT / document).read_text(encoding="utf-8")
    prose = re.sub(r"(?ms)^```.*?^```", "", text)
    found = [m.group(1) for m in _LINK.finditer(_INLINE.sub("", prose))]  # `[2](id=3)` in code is no link
    for span in _INLINE.findall(prose):
        for word in span.split():
            # a bare folder name (`a.yaml.blobs/`) names a kind of thing, not a place in the repository
            if "/" in word.rstrip("/") and _PATHLIKE.match(word):
                found.append(word)
    if document == "README.md":  # its examples run from a clone: repository paths in code blocks count too
        for block in re.findall(r"(?ms)^```.*?^```", text):
            found += [w.strip("\"'(),") for w in block.split() if w.startswith(_REPO_TOP)
                      and _PATHLIKE.match(w.strip("\"'(),"))]
    return [f for f in found if not f.startswith(("http://", "https://", "mailto:", "#"))]


@pytest.mark.parametrize("document", DOCUMENTS)
def test_every_path_a_document_names_exists(document: str) -> None:
    folder = (ROOT / document).parent
    missing = [p for p in _referenced_paths(document)
               if not (ROOT / p.split("#")[0]).exists() and not (folder / p.split("#")[0]).exists()]
    assert missing == []


def test_the_path_check_sees_a_missing_file(tmp_path: Path) -> None:
    """The checker itself: a link, an inline path and a repository path in a code block."""
    fake = "See [x](docs/nothing.md), `cli/nowhere.py` and\n```sh\npython tests/benchmarks/gone.py\n```\n"
    original = ROOT
    try:
        globals()["ROOT"] = tmp_path
        (tmp_path / "README.md").write_text(fake)
        assert _referenced_paths("README.md") == ["docs/nothing.md", "cli/nowhere.py", "tests/benchmarks/gone.py"]
    finally:
        globals()["ROOT"] = original


def test_the_readme_stays_short_and_has_a_license() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.encode()) < 22_000
    assert readme.index("pip install . && graphtape demo") < readme.index("## Contents")
    license_text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert license_text.startswith("MIT License") and "the graphtape authors" in license_text
