"""Receiving exports: a multipart body streamed to disk, its size capped, its type checked.

The body is parsed as it arrives (python-multipart's push parser): each file part is written
in chunks to a ``.part`` file of the organisation's upload folder, never held in memory nor
spooled elsewhere. Past ``limit`` bytes the reading stops, every partial file is deleted and
the request ends in 413. The form's ``csrf_token`` field must come before any file part (the
page's form puts it first): a file part before a valid token ends the request in 403 before
one byte is written.

Then each file's type is checked against its name: CSV (text, plain or gzip), XLSX (a zip
holding ``xl/``), XES (XML holding ``<log``, plain or gzip), JSON (Jira's changelog, plain or
gzip) or ZIP (of those; unpacked into a folder with the sizes capped). A mismatch is refused (415) and the file deleted.
"""

from __future__ import annotations

import gzip
import hashlib
import re
import shutil
import unicodedata
import uuid
import zipfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

from python_multipart.multipart import MultipartParser, parse_options_header

from itsm_doctor.web.security import same_token

__all__ = ["KINDS", "Received", "UploadRefused", "receive_multipart", "sniff_kind"]

KINDS = ("csv", "xlsx", "xes", "json", "zip")
_FIELD_LIMIT = 10_000  # bytes of a plain form field
_ZIP_MEMBERS = 200


class UploadRefused(Exception):
    """The upload is refused: ``status`` (403, 413, 415, 400) and a message for the page."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class ReceivedFile:
    filename: str  # as the browser named it (display only)
    path: Path  # where it is on disk
    size: int = 0
    sha256: str = ""
    kind: str = ""


@dataclass
class Received:
    fields: dict[str, str] = field(default_factory=dict)
    files: list[ReceivedFile] = field(default_factory=list)


def safe_name(name: str) -> str:
    """A file name safe on any disk: the last path part, letters, digits, ``._-`` only."""
    base = re.split(r"[\\/]", name)[-1]
    base = unicodedata.normalize("NFKD", base).encode("ascii", "ignore").decode("ascii")
    base = re.sub(r"[^A-Za-z0-9._-]+", "_", base).strip("._") or "export"
    return base[:120]


async def receive_multipart(
    *, chunks: AsyncIterator[bytes], content_type: str, folder: Path, limit: int, csrf_expected: str | None
) -> Received:
    """Stream a multipart body into ``folder`` (one sub-folder per file); see the module's text."""
    kind, params = parse_options_header(content_type.encode("latin-1"))
    boundary = params.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        raise UploadRefused(400, "send the files as a multipart form")
    received = Received()
    state: dict[str, object] = {"headers": {}, "name": None, "file": None, "handle": None, "hash": None, "buf": b""}
    header_field = bytearray()
    header_value = bytearray()
    csrf_ok = False
    problems: list[UploadRefused] = []

    def on_part_begin() -> None:
        state["headers"] = {}
        state["name"] = state["file"] = state["handle"] = state["hash"] = None
        state["buf"] = b""

    def on_header_field(data: bytes, start: int, end: int) -> None:
        header_field.extend(data[start:end])

    def on_header_value(data: bytes, start: int, end: int) -> None:
        header_value.extend(data[start:end])

    def on_header_end() -> None:
        headers = state["headers"]
        assert isinstance(headers, dict)
        headers[bytes(header_field).lower()] = bytes(header_value)
        header_field.clear()
        header_value.clear()

    def on_headers_finished() -> None:
        headers = state["headers"]
        assert isinstance(headers, dict)
        _, disposition = parse_options_header(headers.get(b"content-disposition", b""))
        name = disposition.get(b"name", b"").decode("utf-8", "replace")
        state["name"] = name
        filename = disposition.get(b"filename")
        if filename is None:
            return
        if not csrf_ok:
            raise UploadRefused(403, "This form has expired or did not come from this site. Reload the page.")
        shown = filename.decode("utf-8", "replace")
        if not shown:  # the browser sends an empty file part when no file was chosen
            return
        target = folder / uuid.uuid4().hex / safe_name(shown)
        target.parent.mkdir(parents=True)
        item = ReceivedFile(filename=shown[:300], path=target)
        received.files.append(item)
        state["file"] = item
        state["handle"] = (target.parent / (target.name + ".part")).open("wb")
        state["hash"] = hashlib.sha256()

    def on_part_data(data: bytes, start: int, end: int) -> None:
        item, handle, digest = state["file"], state["handle"], state["hash"]
        if isinstance(item, ReceivedFile) and handle is not None:
            chunk = data[start:end]
            handle.write(chunk)  # type: ignore[attr-defined]
            digest.update(chunk)  # type: ignore[attr-defined]
            item.size += len(chunk)
        elif state["file"] is None:
            buf = state["buf"]
            assert isinstance(buf, bytes)
            if len(buf) + end - start > _FIELD_LIMIT:
                raise UploadRefused(400, "a form field is too long")
            state["buf"] = buf + data[start:end]

    def on_part_end() -> None:
        nonlocal csrf_ok
        item, handle, digest = state["file"], state["handle"], state["hash"]
        if isinstance(item, ReceivedFile) and handle is not None:
            handle.close()  # type: ignore[attr-defined]
            item.sha256 = digest.hexdigest()  # type: ignore[attr-defined]
            (item.path.parent / (item.path.name + ".part")).replace(item.path)
            state["handle"] = None
            return
        name = str(state["name"] or "")
        buf = state["buf"]
        assert isinstance(buf, bytes)
        value = buf.decode("utf-8", "replace")
        if name == "csrf_token":
            csrf_ok = same_token(value, csrf_expected)
            if not csrf_ok:
                raise UploadRefused(403, "This form has expired or did not come from this site. Reload the page.")
        elif name:
            received.fields[name] = value

    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": on_part_begin,
            "on_part_data": on_part_data,
            "on_part_end": on_part_end,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_headers_finished": on_headers_finished,
        },
    )
    total = 0
    try:
        async for chunk in chunks:
            total += len(chunk)
            if total > limit:
                raise UploadRefused(413, f"The upload is larger than the limit of {limit / 1024 / 1024:.0f} MiB.")
            parser.write(chunk)
        parser.finalize()
        if not csrf_ok:
            raise UploadRefused(403, "This form has expired or did not come from this site. Reload the page.")
        if not received.files:
            raise UploadRefused(400, "Choose at least one file.")
        for item in received.files:
            item.kind = sniff_kind(item.path)
            if item.kind == "zip":
                unpack_zip(item.path, limit=limit)
    except UploadRefused as exc:
        problems.append(exc)
    except Exception as exc:  # a malformed body: python-multipart raises its own errors
        problems.append(UploadRefused(400, f"The upload could not be read ({type(exc).__name__})."))
    finally:
        handle = state.get("handle")
        if handle is not None:
            handle.close()  # type: ignore[attr-defined]
    if problems:
        for item in received.files:
            shutil.rmtree(item.path.parent, ignore_errors=True)
        raise problems[0]
    return received


