"""``itsm-doctor catalog``: print the libraries — signs, dysfunctions, questions."""

from __future__ import annotations

import textwrap
from enum import StrEnum
from typing import Annotated

import typer
from rich.rule import Rule
from rich.text import Text

from itsm_doctor.cli._common import out
from itsm_doctor.signs import AREAS, SIGNS

__all__ = ["CATALOG_HELP", "catalog"]

CATALOG_HELP = "Print a library with its definitions: signs, dysfunctions or questions."


class Library(StrEnum):
    signs = "signs"
    dysfunctions = "dysfunctions"
    questions = "questions"


_UNIT_WORDS = {"ratio": "share (%)", "h": "hours", "count": "count", "rho": "rank correlation"}


def _block(head: str, lines: list[str]) -> None:
    """One entry: its id and name on a line (never cut), then indented lines wrapped at words
    — the same at 80 columns, in a wide terminal and through a pipe."""
    out.print(Text(head, style="bold"))
    indent = " " * 6
    for line in lines:
        # textwrap, not a table cell: an id or a word is never cut, and no line is padded
        wrapped = textwrap.fill(
            line,
            width=max(40, out.width),
            initial_indent=indent,
            subsequent_indent=indent,
            break_long_words=False,
            break_on_hyphens=False,
        )
        out.print(Text(wrapped), soft_wrap=True)


def _signs() -> None:
    from itsm_doctor.report.view import format_value

    out.print(f"{len(SIGNS)} signs, by audit area (the id is what --json, the pathology and scripts use)")
    for area in AREAS:
        signs = [s for s in SIGNS if s.area == area]
        if not signs:
            continue
        out.print(Rule(f"{area.capitalize()} ({len(signs)})", align="left", style="dim"))
        for s in signs:
            better, worse = ("≥", "≤") if s.direction == "higher" else ("≤", "≥")
            band = (
                f"good {better} {format_value(s.benchmark.good, s.unit)} · "
                f"poor {worse} {format_value(s.benchmark.poor, s.unit)}"
            )
            _block(
                f"{s.id} — {s.name}",
                [
                    f"{_UNIT_WORDS.get(s.unit, s.unit)}, {s.direction} is better · {band}",
                    f"band source: {s.benchmark.source}",
                    s.definition,
                ],
            )


def _questions() -> None:
    from itsm_doctor.assessment.maturity import load_maturity_bank

    bank = load_maturity_bank()
    for practice in bank.practices:
        out.print(Rule(practice.name, align="left", style="dim"))
        for c in practice.criteria:
            _block(f"{c.id} (level {c.level})", [c.statement])
    try:
        from itsm_doctor.assessment.bank import load_symptom_bank  # type: ignore[import-not-found,attr-defined,unused-ignore]
    except ImportError:
        return
    out.print(Rule("Symptom statements (1 disagree … 5 agree)", align="left", style="dim"))
    for s in load_symptom_bank().statements:
        _block(s.id, [s.statement, f"dysfunctions: {', '.join(s.dysfunctions)}"])


def _dysfunctions() -> None:
    from itsm_doctor.pathology import load_catalog

    dysfunctions = load_catalog().dysfunctions
    out.print(f"{len(dysfunctions)} dysfunctions (the id is what --json and the register use)")
    for d in dysfunctions:
        _block(
            f"{d.id} — {d.name}",
            [d.description, f"signs: {', '.join(rule.sign for rule in d.signs) or 'none'}"],
        )


def catalog(library: Annotated[Library, typer.Argument(help="Which library to print.")] = Library.signs) -> None:
    {"signs": _signs, "questions": _questions, "dysfunctions": _dysfunctions}[library.value]()
