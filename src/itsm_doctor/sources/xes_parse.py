"""XES events as Arrow batches, parsed in chunks of whole traces, in up to two processes.

The file is cut at ``</trace>`` ends into chunks of about ``CHUNK_BYTES``; each chunk is read
by one of three paths that give the same rows:

- the **plain path** (most logs): a chunk made only of ``<trace>``, ``<event>`` and one-line
  attribute elements (``<string key="…" value="…"/>`` and the other typed ones, XML escapes in
  values) is read with ``str.split`` and one regular expression per event, in C — a quarter of
  what lxml takes;
- the **lxml path**: any other chunk (nested ``<list>``/``<container>``, odd spacing, text) is
  parsed by lxml, wrapped in the log's own head and tail;
- the **streaming path**: a file that cannot be cut (a DOCTYPE, an encoding other than UTF-8,
  an event outside the traces before the first one, no ``<trace>``), or of which a chunk does not
  parse, is read whole by ``lxml.iterparse`` — that path is the reference: it says where the XML
  is malformed.

Each event gives one row of ``HEADER`` cells, in file order: its trace's ``concept:name``, its
own six standard attributes (the last of each), every other attribute as JSON (``{"key":
"value"}``, first key order, last value), and its trace's other attributes as JSON — all of the
trace's own attribute elements, before or after its events.
"""

from __future__ import annotations

import contextlib
import gc
import gzip
import io
import json
import os
import pickle
import queue
import re
import subprocess
import sys
import threading
import traceback
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any

import pyarrow as pa
from lxml import etree

__all__ = ["CHUNK_BYTES", "HEADER", "Malformed", "event_batches", "stream_batches"]

HEADER = ("case", "activity", "timestamp", "resource", "group", "role", "lifecycle", "attributes", "trace attributes")
_STANDARD = ("concept:name", "time:timestamp", "org:resource", "org:group", "org:role", "lifecycle:transition")
CHUNK_BYTES = 8 << 20
_STREAM_BATCH = 200_000
# files smaller than this are read in this process: a worker costs about half a second to start
_POOL_FROM = 48 << 20

Row = tuple[str | None, ...]


class Malformed(Exception):
    """A chunk lxml cannot parse: the file is read again by the streaming path, which names the line."""


# -- the plain path -------------------------------------------------------------------------
_S = "[ \t\r\n]"
_VALUE = '[^"<\x00-\x1f]*'  # no literal tab or line break: XML would turn them into spaces
_ATTR = re.compile(f'<(?:string|date|int|float|boolean|id){_S}+key="({_VALUE})"{_S}+value="({_VALUE})"{_S}*/>')
# the control characters XML 1.0 refuses (U+FFFE and U+FFFF are looked for in UTF-8)
_CONTROL = bytes(range(9)) + b"\x0b\x0c" + bytes(range(14, 32))
# text outside tags (after a ">", before the next "<"); a ">" inside an attribute value matches
# too, and merely sends the chunk to lxml
_TEXT = re.compile("[>][ \t\r\n]*[^< \t\r\n]")
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
    if len(data.translate(None, _CONTROL)) != len(data) or b"\xef\xbf\xbe" in data or b"\xef\xbf\xbf" in data:
        raise _Refused
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
    if traces[0].strip():
        raise _Refused
    rows: list[Row] = []
    append = rows.append
    for t in traces[1:]:
        body, end, after = t.rpartition("</trace>")
        if not end or after.strip():
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


# -- cutting the file -------------------------------------------------------------------------
_TRACE = re.compile(rb"<trace[ \t\r\n>]")
_END = b"</trace>"


