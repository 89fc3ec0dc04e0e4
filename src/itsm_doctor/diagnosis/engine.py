"""From findings and symptoms to verdicts: a deterministic log-odds score per dysfunction.

For every dysfunction: ``score = prior + Σ weight × strength`` over its sign and symptom
rules, ``likelihood = 1 / (1 + e^-score)``. A sign's strength is how far its value lies past
the rule's threshold, in units of the rule's ``width``, capped at ±1 (the side that speaks
against the dysfunction is scaled by ``against``); a symptom's strength is (mean agreement − 3)
÷ 2. Verdict: ``present`` at ≥ 0.80, ``possible`` at ≥ 0.50, else ``absent``.

Evidence sufficiency (docs/adr/0007-diagnosis-evidence-sufficiency-and-contrasts.md): a verdict
rests on whatever evidence the records allow. A sign the records cannot give is listed under
``missing`` (with the examination's reason) and lowers ``confidence`` — the measured share of
the weight of the dysfunction's supporting rules — but never blocks: the verdict is
``undetermined`` only when fewer than ``min_signs`` *discriminating* signs can be measured and
no symptom was answered, or when it needs more visits than there are. A likelihood at the
``present`` level on less than half of the evidence weight (``confidence`` < 0.5) reads
``possible``: partial evidence may raise a suspicion, not settle it; and a likelihood below
``possible`` is ``absent`` only when the measured evidence leans against the dysfunction or
covers half its weight — else ``undetermined``: never ``absent`` for lack of data. Causes are
scored the same way from their own evidence, starting from the dysfunction's likelihood. See
docs/adr/0003-diagnosis-method.md.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from itsm_doctor.pathology import Catalog, Dysfunction, SignRule, SymptomRule

__all__ = ["MIN_CONFIDENCE", "POSSIBLE", "PRESENT", "diagnose", "sign_strength", "symptom_strength"]

PRESENT = 0.80
POSSIBLE = 0.50
MIN_CONFIDENCE = 0.5  # share of the supporting evidence weight measured before a verdict may be `present`


def _logistic(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def sign_strength(rule: SignRule, value: float) -> float:
    """In [-1, 1]: positive when the value is past the threshold on the dysfunction's side."""
    past = value - rule.above if rule.above is not None else rule.below - value  # type: ignore[operator]
    strength = max(-1.0, min(1.0, past / rule.width))
    if rule.role == "against":  # a differential: past the threshold it speaks against, else nothing
        return -max(strength, 0.0)
    return strength * rule.against if strength < 0 else strength


def symptom_strength(mean_agreement: float) -> float:
    return max(-1.0, min(1.0, (mean_agreement - 3.0) / 2.0))


def _evidence(
    signs: Sequence[SignRule],
    symptoms: Sequence[SymptomRule],
    values: Mapping[str, float | None],
    answers: Mapping[str, float],
) -> tuple[float, list[dict[str, Any]], int]:
    total, rows, computable = 0.0, [], 0
    for rule in signs:
        value = values.get(rule.sign)
        if value is None:
            continue
        computable += 1
        contribution = rule.weight * sign_strength(rule, float(value))
        total += contribution
        rows.append(
            {
                "kind": "sign",
                "id": rule.sign,
                "value": value,
                "supports": contribution > 0,
                "contribution": round(contribution, 4),
            }
        )
    for symptom in symptoms:
        if symptom.question not in answers:
            continue
        contribution = symptom.weight * symptom_strength(answers[symptom.question])
        total += contribution
        rows.append(
            {
                "kind": "symptom",
                "id": symptom.question,
                "value": round(answers[symptom.question], 3),
                "supports": contribution > 0,
                "contribution": round(contribution, 4),
            }
        )
    return total, rows, computable


def _sufficiency(
    d: Dysfunction, values: Mapping[str, float | None], reasons: Mapping[str, str | None]
) -> tuple[float, int, list[dict[str, Any]]]:
    """(confidence, discriminating signs measured, missing evidence) of one dysfunction."""
    supporting = [r for r in d.signs if r.role == "for"]
    whole = sum(r.weight for r in supporting)
    measured = [r for r in supporting if values.get(r.sign) is not None]
    confidence = sum(r.weight for r in measured) / whole if whole else 0.0
    discriminating = sum(1 for r in measured if r.discriminating)
    missing = [
        {
            "id": r.sign,
            "role": r.role,
            "weight": r.weight,
            "reason": reasons.get(r.sign) or "not measured on these records",
        }
        for r in d.signs
        if values.get(r.sign) is None
    ]
    return confidence, discriminating, missing


def _diagnose_one(
    d: Dysfunction,
    values: Mapping[str, float | None],
    answers: Mapping[str, float],
    visits: int,
    reasons: Mapping[str, str | None],
) -> dict[str, Any]:
    total, evidence, _computable = _evidence(d.signs, d.symptoms, values, answers)
    answered = any(e["kind"] == "symptom" for e in evidence)
    likelihood = _logistic(d.prior + total)
    confidence, discriminating, missing = _sufficiency(d, values, reasons)
    if visits < d.needs_visits or (discriminating < d.min_signs and not answered):
        verdict = "undetermined"
    elif likelihood >= PRESENT and (confidence >= MIN_CONFIDENCE or answered):
        verdict = "present"
    elif likelihood >= POSSIBLE:
        verdict = "possible"
    elif total >= 0 and confidence < MIN_CONFIDENCE and not answered:
        verdict = "undetermined"  # the little that is measured does not lean against it: not enough to clear it
    else:
        verdict = "absent"
    causes: list[dict[str, Any]] = []
    for cause in d.causes:
        c_total, c_evidence, _n = _evidence(cause.signs, cause.symptoms, values, answers)
        causes.append(
            {
                "id": cause.id,
                "name": cause.name,
                "likelihood": round(likelihood * _logistic(cause.prior + c_total), 4),
                "evidence": c_evidence,
            }
        )
    causes.sort(key=lambda c: (-float(c["likelihood"]), str(c["id"])))
    evidence.sort(key=lambda e: -abs(e["contribution"]))
    return {
        "id": d.id,
        "name": d.name,
        "verdict": verdict,
        "likelihood": round(likelihood, 4),
        "confidence": round(confidence, 4),
        "evidence": evidence,
        "missing": missing,
        "causes": causes,
    }


def diagnose(
    catalog: Catalog,
    *,
    values: Mapping[str, float | None],
    answers: Mapping[str, float] | None = None,
    visits: int = 1,
    reasons: Mapping[str, str | None] | None = None,
) -> list[dict[str, Any]]:
    """One diagnosis per dysfunction, present first, then possible, undetermined, absent.
    ``reasons`` (sign id → why it is n/a) are carried into each diagnosis's ``missing`` list."""
    order = {"present": 0, "possible": 1, "undetermined": 2, "absent": 3}
    out = [_diagnose_one(d, values, answers or {}, visits, reasons or {}) for d in catalog.dysfunctions]
    return sorted(out, key=lambda x: (order[x["verdict"]], -x["likelihood"], x["id"]))
