"""The malformed-input suite (issue 16): every kind of broken input or setting ends in exit 2
and one message naming the file, the row (the file's line) and the column, or the setting —
never a traceback — and leaves an existing workspace's records and store byte-identical; or
its rows are quarantined with the line and column named, and rows read = accepted + quarantined."""

from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pytest
from typer.testing import CliRunner, Result

from itsm_doctor.cli import app
from itsm_doctor.intake.run import run_intake

Make = Callable[[Path], list[str]]


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace with one batch and one visit: what every failing command must leave as it is."""
    from datetime import datetime, timedelta

    root = tmp_path_factory.mktemp("base")
    rows = []
    for t in range(30):
        opened = datetime(2012, 1, 2, 9) + timedelta(hours=t)
        for k, (st, sub) in enumerate([("Queued", "Awaiting Assignment"), ("Completed", "Resolved")]):
            ts = (opened + timedelta(hours=k)).strftime("%Y-%m-%dT%H:%M:%S+01:00")
            rows.append(f"1-{t},{ts},{st},{sub},G{t % 3},L1,PROD1,A{t % 2}")
    good = root / "good.csv"
    good.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    ws = root / "ws"
    done = CliRunner().invoke(app, ["examine", str(good), "--source", "bpic2013", "--workspace", str(ws), "-q"])
    assert done.exit_code == 0, done.output
    return ws


HEADER = "SR Number,Change Date+Time,Status,Sub Status,Involved ST,ST Level,Product,Owner First Name"


def row(i: int, ts: str = "2012-05-15T16:56:51+01:00", team: str = "V30") -> str:
    return f"2-{i},{ts},Accepted,In Progress,{team},L1,PROD1,Anna"


def _copy(base: Path, tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    shutil.copytree(base, ws)
    return ws


def _snapshot(ws: Path) -> dict[str, bytes]:
    return {
        p.relative_to(ws).as_posix(): p.read_bytes()
        for p in sorted(ws.rglob("*"))
        if p.is_file() and not p.name.startswith(".") and "tmp" not in p.relative_to(ws).parts
    }


def _run(*args: str, env: dict[str, str] | None = None) -> Result:
    result = CliRunner().invoke(app, list(args), env=env)
    # never a traceback: the only exception is the exit itself
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return result


def _refused(result: Result, *places: str) -> str:
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.split())
    assert text.count("error:") == 1, text
    for place in places:
        assert place in text, (place, text)
    return text


# -- exit 2: the input cannot be taken in; the workspace is left byte-identical -------------


def _gzip_bad_crc(p: Path) -> list[str]:
    data = bytearray(gzip.compress(("\n".join([HEADER, row(1), row(2)]) + "\n").encode()))
    data[-8:-4] = struct.pack("<I", (struct.unpack("<I", bytes(data[-8:-4]))[0] + 1) & 0xFFFFFFFF)
    (p / "crc.csv.gz").write_bytes(bytes(data))
    return [str(p / "crc.csv.gz"), "file", "crc.csv.gz", "damaged"]


def _gzip_truncated(p: Path) -> list[str]:
    data = gzip.compress(("\n".join([HEADER, *(row(i) for i in range(3000))]) + "\n").encode())
    (p / "cut.csv.gz").write_bytes(data[: len(data) // 2])
    return [str(p / "cut.csv.gz"), "cut.csv.gz", "truncated"]


def _gzip_bomb(p: Path) -> list[str]:
    # 2 MB of one repeated row inflate ~1000 times; the limits are lowered for the test
    (p / "bomb.csv.gz").write_bytes(gzip.compress((HEADER + "\n" + (row(1) + "\n") * 40_000).encode(), 9))
    return [str(p / "bomb.csv.gz"), "bomb.csv.gz", "decompression bomb", "ITSM_DOCTOR_MAX_GZIP_RATIO"]


def _fifo(p: Path) -> list[str]:
    os.mkfifo(p / "pipe.csv")
    return [str(p / "pipe.csv"), "file", "pipe.csv", "named pipe"]


def _dev_zero(p: Path) -> list[str]:
    return ["/dev/zero", "file /dev/zero", "a device"]


def _utf16_no_bom(p: Path) -> list[str]:
    (p / "u16.csv").write_bytes(("\n".join([HEADER, row(1)]) + "\n").encode("utf-16-le"))
    return [str(p / "u16.csv"), "file", "u16.csv, row 1:", "UTF-16-LE", "without a byte-order mark"]


def _xes_as_csv(p: Path) -> list[str]:
    (p / "log.csv").write_text('<?xml version="1.0"?>\n<log xes.version="1.0"><trace/></log>\n', encoding="utf-8")
    return [str(p / "log.csv"), "log.csv, row 1, column 'SR Number'", "XES event log", "--source xes"]


def _wrong_separator(p: Path) -> list[str]:
    (p / "hash.csv").write_text("\n".join([HEADER.replace(",", "#"), row(1).replace(",", "#")]) + "\n")
    return [str(p / "hash.csv"), "hash.csv, row 1, column 'SR Number'", "required column"]


def _excel_sep_line(p: Path) -> list[str]:
    # Excel's "sep=;" line, then a header without Status: the header is line 2
    (p / "sep.csv").write_text("sep=;\n" + HEADER.replace(",Status,", ",State,").replace(",", ";") + "\n")
    return [str(p / "sep.csv"), "sep.csv, row 2, column 'Status'", "required column"]


def _sheet_too_big(p: Path) -> list[str]:
    import xlsxwriter

    book = xlsxwriter.Workbook(str(p / "big.xlsx"))
    sheet = book.add_worksheet()
    for r, line in enumerate([HEADER, *(row(i) for i in range(20))]):
        sheet.write_row(r, 0, line.split(","))
    book.close()
    return [str(p / "big.xlsx"), "big.xlsx", "above the limit", "ITSM_DOCTOR_MAX_SHEET_CELLS"]


def _empty(p: Path) -> list[str]:
    (p / "nothing.csv").write_bytes(b"")
    return [str(p / "nothing.csv"), "nothing.csv: the file is empty (0 bytes)"]


def _nul_only(p: Path) -> list[str]:
    (p / "zeros.csv").write_bytes(b"\x00" * 4096)
    return [str(p / "zeros.csv"), "zeros.csv", "holds no header and no rows"]


INPUTS: dict[str, Make] = {
    "gzip with a wrong CRC": _gzip_bad_crc,
    "truncated gzip": _gzip_truncated,
    "gzip bomb": _gzip_bomb,
    "FIFO": _fifo,
    "/dev/zero": _dev_zero,
    "UTF-16 without BOM": _utf16_no_bom,
    "XES given as CSV": _xes_as_csv,
    "wrong separator": _wrong_separator,
    "Excel sep= line": _excel_sep_line,
    "XLSX above the cell limit": _sheet_too_big,
    "empty file": _empty,
    "NUL bytes only": _nul_only,
}
LOW_LIMITS = {
    "ITSM_DOCTOR_MAX_GZIP_RATIO": "50",
    "ITSM_DOCTOR_GZIP_FREE_BYTES": "100000",
    "ITSM_DOCTOR_MAX_SHEET_CELLS": "100",
}


@pytest.mark.parametrize("kind", list(INPUTS))
@pytest.mark.parametrize("command", ["intake", "examine"])
def test_unreadable_input_exits_2_naming_the_place_and_leaves_the_workspace(
    base: Path, tmp_path: Path, kind: str, command: str
) -> None:
    ws = _copy(base, tmp_path)
    before = _snapshot(ws)
    path, *places = INPUTS[kind](tmp_path)
    result = _run(command, path, "--source", "bpic2013", "--workspace", str(ws), "-q", env=LOW_LIMITS)
    _refused(result, *places)
    assert _snapshot(ws) == before


def _mapping_cases(p: Path) -> dict[str, tuple[list[str], list[str]]]:
    (p / "t.csv").write_text("Id,State,Opened\n1,open,2026-01-05 10:00\n", encoding="utf-8")
    (p / "latin.yaml").write_bytes("columns: {ticket_id: Id}\nname: 'Ménage'\n".encode("latin-1"))
    (p / "enc.yaml").write_text("columns: {ticket_id: Id}\nencoding: klingon\n", encoding="utf-8")
    (p / "folder.yaml").mkdir()
    csv = str(p / "t.csv")
    return {
        "missing mapping": (["--mapping", str(p / "none.yaml")], ["none.yaml", "no such mapping file"]),
        "mapping is a folder": (["--mapping", str(p / "folder.yaml")], ["folder.yaml", "is a folder"]),
        "latin-1 mapping": (["--mapping", str(p / "latin.yaml")], ["latin.yaml, row 2", "not UTF-8"]),
        "unknown encoding": (["--mapping", str(p / "enc.yaml")], ["enc.yaml", "mapping key encoding", "klingon"]),
        "csv input": ([csv], []),
    }


@pytest.mark.parametrize("case", ["missing mapping", "mapping is a folder", "latin-1 mapping", "unknown encoding"])
@pytest.mark.parametrize("command", ["intake", "examine"])
def test_bad_mapping_files_exit_2_naming_the_file(base: Path, tmp_path: Path, case: str, command: str) -> None:
    ws = _copy(base, tmp_path)
    before = _snapshot(ws)
    cases = _mapping_cases(tmp_path)
    [csv] = cases["csv input"][0]
    args, places = cases[case]
    result = _run(command, csv, "--source", "csv", *args, "--workspace", str(ws), "-q")
    _refused(result, *places)
    assert _snapshot(ws) == before


def test_settings_refused_before_any_work(base: Path, tmp_path: Path) -> None:
    ws = _copy(base, tmp_path)
    before = _snapshot(ws)
    good = tmp_path / "g.csv"
    good.write_text("\n".join([HEADER, row(1), row(2)]) + "\n", encoding="utf-8")
    common = [str(good), "--source", "bpic2013", "--workspace", str(ws), "-q"]
    (tmp_path / "folder.html").mkdir()
    cases = [
        (["intake", *common, "--max-quarantine", "lots"], ["--max-quarantine", "'lots' is not a share"]),
        (["examine", *common, "--max-quarantine", "150%"], ["--max-quarantine", "between 0 and 1"]),
        (["intake", *common, "--json", str(tmp_path / "no" / "r.json")], ["--json", "does not exist"]),
        (["examine", *common, "--json", str(tmp_path / "no" / "r.json")], ["--json", "does not exist"]),
        (["examine", *common, "--report", str(tmp_path / "folder.html")], ["--report", "is a folder"]),
        (["examine", *common, "--database", "foo://x"], ["--database foo://x", "not a database URL"]),
        (
            ["examine", *common, "--database", "postgresql://nobody@127.0.0.1:1/test"],
            ["--database", "127.0.0.1:1", "cannot be opened", "Connection refused"],
        ),
        (["intake", *common, "--source", "nope"], ["--source 'nope'", "unknown source"]),
    ]
    for args, places in cases:
        result = _run(*args)
        # click reports its own usage errors ("Invalid value for '--max-quarantine'")
        assert result.exit_code == 2, (args, result.output)
        text = " ".join(result.output.split())
        for place in places:
            assert place in text, (args, place, text)
        assert _snapshot(ws) == before, args


def test_workspace_that_cannot_be_used_exits_2(base: Path, tmp_path: Path) -> None:
    good = tmp_path / "g.csv"
    good.write_text("\n".join([HEADER, row(1)]) + "\n", encoding="utf-8")
    a_file = tmp_path / "ws-file"
    a_file.write_text("not a folder")
    for command in ("intake", "examine"):
        result = _run(command, str(good), "--source", "bpic2013", "--workspace", str(a_file), "-q")
        _refused(result, f"--workspace {a_file}", "is a file")
        result = _run(command, str(good), "--source", "bpic2013", "--workspace", "/proc/itsm-doctor-ws", "-q")
        _refused(result, "/proc/itsm-doctor-ws")
    ws = _copy(_base_manifest_only(tmp_path), tmp_path / "damaged")
    result = _run("intake", str(good), "--source", "bpic2013", "--workspace", str(ws), "-q")
    _refused(result, "intake.json", "manifest cannot be read")
    result = _run("batches", "list", "--workspace", str(ws))
    _refused(result, "intake.json")


def _base_manifest_only(tmp_path: Path) -> Path:
    ws = tmp_path / "cut"
    ws.mkdir()
    (ws / "intake.json").write_text('{"schema": "itsm-doctor/workspace/1", "batches": [{"ba')
    return ws


def test_debug_shows_the_traceback_and_still_exits_2(tmp_path: Path) -> None:
    (tmp_path / "e.csv").write_bytes(b"")
    result = CliRunner().invoke(
        app, ["intake", str(tmp_path / "e.csv"), "--source", "bpic2013", "--workspace", str(tmp_path / "w"), "--debug"]
    )
    assert result.exit_code == 2 and "Traceback" in result.output and "e.csv" in result.output


def test_jira_json_nested_deep_or_a_list_exits_2(tmp_path: Path) -> None:
    # the changelog is read beside its issue CSV (alone it is refused before it is parsed)
    export = tmp_path / "export.csv"
    export.write_text("Summary,Issue key,Issue Type,Status,Created\nVPN,ITSM-1,Incident,Open,24/Nov/26 3:15 PM\n")
    (tmp_path / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    ws = str(tmp_path / "w")
    result = _run("intake", str(export), str(tmp_path / "deep.json"), "--source", "jira", "--workspace", ws, "-q")
    _refused(result, "deep.json", "nests deeper than intake can read")
    (tmp_path / "deep.json").unlink()
    (tmp_path / "list.json").write_text('[1, 2, {"key": 3}]')
    result = _run("intake", str(export), str(tmp_path / "list.json"), "--source", "jira", "--workspace", ws, "-q")
    _refused(result, "list.json", "not a Jira changelog", 'expected {"issues": [...]}')


# -- rows quarantined with their line and column; the earlier batch stays as it was ----------


def _quarantine(ws: Path) -> list[tuple[Any, ...]]:
    files = [str(p) for p in (ws / "quarantine").glob("*.parquet")]
    return (
        duckdb.connect()
        .execute(
            'SELECT regexp_extract(file, \'[^/]+$\'), "row", "column", reason FROM read_parquet(?) ORDER BY 1, 2',
            [files],
        )
        .fetchall()
    )


def _intake_keeps_base(base: Path, tmp_path: Path, path: Path, *extra: str) -> tuple[Result, Path]:
    ws = _copy(base, tmp_path)
    before = _snapshot(ws)
    result = _run("intake", str(path), "--source", "bpic2013", "--workspace", str(ws), "-q", *extra)
    after = _snapshot(ws)
    assert {k: v for k, v in after.items() if k in before and k != "intake.json"} == {
        k: v for k, v in before.items() if k != "intake.json"
    }
    manifest = json.loads(after["intake.json"])
    assert manifest["batches"][0] == json.loads(before["intake.json"])["batches"][0]
    for f in manifest["batches"][-1]["intake"]:
        assert f["rows_read"] == f["rows_accepted"] + f["rows_quarantined"]
    return result, ws


def test_crlf_line_among_lf_lines_is_read(base: Path, tmp_path: Path) -> None:
    p = tmp_path / "crlf.csv"
    p.write_bytes((HEADER + "\n" + row(1) + "\r\n" + row(2) + "\n" + row(3, "x") + "\n").encode())
    result, ws = _intake_keeps_base(base, tmp_path, p, "--max-quarantine", "50%")
    assert result.exit_code == 0, result.output
    assert "line endings mix CRLF and LF" in result.output
    # the data error names the file's line, as a header error does (the 3rd data row is line 4)
    assert "crlf.csv row 4, column 'Change Date+Time': unparseable_time" in " ".join(result.output.split())
    assert _quarantine(ws) == [("crlf.csv", 4, "Change Date+Time", "unparseable_time")]


def test_nul_lines_and_nul_padding_are_quarantined(base: Path, tmp_path: Path) -> None:
    p = tmp_path / "nul.csv"
    p.write_bytes((HEADER + "\n" + row(1) + "\n").encode() + b"\x00\x00\n" + (row(2) + "\n").encode() + b"\x00" * 9000)
    result, ws = _intake_keeps_base(base, tmp_path, p, "--max-quarantine", "90%")
    assert result.exit_code == 0, result.output
    assert _quarantine(ws) == [("nul.csv", 3, None, "nul_bytes"), ("nul.csv", 5, None, "nul_bytes")]


def test_xlsx_row_needing_quarantine_is_quarantined_with_its_sheet_row(base: Path, tmp_path: Path) -> None:
    import xlsxwriter

    p = tmp_path / "sheet.xlsx"
    book = xlsxwriter.Workbook(str(p))
    sheet = book.add_worksheet()
    # a column left empty in every row (ST Level) once made the whole workbook fail
    for r, line in enumerate([HEADER, row(1), row(2, "not a time"), row(3)]):
        cells = line.split(",")
        cells[5] = "" if r else cells[5]
        sheet.write_row(r, 0, cells)
    book.close()
    result, ws = _intake_keeps_base(base, tmp_path, p, "--max-quarantine", "50%")
    assert result.exit_code == 0, result.output
    assert _quarantine(ws) == [("sheet.xlsx", 3, "Change Date+Time", "unparseable_time")]


def test_dates_outside_the_window_are_quarantined_and_examine_still_runs(base: Path, tmp_path: Path) -> None:
    p = tmp_path / "years.csv"
    rows = [row(1), row(2, "9999-12-31T00:00:00+00:00"), row(3, "1900-01-01T00:00:00+00:00"), row(4, "0001-01-01")]
    p.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    result, ws = _intake_keeps_base(base, tmp_path, p, "--max-quarantine", "90%")
    assert result.exit_code == 0, result.output
    assert _quarantine(ws) == [("years.csv", n, None, "implausible_time") for n in (3, 4, 5)]
    out = tmp_path / "exam.json"
    exam = _run("examine", str(p), "--source", "bpic2013", "--workspace", str(ws), "-q", "--json", str(out))
    assert exam.exit_code == 1, exam.output  # the examination ran; 75 % of the rows are quarantined
    period = json.loads(out.read_text())["visit"]["period"]
    assert period["from"].startswith("2012-01-02") and period["to"].startswith("2012-05-15")


def test_a_rejected_line_far_in_the_file_is_named_by_its_line_and_header(base: Path, tmp_path: Path) -> None:
    # beyond the lines intake samples, DuckDB rejects the line: it is line 2,052 (data row
    # 2,050 after the header), its 9th field is beyond the header, and 2,099 rows are written
    p = tmp_path / "far.csv"
    p.write_text(
        "\n".join([HEADER, *(row(i) + (",x" if i == 2_050 else "") for i in range(2_100))]) + "\n", encoding="utf-8"
    )
    result, ws = _intake_keeps_base(base, tmp_path, p)
    assert result.exit_code == 0, result.output
    assert _quarantine(ws) == [("far.csv", 2_052, "column 9 (beyond the header)", "malformed_line")]
    manifest = json.loads((ws / "intake.json").read_text())
    [f] = manifest["batches"][-1]["intake"]
    assert (f["rows_read"], f["rows_accepted"], f["rows_quarantined"]) == (2_100, 2_099, 1)
    assert manifest["batches"][-1]["records"]["event"] == 2_099


def test_an_unterminated_quote_quarantines_every_line_it_swallows(base: Path, tmp_path: Path) -> None:
    p = tmp_path / "quote.csv"
    lines = [row(i) for i in range(5)] + [row(5).replace("2012-05", '"2012-05')] + [row(i) for i in range(6, 10)]
    p.write_text("\n".join([HEADER, *lines]) + "\n", encoding="utf-8")
    result, ws = _intake_keeps_base(base, tmp_path, p, "--max-quarantine", "90%")
    assert result.exit_code == 0, result.output
    assert _quarantine(ws) == [("quote.csv", 7, "Change Date+Time", "malformed_line")] + [
        ("quote.csv", n, None, "malformed_line") for n in range(8, 12)
    ]


def test_an_xes_event_without_a_time_is_quarantined(tmp_path: Path) -> None:
    p = tmp_path / "log.xes"
    p.write_text(
        """<?xml version="1.0" encoding="UTF-8"?>
