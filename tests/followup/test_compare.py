from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta

import pytest

from itsm_doctor.followup.cohort import TicketValue
from itsm_doctor.followup.compare import AdoptedPrescription, control_charts, followup, sign_trends


def _visit(at: str, **values: float) -> dict[str, object]:
    signs = [
        {"id": k.replace("__", "."), "name": k, "unit": "ratio", "direction": "lower", "value": v}
        for k, v in values.items()
    ]
    return {"visit": {"id": at, "at": f"{at}T00:00:00+00:00"}, "signs": signs}


def test_trends_follow_each_sign_across_visits() -> None:
    visits = [
        _visit("2026-01-31", incident__reopen_rate=0.3, incident__ping_pong_rate=0.1),
        _visit("2026-04-30", incident__reopen_rate=0.1),
    ]
    [ping, reopen] = sign_trends(visits)
    assert reopen["labels"] == ["2026-01-31", "2026-04-30"]
    assert reopen["values"] == [0.3, 0.1] and reopen["change"] == pytest.approx(-0.2)
    assert ping["values"] == [0.1, None] and ping["change"] is None


def test_p_chart_when_monthly_counts_are_known_else_xmr() -> None:
    signs = [
        {
            "id": "incident.reopen_rate",
            "unit": "ratio",
            "breakdowns": {
                "month": {
                    "2026-01": {"value": 0.10, "n": 100},
                    "2026-02": {"value": 0.12, "n": 100},
                    "2026-03": {"value": 0.30, "n": 100},
                }
            },
        },
        {
            "id": "incident.mttr",
            "unit": "h",
            "breakdowns": {"month": {"2026-01": 10.0, "2026-02": 12.0, "2026-03": 11.0}},
        },
        {"id": "incident.backlog_growth", "unit": "count", "breakdowns": {"month": {"2026-01": 1.0}}},
    ]
    charts = {c["sign"]: c["chart"] for c in control_charts(signs)}
    assert set(charts) == {"incident.reopen_rate", "incident.mttr"}
    assert charts["incident.reopen_rate"]["kind"] == "p"
    assert charts["incident.reopen_rate"]["center"] == pytest.approx(52 / 300)
    assert charts["incident.reopen_rate"]["signals"] == [{"index": 2, "rule": "beyond_3_sigma"}]
    assert charts["incident.mttr"]["kind"] == "xmr" and charts["incident.mttr"]["center"] == pytest.approx(11.0)


def _weekly(start: datetime, weeks: int, n: int, share: Callable[[int], float]) -> list[TicketValue]:
    """``n`` tickets a week, each settled two hours after opening, the first ``share(w) · n``
    (± 1 alternating) of week ``w`` with value 1."""
    out = []
    for w in range(weeks):
        hits = round(share(w) * n) + (1 if w % 2 else -1)
        for i in range(n):
            opened = start + timedelta(weeks=w, minutes=i * 60)
            out.append(TicketValue(opened_at=opened, value=float(i < hits), settled_at=opened + timedelta(hours=2)))
    return out


def test_prescription_effects_are_judged_as_one_family() -> None:
    start = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday; adoption 20 weeks later
    since = (start + timedelta(weeks=20)).date()
    data: dict[str, Sequence[TicketValue | tuple[datetime, float]]] = {
        # reopen rate 30 % → 10 % at the adoption
        "incident.reopen_rate": _weekly(start, 30, 100, lambda w: 0.30 if w < 20 else 0.10),
        # ping-pong untouched at 12 %
        "incident.ping_pong_rate": _weekly(start, 30, 100, lambda w: 0.12),
        # a sign whose tickets carry no settlement: judged, but not cut to equal observation
        "incident.escalation_rate": [(t.opened_at, t.value) for t in _weekly(start, 30, 100, lambda w: 0.5)],
    }
    register = [
        AdoptedPrescription(
            prescription_id="confirm-before-close",
            title="Confirm before closing",
            dysfunction_id="premature-resolution",
            since=since,
            target_signs=[{"id": "incident.reopen_rate", "direction": "down"}],
        ),
        AdoptedPrescription(
            prescription_id="assignment-matrix",
            title="Assignment matrix",
            dysfunction_id="assignment-ping-pong",
            since=since,
            target_signs=[
                {"id": "incident.ping_pong_rate", "direction": "down"},
                {"id": "incident.escalation_rate", "direction": "down"},
                {"id": "change.success_rate", "direction": "up"},
            ],
        ),
    ]
    visit = _visit(
        "2026-08-31", incident__reopen_rate=0.2, incident__ping_pong_rate=0.12, incident__escalation_rate=0.5
    )
    result = followup(visits=[visit], register=register, ticket_values=lambda sign: data.get(sign))
    effects = {e["sign"]: e for e in result["effects"]}
    reopen = effects["incident.reopen_rate"]
    assert (reopen["before"], round(reopen["after"], 2), reopen["verdict"]) == (0.3, 0.1, "healing")
    assert reopen["effect"] == pytest.approx(-0.20, abs=0.01) and reopen["p_adjusted"] < 0.05
    assert reopen["cohorts"]["settle_days"] == 1 and reopen["cohorts"]["after_window_days"] == 14
    assert effects["incident.ping_pong_rate"]["verdict"] == "no_effect_yet"
    escalation = effects["incident.escalation_rate"]
    assert escalation["verdict"] == "no_effect_yet" and escalation["confidence"] == "low"
    assert any("do not say when tickets settled" in r for r in escalation["reasons"])
    assert effects["change.success_rate"]["test"] == "not tested: the sign is n/a on these records"
    # three tests in the family: each p multiplied by at most 3 (Holm)
    assert result["correction"]["tests"] == 3
    assert reopen["p_adjusted"] <= 3 * reopen["p_value"]
    assert result["schema"] == "itsm-doctor/followup/1"


def test_control_charts_take_their_limits_from_the_months_before_the_adoption() -> None:
    months = {
        f"2026-{m:02d}": {"value": v, "n": 200}
        for m, v in zip(range(1, 9), [0.30, 0.31, 0.29, 0.30, 0.10, 0.11, 0.09, 0.10], strict=True)
    }
    signs = [{"id": "incident.reopen_rate", "name": "Reopen rate", "unit": "ratio", "breakdowns": {"month": months}}]
    register = [
        AdoptedPrescription(
            prescription_id="confirm-before-close",
            title="Confirm before closing",
            dysfunction_id="premature-resolution",
            since=date(2026, 5, 1),
            target_signs=[{"id": "incident.reopen_rate", "direction": "down"}],
        )
    ]
    [chart] = control_charts(signs, register=register)
    assert chart["adoptions"] == [{"since": "2026-05-01", "label": "2026-05", "title": "Confirm before closing"}]
    assert chart["limits"] == "from the 4 months before 2026-05"
    c = chart["chart"]
    # p̄ on the baseline alone: 240 of 800 = 0.30; the four months after fall below its limits
    assert c["baseline"] == 4 and c["center"] == pytest.approx(0.30)
    assert c["lower"][0] == pytest.approx(0.30 - 3 * (0.3 * 0.7 / 200) ** 0.5)
    assert {s["index"] for s in c["signals"] if s["rule"] == "beyond_3_sigma"} == {4, 5, 6, 7}
    # without the register the limits come from all eight months, centre 0.2
    [whole] = control_charts(signs)
    assert whole["chart"]["baseline"] is None and whole["chart"]["center"] == pytest.approx(0.2)
