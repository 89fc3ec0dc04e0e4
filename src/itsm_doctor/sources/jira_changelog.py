"""Jira's REST answers as a text table: every changelog item and every comment one row.

Read shapes: search results with ``expand=changelog`` (``{"issues": [{"key", "fields":
{"comment": {"comments": [...]}}, "changelog": {"histories": [...]}}]}``), one issue
(``{"key", "changelog": {...}}``), a list of issues, and the bulk changelog
(``{"issueChangeLogs": [{"issueId", "changeHistories": [...]}]}``, keyed by issue id, which the
CSV's ``Issue id`` column turns into the key). Comments carry their author and, from JSM,
``jsdPublic`` (false: an internal note).

A file past ``STREAM_BYTES`` (64 MiB) is not parsed whole (a 10 M-item changelog is about 2 GB
of JSON, ten times that as Python objects): it is cut between its issues (a gzip'd one in its
decompressed copy) and read by DuckDB (jira_changelog_sql); one that DuckDB does not read as whole,
typed issues is streamed, one issue at a time, so memory does not grow with the export. A smaller
file is parsed whole, which also tells a document nested too deep for a parser.
"""

from __future__ import annotations

import codecs
import gc
import gzip
import io
import json
import os
import re
import shutil
import tempfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

import ijson  # type: ignore[import-untyped]

from itsm_doctor.sources.base import FileReport, IntakeError, IntakeSession, RawTable
from itsm_doctor.sources.files import is_gzip
from itsm_doctor.sources.jira_changelog_sql import engine_table
from itsm_doctor.sources.xes_parse import Malformed

__all__ = ["HEADER", "is_changelog", "load_changelog"]

HEADER = (
    "record",
    "issue key",
    "issue id",
    "created",
    "author",
    "author id",
    "field",
    "from",
    "from string",
    "to",
    "to string",
    "public",
    "body",
    "id",
)
_MARKS = (b'"changelog"', b'"issueChangeLogs"', b'"changeHistories"', b'"histories"')
_PEEK = 1 << 20
_BATCH = 50_000  # rows handed to DuckDB at a time: the text rows never all sit in Python
STREAM_BYTES = 64 << 20
CHUNK_BYTES = 16 << 20  # bytes of the issues' array per run DuckDB reads (jira_changelog_sql)
_CHUNK = 16 << 20  # characters of a streamed changelog read at a time
_MAX_VALUE = 1 << 30  # an issue longer than this is no export (streaming holds one in memory)
_DECODER = json.JSONDecoder()
_WS = re.compile(r"[ \t\n\r]*")
_NOT_JIRA = (
    'not a Jira changelog: expected {"issues": [...]}, an issue {"key", "changelog"} or {"issueChangeLogs": [...]}'
)


def _open(path: Path) -> io.BufferedIOBase:
    """The file's bytes, decompressed when gzip."""
    return gzip.open(path, "rb") if is_gzip(path) else path.open("rb")


def is_changelog(path: Path) -> bool:
    """Whether ``path`` is a JSON file holding Jira changelogs (its first MiB names one)."""
    if not path.name.lower().endswith((".json", ".json.gz")) or path.name.startswith("."):
        return False
    try:
        with _open(path) as fh:
            peek = fh.read(_PEEK)
    except (OSError, EOFError):
        return False
    return peek.lstrip()[:1] in (b"{", b"[") and any(m in peek for m in _MARKS)


def _text(body: Any) -> str | None:
    """A comment body as plain text (API v2 gives a string, v3 an Atlassian document)."""
    if body is None or isinstance(body, str):
        return body
    parts: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("text"), str):
                parts.append(node["text"])
            for child in node.get("content") or []:
                walk(child)
            if node.get("type") == "paragraph":
                parts.append("\n")
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(body)
    return "".join(parts).strip() or None


