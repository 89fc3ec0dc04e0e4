"""What an export file is before any row is read: a regular file of bounded expansion, in a
text encoding and layout intake can read — or a clear message naming the file and the fix."""

from __future__ import annotations

import csv
import gzip
import io
import os
import stat
import zipfile
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "SEPARATORS",
    "FileRefused",
    "cell_text",
    "check_gzip",
    "check_regular",
    "decode_head",
    "detect_encoding",
    "excel_sep_line",
    "header_name",
    "is_gzip",
    "layout_hint",
    "lf_copy",
    "max_fields",
    "read_sheet",
    "sniff_separator",
    "utf16_without_bom",
]


SEPARATORS = (",", ";", "\t", "|")


class FileRefused(Exception):
    """Raised by the helpers below; IntakeSession turns it into an IntakeError naming the file."""


def _limit(name: str, default: int) -> int:
    try:
        return int(os.environ.get(name, "") or default)
    except ValueError:
        return default


def check_regular(path: Path) -> str | None:
    """Why ``path`` cannot be read as an export (a FIFO, a device, /dev/zero…), or None."""
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    if not stat.S_ISREG(mode):
        kind = (
            "a named pipe"
            if stat.S_ISFIFO(mode)
            else "a device"
            if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
            else "a socket"
            if stat.S_ISSOCK(mode)
            else "not a regular file"
        )
        return f"is {kind}, not an export file: save the export to a file first"
    if not os.access(path, os.R_OK):
        return "cannot be read (permission denied)"
    return None


def check_gzip(path: Path, *, ratio: int | None = None, free: int | None = None) -> str | None:
    """Inflate a gzip file once, in a stream: why it cannot be taken in (damaged, a wrong CRC,
    truncated, or expanding like a bomb), or None. The whole stream is checked, so a damaged
    end is found before any row is read."""
    ratio = ratio or _limit("ITSM_DOCTOR_MAX_GZIP_RATIO", 100)
    free = free or _limit("ITSM_DOCTOR_GZIP_FREE_BYTES", 256 << 20)
    size = path.stat().st_size
    inflated = 0
    inflater = zlib.decompressobj(wbits=zlib.MAX_WBITS | 16)  # gzip header and CRC checked by zlib
    try:
        with path.open("rb") as fh:
            while block := fh.read(1 << 20):
                data = block
                while data:
                    out = inflater.decompress(data, 64 << 20)
                    inflated += len(out)
                    if inflated > free and inflated > ratio * size:
                        return (
                            f"the gzip stream expands more than {ratio} times its size "
                            f"({size:,} bytes to over {inflated:,}): refused as a decompression bomb "
                            "(ITSM_DOCTOR_MAX_GZIP_RATIO raises the limit)"
                        )
                    data = inflater.unconsumed_tail
                    if inflater.eof and inflater.unused_data:  # a multi-member gzip: next member
                        data = inflater.unused_data
                        inflater = zlib.decompressobj(wbits=zlib.MAX_WBITS | 16)
        if not inflater.eof:
            return "the gzip stream is truncated (it ends before its last block)"
    except zlib.error as exc:
        return f"the gzip stream is damaged ({exc})"
    return None


def utf16_without_bom(head: bytes) -> str | None:
    """'utf-16-le' or 'utf-16-be' when ``head`` looks like UTF-16 text with no byte-order mark."""
    sample = head[:4096]
    if len(sample) < 8 or sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None
    even, odd = sample[0::2], sample[1::2]
    if odd.count(0) > 0.4 * len(odd) and even.count(0) < 0.05 * len(even):
        return "utf-16-le"
    if even.count(0) > 0.4 * len(even) and odd.count(0) < 0.05 * len(odd):
        return "utf-16-be"
    return None


def excel_sep_line(first_line: str) -> str | None:
    """The separator Excel's ``sep=;`` first line declares, or None."""
    line = first_line.strip().strip('"')
    if line.lower().startswith("sep=") and len(line) == 5:
        return line[4]
    return None


