from __future__ import annotations

import math

import pytest

from itsm_doctor.followup.effect import duration_effect, rate_effect, verdict
from itsm_doctor.followup.spc import p_chart, rule_signals, xmr_chart


def test_xmr_limits_are_mean_plus_minus_2_66_mean_moving_range() -> None:
    chart = xmr_chart([10, 12, 11, 13, 12])
    # mean 11.6; moving ranges 2, 1, 2, 1 → mR̄ 1.5; limits 11.6 ± 2.66 × 1.5 (= 3 × 1.5 / 1.128)
    assert chart.center == pytest.approx(11.6)
    assert chart.upper[0] == pytest.approx(11.6 + 3 * 1.5 / 1.128)
    assert chart.lower[0] == pytest.approx(11.6 - 3 * 1.5 / 1.128)
    assert chart.upper[0] == pytest.approx(15.59, abs=0.01)
    assert chart.in_control


def test_eight_points_on_one_side_of_the_centre_line_is_a_signal() -> None:
    z = [-0.5] * 8 + [0.5, -0.2]
    assert [(s.index, s.rule) for s in rule_signals(z)] == [(7, "8_on_one_side")]


def test_western_electric_zone_rules() -> None:
    assert [(s.index, s.rule) for s in rule_signals([0.1, 2.5, -0.3, 2.2])] == [(3, "2_of_3_beyond_2_sigma")]
    assert [(s.index, s.rule) for s in rule_signals([1.2, 1.5, 0.2, 1.1, 1.3])] == [(4, "4_of_5_beyond_1_sigma")]
    assert [(s.index, s.rule) for s in rule_signals([0.0, -3.2])] == [(1, "beyond_3_sigma")]


def test_p_chart_flags_a_period_above_its_limit() -> None:
    chart = p_chart([10, 12, 30], [100, 100, 100], labels=["2026-01", "2026-02", "2026-03"])
    p_bar = 52 / 300
    sigma = math.sqrt(p_bar * (1 - p_bar) / 100)
    assert chart.center == pytest.approx(p_bar)
    assert chart.upper[2] == pytest.approx(p_bar + 3 * sigma)  # 0.2869
    assert [(s.index, s.rule) for s in chart.signals] == [(2, "beyond_3_sigma")]
    assert chart.as_json()["labels"] == ["2026-01", "2026-02", "2026-03"]


def test_p_chart_limits_widen_for_small_periods_and_skip_empty_ones() -> None:
    chart = p_chart([5, 1, 0], [50, 5, 0])
    assert len(chart.values) == 2
    assert chart.upper[1] - chart.center > chart.upper[0] - chart.center


def test_two_proportion_test_on_a_reopen_rate_that_fell_from_30_to_10_percent() -> None:
    effect = rate_effect(before=(30, 100), after=(10, 100), wanted="down")
    # pooled p 0.2, se √(0.2·0.8·0.02) = 0.05657, z = 3.536 → p = 0.00041
    assert effect.p_value == pytest.approx(0.000407, abs=1e-5)
    assert effect.effect_size == pytest.approx(2 * math.asin(math.sqrt(0.1)) - 2 * math.asin(math.sqrt(0.3)))
    assert effect.verdict == "healing"
    assert rate_effect(before=(30, 100), after=(28, 100), wanted="down").verdict == "no_effect_yet"
    assert rate_effect(before=(10, 100), after=(30, 100), wanted="down").verdict == "relapsing"


def test_mann_whitney_on_durations_that_all_grew() -> None:
    effect = duration_effect(before=[1, 2, 3, 4, 5], after=[6, 7, 8, 9, 10], wanted="down")
    # complete separation: U = 25 of 25, exact two-sided p = 2 / C(10, 5) = 2 / 252
    assert effect.p_value == pytest.approx(2 / 252)
    assert effect.effect_size == pytest.approx(1.0)
    assert (effect.before, effect.after) == (3.0, 8.0)
    assert effect.verdict == "relapsing"


def test_verdict_needs_significance_and_direction() -> None:
    assert verdict(before=0.3, after=0.1, p_value=0.2, wanted="down") == "no_effect_yet"
    assert verdict(before=0.3, after=0.1, p_value=0.01, wanted="up") == "relapsing"
    with pytest.raises(ValueError, match="wanted"):
        verdict(before=1, after=2, p_value=0.01, wanted="sideways")


def test_counts_whose_medians_tie_are_judged_by_the_shift_and_shown_as_means() -> None:
    # reassignments per ticket: 40 of 100 tickets reassigned once before, 10 of 100 after;
    # both medians are 0, the means 0.4 and 0.1, and the shift is clear
    effect = duration_effect(before=[0.0] * 60 + [1.0] * 40, after=[0.0] * 90 + [1.0] * 10, wanted="down")
    assert (effect.before, effect.after) == (0.4, 0.1)
    assert effect.p_value < 0.001
    # rank-biserial: P(after > before) - P(after < before) = 0.1 * 0.6 - 0.9 * 0.4
    assert effect.effect_size == pytest.approx(-0.30)
    assert effect.verdict == "healing"
    worse = duration_effect(before=[0.0] * 90 + [1.0] * 10, after=[0.0] * 60 + [1.0] * 40, wanted="down")
    assert worse.verdict == "relapsing"


