"""Hand-made series for each mechanism a pooled before/after test falls for: a censored
cohort, a pre-existing trend, a seasonal dip, a team remedy beside untouched peer groups;
and the weeks the data still needs."""

from __future__ import annotations

import math
import random
from datetime import UTC, date, datetime, timedelta

import pytest

from itsm_doctor.followup.cohort import TicketValue, cut_at, equal_observation
from itsm_doctor.followup.effect import holm, rate_effect
from itsm_doctor.followup.its import WeeklySeries, placebo_calibration, segmented_fit
from itsm_doctor.followup.judge import conclude, judge_sign, promised_effect

START = datetime(2025, 1, 6, tzinfo=UTC)  # a Monday


def _week_of_tickets(week: int, n: int, hits: int, *, group: str | None = None) -> list[TicketValue]:
    """``n`` tickets opened across week ``week`` (from START), the first ``hits`` with value 1,
    each settled a day after opening."""
    out = []
    for i in range(n):
        opened = START + timedelta(weeks=week, hours=i * 167 / n)
        out.append(
            TicketValue(
                opened_at=opened, value=1.0 if i < hits else 0.0, settled_at=opened + timedelta(days=1), group=group
            )
        )
    return out


def _rate_series(shares: list[float], *, n: int = 100, group: str | None = None) -> list[TicketValue]:
    """Weekly tickets whose share of 1s follows ``shares``, with ±1 ticket of alternating
    jitter so that no model fits exactly."""
    tickets = []
    for w, p in enumerate(shares):
        tickets += _week_of_tickets(w, n, round(p * n) + (1 if w % 2 else -1), group=group)
    return tickets


def test_a_censored_cohort_is_cut_to_equal_observation() -> None:
    # 10 tickets a day for 60 days; each settles 8 days after opening and 4 in 10 bounce — but
    # a bounce shows only on a settled ticket: the 80 tickets of the last 8 days are still open
    # with nothing seen yet.
    end = START + timedelta(days=60)
    tickets = []
    for d in range(60):
        for i in range(10):
            opened = START + timedelta(days=d, hours=i + 1)
            settled = opened + timedelta(days=8)
            done = settled <= end
            tickets.append(
                TicketValue(
                    opened_at=opened, value=1.0 if done and i < 4 else 0.0, settled_at=settled if done else None
                )
            )
    cut = START + timedelta(days=46)  # adopted two weeks before the extract ends
    before = [t.value for t in tickets if t.opened_at < cut]
    after = [t.value for t in tickets if t.opened_at >= cut]
    # the pooled test sees a miracle: 40 % → 17.1 % (the 24 bounces of days 46–51, of 140)
    naive = rate_effect(before=(round(sum(before)), len(before)), after=(round(sum(after)), len(after)), wanted="down")
    assert (naive.before, round(naive.after, 3), naive.verdict) == (0.4, 0.171, "healing")
    cohorts = equal_observation(sign="incident.ping_pong_rate", tickets=tickets, cut=cut, extract_end=end)
    # settle horizon: every ticket opened before the cut that settled took exactly 8 days
    assert cohorts.horizon.settle == timedelta(days=8)
    # the last 8 days' tickets are too young: day 52 01:00 + 8 days > day 60 00:00 … all 80
    assert cohorts.too_young == 80 and cohorts.unsettled == 0
    judged_after = [t.value for t in cohorts.after]
    assert len(cohorts.after) == 60 and sum(judged_after) / len(judged_after) == pytest.approx(0.4)
    assert sum(t.value for t in cohorts.before) / len(cohorts.before) == pytest.approx(0.4)


