"""A follow-up that a placebo cannot fool: on each shared real log and on untreated simulated
patients, prescriptions "adopted" at many dates (nothing was done) are judged healing or
relapsing in at most 5 % of the trials; on simulated treatments at the demo's severity, the
follow-up finds healing once the after period is as long as it says it needs.

Each log is taken in once per session; the effects are computed through the library (the
per-ticket values of the examination, then ``judge_sign`` and ``conclude``), not the CLI."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from itsm_doctor.examination import ticket_values
from itsm_doctor.followup.cohort import TicketValue
from itsm_doctor.followup.judge import Judgement, conclude, judge_sign
from itsm_doctor.intake.run import run_intake
from itsm_doctor.signs import get_sign
from itsm_doctor.simulate import Scenario, Treatment, simulate
from itsm_doctor.sources.base import SourceOptions

ROOT = Path(__file__).resolve().parents[2]
# the assignment matrix's and the confirm-before-close prescriptions' signs, as the catalog gives them
PRESCRIPTIONS = {
    "assignment-matrix": ("incident.ping_pong_rate", "incident.mean_reassignments"),
    "confirm-before-close": ("incident.reopen_rate", "incident.mttr"),
}
DEMO_SEVERITY = {"assignment-ping-pong": 0.8, "wait-user-abuse": 0.7}
SPREAD_DATES = 10
LAST_MONTH_DATES = (3, 10, 17, 24)  # days before the last opening


def _logs(data: Path) -> dict[str, tuple[list[Path], str, SourceOptions | None]]:
    return {
        "bpic2013": ([data / "bpic2013" / "VINST-incidents.csv.gz"], "bpic2013", None),
        "bpic2014-sample": ([data / "bpic2014-sample"], "bpic2014", None),
        "servicenow-sample": ([data / "servicenow-sample"], "servicenow", None),
        "helpdesk": (
            [data / "helpdesk" / "Helpdesk.csv.gz"],
            "csv",
            SourceOptions(mapping=ROOT / "examples" / "mappings" / "helpdesk.yaml"),
        ),
    }


def _values(workspace: Path) -> dict[str, list[TicketValue]]:
    values = ticket_values(workspace)
    out = {}
    for signs in PRESCRIPTIONS.values():
        for s in signs:
            found = values(s)
            if found:
                out[s] = found
    return out


@pytest.fixture(scope="session")
def real_values(data: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, list[TicketValue]]]:
    """Per shared log, the per-ticket values of the prescriptions' signs (each log taken in once)."""
    out = {}
    for name, (paths, source, options) in _logs(data).items():
        ws = tmp_path_factory.mktemp(name)
        run_intake(paths, source=source, workspace=ws, options=options)
        out[name] = _values(ws)
    return out


def _simulated(
    tmp: Path, *, seed: int, treat_from: date | None, months: int = 6, tickets: int = 4_000
) -> dict[str, list[TicketValue]]:
    treatments = () if treat_from is None else (Treatment(dysfunction="assignment-ping-pong", since=treat_from),)
    scenario = Scenario(
        seed=seed, tickets=tickets, months=months, dysfunctions=dict(DEMO_SEVERITY), treatments=treatments
    )
    simulate(scenario, tmp / "exports")
    run_intake([tmp / "exports"], source="canonical", workspace=tmp / "ws")
    return _values(tmp / "ws")


def _trial(values: dict[str, list[TicketValue]], prescription: str, since: date) -> list[Judgement]:
    """One prescription adopted on ``since``: its signs judged as one family."""
    judged = []
    for sign_id in PRESCRIPTIONS[prescription]:
        if sign_id in values:
            sign = get_sign(sign_id)
            wanted = "up" if sign.direction == "higher" else "down"
            judged.append(
                judge_sign(
                    sign=sign_id,
                    wanted=wanted,
                    unit=sign.unit,
                    tickets=values[sign_id],
                    since=since,
                    good=sign.benchmark.good,
                )
            )
    conclude(judged)
    return judged


