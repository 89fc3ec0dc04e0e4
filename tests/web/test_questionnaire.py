"""The questionnaire for many respondents: invitation links (one-time, hashed, expiring),
drafts that resume, submission into an AnswerSet, and what the owner sees."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import text

from itsm_doctor.assessment.answers import AnswersFile
from itsm_doctor.assessment.bank import load_symptom_bank
from itsm_doctor.assessment.maturity import load_maturity_bank
from itsm_doctor.examination import maturity_section
from itsm_doctor.web.security import digest

Web = Any  # the ``web`` fixture of conftest.py


def _setup(web: Web) -> Any:
    ada = web.user("ada@example.org", name="Ada")
    web.organisation("acme", name="Acme", members={ada: "owner"})
    owner = web.signed_in("ada@example.org")
    return owner


def _invite(web: Web, owner: Any, *, respondent: str, role: str, patient: str = "", new_patient: str = "") -> str:
    token = web.csrf(owner, "/o/acme/questionnaire")
    data = {"csrf_token": token, "respondent": respondent, "role": role, "days": "14"}
    if patient:
        data["patient"] = patient
    if new_patient:
        data["new_patient"] = new_patient
    r = owner.post("/o/acme/questionnaire/invitations", data=data)
    assert r.status_code == 200, r.text
    found = re.search(r'class="link-once">http://testserver/q/([A-Za-z0-9_-]+)<', r.text)
    assert found, r.text
    return found.group(1)


def _progress_row(page: str, role: str) -> list[int]:
    """invited, started, submitted, lapsed of the first progress row of ``role``."""
    found = re.search(rf"<td>{re.escape(role)}</td>((?:\s*<td class=\"num\">\d+</td>){{4}})", page)
    assert found, page
    return [int(n) for n in re.findall(r">(\d+)<", found.group(1))]


def _csrf_of(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found
    return found.group(1)


def test_a_respondent_answers_by_link_saves_resumes_submits_and_the_link_is_then_used_up(web: Web) -> None:
    owner = _setup(web)
    link = _invite(web, owner, respondent="Ana", role="agent", new_patient="Acme IT")
    # the store keeps the digest only
    with web.store.engine.connect() as conn:
        hashes = conn.execute(text("SELECT token_hash FROM questionnaire_invitation")).scalars().all()
    assert hashes == [digest(link)] and link not in hashes[0]

    anon = web.client()  # no account
    page = anon.get(f"/q/{link}")
    assert page.status_code == 200
    assert "You answer as <strong>Ana</strong>, Service-desk or support agent" in page.text
    agent_statements = [s for s in load_symptom_bank().statements if s.asked_of == "agent"]
    assert agent_statements[0].statement in page.text
    other = next(s for s in load_symptom_bank().statements if s.asked_of == "customer")
    assert other.statement not in page.text  # only the agent's statements
    assert "desk-l1-contacts-are-answered" in page.text  # and every practice's criteria
    csrf = _csrf_of(page.text)
    first = agent_statements[0].id
    # save a draft: three answers
    r = anon.post(
        f"/q/{link}",
        data={
            "csrf_token": csrf,
            "action": "save",
            "desk-l1-contacts-are-answered": "yes",
            "desk-l2-every-contact-logged": "no",
            first: "4",
            "not-a-question": "yes",
        },
    )
    assert r.status_code == 200
    assert "Saved." in r.text
    total = len(load_maturity_bank().criterion_ids) + len(agent_statements)
    assert f"3 of {total} answered" in r.text
    # another browser with the same link resumes where Ana stopped
    again = web.client()
    resumed = again.get(f"/q/{link}")
    assert resumed.status_code == 200
    assert f"3 of {total} answered" in resumed.text
    assert 'name="desk-l2-every-contact-logged" value="no" checked' in resumed.text
    assert f'name="{first}" value="4" checked' in resumed.text
    # the owner sees Ana started
    progress = owner.get("/o/acme/questionnaire/patients/acme-it")
    assert progress.status_code == 200
    assert _progress_row(progress.text, "Service-desk or support agent") == [1, 1, 0, 0]
    assert link not in progress.text  # the token is never shown again
    # submit: the answers go into one AnswerSet, as `itsm-doctor assess` records them
    answers = {
        "desk-l1-contacts-are-answered": "yes",
        "desk-l2-every-contact-logged": "yes",
        "desk-l2-named-desk-lead": "yes",
        "incident-l1-incidents-get-fixed": "no",
        first: "5",
    }
    r = again.post(f"/q/{link}", data={"csrf_token": _csrf_of(resumed.text), "action": "submit", **answers})
    assert r.status_code == 200
    assert "Thank you, Ana" in r.text and f"5 of {total} questions" in r.text
    patient = web.store.patient_in(
        organisation_id=web.store.membership(user_id=1, organisation_slug="acme")[0].id, slug="acme-it"
    )
    stored = web.store.answers(patient=patient)
    assert len(stored) == 1
    assert (stored[0].respondent, stored[0].role) == ("Ana", "agent")
    assert stored[0].answers == {
        "desk-l1-contacts-are-answered": True,
        "desk-l2-every-contact-logged": True,
        "desk-l2-named-desk-lead": True,
        "incident-l1-incidents-get-fixed": False,
        first: 5,
    }
    # used up: the link is refused, whatever the browser, and the form is never shown
    for c in (anon, again, web.client()):
        gone = c.get(f"/q/{link}")
        assert gone.status_code == 410
        assert "used up" in gone.text and '<form method="post" action="/q/' not in gone.text
    replay = anon.post(f"/q/{link}", data={"csrf_token": csrf, "action": "submit", first: "1"})
    assert replay.status_code == 410
    assert len(web.store.answers(patient=patient)) == 1
    # progress: 1 invited, 1 started, 1 submitted
    progress = owner.get("/o/acme/questionnaire").text
    assert _progress_row(progress, "Service-desk or support agent") == [1, 1, 1, 0]
    # the answers file reads back as the CLI's
    download = owner.get("/o/acme/questionnaire/patients/acme-it/answers.yaml")
    assert download.status_code == 200
    parsed = AnswersFile.model_validate(yaml.safe_load(download.text))
    assert parsed.patient == "acme-it"
    assert parsed.respondents[0].name == "Ana" and parsed.respondents[0].answers[first] == 5


def test_an_expired_or_withdrawn_link_is_refused_and_an_unknown_one_is_404(web: Web) -> None:
    owner = _setup(web)
    link = _invite(web, owner, respondent="Bea", role="manager", new_patient="acme-it")
    anon = web.client()
    assert anon.get(f"/q/{link}").status_code == 200
    csrf = _csrf_of(anon.get(f"/q/{link}").text)
    # the app's clock moves 15 days on: the 14-day link has expired
    web.app.state.clock = lambda: datetime.now(UTC) + timedelta(days=15)
    r = anon.get(f"/q/{link}")
    assert r.status_code == 410 and "expired" in r.text and "/q/" not in r.text
    r = anon.post(f"/q/{link}", data={"csrf_token": csrf, "action": "save", "desk-l1-contacts-are-answered": "yes"})
    assert r.status_code == 410
    web.app.state.clock = None
    # an expires_at in the past, straight in the store
    org_id = web.store.membership(user_id=1, organisation_slug="acme")[0].id
    patient = web.store.patient_in(organisation_id=org_id, slug="acme-it")
    web.store.create_invitation(
        organisation_id=org_id,
        patient_id=patient.id,
        respondent="Old",
        role="agent",
        token_hash=digest("x" * 43),
        expires_at=datetime.now(UTC) - timedelta(seconds=1),
        created_by=None,
    )
    assert anon.get("/q/" + "x" * 43).status_code == 410
    # withdrawn by the owner
    link2 = _invite(web, owner, respondent="Cid", role="agent", patient="acme-it")
    inv = next(i for i in web.store.invitations(organisation_id=org_id) if i.respondent == "Cid")
    r = owner.post(
        f"/o/acme/questionnaire/invitations/{inv.id}/withdraw",
        data={"csrf_token": web.csrf(owner, "/o/acme/questionnaire")},
    )
    assert r.status_code == 303
    r = anon.get(f"/q/{link2}")
    assert r.status_code == 410 and "withdrawn" in r.text
    # unknown and malformed links
    for bad in ("y" * 43, "short", "a%20b" * 9):
        r = anon.get(f"/q/{bad}")
        assert r.status_code == 404 and "not valid" in r.text and '<form method="post" action="/q/' not in r.text
    assert anon.get("/q/..%2F..%2Fetc").status_code == 404
    assert web.store.answers(patient=patient) == []


def test_the_respondent_forms_refuse_a_request_without_the_csrf_token(web: Web) -> None:
    owner = _setup(web)
    link = _invite(web, owner, respondent="Ana", role="agent", new_patient="acme-it")
    anon = web.client()
    page = anon.get(f"/q/{link}")
    assert anon.cookies.get("itsm_doctor_csrf")  # the anonymous CSRF cookie
    for data in ({"action": "submit"}, {"action": "submit", "csrf_token": "forged"}):
        r = anon.post(f"/q/{link}", data={**data, "desk-l1-contacts-are-answered": "yes"})
        assert r.status_code == 403
    # another browser's token does not fit this browser's cookie
    stranger = web.client()
    stranger.get(f"/q/{link}")
    r = stranger.post(f"/q/{link}", data={"csrf_token": _csrf_of(page.text), "action": "submit"})
    assert r.status_code == 403
    org_id = web.store.membership(user_id=1, organisation_slug="acme")[0].id
    patient = web.store.patient_in(organisation_id=org_id, slug="acme-it")
    assert web.store.answers(patient=patient) == []
    assert anon.get(f"/q/{link}").status_code == 200  # still open


def test_data_borne_markup_in_respondent_names_stays_text(web: Web) -> None:
    owner = _setup(web)
    evil = "<script>alert(1)</script>"
    link = _invite(web, owner, respondent=evil, role="customer", new_patient="acme-it")
    pages = [owner.get("/o/acme/questionnaire/patients/acme-it").text]
    anon = web.client()
    page = anon.get(f"/q/{link}").text
    pages.append(page)
    r = anon.post(
        f"/q/{link}", data={"csrf_token": _csrf_of(page), "action": "submit", "nobody-tells-me-anything": "5"}
    )
    pages.append(r.text)
    pages.append(owner.get("/o/acme/questionnaire/patients/acme-it").text)
    for text_ in pages:
        assert evil not in text_
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text_


DESK = {
    1: ["desk-l1-contacts-are-answered"],
    2: ["desk-l2-every-contact-logged", "desk-l2-named-desk-lead"],
    3: ["desk-l3-written-l1-scope", "desk-l3-knowledge-for-top-requests"],
    4: ["desk-l4-fcr-measured-monthly", "desk-l4-agent-variation-reviewed"],
    5: ["desk-l5-shift-left-reviews"],
}


def _desk_answers(level: int) -> dict[str, bool]:
    """Every service-desk criterion up to ``level`` yes, the next level's first criterion no."""
    answers = {c: True for lv in range(1, level + 1) for c in DESK[lv]}
    if level < 5:
        answers[DESK[level + 1][0]] = False
    return answers


