"""The report as a manager reads it: units, charts only where they say something, names,
readable p-values, verdict words, and the diagnosis reconciled with the follow-up."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest

from itsm_doctor.report import render_html
from itsm_doctor.report.charts import value_axis
from itsm_doctor.report.plots import no_chart_reason, visit_label
from itsm_doctor.report.view import format_p, report_view, verdict_words


def test_p_values_read_as_people_write_them() -> None:
    assert [format_p(p) for p in (0.0, 6e-35, 0.0004, 0.00099, 0.001, 0.0342, 0.5, None)] == [
        "< 0.001",
        "< 0.001",
        "< 0.001",
        "< 0.001",
        "0.001",
        "0.034",
        "0.5",
        "n/a",
    ]


def test_axis_ticks_are_round_distinct_and_in_the_tables_unit() -> None:
    # shares between 0.5 % and 2 %: a 0.5-point step needs one decimal to keep labels apart
    small = value_axis(unit="ratio", values=[0.012, 0.02, 0.005], days=False)
    assert small.ticks == (0.005, 0.01, 0.015, 0.02) and small.fmt == ".1%"
    assert len({f"{t:.1%}" for t in small.ticks}) == len(small.ticks)
    # 893 h to 1,034 h, where the table says days: 37.2 d to 43.1 d on a 2-day step
    days = value_axis(unit="h", values=[893.0, 1034.0, 950.0], days=True)
    assert days.title == "days" and days.factor == pytest.approx(1 / 24)
    assert days.ticks == (36.0, 38.0, 40.0, 42.0, 44.0) and days.fmt == ",.0f"
    hours = value_axis(unit="h", values=[5.0, 9.7], days=False)
    assert hours.title == "hours" and hours.ticks == (4.0, 6.0, 8.0, 10.0)


def test_a_sign_gets_no_chart_and_says_why() -> None:
    months = ["2026-01", "2026-02", "2026-03"]
    assert no_chart_reason(headline=0.2, labels=months[:2], values=[0.1, 0.3]) == (
        "no chart: fewer than 3 months with a value"
    )
    assert no_chart_reason(headline=0.2, labels=months, values=[0.1, None, 0.3]) == (
        "no chart: fewer than 3 months with a value"
    )
    assert (
        no_chart_reason(headline=0.0, labels=months, values=[0.0, 0.0, 0.0]) == "no chart: the same value every month"
    )
    # the trend of resolution time: −16.6 % headline, its months hold median hours (6 to 10)
    assert no_chart_reason(headline=-0.166, labels=months, values=[9.7, 6.2, 8.1]) == (
        "no chart: its monthly values are the series it is computed from, in another unit"
    )
    assert no_chart_reason(headline=0.2, labels=months, values=[0.1, 0.2, 0.3]) is None


def test_verdict_words_do_not_say_ruled_out_when_evidence_points_for() -> None:
    assert verdict_words("absent", likelihood=0.46, supported=True) == "not indicated"
    assert verdict_words("absent", likelihood=0.30, supported=False) == "not indicated"
    assert verdict_words("absent", likelihood=0.01, supported=False) == "ruled out"
    assert verdict_words("present", likelihood=0.9, supported=True) == "present"
    assert verdict_words("undetermined", likelihood=0.5, supported=False).startswith("undetermined")


def test_a_visit_is_dated_by_the_period_its_records_cover() -> None:
    visit = {"visit": {"at": "2026-12-03T09:51:33+00:00", "period": {"from": "2026-01-01T04:04", "to": "2026-09-30"}}}
    assert visit_label(visit) == "2026-01 – 2026-09"
    assert visit_label({"visit": {"at": "2026-12-03T09:51:33+00:00"}}) == "2026-12-03"


@pytest.fixture
def treated(examination: dict[str, Any], followup: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The fixture patient with a stagnation diagnosis 'absent' at 46 % with evidence for, a
    trend sign whose months are hours, and a follow-up on the adopted assignment matrix."""
    exam = copy.deepcopy(examination)
    exam["diagnoses"].append(
        {
            "id": "stagnant-improvement",
            "name": "Stagnant improvement",
            "verdict": "absent",
            "likelihood": 0.46,
            "evidence": [
                {"kind": "sign", "id": "incident.ping_pong_rate", "value": 0.18, "supports": True},
                {"kind": "sign", "id": "followup.register_done_share", "value": 0.0, "supports": True},
                {"kind": "symptom", "id": "improvements-never-finish", "value": 4.0, "supports": True},
            ],
            "causes": [{"id": "no-follow-through", "name": "No follow-through", "likelihood": 0.0}],
        }
    )
    exam["signs"].append(
        {
            "id": "incident.mttr_trend",
            "name": "Trend of resolution time",
            "area": "performance",
            "value": -0.012,
            "unit": "ratio",
            "direction": "lower",
            "benchmark": {"good": 0.1, "poor": 0.4, "source": "no published benchmark; ITSM Doctor working band"},
            "status": "good",
            "breakdowns": {"month": {"2026-01": 920.0, "2026-02": 893.0, "2026-03": 1034.0}},
        }
    )
    fu = copy.deepcopy(followup)
    fu["effects"][0].update({"dysfunction": "assignment-ping-pong", "since": "2026-03-01"})
    return exam, fu


