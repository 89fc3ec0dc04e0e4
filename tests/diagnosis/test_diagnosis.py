"""Diagnosis: one YAML file of cases per dysfunction (tests/diagnosis/cases/<id>.yaml), and
the engine's rules checked by hand."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
import yaml

from itsm_doctor.assessment import load_symptom_bank
from itsm_doctor.diagnosis import diagnose, diagnose_examination, prescribe, sign_strength
from itsm_doctor.pathology import Catalog, CatalogError, SignRule, load_catalog

CASES = Path(__file__).parent / "cases"


def _cases() -> list[Any]:
    out = []
    for path in sorted(CASES.glob("*.yaml")):
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
        for case in spec["cases"]:
            out.append(pytest.param(spec["dysfunction"], case, id=f"{spec['dysfunction']}::{case['name']}"))
    return out


def _verdict(dysfunction: str, case: dict[str, Any], catalog: Catalog | None = None) -> dict[str, Any]:
    dx = diagnose(
        catalog or load_catalog(), values=case["signs"], answers=case.get("answers"), visits=case.get("visits", 1)
    )
    return next(d for d in dx if d["id"] == dysfunction)


@pytest.mark.parametrize(("dysfunction", "case"), _cases())
def test_dysfunction_case(dysfunction: str, case: dict[str, Any]) -> None:
    got = _verdict(dysfunction, case)
    _check(dysfunction, case, got)


def _check(dysfunction: str, case: dict[str, Any], got: dict[str, Any], catalog: Catalog | None = None) -> None:
    """A case holds: its verdict, and where given its likelihood (to 1e-4, so that weights and
    widths are checked, not only the sign of the evidence), confidence and missing evidence;
    ``lower_than_present: X`` — the likelihood lies at least X below the one with every
    supporting sign 1.5 widths past its threshold."""
    if "lower_than_present" in case:
        base = {k: v for k, v in case.items() if k != "lower_than_present"}
        d = (catalog or load_catalog()).get(dysfunction)
        strong = {
            r.sign: (r.above + 1.5 * r.width if r.above is not None else r.below - 1.5 * r.width)  # type: ignore[operator]
            for r in d.signs
            if r.role == "for"
        }
        strong |= {k: v for k, v in case["signs"].items() if k not in strong}
        reference = _verdict(dysfunction, {**base, "signs": strong}, catalog)
        assert reference["likelihood"] - got["likelihood"] >= case["lower_than_present"] > 0, (reference, got)
        assert any(e["id"] in case["signs"] and not e["supports"] for e in got["evidence"])
        return
    assert got["verdict"] == case["expected"], got
    if "likelihood" in case:
        assert got["likelihood"] == pytest.approx(case["likelihood"], abs=1e-4), got
    if "confidence" in case:
        assert got["confidence"] == pytest.approx(case["confidence"], abs=1e-4), got
    if "missing" in case:
        assert [m["id"] for m in got["missing"] if m["role"] == "for"] == case["missing"]


def test_flipping_any_rule_fails_a_case() -> None:
    """Every sign rule matters to some case: turned around (``above`` ↔ ``below`` at the same
    threshold), at least one case of its dysfunction no longer holds."""
    catalog = load_catalog()
    survivors = []
    for d in catalog.dysfunctions:
        cases = next(c for dys, c in _by_dysfunction() if dys == d.id)
        for i, rule in enumerate(d.signs):
            side = {"above": rule.below, "below": None} if rule.above is None else {"above": None, "below": rule.above}
            flipped = rule.model_copy(update=side)
            mutant = Catalog(dysfunctions=(d.model_copy(update={"signs": (*d.signs[:i], flipped, *d.signs[i + 1 :])}),))
            still = True
            for case in cases:
                try:
                    _check(d.id, case, _verdict(d.id, case, mutant), mutant)
                except AssertionError:
                    still = False
                    break
            if still:
                survivors.append(f"{d.id}: {rule.sign}")
    assert survivors == []


def _by_dysfunction() -> list[tuple[str, list[dict[str, Any]]]]:
    out = []
    for path in sorted(CASES.glob("*.yaml")):
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
        out.append((spec["dysfunction"], spec["cases"]))
    return out


def test_every_dysfunction_has_present_absent_and_undetermined_cases() -> None:
    catalog = load_catalog()
    covered = {}
    for path in CASES.glob("*.yaml"):
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert path.stem == spec["dysfunction"]
        covered[spec["dysfunction"]] = {c.get("expected") for c in spec["cases"]}
    assert set(covered) == set(catalog.ids)
    for dysfunction, verdicts in covered.items():
        assert {"present", "absent", "undetermined"} <= verdicts, dysfunction


def test_catalog_covers_design_ids_and_questions_both_ways() -> None:
    catalog = load_catalog()
    required = {
        "desk-role-ambiguity",
        "desk-role-conflict",
        "assignment-ping-pong",
        "wait-user-abuse",
        "problem-management-absent",
        "change-induced-incidents",
        "priority-not-driving-work",
        "priority-inflation",
        "backlog-growth",
        "premature-resolution",
        "ungoverned-process",
        "key-person-dependency",
        "push-to-front-failure",
        "customer-neglect",
        "stagnant-improvement",
    }
    assert required <= set(catalog.ids)
    bank = load_symptom_bank()
    assert catalog.question_ids <= bank.ids  # no unknown question in the catalog
    for statement in bank.statements:
        assert set(statement.dysfunctions) <= set(catalog.ids)
    for d in catalog.dysfunctions:
        assert any(d.id in s.dysfunctions for s in bank.statements), f"{d.id} has no symptom statement"


def test_sign_strength_by_hand() -> None:
    rule = SignRule(sign="incident.ping_pong_rate", above=0.06, width=0.06, weight=4.5)
    assert sign_strength(rule, 0.09) == pytest.approx(0.5)
    assert sign_strength(rule, 0.50) == 1.0
    assert sign_strength(rule, 0.0) == -1.0
    half = SignRule(sign="incident.reopen_rate", below=0.8, width=0.1, weight=1, against=0.5)
    assert sign_strength(half, 0.95) == pytest.approx(-0.5)  # capped at -1, then halved
    differential = SignRule(sign="desk.quick_escalation_rate", above=0.08, width=0.05, weight=3, role="against")
    assert sign_strength(differential, 0.01) == 0.0
    assert sign_strength(differential, 0.105) == pytest.approx(-0.5)


def test_likelihood_is_the_logistic_of_prior_plus_contributions() -> None:
    got = _verdict(
        "assignment-ping-pong", {"signs": {"incident.ping_pong_rate": 0.09, "incident.mean_reassignments": 0.6}}
    )
    # prior −2.5, ping-pong +0.5 × 4 = 2, mean reassignments exactly at its threshold: 0
    assert got["likelihood"] == pytest.approx(1 / (1 + math.exp(-(-2.5 + 2.0))), abs=1e-4)
    assert got["verdict"] == "absent"
    # the pair contrast was not measured: 5 of the 6.5 points of supporting weight were
    assert got["confidence"] == pytest.approx(5 / 6.5, abs=1e-4)
    assert [m["id"] for m in got["missing"]] == ["incident.pair_ping_pong_share"]


def test_changing_one_sign_flips_exactly_the_dysfunctions_that_use_it() -> None:
    catalog = load_catalog()
    healthy = {
        "incident.ping_pong_rate": 0.01,
        "incident.mean_reassignments": 0.3,
        "incident.quick_reopen_rate": 0.02,
        "incident.reopen_rate": 0.02,
        "incident.out_of_scope_rate": 0.02,
        "incident.customer_satisfaction": 0.87,
        "incident.priority_downgrade_rate": 0.01,
        "incident.high_priority_share": 0.09,
    }
    before = {d["id"]: d["verdict"] for d in diagnose(catalog, values=healthy)}
    after = {d["id"]: d["verdict"] for d in diagnose(catalog, values={**healthy, "incident.ping_pong_rate": 0.30})}
    changed = {k for k in before if before[k] != after[k]}
    users = {d.id for d in catalog.dysfunctions if any(r.sign == "incident.ping_pong_rate" for r in d.signs)}
    assert changed == {"assignment-ping-pong"} and changed <= users
    # −2.5 + 4 (ping-pong capped) − 0.5 (mean reassignments 0.3: one width below, half weight) = 1
    assert after["assignment-ping-pong"] == "possible" and before["assignment-ping-pong"] == "absent"


def test_prescriptions_respect_the_sphere_and_rank_team_first() -> None:
    catalog = load_catalog()
    dx = diagnose(catalog, values={"incident.ping_pong_rate": 0.3, "incident.mean_reassignments": 1.2})
    team = prescribe(catalog, dx, sphere="team")
    assert {p["sphere"] for p in team} == {"team"} and [p["id"] for p in team] == ["swarming"]
    department = prescribe(catalog, dx, sphere="department")
    assert [p["sphere"] for p in department] == ["team", "department", "department"]
    assert department[0]["moves"] == ["incident.ping_pong_rate"]
    with pytest.raises(ValueError, match="unknown sphere"):
        prescribe(catalog, dx, sphere="galaxy")


def test_symptoms_file_enters_the_diagnosis(tmp_path: Path) -> None:
    answers = tmp_path / "answers.yaml"
    answers.write_text(
        "respondents:\n"
        "  - {name: a, role: customer, answers: {never-asked-but-waiting: 5, sla-green-users-angry: 5}}\n"
        "  - {name: b, role: team_lead, answers: {sla-green-users-angry: 4}}\n",
        encoding="utf-8",
    )
    signs = [{"id": "incident.wait_user_near_deadline", "value": 0.35}, {"id": "incident.wait_user_rate", "value": 0.2}]
    without, _ = diagnose_examination(signs, None)
    with_symptoms, _ = diagnose_examination(signs, answers)
    w0 = next(d for d in without if d["id"] == "wait-user-abuse")
    w1 = next(d for d in with_symptoms if d["id"] == "wait-user-abuse")
    assert w1["likelihood"] > w0["likelihood"]
    symptom = next(e for e in w1["evidence"] if e["id"] == "sla-green-users-angry")
    assert symptom == {
        "kind": "symptom",
        "id": "sla-green-users-angry",
        "value": 4.5,
        "supports": True,
        "contribution": pytest.approx(1.5 * 0.75),
    }


def test_a_malformed_catalog_file_names_file_and_field(tmp_path: Path) -> None:
    good = Path(__file__).parents[2] / "src/itsm_doctor/pathology/catalog/key-person-dependency.yaml"
    (tmp_path / "key-person-dependency.yaml").write_text(good.read_text(encoding="utf-8"), encoding="utf-8")
    load_catalog(tmp_path)  # the copy loads
    bad = yaml.safe_load(good.read_text(encoding="utf-8"))
    bad["signs"][0]["sign"] = "incident.astrology_rate"
    (tmp_path / "key-person-dependency.yaml").write_text(yaml.safe_dump(bad), encoding="utf-8")
    with pytest.raises(
        CatalogError, match=r"key-person-dependency.yaml: field signs: unknown sign 'incident.astrology_rate'"
    ):
        load_catalog(tmp_path)
    bad = yaml.safe_load(good.read_text(encoding="utf-8"))
    bad["prescriptions"][0]["sphere"] = "galaxy"
    (tmp_path / "key-person-dependency.yaml").write_text(yaml.safe_dump(bad), encoding="utf-8")
    with pytest.raises(CatalogError, match=r"key-person-dependency.yaml: field prescriptions.0.sphere"):
        load_catalog(tmp_path)
    (tmp_path / "key-person-dependency.yaml").write_text("id: [unclosed", encoding="utf-8")
    with pytest.raises(CatalogError, match="not valid YAML"):
        load_catalog(tmp_path)


def test_docs_pathology_is_fresh() -> None:
    from itsm_doctor.pathology.document import render

    doc = Path(__file__).parents[2] / "docs" / "pathology.md"
    assert doc.read_text(encoding="utf-8") == render(), "run: python -m itsm_doctor.pathology.document"
