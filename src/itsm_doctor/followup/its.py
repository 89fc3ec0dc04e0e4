"""Interrupted time series: judge a change against what the series was already doing.

The judged tickets are grouped in weeks counted from the adoption (week 0 starts on the
adoption date, so no week straddles it); each week's value is the mean of its tickets'
values — for durations in hours, whose tails are heavy, the mean of log(1 + hours), so the
effect is a relative change. The weekly values are fitted by weighted least squares
(weights: the week's ticket count) with the segmented regression

    y_w = b0 + b1 · w + b2 · after_w  [+ annual season]

where ``after_w`` is 1 from week 0: the trend the series already had goes on, and the
adoption may shift its level. (A slope change b3 · after_w · w would let a projection drift
ever further from the data: its uncertainty grows with every week waited, so more weeks
could never settle the question.) The trend is the recent course: the last ``WINDOW_WEEKS``
weeks before the adoption, so an old break (a tool migration, a change of how tickets are
closed) does not bend the projection. When the weeks before the adoption span two years, a
second fit over those ``SEASON_WEEKS`` weeks adds the season (two Fourier pairs of the
52.18-week year), and the change must stand against both projections (the fit with the
larger p-value decides); with less history a season cannot be told from the trend, and the
fit says so.

The effect is the level shift b2: the mean gap, over the after weeks, between what was
observed and what the trend (and season) projected. Its standard error is Newey–West
(Bartlett kernel), because neighbouring weeks are correlated, and never below the ordinary
one; the p-value and the interval use Student's t with the residual degrees of freedom.

Weekly series of real organisations break the model now and then (a tool migration, a
reorganisation, a change of how tickets are closed), and a misfit pre-adoption trend then
projects a "change" where nothing was done. So the standard error is also *calibrated in
time*: the same fit is run at pseudo-adoption dates inside the weeks before the adoption
(where nothing was adopted) with the same number of after weeks, and when those placebo
fits' t-statistics spread wider than Student's t allows, the standard error is widened by
the root mean square of their t-statistics. The effect is judged over the first
``AFTER_WEEKS`` weeks after the adoption: what happens later has too many other causes to be
credited to one prescription.

With a control (the groups a team's remedy did not touch), the series is the weekly gap
between the treated and the control groups, weighted by 1 / (1/n_treated + 1/n_control): a
comparative interrupted time series, i.e. difference in differences that also allows the two
to drift apart before the adoption; a season shared by both cancels.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

import numpy as np
from scipy import stats

from itsm_doctor.followup.cohort import TicketValue, aware

__all__ = [
    "AFTER_WEEKS",
    "MIN_PLACEBOS",
    "MIN_WEEKS_AFTER",
    "MIN_WEEKS_BEFORE",
    "SEASON_WEEKS",
    "WINDOW_WEEKS",
    "ItsFit",
    "WeeklySeries",
    "difference",
    "placebo_calibration",
    "segmented_fit",
    "weekly_series",
    "weeks_needed",
]

MIN_WEEKS_BEFORE = 12  # a quarter of trend: enough for the placebo fits inside it to check the model
PLACEBO_WEEKS_BEFORE = 6
MIN_WEEKS_AFTER = 2
WINDOW_WEEKS = 26
AFTER_WEEKS = 26
MIN_PLACEBOS = 6
SEASON_WEEKS = 104
YEAR_WEEKS = 52.1775
POWER = 0.9
_WEEK_S = 7 * 86400


@dataclass(frozen=True, kw_only=True)
class WeeklySeries:
    """Weekly values (week 0 starts at the adoption) and each week's weight."""

    weeks: tuple[int, ...]
    values: tuple[float, ...]
    weights: tuple[float, ...]

    def side(self, *, after: bool) -> WeeklySeries:
        keep = [i for i, w in enumerate(self.weeks) if (w >= 0) == after]
        return WeeklySeries(
            weeks=tuple(self.weeks[i] for i in keep),
            values=tuple(self.values[i] for i in keep),
            weights=tuple(self.weights[i] for i in keep),
        )


