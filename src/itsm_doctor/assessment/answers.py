"""The answers file: several respondents, their roles, and their answers by question id.

One YAML file serves the maturity criteria (yes/no) and the symptom statements (agreement
1–5, 1 = strongly disagree, 5 = strongly agree)::

    patient: acme-it
    respondents:
      - name: Ana
        role: agent            # agent | team_lead | process_owner | manager | customer
        answered_at: 2026-11-20
        answers:
          desk-l2-every-contact-logged: yes
          desk-unsure-what-to-resolve: 4

``itsm-doctor assess`` writes it; ``examine --symptoms FILE`` reads it. A CSV with the columns
``respondent, role, question, answer`` (one row per answer) is read the same way.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

__all__ = ["ROLES", "AnswersError", "AnswersFile", "Respondent", "load_answers", "save_answers"]

Role = Literal["agent", "team_lead", "process_owner", "manager", "customer"]
ROLES: tuple[str, ...] = ("agent", "team_lead", "process_owner", "manager", "customer")
_YES = {"yes", "y", "true", "1"}
_NO = {"no", "n", "false", "0"}


class AnswersError(Exception):
    """An answers file that cannot be used; the message names the file and the place."""


class Respondent(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    role: Role
    answered_at: date | None = None
    answers: dict[str, bool | int] = Field(default_factory=dict)


class AnswersFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    patient: str | None = None
    respondents: list[Respondent] = Field(default_factory=list)

    def respondent(self, name: str) -> Respondent | None:
        return next((r for r in self.respondents if r.name == name), None)

    def check(self, *, criteria: Iterable[str], symptoms: Iterable[str], where: str) -> None:
        """Every question id is known; criteria are yes/no and symptoms 1–5."""
        crit, symp = set(criteria), set(symptoms)
        for r in self.respondents:
            for qid, value in r.answers.items():
                at = f"{where}: respondent {r.name!r}, question {qid!r}"
                if qid in crit:
                    if not isinstance(value, bool):
                        raise AnswersError(f"{at}: a capability criterion is answered yes or no, not {value!r}")
                elif qid in symp:
                    if isinstance(value, bool) or not 1 <= value <= 5:
                        raise AnswersError(f"{at}: a symptom statement is answered 1 (disagree) to 5 (agree)")
                else:
                    raise AnswersError(f"{at}: unknown question id (see `itsm-doctor catalog questions`)")


def _coerce(value: str) -> bool | int:
    text = value.strip().lower()
    if text in _YES:
        return True
    if text in _NO:
        return False
    return int(text)


def _read_csv(path: Path) -> AnswersFile:
    people: dict[str, Respondent] = {}
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        need = {"respondent", "role", "question", "answer"}
        if not need <= set(reader.fieldnames or ()):
            raise AnswersError(f"{path}: row 1: the CSV needs the columns {', '.join(sorted(need))}")
        for i, row in enumerate(reader, start=2):
            try:
                value = _coerce(row["answer"])
                person = people.setdefault(row["respondent"], Respondent(name=row["respondent"], role=row["role"]))  # type: ignore[arg-type]
            except (ValueError, ValidationError) as exc:
                raise AnswersError(f"{path}: row {i}: {exc}") from None
            if person.role != row["role"]:
                raise AnswersError(f"{path}: row {i}, column 'role': {row['respondent']!r} has two roles")
            person.answers[row["question"]] = value
    return AnswersFile(respondents=list(people.values()))


def load_answers(path: Path) -> AnswersFile:
    """Read a YAML (or CSV) answers file; errors name the file and where in it."""
    if not path.exists():
        raise AnswersError(f"{path}: no such answers file")
    if path.suffix.lower() == ".csv":
        return _read_csv(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise AnswersError(f"{path}: not valid YAML: {exc}") from None
    try:
        return AnswersFile.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        place = ".".join(str(p) for p in first["loc"])
        raise AnswersError(f"{path}: {place}: {first['msg']}") from None


def save_answers(path: Path, answers: AnswersFile) -> None:
    """Write the answers file (atomically, so an interrupted session never leaves half a file)."""
    data = answers.model_dump(mode="json", exclude_none=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    tmp.replace(path)
