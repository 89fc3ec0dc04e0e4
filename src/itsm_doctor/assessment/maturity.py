"""Maturity per practice: the capability criteria (data in ``maturity.yaml``) and scoring.

A respondent's level for a practice is the highest level L such that every criterion of
levels 1..L is answered yes (CMMI's staged rule: a level counts only with all lower ones).
A criterion left unanswered counts as not met, and is reported. The practice's level is the
median over the respondents who rated it, rounded down (a half level is not a level).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

__all__ = [
    "LEVEL_NAMES",
    "MANAGER_ROLES",
    "Criterion",
    "MaturityBank",
    "PracticeCriteria",
    "PracticeScore",
    "load_maturity_bank",
    "score_practices",
]

LEVEL_NAMES = {0: "incomplete", 1: "initial", 2: "managed", 3: "defined", 4: "quantitatively managed", 5: "optimizing"}
MANAGER_ROLES = frozenset({"team_lead", "process_owner", "manager"})
# Agents and managers two levels apart on the same practice is itself a finding.
DISAGREEMENT_LEVELS = 2


class Criterion(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")
    level: int = Field(ge=1, le=5)
    statement: str = Field(min_length=10)
    rationale: str = Field(min_length=10)


class PracticeCriteria(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")
    name: str
    criteria: tuple[Criterion, ...]

    @model_validator(mode="after")
    def _every_level_has_criteria(self) -> PracticeCriteria:
        missing = sorted({1, 2, 3, 4, 5} - {c.level for c in self.criteria})
        if missing:
            raise ValueError(f"practice {self.id!r} has no criterion for level(s) {missing}")
        return self


class MaturityBank(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    levels: dict[int, str]
    practices: tuple[PracticeCriteria, ...]

    @model_validator(mode="after")
    def _ids_are_unique(self) -> MaturityBank:
        seen: set[str] = set()
        for p in self.practices:
            for c in p.criteria:
                if c.id in seen:
                    raise ValueError(f"criterion id {c.id!r} is used twice")
                seen.add(c.id)
        return self

    def practice(self, practice_id: str) -> PracticeCriteria:
        for p in self.practices:
            if p.id == practice_id:
                return p
        raise KeyError(practice_id)

    @property
    def criterion_ids(self) -> frozenset[str]:
        return frozenset(c.id for p in self.practices for c in p.criteria)


@cache
def load_maturity_bank() -> MaturityBank:
    """The bundled criteria, validated."""
    text = (resources.files("itsm_doctor.assessment") / "maturity.yaml").read_text(encoding="utf-8")
    try:
        return MaturityBank.model_validate(yaml.safe_load(text))
    except ValidationError as exc:
        raise ValueError(f"maturity.yaml: {exc}") from exc


@dataclass(frozen=True, kw_only=True)
class PracticeScore:
    """The maturity of one practice across respondents."""

    practice: str
    level: int | None
    by_respondent: dict[str, int]
    by_role: dict[str, float]
    unanswered: dict[str, int] = field(default_factory=dict)

    @property
    def spread(self) -> int:
        levels = list(self.by_respondent.values())
        return max(levels) - min(levels) if levels else 0

    @property
    def role_gap(self) -> float | None:
        """Median level of managers minus median level of agents (None unless both rated)."""
        agents = self.by_role.get("agent")
        managers = [v for r, v in self.by_role.items() if r in MANAGER_ROLES]
        if agents is None or not managers:
            return None
        return statistics.median(managers) - agents

    @property
    def roles_disagree(self) -> bool:
        gap = self.role_gap
        return gap is not None and abs(gap) >= DISAGREEMENT_LEVELS

    def as_json(self) -> dict[str, Any]:
        return {
            "practice": self.practice,
            "level": self.level,
            "level_name": None if self.level is None else LEVEL_NAMES[self.level],
            "spread": self.spread,
            "by_respondent": self.by_respondent,
            "by_role": self.by_role,
            "role_gap": self.role_gap,
            "roles_disagree": self.roles_disagree,
            "unanswered": self.unanswered,
        }


def _respondent_level(practice: PracticeCriteria, answers: Mapping[str, Any]) -> tuple[int | None, int]:
    """(level, criteria left unanswered); level None when no criterion of the practice was answered."""
    answered = [c for c in practice.criteria if c.id in answers]
    unanswered = len(practice.criteria) - len(answered)
    if not answered:
        return None, unanswered
    level = 0
    for lv in range(1, 6):
        if all(answers.get(c.id) is True for c in practice.criteria if c.level == lv):
            level = lv
        else:
            break
    return level, unanswered


def score_practices(
    respondents: Sequence[tuple[str, str, Mapping[str, Any]]], *, bank: MaturityBank | None = None
) -> list[PracticeScore]:
    """Score every practice from ``(respondent, role, answers)`` triples (answers: id → bool)."""
    bank = bank or load_maturity_bank()
    scores = []
    for practice in bank.practices:
        by_respondent: dict[str, int] = {}
        per_role: dict[str, list[int]] = {}
        unanswered: dict[str, int] = {}
        for name, role, answers in respondents:
            level, missing = _respondent_level(practice, answers)
            if level is None:
                continue
            by_respondent[name] = level
            per_role.setdefault(role, []).append(level)
            if missing:
                unanswered[name] = missing
        overall = math.floor(statistics.median(by_respondent.values())) if by_respondent else None
        scores.append(
            PracticeScore(
                practice=practice.id,
                level=overall,
                by_respondent=by_respondent,
                by_role={r: float(statistics.median(v)) for r, v in sorted(per_role.items())},
                unanswered=unanswered,
            )
        )
    return scores