@dataclass(frozen=True, kw_only=True)
class ItsFit:
    """A segmented regression's verdict material."""

    effect: float  # mean gap observed − projected over the after weeks, in the sign's unit
    se: float
    p_value: float
    low: float  # 95 % interval of the effect
    high: float
    df: int
    slope: float  # the trend, per week
    projected: float  # mean projected value over the after weeks
    observed: float  # mean observed value over the after weeks
    weeks_before: int
    weeks_after: int
    season: bool
    window: int  # weeks before the adoption the fit used
    sigma: float  # residual standard deviation of one unit-weight week
    inflation: float  # the se used over the ordinary se (≥ 1): Newey–West and calibration
    placebos: int = 0  # placebo fits inside the weeks before the adoption
    calibration: float = 1.0  # widening of the se the placebo fits called for (≥ 1)
    seasonal_p: float | None = None  # the seasonal fit's p-value when two years allowed one

    def as_json(self) -> dict[str, object]:
        return {
            "effect": self.effect,
            "se": self.se,
            "interval": [self.low, self.high],
            "p_value": self.p_value,
            "trend_per_week": self.slope,
            "projected": self.projected,
            "observed": self.observed,
            "weeks_before": self.weeks_before,
            "weeks_after": self.weeks_after,
            "season": self.season,
            "window_weeks": self.window,
            "placebos": self.placebos,
            "calibration": self.calibration,
            "seasonal_p_value": self.seasonal_p,
        }


def weekly_series(tickets: Sequence[TicketValue], *, cut: datetime, log: bool = False) -> WeeklySeries:
    """Each week's mean value (``log``: mean of log(1 + value)) and ticket count; weeks are
    counted from ``cut`` (negative before it), and weeks without a judged ticket are left out."""
    buckets: dict[int, list[float]] = {}
    c = aware(cut)
    for t in tickets:
        week = math.floor((aware(t.opened_at) - c).total_seconds() / _WEEK_S)
        buckets.setdefault(week, []).append(float(t.value))
    weeks = sorted(buckets)

    def agg(v: list[float]) -> float:
        return float(np.mean(np.log1p(np.maximum(v, 0.0)) if log else v))

    return WeeklySeries(
        weeks=tuple(weeks),
        values=tuple(agg(buckets[w]) for w in weeks),
        weights=tuple(float(len(buckets[w])) for w in weeks),
    )


def difference(treated: WeeklySeries, control: WeeklySeries) -> WeeklySeries:
    """The weekly gap treated − control over the weeks both have, weighted 1/(1/n_t + 1/n_c)."""
    other = dict(zip(control.weeks, zip(control.values, control.weights, strict=True), strict=True))
    weeks, values, weights = [], [], []
    for w, v, n in zip(treated.weeks, treated.values, treated.weights, strict=True):
        if w in other:
            cv, cn = other[w]
            weeks.append(w)
            values.append(v - cv)
            weights.append(1.0 / (1.0 / n + 1.0 / cn))
    return WeeklySeries(weeks=tuple(weeks), values=tuple(values), weights=tuple(weights))


def _design(weeks: np.ndarray, *, season: bool) -> np.ndarray:
    after = (weeks >= 0).astype(float)
    cols = [np.ones_like(weeks), weeks, after]
    if season:
        for h in (1, 2):
            angle = 2 * math.pi * h * weeks / YEAR_WEEKS
            cols += [np.sin(angle), np.cos(angle)]
    return np.column_stack(cols)


def _contrast(k: int) -> np.ndarray:
    """The effect as a combination of the coefficients: the level shift. Observed − effect
    is exactly the weighted mean the trend projects over the after weeks (the WLS residuals
    of the after weeks sum to zero)."""
    c = np.zeros(k)
    c[2] = 1.0
    return c


