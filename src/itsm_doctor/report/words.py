"""Numbers as people read them: sign values in their unit, p-values."""

from __future__ import annotations

import math
from typing import Any

__all__ = ["format_p", "format_value"]


def format_p(p: float | None) -> str:
    """A p-value for people: "< 0.001" below a thousandth, else two significant digits."""
    if p is None:
        return "n/a"
    if p < 0.001:
        return "< 0.001"
    return f"{p:.2g}"


def format_value(value: Any, unit: str | None) -> str:
    """A sign value as people read it: shares in %, hours (days past two days), counts."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if not isinstance(value, int | float):
        return str(value)
    if unit == "ratio":
        return f"{value:.1%}"
    if unit == "h":
        return f"{value / 24:,.1f} d" if abs(value) >= 48 else f"{value:,.1f} h"
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.2f}"