def test_a_pre_existing_trend_is_no_cure() -> None:
    # ping-pong falling steadily from 40 % to 22.6 % over 30 weeks; adopted at week 20
    shares = [0.40 - 0.006 * w for w in range(30)]
    tickets = _rate_series(shares)
    since = (START + timedelta(weeks=20)).date()
    cut = cut_at(since)
    before = [t.value for t in tickets if t.opened_at < cut]
    after = [t.value for t in tickets if t.opened_at >= cut]
    naive = rate_effect(before=(round(sum(before)), len(before)), after=(round(sum(after)), len(after)), wanted="down")
    assert naive.verdict == "healing" and naive.p_value < 1e-6  # the pooled test is fooled
    j = judge_sign(sign="incident.ping_pong_rate", wanted="down", unit="ratio", tickets=tickets, since=since, good=0.05)
    conclude([j])
    assert j.fit is not None and j.fit.slope == pytest.approx(-0.006, abs=0.0005)
    assert abs(j.fit.effect) < 0.01 and j.verdict == "no_effect_yet"
    assert j.as_json()["test"] == "interrupted time series (weekly segmented regression)"


def test_a_real_level_shift_on_top_of_the_trend_heals() -> None:
    shares = [0.40 - 0.006 * w - (0.08 if w >= 20 else 0.0) for w in range(30)]
    j = judge_sign(
        sign="incident.ping_pong_rate",
        wanted="down",
        unit="ratio",
        tickets=_rate_series(shares),
        since=(START + timedelta(weeks=20)).date(),
        good=0.05,
    )
    conclude([j])
    assert j.fit is not None and j.fit.effect == pytest.approx(-0.08, abs=0.01)
    low, high = j.as_json()["interval"]
    assert low < -0.08 < high < 0
    assert j.verdict == "healing" and j.p_adjusted is not None and j.p_adjusted < 0.05


def _seasonal(w: int) -> float:
    return 0.30 + 0.10 * math.cos(2 * math.pi * w / 52.1775)


def test_a_seasonal_dip_is_told_from_a_cure_when_two_years_precede_it() -> None:
    # the yearly peak at weeks 0, 52, 104 and the trough half-way (26, 78, 130); adopted at
    # week 117, on the way down into the trough
    shares = [_seasonal(w) for w in range(132)]
    tickets = _rate_series(shares, n=200)
    since = (START + timedelta(weeks=117)).date()
    cut = cut_at(since)
    half_year = [t.value for t in tickets if cut - timedelta(weeks=15) <= t.opened_at < cut]
    after = [t.value for t in tickets if t.opened_at >= cut]
    naive = rate_effect(
        before=(round(sum(half_year)), len(half_year)), after=(round(sum(after)), len(after)), wanted="down"
    )
    assert naive.verdict == "healing" and naive.before - naive.after > 0.1  # the pooled test is fooled
    j = judge_sign(sign="incident.ping_pong_rate", wanted="down", unit="ratio", tickets=tickets, since=since, good=0.05)
    conclude([j])
    assert j.fit is not None and j.fit.season and j.fit.weeks_before == 104
    assert abs(j.fit.effect) < 0.01 and j.verdict == "no_effect_yet"
    assert j.fit.seasonal_p == j.fit.p_value and any("season modelled over the 104 weeks" in r for r in j.reasons)
    # with a year of history the season cannot be modelled, and the fit says so
    short = judge_sign(
        sign="incident.ping_pong_rate",
        wanted="down",
        unit="ratio",
        tickets=[t for t in tickets if t.opened_at >= START + timedelta(weeks=65)],
        since=since,
        good=0.05,
    )
    conclude([short])
    assert short.fit is not None and not short.fit.season
    assert any("season not modelled: 52 weeks of records" in r for r in short.reasons)


