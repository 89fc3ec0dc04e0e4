"""The consultant's portfolio through the app, and organisation scoping of every
questionnaire and portfolio URL (404 for another organisation's, whatever id is typed)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import text

from itsm_doctor.web.app import route_table
from itsm_doctor.web.security import digest

Web = Any  # the ``web`` fixture of conftest.py
TODAY = datetime(2026, 12, 3, 12, tzinfo=UTC)


def _exam(mttr: float, present: str = "") -> dict[str, Any]:
    return {
        "schema": "itsm-doctor/examination/1",
        "signs": [{"id": "incident.mttr", "value": mttr, "unit": "h", "status": "fair", "direction": "lower"}],
        "diagnoses": [{"id": "d", "name": present, "verdict": "present", "likelihood": 0.8}] if present else [],
    }


def _examined(web: Web, org: Any, slug: str, mttr: float, *, at: datetime, present: str = "") -> Any:
    patient = web.store.patient_in(organisation_id=org.id, slug=slug, create=True)
    web.store.record_visit(patient=patient, examination=_exam(mttr, present), fingerprints=[], at=at)
    return patient


def _world(web: Web) -> dict[str, Any]:
    ada, bob, carol = web.user("ada@example.org"), web.user("bob@example.org"), web.user("carol@example.org")
    acme = web.organisation("acme", name="Acme", members={ada: "owner", bob: "member"})
    globex = web.organisation("globex", name="Globex Corp", members={ada: "owner"})
    initech = web.organisation("initech", name="Initech", members={carol: "owner"})
    web.app.state.clock = lambda: TODAY
    mine = _examined(web, acme, "acme-desk", 10.0, at=datetime(2026, 8, 20, tzinfo=UTC), present="Ping pong")
    _examined(web, acme, "acme-desk", 12.0, at=datetime(2026, 9, 10, tzinfo=UTC), present="Ping pong")
    for i, mttr in enumerate((20.0, 30.0, 40.0, 50.0), start=1):
        _examined(web, globex, f"globex-{i}", mttr, at=datetime(2026, 10, i, tzinfo=UTC))
    _examined(web, initech, "initech-it", 5.0, at=datetime(2026, 10, 1, tzinfo=UTC))
    web.store.adopt(
        patient=mine,
        prescription_id="rx-assignment-rules",
        dysfunction_id="assignment-ping-pong",
        title="Write assignment rules",
        owner="Ada",
        sphere="department",
        target_signs=[],
        adopted_on=date(2026, 9, 1),
        follow_up_days=30,
    )
    return {"acme": acme, "globex": globex, "initech": initech, "patient": mine}


def test_the_consultant_sees_every_owned_patient_with_exact_standings_and_the_overdue_follow_up(web: Web) -> None:
    _world(web)
    page = web.signed_in("ada@example.org").get("/portfolio")
    assert page.status_code == 200
    text = page.text
    assert "5 patient(s) in 2 organisation(s)." in text
    assert "initech" not in text.lower()  # another consultant's organisation
    rows = re.findall(r"<td><a href=\"/o/\w+/patients/[\w-]+\">([\w-]+)</a></td>\s*<td class=\"num\">(\d+)</td>", text)
    assert rows == [("acme-desk", "2"), ("globex-1", "1"), ("globex-2", "1"), ("globex-3", "1"), ("globex-4", "1")]
    # latest visits: acme-desk 12 h, globex 20..50 h → better than 100, 75, 50, 25, 0 % of 4
    got = re.findall(r"better than (\d+) % of (\d+)", text)
    assert got == [("100", "4"), ("75", "4"), ("50", "4"), ("25", "4"), ("0", "4")]
    assert "12.0 h" in text and "2026-09-10" in text and "Ping pong" in text
    # adopted 1 September + 30 days; the last visit (10 September) is before: due 1 October, overdue
    assert '<span class="overdue">2026-10-01 overdue</span>' in text
    assert "Write assignment rules" in text


def test_a_member_sees_only_the_own_patients_standing_and_never_the_others(web: Web) -> None:
    _world(web)
    bob = web.signed_in("bob@example.org")
    page = bob.get("/o/acme/portfolio")
    assert page.status_code == 200
    assert re.findall(r"better than (\d+) % of (\d+)", page.text) == [("100", "4")]
    for other in ("Globex", "globex", "20.0 h", "30.0 h", "40.0 h", "50.0 h", "Initech", "initech"):
        assert other not in page.text
    # the consultant, who owns both organisations, sees the same row there
    ada = web.signed_in("ada@example.org").get("/o/acme/portfolio").text
    assert re.findall(r"better than (\d+) % of (\d+)", ada) == [("100", "4")] and "Globex" not in ada
    # bob owns nothing: his portfolio is empty, and names nobody
    own = bob.get("/portfolio")
    assert own.status_code == 200 and "You own no organisation" in own.text and "Globex" not in own.text


def test_a_co_owner_of_one_client_gets_the_members_view_among_few_patients(web: Web) -> None:
    world = _world(web)
    dan = web.user("dan@example.org")
    web.store.add_member(user_id=dan.id, organisation_id=world["acme"].id, role="owner")
    # dan owns acme only: the standing among ada's five patients is shown (five reach the threshold)
    page = web.signed_in("dan@example.org").get("/o/acme/portfolio").text
    assert re.findall(r"better than (\d+) % of (\d+)", page) == [("100", "4")]
    # with globex down to three patients, four are compared: hidden from dan, shown to ada
    globex = world["globex"]
    with web.store.engine.begin() as conn:
        conn.execute(text("DELETE FROM patient WHERE organisation_id = :o AND slug = 'globex-4'"), {"o": globex.id})
    page = web.signed_in("dan@example.org").get("/o/acme/portfolio").text
    assert "too few to compare" in page and "better than" not in page
    ada = web.signed_in("ada@example.org").get("/o/acme/portfolio").text
    assert re.findall(r"better than (\d+) % of (\d+)", ada) == [("100", "3")]


def test_every_questionnaire_and_portfolio_url_of_another_organisation_is_404(web: Web) -> None:
    world = _world(web)
    acme = world["acme"]
    invitation = web.store.create_invitation(
        organisation_id=acme.id,
        patient_id=world["patient"].id,
        respondent="Ana",
        role="agent",
        token_hash=digest("t" * 43),
        expires_at=datetime(2027, 1, 1, tzinfo=UTC),
        created_by=None,
    )
    carol = web.signed_in("carol@example.org")
    bob = web.signed_in("bob@example.org")  # a member of acme, not its owner
    token = web.csrf(carol, "/")
    bob_token = web.csrf(bob, "/")
    values = {"org_slug": "acme", "patient_slug": "acme-desk", "invitation_id": str(invitation.id)}
    walked = 0
    missing = carol.get("/o/no-such-organisation").text
    for template, methods in route_table(web.app.routes):
        if not template.startswith(("/o/{org_slug}/questionnaire", "/o/{org_slug}/portfolio")):
            continue
        for org_slug in ("acme", "initech"):  # acme's URL, then acme's ids under carol's own organisation
            path = re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], template).replace("/o/acme", f"/o/{org_slug}", 1)
            if org_slug == "initech" and "{" not in template.replace("{org_slug}", ""):
                continue  # carol's own page without an id of acme's: hers to see
            for method in methods - {"HEAD"}:
                data = {
                    "csrf_token": token,
                    "respondent": "x",
                    "role": "agent",
                    "patient": "acme-desk",
                }
                r = carol.request(method, path, data=data if method == "POST" else None)
                assert r.status_code == 404, (method, path, r.status_code)
                assert "acme-desk" not in r.text and "Ana" not in r.text
                if org_slug == "acme":
                    assert r.text == missing
                walked += 1
        # the member of acme is no owner: the questionnaire's pages are 404 for him too
        if template.startswith("/o/{org_slug}/questionnaire"):
            path = re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], template)
            for method in methods - {"HEAD"}:
                r = bob.request(method, path, data={"csrf_token": bob_token} if method == "POST" else None)
                assert r.status_code == 404, (method, path)
    assert walked == 9  # 6 routes under acme, and the 3 with an id of acme's under initech
    # carol's own invitation form, naming acme's patient: not found in initech
    r = carol.post(
        "/o/initech/questionnaire/invitations",
        data={"csrf_token": token, "respondent": "x", "role": "agent", "patient": "acme-desk"},
    )
    assert r.status_code == 404
    # nothing was created or withdrawn in acme
    rows = web.store.invitations(organisation_id=acme.id)
    assert [(i.id, i.withdrawn_at) for i in rows] == [(invitation.id, None)]
    assert web.store.invitations(organisation_id=world["initech"].id) == []


def test_data_borne_markup_stays_text_in_the_portfolio_and_the_questionnaire_pages(web: Web) -> None:
    evil = "<script>alert(1)</script>"
    ada = web.user("ada@example.org")
    org = web.organisation("evil", name=evil, members={ada: "owner"})
    patient = web.store.patient(slug="evil-it", name=evil, organisation="evil")
    web.store.record_visit(patient=patient, examination=_exam(10.0, present=evil), fingerprints=[])
    web.store.adopt(
        patient=patient,
        prescription_id="rx",
        dysfunction_id="d",
        title=evil,
        owner=evil,
        sphere="team",
        target_signs=[],
        adopted_on=date(2026, 1, 2),
        follow_up_days=30,
    )
    web.store.save_answers(
        patient=patient, respondent=evil, role="agent", answers={"desk-l1-contacts-are-answered": True}
    )
    assert org.id == patient.organisation_id
    c = web.signed_in("ada@example.org")
    for url in ("/portfolio", "/o/evil/portfolio", "/o/evil/questionnaire", "/o/evil/questionnaire/patients/evil-it"):
        page = c.get(url)
        assert page.status_code == 200, url
        assert evil not in page.text, url
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text, url
