"""Did a prescription move its signs? Before/after tests, effect sizes and a verdict.

Rates (a share of tickets) are compared with the two-proportion z-test and Cohen's h;
durations with the two-sided Mann–Whitney U test and the rank-biserial correlation (robust
to the heavy tails of resolution times). These pooled tests ignore trends and censoring: the
follow-up judges prescriptions with ``judge`` (equal observation, interrupted time series,
a control where there is one) and uses ``holm`` here to correct the family of its tests.
A verdict needs the change to be significant (p < ``alpha``) *and* in the direction the
prescription promised:

- ``healing`` — significant change in the promised direction;
- ``relapsing`` — significant change in the opposite direction (the patient got worse);
- ``no_effect_yet`` — no significant change (too early, too little data, or no effect).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import stats

__all__ = ["ALPHA", "Effect", "duration_effect", "holm", "rate_effect", "verdict"]

ALPHA = 0.05
Verdict = Literal["healing", "no_effect_yet", "relapsing"]


@dataclass(frozen=True, kw_only=True)
class Effect:
    """The before/after comparison of one sign."""

    test: str
    before: float
    after: float
    n_before: int
    n_after: int
    p_value: float
    effect_size: float
    effect_measure: str
    verdict: Verdict

    def as_json(self) -> dict[str, object]:
        return {
            "test": self.test,
            "before": self.before,
            "after": self.after,
            "n_before": self.n_before,
            "n_after": self.n_after,
            "p_value": self.p_value,
            "effect_size": self.effect_size,
            "effect_measure": self.effect_measure,
            "verdict": self.verdict,
        }


def verdict(*, before: float, after: float, p_value: float, wanted: str, alpha: float = ALPHA) -> Verdict:
    """``wanted`` is ``down`` or ``up``: the direction the prescription should move the sign."""
    if wanted not in ("down", "up"):
        raise ValueError(f"wanted must be 'down' or 'up', not {wanted!r}")
    if not (p_value < alpha) or before == after:
        return "no_effect_yet"
    improved = after < before if wanted == "down" else after > before
    return "healing" if improved else "relapsing"


def rate_effect(*, before: tuple[int, int], after: tuple[int, int], wanted: str, alpha: float = ALPHA) -> Effect:
    """Two-proportion z-test: ``before``/``after`` are (tickets with the trait, tickets)."""
    (k1, n1), (k2, n2) = before, after
    if n1 <= 0 or n2 <= 0:
        raise ValueError("both periods need tickets")
    p1, p2 = k1 / n1, k2 / n2
    pooled = (k1 + k2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    p_value = 1.0 if se == 0 else float(2 * stats.norm.sf(abs(p2 - p1) / se))
    h = 2 * math.asin(math.sqrt(p2)) - 2 * math.asin(math.sqrt(p1))
    return Effect(
        test="two-proportion z-test",
        before=p1,
        after=p2,
        n_before=n1,
        n_after=n2,
        p_value=p_value,
        effect_size=h,
        effect_measure="Cohen's h",
        verdict=verdict(before=p1, after=p2, p_value=p_value, wanted=wanted, alpha=alpha),
    )


def duration_effect(*, before: Sequence[float], after: Sequence[float], wanted: str, alpha: float = ALPHA) -> Effect:
    """Mann–Whitney U on two samples of durations (hours) or counts; medians reported as
    before/after (means when the medians tie), and the verdict follows the direction of the
    rank-biserial correlation, which is what the test measures."""
    x = np.asarray(before, dtype=float)
    y = np.asarray(after, dtype=float)
    x, y = x[np.isfinite(x)], y[np.isfinite(y)]
    if len(x) == 0 or len(y) == 0:
        raise ValueError("both periods need durations")
    result = stats.mannwhitneyu(y, x, alternative="two-sided")
    # rank-biserial: +1 when every 'after' value exceeds every 'before' value
    rank_biserial = 2 * float(result.statistic) / (len(x) * len(y)) - 1
    m1, m2 = float(np.median(x)), float(np.median(y))
    if m1 == m2:  # counts that are mostly zero (reassignments): the medians tie, the means still tell
        m1, m2 = float(np.mean(x)), float(np.mean(y))
    return Effect(
        test="Mann-Whitney U",
        before=m1,
        after=m2,
        n_before=len(x),
        n_after=len(y),
        p_value=float(result.pvalue),
        effect_size=rank_biserial,
        effect_measure="rank-biserial correlation",
        # the direction is the test's own (rank-biserial > 0: 'after' tends to be larger), not the medians'
        verdict=verdict(before=0.0, after=rank_biserial, p_value=float(result.pvalue), wanted=wanted, alpha=alpha),
    )


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjustment of a family of p-values (same order as given): the
    i-th smallest is multiplied by (m − i + 1), made non-decreasing, capped at 1. Rejecting
    where the adjusted p < alpha keeps the chance of any false verdict in the family ≤ alpha."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [1.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * float(p_values[i])))
        adjusted[i] = running
    return adjusted
