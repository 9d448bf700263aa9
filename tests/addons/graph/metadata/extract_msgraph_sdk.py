"""Extract Graph facts from an installed msgraph-sdk (Microsoft's Python SDK) into test data.

Run it with the Python of a scratch virtualenv that has the SDK, outside this repository:

    python -m venv /tmp/sdk-venv && /tmp/sdk-venv/bin/pip install --no-deps msgraph-sdk==1.62.0
    /tmp/sdk-venv/bin/python tests/addons/graph/metadata/extract_msgraph_sdk.py \\
        --out tests/addons/graph/metadata/data

It reads the SDK's generated source as text (it imports nothing from it) and writes:

``msgraph_sdk_routes.txt``
    Every request builder under ``/users/{id}``, ``/me`` or ``/groups/{id}`` whose
    ``post`` sends an ``Attachment``/``AttachmentBase`` to an ``attachments``
    collection (``create``) or calls ``attachments/createUploadSession``.
``msgraph_sdk_carriers.txt``
    Request builders under the same roots whose ``post`` body is, or has a member of,
    a type that owns attachments (``Message``, ``Event``, ``Post``, ``TodoTask``...).
``msgraph_sdk_discriminators.txt``
    The ``@odata.type`` values each model's ``create_from_discriminator_value`` maps
    to a subtype, for the types graphtape validates.

The tests compare graphtape's generated data with these files; they never need the SDK.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import re
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

ROOTS = ("/users/", "/me/", "/groups/")
_TEMPLATE = re.compile(
    r'super\(\).__init__\(request_adapter, "\{\+baseurl\}(?P<path>[^"{?]*(?:\{[^?}][^}]*\}[^"{?]*)*)'
)
_POST = re.compile(r"async def post\(self,\s*body: (?P<body>\w+)[^)]*\)\s*->\s*(?:Optional\[(?P<returns>\w+)\]|None)")
_BODY_MEMBER = re.compile(r'"(?P<json>\w+)": lambda n : setattr\(self, \'\w+\', n\.get_object_value\((?P<type>\w+)\)\)')
_DISCRIMINATOR = re.compile(r'mapping_value\.casefold\(\) == "(?P<value>#[\w.]+)"\.casefold\(\)')
# Model classes of the types that own an attachments collection, and of their containers.
ATTACHMENT_OWNERS = ("Message", "Event", "Post", "TodoTask", "OutlookTask", "Conversation", "ConversationThread")
DISCRIMINATED_MODELS = ("attachment", "attachment_base", "outlook_item", "message", "event_message", "post")


def _builders(generated: Path) -> Iterator[tuple[Path, str, str, str]]:
    """(file, URL path, post body class, post return class) of every builder with a post."""
    for path in sorted(generated.rglob("*_request_builder.py")):
        text = path.read_text(encoding="utf-8")
        template = _TEMPLATE.search(text)
        post = _POST.search(text)
        if template and post:
            yield path, template.group("path"), post.group("body"), post.group("returns") or "None"


def _body_members(builder: Path, body_class: str) -> list[tuple[str, str]]:
    """JSON member -> model class of a *PostRequestBody defined beside the builder."""
    snake = re.sub(r"(?<!^)(?=[A-Z])", "_", body_class).lower()
    module = builder.parent / f"{snake}.py"
    if not module.is_file():
        return []
    return [(m.group("json"), m.group("type")) for m in _BODY_MEMBER.finditer(module.read_text(encoding="utf-8"))]


def extract(generated: Path) -> tuple[list[str], list[str]]:
    routes: list[str] = []
    carriers: list[str] = []
    for builder, url, body, returns in _builders(generated):
        if not url.startswith(ROOTS):
            continue
        if url.endswith("/attachments") and body in ("Attachment", "AttachmentBase"):
            routes.append(f"create\t{url}")
        elif url.endswith("/attachments/createUploadSession") and returns == "UploadSession":
            routes.append(f"createUploadSession\t{url}")
        elif body in ATTACHMENT_OWNERS:
            carriers.append(f"create\t{url}\t{body}")
        else:
            for member, member_type in _body_members(builder, body):
                if member_type in ATTACHMENT_OWNERS:
                    carriers.append(f"action\t{url}\t{member}:{member_type}")
    return sorted(routes), sorted(carriers)


def discriminators(generated: Path) -> list[str]:
    lines: list[str] = []
    for model in DISCRIMINATED_MODELS:
        text = (generated / "models" / f"{model}.py").read_text(encoding="utf-8")
        values = sorted({m.group("value") for m in _DISCRIMINATOR.finditer(text)})
        lines.append(f"{model}\t{' '.join(values)}")
    return lines


def _write(path: Path, header: Sequence[str], lines: Sequence[str]) -> None:
    body = "".join(f"# {line}\n" if line else "#\n" for line in header) + "".join(f"{line}\n" for line in lines)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body, encoding="utf-8")
    print(f"{path}: {len(lines)} lines")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True, help="folder for the three .txt files")
    parser.add_argument("--note", action="append", default=[], help="a line to add to every header")
    args = parser.parse_args(argv)
    spec = importlib.util.find_spec("msgraph")
    if spec is None or not spec.submodule_search_locations:
        print("error: msgraph-sdk is not installed in this Python", file=sys.stderr)
        return 2
    generated = Path(next(iter(spec.submodule_search_locations))) / "generated"
    version = importlib.metadata.version("msgraph-sdk")
    header = [
        f"Extracted from msgraph-sdk {version} (PyPI; Microsoft Graph v1.0, generated by Kiota)",
        "by tests/addons/graph/metadata/extract_msgraph_sdk.py, which reads the SDK's generated",
        "request builders and models as text (url templates, post signatures, discriminators).",
        *args.note,
        "",
    ]
    routes, carriers = extract(generated)
    _write(
        args.out / "msgraph_sdk_routes.txt",
        [*header, "operation<TAB>URL path (the SDK's template, {name%2Did} placeholders)"],
        routes,
    )
    _write(
        args.out / "msgraph_sdk_carriers.txt",
        [*header, "kind<TAB>URL path<TAB>body model (create) or JSON member:model (action)"],
        carriers,
    )
    _write(
        args.out / "msgraph_sdk_discriminators.txt",
        [*header, "model module<TAB>@odata.type values its create_from_discriminator_value maps to a subtype"],
        discriminators(generated),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
