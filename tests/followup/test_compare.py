from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

import pytest

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


def _tickets(start: datetime, n: int, hits: int) -> list[tuple[datetime, float]]:
    return [(start + timedelta(hours=i), 1.0 if i < hits else 0.0) for i in range(n)]


def test_prescription_effects_split_at_adoption() -> None:
    since = date(2026, 3, 1)
    before = datetime(2026, 2, 1, tzinfo=UTC)
    after = datetime(2026, 3, 2, tzinfo=UTC)
    data: dict[str, Sequence[tuple[datetime, float]]] = {
        # reopen rate 30 % → 10 % on 100 tickets each side: z = 3.54, p = 0.0004
        "incident.reopen_rate": _tickets(before, 100, 30) + _tickets(after, 100, 10),
        # ping-pong untouched: 12 % → 12 %
        "incident.ping_pong_rate": _tickets(before, 100, 12) + _tickets(after, 100, 12),
        # too few tickets after the date to test
        "incident.escalation_rate": _tickets(before, 100, 50) + _tickets(after, 5, 1),
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
        "2026-05-31", incident__reopen_rate=0.2, incident__ping_pong_rate=0.12, incident__escalation_rate=0.5
    )
    result = followup(visits=[visit], register=register, ticket_values=lambda sign: data.get(sign))
    effects = {e["sign"]: e for e in result["effects"]}
    reopen = effects["incident.reopen_rate"]
    assert (reopen["before"], reopen["after"], reopen["verdict"]) == (0.3, 0.1, "healing")
    assert reopen["p_value"] == pytest.approx(0.000407, abs=1e-5)
    assert effects["incident.ping_pong_rate"]["verdict"] == "no_effect_yet"
    assert effects["incident.ping_pong_rate"]["p_value"] == pytest.approx(1.0)
    assert effects["incident.escalation_rate"]["n_after"] == 5
    assert effects["incident.escalation_rate"]["test"].startswith("not tested")
    assert effects["change.success_rate"]["test"] == "not tested: the sign is n/a on these records"
    assert result["schema"] == "itsm-doctor/followup/1"
