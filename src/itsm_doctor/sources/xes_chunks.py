"""XES logs cut into chunks of whole traces, read in order by up to two worker processes.

The file is cut at ``</trace>`` ends into chunks of about ``CHUNK_BYTES`` (a byte scan; a gzip'd
log is decompressed once, here); each chunk is read by ``xes_parse.chunk_table`` (its plain path,
else lxml on the chunk wrapped in the log's own head and tail). A log that cannot be cut — a
DOCTYPE, an encoding other than UTF-8, an event outside the traces before the first one, no
``<trace>`` — or of which a chunk does not parse raises ``Malformed``: the caller reads it whole by
``xes_parse.stream_batches``, the reference, which names the line where the XML is malformed.

Logs from 48 MB (uncompressed) are read by ``default_processes()`` workers: ``python -c`` children
(never a fork of this process, which runs DuckDB's threads, nor multiprocessing's spawn, which
would import the caller's ``__main__`` again), each fed pickled tasks on its stdin by a thread of
its own and answering Arrow IPC streams on its stdout, in order.
"""

from __future__ import annotations

import contextlib
import gc
import gzip
import os
import pickle
import queue
import re
import subprocess
import sys
import threading
import traceback
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
from lxml import etree

from itsm_doctor.sources.files import is_gzip
from itsm_doctor.sources.xes_parse import Malformed, chunk_table

__all__ = ["CHUNK_BYTES", "default_processes", "event_batches"]

CHUNK_BYTES = 4 << 20  # about 16 k events; 8 MB took as long and 35 MB more in each worker
# files smaller than this are read in this process: a worker costs about half a second to start
_POOL_FROM = 48 << 20


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


def _file_chunk(path: str, offset: int, length: int, head: bytes, tail: bytes) -> pa.Table:
    with open(path, "rb") as fh:
        fh.seek(offset)
        data = fh.read(length)
    return chunk_table(data, head, tail)


def _task(task: tuple[Any, ...]) -> pa.Table:
    """A chunk's table: ``(bytes, head, tail)`` or ``(path, offset, length, head, tail)`` of a log."""
    return chunk_table(*task) if len(task) == 3 else _file_chunk(*task)


def _task_ipc(task: tuple[Any, ...]) -> bytes:
    """A worker's answer: the chunk's table as an Arrow IPC stream."""
    table = _task(task)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue())


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


def event_batches(path: Path, *, processes: int | None = None, chunk_bytes: int | None = None) -> Iterator[pa.Table]:
    """The log's rows as Arrow tables (columns ``c0``… of ``HEADER``), in file order.

    Raises ``Malformed`` when the file cannot be cut or a chunk does not parse: read it with
    ``stream_batches`` then (it names the line). Logs from 48 MB (uncompressed) are parsed in
    ``processes`` worker processes (``default_processes()``); given explicitly, at any size."""
    procs = default_processes() if processes is None else processes
    gz = is_gzip(path)
    big = processes is not None or max(path.stat().st_size, _gzip_size(path) if gz else 0) >= _POOL_FROM
    size = chunk_bytes or CHUNK_BYTES
    tasks = _gzip_tasks(path, size) if gz else _plain_tasks(path, size)
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
    if root_end is None or not _head_tail(head, root_end):  # the head alone, closed: checked again with the tail
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
    workers = None
    if processes > 1:
        try:
            workers = _Workers(processes)
        except OSError:  # no interpreter to start (an embedded Python): read the chunks here
            workers = None
    if workers is None:
        for task in tasks:
            yield _task(task)
        return
    with workers:
        yield from workers.map(tasks)


class _Workers:
    """Worker processes reading chunks: ``python -c`` children (never a fork of this process,
    which runs DuckDB's threads, nor multiprocessing's spawn, which would import the caller's
    ``__main__`` again), each fed pickled tasks on its stdin by a thread of its own and
    answering Arrow IPC streams on its stdout, in order."""

    def __init__(self, n: int) -> None:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
        code = "from itsm_doctor.sources.xes_chunks import _serve; _serve()"
        self.procs: list[subprocess.Popen[bytes]] = []
        try:
            for _ in range(n):
                pipes = {"stdin": subprocess.PIPE, "stdout": subprocess.PIPE}
                self.procs.append(subprocess.Popen([sys.executable, "-c", code], env=env, **pipes))  # type: ignore[call-overload]
        except OSError:
            for p in self.procs:
                p.kill()
                p.wait()
            raise
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