def test_xmr_limits_on_a_baseline_judge_the_points_after_it() -> None:
    # baseline 10, 12, 11, 13, 12: mean 11.6, mR̄ 1.5 → limits 11.6 ± 3.99; then the process shifts to ~20
    chart = xmr_chart([10, 12, 11, 13, 12, 20, 21, 19], baseline=5)
    assert chart.center == pytest.approx(11.6) and chart.upper[-1] == pytest.approx(11.6 + 3 * 1.5 / 1.128)
    assert [s.index for s in chart.signals if s.rule == "beyond_3_sigma"] == [5, 6, 7]
    assert chart.as_json()["baseline"] == 5
    # over the whole series the shift inflates the moving range and the limits swallow it
    assert not [s for s in xmr_chart([10, 12, 11, 13, 12, 20, 21, 19]).signals if s.rule == "beyond_3_sigma"]
    with pytest.raises(ValueError, match="baseline"):
        xmr_chart([1, 2, 3], baseline=1)


def test_significance_is_strictly_below_alpha_and_alpha_is_passed_on() -> None:
    # p exactly at alpha is not significant (p < alpha, as the module says)
    assert verdict(before=0.3, after=0.1, p_value=0.05, wanted="down") == "no_effect_yet"
    assert verdict(before=0.3, after=0.1, p_value=0.0499, wanted="down") == "healing"
    assert verdict(before=0.1, after=0.3, p_value=0.01, wanted="up") == "healing"
    assert verdict(before=0.3, after=0.3, p_value=0.01, wanted="up") == "no_effect_yet"
    # 30 % → 10 % of 100 tickets: p = 0.000407, significant at 0.05, not at a stricter 0.0001
    assert rate_effect(before=(30, 100), after=(10, 100), wanted="down", alpha=0.0001).verdict == "no_effect_yet"
    # complete separation of five and five durations: p = 2/252 = 0.0079, not significant at 0.005
    strict = duration_effect(before=[1, 2, 3, 4, 5], after=[6, 7, 8, 9, 10], wanted="down", alpha=0.005)
    assert strict.verdict == "no_effect_yet"


def test_an_effect_spells_its_test_sizes_and_measure() -> None:
    effect = rate_effect(before=(30, 100), after=(10, 100), wanted="down")
    h = 2 * math.asin(math.sqrt(0.1)) - 2 * math.asin(math.sqrt(0.3))  # −0.4421
    assert effect.as_json() == {
        "test": "two-proportion z-test",
        "before": 0.3,
        "after": 0.1,
        "n_before": 100,
        "n_after": 100,
        "p_value": pytest.approx(0.000407, abs=1e-5),
        "effect_size": pytest.approx(h),
        "effect_measure": "Cohen's h",
        "verdict": "healing",
    }
    grew = duration_effect(before=[1, 2, 3, 4, 5], after=[6, 7, 8, 9, 10], wanted="down")
    assert grew.as_json() == {
        "test": "Mann-Whitney U",
        "before": 3.0,
        "after": 8.0,
        "n_before": 5,
        "n_after": 5,
        "p_value": pytest.approx(2 / 252),
        "effect_size": pytest.approx(1.0),
        "effect_measure": "rank-biserial correlation",
        "verdict": "relapsing",
    }


def test_one_ticket_per_period_is_enough_and_none_is_refused() -> None:
    # one ticket each: p1 = 1, p2 = 0, pooled 0.5, se = √(0.25 · 2) = 0.7071, z = 1.414, p = 0.1573;
    # h = 2 asin 0 − 2 asin 1 = −π
    one = rate_effect(before=(1, 1), after=(0, 1), wanted="down")
    assert (one.p_value, one.effect_size, one.verdict) == (
        pytest.approx(0.157299, abs=1e-6),
        pytest.approx(-math.pi),
        "no_effect_yet",
    )
    for before, after in (((0, 0), (1, 10)), ((1, 10), (0, 0))):
        with pytest.raises(ValueError, match=r"^both periods need tickets$"):
            rate_effect(before=before, after=after, wanted="down")
    # no ticket with the trait in either period: se = 0, nothing can be told, p = 1
    assert rate_effect(before=(0, 10), after=(0, 10), wanted="down").p_value == 1.0


def test_one_duration_per_period_is_enough_and_unknown_durations_are_left_out() -> None:
    # one 'before' value above three 'after' values: U = 0 of 3, rank-biserial −1, exact p = 2/4
    one = duration_effect(before=[5.0], after=[1, 2, 3], wanted="down")
    assert (one.n_before, one.before, one.after, one.effect_size) == (1, 5.0, 2.0, -1.0)
    assert (one.p_value, one.verdict) == (pytest.approx(0.5), "no_effect_yet")
    # None (a ticket still open) and NaN are dropped before the test: the five-and-five separation again
    before: list[float | None] = [1, 2, None, 3, 4, math.nan, 5]
    after: list[float | None] = [6, 7, None, 8, 9, 10]
    gaps = duration_effect(before=before, after=after, wanted="down")  # type: ignore[arg-type]
    assert (gaps.n_before, gaps.n_after, gaps.before, gaps.after) == (5, 5, 3.0, 8.0)
    assert gaps.p_value == pytest.approx(2 / 252)
    for empty_before, empty_after in (([], [1.0]), ([1.0], [math.nan])):
        with pytest.raises(ValueError, match=r"^both periods need durations$"):
            duration_effect(before=empty_before, after=empty_after, wanted="down")