def _head_tail(head: bytes, tail: bytes) -> bool:
    """Whether the bytes before the first trace and after the last make a log the chunks may be
    wrapped in: well-formed together, UTF-8, without a DOCTYPE (its entities could be used in the
    traces) or an event (a comment holding "<trace" ends the head inside it: not well-formed)."""
    if b"<!DOCTYPE" in head:
        return False
    try:
        root = etree.fromstring(head + tail, etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError:
        return False
    encoding = (root.getroottree().docinfo.encoding or "UTF-8").upper()
    return encoding in ("UTF-8", "UTF8") and next(root.iter("{*}event"), None) is None


def _cut_plain(path: Path, chunk: int) -> tuple[bytes, bytes, list[tuple[int, int]]] | None:
    """(head, tail, chunks as (offset, length)) of an uncompressed log, or None: read it whole."""
    size = path.stat().st_size
    with path.open("rb") as fh:
        first = fh.read(1 << 20)
        m = _TRACE.search(first)
        if m is None:
            return None
        start = m.start()
        fh.seek(max(0, size - (1 << 20)))
        last = fh.read()
        end_at = last.rfind(_END)
        if end_at < 0:
            return None
        stop = max(0, size - (1 << 20)) + end_at + len(_END)
        fh.seek(stop)
        tail = fh.read()
        head = first[:start]
        if stop <= start or not _head_tail(head, tail):
            return None
        chunks: list[tuple[int, int]] = []
        at = start
        while at < stop:
            want = at + chunk
            if want >= stop:
                chunks.append((at, stop - at))
                break
            fh.seek(want)
            window = fh.read(1 << 20)
            found = window.find(_END)
            while found < 0 and len(window) and want + len(window) < stop:
                more = fh.read(1 << 20)
                if not more:
                    break
                window += more
                found = window.find(_END)
            if found < 0:
                chunks.append((at, stop - at))
                break
            cut = min(want + found + len(_END), stop)
            chunks.append((at, cut - at))
            at = cut
    return head, tail, chunks


def _cut_gzip(path: Path, chunk: int) -> Iterator[bytes]:
    """The decompressed log in pieces that end at a ``</trace>`` (the first holds the head, the
    last the tail); raises ``Malformed`` when the stream is damaged."""
    buffer = b""
    try:
        with gzip.open(path, "rb") as fh:
            while block := fh.read(chunk):
                buffer += block
                cut = buffer.rfind(_END)
                if cut >= 0:
                    cut += len(_END)
                    yield buffer[:cut]
                    buffer = buffer[cut:]
    except (OSError, EOFError, zlib.error):
        raise Malformed from None
    yield buffer


# -- reading chunks ----------------------------------------------------------------------------
def _chunk_table(data: bytes, head: bytes, tail: bytes) -> pa.Table:
    """The rows of one chunk of whole traces: the plain path, else lxml on the wrapped chunk."""
    try:
        rows = _plain_rows(data)
    except _Refused:
        try:
            rows = list(_lxml_rows(io.BytesIO(head + data + tail)))
        except etree.XMLSyntaxError:
            raise Malformed from None
    return _table(rows)


def _file_chunk(path: str, offset: int, length: int, head: bytes, tail: bytes) -> pa.Table:
    with open(path, "rb") as fh:
        fh.seek(offset)
        data = fh.read(length)
    return _chunk_table(data, head, tail)


def _task(task: tuple[Any, ...]) -> pa.Table:
    """A chunk's table: ``(bytes, head, tail)`` or ``(path, offset, length, head, tail)``."""
    return _chunk_table(*task) if len(task) == 3 else _file_chunk(*task)


def _task_ipc(task: tuple[Any, ...]) -> bytes:
    """A worker's answer: the chunk's table as an Arrow IPC stream."""
    table = _task(task)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue())


def _is_gzip(path: Path) -> bool:
    with path.open("rb") as fh:
        return fh.read(2) == b"\x1f\x8b"


def _gzip_size(path: Path) -> int:
    """The uncompressed size a gzip file states in its last four bytes (modulo 4 GiB)."""
    if path.stat().st_size < 4:
        return 0
    with path.open("rb") as fh:
        fh.seek(-4, os.SEEK_END)
        return int.from_bytes(fh.read(4), "little")


def default_processes() -> int:
    """Processes that parse a large log: two (one on a single core); ``ITSM_DOCTOR_XES_PROCESSES`` sets it."""
    told = os.environ.get("ITSM_DOCTOR_XES_PROCESSES", "")
    if told.isdigit() and int(told) > 0:
        return int(told)
    return max(1, min(2, os.cpu_count() or 1))


def event_batches(path: Path, *, processes: int | None = None, chunk_bytes: int = CHUNK_BYTES) -> Iterator[pa.Table]:
    """The log's rows as Arrow tables (columns ``c0``… of ``HEADER``), in file order.

    Raises ``Malformed`` when the file cannot be cut or a chunk does not parse: read it with
    ``stream_batches`` then (it names the line). Logs from 48 MB (uncompressed) are parsed in
    ``processes`` worker processes (``default_processes()``); given explicitly, at any size."""
    procs = default_processes() if processes is None else processes
    gz = _is_gzip(path)
    big = processes is not None or max(path.stat().st_size, _gzip_size(path) if gz else 0) >= _POOL_FROM
    tasks = _gzip_tasks(path, chunk_bytes) if gz else _plain_tasks(path, chunk_bytes)
    yield from _run(tasks, procs if big else 1)


def _plain_tasks(path: Path, chunk_bytes: int) -> Iterator[tuple[Any, ...]]:
    cut = _cut_plain(path, chunk_bytes)
    if cut is None:
        raise Malformed
    head, tail, chunks = cut
    for offset, length in chunks:
        yield (str(path), offset, length, head, tail)


def _root_end(head: bytes) -> bytes | None:
    """The end tag of the log's root element (``</log>``), from the head."""
    root = re.search(rb"<([A-Za-z_][\w.:-]*)", re.sub(rb"<!--.*?-->|<\?.*?\?>", b"", head, flags=re.S))
    return b"</" + root.group(1) + b">" if root else None


