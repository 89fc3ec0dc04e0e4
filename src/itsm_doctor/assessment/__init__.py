"""Assessment: the questionnaire as data — maturity criteria per practice and symptom statements."""

from __future__ import annotations

from itsm_doctor.assessment.answers import AnswersError, AnswersFile, load_answers, save_answers
from itsm_doctor.assessment.bank import SymptomBank, load_symptom_bank
from itsm_doctor.assessment.maturity import load_maturity_bank, score_practices

__all__ = [
    "AnswersError",
    "AnswersFile",
    "SymptomBank",
    "load_answers",
    "load_maturity_bank",
    "load_symptom_bank",
    "save_answers",
    "score_practices",
]