def test_a_team_remedy_is_judged_against_the_groups_it_did_not_touch() -> None:
    # every group drifts down and drops 5 points at week 20 (something organisation-wide);
    # the team's group A drops 10 points more.
    def shares(extra: float) -> list[float]:
        return [0.40 - 0.002 * w - (0.05 + extra if w >= 20 else 0.0) for w in range(30)]

    tickets = (
        _rate_series(shares(0.10), group="A")
        + _rate_series(shares(0.0), group="B")
        + _rate_series(shares(0.0), group="C")
    )
    since = (START + timedelta(weeks=20)).date()
    team = judge_sign(
        sign="incident.ping_pong_rate",
        wanted="down",
        unit="ratio",
        tickets=tickets,
        since=since,
        sphere="team",
        groups=["A"],
        good=0.05,
    )
    conclude([team])
    assert team.control == {"groups": ["A"], "treated_tickets": 3000, "control_tickets": 6000, "control_groups": 2}
    assert team.fit is not None and team.fit.effect == pytest.approx(-0.10, abs=0.01)
    assert team.verdict == "healing" and team.confidence == "high"
    assert team.as_json()["test"].startswith("difference in differences: A against 2 untouched groups")
    # the same drop for all: the team did nothing special, though its own series fell
    same = judge_sign(
        sign="incident.ping_pong_rate",
        wanted="down",
        unit="ratio",
        tickets=_rate_series(shares(0.0), group="A") + _rate_series(shares(0.0), group="B"),
        since=since,
        sphere="team",
        groups=["A"],
        good=0.05,
    )
    conclude([same])
    assert same.fit is not None and abs(same.fit.effect) < 0.01 and same.verdict == "no_effect_yet"
    # with no control named, the organisation-wide drop would pass for the remedy
    alone = judge_sign(
        sign="incident.ping_pong_rate",
        wanted="down",
        unit="ratio",
        tickets=_rate_series(shares(0.0), group="A"),
        since=since,
        sphere="team",
        good=0.05,
    )
    conclude([alone])
    assert alone.verdict == "healing" and alone.confidence == "moderate"
    assert any("no control" in r for r in alone.reasons)


def test_too_early_says_how_many_weeks_and_those_weeks_suffice() -> None:
    # 250 tickets a week, ping-pong 40 % falling to 30 % from week 20, each ticket drawn at
    # random; judged 2 weeks after the adoption, then again once the weeks it asked for passed.
    # The promise it counts for: half way from 40 % to the good band's 20 %, i.e. 10 points.
    since = (START + timedelta(weeks=20)).date()
    asked, healed, judged, unreachable = [], 0, 0, 0
    for seed in range(20):
        rng = random.Random(seed)
        tickets = []
        for w in range(46):
            p = 0.40 if w < 20 else 0.30
            for i in range(250):
                opened = START + timedelta(weeks=w, minutes=i * 40)
                value = 1.0 if rng.random() < p else 0.0
                tickets.append(TicketValue(opened_at=opened, value=value, settled_at=opened + timedelta(hours=1)))
        early = judge_sign(
            sign="incident.ping_pong_rate",
            wanted="down",
            unit="ratio",
            tickets=[t for t in tickets if t.opened_at < START + timedelta(weeks=22)],
            since=since,
            good=0.2,
        )
        conclude([early])
        if early.verdict == "healing":
            healed, judged = healed + 1, judged + 1
            continue
        if early.weeks_needed is None:  # the tool says the half-year after could not show it
            unreachable += 1
            continue
        plural = "s" if early.weeks_needed > 1 else ""
        assert early.reading == f"too early: about {early.weeks_needed} more week{plural}"
        asked.append(early.weeks_needed)
        later = judge_sign(
            sign="incident.ping_pong_rate",
            wanted="down",
            unit="ratio",
            tickets=[t for t in tickets if t.opened_at < START + timedelta(weeks=22 + early.weeks_needed)],
            since=since,
            good=0.2,
        )
        conclude([later])
        healed, judged = healed + (later.verdict == "healing"), judged + 1
    assert unreachable <= 2 and judged >= 18
    assert healed >= 0.9 * judged  # 90 % power is what the weeks are counted for


def test_holm_adjusts_the_family() -> None:
    # sorted: 0.01 × 3 = 0.03; 0.03 × 2 = 0.06; 0.04 × 1 = 0.04, raised to 0.06 (monotone)
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])
    assert holm([]) == []


