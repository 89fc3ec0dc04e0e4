"""The questionnaire in the browser, as plain functions (no web framework here): which
questions a role answers, reading a submitted form into answers, and what the owner sees —
progress per role, the spread between roles per practice, and the self-assessed against the
evidenced maturity.

The questions are the assessment's (``maturity.yaml`` and ``symptoms.yaml``), the answers
the shape ``itsm-doctor assess`` writes (criterion id → yes/no, statement id → 1..5), the
scoring ``score_practices`` and the evidence ``followup.maturity``: nothing is asked or
scored twice.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from markupsafe import Markup

from itsm_doctor.assessment.answers import ROLES, AnswersError, AnswersFile, Respondent
from itsm_doctor.assessment.bank import load_symptom_bank
from itsm_doctor.assessment.maturity import DISAGREEMENT_LEVELS, LEVEL_NAMES, load_maturity_bank, score_practices
from itsm_doctor.followup.maturity import evidenced_maturity, maturity_gaps
from itsm_doctor.report.charts import radar_svg
from itsm_doctor.store.questionnaire import invitation_state
from itsm_doctor.store.questionnaire_models import Invitation

__all__ = [
    "LIVE_STATES",
    "ROLE_LABELS",
    "MaturityRow",
    "Question",
    "RoleProgress",
    "Section",
    "SpreadRow",
    "answered_count",
    "answers_file",
    "progress",
    "read_answers",
    "sections_for",
    "self_against_evidence",
    "spread",
]

ROLE_LABELS = {
    "agent": "Service-desk or support agent",
    "team_lead": "Team lead",
    "process_owner": "Process owner",
    "manager": "IT manager",
    "customer": "Customer (a user of the services)",
}
# a customer sees the service from outside: the capability criteria (how IT works inside)
# are not theirs to judge, only the statements asked of customers
ROLES_WITHOUT_CRITERIA = frozenset({"customer"})
LIVE_STATES = frozenset({"invited", "started"})
YES_NO = {"yes": True, "no": False}


@dataclass(frozen=True, kw_only=True)
class Question:
    id: str
    kind: str  # "criterion" (yes/no) | "symptom" (1..5)
    statement: str
    level: int | None = None


@dataclass(frozen=True, kw_only=True)
class Section:
    title: str
    kind: str
    questions: tuple[Question, ...]


def sections_for(role: str) -> list[Section]:
    """The questions of ``role``: each practice's capability criteria (level by level), then
    the symptom statements asked of the role."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; use one of {', '.join(ROLES)}")
    sections = []
    if role not in ROLES_WITHOUT_CRITERIA:
        for p in load_maturity_bank().practices:
            qs = tuple(
                Question(id=c.id, kind="criterion", statement=c.statement, level=c.level)
                for c in sorted(p.criteria, key=lambda c: c.level)
            )
            sections.append(Section(title=p.name, kind="criterion", questions=qs))
    statements = tuple(
        Question(id=s.id, kind="symptom", statement=s.statement)
        for s in load_symptom_bank().statements
        if s.asked_of == role
    )
    if statements:
        sections.append(Section(title="What you see", kind="symptom", questions=statements))
    return sections


def _question_ids(sections: Iterable[Section]) -> dict[str, str]:
    return {q.id: q.kind for s in sections for q in s.questions}


def read_answers(form: Mapping[str, str], *, role: str) -> tuple[dict[str, bool | int], list[str]]:
    """The answers a form carries for ``role``'s questions (an empty choice leaves a question
    unanswered, as ``s`` does in the terminal) and the problems found; fields that are not
    the role's questions are ignored."""
    kinds = _question_ids(sections_for(role))
    answers: dict[str, bool | int] = {}
    problems = []
    for qid, kind in kinds.items():
        raw = (form.get(qid) or "").strip().lower()
        if not raw:
            continue
        if kind == "criterion":
            if raw not in YES_NO:
                problems.append(f"{qid}: answer yes or no")
                continue
            answers[qid] = YES_NO[raw]
        else:
            if raw not in {"1", "2", "3", "4", "5"}:
                problems.append(f"{qid}: answer 1 (strongly disagree) to 5 (strongly agree)")
                continue
            answers[qid] = int(raw)
    if not problems:  # the same check an answers file gets
        try:
            AnswersFile(respondents=[Respondent(name="web", role=role, answers=answers)]).check(  # type: ignore[arg-type]
                criteria=load_maturity_bank().criterion_ids, symptoms=load_symptom_bank().ids, where="form"
            )
        except AnswersError as exc:
            problems.append(str(exc))
    return answers, problems


def answered_count(answers: Mapping[str, Any], *, role: str) -> tuple[int, int]:
    """(questions of the role answered, questions of the role)."""
    kinds = _question_ids(sections_for(role))
    return sum(1 for q in kinds if q in answers), len(kinds)


@dataclass(frozen=True, kw_only=True)
class RoleProgress:
    """Invitations of one role: invited (every link sent), started (a draft saved, or
    submitted), submitted, and lapsed (expired or withdrawn before submitting)."""

    role: str
    label: str
    invited: int = 0
    started: int = 0
    submitted: int = 0
    lapsed: int = 0


