"""What the CLI and the web app both do with a patient's visits: diagnose a new examination
again with what only the store knows, put a prescription into the register, run the follow-up.

One place for each, so ``itsm-doctor examine``/``register``/``followup`` and the web pages
give the same answers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from itsm_doctor.store import Store

if TYPE_CHECKING:
    from itsm_doctor.followup.compare import TicketValues

__all__ = ["adopt_prescription", "find_prescription", "rediagnose", "run_followup"]

TicketValuesFactory = Callable[[Path], "TicketValues | None"]


def rediagnose(data: dict[str, Any], *, store: Store, who: Any, symptoms: Path | None, sphere: str) -> dict[str, Any]:
    """Diagnose again with what only the store knows — earlier visits (follow-up signs for
    stagnant improvement) — and keep the prescriptions within the user's sphere."""
    from itsm_doctor.followup.compare import followup_signs

    try:
        from itsm_doctor.diagnosis import diagnose_examination
    except ImportError:  # pragma: no cover - the diagnosis layer ships with the package
        return data
    earlier = store.visits(patient=who)
    signs = list(data["signs"])
    if earlier:
        maturity = data.get("maturity") or {}
        signs += followup_signs(
            first_visit=earlier[0].examination,
            current_signs=data["signs"],
            register_statuses=[e.status for e in store.register(patient=who)],
            maturity_gap=maturity.get("mean_gap"),
        )
    data["diagnoses"], data["prescriptions"] = diagnose_examination(
        signs, symptoms, visits=len(earlier) + 1, sphere=sphere
    )
    return data


def find_prescription(
    *, visits: Sequence[Mapping[str, Any]], wanted: str
) -> tuple[dict[str, Any], Mapping[str, Any]] | None:
    """The prescription the latest visit that offered it gave, and that visit's examination;
    ``wanted`` is its id or its title (any case), or a part of one title when only one matches."""
    key = wanted.strip().casefold()
    for exact in (True, False):
        for exam in reversed(visits):
            offered = list(exam.get("prescriptions") or [])
            hits = [
                rx
                for rx in offered
                if (str(rx.get("id", "")).casefold() == key or str(rx.get("title", "")).casefold() == key)
                or (not exact and key in str(rx.get("title", "")).casefold())
            ]
            if len(hits) == 1 or (exact and hits):
                return dict(hits[0]), exam
            if hits:  # a part of several titles: ambiguous, let the caller list them
                return None
    return None


def adopt_prescription(
    store: Store, who: Any, prescription_id: str, *, owner: str, adopted_on: date, groups: Sequence[str] = ()
) -> Any:
    """Put the prescription (id or title) as the latest visit offered it into the register, with
    the signs it should move and their wanted direction (down when lower is better), and for a
    team remedy the ``groups`` it changes; None when no visit offered it. A prescription already
    in the register (and not abandoned) is not entered twice: its entry is returned."""
    visits = store.visits(patient=who)
    found = find_prescription(visits=[v.examination for v in visits], wanted=prescription_id)
    if found is None:
        return None
    rx, exam = found
    for entry in store.register(patient=who):
        if entry.prescription_id == rx["id"] and entry.status != "abandoned":
            return entry
    better = {str(s["id"]): "up" if s.get("direction") == "higher" else "down" for s in exam.get("signs") or []}
    targets = [{"id": s, "direction": better.get(s, "down")} for s in rx.get("moves") or []]
    visit_id = next((v.id for v in reversed(visits) if v.examination is exam), None)
    return store.adopt(
        patient=who,
        prescription_id=str(rx["id"]),
        dysfunction_id=str(rx.get("dysfunction", "")),
        cause_id=rx.get("cause"),
        title=str(rx.get("title", rx["id"])),
        owner=owner,
        sphere=str(rx.get("sphere", "department")),
        target_signs=targets,
        adopted_on=adopted_on,
        follow_up_days=rx.get("follow_up_days"),
        visit_id=visit_id,
        groups=groups,
    )


def _ticket_values_factory() -> TicketValuesFactory | None:
    """The examination's per-ticket sign values, when the sign library is installed."""
    try:
        from itsm_doctor.examination import ticket_values  # type: ignore[import-not-found,attr-defined,unused-ignore]
    except ImportError:
        return None
    return ticket_values  # type: ignore[no-any-return,unused-ignore]


def run_followup(
    store: Store, who: Any, workspace: Path, visits: Sequence[Any], *, note: Callable[[str], None] | None = None
) -> dict[str, Any]:
    """The follow-up of ``who``: their ``visits`` (from the store, oldest first), the
    prescriptions in their register, and the per-ticket sign values of the records in
    ``workspace`` (the latest visit's); ``note`` hears why a before/after test could not run."""
    # imported here: the register's commands stay quick to start
    from itsm_doctor.engine import EngineError
    from itsm_doctor.followup.compare import AdoptedPrescription, followup

    register = [
        AdoptedPrescription(
            prescription_id=e.prescription_id,
            title=e.title,
            dysfunction_id=e.dysfunction_id,
            since=e.started_on or e.adopted_on,
            target_signs=e.target_signs,
            status=e.status,
            sphere=e.sphere,
            groups=tuple(e.groups or ()),
        )
        for e in store.register(patient=who)
    ]
    factory = _ticket_values_factory()
    values = None
    if factory is not None:
        try:
            values = factory(workspace)
        except EngineError as exc:  # visits without records here (e.g. a team server's store)
            if note is not None:
                note(f"no before/after test: {exc}")
    return followup(visits=[v.examination for v in visits], register=register, ticket_values=values)
