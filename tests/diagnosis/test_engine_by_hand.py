"""The diagnosis engine's every rule checked on values away from the caps, each number worked
out by hand in the comments from the catalog's priors, thresholds, widths and weights
(src/itsm_doctor/pathology/catalog/*.yaml). Likelihoods and confidences are compared exactly:
the diagnosis rounds them to four places, and the rounding is part of what it reports.

The rules: score = prior + Σ weight × strength; strength = (value − above) ÷ width or
(below − value) ÷ width, capped at ±1, the negative side times ``against``; a symptom's strength
is (mean agreement − 3) ÷ 2; likelihood = 1 / (1 + e^−score) (engine.py, docs/adr/0003 and 0007).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from itsm_doctor.diagnosis import diagnose, diagnose_examination, prescribe, sign_strength, symptom_strength
from itsm_doctor.pathology import Catalog, SignRule, load_catalog


def _one(
    dysfunction: str, values: dict[str, float | None], catalog: Catalog | None = None, **kw: Any
) -> dict[str, Any]:
    return next(d for d in diagnose(catalog or load_catalog(), values=values, **kw) if d["id"] == dysfunction)


def _alone(dysfunction: str, **changes: Any) -> Catalog:
    """A catalog of one dysfunction of the real catalog, with ``changes`` to its declaration."""
    return Catalog(dysfunctions=(load_catalog().get(dysfunction).model_copy(update=changes),))


def test_neutral_partial_evidence_is_undetermined_and_leaning_against_is_absent() -> None:
    # assignment-ping-pong (prior −2.5) reads ping-pong (weight 4), the pair share (1.5) and the
    # mean reassignments (1, corroborating): supporting weight 6.5. Only the pair share measured,
    # exactly at its threshold 0.30: strength 0, total 0, likelihood 1/(1+e^2.5) = 0.0759,
    # confidence 1.5/6.5 = 0.2308. The evidence neither leans against the dysfunction nor covers
    # half its weight: undetermined, not absent (docs/adr/0007).
    at = _one("assignment-ping-pong", {"incident.pair_ping_pong_share": 0.30})
    assert (at["verdict"], at["likelihood"], at["confidence"]) == ("undetermined", 0.0759, 0.2308)
    # 0.27: (0.27 − 0.30)/0.15 = −0.2 × 1.5 = −0.3; score −2.8, likelihood 1/(1+e^2.8) = 0.0573:
    # the little evidence there is speaks against it, which clears it
    below = _one("assignment-ping-pong", {"incident.pair_ping_pong_share": 0.27})
    assert (below["verdict"], below["likelihood"], below["confidence"]) == ("absent", 0.0573, 0.2308)
    assert below["evidence"][0]["contribution"] == -0.3 and below["evidence"][0]["supports"] is False


def test_one_diagnosis_in_full_with_its_evidence_missing_sign_and_causes() -> None:
    # assignment-ping-pong, prior −2.5, supporting weight 4 + 1.5 + 1 = 6.5
    values = {
        "incident.ping_pong_rate": 0.10,  # above 0.06, width 0.06: 0.04/0.06 = 0.6667 × 4 = 2.6667
        "incident.pair_ping_pong_share": None,  # not measured: listed as missing, confidence (4 + 1)/6.5 = 0.7692
        "incident.mean_reassignments": 0.6,  # exactly its threshold: strength 0, contribution 0, no support
        "records.completeness": 0.80,  # cause no-assignment-rules: below 0.85, width 0.05: capped at 1 × 1
        "incident.mttr": 19,  # cause missing-olas: above 24, width 10: −5/10 = −0.5 × 1
    }
    answers = {
        "nobody-owns-the-ticket": 13 / 3,  # (4.3333 − 3)/2 = 0.6667 × 1.5 = 1.0
        "groups-blame-each-other": 3.0,  # (3 − 3)/2 = 0: no support, in the dysfunction and its third cause
    }
    got = _one("assignment-ping-pong", values, answers=answers)
    # score −2.5 + 2.6667 + 0 + 1.0 + 0 = 1.1667, likelihood 1/(1+e^−1.1667) = 0.762542: possible
    likelihood = 1 / (1 + math.exp(-(-2.5 + 4 * 0.04 / 0.06 + 1.5 * (13 / 3 - 3) / 2)))
    assert likelihood == pytest.approx(0.762542, abs=1e-6)
    assert got == {
        "id": "assignment-ping-pong",
        "name": "Assignment ping-pong",
        "verdict": "possible",
        "likelihood": 0.7625,
        "confidence": 0.7692,
        # largest contribution first, whatever its kind; ties keep signs before symptoms
        "evidence": [
            {"kind": "sign", "id": "incident.ping_pong_rate", "value": 0.10, "supports": True, "contribution": 2.6667},
            {"kind": "symptom", "id": "nobody-owns-the-ticket", "value": 4.333, "supports": True, "contribution": 1.0},
            {"kind": "sign", "id": "incident.mean_reassignments", "value": 0.6, "supports": False, "contribution": 0.0},
            {"kind": "symptom", "id": "groups-blame-each-other", "value": 3.0, "supports": False, "contribution": 0.0},
        ],
        "missing": [
            {
                "id": "incident.pair_ping_pong_share",
                "role": "for",
                "weight": 1.5,
                "reason": "not measured on these records",
            }
        ],
        # cause likelihood = the dysfunction's (unrounded) × 1/(1+e^−(cause prior + its evidence)):
        # 0.762542 × 1/(1+e^−(0.5 + 1)) = 0.762542 × 0.817574 = 0.6234
        # 0.762542 × 1/(1+e^−(−0.3 + 0)) = 0.762542 × 0.425557 = 0.3245
        # 0.762542 × 1/(1+e^−(0 − 0.5)) = 0.762542 × 0.377541 = 0.2879
        "causes": [
            {
                "id": "no-assignment-rules",
                "name": "No assignment rules by service or CI",
                "likelihood": 0.6234,
                "evidence": [
                    {"kind": "sign", "id": "records.completeness", "value": 0.8, "supports": True, "contribution": 1.0}
                ],
            },
            {
                "id": "customer-words-categorisation",
                "name": "Tickets categorised by the customer's words, not the service",
                "likelihood": 0.3245,
                "evidence": [
                    {
                        "kind": "symptom",
                        "id": "groups-blame-each-other",
                        "value": 3.0,
                        "supports": False,
                        "contribution": 0.0,
                    }
                ],
            },
            {
                "id": "missing-olas",
                "name": "No operational level agreements between groups",
                "likelihood": 0.2879,
                "evidence": [
                    {"kind": "sign", "id": "incident.mttr", "value": 19, "supports": False, "contribution": -0.5}
                ],
            },
        ],
    }


def test_an_unanswered_symptom_does_not_hide_the_next_one() -> None:
    # only the second of assignment-ping-pong's two statements answered, by seven respondents with a
    # mean of 22/7 = 3.142857: (3.142857 − 3)/2 × 1.5 = 0.107143, reported as 0.1071 (value 3.143);
    # with ping-pong at 0.12 (capped, 4): score −2.5 + 4 + 0.107143 = 1.607143, likelihood 0.8330
    got = _one("assignment-ping-pong", {"incident.ping_pong_rate": 0.12}, answers={"groups-blame-each-other": 22 / 7})
    assert [(e["id"], e["value"], e["contribution"]) for e in got["evidence"]] == [
        ("incident.ping_pong_rate", 0.12, 4.0),
        ("groups-blame-each-other", 3.143, 0.1071),
    ]
    assert (got["verdict"], got["likelihood"]) == ("present", 0.833)


def test_symptom_strength_is_centred_on_neutral_and_capped() -> None:
    assert [symptom_strength(a) for a in (1.0, 2.0, 3.0, 4.0, 5.0)] == [-1.0, -0.5, 0.0, 0.5, 1.0]
    # a mean outside the 1–5 scale (a bank with another scale) is held at ±1 like a sign
    assert (symptom_strength(0.0), symptom_strength(7.0)) == (-1.0, 1.0)


def test_sign_strength_at_the_threshold_is_zero_on_either_side() -> None:
    half = SignRule(sign="incident.reopen_rate", below=0.8, width=0.1, weight=1, against=0.5)
    assert sign_strength(half, 0.8) == 0.0
    assert sign_strength(half, 0.85) == pytest.approx(-0.25)  # −0.5, halved


def test_the_present_and_half_weight_boundaries_are_inclusive() -> None:
    # prior ln 4 and ping-pong exactly at its threshold (contribution 0): likelihood
    # 1/(1 + e^−ln 4) = 1/(1 + 1/4) = 0.8 exactly, the present level; confidence 4/6.5
    at_present = _one(
        "assignment-ping-pong", {"incident.ping_pong_rate": 0.06}, _alone("assignment-ping-pong", prior=math.log(4))
    )
    assert (at_present["verdict"], at_present["likelihood"], at_present["confidence"]) == ("present", 0.8, 0.6154)
    # priority-not-driving-work reads two signs of weight 2.5 each: one measured is exactly half the
    # supporting weight, confidence 0.5, which may settle a verdict. With a prior of +1 and the class
    # ratio 0.5 (above 0.4, width 0.1: capped, 2.5): likelihood 1/(1+e^−3.5) = 0.9707, present
    half = _alone("priority-not-driving-work", prior=1.0)
    got = _one("priority-not-driving-work", {"incident.priority_class_ratio": 0.5}, half)
    assert (got["verdict"], got["likelihood"], got["confidence"]) == ("present", 0.9707, 0.5)
    # the real prior −2.5 and the ratio 0.42: 0.02/0.1 = 0.2 × 2.5 = 0.5, likelihood 1/(1+e^2) = 0.1192:
    # the evidence leans towards it, but covers half its weight: absent, not undetermined
    low = _one("priority-not-driving-work", {"incident.priority_class_ratio": 0.42})
    assert (low["verdict"], low["likelihood"], low["confidence"]) == ("absent", 0.1192, 0.5)


def test_min_signs_counts_the_discriminating_signs_measured() -> None:
    two = _alone("assignment-ping-pong", min_signs=2)
    # ping-pong alone: one discriminating sign of the two needed → undetermined, whatever its strength
    # (score −2.5 + 4 = 1.5, likelihood 0.8176)
    one = _one("assignment-ping-pong", {"incident.ping_pong_rate": 0.12}, two)
    assert (one["verdict"], one["likelihood"]) == ("undetermined", 0.8176)
    # the pair share too (0.45: capped, 1.5): two measured, score 3.0, likelihood 0.9526 → present
    both = _one("assignment-ping-pong", {"incident.ping_pong_rate": 0.12, "incident.pair_ping_pong_share": 0.45}, two)
    assert (both["verdict"], both["likelihood"]) == ("present", 0.9526)
    # the corroborating mean reassignments never counts: ping-pong + it is still one
    still = _one("assignment-ping-pong", {"incident.ping_pong_rate": 0.12, "incident.mean_reassignments": 1.0}, two)
    assert still["verdict"] == "undetermined"


def test_a_dysfunction_with_only_differential_rules_has_no_confidence() -> None:
    # desk-role-ambiguity cut down to its two 'against' rules: no supporting weight at all
    ambiguity = load_catalog().get("desk-role-ambiguity")
    only_against = tuple(r for r in ambiguity.signs if r.role == "against")
    assert len(only_against) == 2
    got = _one(
        "desk-role-ambiguity", {"desk.quick_escalation_rate": 0.01}, _alone("desk-role-ambiguity", signs=only_against)
    )
    # a differential below its threshold says nothing: score −2.5, likelihood 0.0759; nothing
    # supporting measured: confidence 0, undetermined
    assert (got["verdict"], got["likelihood"], got["confidence"]) == ("undetermined", 0.0759, 0.0)


def test_causes_of_equal_likelihood_are_ordered_by_id() -> None:
    # customer-neglect: survey response 0.14. Its own rule (below 0.22, width 0.05) is capped: 1.5,
    # score −1.0, likelihood 0.2689 (undetermined: 1.5 of 9.5 measured). Cause no-feedback-loop
    # (prior 0, below 0.15, width 0.05, weight 1.5): 0.2 × 1.5 = 0.3; no-response-targets: prior 0.3
    # and no evidence. Both 0.268941 × 1/(1+e^−0.3) = 0.1545: the tie goes by id
    got = _one("customer-neglect", {"incident.survey_response_rate": 0.14})
    assert (got["verdict"], got["likelihood"]) == ("undetermined", 0.2689)
    assert [(c["id"], c["likelihood"]) for c in got["causes"]] == [
        ("no-feedback-loop", 0.1545),
        ("no-response-targets", 0.1545),
    ]


def _ordering_values() -> dict[str, float | None]:
    return {
        # problem-management-absent: CI recurrence 0.30 (above 0.2, width 0.04: capped, 4); score 1.5,
        # likelihood 0.8176 but on 4 of 8.5 supporting weight (0.4706): possible
        "incident.ci_recurrence_rate": 0.30,
        # priority-inflation: downgrades 0.10 (above 0.06, width 0.04: capped, 3.5) and high share
        # 0.1195 (above 0.115, width 0.03: 0.15 × 3 = 0.45); score 1.45, likelihood 0.8100: present
        "incident.priority_downgrade_rate": 0.10,
        "incident.high_priority_share": 0.1195,
        # stagnant-improvement: every sign capped, 2.5 + 1.5 + 1.5; score 3.0, likelihood 0.9526, but
        # it needs two visits: undetermined on one
        "followup.improved_share": 0.05,
        "followup.register_done_share": 0.0,
        "followup.maturity_gap": 2.0,
        # assignment-ping-pong: 0.075 → 0.25 × 4 = 1; score −1.5, likelihood 0.1824 on 4 of 6.5: absent
        "incident.ping_pong_rate": 0.075,
    }


def test_diagnoses_are_ordered_by_verdict_then_likelihood_then_id() -> None:
    got = [(d["id"], d["verdict"], d["likelihood"]) for d in diagnose(load_catalog(), values=_ordering_values())]
    # the verdict decides first, even against a higher likelihood: possible 0.8176 after present
    # 0.8100, undetermined 0.9526 after possible, absent 0.1824 after undetermined 0.0759 (the
    # prior alone, 1/(1+e^2.5), for the eleven dysfunctions none of whose signs is measured)
    unmeasured = sorted(
        d.id
        for d in load_catalog().dysfunctions
        if d.id
        not in {"problem-management-absent", "priority-inflation", "stagnant-improvement", "assignment-ping-pong"}
    )
    assert got == [
        ("priority-inflation", "present", 0.81),
        ("problem-management-absent", "possible", 0.8176),
        ("stagnant-improvement", "undetermined", 0.9526),
        *[(i, "undetermined", 0.0759) for i in unmeasured],
        ("assignment-ping-pong", "absent", 0.1824),
    ]
    # with the second visit stagnant-improvement is settled: present, first
    second = diagnose(load_catalog(), values=_ordering_values(), visits=2)
    assert [(d["id"], d["verdict"]) for d in second[:2]] == [
        ("stagnant-improvement", "present"),
        ("priority-inflation", "present"),
    ]


def test_the_examination_passes_visits_reasons_and_sphere_on(tmp_path: Path) -> None:
    findings = [{"id": k, "value": v} for k, v in _ordering_values().items()]
    findings.append({"id": "incident.problem_link_share", "value": None, "reason": "no problem records"})
    diagnoses, prescriptions = diagnose_examination(findings, None)
    by_id = {d["id"]: d for d in diagnoses}
    assert by_id["stagnant-improvement"]["verdict"] == "undetermined"  # one visit by default
    missing = {m["id"]: m["reason"] for m in by_id["problem-management-absent"]["missing"]}
    assert missing == {
        "incident.problem_link_share": "no problem records",  # the finding's own n/a reason
        "problem.incident_link_rate": "not measured on these records",
        "incident.change_induced_share": "not measured on these records",
    }
    # enterprise by default: every sphere's prescriptions of the present and possible ones
    assert {p["sphere"] for p in prescriptions} == {"team", "department"}
    second, team = diagnose_examination(findings, None, visits=2, sphere="team")
    assert next(d for d in second if d["id"] == "stagnant-improvement")["verdict"] == "present"
    assert {p["sphere"] for p in team} == {"team"}
    assert {p["dysfunction"] for p in team} == {
        "stagnant-improvement",
        "priority-inflation",
        "problem-management-absent",
    }


def test_prescriptions_by_hand() -> None:
    catalog = load_catalog()
    diagnoses = [
        # an absent dysfunction listed first is skipped, not the end of the list
        {"id": "priority-inflation", "verdict": "absent", "likelihood": 0.3, "causes": []},
        {"id": "key-person-dependency", "verdict": "undetermined", "likelihood": 0.95, "causes": []},
        {
            "id": "assignment-ping-pong",
            "verdict": "possible",
            "likelihood": 0.7,
            "causes": [{"id": "no-assignment-rules", "likelihood": 0.4567}],
        },
        {
            "id": "premature-resolution",
            "verdict": "present",
            "likelihood": 0.9,
            "causes": [{"id": "no-verification", "likelihood": 0.8}],
        },
    ]
    got = prescribe(catalog, diagnoses)
    # expected effect = likelihood × (2 × the cause's likelihood, 0.5 when the cause was not scored,
    # or 1 without a cause), at most 1; ranked by sphere, then effect ÷ effort (low 1, medium 2):
    #   team:       confirm-before-close  0.9 × 2 × 0.8 = 1.44 → 1.0 (÷1 = 1.0)
    #               swarming              0.7 × 1 = 0.7 (÷1)
    #   department: measure-reopen-beside-speed 0.9 × 2 × 0.5 = 0.9 (÷1 = 0.9)
    #               olas-between-groups   0.7 × 2 × 0.5 = 0.7 (÷2 = 0.35)
    #               assignment-matrix     0.7 × 2 × 0.4567 = 0.63938 → 0.6394 (÷2 = 0.3197)
    assert [(p["id"], p["expected_effect"]) for p in got] == [
        ("confirm-before-close", 1.0),
        ("swarming", 0.7),
        ("measure-reopen-beside-speed", 0.9),
        ("olas-between-groups", 0.7),
        ("assignment-matrix", 0.6394),
    ]
    matrix = catalog.get("assignment-ping-pong").prescriptions[0]
    assert got[-1] == {
        "id": "assignment-matrix",
        "dysfunction": "assignment-ping-pong",
        "cause": "no-assignment-rules",
        "title": matrix.title,
        "practice": "incident management",
        "sphere": "department",
        "effort": "medium",
        "owner": "incident manager",
        "actions": list(matrix.actions),
        "moves": ["incident.ping_pong_rate", "incident.mean_reassignments"],
        "directions": {"incident.ping_pong_rate": "down", "incident.mean_reassignments": "down"},
        "follow_up_days": 60,
        "expected_effect": 0.6394,
    }
    assert got[1]["cause"] is None
    assert prescribe(catalog, diagnoses, sphere="enterprise") == got
    with pytest.raises(ValueError, match=r"^unknown sphere 'galaxy'; use one of team, department, enterprise$"):
        prescribe(catalog, diagnoses, sphere="galaxy")