def _str(value: Any) -> str | None:
    """A JSON value as text: a string as itself, a number as Python prints it, anything else
    (true, an object …) as its compact JSON text, as DuckDB's reader casts it (jira_changelog_sql)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _is_jira(data: Any) -> bool:
    if isinstance(data, dict):
        return bool({"issues", "issueChangeLogs", "changelog"} & set(data))
    return isinstance(data, list) and all(isinstance(x, dict) and "key" in x for x in data)


def _issues(data: Any) -> Iterator[tuple[str | None, str | None, dict[str, Any]]]:
    """(key, id, issue) for each issue of any of the read shapes."""
    if isinstance(data, dict) and "issueChangeLogs" in data:
        for log in data.get("issueChangeLogs") or []:
            yield None, _str(log.get("issueId")), {"changelog": {"histories": log.get("changeHistories") or []}}
        return
    issues = data.get("issues") if isinstance(data, dict) and "issues" in data else data
    if isinstance(issues, dict):
        issues = [issues]
    if not isinstance(issues, list):
        return
    for issue in issues:
        if isinstance(issue, dict):
            yield _str(issue.get("key")), _str(issue.get("id")), issue


def _shape(path: Path) -> str:
    """The top of a large changelog: ``list`` (of issues), ``issues`` (search results), ``bulk``
    (``issueChangeLogs``) or ``other`` (parsed whole). Reads only the tokens before the array."""
    with _open(path) as fh:
        for prefix, event, value in ijson.parse(fh):
            if prefix == "" and event == "start_array":
                return "list"
            if prefix == "" and event == "map_key" and value in ("issues", "issueChangeLogs"):
                return "issues" if value == "issues" else "bulk"
            if prefix == "" and event in ("end_map", "string", "number", "boolean", "null"):
                return "other"
    return "other"


class _Malformed(ValueError):
    """The text is no JSON of the expected shape."""


class _JsonStream:
    """A JSON text read ``_CHUNK`` characters at a time, whose top-level array (or the array under
    one top-level key) is decoded one element at a time by ``json``'s C scanner: one element in
    memory at a time, and no Python per token (ijson's events cost twice the decoding)."""

    def __init__(self, fh: io.TextIOBase) -> None:
        self._fh = fh
        self._buf = ""
        self._pos = 0
        self._eof = False

    def _more(self, at_least: int = 0) -> bool:
        chunk = self._fh.read(max(_CHUNK, at_least))
        if not chunk:
            self._eof = True
            return False
        self._buf = self._buf[self._pos :] + chunk
        self._pos = 0
        return True

    def _peek(self) -> str:
        """The next character past white space ('' at the end of the text)."""
        while True:
            self._pos = _WS.match(self._buf, self._pos).end()  # type: ignore[union-attr]
            if self._pos < len(self._buf) or not self._more():
                return self._buf[self._pos : self._pos + 1]

    def _expect(self, char: str) -> None:
        found = self._peek()
        if found != char:
            raise _Malformed(f"expected {char!r}, found {found or 'the end'!r}")
        self._pos += 1

    def _value(self) -> Any:
        self._peek()
        while True:
            try:
                value, end = _DECODER.raw_decode(self._buf, self._pos)
            except json.JSONDecodeError as exc:
                # cut by the chunk's end (an open string, or the last characters): read on, a
                # value longer than a chunk doubling it; a value that goes wrong earlier is wrong
                cut = len(self._buf) - exc.pos < 16 or exc.msg.startswith("Unterminated string")
                if cut and len(self._buf) - self._pos < _MAX_VALUE and self._more(len(self._buf) - self._pos):
                    continue
                raise
            # a number at the very end of the chunk may go on in the next one ("12" + "34")
            if end == len(self._buf) and not self._eof and self._more():
                continue
            self._pos = end
            return value

    def _array(self) -> Iterator[Any]:
        self._expect("[")
        if self._peek() == "]":
            self._pos += 1
            return
        while True:
            yield self._value()
            sep = self._peek()
            self._pos += 1
            if sep == "]":
                return
            if sep != ",":
                raise _Malformed(f"expected ',' or ']' in an array, found {sep or 'the end'!r}")

    def items(self, key: str | None) -> Iterator[Any]:
        """The elements of the top-level array (``key`` None) or of every top-level ``key``'s
        array; the text must end there."""
        if key is None:
            yield from self._array()
        else:
            self._expect("{")
            if self._peek() == "}":
                self._pos += 1
            else:
                while True:
                    name = self._value()
                    if not isinstance(name, str):
                        raise _Malformed("expected a key")
                    self._expect(":")
                    if name == key and self._peek() == "[":
                        yield from self._array()
                    else:
                        self._value()
                    sep = self._peek()
                    self._pos += 1
                    if sep == "}":
                        break
                    if sep != ",":
                        raise _Malformed(f"expected ',' or '}}' in an object, found {sep or 'the end'!r}")
        if self._peek():
            raise _Malformed("more text after the JSON document")


_KEYS = {"list": None, "issues": "issues", "bulk": "issueChangeLogs"}


class _NotAnIssue(Exception):
    """An element of a list changelog that is no issue (the document is no Jira changelog)."""


def _element(shape: str, item: Any) -> tuple[str | None, str | None, dict[str, Any]] | None:
    """(key, id, issue) of one element of the changelog's array, None when it is skipped."""
    if shape == "bulk":
        if isinstance(item, dict):
            return None, _str(item.get("issueId")), {"changelog": {"histories": item.get("changeHistories") or []}}
        return None
    if isinstance(item, dict) and (shape == "issues" or "key" in item):
        return _str(item.get("key")), _str(item.get("id")), item
    if shape == "list":
        raise _NotAnIssue
    return None


def _streamed(path: Path, shape: str) -> Iterator[tuple[str | None, str | None, dict[str, Any]]]:
    """(key, id, issue) of each issue of a large changelog, one issue in memory at a time."""
    try:
        with io.TextIOWrapper(cast(io.BufferedReader, _open(path)), encoding="utf-8") as fh:
            for item in _JsonStream(fh).items(_KEYS[shape]):
                found = _element(shape, item)
                if found is not None:
                    yield found
    except _NotAnIssue:
        raise IntakeError(_NOT_JIRA, file=str(path)) from None
    except (json.JSONDecodeError, _Malformed, UnicodeDecodeError, OSError, EOFError) as exc:
        raise IntakeError(f"not a Jira changelog JSON ({exc})", file=str(path)) from None


# -- a large changelog in chunks, read by DuckDB ---------------------------------------------------
# The issues' array is cut where its elements seem to meet (the bytes between its first two
# elements and the opening of the first, e.g. ``}, {"key":``) and every chunk, less the separator
# at its end, is read as a JSON array of whole elements (jira_changelog_sql). The first chunk
# starts at the array's first element, so it ends at a true boundary or fails, and so on by
# induction: a cut inside an element (the same bytes nested deeper) makes a chunk fail, and the
# file is then read one issue at a time by ``_streamed``, the reference, which also names what is
# wrong with a bad file.


def _array_span(path: Path, shape: str) -> tuple[int, int, bytes] | None:
    """(byte offset of the array's first element, of its closing bracket, the separator and opening
    that start each element after the first), or None when the file is not laid out simply: the
    array the last value of the document, its first two elements within the first MiB."""
    size = path.stat().st_size
    with path.open("rb") as fh:
        head = fh.read(_PEEK)
        fh.seek(max(0, size - _PEEK))
        tail = fh.read()
    text = codecs.getincrementaldecoder("utf-8")().decode(head)  # whole characters only
    try:
        stream = _JsonStream(io.StringIO(text))
        key = _KEYS[shape]
        if key is None:
            stream._expect("[")
        else:
            stream._expect("{")
            while True:
                name = stream._value()
                stream._expect(":")
                if name == key and stream._peek() == "[":
                    stream._pos += 1
                    break
                stream._value()
                stream._expect(",")
        first = _WS.match(stream._buf, stream._pos).end()  # type: ignore[union-attr]
        _value, end = _DECODER.raw_decode(stream._buf, first)
        sep_end = _WS.match(stream._buf, end).end()  # type: ignore[union-attr]
        if stream._buf[sep_end : sep_end + 1] != ",":
            return None  # one element, or none: no cut to make
        second = _WS.match(stream._buf, sep_end + 1).end()  # type: ignore[union-attr]
        opening = re.match(r'\{\s*"(?:[^"\\]|\\.)*"\s*:', stream._buf[first:])
    except (json.JSONDecodeError, _Malformed, UnicodeDecodeError):
        return None
    if opening is None or stream._buf[second : second + 1] != "{":
        return None
    start = len(stream._buf[:first].encode("utf-8"))
    stripped = tail.rstrip(b" \t\r\n")
    if key is not None:
        if not stripped.endswith(b"}"):
            return None
        stripped = stripped[:-1].rstrip(b" \t\r\n")
    if not stripped.endswith(b"]"):
        return None
    close = max(0, size - _PEEK) + len(stripped) - 1
    if close <= start:
        return None
    mark = (stream._buf[end:second] + opening.group(0)).encode("utf-8")
    return start, close, mark


def _chunks(path: Path, start: int, close: int, mark: bytes, chunk_bytes: int) -> Iterator[tuple[int, int]]:
    """(offset, length) of runs of whole elements (if the cuts hold), about ``chunk_bytes`` each."""
    lead = mark.index(b"{")  # a cut falls on the element's opening, after the separator
    at = start
    with path.open("rb") as fh:
        while at < close:
            want = at + chunk_bytes
            cut = -1
            while want < close:
                fh.seek(want)
                window = fh.read(min(1 << 20, close - want) + len(mark))
                found = window.find(mark)
                if found >= 0:
                    cut = want + found + lead
                    break
                want += max(1, len(window) - len(mark))
            if cut < 0 or cut >= close:
                yield at, close - at
                return
            yield at, cut - at
            at = cut


def _on_engine(session: IntakeSession, path: Path, rep: FileReport, shape: str) -> RawTable:
    """The changelog read by DuckDB from its issues' array cut into runs (jira_changelog_sql), a
    gzip'd one from its decompressed copy; ``Malformed`` when the file cannot be cut or a run is not
    read as whole, typed elements."""
    if not is_gzip(path):
        return _engine_read(session, path, path, rep, shape)
    with _decompressed(session, path) as plain:
        return _engine_read(session, path, plain, rep, shape)


def _engine_read(session: IntakeSession, path: Path, data: Path, rep: FileReport, shape: str) -> RawTable:
    """The rows of ``path`` from its text ``data`` (the file, or its decompressed copy)."""
    span = _array_span(data, shape)
    if span is None:
        raise Malformed
    start, close, mark = span
    runs = list(_chunks(data, start, close, mark, CHUNK_BYTES))
    return engine_table(session, path, rep, data=data, shape=shape, runs=runs, lead=mark.index(b"{"), header=HEADER)


@contextmanager
def _decompressed(session: IntakeSession, path: Path) -> Iterator[Path]:
    """A gzip'd changelog's text in a file of the stage, removed afterwards; ``Malformed`` when it
    cannot be written or the stream is damaged (the reference then says what is wrong)."""
    try:
        fd, name = tempfile.mkstemp(suffix=".json", prefix="jira-changelog-", dir=session.scratch_folder())
    except OSError:
        raise Malformed from None
    try:
        try:
            with os.fdopen(fd, "wb") as out, gzip.open(path, "rb") as src:
                shutil.copyfileobj(src, out, _CHUNK)
        except (OSError, EOFError, zlib.error):
            raise Malformed from None
        yield Path(name)
    finally:
        Path(name).unlink(missing_ok=True)


def _rows(issues: Iterator[tuple[str | None, str | None, dict[str, Any]]]) -> Iterator[tuple[str | None, ...]]:
    for key, issue_id, issue in issues:
        log = issue.get("changelog") or {}
        for h in log.get("histories") or log.get("values") or []:
            author = h.get("author") or {}
            # what the history's items share, read once (10 M items: a fifth of the rows' cost)
            created, history_id = _str(h.get("created")), _str(h.get("id"))
            name, account = _str(author.get("displayName")), _str(author.get("accountId") or author.get("name"))
            for item in h.get("items") or []:
                get = item.get
                yield (
                    "history",
                    key,
                    issue_id,
                    created,
                    name,
                    account,
                    _str(get("field")),
                    _str(get("from")),
                    _str(get("fromString")),
                    _str(get("to")),
                    _str(get("toString")),
                    None,
                    None,
                    history_id,
                )
        comments = ((issue.get("fields") or {}).get("comment") or {}).get("comments") or []
        for c in comments:
            author = c.get("author") or {}
            public = c.get("jsdPublic")
            yield (
                "comment",
                key,
                issue_id,
                _str(c.get("created")),
                _str(author.get("displayName")),
                _str(author.get("accountId") or author.get("name")),
                None,
                None,
                None,
                None,
                None,
                None if public is None else str(bool(public)).lower(),
                _text(c.get("body")),
                _str(c.get("id")),
            )


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Python's cycle collector paused: the parsed issues hold no cycles (reference counting frees
    them), and its passes over the young dicts cost a fifth of the parsing."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def load_changelog(session: IntakeSession, path: Path, *, source: str) -> RawTable:
    """Load a changelog JSON as a text table (columns ``HEADER``) with the session's accounting."""
    rep = session.add_file(path, source=source)
    if path.stat().st_size > STREAM_BYTES:
        try:
            shape = _shape(path)
        except (ijson.JSONError, UnicodeDecodeError, OSError, EOFError) as exc:
            raise IntakeError(f"not a Jira changelog JSON ({exc})", file=str(path)) from None
        if shape != "other":
            with _no_cycle_collection():
                try:
                    return _on_engine(session, path, rep, shape)
                except Malformed:
                    pass  # read one issue at a time: the reference, which says what is wrong
                rows = _rows(_streamed(path, shape))
                return session.stage_rows(path, rep, header=HEADER, rows=rows, batch=_BATCH)
    try:
        with _open(path) as fh:
            data = json.loads(fh.read().decode("utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError, OSError, EOFError) as exc:
        raise IntakeError(f"not a Jira changelog JSON ({exc})", file=str(path)) from None
    if not _is_jira(data):
        raise IntakeError(_NOT_JIRA, file=str(path))
    return session.stage_rows(path, rep, header=HEADER, rows=_rows(_issues(data)), batch=_BATCH)
