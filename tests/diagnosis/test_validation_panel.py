"""A small version of `make validate`: simulated patients on fresh seeds are diagnosed right."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

PANEL = Path(__file__).parents[2] / "validation" / "panel.py"
_spec = importlib.util.spec_from_file_location("validation_panel", PANEL)
assert _spec is not None and _spec.loader is not None
panel = importlib.util.module_from_spec(_spec)
sys.modules["validation_panel"] = panel
_spec.loader.exec_module(panel)


def test_small_panel(tmp_path: Path) -> None:
    truths = [
        {},
        {"assignment-ping-pong": 0.8},
        {"wait-user-abuse": 0.7, "premature-resolution": 0.6},
        {"desk-role-ambiguity": 0.9, "change-induced-incidents": 0.7},
        {"push-to-front-failure": 0.8, "problem-management-absent": 0.8},
    ]
    results = [(t, panel.examine_patient(t, 9_500 + i, 2_000, tmp_path)) for i, t in enumerate(truths)]
    for truth, dx in results:
        called = {d["id"] for d in dx if d["verdict"] in ("present", "possible")}
        assert set(truth) <= called, (truth, called)
        present = {d["id"] for d in dx if d["verdict"] == "present"}
        assert present <= set(truth), (truth, present)
    summary = panel.score(results)
    assert summary["healthy_with_present"] == 0


INDEPENDENT = Path(__file__).parents[2] / "validation" / "independent.py"
_spec2 = importlib.util.spec_from_file_location("validation_independent", INDEPENDENT)
assert _spec2 is not None and _spec2.loader is not None
independent = importlib.util.module_from_spec(_spec2)
sys.modules["validation_independent"] = independent
_spec2.loader.exec_module(independent)


def test_panel2_patients_rotate_variants_and_never_reuse_calibration_seeds() -> None:
    scored = independent.patients()
    calibration = independent.patients(first_seed=independent.CALIBRATION_SEED)
    assert len(scored) == 8 + 14 * 3 * 2
    assert {p.seed for p in scored}.isdisjoint({p.seed for p in calibration})
    assert [p.variant for p in scored[:4]] == ["snapshot", "gaps", "closed-only", "closed-only-gaps"]
    assert all(0.75 <= p.dominant_share <= 0.94 for p in scored)
    assert sum(1 for p in scored if p.dysfunction == "backlog-growth" and p.severity == "mild") == 2


def test_panel2_score_by_hand() -> None:
    P = independent.Patient
    ids = [d for d in panel.load_catalog().ids if d != "stagnant-improvement"]

    def dx(called: dict[str, str]) -> list[dict[str, str]]:
        return [{"id": i, "verdict": called.get(i, "absent")} for i in ids]

    results = [
        (P(seed=1, dysfunction=None, severity=None, variant="snapshot", dominant_share=0.8), dx({})),
        (
            P(seed=2, dysfunction=None, severity=None, variant="gaps", dominant_share=0.8),
            dx({"backlog-growth": "present"}),
        ),
        (P(seed=3, dysfunction="backlog-growth", severity="mild", variant="gaps", dominant_share=0.8), dx({})),
        (
            P(seed=4, dysfunction="backlog-growth", severity="strong", variant="closed-only", dominant_share=0.8),
            dx({"backlog-growth": "possible", "customer-neglect": "possible"}),
        ),
        (
            P(seed=5, dysfunction="customer-neglect", severity="mild", variant="snapshot", dominant_share=0.8),
            dx({"customer-neglect": "present", "wait-user-abuse": "undetermined"}),
        ),
    ]
    s = independent.score(results)
    bg = s["per_dysfunction"]["backlog-growth"]
    assert bg["sensitivity"] == 0.5 and bg["by_severity"] == {"mild": 0.0, "moderate": None, "strong": 1.0}
    assert bg["specificity"] == 2 / 3 and bg["false_present"] == 1  # healthy seed 2, of seeds 1, 2, 5
    assert s["per_dysfunction"]["wait-user-abuse"]["specificity"] == 4 / 5  # undetermined is a miss
    assert s["healthy"] == 2 and s["healthy_with_present"] == 1 and s["healthy_present_ids"] == ["backlog-growth"]
    assert s["by_variant"] == {"snapshot": 1.0, "gaps": 0.0, "closed-only": 1.0, "closed-only-gaps": None}
    assert s["confusion"] == {"backlog-growth": {"customer-neglect": 1}}


def test_panel2_small(tmp_path: Path) -> None:
    """Three realistic patients through the ServiceNow snapshot layout: a healthy one with audit
    gaps and only closed tickets is called sick of nothing; strong ping-pong and moderate
    key-person dependency are found, nothing else is called present."""
    P = independent.Patient
    cases = [
        P(seed=31_900, dysfunction=None, severity=None, variant="closed-only-gaps", dominant_share=0.9),
        P(seed=31_901, dysfunction="assignment-ping-pong", severity="strong", variant="gaps", dominant_share=0.8),
        P(
            seed=31_902,
            dysfunction="key-person-dependency",
            severity="moderate",
            variant="snapshot",
            dominant_share=0.85,
        ),
    ]
    for p in cases:
        dx, values = independent.examine(p, tickets=1_500, work=tmp_path)
        present = {d["id"] for d in dx if d["verdict"] == "present"}
        called = present | {d["id"] for d in dx if d["verdict"] == "possible"}
        assert present <= set(p.truth), (p, present)
        assert set(p.truth) <= called, (p, called)
        assert values["incident.reassignment_rate"] is not None and 0.3 <= values["incident.reassignment_rate"] <= 0.8
        assert values["desk.first_line_only_rate"] is not None  # the front line was inferred
