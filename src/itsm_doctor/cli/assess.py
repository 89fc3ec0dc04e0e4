"""``itsm-doctor assess``: ask the questionnaire in the terminal and write the answers file."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from itsm_doctor.assessment.answers import ROLES, AnswersError, AnswersFile, Respondent, load_answers, save_answers
from itsm_doctor.assessment.maturity import LEVEL_NAMES, load_maturity_bank, score_practices
from itsm_doctor.cli._common import EXIT_USAGE, err, out

__all__ = ["ASSESS_HELP", "assess"]

ASSESS_HELP = """Ask the maturity questionnaire (and the symptom statements) in the terminal.

One practice at a time ("practice 3 of 12"); answers are saved to ANSWERS_FILE after every
practice, so you can stop with [bold]q[/bold] and run the same command later to continue
where you left off. Several respondents can share one file (give each a --respondent name
and a --role). Capability criteria are answered y (we do this) or n (we do not); symptom
statements 1 (strongly disagree) to 5 (strongly agree); [bold]s[/bold] skips a question,
[bold]b[/bold] goes back to change the previous answer, [bold]q[/bold] saves and stops.

The file names its patient (--patient, else the file's, else the workspace's only patient)
and feeds `itsm-doctor examine --symptoms ANSWERS_FILE`.
"""

_SCALE = "1 strongly disagree · 2 disagree · 3 neither · 4 agree · 5 strongly agree"
_KEYS_YES_NO = "y yes, we do this · n no · s skip · b back to the previous question · q save and stop"
_KEYS_AGREE = f"{_SCALE} · s skip · b back · q save and stop"


class _Stop(Exception):
    pass


class _Back(Exception):
    pass


_SKIP = object()


def _reply(prompt: str, keys: str) -> str:
    reply = str(typer.prompt(f"{prompt} [{keys}]", default="", show_default=False)).strip().lower()
    if reply in ("q", "quit"):
        raise _Stop
    if reply in ("b", "back"):
        raise _Back
    return reply


def _ask_yes_no(prompt: str) -> object:
    while True:
        reply = _reply(prompt, "y/n/s/b/q")
        if reply in ("y", "yes"):
            return True
        if reply in ("n", "no"):
            return False
        if reply in ("s", "skip"):
            return _SKIP
        err.print(f"answer {_KEYS_YES_NO}", highlight=False)


def _ask_agreement(prompt: str) -> object:
    while True:
        reply = _reply(prompt, "1-5/s/b/q")
        if reply in ("1", "2", "3", "4", "5"):
            return int(reply)
        if reply in ("s", "skip"):
            return _SKIP
        err.print(f"answer {_KEYS_AGREE}", highlight=False)


def _ask_all(
    questions: Sequence[tuple[str, str]], answers: dict[str, bool | int], ask: Callable[[str], object]
) -> None:
    """Ask each (id, prompt) in turn; ``b`` steps back to the previous one and asks it again,
    a skip clears an answer given before."""
    i = 0
    while i < len(questions):
        qid, prompt = questions[i]
        try:
            value = ask(f"  {i + 1}/{len(questions)} {prompt}")
        except _Back:
            if i == 0:
                err.print("  (this is the first question of the section)", highlight=False)
            i = max(0, i - 1)
            continue
        if value is _SKIP:
            answers.pop(qid, None)
        else:
            answers[qid] = value  # type: ignore[assignment]
        i += 1


def _symptom_statements() -> list[tuple[str, str]]:
    """(id, statement) of the symptom bank, when it is installed."""
    try:
        from itsm_doctor.assessment.bank import load_symptom_bank  # type: ignore[attr-defined,unused-ignore]
    except ImportError:
        return []
    return [(s.id, s.statement) for s in load_symptom_bank().statements]


def _patient_name(answers: AnswersFile, patient: str | None, workspace: Path | None) -> str:
    """The patient the answers are about: the one named, else the file's, else the
    workspace's only patient, else ``patient``."""
    if patient:
        return patient
    if answers.patient:
        return answers.patient
    if workspace is not None and (workspace / "itsm-doctor.db").is_file():
        from itsm_doctor.store import Store

        known = Store.open(workspace=workspace).every_patient()
        if len(known) == 1:
            return known[0][1].slug
    return "patient"


def assess(
    answers_file: Annotated[Path, typer.Argument(help="YAML answers file to create or continue.")],
    respondent: Annotated[str, typer.Option(help="Who answers (a name or an alias).")],
    role: Annotated[str, typer.Option(help=f"The respondent's role: {', '.join(ROLES)}.")],
    practice: Annotated[
        list[str] | None, typer.Option(help="Only these practices (repeatable); default all.", show_default=False)
    ] = None,
    symptoms: Annotated[bool, typer.Option(help="Also ask the symptom statements.")] = True,
    patient: Annotated[
        str | None, typer.Option(help="Patient the answers are about; default the file's, else the workspace's.")
    ] = None,
    workspace: Annotated[
        Path | None, typer.Option(help="Workspace whose only patient the answers are about.", show_default=False)
    ] = None,
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
    name = _patient_name(answers, patient, workspace)
    if answers.patient and answers.patient != name:
        err.print(f"error: {answers_file} holds answers about {answers.patient!r}, not {name!r}; use another file")
        raise typer.Exit(EXIT_USAGE)
    answers.patient = name
    person = answers.respondent(respondent)
    if person is None:
        person = Respondent(name=respondent, role=role)  # type: ignore[arg-type]
        answers.respondents.append(person)
    elif person.role != role:
        err.print(f"error: {respondent!r} already answered as {person.role}; use that role or another name")
        raise typer.Exit(EXIT_USAGE)
    person.answered_at = datetime.now(UTC).date()
    stopped = False
    out.print(f"Questionnaire about {name!r}, answered by {respondent} ({role}).", markup=False, highlight=False)
    out.print(f"Capability criteria: {_KEYS_YES_NO}.", markup=False, highlight=False)
    try:
        for number, p in enumerate(chosen, start=1):
            todo = [(c.id, f"L{c.level} {c.statement}") for c in p.criteria if c.id not in person.answers]
            if not todo:
                continue
            out.print(
                f"\n[bold]Practice {number} of {len(chosen)}: {escape(p.name)}[/bold] — {len(todo)} question(s)",
                highlight=False,
            )
            _ask_all(todo, person.answers, _ask_yes_no)
            save_answers(answers_file, answers)
        if symptoms:
            todo_symptoms = [(i, s) for i, s in _symptom_statements() if i not in person.answers]
            if todo_symptoms:
                out.print(f"\n[bold]What you see[/bold] — {len(todo_symptoms)} statement(s)")
                out.print(f"Answer with how much you agree: {_KEYS_AGREE}.", markup=False, highlight=False)
                _ask_all(todo_symptoms, person.answers, _ask_agreement)
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