def progress(invitations: Sequence[Invitation], *, now: datetime) -> list[RoleProgress]:
    """Progress per role, in the roles' order, for the roles that have invitations."""
    counts: dict[str, dict[str, int]] = {}
    for inv in invitations:
        c = counts.setdefault(inv.role, {"invited": 0, "started": 0, "submitted": 0, "lapsed": 0})
        state = invitation_state(inv, now=now)
        c["invited"] += 1
        if inv.started_at is not None or state == "submitted":
            c["started"] += 1
        if state == "submitted":
            c["submitted"] += 1
        if state in ("expired", "withdrawn"):
            c["lapsed"] += 1
    return [RoleProgress(role=r, label=ROLE_LABELS[r], **counts[r]) for r in ROLES if r in counts]


@dataclass(frozen=True, kw_only=True)
class SpreadRow:
    """One practice: each role's median level (and how many rated it), the range between the
    roles' medians, and whether the roles disagree (range ≥ 2 levels, the assessment's rule)."""

    practice: str
    name: str
    level: int | None
    by_role: dict[str, tuple[float, int]] = field(default_factory=dict)
    lowest: float | None = None
    highest: float | None = None

    @property
    def range(self) -> float | None:
        return None if self.lowest is None or self.highest is None else self.highest - self.lowest

    @property
    def disagree(self) -> bool:
        return self.range is not None and len(self.by_role) > 1 and self.range >= DISAGREEMENT_LEVELS


def _respondents(answer_sets: Sequence[Any]) -> list[tuple[str, str, Mapping[str, Any]]]:
    """``(name, role, answers)`` per answer set; two respondents with one name stay apart."""
    criteria = load_maturity_bank().criterion_ids
    return [
        (f"{a.respondent}#{a.id}", a.role, {k: v for k, v in (a.answers or {}).items() if k in criteria})
        for a in answer_sets
    ]


def spread(answer_sets: Sequence[Any]) -> list[SpreadRow]:
    """The spread between roles per practice, from the patient's answer sets."""
    bank = load_maturity_bank()
    people = _respondents(answer_sets)
    role_of = {name: role for name, role, _ in people}
    rows = []
    for score in score_practices(people, bank=bank):
        per_role: dict[str, list[int]] = {}
        for name, level in score.by_respondent.items():
            per_role.setdefault(role_of[name], []).append(level)
        by_role = {r: (float(statistics.median(per_role[r])), len(per_role[r])) for r in ROLES if r in per_role}
        medians = [m for m, _ in by_role.values()]
        rows.append(
            SpreadRow(
                practice=score.practice,
                name=bank.practice(score.practice).name,
                level=score.level,
                by_role=by_role,
                lowest=min(medians) if medians else None,
                highest=max(medians) if medians else None,
            )
        )
    return rows


@dataclass(frozen=True, kw_only=True)
class MaturityRow:
    practice: str
    name: str
    self_level: int | None
    evidenced: int | None
    gap: int | None
    reasons: tuple[str, ...]

    @property
    def self_name(self) -> str:
        return "" if self.self_level is None else LEVEL_NAMES[self.self_level]


def self_against_evidence(
    answer_sets: Sequence[Any], visit_signs: Sequence[Sequence[Mapping[str, Any]]]
) -> tuple[list[MaturityRow], Markup | None]:
    """Per practice the self-assessed level (median over respondents, as the examination
    scores it), the level the latest visit's records evidence (``followup.maturity``, earlier
    visits for level 5) and the gap (self − evidenced); with the report's radar when both
    sides exist. ``visit_signs``: visits' signs, oldest first (the first and the latest suffice)."""
    bank = load_maturity_bank()
    scores = {s.practice: s.level for s in score_practices(_respondents(answer_sets), bank=bank)}
    evidenced = evidenced_maturity(visit_signs[-1], earlier_visits=visit_signs[:-1]) if visit_signs else []
    reasons = {e.practice: e.reasons for e in evidenced}
    gaps = (
        maturity_gaps(scores, evidenced)
        if evidenced
        else {p: {"self": v, "evidenced": None, "gap": None} for p, v in scores.items()}
    )
    rows = [
        MaturityRow(
            practice=p.id,
            name=p.name,
            self_level=gaps.get(p.id, {}).get("self"),
            evidenced=gaps.get(p.id, {}).get("evidenced"),
            gap=gaps.get(p.id, {}).get("gap"),
            reasons=reasons.get(p.id, ()),
        )
        for p in bank.practices
    ]
    both = {r.practice: {"self": r.self_level, "evidenced": r.evidenced} for r in rows if r.self_level is not None}
    svg = radar_svg(both) if evidenced and len(both) >= 3 else ""
    return rows, (Markup(svg) if svg else None)  # radar_svg escapes every string it writes


def answers_file(patient: str, answer_sets: Sequence[Any]) -> AnswersFile:
    """The patient's answer sets as the answers file ``itsm-doctor assess`` writes (for
    ``examine --symptoms``); a respondent's name is made unique with a number when repeated."""
    seen: dict[str, int] = {}
    people = []
    for a in answer_sets:
        seen[a.respondent] = seen.get(a.respondent, 0) + 1
        name = a.respondent if seen[a.respondent] == 1 else f"{a.respondent} ({seen[a.respondent]})"
        people.append(
            Respondent(name=name, role=a.role, answered_at=a.answered_at.date(), answers=dict(a.answers or {}))
        )
    return AnswersFile(patient=patient, respondents=people)
