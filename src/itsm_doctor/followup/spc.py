"""Statistical process control: XmR charts for values, p-charts for rates, and the standard
out-of-control rules.

Both charts are reduced to z-scores against their own centre line and sigma, so one rule
engine serves both. The rules are the Western Electric rules (the first four Nelson rules):

1. ``beyond_3_sigma`` — one point outside the control limits;
2. ``2_of_3_beyond_2_sigma`` — two of three consecutive points beyond 2 σ on the same side;
3. ``4_of_5_beyond_1_sigma`` — four of five consecutive points beyond 1 σ on the same side;
4. ``8_on_one_side`` — eight consecutive points on the same side of the centre line.

XmR sigma is the mean moving range divided by d2 = 1.128 (limits at mean ± 2.66 · mR̄);
p-chart sigma is √(p̄(1 − p̄)/nᵢ) per point, so limits widen for small samples.

With a ``baseline`` (the number of leading points before a change, e.g. the months before a
prescription's adoption), the centre line and limits are computed on the baseline alone and
every point — the baseline's and the later ones — is judged against them: the practice of
control charts for a process that was changed on purpose. Without one, the limits come from
the whole series, and a series that shifted half way puts nearly every point out of control.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

__all__ = ["RULES", "ControlChart", "Signal", "p_chart", "rule_signals", "xmr_chart"]

D2 = 1.128  # the bias constant of the moving range of two consecutive points
RULES = ("beyond_3_sigma", "2_of_3_beyond_2_sigma", "4_of_5_beyond_1_sigma", "8_on_one_side")


@dataclass(frozen=True, kw_only=True)
class Signal:
    """A rule broken at a point (the index of the last point of the run that breaks it)."""

    index: int
    rule: str


@dataclass(frozen=True, kw_only=True)
class ControlChart:
    """A chart ready to draw: points, centre line, per-point limits and the signals found."""

    kind: str  # "xmr" | "p"
    labels: tuple[str, ...]
    values: tuple[float, ...]
    center: float
    lower: tuple[float, ...]
    upper: tuple[float, ...]
    signals: tuple[Signal, ...] = field(default=())
    baseline: int | None = None  # the leading points the limits were computed on; None: all

    @property
    def in_control(self) -> bool:
        return not self.signals

    def as_json(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "labels": list(self.labels),
            "values": list(self.values),
            "center": self.center,
            "lower": list(self.lower),
            "upper": list(self.upper),
            "signals": [{"index": s.index, "rule": s.rule} for s in self.signals],
            "in_control": self.in_control,
            "baseline": self.baseline,
        }


def rule_signals(z: Sequence[float]) -> tuple[Signal, ...]:
    """Every (point, rule) broken by a series of z-scores; each rule reported once per point."""
    zs = np.asarray(z, dtype=float)
    found: list[Signal] = []
    for i in range(len(zs)):
        if abs(zs[i]) > 3:
            found.append(Signal(index=i, rule=RULES[0]))
        for rule, window, need, limit in ((RULES[1], 3, 2, 2.0), (RULES[2], 5, 4, 1.0)):
            if i + 1 >= window:
                run = zs[i + 1 - window : i + 1]
                if (run > limit).sum() >= need or (run < -limit).sum() >= need:
                    found.append(Signal(index=i, rule=rule))
        if i + 1 >= 8:
            run = zs[i - 7 : i + 1]
            if (run > 0).all() or (run < 0).all():
                found.append(Signal(index=i, rule=RULES[3]))
    return tuple(found)


def _baseline(baseline: int | None, n: int) -> int:
    if baseline is None:
        return n
    if not 2 <= baseline <= n:
        raise ValueError(f"a baseline needs at least two of the {n} points, not {baseline}")
    return baseline


def xmr_chart(
    values: Sequence[float], *, labels: Sequence[str] | None = None, baseline: int | None = None
) -> ControlChart:
    """Individuals and moving range chart of a series of values (at least two points); with
    ``baseline``, limits from the first ``baseline`` points only."""
    x = np.asarray(values, dtype=float)
    if len(x) < 2:
        raise ValueError("an XmR chart needs at least two points")
    base = x[: _baseline(baseline, len(x))]
    center = float(base.mean())
    mr_bar = float(np.abs(np.diff(base)).mean())
    sigma = mr_bar / D2
    z = (x - center) / sigma if sigma > 0 else np.zeros_like(x)
    n = len(x)
    return ControlChart(
        kind="xmr",
        labels=tuple(labels or (str(i + 1) for i in range(n))),
        values=tuple(float(v) for v in x),
        center=center,
        lower=(center - 3 * sigma,) * n,
        upper=(center + 3 * sigma,) * n,
        signals=rule_signals(z.tolist()),
        baseline=baseline,
    )


def p_chart(
    successes: Sequence[int],
    trials: Sequence[int],
    *,
    labels: Sequence[str] | None = None,
    baseline: int | None = None,
) -> ControlChart:
    """Proportion chart: ``successes[i]`` of ``trials[i]`` per period (periods with no trials
    skipped); with ``baseline``, p̄ from the first ``baseline`` periods with trials only."""
    k = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
    if k.shape != n.shape:
        raise ValueError("successes and trials must have the same length")
    keep = n > 0
    names = list(labels or (str(i + 1) for i in range(len(n))))
    k, n = k[keep], n[keep]
    names = [name for name, ok in zip(names, keep, strict=True) if ok]
    if len(n) < 2:
        raise ValueError("a p-chart needs at least two periods with trials")
    if (k < 0).any() or (k > n).any():
        raise ValueError("a p-chart needs 0 ≤ successes ≤ trials in every period")
    b = _baseline(baseline, len(n))
    p_bar = float(k[:b].sum() / n[:b].sum())
    p = k / n
    sigma = np.sqrt(p_bar * (1 - p_bar) / n)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(sigma > 0, (p - p_bar) / sigma, 0.0)
    return ControlChart(
        kind="p",
        labels=tuple(names),
        values=tuple(float(v) for v in p),
        center=p_bar,
        lower=tuple(max(0.0, p_bar - 3 * s) for s in sigma),
        upper=tuple(min(1.0, p_bar + 3 * s) for s in sigma),
        signals=rule_signals([float(v) if math.isfinite(v) else 0.0 for v in z]),
        baseline=baseline,
    )
