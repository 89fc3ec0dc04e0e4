from __future__ import annotations

from pathlib import Path

from itsm_doctor.records.schema import SCHEMAS

DOC = Path(__file__).parents[1] / "docs" / "records.md"


def test_every_canonical_field_is_described_in_docs_records() -> None:
    text = DOC.read_text(encoding="utf-8")
    for table, schema in SCHEMAS.items():
        section = text.split(f"## `{table}`", 1)[1].split("\n## ", 1)[0]
        for field in schema:
            line = next((ln for ln in section.splitlines() if ln.startswith(f"| `{field.name}` |")), None)
            assert line is not None, f"{table}.{field.name} missing from docs/records.md"
            assert line.rstrip(" |").split("|")[-1].strip(), f"{table}.{field.name} has no meaning"


def test_docs_records_lists_every_word_of_the_vocabularies() -> None:
    from itsm_doctor.records.vocabulary import CLOSURE_CODES, LIFECYCLE_ACTIVITIES

    text = DOC.read_text(encoding="utf-8")
    for section, words in (("### Closure codes", CLOSURE_CODES), ("### Lifecycle of event logs", LIFECYCLE_ACTIVITIES)):
        table = text.split(section, 1)[1].split("\n### ", 1)[0]
        rows = {line.split("|")[1].strip(): line.split("|")[2] for line in table.splitlines() if line.startswith("| ")}
        for word, target in words.items():
            assert f"`{word}`" in rows.get(target, ""), f"{word!r} → {target} missing from docs/records.md"
