"""A consultant's portfolio: ``/portfolio`` across the organisations the user owns, and
``/o/{org}/portfolio`` where one organisation's patients stand among the consultant's (a
member sees only their own organisation's rows: never another's name or values)."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter, Request
from fastapi.responses import Response

from itsm_doctor.web.deps import CurrentUser, OrgMember, StoreDep
from itsm_doctor.web.portfolio_model import MIN_PEERS_FOR_MEMBERS, Adopted, PatientFacts, SummaryCache, portfolio
from itsm_doctor.web.routes.questionnaire import now
from itsm_doctor.web.templating import render

__all__ = ["router"]

router = APIRouter()


def _summaries(request: Request) -> SummaryCache:
    """The app's cache of visit summaries (one per app: visit ids are unique within its store)."""
    cache: SummaryCache | None = getattr(request.app.state, "portfolio_summaries", None)
    if cache is None:
        cache = request.app.state.portfolio_summaries = SummaryCache()
    return cache


def _facts(request: Request, store: StoreDep, organisation_ids: Sequence[int]) -> list[PatientFacts]:
    """The portfolio's facts of every patient of the organisations; each latest visit's
    examination is read (scoped by the same organisations) only when its summary is not kept."""
    records = store.patient_records(organisation_ids=organisation_ids)
    summaries = _summaries(request).get(
        (r.latest_visit_id for r in records if r.latest_visit_id),
        lambda ids: store.examinations_in(organisation_ids=organisation_ids, visit_ids=ids),
    )
    return [
        PatientFacts(
            organisation_id=r.organisation_id,
            organisation_slug=r.organisation_slug,
            organisation_name=r.organisation_name,
            patient_slug=r.patient.slug,
            patient_name=r.patient.name,
            visit_times=r.visit_times,
            latest=summaries.get(r.latest_visit_id) if r.latest_visit_id else None,
            register=tuple(
                Adopted(title=e.title, status=e.status, adopted_on=e.adopted_on, follow_up_days=e.follow_up_days)
                for e in r.register
            ),
        )
        for r in records
    ]


@router.get("/portfolio")
def consultant_portfolio(request: Request, user: CurrentUser, store: StoreDep) -> Response:
    """Every patient of every organisation the user owns, side by side."""
    owned = store.owned_organisation_ids(user_id=user.id)
    view = portfolio(_facts(request, store, owned), today=now(request).date())
    return render(request, "portfolio/consultant.html", portfolio=view, organisations=len(owned))


@router.get("/o/{org_slug}/portfolio")
def organisation_portfolio(request: Request, org: OrgMember, store: StoreDep) -> Response:
    """This organisation's patients, standing among the patients of its owners' organisations."""
    peers = store.peer_organisation_ids(organisation_id=org.organisation_id)
    # only the consultant who owns every organisation compared sees standings among few patients;
    # a member, or a co-owner of this organisation alone, gets the member's view
    restricted = not set(peers) <= set(store.owned_organisation_ids(user_id=org.user.id))
    view = portfolio(
        _facts(request, store, peers), today=now(request).date(), visible={org.organisation_id}, member_view=restricted
    )
    return render(
        request,
        "portfolio/organisation.html",
        org=org,
        portfolio=view,
        min_peers=MIN_PEERS_FOR_MEMBERS,
        restricted=restricted,
    )
