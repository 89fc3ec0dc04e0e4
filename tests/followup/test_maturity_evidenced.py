from __future__ import annotations

from typing import Any

from itsm_doctor.followup.maturity import evidenced_maturity, maturity_gaps


def _sign(
    sign_id: str, value: float | None, status: str = "good", months: list[float] | None = None, direction: str = "lower"
) -> dict[str, Any]:
    month = {f"2026-{i + 1:02d}": v for i, v in enumerate(months or [])}
    return {
        "id": sign_id,
        "value": value,
        "status": status if value is not None else "n/a",
        "direction": direction,
        "breakdowns": {"month": month},
    }


def _levels(signs: list[dict[str, Any]], **kw: Any) -> dict[str, int | None]:
    return {e.practice: e.level for e in evidenced_maturity(signs, **kw)}


STEADY = [0.20, 0.22, 0.21, 0.23, 0.20, 0.22]


def test_levels_climb_with_what_the_records_show() -> None:
    # nothing recorded for change: level 1; knowledge can never be shown: None
    levels = _levels([])
    assert levels["change-enablement"] == 1 and levels["knowledge-management"] is None
    # one of two key signs: recorded (2) but not defined
    assert _levels([_sign("change.success_rate", 0.9, direction="higher")])["change-enablement"] == 2
    # both, none poor, but no monthly series: defined (3)
    both = [_sign("change.success_rate", 0.9, direction="higher"), _sign("change.emergency_share", 0.05)]
    assert _levels(both)["change-enablement"] == 3
    # both with six steady months: quantitatively managed (4)
    steady = [
        _sign("change.success_rate", 0.9, months=[0.9, 0.91, 0.9, 0.92, 0.9, 0.91], direction="higher"),
        _sign("change.emergency_share", 0.05, months=[0.05, 0.06, 0.05, 0.05, 0.06, 0.05]),
    ]
    assert _levels(steady)["change-enablement"] == 4
    # one key sign poor: stays at 2
    poor = [_sign("change.success_rate", 0.6, status="poor", direction="higher"), _sign("change.emergency_share", 0.05)]
    assert _levels(poor)["change-enablement"] == 2


def test_lifecycle_practices_need_conformance_for_level_3() -> None:
    signs = [
        _sign("incident.mttr", 10.0, months=STEADY),
        _sign("incident.reopen_rate", 0.05, months=STEADY),
        _sign("incident.reassignment_rate", 0.2, months=STEADY),
    ]
    assert _levels(signs)["incident-management"] == 2  # conformance not computable
    conforming = [*signs, _sign("process.lifecycle_conformance", 0.93, direction="higher")]
    assert _levels(conforming)["incident-management"] == 4
    drifting = [*signs, _sign("process.lifecycle_conformance", 0.61, direction="higher")]
    [inc] = [e for e in evidenced_maturity(drifting) if e.practice == "incident-management"]
    assert inc.level == 2 and "lifecycle conformance 61% < 80%" in inc.reasons


def test_a_month_out_of_control_stops_level_4_and_improvement_gives_5() -> None:
    jump = [0.05, 0.05, 0.05, 0.05, 0.05, 0.30]  # last month far beyond 3 sigma of the moving range
    signs = [
        _sign("change.success_rate", 0.9, months=[0.9] * 6, direction="higher"),
        _sign("change.emergency_share", 0.05, months=jump),
    ]
    assert _levels(signs)["change-enablement"] == 3
    steady = [
        _sign("change.success_rate", 0.95, months=[0.9, 0.91, 0.9, 0.92, 0.9, 0.91], direction="higher"),
        _sign("change.emergency_share", 0.05, months=[0.05, 0.06, 0.05, 0.05, 0.06, 0.05]),
    ]
    first = [
        {"id": "change.success_rate", "value": 0.80, "status": "fair"},
        {"id": "change.emergency_share", "value": 0.05, "status": "good"},
    ]
    # success rate 0.80 → 0.95 is +18.75 % in its better direction; emergency share unchanged
    assert _levels(steady, earlier_visits=[first])["change-enablement"] == 5


def test_gap_is_self_minus_evidenced() -> None:
    evidenced = evidenced_maturity([_sign("change.success_rate", 0.9, direction="higher")])
    gaps = maturity_gaps({"change-enablement": 4, "knowledge-management": 3}, evidenced)
    assert gaps["change-enablement"] == {"self": 4, "evidenced": 2, "gap": 2}
    assert gaps["knowledge-management"] == {"self": 3, "evidenced": None, "gap": None}
    assert gaps["problem-management"] == {"self": None, "evidenced": 1, "gap": None}
