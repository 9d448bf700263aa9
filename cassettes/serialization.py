"""Cassette <-> YAML, in the VCR.py ``version: 1`` format plus ``graphtape`` keys.

Reading treats the file as untrusted: libyaml's safe loader only (no tag can build a
Python object), a size cap, a cap on YAML aliases (the "billion laughs" bomb), and a
shape check that names the key at fault. Writing is deterministic: the same cassette
always gives the same bytes, and loading then saving a file graphtape wrote gives it
back unchanged.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, BinaryIO, ClassVar

import yaml

from graphtape.cassettes.blobs import BLOB_KEY, BlobStore
from graphtape.cassettes.errors import CassetteFormatError
from graphtape.cassettes.findings import Finding
from graphtape.cassettes.model import (
    Cassette,
    Headers,
    Interaction,
    InteractionMeta,
    Request,
    Response,
    body_digest,
)
from graphtape.cassettes.safe_files import CappedReader, open_regular
from graphtape.cassettes.wire import response_problems

__all__ = [
    "FORMAT_VERSION",
    "GRAPHTAPE_FORMAT",
    "MAX_ALIASES",
    "MAX_CASSETTE_BYTES",
    "dump_cassette",
    "interaction_from_data",
    "interaction_to_data",
    "load_cassette",
    "parse_cassette",
]

FORMAT_VERSION = 1  # VCR.py's cassette format version
GRAPHTAPE_FORMAT = 1  # version of what graphtape keeps under its own keys

# A cassette bigger than this is refused before parsing (override by environment
# for a deliberate giant). 100 interactions of 3 MB files take ~420 MB as base64.
MAX_CASSETTE_BYTES = int(os.environ.get("GRAPHTAPE_MAX_CASSETTE_BYTES", str(1 << 30)))
# graphtape never writes aliases; VCR.py almost never does. A handful is tolerated,
# more is treated as an attack on the loader.
MAX_ALIASES = 64
# Nodes that aliases may add to a document once expanded (see _refuse_alias_bombs).
MAX_ALIAS_EXPANSION = 100_000

_STR_TAG = "tag:yaml.org,2002:str"
_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_BaseLoader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_BaseLoader):  # type: ignore[misc]
    """The safe loader with a cheaper tag resolver (libyaml calls it once per node).

    Same answers as PyYAML's resolver, which this loader never gives path
    resolvers: quoted scalars are strings, collections are maps and lists, and a
    plain scalar's tag is worked out once per distinct short value.
    """

    _plain_tags: ClassVar[dict[str, str]] = {}  # shared by every load: the tags never change

    def resolve(self, kind: type, value: Any, implicit: tuple[bool, bool]) -> str:
        if kind is yaml.ScalarNode:
            if not implicit[0]:  # quoted (or tagged "!"): always a string
                return _STR_TAG
            if len(value) > 64:
                resolved: str = super().resolve(kind, value, implicit)
                return resolved
            tag = self._plain_tags.get(value)
            if tag is None:
                tag = super().resolve(kind, value, implicit)
                if len(self._plain_tags) < 4096:
                    self._plain_tags[value] = tag
            return tag
        return _SEQ_TAG if kind is yaml.SequenceNode else _MAP_TAG
    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == _MERGE_TAG:
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                if key in seen:
                    raise _duplicate(key, key_node)
                seen.add(key)
            except TypeError:
                pass  # unhashable: the safe constructor reports it
        return super().construct_mapping(node, deep)


def _duplicate(key: Any, key_node: Any) -> yaml.MarkedYAMLError:
    """A mapping names ``key`` twice: YAML says keys are unique, and a loader that kept the last
    one would silently read something other than what a reviewer of the file saw."""
    return yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)


_BaseDumper: type = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _Dumper(_BaseDumper):  # type: ignore[misc]
    """Safe dumper that never emits anchors/aliases, so equal bodies stay independent."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


# A YAML anchor (&name) is needed before any alias can exist. Cheap pre-check so the
# common case (no anchors at all) pays nothing for the alias count.
_ANCHOR = re.compile(rb"(?:^|[\s\[{,:-])&[^\s\[\]{},]+", re.MULTILINE)


