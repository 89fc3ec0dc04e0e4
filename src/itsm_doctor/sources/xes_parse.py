"""XES events as rows and Arrow tables: the three ways of reading them, which give the same rows.

- the **plain path** (most logs): a chunk of whole traces made only of ``<trace>``, ``<event>``
  and one-line typed attribute elements (``<string key="…" value="…"/>``, date, int, float,
  boolean, id; XML escapes in values) is read with ``str.split`` and one regular expression per
  event. It accepts a chunk only when every ``<`` belongs to one of those tags, no text stands
  between tags and no character XML refuses appears, so what it accepts an XML parser reads the
  same way; it refuses anything else rather than guess;
- the **lxml path**: a refused chunk (a nested ``<list>``/``<container>``, odd spacing, a comment)
  is parsed by lxml, wrapped in the log's own head and tail (``chunk_table``);
- the **streaming path** (``stream_batches``): the whole file by ``lxml.iterparse`` — the reference,
  used for a log that cannot be cut into chunks (``xes_chunks``) or of which a chunk does not
  parse; its errors name the line.

Each event gives one row of ``HEADER`` cells, in file order: its trace's ``concept:name``, its
own six standard attributes (the last of each), every other attribute as JSON (``{"key":
"value"}``, first key order, last value), and its trace's other attributes as JSON — all of the
trace's own attribute elements, before or after its events.
"""

from __future__ import annotations

import gzip
import io
import json
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any

import pyarrow as pa
from lxml import etree

__all__ = ["HEADER", "Malformed", "chunk_table", "stream_batches"]

HEADER = ("case", "activity", "timestamp", "resource", "group", "role", "lifecycle", "attributes", "trace attributes")
_STANDARD = ("concept:name", "time:timestamp", "org:resource", "org:group", "org:role", "lifecycle:transition")
_STREAM_BATCH = 200_000

Row = tuple[str | None, ...]


class Malformed(Exception):
    """The log cannot be read in chunks (it cannot be cut, a chunk does not parse, a worker failed):
    read it whole by the streaming path, which names the line where the XML is malformed."""


# -- the plain path -------------------------------------------------------------------------
_SPACE = " \t\r\n"  # XML's white space (str.strip's is wider: it takes some control characters)
_S = "[ \t\r\n]"
# no character XML refuses; no literal tab or line break either (XML would turn them into spaces)
_VALUE = '[^"<\x00-\x1f\ufffe\uffff]*'
_ATTR = re.compile(f'<(?:string|date|int|float|boolean|id){_S}+key="({_VALUE})"{_S}+value="({_VALUE})"{_S}*/>')
# text outside tags (after a tag's ">", before the next "<"), a character XML refuses among them.
# The tags the plain path reads end in "/>", "event>" or "trace>"; a value holding one of those
# followed by text matches too, and merely sends the chunk to lxml ("A -> B" does not). Every other
# place a character could stand is a tag or a value, which the attribute pattern checks.
_TEXT = re.compile("[>](?<=[/te]>)[ \t\r\n]*[^< \t\r\n]")
_REF = re.compile(r"&(?:(lt|gt|amp|quot|apos)|#([0-9]{1,7})|#x([0-9a-fA-F]{1,6}));")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'"}


class _Refused(Exception):
    """The plain path does not read this chunk (lxml will)."""


def _char(m: re.Match[str]) -> str:
    if m.group(1):
        return _NAMED[m.group(1)]
    code = int(m.group(2)) if m.group(2) else int(m.group(3), 16)
    if not (
        code in (0x9, 0xA, 0xD) or 0x20 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD or 0x10000 <= code <= 0x10FFFF
    ):
        raise _Refused  # not an XML character: lxml reports it
    return chr(code)


def _unescape(text: str) -> str:
    if "&" not in text:
        return text
    if len(_REF.findall(text)) != text.count("&"):
        raise _Refused  # an entity of a DOCTYPE, or a bare "&"
    return _REF.sub(_char, text)


def _unescaped(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(_unescape(k), _unescape(v)) for k, v in pairs]


def _attrs(segment: str) -> list[tuple[str, str]]:
    """The attribute elements of a segment holding nothing else (every "<" one of them)."""
    if "<" not in segment:
        return []
    pairs: list[tuple[str, str]] = _ATTR.findall(segment)
    if len(pairs) != segment.count("<"):
        raise _Refused
    return pairs


