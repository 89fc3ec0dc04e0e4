"""Follow-up: comparing visits, control charts, and whether each adopted prescription worked
(equal observation, interrupted time series, a control where the sphere gives one, Holm)."""

from __future__ import annotations

from itsm_doctor.followup.cohort import Cohorts, Horizon, TicketValue, equal_observation
from itsm_doctor.followup.effect import ALPHA, Effect, duration_effect, holm, rate_effect, verdict
from itsm_doctor.followup.its import ItsFit, WeeklySeries, segmented_fit, weekly_series, weeks_needed
from itsm_doctor.followup.judge import Judgement, conclude, judge_sign
from itsm_doctor.followup.spc import RULES, ControlChart, Signal, p_chart, rule_signals, xmr_chart

__all__ = [
    "ALPHA",
    "RULES",
    "Cohorts",
    "ControlChart",
    "Effect",
    "Horizon",
    "ItsFit",
    "Judgement",
    "Signal",
    "TicketValue",
    "WeeklySeries",
    "conclude",
    "duration_effect",
    "equal_observation",
    "holm",
    "judge_sign",
    "p_chart",
    "rate_effect",
    "rule_signals",
    "segmented_fit",
    "verdict",
    "weekly_series",
    "weeks_needed",
    "xmr_chart",
]
