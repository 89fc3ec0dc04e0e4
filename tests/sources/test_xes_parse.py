"""The XES parser's three paths (plain, lxml per chunk, streaming) and its worker processes give
the same rows, in file order, on logs with escapes, nested attributes and trace attributes that
follow the events."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from lxml import etree

from itsm_doctor.intake.run import run_intake
from itsm_doctor.sources import xes_chunks, xes_parse
from itsm_doctor.sources.xes_chunks import event_batches
from itsm_doctor.sources.xes_parse import Malformed, stream_batches

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<!-- exported for a test -->
<log xes.version="1.0" xmlns="http://www.xes-standard.org/">
  <extension name="Concept" prefix="concept" uri="http://www.xes-standard.org/concept.xesext"/>
  <global scope="event"><string key="concept:name" value="__INVALID__"/></global>
  <string key="source" value="test"/>
"""
# a trace with escapes, a repeated key, a nested list and an attribute after its events
ODD = """  <trace><string key="concept:name" value="T&amp;{k}"/>
    <event><string key="concept:name" value="Open &lt;new&gt;"/>
      <date key="time:timestamp" value="2026-01-05T10:00:00+02:00"/>
      <string key="note" value="say &quot;hi&quot;&#10;twice"/><int key="n" value="1"/><int key="n" value="2"/></event>
    <event><string key="concept:name" value="Work"/><date key="time:timestamp" value="2026-01-05T11:00:00Z"/>
      <list key="tags"><values><string key="tag" value="a"/></values></list></event>
    <string key="customer" value="Ünïcode ☺"/>
  </trace>
"""
# a plain trace: one-line attributes of every type
PLAIN = """  <trace><string key="concept:name" value="P{k}"/>
    <event><string key="concept:name" value="Close"/><date key="time:timestamp" value="2026-01-06T09:00:00Z"/>
      <boolean key="ok" value="true"/><float key="cost" value="1.5"/><id key="ref" value="x-&#x263A;"/>
      <string key="org:resource" value="ana"/><string key="org:group" value="Desk"/>
      <string key="org:role" value="L1"/><string key="lifecycle:transition" value="complete"/></event>
  </trace>
"""
TAIL = "</log>\n"


def _log(n: int) -> str:
    """n groups of four PLAIN traces, every fourth group after an ODD trace: chunks of 4 KB are
    some plain, some not."""
    groups = [
        (ODD.format(k=k) if k % 4 == 0 else "") + "".join(PLAIN.format(k=f"{k}.{j}") for j in range(4))
        for k in range(n)
    ]
    return HEAD + "".join(groups) + TAIL


def _rows(tables: object) -> list[tuple[str | None, ...]]:
    out: list[tuple[str | None, ...]] = []
    for t in tables:  # type: ignore[attr-defined]
        out.extend(zip(*(t.column(f"c{i}").to_pylist() for i in range(len(xes_parse.HEADER))), strict=True))
    return out


def test_the_rows_of_each_kind_of_trace(tmp_path: Path) -> None:
    path = tmp_path / "log.xes"
    path.write_text(_log(1), encoding="utf-8")
    rows = _rows(event_batches(path, processes=1))
    assert rows[0] == (
        "T&0",
        "Open <new>",
        "2026-01-05T10:00:00+02:00",
        None,
        None,
        None,
        None,
        '{"note": "say \\"hi\\"\\ntwice", "n": "2"}',  # the last of a repeated key
        '{"customer": "Ünïcode ☺"}',  # read after the events
    )
    assert rows[1] == ("T&0", "Work", "2026-01-05T11:00:00Z", None, None, None, None, '{"tags": ""}', rows[0][8])
    assert rows[2] == (
        "P0.0",
        "Close",
        "2026-01-06T09:00:00Z",
        "ana",
        "Desk",
        "L1",
        "complete",
        '{"ok": "true", "cost": "1.5", "ref": "x-☺"}',
        None,
    )
    assert len(rows) == 6 and [r[0] for r in rows[3:]] == ["P0.1", "P0.2", "P0.3"]


def test_a_log_is_read_by_both_chunk_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "log.xes"
    path.write_text(_log(40), encoding="utf-8")
    seen = {"plain": 0, "lxml": 0}
    plain_rows = xes_parse._plain_rows

    def counted(data: bytes) -> list[tuple[str | None, ...]]:
        try:
            rows = plain_rows(data)
        except xes_parse._Refused:
            seen["lxml"] += 1
            raise
        seen["plain"] += 1
        return rows

    monkeypatch.setattr(xes_parse, "_plain_rows", counted)
    assert _rows(event_batches(path, processes=1, chunk_bytes=4096)) == _rows(stream_batches(path))
    assert seen == {"plain": 9, "lxml": 10}  # 19 chunks of about 4 KB; 10 hold an ODD trace


