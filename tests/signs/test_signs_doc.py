"""docs/signs.md is generated from the registry and must not go stale."""

from __future__ import annotations

from pathlib import Path

from itsm_doctor.signs import SIGNS
from itsm_doctor.signs.document import render_markdown

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