<log xes.version="1.0">
  <trace><string key="concept:name" value="T1"/>
    <event><string key="concept:name" value="Open"/><date key="time:timestamp" value="2026-01-05T10:00:00Z"/></event>
    <event><string key="concept:name" value="Work"/></event>
    <event><string key="concept:name" value="Closed"/><date key="time:timestamp" value="2026-01-05T12:00:00Z"/></event>
  </trace>
</log>
""",
        encoding="utf-8",
    )
    result = run_intake([p], source="xes", workspace=tmp_path / "ws")
    [f] = result.files
    assert (f.rows_read, f.rows_accepted, f.rows_quarantined) == (3, 2, 1)
    assert f.reasons == {"missing_time": 1} and result.records["event"] == 2


def test_a_ticket_resolved_before_it_was_opened_is_quarantined(tmp_path: Path) -> None:
    csv = tmp_path / "t.csv"
    csv.write_text(
        "Id,State,Opened,Resolved\n1,closed,2026-01-05 10:00,2026-01-05 12:00\n"
        "2,closed,2026-01-05 10:00,2026-01-04 09:00\n3,closed,,\n",
        encoding="utf-8",
    )
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        "columns: {ticket_id: Id, status: State, opened_at: Opened, resolved_at: Resolved}\n"
        "status_map: {closed: closed}\n",
        encoding="utf-8",
    )
    ws = tmp_path / "ws"
    result = _run(
        "intake",
        str(csv),
        "--source",
        "csv",
        "--mapping",
        str(mapping),
        "--workspace",
        str(ws),
        "-q",
        "--max-quarantine",
        "70%",
    )
    assert result.exit_code == 0, result.output
    assert _quarantine(ws) == [("t.csv", 3, None, "resolved_before_opened"), ("t.csv", 4, None, "missing_time")]
    assert "resolved or closed (2026-01-04 09:00:00+00) before it was opened" in " ".join(result.output.split())


def test_control_characters_in_names_never_reach_the_report(tmp_path: Path) -> None:
    p = tmp_path / "ctl.csv"
    teams = ["Desk\x00", "L2\x0bteam", "Esc\x1b[31m", "Odd\ufffe"]
    rows = [row(i, team=teams[i % 4]).replace("2-", "3-") for i in range(40)]
    p.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    ws, report, md = tmp_path / "ws", tmp_path / "r.html", tmp_path / "r.md"
    result = _run(
        "examine",
        str(p),
        "--source",
        "bpic2013",
        "--workspace",
        str(ws),
        "-q",
        "--report",
        str(report),
        "--markdown",
        str(md),
        "--max-quarantine",
        "50%",
    )
    assert result.exit_code == 0, result.output
    for text in (report.read_text(encoding="utf-8"), md.read_text(encoding="utf-8")):
        assert not re.search("[\x00\x0b\x1b\ufffe]", text)


def test_jira_changelog_events_without_key_of_unknown_ticket_or_garbage_time_are_quarantined(
    tmp_path: Path,
) -> None:
    export = tmp_path / "export.csv"
    export.write_text(
        "Summary,Issue key,Issue Type,Status,Priority,Created,Resolved\n"
        "VPN drops,ITSM-1,Incident,Resolved,High,24/Nov/26 3:15 PM,24/Nov/26 5:45 PM\n",
        encoding="utf-8",
    )

    def history(created: str) -> dict[str, Any]:
        return {"created": created, "items": [{"field": "status", "fromString": "Open", "toString": "In Progress"}]}

    log = {
        "issues": [
            {"key": "ITSM-1", "changelog": {"histories": [history("2026-11-24T15:20:00.000+0000")]}},
            {"key": None, "changelog": {"histories": [history("2026-11-24T15:30:00.000+0000")]}},
            {"key": "ITSM-99", "changelog": {"histories": [history("2026-11-24T15:40:00.000+0000")]}},
            {"key": "ITSM-1", "changelog": {"histories": [history("garbage")]}},
        ]
    }
    (tmp_path / "changelog.json").write_text(json.dumps(log), encoding="utf-8")
    result = run_intake([export, tmp_path / "changelog.json"], source="jira", workspace=tmp_path / "ws")
    by_file = {Path(f.file).name: f for f in result.files}
    f = by_file["changelog.json"]
    # four changelog rows: the first taken in; one has no key, ITSM-99 names no ticket, "garbage" is no time
    assert (f.rows_read, f.rows_accepted, f.rows_quarantined) == (4, 1, 3)
    assert f.reasons == {"missing_key": 1, "unknown_ticket": 1, "unparseable_time": 1}
    assert sorted((e["row"], e["reason"]) for e in f.examples) == [
        (2, "missing_key"),
        (3, "unknown_ticket"),
        (4, "unparseable_time"),
    ]
    events = (
        duckdb.connect()
        .execute(f"SELECT count(*) FROM read_parquet('{tmp_path}/ws/records/event/*.parquet') WHERE origin = 'history'")
        .fetchone()
    )
    assert events == (1,)
