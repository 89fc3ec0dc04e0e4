"""The sign library: every sign ITSM Doctor measures, in one explicit registry.

Signs live in one module per practice (``desk``, ``incident``, ``incident_time``,
``incident_people``, ``service_level``, ``request``, ``problem``, ``change``, ``process``,
``records_quality``, ``contrast``, ``narrow``); ``SIGNS`` below is the one registry, in catalog order.

Add a sign: write its function and metadata in the module of its practice, add it to that
module's tuple, and give it a case file in ``tests/signs/cases/<id>.yaml``. Add a module:
add its tuple to ``SIGNS``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from itsm_doctor.engine import Records
from itsm_doctor.signs.base import AREAS, Benchmark, Finding, Sign, compute, compute_all, rate
from itsm_doctor.signs.change import CHANGE_SIGNS
from itsm_doctor.signs.contrast import CONTRAST_SIGNS
from itsm_doctor.signs.desk import DESK_SIGNS
from itsm_doctor.signs.incident import INCIDENT_SIGNS
from itsm_doctor.signs.incident_people import INCIDENT_PEOPLE_SIGNS
from itsm_doctor.signs.incident_time import INCIDENT_TIME_SIGNS
from itsm_doctor.signs.narrow import NARROW_SIGNS
from itsm_doctor.signs.problem import PROBLEM_SIGNS
from itsm_doctor.signs.process import PROCESS_SIGNS
from itsm_doctor.signs.records_quality import RECORDS_SIGNS
from itsm_doctor.signs.request import REQUEST_SIGNS
from itsm_doctor.signs.service_level import SERVICE_LEVEL_SIGNS

__all__ = [
    "AREAS",
    "SIGNS",
    "Benchmark",
    "Finding",
    "Sign",
    "compute",
    "examine_signs",
    "get_sign",
    "rate",
]

SIGNS: tuple[Sign, ...] = (
    *DESK_SIGNS,
    *INCIDENT_SIGNS,
    *SERVICE_LEVEL_SIGNS,
    *INCIDENT_TIME_SIGNS,
    *INCIDENT_PEOPLE_SIGNS,
    *REQUEST_SIGNS,
    *PROBLEM_SIGNS,
    *CHANGE_SIGNS,
    *PROCESS_SIGNS,
    *RECORDS_SIGNS,
    *CONTRAST_SIGNS,
    *NARROW_SIGNS,
)
_BY_ID = {s.id: s for s in SIGNS} | {a: s for s in SIGNS for a in s.aliases}
if len({s.id for s in SIGNS}) != len(SIGNS):  # pragma: no cover - a programming error
    raise RuntimeError("two signs share an id")


def get_sign(sign_id: str) -> Sign:
    """The sign with this id (or alias)."""
    try:
        return _BY_ID[sign_id]
    except KeyError:
        raise KeyError(f"unknown sign {sign_id!r}; see `itsm-doctor catalog signs`") from None


def examine_signs(
    r: Records, *, signs: Sequence[Sign] = SIGNS, progress: Callable[[str], None] | None = None
) -> list[Finding]:
    """Every sign on the records (n/a with its reason where the records cannot give it)."""
    return compute_all(signs, r, progress=progress)
