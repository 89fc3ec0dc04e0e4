"""Jira's REST answers as a text table: every changelog item and every comment one row.

Read shapes: search results with ``expand=changelog`` (``{"issues": [{"key", "fields":
{"comment": {"comments": [...]}}, "changelog": {"histories": [...]}}]}``), one issue
(``{"key", "changelog": {...}}``), a list of issues, and the bulk changelog
(``{"issueChangeLogs": [{"issueId", "changeHistories": [...]}]}``, keyed by issue id, which the
CSV's ``Issue id`` column turns into the key). Comments carry their author and, from JSM,
``jsdPublic`` (false: an internal note).

A file past ``STREAM_BYTES`` (64 MiB) is streamed, one issue at a time, so memory does
not grow with the export (a 10 M-item changelog is about 2 GB of JSON, ten times that as Python
objects); a smaller one is parsed whole, which also tells a document nested too deep for a parser.
"""

from __future__ import annotations

import gc
import gzip
import io
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

import ijson  # type: ignore[import-untyped]

from itsm_doctor.sources.base import IntakeError, IntakeSession, RawTable

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
_CHUNK = 16 << 20  # characters of a streamed changelog read at a time
_MAX_VALUE = 1 << 30  # an issue longer than this is no export (streaming holds one in memory)
_DECODER = json.JSONDecoder()
_WS = re.compile(r"[ \t\n\r]*")
_NOT_JIRA = (
    'not a Jira changelog: expected {"issues": [...]}, an issue {"key", "changelog"} or {"issueChangeLogs": [...]}'
)


def _open(path: Path) -> io.BufferedIOBase:
    """The file's bytes, decompressed when gzip."""
    with path.open("rb") as fh:
        gz = fh.read(2) == b"\x1f\x8b"
    return gzip.open(path, "rb") if gz else path.open("rb")


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
    return None if value is None else str(value)


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


def _streamed(path: Path, shape: str) -> Iterator[tuple[str | None, str | None, dict[str, Any]]]:
    """(key, id, issue) of each issue of a large changelog, one issue in memory at a time."""
    key = {"list": None, "issues": "issues", "bulk": "issueChangeLogs"}[shape]
    try:
        with io.TextIOWrapper(cast(io.BufferedReader, _open(path)), encoding="utf-8") as fh:
            for item in _JsonStream(fh).items(key):
                if shape == "bulk":
                    if isinstance(item, dict):
                        hist = item.get("changeHistories") or []
                        yield None, _str(item.get("issueId")), {"changelog": {"histories": hist}}
                elif isinstance(item, dict) and (shape == "issues" or "key" in item):
                    yield _str(item.get("key")), _str(item.get("id")), item
                elif shape == "list":
                    raise IntakeError(_NOT_JIRA, file=str(path))
    except (json.JSONDecodeError, _Malformed, UnicodeDecodeError, OSError, EOFError) as exc:
        raise IntakeError(f"not a Jira changelog JSON ({exc})", file=str(path)) from None


def _rows(issues: Iterator[tuple[str | None, str | None, dict[str, Any]]]) -> Iterator[tuple[str | None, ...]]:
    for key, issue_id, issue in issues:
        log = issue.get("changelog") or {}
        for h in log.get("histories") or log.get("values") or []:
            author = h.get("author") or {}
            for item in h.get("items") or []:
                yield (
                    "history",
                    key,
                    issue_id,
                    _str(h.get("created")),
                    _str(author.get("displayName")),
                    _str(author.get("accountId") or author.get("name")),
                    _str(item.get("field")),
                    _str(item.get("from")),
                    _str(item.get("fromString")),
                    _str(item.get("to")),
                    _str(item.get("toString")),
                    None,
                    None,
                    _str(h.get("id")),
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
