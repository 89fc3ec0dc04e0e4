"""Judging an adopted prescription on one sign: equal observation, then an interrupted time
series — against untouched groups when the prescription's sphere gives a control — and, over
the whole visit's family of tests, Holm's correction and the weeks still needed.

A verdict is one of ``healing`` (the sign moved the promised way, significantly after the
correction), ``relapsing`` (it moved the other way) or ``no_effect_yet``; the latter says
whether the data could already have seen the promised effect ("no effect of the promised
size") or how many more weeks at the current volume it would take ("too early: about 6 more
weeks").

The promised effect, which the weeks needed are counted for, is the larger of 10 % of the
sign's level before the adoption and half the way from that level to the good end of the
sign's benchmark band (10 % when the sign is already in the good band).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np

from itsm_doctor.followup.cohort import Cohorts, TicketValue, aware, cut_at, equal_observation
from itsm_doctor.followup.effect import ALPHA, holm, verdict
from itsm_doctor.followup.its import (
    AFTER_WEEKS,
    MIN_WEEKS_BEFORE,
    SEASON_WEEKS,
    ItsFit,
    WeeklySeries,
    difference,
    segmented_fit,
    weekly_series,
    weeks_needed,
)

__all__ = ["MIN_TICKETS", "Judgement", "conclude", "judge_sign", "promised_effect"]

MIN_TICKETS = 20  # fewer judged tickets on either side: no test


@dataclass(kw_only=True)
class Judgement:
    """One prescription's effect on one sign, before the family's correction."""

    sign: str
    wanted: str
    unit: str | None
    test: str
    cohorts: Cohorts | None = None
    fit: ItsFit | None = None
    series: WeeklySeries | None = None
    before: float | None = None
    after: float | None = None
    promised: float | None = None  # in the sign's unit
    log: bool = False  # the series is log(1 + hours): effects are relative changes
    control: dict[str, Any] | None = None
    confidence: str = "low"
    reasons: list[str] = field(default_factory=list)
    p_adjusted: float | None = None
    verdict: str = "no_effect_yet"
    weeks_needed: int | None = None
    reading: str = ""

    def as_json(self) -> dict[str, Any]:
        fit = self.fit
        effect = interval = expected = None
        if fit is not None:
            if self.log:  # relative change of the typical duration, e.g. -0.3 for 30 % shorter
                effect, interval = math.expm1(fit.effect), [math.expm1(fit.low), math.expm1(fit.high)]
                expected = None if self.after is None else self.after / (1 + effect)
            else:
                effect, interval = fit.effect, [fit.low, fit.high]
                expected = None if self.after is None else self.after - effect
        return {
            "sign": self.sign,
            "wanted": self.wanted,
            "unit": self.unit,
            "test": self.test,
            "before": self.before,
            "after": self.after,
            "expected": expected,
            "effect": effect,
            "effect_scale": "relative" if self.log else "absolute",
            "interval": interval,
            "p_value": None if fit is None else fit.p_value,
            "p_adjusted": self.p_adjusted,
            "n_before": None if self.cohorts is None else len(self.cohorts.before),
            "n_after": None if self.cohorts is None else len(self.cohorts.after),
            "cohorts": None if self.cohorts is None else self.cohorts.as_json(),
            "model": None if fit is None else fit.as_json(),
            "control": self.control,
            "promised": self.promised,
            "confidence": self.confidence,
            "reasons": list(self.reasons),
            "weeks_needed": self.weeks_needed,
            "verdict": self.verdict,
            "reading": self.reading,
        }


def promised_effect(*, level: float, good: float | None, wanted: str) -> float:
    """The size of move the follow-up looks for, in the sign's unit (see the module doc)."""
    tenth = 0.10 * abs(level)
    if good is None:
        return tenth
    worse = level > good if wanted == "down" else level < good
    return max(tenth, 0.5 * abs(level - good)) if worse else tenth


def _level(values: Sequence[float], *, median: bool) -> float:
    return float(np.median(values) if median else np.mean(values))


