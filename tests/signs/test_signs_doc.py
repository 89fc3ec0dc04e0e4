"""docs/signs.md is generated from the registry and must not go stale."""

from __future__ import annotations

import locale
import sys
from pathlib import Path

import pytest

from itsm_doctor.signs import SIGNS
from itsm_doctor.signs.document import main, render_markdown

DOC = Path(__file__).resolve().parents[2] / "docs" / "signs.md"


def test_docs_signs_is_fresh() -> None:
    assert DOC.read_text(encoding="utf-8") == render_markdown(), (
        "docs/signs.md is stale: run `python -m itsm_doctor.signs.document docs/signs.md`"
    )


def test_every_sign_is_documented_with_its_band_and_source() -> None:
    text = render_markdown()
    for sign in SIGNS:
        assert f"### `{sign.id}` — {sign.name}" in text
        assert sign.benchmark.source in text


def test_main_writes_the_file_named_as_utf8_whatever_the_locale(tmp_path: Path) -> None:
    target = tmp_path / "signs.md"
    # the page holds non-ASCII text (the em dash of every heading); in the C locale (ASCII, as on
    # a bare server) a file written without its encoding would fail
    assert "—" in render_markdown()
    before = locale.setlocale(locale.LC_CTYPE)
    try:
        locale.setlocale(locale.LC_CTYPE, "C")
        assert main([str(target)]) == 0
    finally:
        locale.setlocale(locale.LC_CTYPE, before)
    assert target.read_bytes() == render_markdown().encode("utf-8")


def test_main_reads_the_command_line_and_defaults_to_docs_signs_md(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "docs").mkdir()
    monkeypatch.setattr(sys, "argv", ["itsm_doctor.signs.document", "named.md"])
    assert main() == 0
    assert (tmp_path / "named.md").read_text(encoding="utf-8") == render_markdown()
    assert not (tmp_path / "docs" / "signs.md").exists()
    monkeypatch.setattr(sys, "argv", ["itsm_doctor.signs.document"])
    assert main() == 0
    assert (tmp_path / "docs" / "signs.md").read_text(encoding="utf-8") == render_markdown()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["docs", "named.md"]