def _gzip_tasks(path: Path, chunk_bytes: int) -> Iterator[tuple[Any, ...]]:
    """Tasks of (piece, head, tail) for a gzip'd log. The tail is known at the end only: the
    pieces before the last are wrapped in the root's end tag for lxml, and the tail is checked
    with the head once read."""
    pieces = _cut_gzip(path, chunk_bytes)
    first = next(pieces, b"")
    m = _TRACE.search(first)
    if m is None or b"<!DOCTYPE" in first[: m.start()]:
        raise Malformed
    head = first[: m.start()]
    root_end = _root_end(head)
    if root_end is None:
        raise Malformed
    prev = first[m.start() :]
    for piece in pieces:
        yield (prev, head, root_end)
        prev = piece
    cut = prev.rfind(_END)
    body, tail = (b"", prev) if cut < 0 else (prev[: cut + len(_END)], prev[cut + len(_END) :])
    if not _head_tail(head, tail):
        raise Malformed
    if body:
        yield (body, head, tail)


def _run(tasks: Iterator[tuple[Any, ...]], processes: int) -> Iterator[pa.Table]:
    """The tasks' tables in task order, read by ``processes`` workers (``_Workers``)."""
    if processes <= 1:
        for task in tasks:
            yield _task(task)
        return
    with _Workers(processes) as workers:
        yield from workers.map(tasks)


class _Workers:
    """Worker processes reading chunks: ``python -c`` children (never a fork of this process,
    which runs DuckDB's threads, nor multiprocessing's spawn, which would import the caller's
    ``__main__`` again), each fed pickled tasks on its stdin by a thread of its own and
    answering Arrow IPC streams on its stdout, in order."""

    def __init__(self, n: int) -> None:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
        code = "from itsm_doctor.sources.xes_parse import _serve; _serve()"
        self.procs = [
            subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
            for _ in range(n)
        ]
        self.queues: list[queue.Queue[tuple[Any, ...] | None]] = [queue.Queue() for _ in range(n)]
        self.threads = [
            threading.Thread(target=self._feed, args=(p, q), daemon=True)
            for p, q in zip(self.procs, self.queues, strict=True)
        ]
        for t in self.threads:
            t.start()

    @staticmethod
    def _feed(proc: subprocess.Popen[bytes], tasks: queue.Queue[tuple[Any, ...] | None]) -> None:
        assert proc.stdin is not None
        try:
            while (task := tasks.get()) is not None:
                pickle.dump(task, proc.stdin, protocol=pickle.HIGHEST_PROTOCOL)
                proc.stdin.flush()
        except (BrokenPipeError, OSError):
            pass  # the worker ended: its reader says why
        finally:
            with contextlib.suppress(OSError):
                proc.stdin.close()

    def map(self, tasks: Iterator[tuple[Any, ...]]) -> Iterator[pa.Table]:
        n = len(self.procs)
        sent = got = 0
        for task in tasks:
            self.queues[sent % n].put(task)
            sent += 1
            if sent - got >= 2 * n:  # twice as many tasks in flight as workers: memory stays flat
                yield self._answer(got % n)
                got += 1
        while got < sent:
            yield self._answer(got % n)
            got += 1

    def _answer(self, k: int) -> pa.Table:
        out = self.procs[k].stdout
        assert out is not None
        try:
            kind, payload = pickle.load(out)
        except (EOFError, pickle.UnpicklingError):
            kind, payload = "error", "ended"
        if kind != "ok":
            # a chunk lxml cannot parse, or a worker that failed (its traceback is on stderr): the
            # streaming path reads the file in this process, and says what is wrong with it
            raise Malformed(payload)
        return pa.ipc.open_stream(payload).read_all()

    def __enter__(self) -> _Workers:
        return self

    def __exit__(self, kind: object, *exc: object) -> None:
        for q in self.queues:
            q.put(None)
        for p in self.procs:
            if kind is not None:  # stopped early: the tasks still queued are of no use
                p.kill()
            if p.stdout is not None:
                p.stdout.close()
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def _serve() -> None:
    """A worker's loop: tasks from stdin, answers to stdout, until stdin ends."""
    gc.disable()  # the rows hold no cycle, and the collector walked every tuple of a chunk again and again
    src, dst = sys.stdin.buffer, sys.stdout.buffer
    while True:
        try:
            task = pickle.load(src)
        except EOFError:
            return
        try:
            answer: tuple[str, Any] = ("ok", _task_ipc(task))
        except Malformed:
            answer = ("malformed", None)
        except Exception as exc:  # the parent reads the file again by the streaming path
            traceback.print_exc()
            answer = ("error", f"{type(exc).__name__}: {exc}")
        try:
            pickle.dump(answer, dst, protocol=pickle.HIGHEST_PROTOCOL)
            dst.flush()
        except BrokenPipeError:
            return