def _head(path: Path, size: int = 4096) -> bytes:
    with path.open("rb") as fh:
        head = fh.read(size)
    if head[:2] == b"\x1f\x8b":
        try:
            with gzip.open(path, "rb") as fh:
                return fh.read(size)
        except (OSError, EOFError) as exc:
            raise UploadRefused(415, f"{path.name}: the gzip stream is damaged ({exc})") from exc
    return head


def sniff_kind(path: Path) -> str:
    """``csv``, ``xlsx``, ``xes`` or ``zip`` when the content matches the name; else UploadRefused(415)."""
    name = path.name.lower()
    stem = name.removesuffix(".gz")
    head = _head(path)
    if stem.endswith((".csv", ".tsv", ".txt")):
        text_like = b"\x00" not in head or head.startswith((b"\xff\xfe", b"\xfe\xff"))
        if head and text_like and not head.startswith(b"PK\x03\x04"):
            return "csv"
        raise UploadRefused(415, f"{path.name}: not a text (CSV) file")
    if stem.endswith(".xes"):
        if b"<log" in head or (head.lstrip(b"\xef\xbb\xbf \r\n\t").startswith(b"<?xml") and b"<" in head[5:]):
            return "xes"
        raise UploadRefused(415, f"{path.name}: not an XES (XML) event log")
    if stem.endswith(".json"):  # Jira's REST changelog, read beside its issue CSV
        if head.lstrip(b"\xef\xbb\xbf \r\n\t")[:1] in (b"{", b"["):
            return "json"
        raise UploadRefused(415, f"{path.name}: not a JSON document")
    if name.endswith((".xlsx", ".zip")):
        if not zipfile.is_zipfile(path):
            raise UploadRefused(415, f"{path.name}: not a ZIP archive")
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
        is_workbook = any(n.startswith("xl/") for n in names) and "[Content_Types].xml" in names
        if name.endswith(".xlsx"):
            if is_workbook:
                return "xlsx"
            raise UploadRefused(415, f"{path.name}: not an Excel workbook")
        return "zip"
    raise UploadRefused(415, f"{path.name}: send CSV, XLSX, XES, Jira changelog JSON (plain or .gz) or ZIP files")


def unpack_zip(path: Path, *, limit: int) -> Path:
    """Unpack a ZIP of exports beside it (``NAME.d/``): member names flattened and made safe,
    each member's type checked, the unpacked total capped at ``limit`` (a zip bomb stops there)."""
    target = path.parent / (path.name + ".d")
    target.mkdir()
    total = 0
    with zipfile.ZipFile(path) as archive:
        members = [m for m in archive.infolist() if not m.is_dir() and not m.filename.startswith("__MACOSX/")]
        if not members:
            raise UploadRefused(415, f"{path.name}: the ZIP holds no file")
        if len(members) > _ZIP_MEMBERS:
            raise UploadRefused(415, f"{path.name}: the ZIP holds more than {_ZIP_MEMBERS} files")
        for member in members:
            out = target / safe_name(member.filename)
            if out.exists():
                out = target / f"{uuid.uuid4().hex[:6]}-{out.name}"
            with archive.open(member) as src, out.open("wb") as dst:
                while block := src.read(1 << 20):
                    total += len(block)
                    if total > limit:
                        raise UploadRefused(413, f"{path.name}: unpacked, the ZIP exceeds the upload limit")
                    dst.write(block)
            kind = sniff_kind(out)
            if kind == "zip":
                raise UploadRefused(415, f"{path.name}: a ZIP inside the ZIP is not read")
    return target