def test_the_report_uses_names_ids_and_honest_words(treated: tuple[dict[str, Any], dict[str, Any]]) -> None:
    exam, fu = treated
    html = render_html(exam, followup=fu)
    dx = html[html.index('id="dx-stagnant-improvement"') :]
    dx = dx[: dx.index("</div>")]
    assert 'class="badge absent">not indicated</span>' in dx and "Likely causes" not in dx  # no 0 % causes
    assert '<td>Ping-pong rate <code class="id">incident.ping_pong_rate</code></td>' in dx
    # a follow-up sign by its name and unit, a symptom by what people said
    assert '<td>Adopted prescriptions completed <code class="id">followup.register_done_share</code></td>' in dx
    assert '<td class="num">0.0%</td>' in dx
    assert "“Improvement actions are started but rarely finished.”" in dx
    # the diagnosis reconciled with the follow-up of its remedy
    assert "Present on these records, improving since the remedy (adopted 2026-03-01; 1 of 1 signs healing)." in html
    # prescription ids beside titles; sign names in "should move"
    assert '<code class="id" title="register adopt takes this id">assignment-matrix</code>' in html
    prescriptions = html[html.index('<section id="prescriptions">') : html.index('<section id="signs">')]
    assert "<td>Ping-pong rate</td>" in prescriptions and "incident.ping_pong_rate" not in prescriptions
    # the trend sign's hours are not drawn on a % axis: no chart, and the row says why
    row = html[html.index('<tr data-sign="incident.mttr_trend">') :]
    assert "in another unit" in row[: row.index("</tr>")]
    assert 'figure class="trend" data-sign="incident.mttr_trend"' not in html
    # a working band says so; a published one does not
    assert '<td class="band">good ≤ 2.0%<br>poor ≥ 10.0%</td>' in html
    assert html.count('<em class="working">working band</em>, no published benchmark') == 1
    # the working band's source says what the band rests on, without the preamble
    assert '<em class="working">working band</em>, no published benchmark</td>' in html
    assert "&lt; 0.001" in html and "0.0004" not in html


def test_two_visits_make_a_table_not_two_dot_charts(treated: tuple[dict[str, Any], dict[str, Any]]) -> None:
    exam, fu = treated
    first = copy.deepcopy(exam)
    first["visit"] = {
        "id": "v0",
        "at": "2026-12-03T09:00:00+00:00",
        "period": {"from": "2026-01-01", "to": "2026-03-31"},
    }
    fu["visits"] = [{"id": "v0"}, {"id": "v1"}]
    fu["trends"][0]["values"] = [61.0, 40.0]
    view = report_view(exam, followup=fu, visits=[first, exam], version="test")
    assert view["followup"]["trends"] == []  # two visits: no chart
    assert view["followup"]["across"] == {
        "first": "2026-01 – 2026-03",
        "last": "2026-01 – 2026-06",
        "rows": [{"name": "Mean time to resolve", "first": "2.5 d", "last": "40.0 h"}],
        "steady": 0,
    }
    fu["trends"][0]["values"] = [61.0, 59.0]  # within 5 %: counted, not listed
    assert report_view(exam, followup=fu, visits=[first, exam], version="test")["followup"]["across"]["steady"] == 1
    html = render_html(exam, followup=fu, visits=[first, exam])
    assert re.search(r"<th class=\"num\">records 2026-01 – 2026-03</th>", html)
    assert '<figure class="visit-trend"' not in html


def test_missing_evidence_and_inferred_roles_are_shown(examination: dict[str, Any]) -> None:
    exam = copy.deepcopy(examination)
    exam["diagnoses"][0]["missing"] = [{"id": "change.success_rate", "reason": "no change records"}]
    exam["roles"] = {"source": "inferred", "basis": "first assignments", "front_line": ["Service Desk"], "tiers": {}}
    html = render_html(exam)
    assert "Not measurable on these records (lowers confidence): Change success rate (no change records)." in html
    assert "Support tiers: inferred (first assignments); front line: Service Desk." in html