def layout_hint(head: bytes) -> str:
    """A hint for a header that lacks the columns a source needs, from the file's first bytes."""
    text = head[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith(b"<?xml") or text.startswith(b"<log"):
        is_xes = b"<log" in head[:65536].lower() or b"xes" in head[:2048].lower()
        if is_xes:
            return (
                " The file is an XES event log, not a CSV: use --source xes "
                "(or a source with an XES profile, e.g. bpic2013)."
            )
        return " The file is XML, not a CSV export."
    if text.startswith((b"{", b"[")):
        return " The file is JSON, not a CSV export: is the source right (e.g. --source jira for a Jira JSON export)?"
    if text.startswith(b"pk\x03\x04"):
        return " The file is a ZIP archive (an .xlsx saved under another name?): give it its .xlsx name."
    return ""


def read_sheet(path: Path) -> list[list[Any]]:
    """The first sheet's rows, refused past the size limits before it is expanded in memory."""
    from python_calamine import CalamineWorkbook

    max_bytes = _limit("ITSM_DOCTOR_MAX_SHEET_BYTES", 512 << 20)
    max_cells = _limit("ITSM_DOCTOR_MAX_SHEET_CELLS", 50_000_000)
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            sheets = [i for i in zf.infolist() if i.filename.startswith("xl/worksheets/")]
            biggest = max((i.file_size for i in sheets), default=0)
        if biggest > max_bytes:
            raise FileRefused(
                f"the workbook's sheet expands to {biggest:,} bytes, above the limit of {max_bytes:,} "
                "(ITSM_DOCTOR_MAX_SHEET_BYTES): export it as CSV instead"
            )
    book = CalamineWorkbook.from_path(str(path))
    sheet = book.get_sheet_by_index(0)
    cells = sheet.height * sheet.width
    if cells > max_cells:
        raise FileRefused(
            f"the first sheet spans {sheet.height:,} rows × {sheet.width:,} columns, above the limit of "
            f"{max_cells:,} cells (ITSM_DOCTOR_MAX_SHEET_CELLS): export it as CSV instead"
        )
    return sheet.to_python(skip_empty_area=False)


def is_gzip(path: Path) -> bool:
    with path.open("rb") as fh:
        return fh.read(2) == b"\x1f\x8b"


def detect_encoding(head: bytes, declared: str | None) -> tuple[str, str | None]:
    """(encoding for DuckDB, note for the report)."""
    if declared:
        return declared, None
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8", "UTF-8 with byte-order mark"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16", "UTF-16 with byte-order mark"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not just a character cut at the sniff boundary
            return "latin-1", "not valid UTF-8: read as latin-1"
    return "utf-8", None


def decode_head(head: bytes, encoding: str) -> str:
    text = head.decode("utf-8-sig" if encoding == "utf-8" else encoding, errors="replace")
    return text


def sniff_separator(first_line: str) -> str:
    counts = {s: 0 for s in SEPARATORS}
    in_quotes = False
    for ch in first_line:
        if ch == '"':
            in_quotes = not in_quotes
        elif not in_quotes and ch in counts:
            counts[ch] += 1
    best = max(SEPARATORS, key=lambda s: counts[s])
    return best if counts[best] else ","


def cell_text(value: object) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "isoformat"):
        return value.isoformat()  # type: ignore[no-any-return]
    return str(value)


def header_name(header: Sequence[str], index: object) -> str | None:
    """The header of the column at 0-based ``index`` (DuckDB's reject), named as people see it."""
    if not isinstance(index, int) or index < 0:
        return None
    if index < len(header):
        return header[index] or f"column {index + 1}"
    return f"column {index + 1} (beyond the header)"


def lf_copy(path: Path, target: Path) -> Path:
    """A copy of the (possibly gzip) text file with every CRLF made LF, streamed."""
    opener = gzip.open if is_gzip(path) else open
    with opener(path, "rb") as src, target.open("wb") as dst:  # type: ignore[operator]
        carry = b""
        while block := src.read(1 << 20):
            block = carry + block
            carry = b"\r" if block.endswith(b"\r") else b""
            dst.write(block[: len(block) - len(carry)].replace(b"\r\n", b"\n"))
        dst.write(carry)
    return target


def max_fields(text: str, sep: str) -> int:
    """The widest row among the sniffed lines (short files: all of them)."""
    widest = 0
    try:
        for i, row in enumerate(csv.reader(io.StringIO(text), delimiter=sep)):
            widest = max(widest, len(row))
            if i > 2000:
                break
    except csv.Error:
        pass
    return widest