def _dates(values: dict[str, list[TicketValue]]) -> tuple[list[date], list[date]]:
    """Adoption dates spread over the extract, and dates in its last month."""
    opened = sorted(t.opened_at for ts in values.values() for t in ts)
    first, last = opened[len(opened) // 50], opened[-1]  # past the thin lead-in of old tickets
    spread = [(first + (last - first) * (i + 1) / (SPREAD_DATES + 1)).date() for i in range(SPREAD_DATES)]
    return spread, [(last - timedelta(days=d)).date() for d in LAST_MONTH_DATES]


def _describe(trials: Sequence[tuple[str, date, list[Judgement]]]) -> str:
    return "; ".join(
        f"{name} {since}: " + ", ".join(f"{j.sign} {j.verdict} p_adj={j.p_adjusted}" for j in t)
        for name, since, t in trials
    )


def test_placebo_adoptions_are_rarely_judged_to_heal_or_relapse(
    real_values: dict[str, dict[str, list[TicketValue]]], tmp_path: Path
) -> None:
    trials: list[tuple[str, date, list[Judgement]]] = []
    last_month = 0
    patients: dict[str, dict[str, list[TicketValue]]] = dict(real_values)
    for seed, months in ((101, 6), (102, 6), (103, 12)):  # untreated simulated patients
        patients[f"simulated-{seed}"] = _simulated(
            tmp_path / str(seed), seed=seed, treat_from=None, months=months, tickets=700 * months
        )
    for name, values in patients.items():
        assert values, f"{name}: no per-ticket values"
        spread, late = _dates(values)
        for i, since in enumerate([*spread, *late]):
            rx = (
                "assignment-matrix" if i % 2 == 0 or "incident.ping_pong_rate" not in values else "confirm-before-close"
            )
            if not any(s in values for s in PRESCRIPTIONS[rx]):
                rx = "confirm-before-close"
            trials.append((name, since, _trial(values, rx, since)))
        last_month += len(late)
    flagged = [(n, s, t) for n, s, t in trials if any(j.verdict in ("healing", "relapsing") for j in t)]
    tested = [t for _n, _s, t in trials if any(j.fit is not None for j in t)]
    assert len(trials) >= 40 and last_month >= 28
    # nothing was done at any of these dates: at most 5 % may read as healing or relapsing …
    assert len(flagged) <= 0.05 * len(trials), _describe(flagged)
    # … and the suite is not won by refusing to judge: most simulated and Helpdesk dates are
    # tested, and few of those tested read as a change (a 5 % family error rate, small samples)
    assert len(tested) >= 35, len(tested)
    assert len(flagged) <= 0.1 * len(tested), _describe(flagged)
    # the case: BPIC 2013 adopted in its last month — every recent ticket too young
    late_bpic = [t for n, s, t in trials if n == "bpic2013" and s >= date(2012, 4, 6)]
    assert late_bpic and all(j.verdict == "no_effect_yet" for t in late_bpic for j in t)
    assert all(j.cohorts is not None and j.cohorts.too_young > 0 for t in late_bpic for j in t)


def test_a_real_remedy_heals_once_the_after_period_is_as_long_as_the_tool_asks(tmp_path: Path) -> None:
    # the demo's severity; the assignment matrix adopted 3 weeks before the extract ends (two
    # judged weeks after it), then, when the tool says "too early: N more weeks", adopted N
    # weeks earlier in the same months. At this severity two weeks already suffice; the weeks
    # the tool asks for a subtler effect are checked on hand-made series in test_judge.py.
    results: list[dict[str, Any]] = []
    for seed in range(201, 211):
        end = date(2026, 7, 1)
        since = end - timedelta(weeks=3)
        values = _simulated(tmp_path / f"{seed}-a", seed=seed, treat_from=since)
        judged = _trial(values, "assignment-matrix", since)
        needed = max((j.weeks_needed or 0 for j in judged if j.verdict == "no_effect_yet"), default=0)
        if any(j.verdict == "healing" for j in judged) or not needed:
            results.append({"seed": seed, "weeks": 3, "healing": any(j.verdict == "healing" for j in judged)})
            continue
        since = since - timedelta(weeks=needed)
        values = _simulated(tmp_path / f"{seed}-b", seed=seed, treat_from=since)
        judged = _trial(values, "assignment-matrix", since)
        results.append({"seed": seed, "weeks": 3 + needed, "healing": any(j.verdict == "healing" for j in judged)})
    healed = sum(r["healing"] for r in results)
    assert len(results) == 10 and healed >= 0.9 * len(results), results