# ---------------------------------------------------------------- writing


def _text_or_bytes(body: bytes) -> str | bytes:
    """UTF-8 text stays readable in the YAML; anything else is written as !!binary."""
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return body


def _body_out(body: bytes, blobs: BlobStore | None, always: bool = False) -> str | bytes | dict[str, Any]:
    """``always``: to a body file whatever its size (upload chunks), unless the store inlines everything."""
    if blobs is not None and (blobs.wants(body) or (always and blobs.threshold > 0)):
        return {BLOB_KEY: blobs.put(body)}
    return _text_or_bytes(body)


def _header_value_out(value: str) -> str | bytes:
    # Header values that were not valid UTF-8 carry surrogate escapes (mitmproxy's
    # convention); YAML cannot hold those as text, so they become !!binary.
    try:
        value.encode("utf-8")
        return value
    except UnicodeEncodeError:
        return value.encode("utf-8", "surrogateescape")


def _headers_out(headers: Headers) -> tuple[dict[str | bytes, list[str | bytes]], list[str | bytes] | None]:
    """VCR's dict-of-lists plus, when grouping lost the original order, that order.

    A header name that is not UTF-8 (a misbehaving client can send one) is written
    as a !!binary key, like such values; a text key would make the dump fail.
    """
    grouped: dict[str | bytes, list[str | bytes]] = {}
    for name, value in headers:
        grouped.setdefault(_header_value_out(name), []).append(_header_value_out(value))
    flat = [name for name in grouped for _ in grouped[name]]
    actual = [_header_value_out(name) for name, _ in headers]
    return grouped, (None if flat == actual else actual)


def interaction_to_data(interaction: Interaction, blobs: BlobStore | None = None) -> dict[str, Any]:
    """The YAML-ready mapping of one interaction; big bodies go to ``blobs`` when given."""
    req, resp, meta = interaction.request, interaction.response, interaction.meta
    req_headers, req_order = _headers_out(req.headers)
    resp_headers, resp_order = _headers_out(resp.headers)
    gt: dict[str, Any] = {}
    if meta.route is not None:
        gt["route"] = meta.route
    if meta.route_template is not None:
        gt["route_template"] = meta.route_template
    if meta.recorded_at is not None:
        gt["recorded_at"] = meta.recorded_at
    gt["digests"] = {"request_body": body_digest(req.body), "response_body": body_digest(resp.body)}
    if req_order is not None:
        gt["request_header_order"] = req_order
    if resp_order is not None:
        gt["response_header_order"] = resp_order
    gt["findings"] = [f.to_dict() for f in meta.findings]
    for key, value in meta.extra:
        gt[key] = value
    return {
        "request": {
            "method": req.method,
            "uri": req.uri,
            "headers": req_headers,
            "body": _body_out(req.body, blobs, meta.is_upload_chunk) if req.body else None,
        },
        "response": {
            "status": {"code": resp.status_code, "message": resp.reason},
            "headers": resp_headers,
            "body": _response_body_out(resp.body, blobs),
        },
        "graphtape": gt,
    }


def _response_body_out(body: bytes, blobs: BlobStore | None) -> dict[str, Any]:
    out = _body_out(body, blobs)
    return out if isinstance(out, dict) else {"string": out}


def dump_cassette(cassette: Cassette, blobs: BlobStore | None = None) -> bytes:
    """The cassette as YAML bytes; same cassette, same bytes.

    With ``blobs``, bodies over its threshold are written to content-addressed files
    and the cassette records the threshold, so a later save makes the same choice.
    """
    meta: dict[str, Any] = {"format": GRAPHTAPE_FORMAT}
    meta.update({k: v for k, v in cassette.meta.items() if k not in ("format", "blob_threshold")})
    if blobs is not None and blobs.threshold > 0:
        meta["blob_threshold"] = blobs.threshold
    data = {
        "version": FORMAT_VERSION,
        "graphtape": meta,
        "interactions": [interaction_to_data(i, blobs) for i in cassette.interactions],
    }
    text: str = yaml.dump(
        data,
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=120,
        encoding=None,
    )
    return text.encode("utf-8")