def test_promised_effect_is_half_way_to_the_good_band_or_a_tenth() -> None:
    assert promised_effect(level=0.40, good=0.10, wanted="down") == pytest.approx(0.15)
    assert promised_effect(level=0.40, good=0.38, wanted="down") == pytest.approx(0.04)
    assert promised_effect(level=0.05, good=0.10, wanted="down") == pytest.approx(0.005)
    assert promised_effect(level=0.60, good=0.90, wanted="up") == pytest.approx(0.15)


def test_too_few_weeks_before_the_adoption_is_not_tested() -> None:
    tickets = _rate_series([0.3] * 10)
    j = judge_sign(
        sign="incident.ping_pong_rate",
        wanted="down",
        unit="ratio",
        tickets=tickets,
        since=(START + timedelta(weeks=4)).date(),
    )
    conclude([j])
    assert j.fit is None and j.test == "not tested: 4 judged weeks before the adoption (needs 12)"
    assert j.verdict == "no_effect_yet"
    assert j.weeks_needed is None and j.reading == "no effect yet: " + j.test  # waiting will not help
    # adopted the day the records end: nothing after it yet, and waiting will tell
    fresh = judge_sign(
        sign="incident.ping_pong_rate",
        wanted="down",
        unit="ratio",
        tickets=_rate_series([0.3] * 20),
        since=(START + timedelta(weeks=20)).date(),
        good=0.1,
    )
    conclude([fresh])
    assert fresh.test == "not tested yet: 0 judged tickets after the adoption (needs 20 over 2 weeks)"
    assert fresh.weeks_needed is not None and fresh.weeks_needed >= 2
    assert fresh.reading == f"too early: about {fresh.weeks_needed} more weeks"


def test_segmented_fit_recovers_a_hand_made_step() -> None:
    # y = 2 + 0.1 w + 1.5 after, with ±0.05 alternating: level shift 1.5, trend 0.1
    weeks = tuple(range(-14, 6))
    values = tuple(2 + 0.1 * w + (1.5 if w >= 0 else 0) + (0.05 if w % 2 else -0.05) for w in weeks)
    fit = segmented_fit(WeeklySeries(weeks=weeks, values=values, weights=(1.0,) * len(weeks)))
    assert fit is not None
    assert fit.effect == pytest.approx(1.5, abs=0.05) and fit.slope == pytest.approx(0.1, abs=0.005)
    assert fit.p_value < 1e-6 and fit.weeks_before == 14 and fit.weeks_after == 6
    assert fit.projected == pytest.approx(fit.observed - fit.effect)


def test_durations_are_judged_as_relative_changes() -> None:
    # 50 tickets a week taking 10 h, then 5 h from week 12 (half as long); settle times vary
    tickets = []
    for w in range(20):
        hours = 10.0 if w < 12 else 5.0
        for i in range(50):
            opened = START + timedelta(weeks=w, hours=i * 3)
            h = hours * (1.2 if i % 2 else 0.8)
            tickets.append(TicketValue(opened_at=opened, value=h, settled_at=opened + timedelta(hours=h)))
    j = judge_sign(
        sign="incident.mttr", wanted="down", unit="h", tickets=tickets, since=(START + timedelta(weeks=12)).date()
    )
    conclude([j])
    out = j.as_json()
    # log(1 + h): mean of log(9), log(13) → log(4), log(7): effect exp(Δ) − 1 ≈ −45 %
    expected = math.exp((math.log(5) + math.log(7)) / 2 - (math.log(9) + math.log(13)) / 2) - 1
    assert out["effect_scale"] == "relative" and out["effect"] == pytest.approx(expected, abs=0.01)
    assert out["verdict"] == "healing" and out["before"] == 10.0 and out["after"] == 5.0
    assert date.fromisoformat(out["cohorts"]["extract_end"][:10]) > START.date()


