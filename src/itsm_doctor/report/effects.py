"""How the follow-up's effects read: an effect with its interval, and the reasoning behind a
verdict, in the order the follow-up reached it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from itsm_doctor.report.words import format_value

__all__ = ["format_effect", "reasoning"]


def format_effect(e: Mapping[str, Any]) -> str:
    """An effect with its 95 % interval as people read it: a relative change for durations,
    percentage points for shares, else in the sign's unit."""
    effect, interval = e.get("effect"), e.get("interval")
    if effect is None or not interval:
        return "n/a"
    if e.get("effect_scale") == "relative":
        return f"{effect:+.0%} [{interval[0]:+.0%}, {interval[1]:+.0%}]"
    unit = e.get("unit")
    if unit == "ratio":
        return f"{effect * 100:+.1f} pts [{interval[0] * 100:+.1f}, {interval[1] * 100:+.1f}]"
    return f"{format_value(effect, unit)} [{format_value(interval[0], unit)}, {format_value(interval[1], unit)}]"


def reasoning(e: Mapping[str, Any]) -> list[str]:
    """How the verdict was reached, in the order it was: cohorts, trend, control, reading."""
    lines = []
    cohorts = e.get("cohorts") or {}
    if cohorts:
        lines.append(
            f"cohorts cut to equal observation: {cohorts.get('judged_before', 0):,} tickets before and "
            f"{cohorts.get('judged_after', 0):,} after, each observed {cohorts.get('horizon_days', 0):g} days; "
            f"{cohorts.get('too_young', 0):,} too young to judge, {cohorts.get('unsettled', 0):,} not settled "
            "within the horizon"
        )
    model = e.get("model") or {}
    if model:
        unit = e.get("unit")
        lines.append(
            f"trend over the {model.get('window_weeks')} weeks before: {format_value(e.get('expected'), unit)} "
            f"expected after, {format_value(e.get('after'), unit)} seen"
            + (" (season modelled)" if model.get("season") else "")
        )
    lines += [str(r) for r in e.get("reasons") or [] if not (cohorts and "too young to judge" in str(r))]
    if e.get("reading"):
        lines.append(str(e["reading"]))
    return lines
