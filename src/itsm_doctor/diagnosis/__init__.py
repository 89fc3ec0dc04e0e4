"""Diagnosis: every dysfunction of the catalog scored from the signs and the symptoms."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from itsm_doctor.assessment.answers import load_answers
from itsm_doctor.diagnosis.engine import MIN_CONFIDENCE, POSSIBLE, PRESENT, diagnose, sign_strength, symptom_strength
from itsm_doctor.diagnosis.treatment import SPHERES, prescribe
from itsm_doctor.pathology import load_catalog

__all__ = [
    "MIN_CONFIDENCE",
    "POSSIBLE",
    "PRESENT",
    "SPHERES",
    "diagnose",
    "diagnose_examination",
    "mean_answers",
    "prescribe",
    "sign_strength",
    "symptom_strength",
]


def mean_answers(path: Path) -> dict[str, float]:
    """Mean agreement (1–5) per symptom statement over the respondents who answered it."""
    answers = load_answers(path)
    sums: dict[str, list[float]] = {}
    for r in answers.respondents:
        for qid, value in r.answers.items():
            if not isinstance(value, bool):
                sums.setdefault(qid, []).append(float(value))
    return {q: sum(v) / len(v) for q, v in sums.items()}


def diagnose_examination(
    signs: Sequence[dict[str, Any]], symptoms: Path | None, *, visits: int = 1, sphere: str = "enterprise"
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The examination's diagnosis step: (diagnoses, prescriptions) as JSON-ready dicts."""
    catalog = load_catalog()
    values = {str(s["id"]): s.get("value") for s in signs}
    reasons = {str(s["id"]): s.get("reason") for s in signs if s.get("value") is None}
    answers = mean_answers(symptoms) if symptoms else {}
    diagnoses = diagnose(catalog, values=values, answers=answers, visits=visits, reasons=reasons)
    return diagnoses, prescribe(catalog, diagnoses, sphere=sphere)