def test_the_owner_sees_the_spread_between_roles_and_the_self_assessed_against_the_evidenced(
    web: Web, tmp_path: Path
) -> None:
    owner = _setup(web)
    org_id = web.store.membership(user_id=1, organisation_slug="acme")[0].id
    patient = web.store.patient_in(organisation_id=org_id, slug="acme-it", create=True)
    # two agents rate the service desk 2 and 1, a manager 4: agents' median 1.5, manager 4, range 2.5
    for name, role, level in (("Ana", "agent", 2), ("Ben", "agent", 1), ("Mia", "manager", 4)):
        web.store.save_answers(patient=patient, respondent=name, role=role, answers=_desk_answers(level))
    # the latest visit's records: both desk signs computed and fair, lifecycle conformance 90 %,
    # no monthly series → evidenced level 3 (defined, not shown under statistical control)
    signs = [
        {"id": "desk.first_contact_resolution", "value": 0.7, "status": "fair", "direction": "higher"},
        {"id": "desk.first_line_only_rate", "value": 0.6, "status": "fair", "direction": "higher"},
        {"id": "process.lifecycle_conformance", "value": 0.9, "status": "good", "direction": "higher"},
    ]
    web.store.record_visit(patient=patient, examination={"signs": signs}, fingerprints=[])
    page = owner.get("/o/acme/questionnaire/patients/acme-it").text
    desk = re.search(r"<td>Service desk</td>(.*?)</tr>", page, re.S)
    assert desk
    cells = re.findall(r"<td[^>]*>(.*?)</td>", desk.group(1), re.S)
    # level = floor(median(2, 1, 4)) = 2; agent 1.5 (2 rated); team lead, process owner: none;
    # manager 4 (1); customer none; range 2.5; flagged
    assert [c.strip() for c in cells] == [
        "2",
        "1.5 (2)",
        "–",
        "–",
        "4 (1)",
        "–",
        "2.5",
        '<span class="flag">roles disagree</span>',
    ]
    incident = re.search(r"<td>Incident management</td>(.*?)</tr>", page, re.S)
    assert incident and "roles disagree" not in incident.group(1)
    # self-assessed 2 against evidenced 3: gap −1; incident management: nobody rated it,
    # the records show no key sign (level 1)
    rows = re.findall(
        r"<tr>\s*<td>([^<]+)</td>\s*<td class=\"num\">([^<]+)</td>\s*<td class=\"num\">([^<]+)</td>\s*"
        r"<td class=\"num\">([^<]+)</td>",
        page.split("Self-assessed against evidenced maturity")[1],
    )
    found = {name: (s, e, g) for name, s, e, g in rows}
    assert found["Service desk"] == ("2", "3", "-1")
    assert found["Incident management"] == ("–", "1", "–")
    assert found["Knowledge management"] == ("–", "–", "–")  # the records cannot show it
    # the answers file the owner downloads gives the examination the same levels
    download = owner.get("/o/acme/questionnaire/patients/acme-it/answers.yaml")
    path = tmp_path / "answers.yaml"
    path.write_text(download.text, encoding="utf-8")
    section = maturity_section(signs, path)
    assert section is not None
    assert section["practices"]["service-desk"] == {"self": 2, "evidenced": 3, "gap": -1}
    assert section["roles_disagree"] == ["service-desk"]  # managers 4 − agents 1.5 ≥ 2


