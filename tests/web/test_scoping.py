"""Organisation scoping: a URL of an organisation the user is not a member of is a 404,
the same as a URL of no organisation at all (ids leak nothing)."""

from __future__ import annotations

from typing import Any

Web = Any  # the ``web`` fixture of conftest.py


def test_an_organisation_is_seen_by_its_members_only_and_others_get_404(web: Web) -> None:
    ada, bob = web.user("ada@example.org"), web.user("bob@example.org")
    web.organisation("acme", name="Acme", members={ada: "owner"})
    web.organisation("globex", name="Globex", members={bob: "member"})
    c = web.signed_in("ada@example.org")
    assert c.get("/o/acme").status_code == 200
    foreign, missing = c.get("/o/globex"), c.get("/o/no-such-organisation")
    assert foreign.status_code == missing.status_code == 404
    assert "Globex" not in foreign.text
    assert foreign.text == missing.text
    home = c.get("/").text
    assert "Acme" in home and "Globex" not in home


def test_data_borne_markup_in_an_organisation_name_stays_text(web: Web) -> None:
    ada = web.user("ada@example.org", name="<b>Ada</b>")
    web.organisation("evil", name="<script>alert(1)</script>", members={ada: "owner"})
    c = web.signed_in("ada@example.org")
    for page in ("/", "/o/evil"):
        text = c.get(page).text
        assert "<script>alert(1)</script>" not in text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
        assert "<b>Ada</b>" not in text
