"""The sign library: every sign ITSM Doctor measures, in one explicit registry.

Add a sign: write its function and metadata in the module of its practice, add it to that
module's tuple, and give it a case file in ``tests/signs/cases/<id>.yaml``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from itsm_doctor.engine import Records
from itsm_doctor.signs.base import AREAS, Benchmark, Finding, Sign, compute, rate
from itsm_doctor.signs.desk import DESK_SIGNS
from itsm_doctor.signs.incident import INCIDENT_SIGNS
from itsm_doctor.signs.incident_people import INCIDENT_PEOPLE_SIGNS
from itsm_doctor.signs.incident_time import INCIDENT_TIME_SIGNS
from itsm_doctor.signs.practices import PRACTICE_SIGNS
from itsm_doctor.signs.process import PROCESS_SIGNS

__all__ = [
    "AREAS",
    "SIGNS",
    "Benchmark",
    "Finding",
    "Sign",
    "compute",
    "examine_signs",
    "get_sign",
    "missing_capabilities",
    "rate",
]

SIGNS: tuple[Sign, ...] = (
    *DESK_SIGNS,
    *INCIDENT_SIGNS,
    *INCIDENT_TIME_SIGNS,
    *INCIDENT_PEOPLE_SIGNS,
    *PRACTICE_SIGNS,
    *PROCESS_SIGNS,
)
_BY_ID = {s.id: s for s in SIGNS} | {a: s for s in SIGNS for a in s.aliases}
if len({s.id for s in SIGNS}) != len(SIGNS):  # pragma: no cover - a programming error
    raise RuntimeError("two signs share an id")


def get_sign(sign_id: str) -> Sign:
    try:
        return _BY_ID[sign_id]
    except KeyError:
        raise KeyError(f"unknown sign {sign_id!r}; see `itsm-doctor catalog signs`") from None


def missing_capabilities(r: Records) -> list[str]:
    """What the records reveal as missing from the patient's tooling or practice."""
    missing = []
    if not r.has("event"):
        missing.append("no history: the export has no event log or audit trail")
    if not (r.has("sla_record") or r.has("sla_target")) and not bool(r.execute(r["ticket"].sla_met.notnull().any())):
        missing.append("no SLA: no target and no SLA outcome")
    if not r.has("link") and not bool(r.execute(r["ticket"].problem_id.notnull().any())):
        missing.append("no problem links: incidents are never tied to problems")
    if not r.has("survey_response"):
        missing.append("no surveys: customer satisfaction is not measured")
    return missing


def examine_signs(
    r: Records, *, signs: Sequence[Sign] = SIGNS, progress: Callable[[str], None] | None = None
) -> list[Finding]:
    """Every sign on the records (n/a with its reason where the records cannot give it)."""
    cache: dict[str, bool] = {}
    findings = []
    for sign in signs:
        if progress:
            progress(sign.id)
        findings.append(compute(sign, r, cache=cache))
    for f in findings:
        if f.sign.id == "records.completeness" and f.value is not None:
            f.breakdowns["missing_capabilities"] = missing_capabilities(r)
    return findings