def test_a_signed_in_user_can_answer_a_link_too(web: Web) -> None:
    owner = _setup(web)
    link = _invite(web, owner, respondent="Ada herself", role="process_owner", new_patient="acme-it")
    page = owner.get(f"/q/{link}")
    assert page.status_code == 200
    r = owner.post(
        f"/q/{link}", data={"csrf_token": _csrf_of(page.text), "action": "save", "desk-l1-contacts-are-answered": "no"}
    )
    assert r.status_code == 200 and "Saved." in r.text
    csrf = _csrf_of(page.text)
    r = owner.post(f"/q/{link}", data={"csrf_token": csrf, "action": "submit", "nobody-owns-the-process": "9"})
    assert r.status_code == 400
    assert "nobody-owns-the-process: answer 1 (strongly disagree) to 5 (strongly agree)" in r.text
    # a statement asked of another role is not this form's: ignored, and nothing left to submit
    r = owner.post(f"/q/{link}", data={"csrf_token": csrf, "action": "submit", "old-tickets-forgotten": "4"})
    assert r.status_code == 400 and "Answer at least one question before submitting" in r.text
    r = owner.post(f"/q/{link}", data={"csrf_token": csrf, "action": "submit", "nobody-owns-the-process": "2"})
    assert r.status_code == 200 and "Thank you, Ada herself" in r.text
    org_id = web.store.membership(user_id=1, organisation_slug="acme")[0].id
    patient = web.store.patient_in(organisation_id=org_id, slug="acme-it")
    assert [(a.role, a.answers) for a in web.store.answers(patient=patient)] == [
        ("process_owner", {"nobody-owns-the-process": 2})
    ]
