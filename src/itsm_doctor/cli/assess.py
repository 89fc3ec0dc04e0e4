"""``itsm-doctor assess``: ask the questionnaire in the terminal and write the answers file."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from itsm_doctor.assessment.answers import ROLES, AnswersError, AnswersFile, Respondent, load_answers, save_answers
from itsm_doctor.assessment.maturity import LEVEL_NAMES, load_maturity_bank, score_practices
from itsm_doctor.cli._common import EXIT_USAGE, err, out

__all__ = ["ASSESS_HELP", "assess"]

ASSESS_HELP = """Ask the maturity questionnaire (and the symptom statements) in the terminal.

One practice at a time; answers are saved to ANSWERS_FILE after every practice, so you can
stop with [bold]q[/bold] and run the same command later to continue where you left off. Several
respondents can share one file (give each a --respondent name and a --role). Answer capability
criteria with y / n, symptom statements with 1 (strongly disagree) to 5 (strongly agree);
[bold]s[/bold] skips a question, [bold]q[/bold] saves and stops.

The file feeds `itsm-doctor examine --symptoms ANSWERS_FILE`.
"""


class _Stop(Exception):
    pass


def _ask_yes_no(prompt: str) -> bool | None:
    while True:
        reply = typer.prompt(f"{prompt} [y/n/s/q]", default="", show_default=False).strip().lower()
        if reply in ("y", "yes"):
            return True
        if reply in ("n", "no"):
            return False
        if reply in ("s", "skip"):
            return None
        if reply in ("q", "quit"):
            raise _Stop
        err.print("answer y (yes), n (no), s (skip) or q (save and stop)")


def _ask_agreement(prompt: str) -> int | None:
    while True:
        reply = typer.prompt(f"{prompt} [1-5/s/q]", default="", show_default=False).strip().lower()
        if reply in ("1", "2", "3", "4", "5"):
            return int(reply)
        if reply in ("s", "skip"):
            return None
        if reply in ("q", "quit"):
            raise _Stop
        err.print("answer 1 (strongly disagree) … 5 (strongly agree), s (skip) or q (save and stop)")


def _symptom_statements() -> list[tuple[str, str]]:
    """(id, statement) of the symptom bank, when it is installed."""
    try:
        from itsm_doctor.assessment.bank import load_symptom_bank  # type: ignore[attr-defined]
    except ImportError:
        return []
    return [(s.id, s.statement) for s in load_symptom_bank().statements]


def assess(
    answers_file: Annotated[Path, typer.Argument(help="YAML answers file to create or continue.")],
    respondent: Annotated[str, typer.Option(help="Who answers (a name or an alias).")],
    role: Annotated[str, typer.Option(help=f"The respondent's role: {', '.join(ROLES)}.")],
    practice: Annotated[
        list[str] | None, typer.Option(help="Only these practices (repeatable); default all.", show_default=False)
    ] = None,
    symptoms: Annotated[bool, typer.Option(help="Also ask the symptom statements.")] = True,
) -> None:
    if role not in ROLES:
        err.print(f"error: unknown role {role!r}; use one of {', '.join(ROLES)}")
        raise typer.Exit(EXIT_USAGE)
    bank = load_maturity_bank()
    chosen = [p for p in bank.practices if not practice or p.id in practice]
    unknown = sorted(set(practice or ()) - {p.id for p in bank.practices})
    if unknown:
        err.print(f"error: unknown practice(s) {', '.join(unknown)}; see `itsm-doctor catalog questions`")
        raise typer.Exit(EXIT_USAGE)
    try:
        answers = load_answers(answers_file) if answers_file.exists() else AnswersFile()
    except AnswersError as exc:
        err.print(f"error: {exc}", markup=False)
        raise typer.Exit(EXIT_USAGE) from None
    person = answers.respondent(respondent)
    if person is None:
        person = Respondent(name=respondent, role=role)  # type: ignore[arg-type]
        answers.respondents.append(person)
    elif person.role != role:
        err.print(f"error: {respondent!r} already answered as {person.role}; use that role or another name")
        raise typer.Exit(EXIT_USAGE)
    person.answered_at = datetime.now(UTC).date()
    stopped = False
    try:
        for p in chosen:
            todo = [c for c in p.criteria if c.id not in person.answers]
            if not todo:
                continue
            out.print(f"\n[bold]{p.name}[/bold] — {len(todo)} question(s)")
            for c in todo:
                value = _ask_yes_no(f"  L{c.level} {c.statement}")
                if value is not None:
                    person.answers[c.id] = value
            save_answers(answers_file, answers)
        if symptoms:
            todo_symptoms = [(i, s) for i, s in _symptom_statements() if i not in person.answers]
            if todo_symptoms:
                out.print(f"\n[bold]What you see[/bold] — {len(todo_symptoms)} statement(s)")
                for qid, statement in todo_symptoms:
                    agreement = _ask_agreement(f"  {statement}")
                    if agreement is not None:
                        person.answers[qid] = agreement
                save_answers(answers_file, answers)
    except _Stop:
        stopped = True
    save_answers(answers_file, answers)
    table = Table(title=f"Maturity as {respondent} sees it", title_justify="left")
    table.add_column("practice")
    table.add_column("level", justify="right")
    for score in score_practices([(person.name, person.role, person.answers)], bank=bank):
        if score.level is not None:
            table.add_row(score.practice, f"{score.level} {LEVEL_NAMES[score.level]}")
    out.print(table)
    out.print(f"{'Saved (stopped early; run again to continue)' if stopped else 'Saved'}: {answers_file}")