def judge_sign(
    *,
    sign: str,
    wanted: str,
    unit: str | None,
    tickets: Sequence[TicketValue],
    since: date,
    sphere: str = "department",
    groups: Sequence[str] = (),
    good: float | None = None,
) -> Judgement:
    """The material for a verdict on ``sign`` for a prescription adopted ``since``; the
    verdict itself comes from ``conclude`` over the visit's whole family of judgements."""
    j = Judgement(sign=sign, wanted=wanted, unit=unit, test="not tested")
    if not tickets:
        j.test, j.reading = "not tested: no ticket measures this sign", "the records cannot show this sign"
        return j
    cut = cut_at(since)
    cohorts = equal_observation(sign=sign, tickets=tickets, cut=cut)
    j.cohorts = cohorts
    median = j.log = unit == "h"
    if cohorts.horizon.settle is None:
        j.reasons.append("the records do not say when tickets settled: cohorts not cut to equal observation")
    young = cohorts.too_young + cohorts.unsettled
    if young:
        j.reasons.append(
            f"{cohorts.too_young} tickets too young to judge (opened within {cohorts.horizon.days:.0f} days of "
            f"the extract's end), {cohorts.unsettled} not settled within the horizon"
        )
    treated, control = _split(cohorts, sphere=sphere, groups=groups, reasons=j.reasons)
    before = [t.value for t in treated if aware(t.opened_at) < cut]
    after = [t.value for t in treated if aware(t.opened_at) >= cut]
    if before:
        j.before = _level(before, median=median)
        j.promised = promised_effect(level=j.before, good=good, wanted=wanted)
    if after:
        j.after = _level(after, median=median)
    series = weekly_series(treated, cut=cut, log=median)
    if control:
        series = difference(series, weekly_series(control, cut=cut, log=median))
        j.control = {
            "groups": sorted(set(groups)),
            "treated_tickets": len(treated),
            "control_tickets": len(control),
            "control_groups": len({t.group for t in control}),
        }
    j.series = series
    weeks_before = len(series.side(after=False).weeks)
    if len(before) < MIN_TICKETS or weeks_before < MIN_WEEKS_BEFORE:
        # waiting will not help: the history before the adoption is what is missing
        j.test = (
            f"not tested: {len(before)} judged tickets before the adoption (needs {MIN_TICKETS})"
            if len(before) < MIN_TICKETS
            else f"not tested: {weeks_before} judged weeks before the adoption (needs {MIN_WEEKS_BEFORE})"
        )
        j.series = None
        return j
    fit = segmented_fit(series) if len(after) >= MIN_TICKETS else None
    if fit is None:
        j.test = f"not tested yet: {len(after)} judged tickets after the adoption (needs {MIN_TICKETS} over 2 weeks)"
        return j
    j.fit = fit
    j.test = (
        f"difference in differences: {', '.join(j.control['groups'])} against {j.control['control_groups']} "
        "untouched groups (weekly segmented regression)"
        if j.control
        else "interrupted time series (weekly segmented regression)"
    )
    history = -min(series.weeks)  # weeks of records before the adoption, the fit's window or not
    if control:
        j.reasons.append("a season shared by the team and its peers cancels in their gap")
    elif fit.seasonal_p is not None:
        j.reasons.append(
            f"season modelled over the {SEASON_WEEKS} weeks before; the verdict stands against the recent trend "
            f"and the seasonal fit (p {fit.p_value:.2g} and {fit.seasonal_p:.2g} before correction, the larger used)"
        )
    else:
        j.reasons.append(f"season not modelled: {history} weeks of records before the adoption (two years needed)")
    if control and cohorts.horizon.settle is not None:
        j.confidence = "high"
    elif cohorts.horizon.settle is not None:  # a trend of at least MIN_WEEKS_BEFORE weeks, no control
        j.confidence = "moderate"
    return j


def _split(
    cohorts: Cohorts, *, sphere: str, groups: Sequence[str], reasons: list[str]
) -> tuple[list[TicketValue], list[TicketValue]]:
    """The treated tickets and, for a team remedy naming its groups, the untouched groups'."""
    judged = [*cohorts.before, *cohorts.after]
    if sphere != "team":
        reasons.append(f"no control: a {sphere}-sphere prescription changes the whole organisation's work")
        return judged, []
    if not groups:
        reasons.append("no control: the register does not name the team's groups (`register adopt --group`)")
        return judged, []
    mine = set(groups)
    treated = [t for t in judged if t.group in mine]
    control = [t for t in judged if t.group is not None and t.group not in mine]
    if not treated:
        reasons.append(f"the team's groups ({', '.join(sorted(mine))}) own no judged ticket: judged on all tickets")
        return judged, []
    if not control:
        reasons.append("no control: no other group owns judged tickets")
        return treated, []
    return treated, control


def conclude(judgements: Sequence[Judgement], *, alpha: float = ALPHA) -> None:
    """Holm's correction over the family of tested judgements, then each verdict, and the
    weeks needed where the data cannot tell yet (at the family's strictest level α/m)."""
    tested = [j for j in judgements if j.fit is not None]
    for j, p in zip(tested, holm([j.fit.p_value for j in tested if j.fit is not None]), strict=True):
        j.p_adjusted = p
    level = alpha / max(len(tested), 1)
    for j in judgements:
        if j.fit is not None and j.p_adjusted is not None:
            j.verdict = verdict(before=0.0, after=j.fit.effect, p_value=j.p_adjusted, wanted=j.wanted, alpha=alpha)
        if j.verdict != "no_effect_yet":
            j.reading = (
                f"{j.verdict}: the gap to the untouched groups moved {_direction(j)} beyond its trend"
                if j.control
                else f"{j.verdict}: moved {_direction(j)} beyond what the trend projected"
            )
            continue
        if j.series is None or j.promised is None or j.promised == 0:
            j.reading = j.reading or "no effect yet: " + j.test
            continue
        sigma = None if j.fit is None else j.fit.sigma
        inflation = 1.0 if j.fit is None else j.fit.inflation
        promised = j.promised
        if j.log and j.before is not None:  # the same move on the log(1 + hours) scale of the series
            promised = abs(math.log1p(j.before) - math.log1p(max(j.before - j.promised, 0.0)))
        j.weeks_needed = weeks_needed(j.series, promised=promised, alpha=level, sigma=sigma, inflation=inflation)
        if j.weeks_needed is None:
            j.reading = (
                f"no effect yet: at the current volume, not even {AFTER_WEEKS} weeks after the adoption "
                "could show the promised effect"
            )
        elif j.weeks_needed == 0 and j.fit is not None:
            j.reading = "no effect of the promised size: the weeks judged were enough to see it"
        else:
            weeks = max(j.weeks_needed, 1)
            j.reading = f"too early: about {weeks} more week{'s' if weeks > 1 else ''}"


def _direction(j: Judgement) -> str:
    if j.fit is None:
        return ""
    return "down" if j.fit.effect < 0 else "up"