def _plain_rows(data: bytes) -> list[Row]:
    """The rows of a chunk of whole traces, or ``_Refused`` when the chunk is not plain."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise _Refused from None
    if _TEXT.search(text):
        raise _Refused
    escaped = "&" in text
    findall = _ATTR.findall
    dumps = json.dumps
    traces = text.split("<trace>")
    if traces[0].strip(_SPACE):
        raise _Refused
    rows: list[Row] = []
    append = rows.append
    for t in traces[1:]:
        body, end, after = t.rpartition("</trace>")
        if not end or after.strip(_SPACE):
            raise _Refused
        parts = body.split("<event>")
        own = _attrs(parts[0])
        events: list[list[tuple[str, str]]] = []
        for part in parts[1:]:
            ev, close, rest = part.partition("</event>")
            if not close:
                raise _Refused
            pairs: list[tuple[str, str]] = findall(ev)
            if len(pairs) != ev.count("<"):
                raise _Refused
            if "<" in rest:
                own = own + _attrs(rest)
            events.append(_unescaped(pairs) if escaped else pairs)
        trace = dict(_unescaped(own) if escaped else own)
        case = trace.pop("concept:name", None)
        trace_json = dumps(trace, ensure_ascii=False) if trace else None
        for pairs in events:
            d = dict(pairs)
            pop = d.pop
            append(
                (
                    case,
                    pop("concept:name", None),
                    pop("time:timestamp", None),
                    pop("org:resource", None),
                    pop("org:group", None),
                    pop("org:role", None),
                    pop("lifecycle:transition", None),
                    dumps(d, ensure_ascii=False) if d else None,
                    trace_json,
                )
            )
    return rows


# -- the lxml paths ---------------------------------------------------------------------------
def _local(tag: Any) -> str:
    return str(tag).rsplit("}", 1)[-1]


def _json(d: dict[str, str | None]) -> str | None:
    if not d:
        return None
    return json.dumps({k: v or "" for k, v in d.items()}, ensure_ascii=False)


def _event_row(el: Any) -> list[str | None]:
    """An event element's row, its trace's cells (0 and 8) left empty."""
    d: dict[str, str | None] = {}
    for child in el:
        key = child.get("key") if isinstance(child.tag, str) else None
        if key is not None:
            d[key] = child.get("value")
    pop = d.pop
    return [None, *(pop(k, None) for k in _STANDARD), _json(d), None]


def _trace_cells(trace: Any) -> tuple[str | None, str | None]:
    """(case, the other attributes as JSON) of a whole trace element."""
    d: dict[str, str | None] = {}
    for child in trace:
        if not isinstance(child.tag, str) or _local(child.tag) == "event":
            continue
        key = child.get("key")
        if key is not None:
            d[key] = child.get("value")
    case = d.pop("concept:name", None)
    return case, _json(d)


def _lxml_rows(stream: IO[bytes]) -> Iterator[Row]:
    """Rows by ``lxml.iterparse``, in the order events end. An event of a trace waits for the
    trace's end (the trace's attributes may follow it), and so do the events after it; a
    finished trace is cleared and dropped from the log."""
    pending: list[list[Any]] = []  # [row, the trace it waits for, or None once complete]
    for _action, el in etree.iterparse(stream, events=("end",), tag=("{*}event", "{*}trace"), huge_tree=True):
        parent = el.getparent()
        if _local(el.tag) == "trace":
            case, trace_json = _trace_cells(el)
            for entry in pending:
                if entry[1] is el:
                    entry[0][0], entry[0][8], entry[1] = case, trace_json, None
            done = 0
            while done < len(pending) and pending[done][1] is None:
                done += 1
            for entry in pending[:done]:
                yield tuple(entry[0])
            del pending[:done]
            el.clear()
            while parent is not None and el.getprevious() is not None:
                del parent[0]
            continue
        row = _event_row(el)
        el.clear()
        if parent is not None and _local(parent.tag) == "trace":
            pending.append([row, parent])
        elif pending:
            pending.append([row, None])
        else:
            yield tuple(row)
    for entry in pending:  # a trace that never ended: the parser has raised before
        yield tuple(entry[0])


def _table(rows: Sequence[Row]) -> pa.Table:
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in HEADER]
    # from lists: pyarrow reads a tuple of strings fifty times slower
    return pa.table({f"c{i}": pa.array(list(columns[i]), pa.string()) for i in range(len(HEADER))})


def _open(path: Path) -> IO[bytes]:
    with path.open("rb") as fh:
        gz = fh.read(2) == b"\x1f\x8b"
    stream: IO[bytes] = gzip.open(path, "rb") if gz else path.open("rb")  # type: ignore[assignment]  # noqa: SIM115
    return stream


def stream_batches(path: Path) -> Iterator[pa.Table]:
    """The streaming path: the whole file by lxml, in batches of rows.

    Raises ``etree.XMLSyntaxError`` (malformed XML) or ``OSError``/``EOFError`` (a damaged gzip)."""
    rows: list[Row] = []
    with _open(path) as fh:
        for row in _lxml_rows(fh):
            rows.append(row)
            if len(rows) >= _STREAM_BATCH:
                yield _table(rows)
                rows = []
    if rows:
        yield _table(rows)


# -- a chunk ---------------------------------------------------------------------------------
def chunk_table(data: bytes, head: bytes, tail: bytes) -> pa.Table:
    """The rows of one chunk of whole traces: the plain path, else lxml on the wrapped chunk."""
    try:
        rows = _plain_rows(data)
    except _Refused:
        try:
            rows = list(_lxml_rows(io.BytesIO(head + data + tail)))
        except etree.XMLSyntaxError:
            raise Malformed from None
    return _table(rows)
