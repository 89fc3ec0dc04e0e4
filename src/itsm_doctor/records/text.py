"""Text as it leaves the records for people's tools: spreadsheet formulas neutralised,
control characters that XML, SVG and chart renderers refuse removed."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["FORMULA_PATTERN", "is_formula", "neutralise_formula", "sanitise", "sanitise_text"]

# A cell a spreadsheet would evaluate: it starts with = or @, or with + or - not followed by
# a plain number (tabs and carriage returns before count as nothing). "=1+1", "-2+3" and
# "-2+3+cmd|' /C calc'!A0" are formulas; "-3", "+33 1 23", "-1.5e3" and "-" stay as they are.
FORMULA_PATTERN = r"^[\t\r]*(?:[=@]|[+\-](?![0-9 .,eE]*$))"
_FORMULA = re.compile(FORMULA_PATTERN)
# C0 controls but tab, line feed and carriage return; DEL; C1 controls; the non-characters
# U+FFFE / U+FFFF and lone surrogates: none is allowed in XML 1.0
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff\ud800-\udfff]")


def is_formula(text: str) -> bool:
    """Whether a spreadsheet would read ``text`` as a formula."""
    return bool(_FORMULA.match(text))


def neutralise_formula(text: str) -> str:
    """``text`` made inert for spreadsheets (OWASP: prefix a single quote)."""
    return "'" + text if is_formula(text) else text


def sanitise_text(text: str) -> str:
    """``text`` without the control characters XML and SVG forbid (NUL, VT, ESC, U+FFFE…)."""
    return _CONTROL.sub("", text)


def sanitise(value: Any) -> Any:
    """A JSON-like value with every string (keys included) passed through ``sanitise_text``."""
    if isinstance(value, str):
        return sanitise_text(value)
    if isinstance(value, Mapping):
        return {sanitise(k): sanitise(v) for k, v in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, bytes | bytearray):
        return [sanitise(v) for v in value]
    return value
