"""Follow-up: comparing visits, control charts, and whether each adopted prescription worked."""

from __future__ import annotations

from itsm_doctor.followup.effect import ALPHA, Effect, duration_effect, rate_effect, verdict
from itsm_doctor.followup.spc import RULES, ControlChart, Signal, p_chart, rule_signals, xmr_chart

__all__ = [
    "ALPHA",
    "RULES",
    "ControlChart",
    "Effect",
    "Signal",
    "duration_effect",
    "p_chart",
    "rate_effect",
    "rule_signals",
    "verdict",
    "xmr_chart",
]