def test_plain_chunks_are_read_without_lxml_and_others_with_it() -> None:
    plain = "".join(PLAIN.format(k=j) for j in range(2)).encode()
    rows = xes_parse._plain_rows(plain)
    assert [r[0] for r in rows] == ["P0", "P1"] and rows[0][7] == '{"ok": "true", "cost": "1.5", "ref": "x-☺"}'
    escaped = PLAIN.format(k="&lt;1&gt;").replace('value="ana"', 'value="R&amp;D &quot;a&apos;s&quot;&#10;&#x263A;"')
    [row] = xes_parse._plain_rows(escaped.encode())
    assert (row[0], row[3]) == ("P<1>", 'R&D "a\'s"\n☺')
    arrow = PLAIN.format(k=2).replace('value="Close"', 'value="Open -> Close"')
    assert xes_parse._plain_rows(arrow.encode())[0][1] == "Open -> Close"  # a ">" in a value is no text
    one = PLAIN.format(k=1)
    for refused in (
        ODD.format(k=1),  # a nested list, escapes
        one.replace("<event>", "<event >"),
        "<trace>x</trace>",  # text
        one.replace("</event>", "</event>x"),
        one.replace('value="ana"/>', 'value="ana"/>x'),
        one.replace('value="ana"', 'value="a\x01na"'),  # characters XML refuses: lxml names them
        one.replace('value="ana"', 'value="a\uffffna"'),
        "\x0b" + one,  # white space to str.strip, not to XML
        one.replace("<event>", "<event>\x1c"),
    ):
        with pytest.raises(xes_parse._Refused):
            xes_parse._plain_rows(refused.encode())


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gzip"])
def test_one_and_two_processes_and_the_streaming_path_give_the_same_rows(tmp_path: Path, gz: bool) -> None:
    text = _log(60)
    path = tmp_path / ("log.xes.gz" if gz else "log.xes")
    if gz:
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text, encoding="utf-8")
    streamed = _rows(stream_batches(path))
    assert len(streamed) == 15 * 2 + 60 * 4 and streamed[0][0] == "T&0" and streamed[-1][0] == "P59.3"
    one = _rows(event_batches(path, processes=1, chunk_bytes=4096))
    two = _rows(event_batches(path, processes=2, chunk_bytes=4096))
    assert one == streamed and two == streamed


def test_a_malformed_chunk_sends_the_log_to_the_streaming_path(tmp_path: Path) -> None:
    text = _log(30)
    lines = text.splitlines(keepends=True)
    broken = next(i for i, line in enumerate(lines) if 'value="P20.1"' in line) + 1  # its first <event> line
    lines[broken] = lines[broken].replace("<event>", "<event", 1)
    path = tmp_path / "bad.xes"
    path.write_text("".join(lines), encoding="utf-8")
    with pytest.raises(Malformed):
        list(event_batches(path, processes=2, chunk_bytes=4096))
    with pytest.raises(etree.XMLSyntaxError) as err:
        list(stream_batches(path))
    assert err.value.position[0] == broken + 1  # the line, counted from 1
    from itsm_doctor.sources.base import IntakeError

    with pytest.raises(IntakeError, match=rf"bad.xes, row {broken + 1}: the XML is malformed"):
        run_intake([path], source="xes", workspace=tmp_path / "ws")


def test_a_log_with_a_doctype_is_read_whole(tmp_path: Path) -> None:
    path = tmp_path / "dtd.xes"
    text = _log(2).replace("<log ", '<!DOCTYPE log [<!ENTITY who "Bo">]>\n<log ', 1)
    path.write_text(text.replace('value="ana"', 'value="&who;"'), encoding="utf-8")
    with pytest.raises(Malformed):
        list(event_batches(path, processes=1))
    rows = _rows(stream_batches(path))
    assert len(rows) == 2 + 2 * 4 and rows[2][3] == "Bo"


def test_intake_accounts_for_every_event_and_names_its_position(tmp_path: Path) -> None:
    path = tmp_path / "log.xes"
    # the second event of T&0 repeated exactly (a duplicate), one time unreadable
    text = _log(3).replace(
        "</event>\n    <string",
        '</event><event><string key="concept:name" value="Work"/>'
        '<date key="time:timestamp" value="2026-01-05T11:00:00Z"/>'
        '<list key="tags"><values><string key="tag" value="a"/></values></list></event>\n    <string',
        1,
    )
    text = text.replace('value="2026-01-06T09:00:00Z"', 'value="soon"', 1)
    path.write_text(text, encoding="utf-8")
    result = run_intake([path], source="xes", workspace=tmp_path / "ws")
    [f] = result.files
    assert (f.rows_read, f.rows_accepted, f.rows_quarantined) == (3 + 3 * 4, 13, 2)
    assert f.reasons == {"exact_duplicate": 1, "unparseable_time": 1}
    assert {(e["reason"], e["row"]) for e in f.examples} == {("exact_duplicate", 3), ("unparseable_time", 4)}


def test_a_cut_inside_a_comment_is_read_again_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # a comment between traces holding "</trace>": some cuts fall inside it, and both halves of
    # the comment fail to parse; the streaming path then reads the log, whole and right
    text = _log(12).replace("</trace>\n  <trace>", "</trace>\n  <!-- </trace> cut here? -->\n  <trace>")
    path = tmp_path / "log.xes"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(Malformed):
        list(event_batches(path, processes=1, chunk_bytes=1000))
    monkeypatch.setattr(xes_chunks, "CHUNK_BYTES", 1000)
    result = run_intake([path], source="xes", workspace=tmp_path / "ws")
    [f] = result.files
    assert (f.rows_read, f.rows_quarantined, result.records["ticket"]) == (3 * 2 + 12 * 4, 0, 3 + 12 * 4)


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gzip"])
def test_a_log_in_another_encoding_is_read_whole(tmp_path: Path, gz: bool) -> None:
    text = _log(2).replace('encoding="UTF-8"', 'encoding="ISO-8859-1"').replace("Ünïcode ☺", "Ünïcode")
    data = text.encode("latin-1")
    path = tmp_path / ("log.xes.gz" if gz else "log.xes")
    path.write_bytes(gzip.compress(data) if gz else data)
    with pytest.raises(Malformed):
        list(event_batches(path, processes=1))
    rows = _rows(stream_batches(path))
    assert len(rows) == 2 + 2 * 4 and rows[0][8] == '{"customer": "Ünïcode"}'
    result = run_intake([path], source="xes", workspace=tmp_path / "ws")
    assert result.files[0].rows_read == 10
