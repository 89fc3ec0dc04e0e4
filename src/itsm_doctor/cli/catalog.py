"""``itsm-doctor catalog``: print the libraries — signs, dysfunctions, questions."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer
from rich.table import Table

from itsm_doctor.cli._common import out
from itsm_doctor.signs import SIGNS

__all__ = ["CATALOG_HELP", "catalog"]

CATALOG_HELP = "Print a library with its definitions: signs, dysfunctions or questions."


class Library(StrEnum):
    signs = "signs"
    dysfunctions = "dysfunctions"
    questions = "questions"


def _signs() -> None:
    table = Table(title=f"{len(SIGNS)} signs", title_justify="left", show_lines=True)
    for col in ("id", "area", "unit", "better", "good / poor", "definition"):
        table.add_column(col, overflow="fold")
    for s in SIGNS:
        band = f"{s.benchmark.good:g} / {s.benchmark.poor:g}\n[dim]{s.benchmark.source}[/dim]"
        table.add_row(s.id, s.area, s.unit, s.direction, band, s.definition)
    out.print(table)


def _questions() -> None:
    from itsm_doctor.assessment.maturity import load_maturity_bank

    bank = load_maturity_bank()
    for practice in bank.practices:
        table = Table(title=practice.name, title_justify="left")
        for col in ("id", "level", "statement"):
            table.add_column(col, overflow="fold")
        for c in practice.criteria:
            table.add_row(c.id, str(c.level), c.statement)
        out.print(table)
    try:
        from itsm_doctor.assessment.bank import load_symptom_bank  # type: ignore[import-not-found,attr-defined,unused-ignore]
    except ImportError:
        return
    symptoms = Table(title="Symptom statements (1 disagree … 5 agree)", title_justify="left")
    for col in ("id", "statement", "dysfunctions"):
        symptoms.add_column(col, overflow="fold")
    for s in load_symptom_bank().statements:
        symptoms.add_row(s.id, s.statement, ", ".join(s.dysfunctions))
    out.print(symptoms)


def _dysfunctions() -> None:
    from itsm_doctor.pathology import load_catalog

    table = Table(title="Dysfunctions", title_justify="left", show_lines=True)
    for col in ("id", "name", "signs", "description"):
        table.add_column(col, overflow="fold")
    for d in load_catalog().dysfunctions:
        table.add_row(d.id, d.name, ", ".join(rule.sign for rule in d.signs), d.description)
    out.print(table)


def catalog(library: Annotated[Library, typer.Argument(help="Which library to print.")] = Library.signs) -> None:
    {"signs": _signs, "questions": _questions, "dysfunctions": _dysfunctions}[library.value]()