# ---------------------------------------------------------------- reading


class _Reader:
    """Checks the loaded structure's shape; every error names the file and the key."""

    def __init__(self, source: str, blobs: BlobStore | None = None) -> None:
        self.source = source
        self.blobs = blobs

    def fail(self, where: str, problem: str) -> CassetteFormatError:
        return CassetteFormatError(self.source, where, problem)

    def mapping(self, value: Any, where: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(where, f"expected a mapping, found {_kind(value)}")
        return value

    def key(self, mapping: dict[str, Any], key: str, where: str) -> Any:
        if key not in mapping:
            raise self.fail(f"{where}.{key}" if where else key, "missing key")
        return mapping[key]

    def string(self, value: Any, where: str) -> str:
        if not isinstance(value, str):
            raise self.fail(where, f"expected a string, found {_kind(value)}")
        return value

    def integer(self, value: Any, where: str) -> int:
        if not isinstance(value, int) or isinstance(value, bool):
            raise self.fail(where, f"expected an integer, found {_kind(value)}")
        return value

    def body(self, value: Any, where: str) -> bytes:
        if value is None:
            return b""
        if isinstance(value, bytes):
            return value
        if isinstance(value, str):
            return value.encode("utf-8", "surrogateescape")
        if isinstance(value, dict) and BLOB_KEY in value:
            if self.blobs is None:
                raise self.fail(where, "refers to a body file, but the cassette was not read from its folder")
            return self.blobs.get(value[BLOB_KEY], f"{where}.{BLOB_KEY}")
        raise self.fail(where, f"expected a string or !!binary body, found {_kind(value)}")

    def headers(self, value: Any, order: Any, where: str) -> Headers:
        if value is None:
            return Headers()
        grouped: dict[Any, Any] = self.mapping(value, where)  # keys may be !!binary (bytes) or numbers
        lists: dict[str, list[str]] = {}
        for key, values in grouped.items():
            name: object = key.decode("utf-8", "surrogateescape") if isinstance(key, bytes) else key  # !!binary name
            hwhere = f"{where}.{name}"
            if not isinstance(name, str):
                raise self.fail(where, f"header name must be a string, found {_kind(name)}")
            if isinstance(values, (str, bytes)):
                values = [values]  # lenient: some hand-written cassettes use scalars
            if not isinstance(values, list):
                raise self.fail(hwhere, f"expected a list of header values, found {_kind(values)}")
            out: list[str] = []
            for i, v in enumerate(values):
                if isinstance(v, bytes):
                    out.append(v.decode("utf-8", "surrogateescape"))
                elif isinstance(v, (str, int, float)) and not isinstance(v, bool):
                    out.append(str(v))
                else:
                    raise self.fail(f"{hwhere}[{i}]", f"expected a string header value, found {_kind(v)}")
            lists[name] = out
        if order is None:
            return Headers(tuple((name, v) for name, vs in lists.items() for v in vs))
        if not isinstance(order, list) or not all(isinstance(n, (str, bytes)) for n in order):
            raise self.fail(where + "_order", "expected a list of header names")
        order = [n.decode("utf-8", "surrogateescape") if isinstance(n, bytes) else n for n in order]
        pairs: list[tuple[str, str]] = []
        cursor = {name: 0 for name in lists}
        for name in order:
            if name not in lists or cursor[name] >= len(lists[name]):
                raise self.fail(where + "_order", f"names header {name!r} more often than it appears")
            pairs.append((name, lists[name][cursor[name]]))
            cursor[name] += 1
        if sum(cursor.values()) != sum(len(v) for v in lists.values()):
            raise self.fail(where + "_order", "does not list every header")
        return Headers(tuple(pairs))


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {dict: "a mapping", list: "a list", str: "a string", bytes: "binary", bool: "a boolean",
            int: "an integer", float: "a number"}.get(type(value), type(value).__name__)


_KNOWN_META = {"route", "route_template", "recorded_at", "findings", "digests",
               "request_header_order", "response_header_order"}


def interaction_from_data(data: Any, where: str, source: str, blobs: BlobStore | None = None) -> Interaction:
    r = _Reader(source, blobs)
    item = r.mapping(data, where)
    req = r.mapping(r.key(item, "request", where), f"{where}.request")
    resp = r.mapping(r.key(item, "response", where), f"{where}.response")
    gt = item.get("graphtape") or {}
    gt = r.mapping(gt, f"{where}.graphtape")

    status = r.mapping(r.key(resp, "status", f"{where}.response"), f"{where}.response.status")
    code = r.integer(r.key(status, "code", f"{where}.response.status"), f"{where}.response.status.code")
    message = status.get("message") or ""
    if not isinstance(message, str):
        raise r.fail(f"{where}.response.status.message", f"expected a string, found {_kind(message)}")
    body_field = resp.get("body")
    if isinstance(body_field, dict) and BLOB_KEY in body_field:
        resp_body = r.body(body_field, f"{where}.response.body")
    elif isinstance(body_field, dict):
        resp_body = r.body(body_field.get("string"), f"{where}.response.body.string")
    else:
        resp_body = r.body(body_field, f"{where}.response.body")

    findings_data = gt.get("findings") or []
    if not isinstance(findings_data, list):
        raise r.fail(f"{where}.graphtape.findings", f"expected a list, found {_kind(findings_data)}")
    findings: list[Finding] = []
    for i, fd in enumerate(findings_data):
        try:
            findings.append(Finding.from_dict(r.mapping(fd, f"{where}.graphtape.findings[{i}]")))
        except (KeyError, ValueError) as exc:
            if isinstance(exc, CassetteFormatError):
                raise
            raise r.fail(f"{where}.graphtape.findings[{i}]", f"not a finding: {exc}") from None

    def opt_str(key: str) -> str | None:
        value = gt.get(key)
        if value is not None and not isinstance(value, str):
            raise r.fail(f"{where}.graphtape.{key}", f"expected a string, found {_kind(value)}")
        return value

    meta = InteractionMeta(
        route=opt_str("route"),
        route_template=opt_str("route_template"),
        recorded_at=opt_str("recorded_at"),
        findings=tuple(findings),
        extra=tuple((k, v) for k, v in gt.items() if k not in _KNOWN_META),
    )
    request = Request(
        method=r.string(r.key(req, "method", f"{where}.request"), f"{where}.request.method").upper(),
        uri=r.string(r.key(req, "uri", f"{where}.request"), f"{where}.request.uri"),
        headers=r.headers(req.get("headers"), gt.get("request_header_order"), f"{where}.request.headers"),
        body=r.body(req.get("body"), f"{where}.request.body"),
    )
    response = Response(
        status_code=code,
        reason=message,
        headers=r.headers(resp.get("headers"), gt.get("response_header_order"), f"{where}.response.headers"),
        body=resp_body,
    )
    for key, problem in response_problems(response, request.method):  # replay would send it as it is
        raise r.fail(f"{where}.response.{key}", f"cannot be replayed: {problem}")
    return Interaction(request=request, response=response, meta=meta)


def parse_cassette(raw: bytes, source: str, blobs: BlobStore | None = None) -> Cassette:
    """Parse cassette bytes (already read) from ``source`` (used in error messages).

    ``blobs`` reads bodies kept in files beside the cassette; without it such a
    cassette is an error.
    """
    return _cassette_from_data(_yaml_data(raw, source), source, blobs)


def _yaml_data(raw: bytes | BinaryIO, source: str) -> Any:
    """The parsed document of ``raw``: the cassette's bytes, or a file already known to hold no "&".

    A file is streamed through libyaml, so a big cassette's text is never all in memory
    next to the strings parsed from it.
    """
    has_anchors = False
    if isinstance(raw, bytes):
        if len(raw) > MAX_CASSETTE_BYTES:
            raise CassetteFormatError(source, "", f"{len(raw)} bytes is over the {MAX_CASSETTE_BYTES}-byte "
                                      "limit (set GRAPHTAPE_MAX_CASSETTE_BYTES to allow it)")
        # memchr first: the regex is costly on megabytes of base64, and most cassettes hold no "&" at all.
        has_anchors = b"&" in raw and _ANCHOR.search(raw) is not None
        if has_anchors:
            _refuse_alias_bombs(raw, source)
    try:
        return yaml.load(raw, Loader=_Loader) if has_anchors else _load_plain(raw)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = " ".join(p for p in (exc.context, exc.problem) if p) or str(exc)
        raise CassetteFormatError(source, where, f"not a readable cassette: {problem}") from None
    except yaml.YAMLError as exc:
        raise CassetteFormatError(source, "", f"not a readable cassette: {exc}") from None
    except RecursionError:
        raise CassetteFormatError(source, "", "nesting too deep") from None
    except ValueError as exc:  # a scalar the constructor rejects, e.g. an integer of 5,000 digits
        raise CassetteFormatError(source, "", f"not a readable cassette: {exc}") from None


def _load_plain(raw: bytes | BinaryIO) -> Any:
    """What ``yaml.load(raw, Loader=_Loader)`` returns, for a document without anchors, faster.

    libyaml composes the node tree in C; PyYAML's constructor then spends most of a
    load in generic Python bookkeeping. Strings, mappings and lists (nearly every
    node of a cassette) are built here directly; every other node (numbers, null,
    ``!!binary``, merge keys, unhashable keys) goes through the safe constructor
    itself, so the result and the errors are the same.
    """
    loader = _Loader(raw)
    try:
        node = loader.get_single_node()
        return None if node is None else _construct(node, loader)
    finally:
        loader.dispose()


def _construct(node: yaml.Node, loader: Any) -> Any:
    cls, tag = node.__class__, node.tag
    if cls is yaml.ScalarNode and tag == _STR_TAG:
        return node.value
    if cls is yaml.MappingNode and tag == _MAP_TAG and not any(k.tag == _MERGE_TAG for k, _ in node.value):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _construct(key_node, loader)
            try:
                if key in out:
                    raise _duplicate(key, key_node)
                out[key] = _construct(value_node, loader)
            except TypeError:  # an unhashable key: let the constructor raise its usual error
                return loader.construct_object(node, deep=True)
        return out
    if cls is yaml.SequenceNode and tag == _SEQ_TAG:
        return [_construct(child, loader) for child in node.value]
    return loader.construct_object(node, deep=True)


def _refuse_alias_bombs(raw: bytes, source: str) -> None:
    """Refuse a document whose aliases would expand it past MAX_ALIAS_EXPANSION nodes (or use too many).

    What costs memory is not the number of aliases but what they expand to once built:
    nine aliases of nine-element lists of aliases are a few hundred bytes and a billion
    nodes. So the size of every anchored node is computed from the event stream (an
    alias costs the full size of what it names) and the total is bounded.
    """
    aliases = 0
    sizes: dict[str, int] = {}
    open_nodes: list[tuple[str | None, int]] = []  # (anchor, nodes inside so far) per open collection
    total = 0

    def add(n: int, event: Any, counted: bool = False) -> None:
        """``n`` more nodes in the open collection (and in the document, unless already ``counted``)."""
        nonlocal total
        if open_nodes:
            anchor, inside = open_nodes[-1]
            open_nodes[-1] = (anchor, inside + n)
        if counted:
            return
        total += n
        if total > MAX_ALIAS_EXPANSION + scanned:
            line = event.start_mark.line + 1 if event.start_mark else 0
            raise CassetteFormatError(source, f"line {line}", f"YAML aliases expand the document past "
                                      f"{MAX_ALIAS_EXPANSION} extra nodes: refusing a possible alias bomb")

    scanned = 0  # nodes actually written in the file: aliases may add MAX_ALIAS_EXPANSION to those
    try:
        for event in yaml.parse(raw, Loader=_Loader):
            if isinstance(event, yaml.AliasEvent):
                aliases += 1
                line = event.start_mark.line + 1 if event.start_mark else 0
                if aliases > MAX_ALIASES:
                    raise CassetteFormatError(
                        source, f"line {line}", f"more than {MAX_ALIASES} YAML aliases: refusing a possible alias bomb"
                    )
                add(sizes.get(event.anchor or "", 1), event)
            elif isinstance(event, yaml.ScalarEvent):
                scanned += 1
                add(1, event)
                if event.anchor:
                    sizes[event.anchor] = 1
            elif isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                scanned += 1
                total += 1
                open_nodes.append((event.anchor, 1))
            elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)) and open_nodes:
                anchor, inside = open_nodes.pop()
                if anchor:
                    sizes[anchor] = inside
                add(inside, event, counted=True)
    except yaml.YAMLError:
        return  # the real load reports syntax errors with their line


