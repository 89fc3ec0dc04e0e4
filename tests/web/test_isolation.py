"""A member of organisation A gets 404 for every URL of organisation B, tried by id: B's slug
with B's ids, and A's slug with B's ids (visits, reports, uploads, register, jobs, members).
The walk covers every route of the app whose path names an organisation: a new route is
walked too, and the test fails until the walk knows the id its path takes."""

from __future__ import annotations

from typing import Any

from itsm_doctor.web.app import route_table

Web = Any  # the ``web`` fixture of conftest.py


def _form(ids: dict[str, str]) -> dict[str, str]:
    """A valid form for any POST route of the part, naming ``ids``."""
    return {
        "upload": ids["?upload"],
        "source": "servicenow",
        "patient": "x",
        "prescription": "swarming",
        "owner": "someone",
        "since": "2026-02-01",
        "status": "done",
        "on": "2026-02-01",
        "email": "new@example.org",
        "role": "member",
    }


def _url(template: str, ids: dict[str, str]) -> str:
    url = template
    for name, value in ids.items():
        if name.startswith("{"):
            url = url.replace(name, value)
    assert "{" not in url, f"the walk does not know the id in {template}: add it to _tenant"
    if url.endswith("/examinations/new"):
        url += f"?upload={ids['?upload']}"
    return url


def test_every_url_of_another_organisation_is_404_for_a_member(web: Web) -> None:
    ada, bob = web.user("ada@example.org"), web.user("bob@example.org")
    mine, theirs = web.tenant("acme", ada), web.tenant("globex", bob)
    c = web.signed_in("ada@example.org")
    token = web.csrf(c, "/")
    walked = []
    for template, methods in route_table(web.app.routes):
        if "{org_slug}" not in template:
            continue
        crossed = {**mine, **{k: v for k, v in theirs.items() if k != "{org_slug}"}}
        for method in sorted(methods - {"HEAD"}):
            walked.append(f"{method} {template}")
            takes_ids = template.count("{") > 1 or template.endswith("/examinations")
            takes_ids = takes_ids or template.endswith("/examinations/new")
            tries = [(mine, "own"), (theirs, "other organisation")] + ([(crossed, "other's ids in own")] * takes_ids)
            for ids, label in tries:
                url = _url(template, ids)
                r = c.get(url) if method == "GET" else c.post(url, data={**_form(ids), "csrf_token": token})
                if label == "own":  # the URL exists for its organisation: the 404s below mean something
                    assert r.status_code != 404 and r.status_code < 500, (method, url, r.status_code)
                else:
                    assert r.status_code == 404, (label, method, url, r.status_code)
                    assert "globex" not in r.text.lower() and "Swarm" not in r.text
    for kind in (
        "/visits/{visit_id}",
        "/visits/{visit_id}/report",
        "/jobs/{job_id}",
        "/uploads",
        "/patients/{patient_slug}/register",
        "/examinations/new",
    ):
        assert f"GET /o/{{org_slug}}{kind}" in walked
    assert "POST /o/{org_slug}/patients/{patient_slug}/register/{entry_id}/status" in walked


def test_a_respondent_sees_the_organisation_but_not_its_patient_file(web: Web) -> None:
    ada, rita = web.user("ada@example.org"), web.user("rita@example.org")
    ids = web.tenant("acme", ada)
    web.store.add_member(user_id=rita.id, organisation_id=1, role="respondent")
    c = web.signed_in("rita@example.org")
    assert c.get("/o/acme").status_code == 200
    for url in (
        "/o/acme/visits",
        f"/o/acme/visits/{ids['{visit_id}']}",
        "/o/acme/uploads",
        "/o/acme/jobs/1",
        "/o/acme/patients/acme-it/register.csv",
        "/o/acme/members",
    ):
        assert c.get(url).status_code == 404, url


def test_data_borne_markup_in_a_visit_stays_text(web: Web) -> None:
    ada = web.user("ada@example.org")
    ids = web.tenant("acme", ada)
    c = web.signed_in("ada@example.org")
    for url in (f"/o/acme/visits/{ids['{visit_id}']}", f"/o/acme/visits/{ids['{visit_id}']}/report"):
        text = c.get(url).text
        assert "<script>alert(1)</script>" not in text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;.csv" in text, url  # the file name, shown as text