def _newey_west(xw: np.ndarray, resid: np.ndarray, bread: np.ndarray) -> np.ndarray:
    """Heteroscedasticity- and autocorrelation-consistent covariance (Bartlett kernel, lag
    ⌊4 (T/100)^(2/9)⌋, small-sample factor T/(T−k))."""
    t, k = xw.shape
    lag = math.floor(4 * (t / 100) ** (2 / 9))
    u = xw * resid[:, None]
    meat = u.T @ u
    for lag_i in range(1, lag + 1):
        weight = 1 - lag_i / (lag + 1)
        g = u[lag_i:].T @ u[:-lag_i]
        meat += weight * (g + g.T)
    return np.asarray(bread @ meat @ bread * t / max(t - k, 1))


def _window(series: WeeklySeries, weeks: int = WINDOW_WEEKS) -> WeeklySeries:
    keep = [i for i, w in enumerate(series.weeks) if -weeks <= w < AFTER_WEEKS]
    return WeeklySeries(
        weeks=tuple(series.weeks[i] for i in keep),
        values=tuple(series.values[i] for i in keep),
        weights=tuple(series.weights[i] for i in keep),
    )


def placebo_calibration(series: WeeklySeries, *, season: bool = False) -> tuple[float, int]:
    """The widening factor (≥ 1) the placebo fits inside the weeks before the adoption call
    for, and how many there were (factor 1 with fewer than ``MIN_PLACEBOS``): each pseudo
    date leaves at least ``PLACEBO_WEEKS_BEFORE`` weeks before it and as many weeks after it as
    the real adoption has (at most a third of the weeks before)."""
    pre = series.side(after=False)
    real_after = sum(1 for w in series.weeks if w >= 0)
    span = min(max(real_after, MIN_WEEKS_AFTER), max(len(pre.weeks) // 3, MIN_WEEKS_AFTER))
    ts = []
    for k in range(span, len(pre.weeks) - PLACEBO_WEEKS_BEFORE + 1):
        shift = -pre.weeks[len(pre.weeks) - k]  # that week becomes week 0
        rows = [i for i in range(len(pre.weeks) - k + span)]
        pseudo = WeeklySeries(
            weeks=tuple(pre.weeks[i] + shift for i in rows),
            values=tuple(pre.values[i] for i in rows),
            weights=tuple(pre.weights[i] for i in rows),
        )
        fit = _fit(pseudo, calibrate=False, season=season, min_before=PLACEBO_WEEKS_BEFORE)
        if fit is not None and fit.se > 0:
            ts.append(fit.effect / fit.se)
    if len(ts) < MIN_PLACEBOS:
        return 1.0, len(ts)
    return max(1.0, math.sqrt(float(np.mean(np.square(ts))))), len(ts)


def segmented_fit(series: WeeklySeries, *, calibrate: bool = True) -> ItsFit | None:
    """The segmented regression of ``series`` over the last ``WINDOW_WEEKS`` weeks before the
    adoption and the first ``AFTER_WEEKS`` after it (with ``calibrate``, its se widened by the
    placebo fits); when two years precede the adoption, also the seasonal fit over them, and
    the one with the larger p-value. None when there are fewer than ``MIN_WEEKS_BEFORE``
    weeks before the adoption or ``MIN_WEEKS_AFTER`` after it, or too few weeks to leave two
    residual degrees of freedom."""
    recent = _fit(_window(series), calibrate=calibrate, season=False)
    if recent is None or not series.weeks or -min(series.weeks) < SEASON_WEEKS:
        return recent
    seasonal = _fit(_window(series, SEASON_WEEKS), calibrate=calibrate, season=True)
    if seasonal is None:
        return recent
    chosen = recent if recent.p_value >= seasonal.p_value else seasonal
    return replace(chosen, seasonal_p=seasonal.p_value)


def _fit(series: WeeklySeries, *, calibrate: bool, season: bool, min_before: int = MIN_WEEKS_BEFORE) -> ItsFit | None:
    weeks = np.asarray(series.weeks, dtype=float)
    y = np.asarray(series.values, dtype=float)
    n = np.asarray(series.weights, dtype=float)
    pre, post = int((weeks < 0).sum()), int((weeks >= 0).sum())
    if pre < min_before or post < MIN_WEEKS_AFTER:
        return None
    x = _design(weeks, season=season)
    t, k = x.shape
    if t - k < 2:
        return None
    root = np.sqrt(n)
    xw, yw = x * root[:, None], y * root
    bread = np.linalg.pinv(xw.T @ xw)
    beta = bread @ xw.T @ yw
    resid = yw - xw @ beta
    df = t - k
    sigma2 = float(resid @ resid) / df
    c = _contrast(k)
    se_ols = math.sqrt(max(float(c @ bread @ c) * sigma2, 0.0))
    se_hac = math.sqrt(max(float(c @ _newey_west(xw, resid, bread) @ c), 0.0))
    factor, placebos = placebo_calibration(series, season=season) if calibrate else (1.0, 0)
    se = max(se_ols, se_hac) * factor
    effect = float(c @ beta)
    if se > 0:
        p_value = float(2 * stats.t.sf(abs(effect) / se, df))
    else:  # a series the model fits exactly: only a shift beyond rounding is a change
        p_value = 1.0 if abs(effect) <= 1e-9 * (1 + float(np.abs(y).max())) else 0.0
    half = float(stats.t.ppf(0.975, df)) * se
    observed = float(np.average(y[weeks >= 0], weights=n[weeks >= 0]))
    return ItsFit(
        effect=effect,
        se=se,
        p_value=p_value,
        low=effect - half,
        high=effect + half,
        df=df,
        slope=float(beta[1]),
        projected=observed - effect,
        observed=observed,
        weeks_before=pre,
        weeks_after=post,
        season=season,
        window=pre,
        sigma=math.sqrt(sigma2),
        inflation=se / se_ols if se_ols > 0 else 1.0,
        placebos=placebos,
        calibration=factor,
    )


def weeks_needed(
    series: WeeklySeries, *, promised: float, alpha: float, sigma: float | None = None, inflation: float = 1.0
) -> int | None:
    """How many more judged weeks at the current volume (the mean weekly count of the last
    eight weeks) the fit needs before an effect of size ``promised`` would be found with 90 %
    power at the two-sided level ``alpha``: 0 when the weeks already suffice, None when not
    even ``AFTER_WEEKS`` weeks after the adoption would (or when there are too few weeks
    before it to project)."""
    series = _window(series)  # the recent course: the fit every verdict needs
    weeks = np.asarray(series.weeks, dtype=float)
    n = np.asarray(series.weights, dtype=float)
    pre = weeks < 0
    if int(pre.sum()) < MIN_WEEKS_BEFORE or promised == 0:
        return None
    if sigma is None:  # no fit yet: the spread of the weeks before around their own trend
        xp = np.column_stack([np.ones(int(pre.sum())), weeks[pre]]) * np.sqrt(n[pre])[:, None]
        yp = np.asarray(series.values, dtype=float)[pre] * np.sqrt(n[pre])
        beta, *_ = np.linalg.lstsq(xp, yp, rcond=None)
        resid = yp - xp @ beta
        sigma = math.sqrt(float(resid @ resid) / max(len(yp) - 2, 1))
    volume = float(n[-8:].mean())
    z = float(stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(POWER))
    target = abs(promised) / z
    have = int((weeks >= 0).sum())
    start = int(weeks.max()) + 1 if have else 0
    for extra in range(0, AFTER_WEEKS - have + 1):
        total = have + extra
        if total < MIN_WEEKS_AFTER:
            continue
        future = np.arange(start, start + extra, dtype=float)
        all_weeks = np.concatenate([weeks, future])
        all_n = np.concatenate([n, np.full(extra, volume)])
        x = _design(all_weeks, season=False) * np.sqrt(all_n)[:, None]
        if x.shape[0] - x.shape[1] < 2:
            continue
        c = _contrast(x.shape[1])
        se = sigma * inflation * math.sqrt(max(float(c @ np.linalg.pinv(x.T @ x) @ c), 0.0))
        if se <= target:
            return extra
    return None