def test_horizons_add_the_signs_after_window_and_look_back() -> None:
    # one ticket a day for 100 days, each settling 2 days after opening; the extract ends at day 100
    end = START + timedelta(days=100)
    tickets = [
        TicketValue(
            opened_at=START + timedelta(days=d, hours=1),
            value=0.0,
            settled_at=START + timedelta(days=d + 2, hours=1),
        )
        for d in range(100)
    ]
    cut = START + timedelta(days=50)
    reopen = equal_observation(sign="incident.reopen_rate", tickets=tickets, cut=cut, extract_end=end)
    # settle 2 days + 14 days for a reopen to show: the tickets of the last 16 days are too young
    assert reopen.horizon.days == 16 and reopen.too_young == 16
    assert len(reopen.before) == 50 and len(reopen.after) == 34
    recurring = equal_observation(sign="incident.recurring_rate", tickets=tickets, cut=cut, extract_end=end)
    # a recurrence looks 30 days back: the first 30 days' tickets have too little history
    assert recurring.too_early_in_extract == 30 and recurring.too_young == 2
    assert recurring.as_json()["look_back_days"] == 30
    # a ticket opened before the cut that never settled counts against the horizon, not as judged
    open_ticket = TicketValue(opened_at=START + timedelta(days=10, hours=2), value=1.0)
    with_open = equal_observation(
        sign="incident.ping_pong_rate", tickets=[*tickets, open_ticket], cut=cut, extract_end=end
    )
    assert with_open.unsettled == 1 and len(with_open.before) == 50


def test_placebo_calibration_widens_the_error_after_a_break_in_the_weeks_before() -> None:
    weeks = tuple(range(-26, 4))
    noise = [0.01 * ((w * 7) % 5 - 2) for w in weeks]  # a fixed zig-zag, mean 0
    calm = WeeklySeries(weeks=weeks, values=tuple(0.3 + e for e in noise), weights=(100.0,) * len(weeks))
    broken = WeeklySeries(
        weeks=weeks,
        values=tuple(0.3 + e + (0.1 if -14 <= w < -8 else 0.0) for w, e in zip(weeks, noise, strict=True)),
        weights=(100.0,) * len(weeks),
    )
    calm_factor, calm_n = placebo_calibration(calm)
    broken_factor, broken_n = placebo_calibration(broken)
    # pseudo-adoptions at weeks −20 … −4, each with 4 weeks after it
    assert calm_n == broken_n == 17
    assert broken_factor > 2 * calm_factor and broken_factor > 2


def test_adopting_at_a_sign_s_worst_weeks_is_rarely_read_as_a_cure() -> None:
    # regression to the mean: ping-pong steady at 30 % but 40 % in the two weeks before the
    # adoption (the weeks that prompted it), then back to 30 % with nothing done; 20 patients
    its_cures = pooled_cures = 0
    for seed in range(20):
        rng = random.Random(seed)
        tickets = []
        for w in range(40):
            p = 0.40 if w in (24, 25) else 0.30
            for i in range(100):
                opened = START + timedelta(weeks=w, minutes=i * 90)
                value = float(rng.random() < p)
                tickets.append(TicketValue(opened_at=opened, value=value, settled_at=opened + timedelta(hours=1)))
        since = (START + timedelta(weeks=26)).date()
        j = judge_sign(sign="incident.ping_pong_rate", wanted="down", unit="ratio", tickets=tickets, since=since)
        conclude([j])
        its_cures += j.verdict == "healing"
        cut = cut_at(since)
        last_month = [t.value for t in tickets if cut - timedelta(weeks=4) <= t.opened_at < cut]
        after = [t.value for t in tickets if t.opened_at >= cut]
        pooled = rate_effect(
            before=(round(sum(last_month)), len(last_month)), after=(round(sum(after)), len(after)), wanted="down"
        )
        pooled_cures += pooled.verdict == "healing"
    # the last month against the months after: 7 cures of 20; against the trend: 2
    assert pooled_cures >= 5 and its_cures <= 2


def test_holm_caps_each_adjusted_p_at_one() -> None:
    # 0.6 × 2 = 1.2 → 1; 0.7 × 1 = 0.7, raised to 1 (monotone)
    assert holm([0.7, 0.6]) == [1.0, 1.0]