def _cassette_from_data(data: Any, source: str, blobs: BlobStore | None) -> Cassette:
    r = _Reader(source, blobs)
    if data is None:
        raise r.fail("", "the file is empty")
    top = r.mapping(data, "(top level)")
    version = r.key(top, "version", "")
    if type(version) is not int or version != FORMAT_VERSION:  # True == 1 and 1.0 == 1 in Python
        raise r.fail("version", f"unsupported cassette version {version!r}; graphtape reads version {FORMAT_VERSION}")
    meta = top.get("graphtape") or {}
    meta = r.mapping(meta, "graphtape")
    fmt = meta.get("format", GRAPHTAPE_FORMAT)
    if not isinstance(fmt, int) or fmt > GRAPHTAPE_FORMAT:
        raise r.fail("graphtape.format", f"written by a newer graphtape (format {fmt!r}); this one reads "
                     f"format {GRAPHTAPE_FORMAT}")
    items = r.key(top, "interactions", "")
    if not isinstance(items, list):
        raise r.fail("interactions", f"expected a list, found {_kind(items)}")
    interactions = []
    for i in range(len(items)):
        interactions.append(interaction_from_data(items[i], f"interactions[{i}]", source, blobs))
        items[i] = None  # free each item's text once its bodies are built: peak memory stays ~2x the file
    return Cassette(interactions=interactions, meta=dict(meta))


def load_cassette(path: str | os.PathLike[str]) -> Cassette:
    """Read a cassette file. Errors name the file and the line or key at fault.

    Only a regular file is read (a FIFO or a device is refused before a byte is read), and
    never more than MAX_CASSETTE_BYTES of it, counted as read (a sparse or growing file too).
    """
    p = Path(path)

    def fail(problem: str) -> CassetteFormatError:
        if "limit" in problem:
            problem += " (set GRAPHTAPE_MAX_CASSETTE_BYTES to allow it)"
        return CassetteFormatError(p, "", problem)

    fh = open_regular(p, fail, MAX_CASSETTE_BYTES)
    with fh:
        capped = CappedReader(fh, MAX_CASSETTE_BYTES, fail)
        try:
            # No "&", no anchor: stream the file. Otherwise read it whole for the alias-bomb check.
            source: bytes | Any = capped.fh.read(MAX_CASSETTE_BYTES + 1) if _holds_byte(capped, b"&") else capped
            if isinstance(source, bytes) and len(source) > MAX_CASSETTE_BYTES:
                raise fail(f"holds more than the {MAX_CASSETTE_BYTES}-byte limit")
        except OSError as exc:
            raise CassetteFormatError(p, "", f"cannot be read: {exc.strerror or exc}") from None
        data = _yaml_data(source, str(p))
        del source
    return _cassette_from_data(data, str(p), BlobStore(p))


def _holds_byte(capped: CappedReader, byte: bytes) -> bool:
    """Whether the file holds ``byte`` anywhere (reading no more than its cap); leaves it at its start."""
    found = False
    while chunk := capped.read(1 << 20):
        if byte in chunk:
            found = True
            break
    capped.fh.seek(0)
    capped.count = 0
    return found
